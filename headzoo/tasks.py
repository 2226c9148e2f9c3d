"""Task registry, data loading and metrics for GLUE, SuperGLUE and custom tasks.

Every task is a :class:`TaskSpec`. Loading any task gives a
:class:`datasets.DatasetDict` with the splits ``"train"`` and ``"validation"``
(the official dev set) and the same canonical columns:

* ``text_a`` -- the first text segment (always present),
* ``text_b`` -- the second segment (only for sentence-pair tasks),
* ``label`` -- an int class id (``ClassLabel`` feature whose names are
  ``TaskSpec.labels``) or a ``float32`` score for regression.

So one tokenisation call fits every task::

    tokenizer(batch["text_a"], batch.get("text_b"), truncation=True)

Built-in tasks load from the ``datasets`` Hub when online, or from an offline
copy of the official files (``data_dir`` or the ``HEADZOO_DATA_DIR``
environment variable) laid out as ``glue/RTE/train.tsv``,
``superglue/CB/train.jsonl`` and so on. See :func:`load_task` for the layout
and for how each task is cast into (``text_a``, ``text_b``, ``label``).

The module never prints; it logs to the ``headzoo.tasks`` logger.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from headzoo.errors import ConfigError, DataError, InvalidNameError, TaskNotFoundError

__all__ = [
    "DATA_DIR_ENV",
    "TASKS",
    "TaskSpec",
    "compute_metrics",
    "custom_task",
    "get_task",
    "list_tasks",
    "load_task",
    "metric_fn_for_trainer",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the offline data folder (used when ``data_dir`` is None).
DATA_DIR_ENV = "HEADZOO_DATA_DIR"

CLASSIFICATION = "single_label_classification"
REGRESSION = "regression"
_PROBLEM_TYPES = (CLASSIFICATION, REGRESSION)
_BENCHMARKS = ("glue", "superglue", "custom")
_SPLITS = ("train", "validation")
_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
}
_TEXT_A, _TEXT_B = "text_a", "text_b"
_METRIC_NAMES = (
    "accuracy",
    "f1",
    "macro_f1",
    "matthews_correlation",
    "pearson",
    "spearmanr",
    "combined_score",
)
_PAIR = (_TEXT_A, _TEXT_B)
_SINGLE = (_TEXT_A,)


# ---------------------------------------------------------------------------
# TaskSpec and registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """Static description of a classification or regression task.

    Attributes:
        name: Lowercase task name (``"rte"``, ``"stsb"``, ... or a custom name).
        benchmark: ``"glue"``, ``"superglue"`` or ``"custom"``.
        text_columns: Canonical text columns of the loaded data:
            ``("text_a",)`` or ``("text_a", "text_b")``.
        labels: Label names in id order (``labels[i]`` is class id ``i``);
            ``()`` for regression.
        problem_type: ``"single_label_classification"`` or ``"regression"``
            (the values ``transformers`` uses in ``config.problem_type``).
        num_labels: Number of model outputs: ``len(labels)``, or 1 for regression.
        metrics: Metric names :func:`compute_metrics` returns for this task.
        main_metric: The metric used to pick the best checkpoint / report.
        hub_id: ``(dataset id, config)`` for ``datasets.load_dataset``, or None.
        description: One paragraph on the task and its input encoding.

    Example:
        >>> spec = get_task("cb")
        >>> spec.id2label
        {0: 'entailment', 1: 'contradiction', 2: 'neutral'}
        >>> spec.label2id["neutral"]
        2
    """

    name: str
    benchmark: str
    text_columns: tuple[str, ...]
    labels: tuple[str, ...]
    problem_type: str
    num_labels: int
    metrics: tuple[str, ...]
    main_metric: str
    hub_id: tuple[str, str | None] | None = None
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.lower():
            raise ConfigError(f"task name {self.name!r} must be a non-empty lowercase string")
        if self.benchmark not in _BENCHMARKS:
            raise ConfigError(
                f"benchmark {self.benchmark!r} of task {self.name!r} is not one of {', '.join(_BENCHMARKS)}"
            )
        if self.text_columns not in (_SINGLE, _PAIR):
            raise ConfigError(
                f"text_columns {self.text_columns!r} of task {self.name!r} must be {_SINGLE!r} or {_PAIR!r}"
            )
        if self.problem_type not in _PROBLEM_TYPES:
            raise ConfigError(
                f"problem_type {self.problem_type!r} of task {self.name!r} must be one of {', '.join(_PROBLEM_TYPES)}"
            )
        if self.problem_type == REGRESSION:
            if self.labels or self.num_labels != 1:
                raise ConfigError(
                    f"regression task {self.name!r} must have labels=() and num_labels=1, "
                    f"got labels={self.labels!r}, num_labels={self.num_labels}"
                )
        else:
            if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
                raise ConfigError(
                    f"classification task {self.name!r} needs at least 2 distinct labels, got {self.labels!r}"
                )
            if self.num_labels != len(self.labels):
                raise ConfigError(
                    f"task {self.name!r}: num_labels={self.num_labels} but {len(self.labels)} labels given"
                )
        unknown = [m for m in self.metrics if m not in _METRIC_NAMES]
        if not self.metrics or unknown:
            raise ConfigError(
                f"task {self.name!r}: unknown metric(s) {unknown!r}; known metrics: {', '.join(_METRIC_NAMES)}"
            )
        if self.main_metric not in self.metrics:
            raise ConfigError(
                f"task {self.name!r}: main_metric {self.main_metric!r} is not in metrics {self.metrics!r}"
            )

    @property
    def id2label(self) -> dict[int, str]:
        """Map class id -> label name (empty for regression)."""
        return dict(enumerate(self.labels))

    @property
    def label2id(self) -> dict[str, int]:
        """Map label name -> class id (empty for regression)."""
        return {label: i for i, label in enumerate(self.labels)}

    @property
    def is_regression(self) -> bool:
        """True when the task predicts one float score."""
        return self.problem_type == REGRESSION

    @property
    def is_pair(self) -> bool:
        """True when the task has two text segments (``text_b`` exists)."""
        return len(self.text_columns) == 2


def _cls(
    name: str,
    benchmark: str,
    labels: tuple[str, ...],
    *,
    pair: bool,
    hub: tuple[str, str],
    description: str,
    metrics: tuple[str, ...] = ("accuracy",),
    main_metric: str = "accuracy",
) -> TaskSpec:
    return TaskSpec(
        name=name,
        benchmark=benchmark,
        text_columns=_PAIR if pair else _SINGLE,
        labels=labels,
        problem_type=CLASSIFICATION,
        num_labels=len(labels),
        metrics=metrics,
        main_metric=main_metric,
        hub_id=hub,
        description=description,
    )


# Hub ids: GLUE lives at "nyu-mll/glue" (Parquet, the canonical id behind the
# old "glue" alias); SuperGLUE at "aps/super_glue", whose main branch now holds
# Parquet files per config ("cb/train-00000-of-00001.parquet"), so it loads with
# datasets >= 4 where the script-based "super_glue" no longer does. Label orders
# below equal the Hub ClassLabel orders, so ids agree between Hub and offline.
_GLUE = "nyu-mll/glue"
_SUPERGLUE = "aps/super_glue"

_BUILTIN: tuple[TaskSpec, ...] = (
    _cls(
        "rte",
        "glue",
        ("entailment", "not_entailment"),
        pair=True,
        hub=(_GLUE, "rte"),
        description="Recognizing Textual Entailment (GLUE; same examples as SuperGLUE RTE). "
        "text_a = premise (sentence1), text_b = hypothesis (sentence2).",
    ),
    _cls(
        "mrpc",
        "glue",
        ("not_equivalent", "equivalent"),
        pair=True,
        hub=(_GLUE, "mrpc"),
        metrics=("accuracy", "f1"),
        description="Microsoft Research Paraphrase Corpus (GLUE). text_a = sentence1, "
        "text_b = sentence2; label 1 = paraphrase. Main metric accuracy, as in the paper; "
        "f1 is binary F1 of class 1.",
    ),
    TaskSpec(
        name="stsb",
        benchmark="glue",
        text_columns=_PAIR,
        labels=(),
        problem_type=REGRESSION,
        num_labels=1,
        metrics=("pearson", "spearmanr", "combined_score"),
        main_metric="pearson",
        hub_id=(_GLUE, "stsb"),
        description="Semantic Textual Similarity Benchmark (GLUE), regression of a 0-5 "
        "similarity score (float32). text_a = sentence1, text_b = sentence2.",
    ),
    _cls(
        "cola",
        "glue",
        ("unacceptable", "acceptable"),
        pair=False,
        hub=(_GLUE, "cola"),
        metrics=("matthews_correlation", "accuracy"),
        main_metric="matthews_correlation",
        description="Corpus of Linguistic Acceptability (GLUE). text_a = sentence; "
        "label 1 = acceptable. Main metric Matthews correlation.",
    ),
    _cls(
        "qnli",
        "glue",
        ("entailment", "not_entailment"),
        pair=True,
        hub=(_GLUE, "qnli"),
        description="Question NLI (GLUE). text_a = question, text_b = sentence; "
        "entailment = the sentence answers the question.",
    ),
    _cls(
        "sst2",
        "glue",
        ("negative", "positive"),
        pair=False,
        hub=(_GLUE, "sst2"),
        description="Stanford Sentiment Treebank, binary (GLUE). text_a = sentence (tokenized, lowercased phrases).",
    ),
    _cls(
        "boolq",
        "superglue",
        ("false", "true"),
        pair=True,
        hub=(_SUPERGLUE, "boolq"),
        description="Boolean Questions (SuperGLUE). text_a = question, text_b = passage "
        "(question first, as the SuperGLUE reference code jiant does, so truncation "
        "cuts the long passage, not the question).",
    ),
    _cls(
        "cb",
        "superglue",
        ("entailment", "contradiction", "neutral"),
        pair=True,
        hub=(_SUPERGLUE, "cb"),
        metrics=("accuracy", "macro_f1"),
        description="CommitmentBank (SuperGLUE), 3-way NLI. text_a = premise, "
        "text_b = hypothesis. macro_f1 is the unweighted mean of per-class F1.",
    ),
    _cls(
        "copa",
        "superglue",
        ("choice1", "choice2"),
        pair=True,
        hub=(_SUPERGLUE, "copa"),
        description="Choice of Plausible Alternatives (SuperGLUE), cast to 2-class sequence "
        "classification: text_a = f'{premise} What was the {question}?' (question is "
        "'cause' or 'effect'), text_b = f'1) {choice1} 2) {choice2}', label = 0 for "
        "choice1, 1 for choice2. (The paper instead scored each choice separately with "
        "one logit per choice.)",
    ),
    _cls(
        "wic",
        "superglue",
        ("false", "true"),
        pair=True,
        hub=(_SUPERGLUE, "wic"),
        description="Word-in-Context (SuperGLUE). text_a = f'{word}: {sentence1}', "
        "text_b = sentence2 (the target word leads so a sentence classifier sees it); "
        "label true = same sense. Offline data uses the original WiC release "
        "(tokenized text, lemma as word) for both splits.",
    ),
)

#: Built-in tasks by canonical name.
TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _BUILTIN}

_BENCHMARK_PREFIX = re.compile(r"^(?:glue|super[\s_-]?glue)[\s/:._-]+")
_ALIASES: dict[str, str] = {name: name for name in TASKS}


def _normalize_name(name: str) -> str:
    key = _BENCHMARK_PREFIX.sub("", name.strip().lower())
    return re.sub(r"[\s_.-]+", "", key)


def get_task(name: str | TaskSpec) -> TaskSpec:
    """Return the built-in task called ``name``.

    Matching ignores case, separators and a ``glue/`` or ``super_glue/`` prefix,
    so ``"sts-b"``, ``"STS_B"`` and ``"glue/stsb"`` all give STS-B.

    Raises:
        TaskNotFoundError: ``name`` is no known task; the message quotes it
            and lists the known tasks.

    Example:
        >>> get_task("SST-2").name
        'sst2'
    """
    if isinstance(name, TaskSpec):
        return name
    if not isinstance(name, str):
        raise TaskNotFoundError(f"task name must be a string, got {name!r}; known tasks: {', '.join(list_tasks())}")
    key = _ALIASES.get(_normalize_name(name))
    if key is None:
        close = difflib.get_close_matches(_normalize_name(name), list(TASKS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise TaskNotFoundError(
            f"unknown task {name!r}; known tasks: {', '.join(list_tasks())}.{hint} "
            "For your own data use headzoo.tasks.custom_task()."
        )
    return TASKS[key]


def list_tasks() -> list[str]:
    """Return the names of the built-in tasks, sorted.

    Example:
        >>> "rte" in list_tasks()
        True
    """
    return sorted(TASKS)


# ---------------------------------------------------------------------------
# Encoding of raw (Hub-schema) rows into text_a / text_b / label
# ---------------------------------------------------------------------------
# Offline readers produce rows with the Hub's field names and int labels, so
# the Hub path and the offline path share these encoders.


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"field {key!r} is missing or empty ({value!r})")
    return value.strip()


def _pair(a: str, b: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def encode(row: Mapping[str, Any]) -> dict[str, Any]:
        return {_TEXT_A: _text(row, a), _TEXT_B: _text(row, b), "label": row["label"]}

    return encode


def _single(a: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def encode(row: Mapping[str, Any]) -> dict[str, Any]:
        return {_TEXT_A: _text(row, a), "label": row["label"]}

    return encode


def _encode_copa(row: Mapping[str, Any]) -> dict[str, Any]:
    question = _text(row, "question")
    if question not in ("cause", "effect"):
        raise DataError(f"COPA question must be 'cause' or 'effect', got {question!r}")
    return {
        _TEXT_A: f"{_text(row, 'premise')} What was the {question}?",
        _TEXT_B: f"1) {_text(row, 'choice1')} 2) {_text(row, 'choice2')}",
        "label": row["label"],
    }


def _encode_wic(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        _TEXT_A: f"{_text(row, 'word')}: {_text(row, 'sentence1')}",
        _TEXT_B: _text(row, "sentence2"),
        "label": row["label"],
    }


_ENCODERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "rte": _pair("sentence1", "sentence2"),
    "mrpc": _pair("sentence1", "sentence2"),
    "stsb": _pair("sentence1", "sentence2"),
    "cola": _single("sentence"),
    "qnli": _pair("question", "sentence"),
    "sst2": _single("sentence"),
    "boolq": _pair("question", "passage"),
    "cb": _pair("premise", "hypothesis"),
    "copa": _encode_copa,
    "wic": _encode_wic,
}


def _features(spec: TaskSpec) -> datasets.Features:
    cols: dict[str, Any] = {c: datasets.Value("string") for c in spec.text_columns}
    if spec.is_regression:
        # float32: a float64 label tensor breaks MSELoss against float32 logits.
        cols["label"] = datasets.Value("float32")
    else:
        cols["label"] = datasets.ClassLabel(names=list(spec.labels))
    return datasets.Features(cols)


# ---------------------------------------------------------------------------
# Offline readers
# ---------------------------------------------------------------------------


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


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"data file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read data file {str(path)!r}: {exc}") from None
    return _decode(data, path)


def _read_delimited(
    path: Path, *, delimiter: str, quoting: int, header: bool, width: int | None = None
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Read a CSV/TSV file; return (header, [(line number, fields), ...])."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter, quoting=quoting)
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


def _glue_tsv(
    path: Path, *, header: bool = True, width: int | None = None
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    # GLUE TSVs are not CSV-quoted: some texts contain unbalanced double quotes.
    return _read_delimited(path, delimiter="\t", quoting=csv.QUOTE_NONE, header=header, width=width)


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
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


def _label_id(value: Any, mapping: Mapping[str, int], where: str) -> int:
    key = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if key not in mapping:
        raise DataError(f"unknown label {value!r} at {where}; expected one of {', '.join(map(repr, mapping))}")
    return mapping[key]


def _columns(names: list[str] | None, wanted: Sequence[str], path: Path) -> list[int]:
    assert names is not None
    missing = [w for w in wanted if w not in names]
    if missing:
        raise DataError(
            f"{str(path)!r} lacks column(s) {', '.join(map(repr, missing))}; header is {', '.join(map(repr, names))}"
        )
    return [names.index(w) for w in wanted]


def _read_named_tsv(path: Path, fields: Mapping[str, str], labels: Mapping[str, int] | None) -> list[dict[str, Any]]:
    """TSV with a header; ``fields`` maps file column -> Hub field; the label column maps to 'label'."""
    names, rows = _glue_tsv(path)
    src = list(fields)
    idx = _columns(names, src, path)
    out = []
    for lineno, cols in rows:
        row = {fields[s]: cols[i] for s, i in zip(src, idx, strict=True)}
        if labels is not None:
            row["label"] = _label_id(row["label"], labels, f"line {lineno} of {str(path)!r}")
        out.append(row)
    return out


def _binary_ids() -> dict[str, int]:
    return {"0": 0, "1": 1}


def _read_rte(files: list[Path]) -> list[dict[str, Any]]:
    return _read_named_tsv(
        files[0],
        {"sentence1": "sentence1", "sentence2": "sentence2", "label": "label"},
        {"entailment": 0, "not_entailment": 1},
    )


def _read_qnli(files: list[Path]) -> list[dict[str, Any]]:
    return _read_named_tsv(
        files[0],
        {"question": "question", "sentence": "sentence", "label": "label"},
        {"entailment": 0, "not_entailment": 1},
    )


def _read_mrpc(files: list[Path]) -> list[dict[str, Any]]:
    # UTF-8 BOM (stripped by _decode) and "#1 String"/"#2 String" headers.
    return _read_named_tsv(
        files[0], {"#1 String": "sentence1", "#2 String": "sentence2", "Quality": "label"}, _binary_ids()
    )


def _read_sst2(files: list[Path]) -> list[dict[str, Any]]:
    return _read_named_tsv(files[0], {"sentence": "sentence", "label": "label"}, _binary_ids())


def _read_cola(files: list[Path]) -> list[dict[str, Any]]:
    # No header: source, label, original label (blank), sentence.
    path = files[0]
    _, rows = _glue_tsv(path, header=False, width=4)
    return [
        {"sentence": cols[3], "label": _label_id(cols[1], _binary_ids(), f"line {n} of {str(path)!r}")}
        for n, cols in rows
    ]


def _read_stsb(files: list[Path]) -> list[dict[str, Any]]:
    # sentence1, sentence2 and score are the last three of ten columns.
    path = files[0]
    names, rows = _glue_tsv(path)
    assert names is not None
    if names[-3:] != ["sentence1", "sentence2", "score"]:
        raise DataError(
            f"{str(path)!r}: expected the last three columns to be sentence1, sentence2, score; header is {names!r}"
        )
    out = []
    for n, cols in rows:
        try:
            score = float(cols[-1])
        except ValueError:
            raise DataError(f"line {n} of {str(path)!r}: score {cols[-1]!r} is not a number") from None
        out.append({"sentence1": cols[-3], "sentence2": cols[-2], "label": score})
    return out


def _jsonl_reader(
    fields: Sequence[str], labels: Mapping[str, int] | None
) -> Callable[[list[Path]], list[dict[str, Any]]]:
    def read(files: list[Path]) -> list[dict[str, Any]]:
        path = files[0]
        out = []
        for lineno, obj in _read_jsonl(path):
            where = f"line {lineno} of {str(path)!r}"
            missing = [f for f in (*fields, "label") if f not in obj]
            if missing:
                raise DataError(
                    f"{where} lacks field(s) {', '.join(map(repr, missing))}; it has {', '.join(map(repr, obj))}"
                )
            row = {f: obj[f] for f in fields}
            row["label"] = obj["label"] if labels is None else _label_id(obj["label"], labels, where)
            out.append(row)
        return out

    return read


_read_copa = _jsonl_reader(("premise", "choice1", "choice2", "question"), {"0": 0, "1": 1})


def _read_wic(files: list[Path]) -> list[dict[str, Any]]:
    # Original WiC release: *.data.txt (word, PoS, "i-j", sentence1, sentence2) + *.gold.txt (T/F).
    data_path, gold_path = files
    _, rows = _read_delimited(data_path, delimiter="\t", quoting=csv.QUOTE_NONE, header=False, width=5)
    gold = [(n, g.strip()) for n, g in enumerate(_read_text(gold_path).splitlines(), start=1) if g.strip()]
    if len(gold) != len(rows):
        raise DataError(
            f"{str(data_path)!r} has {len(rows)} examples but {str(gold_path)!r} has {len(gold)} labels; "
            "they must match line for line"
        )
    tf = {"f": 0, "t": 1}
    return [
        {
            "word": cols[0],
            "sentence1": cols[3],
            "sentence2": cols[4],
            "label": _label_id(g, tf, f"line {gn} of {str(gold_path)!r}"),
        }
        for (_, cols), (gn, g) in zip(rows, gold, strict=True)
    ]


@dataclass(frozen=True)
class _Offline:
    files: Mapping[str, tuple[str, ...]]  # split -> paths relative to the data dir
    reader: Callable[[list[Path]], list[dict[str, Any]]]


_OFFLINE: dict[str, _Offline] = {
    "rte": _Offline({"train": ("glue/RTE/train.tsv",), "validation": ("glue/RTE/dev.tsv",)}, _read_rte),
    "mrpc": _Offline({"train": ("glue/MRPC/train.tsv",), "validation": ("glue/MRPC/dev.tsv",)}, _read_mrpc),
    "stsb": _Offline({"train": ("glue/STS-B/train.tsv",), "validation": ("glue/STS-B/dev.tsv",)}, _read_stsb),
    "cola": _Offline({"train": ("glue/CoLA/train.tsv",), "validation": ("glue/CoLA/dev.tsv",)}, _read_cola),
    "qnli": _Offline({"train": ("glue/QNLI/train.tsv",), "validation": ("glue/QNLI/dev.tsv",)}, _read_qnli),
    "sst2": _Offline({"train": ("glue/SST-2/train.tsv",), "validation": ("glue/SST-2/dev.tsv",)}, _read_sst2),
    "boolq": _Offline(
        {"train": ("superglue/BoolQ/train.jsonl",), "validation": ("superglue/BoolQ/val.jsonl",)},
        _jsonl_reader(("question", "passage"), {"false": 0, "true": 1}),
    ),
    "cb": _Offline(
        {"train": ("superglue/CB/train.jsonl",), "validation": ("superglue/CB/val.jsonl",)},
        _jsonl_reader(("premise", "hypothesis"), {"entailment": 0, "contradiction": 1, "neutral": 2}),
    ),
    "copa": _Offline(
        {"train": ("superglue/COPA/train.jsonl",), "validation": ("superglue/COPA/val.jsonl",)}, _read_copa
    ),
    "wic": _Offline(
        {
            "train": (
                "superglue/WiC/original_release/train/train.data.txt",
                "superglue/WiC/original_release/train/train.gold.txt",
            ),
            "validation": (
                "superglue/WiC/original_release/dev/dev.data.txt",
                "superglue/WiC/original_release/dev/dev.gold.txt",
            ),
        },
        _read_wic,
    ),
}


# ---------------------------------------------------------------------------
# Sampling helpers
# ---------------------------------------------------------------------------


def _allocate(counts: Mapping[Any, int], k: int, cap: Mapping[Any, int] | None = None) -> dict[Any, int]:
    """Split ``k`` over groups proportionally to ``counts`` (largest remainder, deterministic)."""
    total = sum(counts.values())
    exact = {g: k * c / total for g, c in counts.items()}
    most = cap if cap is not None else counts
    quota = {g: min(math.floor(e), most[g]) for g, e in exact.items()}
    order = sorted(counts, key=lambda g: (-(exact[g] - math.floor(exact[g])), -counts[g], str(g)))
    left = k - sum(quota.values())
    while left > 0:
        grown = False
        for g in order:
            if left > 0 and quota[g] < most[g]:
                quota[g] += 1
                left -= 1
                grown = True
        if not grown:
            break
    return quota


def _sample_indices(labels: Sequence[Any] | None, n: int, k: int, seed: int) -> list[int]:
    """Pick ``k`` of ``n`` indices, stratified by ``labels`` when given; returned sorted."""
    rng = np.random.default_rng(seed)
    if labels is None:
        return sorted(int(i) for i in rng.choice(n, size=k, replace=False))
    groups: dict[Any, list[int]] = {}
    for i, y in enumerate(labels):
        groups.setdefault(y, []).append(i)
    quota = _allocate({g: len(v) for g, v in groups.items()}, k)
    chosen: list[int] = []
    for g in sorted(groups, key=str):
        members = np.asarray(groups[g])
        chosen.extend(int(i) for i in members[rng.permutation(len(members))[: quota[g]]])
    return sorted(chosen)


def _limit(ds: datasets.Dataset, limit: int | None, seed: int, stratify: bool) -> datasets.Dataset:
    if limit is None or len(ds) <= limit:
        return ds
    labels = ds["label"][:] if stratify else None  # [:] -> list (fast; a Column iterates slowly)
    return ds.select(_sample_indices(labels, len(ds), limit, seed))


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer or None, got {limit!r}")


def _resolve_splits(split: str | None) -> tuple[str, ...]:
    if split is None:
        return _SPLITS
    key = _SPLIT_ALIASES.get(str(split).strip().lower())
    if key is None:
        raise ConfigError(f"unknown split {split!r}; use 'train', 'validation' (or 'dev'), or None for both")
    return (key,)


# ---------------------------------------------------------------------------
# load_task
# ---------------------------------------------------------------------------


def load_task(
    task: str | TaskSpec,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    split: str | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> datasets.DatasetDict:
    """Load a built-in task as a ``DatasetDict`` with ``train`` and ``validation`` splits.

    Each split has the columns ``text_a``, ``text_b`` (pair tasks only) and
    ``label`` (``ClassLabel`` with ``TaskSpec.labels`` as names, or ``float32``
    for STS-B). ``validation`` is the official dev set.

    Input encodings:
        * RTE: (premise, hypothesis); MRPC, STS-B: (sentence1, sentence2);
          QNLI: (question, sentence); CB: (premise, hypothesis).
        * CoLA, SST-2: one sentence, no ``text_b``.
        * BoolQ: (question, passage) -- question first, as in the SuperGLUE
          reference code (jiant); the long passage is then the segment that
          ``truncation="only_second"`` / ``"longest_first"`` shortens.
        * WiC: ``text_a = f"{word}: {sentence1}"``, ``text_b = sentence2``;
          the target word leads so a sequence classifier sees which word is
          asked about. Labels false/true (true = same sense).
        * COPA, cast to 2-class sequence classification:
          ``text_a = f"{premise} What was the {question}?"`` (question is
          "cause" or "effect"), ``text_b = f"1) {choice1} 2) {choice2}"``,
          label 0 = choice1 and 1 = choice2. The paper scored each choice
          separately (one logit per choice); this encoding lets every task use
          the same sequence-classification head.

    Texts are stripped of surrounding whitespace.

    Data source: ``data_dir``, else the ``HEADZOO_DATA_DIR`` environment
    variable, else the ``datasets`` Hub (``TaskSpec.hub_id``; needs network).
    The offline layout is the official files in place::

        glue/{RTE,MRPC,CoLA,STS-B,SST-2,QNLI}/{train,dev}.tsv
        superglue/{BoolQ,CB,COPA}/{train,val}.jsonl
        superglue/WiC/original_release/{train,dev}/{train,dev}.{data,gold}.txt

    WiC is read from the original release for both splits (train exists only
    in that format), so offline WiC text is tokenized and ``word`` is the
    lemma; the Hub's SuperGLUE WiC text is untokenized.

    Args:
        task: Task name (aliases allowed, see :func:`get_task`) or a built-in ``TaskSpec``.
        data_dir: Offline data folder; None uses ``HEADZOO_DATA_DIR`` or the Hub.
        split: ``"train"`` or ``"validation"`` (``"dev"``) to load only that
            split; None loads both.
        limit: Keep at most this many examples per split: a seeded, stratified
            (by label; random for regression) subset, in file order.
        seed: Seed of the ``limit`` subset.

    Raises:
        TaskNotFoundError: unknown task name.
        DataError: an offline file is missing or malformed (e.g. BoolQ and
            QNLI train are absent from the offline copy: load them with
            ``split="validation"``).
        ConfigError: bad ``split`` or ``limit``, or a custom ``TaskSpec``.

    Example:
        >>> dd = load_task("rte", "../shared/data", limit=100)  # doctest: +SKIP
        >>> dd["train"].column_names, dd["train"].num_rows  # doctest: +SKIP
        (['text_a', 'text_b', 'label'], 100)
    """
    spec = get_task(task) if isinstance(task, str) else task
    if not isinstance(spec, TaskSpec):
        raise ConfigError(f"task must be a task name or TaskSpec, got {task!r}")
    if spec.name not in _ENCODERS or TASKS.get(spec.name) != spec:
        raise ConfigError(
            f"load_task() loads built-in tasks only ({', '.join(list_tasks())}); task {spec.name!r} "
            "is custom: use custom_task(), which returns its data."
        )
    splits = _resolve_splits(split)
    _check_limit(limit)
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV)
        data_dir = env if env else None
    if data_dir is not None:
        loaded = _load_offline(spec, Path(data_dir).expanduser(), splits)
    else:
        loaded = _load_hub(spec, splits)
    out = datasets.DatasetDict()
    for name in splits:
        out[name] = _limit(loaded[name], limit, seed, stratify=not spec.is_regression)
    logger.info("loaded task %s: %s", spec.name, ", ".join(f"{k}={v.num_rows}" for k, v in out.items()))
    return out


def _load_offline(spec: TaskSpec, root: Path, splits: Iterable[str]) -> dict[str, datasets.Dataset]:
    if not root.is_dir():
        raise DataError(
            f"data directory {str(root)!r} does not exist; pass the folder holding glue/ and superglue/ "
            f"(data_dir or {DATA_DIR_ENV}), or unset both to load from the Hub"
        )
    source = _OFFLINE[spec.name]
    encode = _ENCODERS[spec.name]
    features = _features(spec)
    result: dict[str, datasets.Dataset] = {}
    for split in splits:
        paths = [root / rel for rel in source.files[split]]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            others = [s for s in _SPLITS if s != split and all((root / r).is_file() for r in source.files[s])]
            hint = f" Only the {others[0]!r} split is available there: pass split={others[0]!r}." if others else ""
            raise DataError(
                f"the {split} file of task {spec.name!r} is missing: looked for "
                f"{', '.join(repr(str(p)) for p in missing)}.{hint} Or load the task from the Hub "
                f"({spec.hub_id[0] if spec.hub_id else '?'}) by passing no data_dir."
            )
        rows = source.reader(paths)
        if not rows:
            raise DataError(f"the {split} file(s) of task {spec.name!r} hold no examples: {[str(p) for p in paths]}")
        columns: dict[str, list[Any]] = {c: [] for c in features}
        for i, row in enumerate(rows):
            try:
                enc = encode(row)
            except DataError as exc:
                raise DataError(f"example {i + 1} of {str(paths[0])!r}: {exc}") from None
            for c in columns:
                columns[c].append(enc[c])
        result[split] = datasets.Dataset.from_dict(columns, features=features)
        logger.debug("read %d %s rows of %s from %s", len(rows), split, spec.name, paths[0])
    return result


def _load_hub(spec: TaskSpec, splits: Iterable[str]) -> dict[str, datasets.Dataset]:
    assert spec.hub_id is not None
    path, config = spec.hub_id
    encode = _ENCODERS[spec.name]
    features = _features(spec)
    result: dict[str, datasets.Dataset] = {}
    for split in splits:
        logger.info("loading %s/%s split %s from the Hub", path, config, split)
        try:
            raw = datasets.load_dataset(path, config, split=split)
        except (ConnectionError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"cannot load task {spec.name!r} from the Hub dataset {path!r} ({first}); pass --data-dir "
                "(data_dir=) with the original GLUE/SuperGLUE files to work offline, or check the network"
            ) from exc
        result[split] = raw.map(encode, remove_columns=raw.column_names, features=features)
    return result


# ---------------------------------------------------------------------------
# Custom tasks
# ---------------------------------------------------------------------------

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
        names, rows = _read_delimited(
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
        pairs = _read_jsonl(path)
        return _Table(
            src,
            _union_keys(o for _, o in pairs),
            [o for _, o in pairs],
            [f"row {i} (line {n}) of {src!r}" for i, (n, _) in enumerate(pairs, start=1)],
        )
    text = _read_text(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON Lines saved as .json
            pairs = _read_jsonl(path)
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
        if problem_type not in _PROBLEM_TYPES:
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

    task_name = name if name is not None else re.sub(r"[^a-z0-9_.-]+", "_", default_name.lower()).strip("_.-")
    if not task_name or not _NAME.match(task_name):
        raise InvalidNameError(
            f"task name {task_name!r} is invalid: use lowercase letters, digits, '_', '-', '.' (e.g. name='my_task')"
        )
    if _normalize_name(task_name) in _ALIASES:
        raise InvalidNameError(
            f"task name {task_name!r} is taken by the built-in task {_ALIASES[_normalize_name(task_name)]!r}; "
            "pass another name=..."
        )

    wanted = [*cols, label_column]
    _check_columns(train, wanted)
    if val is not None:
        _check_columns(val, wanted)

    hub_names = train.label_names  # a Hub ClassLabel keeps its own names and order
    raw_train = [_cell(rec, label_column, where) for rec, where in zip(train.records, train.where, strict=True)]
    regression = problem_type == REGRESSION
    if regression:
        labels: tuple[str, ...] = ()
        to_value: Callable[[Any, str], Any] = _regression_value
    else:
        labels = tuple(hub_names) if hub_names else _class_names(raw_train)
        if len(labels) < 2:
            raise DataError(
                f"{train.source!r} has a single label value {labels[0]!r} in column {label_column!r}; "
                "a classifier needs at least two classes"
            )
        label2id = {lab: i for i, lab in enumerate(labels)}
        to_value = _classifier_value(label2id, hub_ints=hub_names is not None)
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

    spec = TaskSpec(
        name=task_name,
        benchmark="custom",
        text_columns=_PAIR if len(cols) == 2 else _SINGLE,
        labels=labels,
        problem_type=REGRESSION if regression else CLASSIFICATION,
        num_labels=1 if regression else len(labels),
        metrics=("pearson", "spearmanr", "combined_score") if regression else ("accuracy", "macro_f1"),
        main_metric="pearson" if regression else "accuracy",
        hub_id=hub_id,
        description=f"Custom task from {source}: text columns {', '.join(cols)} -> "
        f"{', '.join(_PAIR[: len(cols)])}; label column {label_column}.",
    )

    train_cols = _encode_table(train, cols, label_column, to_value)
    if val is not None:
        val_cols = _encode_table(val, cols, label_column, to_value)
    else:
        train_cols, val_cols = _split_off(train_cols, validation_fraction, seed, regression, train.source)

    features = _features(spec)
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
    out: dict[str, list[Any]] = {c: [] for c in (*_PAIR[: len(cols)], "label")}
    for rec, where in zip(table.records, table.where, strict=True):
        for canon, col in zip(_PAIR, cols, strict=False):
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
    rng = np.random.default_rng(seed)
    if regression:
        val_idx = sorted(int(i) for i in rng.choice(n, size=k, replace=False))
    else:
        groups: dict[int, list[int]] = {}
        for i, y in enumerate(labels):
            groups.setdefault(y, []).append(i)
        counts = {g: len(v) for g, v in groups.items()}
        quota = _allocate(counts, k, cap={g: c - 1 for g, c in counts.items()})  # keep >= 1 per class in train
        val_idx = []
        for g in sorted(groups):
            members = np.asarray(groups[g])
            val_idx.extend(int(i) for i in members[rng.permutation(len(members))[: quota[g]]])
        val_idx.sort()
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


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def _accuracy(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(r, p))


def _f1(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(r, p, average="binary", pos_label=1, zero_division=0))


def _macro_f1(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(r, p, average="macro", zero_division=0))


def _mcc(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(r, p))


def _correlation(kind: str) -> Callable[[np.ndarray, np.ndarray], float]:
    def corr(p: np.ndarray, r: np.ndarray) -> float:
        from scipy import stats

        if len(p) < 2 or np.all(p == p[0]) or np.all(r == r[0]):
            return float("nan")  # undefined for constant input
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = stats.pearsonr(p, r)[0] if kind == "pearson" else stats.spearmanr(p, r)[0]
        return float(value)

    return corr


def _combined(p: np.ndarray, r: np.ndarray) -> float:
    return (_correlation("pearson")(p, r) + _correlation("spearmanr")(p, r)) / 2


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {  # keys == _METRIC_NAMES
    "accuracy": _accuracy,
    "f1": _f1,
    "macro_f1": _macro_f1,
    "matthews_correlation": _mcc,
    "pearson": _correlation("pearson"),
    "spearmanr": _correlation("spearmanr"),
    "combined_score": _combined,
}


def compute_metrics(task: TaskSpec | str, predictions: Any, references: Any) -> dict[str, float]:
    """Compute the task's metrics (``task.metrics``) as plain floats.

    Metric names: ``accuracy``; ``f1`` (binary F1 of class 1, MRPC);
    ``macro_f1`` (unweighted mean of per-class F1, CB and custom tasks);
    ``matthews_correlation`` (CoLA); ``pearson``, ``spearmanr`` and
    ``combined_score`` (their mean) for regression. Correlations of a constant
    input are ``nan``.

    Args:
        task: A ``TaskSpec`` or built-in task name.
        predictions: Class ids (or 2-D logits, reduced by argmax) for
            classification; scores for regression.
        references: Gold class ids or scores.

    Example:
        >>> compute_metrics(get_task("mrpc"), [1, 0, 1, 1], [1, 0, 0, 1])
        {'accuracy': 0.75, 'f1': 0.8}
    """
    spec = get_task(task) if isinstance(task, str) else task
    preds = np.asarray(predictions)
    refs = np.asarray(references)
    if spec.is_regression:
        preds = preds.astype(np.float64).reshape(-1) if preds.ndim <= 1 or preds.shape[-1] == 1 else preds
        refs = refs.astype(np.float64).reshape(-1)
    else:
        if preds.ndim == 2:
            preds = preds.argmax(axis=-1)
        refs = refs.reshape(-1)
    if preds.ndim != 1:
        raise DataError(f"predictions must be 1-D (or 2-D logits), got shape {preds.shape}")
    if len(preds) != len(refs):
        raise DataError(f"got {len(preds)} predictions but {len(refs)} references; they must match")
    if len(preds) == 0:
        raise DataError("no predictions to score: predictions and references are empty")
    return {name: _METRICS[name](preds, refs) for name in spec.metrics}


def metric_fn_for_trainer(task: TaskSpec | str) -> Callable[[Any], dict[str, float]]:
    """Return a ``compute_metrics`` function for ``transformers.Trainer``.

    The function takes an ``EvalPrediction`` (or a ``(predictions,
    label_ids)`` tuple). For classification, logits of shape ``(n, k)`` are
    reduced by argmax; a single logit per example (shape ``(n,)`` or
    ``(n, 1)``, a binary BCE head) is thresholded at 0. For regression the
    ``(n, 1)`` output is squeezed. If the model returns a tuple, its first
    element is taken as the logits (lists are read as arrays).

    Example:
        >>> fn = metric_fn_for_trainer("rte")
        >>> fn(([[0.2, 0.9], [3.0, -1.0]], [1, 0]))
        {'accuracy': 1.0}
    """
    spec = get_task(task) if isinstance(task, str) else task

    def trainer_metrics(eval_pred: Any) -> dict[str, float]:
        if hasattr(eval_pred, "predictions"):
            preds, labels = eval_pred.predictions, eval_pred.label_ids
        else:
            preds, labels = eval_pred[0], eval_pred[1]
        if isinstance(preds, tuple):  # the model returned (logits, hidden_states, ...)
            preds = preds[0]
        if isinstance(labels, tuple):
            labels = labels[0]
        p = np.asarray(preds, dtype=np.float64)
        y = np.asarray(labels).reshape(-1)
        if spec.is_regression:
            p = p.reshape(-1) if p.ndim == 2 and p.shape[1] == 1 else p  # (n, 1) -> (n,)
            return compute_metrics(spec, p, y.astype(np.float64))
        if p.ndim == 2 and p.shape[1] > 1:
            ids = p.argmax(axis=-1)
        else:
            ids = (p.reshape(-1) > 0).astype(np.int64)  # one logit per example (BCE head)
        return compute_metrics(spec, ids, y.astype(np.int64))

    return trainer_metrics
