"""Custom tasks: a TaskSpec and its data from your own file, a Hub dataset or a ``datasets.Dataset`` in memory.

:func:`custom_task` reads a CSV/TSV/JSON/JSONL file or a Hub dataset id;
:func:`dataset_task` takes a ``datasets.Dataset`` or ``DatasetDict`` you hold.
Both give one label per example (classes or a regression score), or several
(``problem_type="multi_label_classification"``): a column holding a list of
labels per row (in CSV/TSV a string split at :data:`DEFAULT_LABEL_SEPARATOR`),
or ``label_columns``, one 0/1 column per label.
"""

from __future__ import annotations

import copy
import csv
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import datasets

from ..errors import ConfigError, DataError, InvalidNameError
from .sampling import sample_indices
from .spec import (
    CLASSIFICATION,
    MULTI_LABEL,
    PAIR_COLUMNS,
    PROBLEM_TYPES,
    REGRESSION,
    SINGLE_COLUMNS,
    TaskSpec,
    builtin_name,
    task_features,
)
from .textfiles import read_delimited, read_jsonl, read_text

__all__ = ["DEFAULT_LABEL_SEPARATOR", "custom_task", "dataset_task"]

logger = logging.getLogger(__name__)

_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl"}
# Suffixes that mark a local file even when it does not exist (never a Hub id).
_FILE_SUFFIXES = {*_SUFFIXES, ".txt", ".xlsx", ".xls", ".parquet", ".arrow", ".gz", ".zip", ".xml", ".pkl"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_MANY_FLOAT_LABELS = 20
#: What separates the labels of one CSV/TSV cell of a multi-label task (``"sports|politics"``).
DEFAULT_LABEL_SEPARATOR = "|"
_PROBLEM_ALIASES = {"classification": CLASSIFICATION}
# Text columns dataset_task looks for, in this order, when text_columns is not given.
_TEXT_DEFAULTS: tuple[tuple[str, ...], ...] = (
    ("text_a", "text_b"), ("sentence1", "sentence2"), ("premise", "hypothesis"), ("question", "passage"),
    ("text",), ("text_a",), ("sentence",),
)
_LABEL_DEFAULTS = ("label", "labels")
# Splits of a DatasetDict that dataset_task evaluates on, the first one present.
_VALIDATION_SPLITS = ("validation", "valid", "dev", "test")
_MULTI_LABEL_METRICS = ("micro_f1", "macro_f1", "accuracy")
#: ``info.description`` of the splits :func:`dataset_task` returns: data that lives in memory only
#: (no file name or Hub id identifies it), so runs on it are keyed by a digest of its rows.
IN_MEMORY_DESCRIPTION = "headzoo.tasks.dataset_task: in-memory data"


@dataclass
class _Table:
    """Records read from one file or Hub split, with a location string per record."""

    source: str
    columns: list[str]
    records: list[dict[str, Any]]
    where: list[str]
    label_names: list[str] | None = None  # Hub ClassLabel names, if any (of a list's items for list columns)
    features: Mapping[str, Any] | None = None  # the datasets features of an in-memory or Hub table


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


def _classlabel_names(feature: Any) -> list[str] | None:
    """The names of a ``ClassLabel`` feature, or of the items of a list of ``ClassLabel``; else None."""
    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names)
    inner = getattr(feature, "feature", None)
    if isinstance(feature, (datasets.Sequence, datasets.LargeList, *_list_types())) and isinstance(
        inner, datasets.ClassLabel
    ):
        return list(inner.names)
    return None


def _list_types() -> tuple[type, ...]:
    kind = getattr(datasets, "List", None)  # datasets >= 4
    return (kind,) if isinstance(kind, type) else ()


def _is_list_feature(feature: Any) -> bool:
    return isinstance(feature, (datasets.Sequence, datasets.LargeList, *_list_types(), list))


def _dataset_table(
    ds: datasets.Dataset, src: str, columns: Sequence[str], label_column: str | None,
    where: Callable[[int], str],
) -> _Table:
    """A table of the ``columns`` of an in-memory (or Hub) dataset split."""
    feature = ds.features.get(label_column) if label_column is not None else None
    keep = [c for c in dict.fromkeys(columns) if c in ds.column_names]
    records = ds.select_columns(keep).to_list() if keep else [{} for _ in range(ds.num_rows)]
    return _Table(src, list(ds.column_names), records, [where(i) for i in range(ds.num_rows)],
                  _classlabel_names(feature), ds.features)


def _hub_tables(
    hub_id: str, validation: str | None, label_column: str | None
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
        return _dataset_table(ds, src, ds.column_names, label_column, lambda i: f"row {i + 1} of {src}")

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
    label_column: str | None = None,
    *,
    label_columns: Sequence[str] | None = None,
    name: str | None = None,
    validation: str | os.PathLike[str] | None = None,
    validation_fraction: float = 0.1,
    seed: int = 0,
    problem_type: str | None = None,
    label_separator: str = DEFAULT_LABEL_SEPARATOR,
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

    Several labels per example (``problem_type="multi_label_classification"``,
    metrics ``micro_f1``, ``macro_f1`` and subset ``accuracy``, see
    :mod:`headzoo.tasks.metrics`): either ``label_column`` holds a list of
    label names per row (JSON lists are detected without ``problem_type``; a
    CSV/TSV cell such as ``"sports|politics"`` is split at
    ``label_separator``, an empty cell meaning no label), or
    ``label_columns`` names one 0/1 (or true/false) column per label, the
    columns' names being the labels. ``data["train"]["label"]`` then holds
    float multi-hot rows.

    Without ``validation`` (a second file, or a Hub split name), a
    ``validation_fraction`` of the train data is split off, stratified by
    label and seeded (a plain seeded draw for regression and multi-label);
    a Hub dataset's own ``validation`` split is used when it has one.

    Args:
        path_or_hub_id: the file or Hub dataset id.
        text_columns: one text column, or two for sentence pairs.
        label_column: the label column (one label, or a list of labels, per row).
        label_columns: instead of ``label_column``: one 0/1 column per label (multi-label).
        name: the task name (default: from the file or dataset name).
        validation: a held-out file, or a Hub split name.
        validation_fraction: the share of train split off when there is no validation data.
        seed: the seed of that split.
        problem_type: None (classes, or multi-label for list columns), ``"classification"``,
            ``"regression"`` or ``"multi_label_classification"``.
        label_separator: what separates the labels of one CSV/TSV cell of a multi-label task.

    Returns:
        ``(spec, data)``: ``spec.benchmark == "custom"`` and ``data`` has
        ``train``/``validation`` splits with ``text_a``, optional ``text_b``,
        ``label`` columns, like :func:`load_task`.

    Raises:
        DataError: a file is missing, has an unsupported suffix, is not
            UTF-8, lacks a column, has no rows or an empty text cell, the
            validation data has a label never seen in train, a multi-label
            row is not a list like the others or repeats a label, or a 0/1
            column holds something else. The message names the file, row and
            value and says how to fix it.
        ConfigError, InvalidNameError: bad arguments or task name.

    Example:
        >>> spec, data = custom_task("reviews.csv", "text", "stars")  # doctest: +SKIP
        >>> spec.labels, data["train"].column_names  # doctest: +SKIP
        (('1', '2', '3', '4', '5'), ['text_a', 'label'])
        >>> spec, data = custom_task("posts.csv", "text", "tags",  # doctest: +SKIP
        ...                          problem_type="multi_label_classification")
        >>> spec.labels, data["train"][0]["label"]  # doctest: +SKIP
        (('politics', 'sports'), [1.0, 1.0])
    """
    cols, labels_in, problem_type = _check_arguments(
        text_columns, label_column, label_columns, problem_type, validation_fraction
    )
    if not isinstance(label_separator, str) or not label_separator:
        raise ConfigError(f"label_separator must be a non-empty string, got {label_separator!r}; e.g. '|'")

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
    return _build_task(train, val, TaskBuild(
        task_name, cols, f"Custom task from {source}", label_column, labels_in, problem_type, hub_id=hub_id,
        validation_fraction=validation_fraction, seed=seed, separator=label_separator))


def dataset_task(
    data: datasets.Dataset | datasets.DatasetDict,
    text_columns: str | Sequence[str] | None = None,
    label_column: str | None = None,
    *,
    label_columns: Sequence[str] | None = None,
    name: str | None = None,
    validation: str | None = None,
    validation_fraction: float = 0.1,
    seed: int = 0,
    problem_type: str | None = None,
) -> tuple[TaskSpec, datasets.DatasetDict]:
    """Build a task from a ``datasets.Dataset`` or ``DatasetDict`` you hold in memory.

    What it takes:

    - a ``Dataset``: all of it is training data; a ``validation_fraction`` is
      split off, stratified by label and seeded with ``seed`` (a plain seeded
      draw for regression and multi-label), as :func:`custom_task` does;
    - a ``DatasetDict``: its ``"train"`` split trains; it is evaluated on the
      split named by ``validation``, else the first of ``"validation"``,
      ``"valid"``, ``"dev"`` and ``"test"`` it has (a test split without
      labels, e.g. GLUE's ``-1``, is refused row by row: pass
      ``validation=``); with none of them, a validation set is split off
      ``"train"`` as for a ``Dataset``. Other splits are ignored.

    Columns: ``text_columns`` default to the first of ``("text_a",
    "text_b")``, ``("sentence1", "sentence2")``, ``("premise",
    "hypothesis")``, ``("question", "passage")`` (sentence pairs),
    ``"text"``, ``"text_a"`` and ``"sentence"`` that the data has;
    ``label_column`` to ``"label"``, else ``"labels"``. A ``ClassLabel``
    column gives the label names and their order (ids are kept); other
    labels (strings, ints, bools) become classes named by their string
    forms, as in :func:`custom_task`. Floats that are not whole numbers are
    refused unless ``problem_type="regression"``.

    Several labels per example: a label column of lists (``List(ClassLabel)``
    or lists of strings) is a multi-label task without further ado, and
    ``label_columns=["toxic", "obscene", ...]`` takes one 0/1 column per
    label. The result has ``problem_type="multi_label_classification"`` and
    float multi-hot ``label`` rows.

    The given data is not changed. :func:`headzoo.train.pretrain_head`,
    :func:`~headzoo.train.finetune` and :func:`~headzoo.train.compare` call
    this with the defaults when given a ``Dataset`` or ``DatasetDict``;
    call it yourself for other columns or a task name, and pass the pair.

    Args:
        data: the labelled examples.
        text_columns: one text column, or two for sentence pairs (default: found as above).
        label_column: the label column (default ``"label"``, else ``"labels"``).
        label_columns: instead of ``label_column``: one 0/1 column per label (multi-label).
        name: the task name, which names heads in the zoo (default: the dataset's
            ``info.dataset_name`` when it has one, else ``"dataset"``).
        validation: the split of a ``DatasetDict`` to evaluate on.
        validation_fraction: the share of train split off when there is no validation split.
        seed: the seed of that split.
        problem_type: None (detected), ``"classification"``, ``"regression"`` or
            ``"multi_label_classification"``.

    Returns:
        ``(spec, data)`` with ``train``/``validation`` splits of ``text_a``, optional
        ``text_b`` and ``label``, like :func:`custom_task`.

    Raises:
        DataError: a missing column (the message lists the columns there are), a
            column whose type cannot be used (text that is not a string, labels
            that are floats, dicts...), a bad row (named by its index), or no
            ``"train"`` split. The message says the fix.
        ConfigError, InvalidNameError: bad arguments or task name.

    Example:
        >>> import datasets
        >>> ds = datasets.Dataset.from_dict({
        ...     "text": ["good", "bad", "great", "awful", "fine", "poor"] * 2,
        ...     "label": ["pos", "neg", "pos", "neg", "pos", "neg"] * 2})
        >>> spec, data = dataset_task(ds, name="toy")
        >>> spec.labels, data["train"].num_rows, data["validation"].num_rows
        (('neg', 'pos'), 11, 1)
    """
    if isinstance(data, datasets.DatasetDict):
        if "train" not in data:
            raise DataError(
                f"the DatasetDict has no 'train' split; its splits are {', '.join(map(repr, data)) or 'none'}. "
                "Rename the training split to 'train' (or pass datasets.DatasetDict({'train': ...}))"
            )
        if validation is not None:
            if validation not in data or validation == "train":
                raise DataError(
                    f"validation split {validation!r} is not in the DatasetDict (splits: "
                    f"{', '.join(map(repr, data))}); pass one of them other than 'train'"
                )
            val_split: str | None = validation
        else:
            val_split = next((s for s in _VALIDATION_SPLITS if s in data), None)
        train_ds, val_ds = data["train"], (data[val_split] if val_split is not None else None)
        train_src, where = "the 'train' split", lambda split: (lambda i: f"row {i} (ds[{split!r}][{i}])")
    elif isinstance(data, datasets.Dataset):
        if validation is not None:
            raise ConfigError(
                f"validation={validation!r} names a split, but a Dataset has none; pass a DatasetDict, "
                "or leave validation out to split off validation_fraction"
            )
        train_ds, val_ds, val_split = data, None, None
        train_src, where = "the dataset", lambda split: (lambda i: f"row {i} (ds[{i}])")
    else:
        raise ConfigError(
            f"data must be a datasets.Dataset or DatasetDict, got {type(data).__name__}; convert it, e.g. "
            "datasets.Dataset.from_pandas(df) or datasets.Dataset.from_dict({'text': [...], 'label': [...]})"
        )
    columns = list(train_ds.column_names)
    if text_columns is None:
        text_columns = next((c for c in _TEXT_DEFAULTS if all(x in columns for x in c)), None)
        if text_columns is None:
            raise DataError(
                f"found no text column in {train_src} (columns: {', '.join(map(repr, columns))}); looked for "
                "'text', 'sentence', 'text_a'(+'text_b'), 'sentence1'+'sentence2', 'premise'+'hypothesis', "
                "'question'+'passage'. Name them: dataset_task(ds, text_columns='review', label_column='stars'), "
                "then pass that (spec, data) pair as the task"
            )
    if label_column is None and label_columns is None:
        label_column = next((c for c in _LABEL_DEFAULTS if c in columns), None)
        if label_column is None:
            raise DataError(
                f"found no label column in {train_src} (columns: {', '.join(map(repr, columns))}); looked for "
                "'label' and 'labels'. Name it: dataset_task(ds, label_column='stars') (or label_columns=[...] "
                "for one 0/1 column per label), then pass that (spec, data) pair as the task"
            )
    cols, labels_in, problem_type = _check_arguments(
        text_columns, label_column, label_columns, problem_type, validation_fraction
    )
    wanted = [*cols, *(labels_in or [label_column])]
    train = _dataset_table(train_ds, train_src, wanted, label_column, where("train"))
    val = (_dataset_table(val_ds, f"the {val_split!r} split", wanted, label_column, where(val_split))
           if val_ds is not None and val_split is not None else None)
    for table in (train, val):
        if table is not None:
            _check_columns(table, wanted)
            _check_feature_types(table, cols, label_column, labels_in, problem_type)
    task_name = _task_name(name, _dataset_name(train_ds))
    if val_split is not None:
        logger.info("dataset task %s: evaluating on the %r split", task_name, val_split)
    held = f"split {val_split!r}" if val_split else f"{validation_fraction:.0%} of train, seed {seed}"
    return _build_task(train, val, TaskBuild(
        task_name, cols, f"Task from an in-memory dataset (validation: {held})", label_column, labels_in,
        problem_type, validation_fraction=validation_fraction, seed=seed, strict=True, in_memory=True))


def records_task(
    records: Sequence[Mapping[str, Any]], build: TaskBuild, *, source: str, labels: Sequence[str] | None = None
) -> tuple[TaskSpec, datasets.DatasetDict]:
    """Build a task from labelled records that name their own source (a packaged data set, say), as custom data is.

    The records go through the checks and encoding of :func:`custom_task`; a seeded, stratified
    ``build.validation_fraction`` of them is split off for validation. Unlike :func:`dataset_task`,
    the splits are not marked as anonymous in-memory data.

    Args:
        records: one dict per example with ``build.text_columns`` and ``build.label_column``.
        build: the task's settings (:class:`TaskBuild`).
        source: where the records come from, for messages.
        labels: the label names in id order (the label cells may then be ids or names); default:
            the labels' sorted string forms, as :func:`custom_task` gives them.

    Returns:
        ``(spec, data)`` as :func:`custom_task` returns it.

    Raises:
        DataError: an empty text or label, a single class, or too few rows to split.
        InvalidNameError: a bad task name.

    Example:
        >>> rows = [{"text": f"message {i}", "label": "spam" if i % 3 else "ham"} for i in range(30)]
        >>> spec, data = records_task(rows, TaskBuild("spam", ("text",), "Messages"), source="demo")
        >>> spec.labels, data["validation"].num_rows
        (('ham', 'spam'), 3)
    """
    table = _Table(source, _union_keys(records), [dict(r) for r in records],
                   [f"{source}: row {i}" for i in range(len(records))], list(labels) if labels else None)
    return _build_task(table, None, replace(build, name=_task_name(build.name, build.name)))


def _dataset_name(ds: datasets.Dataset) -> str:
    """A default task name from the dataset's info (``"dataset"`` when it has none or a built-in's)."""
    raw = getattr(ds.info, "dataset_name", None) or ""
    slug = re.sub(r"[^a-z0-9_.-]+", "_", str(raw).lower()).strip("_.-")
    return slug if slug and _NAME.match(slug) and builtin_name(slug) is None else "dataset"


def _check_arguments(
    text_columns: str | Sequence[str], label_column: str | None, label_columns: Sequence[str] | None,
    problem_type: str | None, validation_fraction: float,
) -> tuple[tuple[str, ...], tuple[str, ...] | None, str | None]:
    """The checked text columns, 0/1 label columns (or None) and problem type."""
    cols = (text_columns,) if isinstance(text_columns, str) else tuple(text_columns)
    if not 1 <= len(cols) <= 2 or not all(isinstance(c, str) and c for c in cols):
        raise ConfigError(f"text_columns must name 1 or 2 columns, got {text_columns!r}")
    labels_in: tuple[str, ...] | None = None
    if label_columns is not None:
        if label_column is not None:
            raise ConfigError(
                f"pass label_column ({label_column!r}) or label_columns ({label_columns!r}), not both: "
                "label_columns is one 0/1 column per label"
            )
        labels_in = (label_columns,) if isinstance(label_columns, str) else tuple(label_columns)
        if len(labels_in) < 2 or not all(isinstance(c, str) and c for c in labels_in) or len(
            set(labels_in)
        ) != len(labels_in):
            raise ConfigError(
                f"label_columns must name at least 2 different 0/1 columns, one per label, got {label_columns!r}"
            )
        if set(labels_in) & set(cols) or len(set(cols)) != len(cols):
            raise ConfigError(f"text_columns {cols!r} and label_columns {labels_in!r} must all be different")
    elif label_column is None or not isinstance(label_column, str) or not label_column:
        raise ConfigError(
            f"label_column must name the label column, got {label_column!r}; "
            "or pass label_columns=[...] with one 0/1 column per label"
        )
    elif len(set(cols)) != len(cols) or label_column in cols:
        raise ConfigError(f"text_columns {cols!r} and label_column {label_column!r} must all be different")
    if problem_type is not None:
        problem_type = _PROBLEM_ALIASES.get(problem_type, problem_type)
        if problem_type not in PROBLEM_TYPES:
            raise ConfigError(
                f"problem_type {problem_type!r} must be None, {CLASSIFICATION!r}, {REGRESSION!r} or {MULTI_LABEL!r}"
            )
    if labels_in is not None and problem_type not in (None, MULTI_LABEL):
        raise ConfigError(
            f"label_columns make a multi-label task, but problem_type={problem_type!r}; "
            f"leave problem_type out (or pass {MULTI_LABEL!r})"
        )
    if not 0.0 < validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be between 0 and 1, got {validation_fraction!r}")
    return cols, labels_in, problem_type


_STRING_DTYPES = ("string", "large_string")


def _check_feature_types(
    table: _Table, cols: Sequence[str], label_column: str | None, label_columns: Sequence[str] | None,
    problem_type: str | None,
) -> None:
    """Refuse in-memory columns whose type cannot be text or labels, naming the column and the fix."""
    features = table.features or {}
    for col in cols:
        feature = features.get(col)
        if not (isinstance(feature, datasets.Value) and feature.dtype in _STRING_DTYPES):
            raise DataError(
                f"text column {col!r} of {table.source} holds {feature}, not strings; pass text columns "
                f"(tokens? join them first: ds.map(lambda r: {{{col!r}: ' '.join(r[{col!r}])}}))"
            )
    for col in label_columns or ():
        feature = features.get(col)
        if not isinstance(feature, datasets.Value):
            raise DataError(
                f"label column {col!r} of {table.source} holds {feature}; each of label_columns must hold "
                "0/1 (or true/false) per row"
            )
    if label_column is None:
        return
    feature = features.get(label_column)
    if isinstance(feature, datasets.ClassLabel):
        return
    if _is_list_feature(feature):
        inner = feature[0] if isinstance(feature, list) else getattr(feature, "feature", None)
        if isinstance(inner, datasets.ClassLabel) or (
            isinstance(inner, datasets.Value) and (inner.dtype in _STRING_DTYPES or "int" in inner.dtype)
        ):
            if problem_type in (None, MULTI_LABEL):
                return
            raise DataError(
                f"label column {label_column!r} of {table.source} holds lists of labels, but problem_type="
                f"{problem_type!r}; leave problem_type out (or pass {MULTI_LABEL!r}) for several labels per example"
            )
        raise DataError(
            f"label column {label_column!r} of {table.source} holds {feature}; a multi-label column holds lists "
            "of label names or ClassLabel ids (for 0/1 vectors use one column per label: label_columns=[...])"
        )
    if isinstance(feature, datasets.Value) and feature.dtype != "null":
        if problem_type == MULTI_LABEL:
            raise DataError(
                f"label column {label_column!r} of {table.source} holds single {feature.dtype} values, not lists; "
                "a multi-label column holds a list of labels per row (or use label_columns=[...])"
            )
        return
    raise DataError(
        f"label column {label_column!r} of {table.source} holds {feature}, which cannot be a label; use a "
        "ClassLabel, string, int or bool column (a list of them for several labels per example, floats with "
        "problem_type='regression')"
    )


@dataclass(frozen=True)
class TaskBuild:
    """How checked tables become a task: what :func:`custom_task`, :func:`dataset_task` and :func:`records_task` pass.

    Attributes:
        name: the task name (checked).
        text_columns: one text column, or two for sentence pairs.
        description: the start of the spec's description (the columns are appended).
        label_column: the label column (None with ``label_columns``).
        label_columns: one 0/1 column per label (multi-label), or None.
        problem_type: None (inferred), or one of the problem types.
        hub_id: the Hub ``(id, config)`` of the data, if any.
        validation_fraction: the share of train split off when there is no validation table.
        seed: the seed of that split.
        separator: what separates the labels of one CSV/TSV cell of a multi-label task.
        strict: refuse fractional labels of a classification column (in-memory data).
        in_memory: mark the splits as in-memory data (runs on them are keyed by a digest of their rows).

    Example:
        >>> TaskBuild("spam", ("text",), "SMS messages").label_column
        'label'
    """

    name: str
    text_columns: tuple[str, ...]
    description: str
    label_column: str | None = "label"
    label_columns: tuple[str, ...] | None = None
    problem_type: str | None = None
    hub_id: tuple[str, str | None] | None = None
    validation_fraction: float = 0.1
    seed: int = 0
    separator: str | None = None
    strict: bool = False
    in_memory: bool = False


def _build_task(train: _Table, val: _Table | None, build: TaskBuild) -> tuple[TaskSpec, datasets.DatasetDict]:
    """The spec and encoded splits of checked tables (shared by :func:`custom_task`, :func:`dataset_task` and
    :func:`records_task`)."""
    cols, label_column, label_columns = build.text_columns, build.label_column, build.label_columns
    problem_type = build.problem_type
    wanted = [*cols, *(label_columns or [label_column])]
    _check_columns(train, wanted)
    if val is not None:
        _check_columns(val, wanted)

    label_of: Callable[[Mapping[str, Any], str], Any]
    if label_columns is not None:
        kind, labels = MULTI_LABEL, label_columns
        label_of = _columns_value(label_columns)
        label_text = f"label columns {', '.join(label_columns)} (0/1 each)"
    else:
        assert label_column is not None
        lists = _holds_lists(train, label_column)
        if problem_type == MULTI_LABEL or (problem_type is None and lists):
            kind = MULTI_LABEL
            labels, label_of = _multi_label_scheme(train, label_column, lists=lists, separator=build.separator)
            label_text = f"label column {label_column} (a list of labels per row)"
        else:
            if lists:
                raise DataError(
                    f"label column {label_column!r} of {train.source} holds lists of labels, but problem_type="
                    f"{problem_type!r}; leave problem_type out (or pass {MULTI_LABEL!r}) for several labels"
                )
            if build.strict and problem_type != REGRESSION:
                _refuse_fractional(train, label_column)
            kind = REGRESSION if problem_type == REGRESSION else CLASSIFICATION
            labels, to_value = _label_scheme(train, label_column, problem_type)
            column = label_column

            def label_of(rec: Mapping[str, Any], where: str) -> Any:
                return to_value(_cell(rec, column, where), where)

            label_text = f"label column {label_column}"
    regression = kind == REGRESSION
    spec = TaskSpec(
        name=build.name,
        benchmark="custom",
        text_columns=PAIR_COLUMNS if len(cols) == 2 else SINGLE_COLUMNS,
        labels=labels,
        problem_type=kind,
        num_labels=1 if regression else len(labels),
        metrics=("pearson", "spearmanr", "combined_score") if regression
        else _MULTI_LABEL_METRICS if kind == MULTI_LABEL else ("accuracy", "macro_f1"),
        main_metric="pearson" if regression else "micro_f1" if kind == MULTI_LABEL else "accuracy",
        hub_id=build.hub_id,
        description=f"{build.description}: text columns {', '.join(cols)} -> "
        f"{', '.join(PAIR_COLUMNS[: len(cols)])}; {label_text}.",
    )

    train_cols = _encode_table(train, cols, label_of)
    if val is not None:
        val_cols = _encode_table(val, cols, label_of)
    else:
        train_cols, val_cols = _split_off(train_cols, build.validation_fraction, build.seed, kind == CLASSIFICATION,
                                          train.source)

    features = task_features(spec)
    info = datasets.DatasetInfo(description=IN_MEMORY_DESCRIPTION, features=features) if build.in_memory else None
    data = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(train_cols, features=features, info=copy.deepcopy(info)),
            "validation": datasets.Dataset.from_dict(val_cols, features=features, info=copy.deepcopy(info)),
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
    table: _Table, cols: Sequence[str], label_of: Callable[[Mapping[str, Any], str], Any]
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {c: [] for c in (*PAIR_COLUMNS[: len(cols)], "label")}
    for rec, where in zip(table.records, table.where, strict=True):
        for canon, col in zip(PAIR_COLUMNS, cols, strict=False):
            out[canon].append(_cell_text(rec.get(col), col, where))
        out["label"].append(label_of(rec, where))
    return out


def _refuse_fractional(table: _Table, column: str) -> None:
    """Refuse float labels that are not whole numbers: classes they cannot be (in-memory data)."""
    for rec, where in zip(table.records, table.where, strict=True):
        value = rec.get(column)
        if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
            raise DataError(
                f"{where}: label column {column!r} holds the float {value!r}, which cannot be a class; pass "
                "problem_type='regression' to predict a score, or make the column classes (ints, strings or "
                "a ClassLabel)"
            )


# ---------------------------------------------------------------------------
# Several labels per example
# ---------------------------------------------------------------------------

_TRUE = ("1", "1.0", "true")
_FALSE = ("0", "0.0", "false")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _holds_lists(table: _Table, column: str) -> bool:
    """True when ``column`` is a list column (by its feature, or by any row holding a list)."""
    feature = (table.features or {}).get(column)
    if feature is not None and _is_list_feature(feature):
        return True
    return any(isinstance(rec.get(column), (list, tuple)) for rec in table.records)


def _label_items(value: Any, column: str, where: str, *, lists: bool, separator: str | None) -> list[str | int]:
    """The labels of one multi-label cell: a list's items, or a string split at ``separator``."""
    if isinstance(value, (list, tuple)):
        items: list[Any] = list(value)
    elif lists:
        raise DataError(
            f"{where}: label column {column!r} holds a list of labels in other rows but {value!r} here; "
            f"give every row a list (e.g. [{value!r}], or [] for no label)"
        )
    elif _is_missing(value):
        raise DataError(
            f"{where}: label column {column!r} is empty; give the row's labels ([] or an empty cell for none) "
            "or drop that row"
        )
    elif isinstance(value, str) and separator is not None:
        items = value.split(separator)
    else:
        raise DataError(
            f"{where}: label column {column!r} holds {value!r}, not a list of labels; give a list per row"
            + (f" or a {separator!r}-separated string" if separator else "")
        )
    out: list[str | int] = []
    for item in items:
        if isinstance(item, str):
            if item.strip():
                out.append(item.strip())
        elif isinstance(item, int) and not isinstance(item, bool):
            out.append(item)
        else:
            raise DataError(
                f"{where}: {item!r} in label column {column!r} is not a label name; a multi-label column holds "
                "label names (or ClassLabel ids). For one 0/1 column per label pass label_columns=[...]"
            )
    return out


def _multi_label_scheme(
    train: _Table, column: str, *, lists: bool, separator: str | None
) -> tuple[tuple[str, ...], Callable[[Mapping[str, Any], str], list[float]]]:
    """The label names and the record -> multi-hot row converter of a list-of-labels column."""
    names = train.label_names  # a List(ClassLabel) keeps its own names and order

    def parse(rec: Mapping[str, Any], where: str) -> list[str]:
        keys: list[str] = []
        for item in _label_items(rec.get(column), column, where, lists=lists, separator=separator):
            if isinstance(item, int) and names is not None:
                if not 0 <= item < len(names):
                    raise DataError(
                        f"{where}: label id {item!r} in column {column!r} is outside 0..{len(names) - 1} "
                        f"(the ClassLabel names {', '.join(map(repr, names))})"
                    )
                keys.append(names[item])
            else:
                keys.append(str(item))
        repeated = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if repeated is not None:
            raise DataError(
                f"{where}: label {repeated!r} appears twice in column {column!r} ({rec.get(column)!r}); a row lists "
                "each of its labels once (a 0/1 vector per row? use one column per label: label_columns=[...])"
            )
        return keys

    if names:
        labels = tuple(names)
    else:
        seen: set[str] = set()
        for rec, where in zip(train.records, train.where, strict=True):
            seen.update(parse(rec, where))
        labels = _class_names(sorted(seen))
    if len(labels) < 2:
        raise DataError(
            f"{train.source!r} has {len(labels)} distinct label(s) {list(labels)!r} in column {column!r}; "
            "a multi-label task needs at least two"
        )
    index = {lab: i for i, lab in enumerate(labels)}

    def label_of(rec: Mapping[str, Any], where: str) -> list[float]:
        row = [0.0] * len(labels)
        for key in parse(rec, where):
            if key not in index:
                raise DataError(
                    f"{where}: label {key!r} never occurs in the train data (train labels: "
                    f"{', '.join(map(repr, labels))}); fix the label or add train examples of it"
                )
            row[index[key]] = 1.0
        return row

    return labels, label_of


def _binary(value: Any, column: str, where: str) -> float:
    """One cell of a 0/1 label column as 0.0 or 1.0."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and not _is_missing(value) and value in (0, 1):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in (*_TRUE, *_FALSE):
        return 1.0 if value.strip().lower() in _TRUE else 0.0
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        raise DataError(f"{where}: label column {column!r} is empty; fill in 0 or 1, or drop that row")
    raise DataError(
        f"{where}: label column {column!r} must hold 0 or 1 (or true/false), got {value!r}; each of "
        "label_columns is one label, 1 where the example has it"
    )


def _columns_value(columns: Sequence[str]) -> Callable[[Mapping[str, Any], str], list[float]]:
    def label_of(rec: Mapping[str, Any], where: str) -> list[float]:
        return [_binary(rec.get(c), c, where) for c in columns]

    return label_of




def _split_off(
    columns: dict[str, list[Any]], fraction: float, seed: int, stratify: bool, source: str
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    labels = columns["label"]
    n = len(labels)
    k = max(1, round(fraction * n))
    if n < 2 or k >= n:
        raise DataError(
            f"{source!r} has {n} row(s): too few to split off a validation set; pass validation=... or add rows"
        )
    # stratified for classes, keeping >= 1 example of each class in train; a plain draw otherwise
    val_idx = sample_indices(labels if stratify else None, n, k, seed, leave_per_class=1)
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
