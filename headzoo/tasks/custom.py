"""Custom tasks: a TaskSpec and its data from your own CSV/TSV/JSON/JSONL file or a Hub dataset."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from ..errors import ConfigError, DataError, InvalidNameError
from .sampling import sample_indices
from .spec import (
    CLASSIFICATION,
    PAIR_COLUMNS,
    PROBLEM_TYPES,
    REGRESSION,
    SINGLE_COLUMNS,
    TaskSpec,
    builtin_name,
    task_features,
)
from .textfiles import read_delimited, read_jsonl, read_text

__all__ = ["custom_task"]

logger = logging.getLogger(__name__)

_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl"}
# Suffixes that mark a local file even when it does not exist (never a Hub id).
_FILE_SUFFIXES = {*_SUFFIXES, ".txt", ".xlsx", ".xls", ".parquet", ".arrow", ".gz", ".zip", ".xml", ".pkl"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_MANY_FLOAT_LABELS = 20


@dataclass
class _Table:
    """Records read from one file or Hub split, with a location string per record."""

    source: str
    columns: list[str]
    records: list[dict[str, Any]]
    where: list[str]
    label_names: list[str] | None = None  # Hub ClassLabel names, if any


def _read_table(path: Path) -> _Table:
    kind = _SUFFIXES.get(path.suffix.lower())
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a directory; pass a .csv, .tsv, .json or .jsonl file")
    if kind is None and (path.suffix or path.exists()):
        raise DataError(
            f"unsupported file type {path.suffix or '(no suffix)'!r} of {str(path)!r}; use .csv, .tsv, .json "
            "or .jsonl (or convert the file, e.g. with pandas: df.to_csv('data.csv', index=False))"
        )
    if not path.is_file():
        raise DataError(
            f"data file {str(path)!r} does not exist; check the path (a Hub dataset id looks like 'owner/name')"
        )
    src = str(path)
    if kind in ("csv", "tsv"):
        # CSV uses standard quoting; TSV is read unquoted (tabs cannot occur in fields),
        # so stray double quotes in text survive as in the GLUE files.
        names, rows = read_delimited(
            path,
            delimiter="," if kind == "csv" else "\t",
            quoting=csv.QUOTE_MINIMAL if kind == "csv" else csv.QUOTE_NONE,
            header=True,
        )
        assert names is not None
        records = [dict(zip(names, cols, strict=True)) for _, cols in rows]
        where = [f"row {i} (line {n}) of {src!r}" for i, (n, _) in enumerate(rows, start=1)]
        return _Table(src, names, records, where)
    if kind == "jsonl":
        pairs = read_jsonl(path)
        return _Table(
            src,
            _union_keys(o for _, o in pairs),
            [o for _, o in pairs],
            [f"row {i} (line {n}) of {src!r}" for i, (n, _) in enumerate(pairs, start=1)],
        )
    text = read_text(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines saved as .json
            pairs = read_jsonl(path)
            return _Table(
                src,
                _union_keys(o for _, o in pairs),
                [o for _, o in pairs],
                [f"row {i} (line {n}) of {src!r}" for i, (n, _) in enumerate(pairs, start=1)],
            )
        raise DataError(f"{src!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if isinstance(obj, dict) and "data" in obj and isinstance(obj["data"], list):
        obj = obj["data"]
    if isinstance(obj, dict) and obj and all(isinstance(v, list) for v in obj.values()):
        lengths = {len(v) for v in obj.values()}
        if len(lengths) != 1:
            raise DataError(f"{src!r}: column lists have different lengths {sorted(lengths)}")
        n = lengths.pop()
        obj = [{k: v[i] for k, v in obj.items()} for i in range(n)]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise DataError(f"{src!r} must hold a list of objects (records) or an object of equal-length column lists")
    return _Table(src, _union_keys(obj), list(obj), [f"record {i} of {src!r}" for i in range(1, len(obj) + 1)])


def _union_keys(records: Iterable[Mapping[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for r in records:
        keys.update(dict.fromkeys(r))
    return list(keys)


def _hub_tables(
    hub_id: str, validation: str | None, label_column: str
) -> tuple[_Table, _Table | None, tuple[str, str | None]]:
    path, _, config = hub_id.partition(":")
    logger.info("loading custom task data %s (config %s) from the Hub", path, config or None)
    dd = datasets.load_dataset(path, config or None)
    if not isinstance(dd, datasets.DatasetDict):
        dd = datasets.DatasetDict({"train": dd})
    if "train" not in dd:
        raise DataError(f"Hub dataset {hub_id!r} has no 'train' split; its splits are {', '.join(dd)}")
    val_split = validation if validation is not None else ("validation" if "validation" in dd else None)
    if val_split is not None and val_split not in dd:
        raise DataError(f"Hub dataset {hub_id!r} has no split {val_split!r}; its splits are {', '.join(dd)}")

    def table(split: str) -> _Table:
        ds = dd[split]
        src = f"{hub_id} [{split}]"
        feature = ds.features.get(label_column)
        names = list(feature.names) if isinstance(feature, datasets.ClassLabel) else None
        return _Table(
            src, list(ds.column_names), ds.to_list(), [f"row {i} of {src}" for i in range(1, ds.num_rows + 1)], names
        )

    train = table("train")
    val = table(val_split) if val_split is not None else None
    return train, val, (path, config or None)


def _cell_text(value: Any, column: str, where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        bad = value
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            bad = value
        else:
            return str(value)
    else:
        text = str(value).strip()
        if text:
            return text
        bad = value
    raise DataError(f"{where}: text column {column!r} is empty or not text ({bad!r}); fill in or drop that row")


def _label_key(value: Any) -> str:
    """Canonical string form of a label: true/false for booleans, numbers normalised (1.0 -> 1)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    number = _as_number(text)
    if number is None:
        return text
    return str(int(number)) if number.is_integer() else str(number)


def _as_number(key: str) -> float | None:
    try:
        x = float(key)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _check_columns(table: _Table, wanted: Sequence[str]) -> None:
    if not table.records:
        raise DataError(f"{table.source!r} has no data rows; add examples or pick another file")
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise DataError(
            f"column(s) {', '.join(map(repr, missing))} not found in {table.source!r}; available columns: "
            f"{', '.join(map(repr, table.columns))}. Pass the right text_columns / label_column."
        )


def custom_task(
    path_or_hub_id: str | os.PathLike[str],
    text_columns: str | Sequence[str],
    label_column: str,
    *,
    name: str | None = None,
    validation: str | os.PathLike[str] | None = None,
    validation_fraction: float = 0.1,
    seed: int = 0,
    problem_type: str | None = None,
) -> tuple[TaskSpec, datasets.DatasetDict]:
    """Build a task from your own labelled data.

    ``path_or_hub_id`` is a local ``.csv``, ``.tsv``, ``.json`` or ``.jsonl``
    file (chosen by suffix; CSV is quoted, TSV is read unquoted, JSON is a
    list of records or an object of column lists) or a ``datasets`` Hub id,
    optionally with a config as ``"owner/name:config"``.

    Labels come from the train data: class names are the labels' string forms
    (``true``/``false`` for booleans, ``1`` for ``1.0``), sorted numerically
    when all are numbers and alphabetically otherwise, and kept in the
    returned spec's ``id2label``. A Hub ``ClassLabel`` column keeps its own
    names and order. Numeric labels with many distinct values stay classes
    unless ``problem_type="regression"`` is passed (a warning is logged).

    Without ``validation`` (a second file, or a Hub split name), a
    ``validation_fraction`` of the train data is split off, stratified by
    label and seeded; a Hub dataset's own ``validation`` split is used when it
    has one.

    Returns:
        ``(spec, data)``: ``spec.benchmark == "custom"`` and ``data`` has
        ``train``/``validation`` splits with ``text_a``, optional ``text_b``,
        ``label`` columns, like :func:`load_task`.

    Raises:
        DataError: a file is missing, has an unsupported suffix, is not
            UTF-8, lacks a column, has no rows or an empty text cell, or the
            validation data has a label never seen in train. The message names
            the file, row and value and says how to fix it.
        ConfigError, InvalidNameError: bad arguments or task name.

    Example:
        >>> spec, data = custom_task("reviews.csv", "text", "stars")  # doctest: +SKIP
        >>> spec.labels, data["train"].column_names  # doctest: +SKIP
        (('1', '2', '3', '4', '5'), ['text_a', 'label'])
    """
    cols = (text_columns,) if isinstance(text_columns, str) else tuple(text_columns)
    if not 1 <= len(cols) <= 2 or not all(isinstance(c, str) and c for c in cols):
        raise ConfigError(f"text_columns must name 1 or 2 columns, got {text_columns!r}")
    if len(set(cols)) != len(cols) or label_column in cols:
        raise ConfigError(f"text_columns {cols!r} and label_column {label_column!r} must all be different")
    if problem_type is not None:
        problem_type = {"classification": CLASSIFICATION}.get(problem_type, problem_type)
        if problem_type not in PROBLEM_TYPES:
            raise ConfigError(f"problem_type {problem_type!r} must be None, {CLASSIFICATION!r} or {REGRESSION!r}")
    if not 0.0 < validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be between 0 and 1, got {validation_fraction!r}")

    source = os.fspath(path_or_hub_id)
    hub_id: tuple[str, str | None] | None = None
    local = Path(source).expanduser()
    if local.exists() or local.suffix.lower() in _FILE_SUFFIXES or not _HUB_ID.match(source):
        train = _read_table(local)
        val = _read_table(Path(os.fspath(validation)).expanduser()) if validation is not None else None
        default_name = local.stem
    else:
        train, val, hub_id = _hub_tables(source, None if validation is None else os.fspath(validation), label_column)
        default_name = source.split("/")[-1].replace(":", "-")

    task_name = _task_name(name, default_name)
    wanted = [*cols, label_column]
    _check_columns(train, wanted)
    if val is not None:
        _check_columns(val, wanted)

    regression = problem_type == REGRESSION
    labels, to_value = _label_scheme(train, label_column, problem_type)

    spec = TaskSpec(
        name=task_name,
        benchmark="custom",
        text_columns=PAIR_COLUMNS if len(cols) == 2 else SINGLE_COLUMNS,
        labels=labels,
        problem_type=REGRESSION if regression else CLASSIFICATION,
        num_labels=1 if regression else len(labels),
        metrics=("pearson", "spearmanr", "combined_score") if regression else ("accuracy", "macro_f1"),
        main_metric="pearson" if regression else "accuracy",
        hub_id=hub_id,
        description=f"Custom task from {source}: text columns {', '.join(cols)} -> "
        f"{', '.join(PAIR_COLUMNS[: len(cols)])}; label column {label_column}.",
    )

    train_cols = _encode_table(train, cols, label_column, to_value)
    if val is not None:
        val_cols = _encode_table(val, cols, label_column, to_value)
    else:
        train_cols, val_cols = _split_off(train_cols, validation_fraction, seed, regression, train.source)

    features = task_features(spec)
    data = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(train_cols, features=features),
            "validation": datasets.Dataset.from_dict(val_cols, features=features),
        }
    )
    logger.info(
        "custom task %s: %d labels, train=%d, validation=%d",
        spec.name,
        spec.num_labels,
        data["train"].num_rows,
        data["validation"].num_rows,
    )
    return spec, data


def _task_name(name: str | None, default_name: str) -> str:
    task_name = name if name is not None else re.sub(r"[^a-z0-9_.-]+", "_", default_name.lower()).strip("_.-")
    if not task_name or not _NAME.match(task_name):
        raise InvalidNameError(
            f"task name {task_name!r} is invalid: use lowercase letters, digits, '_', '-', '.' (e.g. name='my_task')"
        )
    taken = builtin_name(task_name)
    if taken is not None:
        raise InvalidNameError(
            f"task name {task_name!r} is taken by the built-in task {taken!r}; pass another name=..."
        )
    return task_name


def _label_scheme(
    train: _Table, label_column: str, problem_type: str | None
) -> tuple[tuple[str, ...], Callable[[Any, str], Any]]:
    """The label names (``()`` for regression) and the cell -> label value converter."""
    hub_names = train.label_names  # a Hub ClassLabel keeps its own names and order
    raw_train = [_cell(rec, label_column, where) for rec, where in zip(train.records, train.where, strict=True)]
    if problem_type == REGRESSION:
        return (), _regression_value
    labels = tuple(hub_names) if hub_names else _class_names(raw_train)
    if len(labels) < 2:
        raise DataError(
            f"{train.source!r} has a single label value {labels[0]!r} in column {label_column!r}; "
            "a classifier needs at least two classes"
        )
    label2id = {lab: i for i, lab in enumerate(labels)}
    if problem_type is None and not hub_names:
        numbers = [_as_number(lab) for lab in labels]
        if (
            all(x is not None for x in numbers)
            and len(labels) > _MANY_FLOAT_LABELS
            and any(x is not None and not float(x).is_integer() for x in numbers)
        ):
            logger.warning(
                "label column %r of %s has %d distinct numeric values; treating them as classes. "
                "Pass problem_type='regression' to predict a score instead.",
                label_column,
                train.source,
                len(labels),
            )
    return labels, _classifier_value(label2id, hub_ints=hub_names is not None)


def _cell(record: Mapping[str, Any], column: str, where: str) -> Any:
    value = record.get(column)
    if (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    ):
        raise DataError(f"{where}: label column {column!r} is empty; fill in or drop that row")
    return value


def _class_names(values: Sequence[Any]) -> tuple[str, ...]:
    keys = {_label_key(v) for v in values}
    numbers = {k: _as_number(k) for k in keys}
    if all(x is not None for x in numbers.values()):
        return tuple(sorted(keys, key=lambda k: (numbers[k], k)))
    return tuple(sorted(keys))


def _regression_value(value: Any, where: str) -> float:
    x = _as_number(_label_key(value)) if not isinstance(value, bool) else None
    if x is None:
        raise DataError(
            f"{where}: label {value!r} is not a finite number; problem_type='regression' needs numeric labels"
        )
    return x


def _classifier_value(label2id: Mapping[str, int], *, hub_ints: bool) -> Callable[[Any, str], int]:
    names = list(label2id)

    def convert(value: Any, where: str) -> int:
        if hub_ints and isinstance(value, int) and not isinstance(value, bool):
            if 0 <= value < len(names):
                return value
            raise DataError(f"{where}: label id {value!r} is outside 0..{len(names) - 1}")
        key = _label_key(value)
        if key not in label2id:
            raise DataError(
                f"{where}: label {key!r} never occurs in the train data (train labels: "
                f"{', '.join(map(repr, names))}); fix the label or add train examples of it"
            )
        return label2id[key]

    return convert


def _encode_table(
    table: _Table, cols: Sequence[str], label_column: str, to_value: Callable[[Any, str], Any]
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {c: [] for c in (*PAIR_COLUMNS[: len(cols)], "label")}
    for rec, where in zip(table.records, table.where, strict=True):
        for canon, col in zip(PAIR_COLUMNS, cols, strict=False):
            out[canon].append(_cell_text(rec.get(col), col, where))
        out["label"].append(to_value(_cell(rec, label_column, where), where))
    return out




def _split_off(
    columns: dict[str, list[Any]], fraction: float, seed: int, regression: bool, source: str
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    labels = columns["label"]
    n = len(labels)
    k = max(1, round(fraction * n))
    if n < 2 or k >= n:
        raise DataError(
            f"{source!r} has {n} row(s): too few to split off a validation set; pass validation=... or add rows"
        )
    # stratified for classes, keeping >= 1 example of each class in train
    val_idx = sample_indices(None if regression else labels, n, k, seed, leave_per_class=1)
    if not val_idx:
        raise DataError(
            f"{source!r}: every label has a single example, so no stratified validation set can be split off; "
            "pass validation=... or add rows"
        )
    chosen = set(val_idx)
    train_idx = [i for i in range(n) if i not in chosen]

    def take(idx: list[int]) -> dict[str, list[Any]]:
        return {c: [v[i] for i in idx] for c, v in columns.items()}

    return take(train_idx), take(val_idx)
