"""Predictions from and to files, for ``headzoo predict``: texts from a CSV / TSV / JSONL column, results as
CSV / TSV / JSONL with a column per head, and the limits that keep a huge input from being read by accident.

Every check runs before anything is written, and the output is written to a temporary file beside it and
then renamed: a failed run leaves no file, and never half of one.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataError
from .predicting import Predictions, predict
from .predictions import MULTI_LABEL

#: The most rows ``headzoo predict`` reads unless ``--max-rows`` raises it.
MAX_ROWS = 1_000_000
#: The largest input file, in MiB, ``headzoo predict`` reads unless ``--max-file-mb`` raises it.
MAX_FILE_MB = 1024
#: Input files by suffix (``.txt``: one text per line).
INPUT_SUFFIXES = (".csv", ".tsv", ".jsonl", ".txt")
#: Output files by suffix.
OUTPUT_SUFFIXES = (".csv", ".tsv", ".jsonl")


def check_output(output: str | os.PathLike[str] | None) -> Path | None:
    """The output path, checked: a known suffix and an existing folder.

    Raises:
        ConfigError: another suffix, or a folder that does not exist.

    Example:
        >>> check_output("out.jsonl")
        PosixPath('out.jsonl')
    """
    if output is None:
        return None
    path = Path(output).expanduser()
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"output {str(output)!r} has suffix {path.suffix!r}, which headzoo predict does not "
                          f"write: use one of {', '.join(OUTPUT_SUFFIXES)}")
    if not path.parent.is_dir():
        raise ConfigError(f"output {str(output)!r}: the folder {str(path.parent)!r} does not exist; create it first")
    if path.is_dir():
        raise ConfigError(f"output {str(output)!r} is a folder: give a file name ending in .csv, .tsv or .jsonl")
    return path


def _rows_of(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, row) of a CSV / TSV (dicts), JSONL (parsed values) or text file (strings)."""
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if suffix in (".csv", ".tsv"):
            reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            if not reader.fieldnames:
                raise DataError(f"{str(path)!r} is empty: give a file with a header row and one text per row")
            for row in reader:
                yield reader.line_num, row
        else:
            for number, line in enumerate(handle, start=1):
                if suffix == ".txt" or line.strip():
                    yield number, line.rstrip("\r\n") if suffix == ".txt" else _json_line(path, number, line)


def _json_line(path: Path, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise DataError(f"{str(path)!r} line {number} is not JSON ({exc}): give one JSON object per line") from None


def _text_of(path: Path, number: int, row: Any, column: str) -> str:
    if isinstance(row, str):
        text = row
    elif not isinstance(row, dict) or column not in row:
        have = sorted(row) if isinstance(row, dict) else type(row).__name__
        raise DataError(f"{str(path)!r} has no text column {column!r} (line {number} has {have}): pass "
                        "--text-column with the column that holds the texts")
    else:
        text = row[column]
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{str(path)!r} line {number}: the text column {column!r} is empty ({text!r}): fill it "
                        "or drop the row")
    return text


def read_texts(path: str | os.PathLike[str], column: str = "text", max_rows: int = MAX_ROWS,
               max_file_mb: float = MAX_FILE_MB) -> list[str]:
    """The texts of one column of a CSV, TSV or JSONL file (a ``.txt`` file: one text per line).

    Raises:
        DataError: no such file, an unknown suffix, a file over ``max_file_mb`` MiB or of more than ``max_rows``
            rows (the message names the option that raises the limit), a missing column, an empty cell, no rows.

    Example:
        >>> read_texts("reviews.csv", column="review")[:1]  # doctest: +SKIP
        ['A fine film.']
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"no file at {str(path)!r}: give the path of a CSV, TSV, JSONL or text file of texts")
    if file.suffix.lower() not in INPUT_SUFFIXES:
        raise DataError(f"{str(path)!r}: headzoo predict reads {', '.join(INPUT_SUFFIXES)} files, not "
                        f"{file.suffix or 'files without a suffix'!r}; convert it or rename it")
    size_mb = file.stat().st_size / 2**20
    if size_mb > max_file_mb:
        raise DataError(f"{str(path)!r} is {size_mb:.0f} MiB, over the limit of {max_file_mb:g} MiB: raise it with "
                        "--max-file-mb (max_file_mb=), or split the file")
    texts: list[str] = []
    try:
        for number, row in _rows_of(file):
            if len(texts) == max_rows:
                raise DataError(f"{str(path)!r} has more than {max_rows} rows: raise the limit with --max-rows "
                                "(max_rows=), or split the file")
            texts.append(_text_of(file, number, row, column))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{str(path)!r} cannot be read as UTF-8 {file.suffix[1:].upper()} ({exc}); fix or "
                        "re-export it") from None
    if not texts:
        raise DataError(f"{str(path)!r} has no rows of texts: give a file with at least one")
    return texts


def _csv_value(value: Any) -> Any:
    return "|".join(value) if isinstance(value, list) else value


def write_predictions(predictions: Predictions, output: str | os.PathLike[str]) -> Path:
    """Write one row per input (text, a column per head, a ``head:label`` probability column per label) as CSV,
    TSV or JSONL by the suffix; in CSV / TSV a multi-label prediction is its labels joined by ``|``.

    The file appears whole or not at all (written beside, then renamed).

    Raises:
        ConfigError: an unknown suffix or a missing folder (:func:`check_output`).

    Example:
        >>> write_predictions(headzoo.predict("sst2", ["a fine film"]), "out.jsonl")  # doctest: +SKIP
    """
    path = check_output(output)
    if path is None:
        raise ConfigError("write_predictions needs an output path ending in .csv, .tsv or .jsonl")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            _write_rows(predictions, path.suffix.lower(), handle)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _write_rows(predictions: Predictions, suffix: str, handle: Any) -> None:
    rows = predictions.iter_rows()
    if suffix == ".jsonl":
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    first = next(rows)
    writer = csv.DictWriter(handle, fieldnames=list(first), delimiter="\t" if suffix == ".tsv" else ",")
    writer.writeheader()
    for row in itertools.chain([first], rows):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})


def summary(predictions: Predictions, path: Path) -> str:
    """One line on what was written."""
    kinds = {p.kind for p in predictions.heads.values()}
    joined = MULTI_LABEL in kinds and path.suffix.lower() != ".jsonl"
    note = " (multi-label cells list labels joined by '|')" if joined else ""
    return (f"wrote {len(predictions)} row(s) with {len(predictions.heads)} head(s) "
            f"({', '.join(predictions.names)}) to {path}{note}")


def run_predict(heads: Sequence[str], texts: Sequence[str] | None = None, file: str | os.PathLike[str] | None = None,
                text_column: str = "text", backbone: str | None = None, output: str | os.PathLike[str] | None = None,
                max_rows: int = MAX_ROWS, max_file_mb: float = MAX_FILE_MB, batch_size: int = 64) -> str:
    """What ``headzoo predict`` does: texts from ``texts`` or ``file``, every head, a table or a written file.

    Returns:
        The table (one row per head for one text, else one row per text and a column per head), or a line
        naming the file written.

    Raises:
        ConfigError: both or neither of texts and file; an output suffix or folder that does not work.
        DataError: see :func:`read_texts`; more ``texts`` than ``max_rows``.
        HeadzooError: anything :func:`headzoo.predict` raises.

    Example:
        >>> print(run_predict(["sst2", "sms_spam"], ["WIN a free phone now"]))  # doctest: +SKIP
    """
    if (texts is None or len(texts) == 0) == (file is None):
        raise ConfigError("give texts with --text (repeatable) or a file with --file, one of the two")
    path = check_output(output)
    if texts and len(texts) > max_rows:
        raise DataError(f"{len(texts)} texts is more than the limit of {max_rows} rows: raise it with --max-rows")
    listed = list(texts) if texts else read_texts(file, text_column, max_rows, max_file_mb)  # type: ignore[arg-type]
    predictions = predict(list(heads), listed, backbone=backbone, batch_size=batch_size)
    if path is None:
        return predictions.table()
    return summary(predictions, write_predictions(predictions, path))


__all__ = ["MAX_FILE_MB", "MAX_ROWS", "read_texts", "run_predict", "write_predictions"]
