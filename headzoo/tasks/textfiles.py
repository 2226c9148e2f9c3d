"""Reading UTF-8 text, CSV/TSV and JSON Lines files, with errors that name the file, line and fix.

Shared by the GLUE/SuperGLUE readers and by custom tasks.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..errors import DataError

__all__ = ["read_delimited", "read_jsonl", "read_text"]


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        bad = data[start : start + 1].hex()
        raise DataError(
            f"{str(path)!r} is not valid UTF-8: undecodable byte 0x{bad} at byte offset {start}. "
            f"Re-encode the file as UTF-8 (e.g. `iconv -f cp1252 -t utf-8 {path.name} > fixed{path.suffix}`)."
        ) from None


def read_text(path: Path) -> str:
    """Return the text of a UTF-8 file (a leading BOM is dropped).

    Raises:
        DataError: the file is missing, unreadable or not UTF-8 (the message
            gives the byte offset and an ``iconv`` command).

    Example:
        >>> read_text(Path("glue/RTE/dev.tsv")).splitlines()[0]  # doctest: +SKIP
        'index\\tsentence1\\tsentence2\\tlabel'
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"data file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read data file {str(path)!r}: {exc}") from None
    return _decode(data, path)


def read_delimited(
    path: Path, *, delimiter: str, quoting: int, header: bool, width: int | None = None
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Read a CSV/TSV file; return ``(header, [(line number, fields), ...])``.

    Blank lines are skipped. Every row must have as many fields as the header
    (or ``width``).

    Raises:
        DataError: unreadable file, a row of the wrong width, malformed
            quoting, or no header line.

    Example:
        >>> names, rows = read_delimited(  # doctest: +SKIP
        ...     Path("d.csv"), delimiter=",", quoting=csv.QUOTE_MINIMAL, header=True
        ... )
        >>> names, rows[0]  # doctest: +SKIP
        (['text', 'label'], (2, ['good film', 'pos']))
    """
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter=delimiter, quoting=quoting)
    names: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            if not fields or fields == [""]:
                continue  # blank line
            if header and names is None:
                names = [f.strip() for f in fields]
                width = len(names)
                continue
            if width is not None and len(fields) != width:
                raise DataError(
                    f"line {reader.line_num} of {str(path)!r} has {len(fields)} fields, expected {width}"
                    + (f" ({', '.join(names)})" if names else "")
                    + "; fix or remove that line (a tab or delimiter inside a text field?)"
                )
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise DataError(
            f"{str(path)!r} line {reader.line_num}: malformed {delimiter!r}-separated data: {exc}"
        ) from None
    if header and names is None:
        raise DataError(f"{str(path)!r} is empty: no header line found")
    return names, rows


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Read a JSON Lines file of objects; return ``[(line number, object), ...]`` (blank lines skipped).

    Raises:
        DataError: a line is not valid JSON or not a JSON object.

    Example:
        >>> read_jsonl(Path("superglue/CB/val.jsonl"))[0][1]["label"]  # doctest: +SKIP
        'contradiction'
    """
    rows: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"line {lineno} of {str(path)!r} is not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        if not isinstance(obj, dict):
            raise DataError(f"line {lineno} of {str(path)!r} is a JSON {type(obj).__name__}, expected an object")
        rows.append((lineno, obj))
    return rows
