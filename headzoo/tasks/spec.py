"""TaskSpec, the built-in task table, name lookup, and the row encoders of the built-in tasks.

The encoders turn a raw row with the Hub's field names (the offline readers
produce the same names) into the canonical ``text_a`` / ``text_b`` / ``label``
columns, so the Hub path and the offline path share them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets

from ..errors import ConfigError, DataError, TaskNotFoundError

__all__ = [
    "CLASSIFICATION",
    "METRIC_NAMES",
    "MULTI_LABEL",
    "PAIR_COLUMNS",
    "PROBLEM_TYPES",
    "REGRESSION",
    "SINGLE_COLUMNS",
    "TASKS",
    "TaskSpec",
    "builtin_name",
    "get_task",
    "list_tasks",
    "row_encoder",
    "task_features",
]

CLASSIFICATION = "single_label_classification"
REGRESSION = "regression"
#: Several labels per example: float multi-hot labels, one sigmoid (BCE) output per label.
MULTI_LABEL = "multi_label_classification"
#: The problem types a TaskSpec may have (``transformers``' ``config.problem_type`` values).
PROBLEM_TYPES = (CLASSIFICATION, REGRESSION, MULTI_LABEL)
#: Metric names a TaskSpec may list; :func:`headzoo.tasks.compute_metrics` knows each.
METRIC_NAMES = (
    "accuracy",
    "f1",
    "macro_f1",
    "micro_f1",
    "matthews_correlation",
    "pearson",
    "spearmanr",
    "combined_score",
)
#: Canonical text columns of a sentence-pair task and of a single-sentence task.
PAIR_COLUMNS = ("text_a", "text_b")
SINGLE_COLUMNS = ("text_a",)
_BENCHMARKS = ("glue", "superglue", "custom")
_TEXT_A, _TEXT_B = PAIR_COLUMNS


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
        problem_type: ``"single_label_classification"``, ``"regression"`` or
            ``"multi_label_classification"`` (the values ``transformers`` uses in
            ``config.problem_type``).
        num_labels: Number of model outputs: ``len(labels)``, or 1 for regression.
        metrics: Metric names :func:`compute_metrics` returns for this task.
        main_metric: The metric used to pick the best checkpoint / report.
        hub_id: ``(dataset id, config)`` for ``datasets.load_dataset``, or None.
        description: One paragraph on the task and its input encoding.
        license: The data's licence as a Hub licence identifier (``"cc-by-sa-4.0"``),
            ``"other"`` (then ``license_name`` and ``license_link`` say which), or
            None where it is not known. Heads trained on the task record it.
        license_name: Short name of an ``"other"`` licence (``"msr-ssla"``).
        license_link: Where an ``"other"`` licence's text is.

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
    license: str | None = field(default=None, compare=False)
    license_name: str | None = field(default=None, compare=False)
    license_link: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.lower():
            raise ConfigError(f"task name {self.name!r} must be a non-empty lowercase string")
        if self.benchmark not in _BENCHMARKS:
            raise ConfigError(
                f"benchmark {self.benchmark!r} of task {self.name!r} is not one of {', '.join(_BENCHMARKS)}"
            )
        if self.text_columns not in (SINGLE_COLUMNS, PAIR_COLUMNS):
            raise ConfigError(
                f"text_columns {self.text_columns!r} of task {self.name!r} must be "
                f"{SINGLE_COLUMNS!r} or {PAIR_COLUMNS!r}"
            )
        if self.problem_type not in PROBLEM_TYPES:
            raise ConfigError(
                f"problem_type {self.problem_type!r} of task {self.name!r} must be one of {', '.join(PROBLEM_TYPES)}"
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
        unknown = [m for m in self.metrics if m not in METRIC_NAMES]
        if not self.metrics or unknown:
            raise ConfigError(
                f"task {self.name!r}: unknown metric(s) {unknown!r}; known metrics: {', '.join(METRIC_NAMES)}"
            )
        if self.main_metric not in self.metrics:
            raise ConfigError(
                f"task {self.name!r}: main_metric {self.main_metric!r} is not in metrics {self.metrics!r}"
            )
        named = (self.license_name, self.license_link)
        if (self.license == "other" and not all(named)) or (self.license != "other" and any(named)):
            raise ConfigError(
                f"task {self.name!r}: license {self.license!r} with license_name {self.license_name!r} and "
                f"license_link {self.license_link!r}; a licence with no Hub identifier is license='other' "
                "with both a name and a link, any other licence has neither"
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
    def license_metadata(self) -> dict[str, str]:
        """The data's licence as model-card fields (``license``, ``license_name``, ``license_link``); empty if unknown.

        Example:
            >>> get_task("stsb").license_metadata
            {'license': 'cc-by-sa-4.0'}
        """
        fields = {"license": self.license, "license_name": self.license_name, "license_link": self.license_link}
        return {k: v for k, v in fields.items() if v}

    @property
    def is_regression(self) -> bool:
        """True when the task predicts one float score."""
        return self.problem_type == REGRESSION

    @property
    def is_multi_label(self) -> bool:
        """True when an example may have several labels (a multi-hot ``label`` vector)."""
        return self.problem_type == MULTI_LABEL

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
    data_license: Mapping[str, str] | None = None,
) -> TaskSpec:
    """A built-in single-label classification task; ``data_license`` holds its card's licence fields, if known."""
    return TaskSpec(
        name=name,
        benchmark=benchmark,
        text_columns=PAIR_COLUMNS if pair else SINGLE_COLUMNS,
        labels=labels,
        problem_type=CLASSIFICATION,
        num_labels=len(labels),
        metrics=metrics,
        main_metric=main_metric,
        hub_id=hub,
        description=description,
        **(data_license or {}),
    )


# Hub ids: GLUE lives at "nyu-mll/glue" (Parquet, the canonical id behind the
# old "glue" alias); SuperGLUE at "aps/super_glue", whose main branch now holds
# Parquet files per config ("cb/train-00000-of-00001.parquet"), so it loads with
# datasets >= 4 where the script-based "super_glue" no longer does. Label orders
# below equal the Hub ClassLabel orders, so ids agree between Hub and offline.
_GLUE = "nyu-mll/glue"
_SUPERGLUE = "aps/super_glue"
# Licences of the data, only where a licence file says so (../shared/data/MANIFEST.md):
# MRPC ships with the Microsoft Research Shared Source licence ("MSR-SSLA",
# non-commercial use only; the link is the one STS-B's licence notes give for
# it); STS-B's scores are CC BY-SA 4.0 (its texts keep their sources' terms).
# The other tasks are research data distributed by GLUE / SuperGLUE whose
# licences were not checked, so they have none here.
_MSR_SSLA = {
    "license": "other",
    "license_name": "msr-ssla",
    "license_link": "http://research.microsoft.com/en-us/downloads/607d14d9-20cd-47e3-85bc-a2f65cd28042/",
}

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
        data_license=_MSR_SSLA,
        description="Microsoft Research Paraphrase Corpus (GLUE). text_a = sentence1, "
        "text_b = sentence2; label 1 = paraphrase. Main metric accuracy, as in the paper; "
        "f1 is binary F1 of class 1.",
    ),
    TaskSpec(
        name="stsb",
        benchmark="glue",
        text_columns=PAIR_COLUMNS,
        labels=(),
        problem_type=REGRESSION,
        num_labels=1,
        metrics=("pearson", "spearmanr", "combined_score"),
        main_metric="pearson",
        hub_id=(_GLUE, "stsb"),
        license="cc-by-sa-4.0",
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


def _normalize(name: str) -> str:
    return re.sub(r"[\s_.-]+", "", _BENCHMARK_PREFIX.sub("", name.strip().lower()))


def builtin_name(name: str) -> str | None:
    """Return the built-in task that ``name`` means, or None.

    Matching ignores case, separators and a ``glue/`` or ``super_glue/`` prefix.

    Example:
        >>> builtin_name("glue/STS-B"), builtin_name("my_reviews")
        ('stsb', None)
    """
    key = _normalize(name)
    return key if key in TASKS else None


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
    key = builtin_name(name)
    if key is None:
        close = difflib.get_close_matches(_normalize(name), list(TASKS), n=1)
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


def task_features(spec: TaskSpec) -> datasets.Features:
    """Return the ``datasets.Features`` of a loaded task: its text columns and ``label``.

    ``label`` is a ``ClassLabel`` named by ``spec.labels``, ``float32`` for
    regression (a float64 label tensor breaks MSELoss against float32 logits), or
    a ``float32`` multi-hot vector of ``num_labels`` values for multi-label tasks
    (BCE needs float targets).

    Example:
        >>> task_features(get_task("cola"))["label"].names
        ['unacceptable', 'acceptable']
    """
    cols: dict[str, Any] = {c: datasets.Value("string") for c in spec.text_columns}
    if spec.is_regression:
        cols["label"] = datasets.Value("float32")
    elif spec.is_multi_label:
        cols["label"] = datasets.Sequence(datasets.Value("float32"), length=spec.num_labels)
    else:
        cols["label"] = datasets.ClassLabel(names=list(spec.labels))
    return datasets.Features(cols)


# ---------------------------------------------------------------------------
# Row encoders: raw (Hub-schema) row -> text_a / text_b / label
# ---------------------------------------------------------------------------


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


def row_encoder(task: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """Return the function that encodes a raw row of built-in task ``task`` as ``text_a``/``text_b``/``label``.

    The row has the Hub's field names (the offline readers produce the same).
    Texts are stripped; COPA and WiC are cast as :func:`headzoo.tasks.load_task`
    describes. The encoder raises ``DataError`` for a missing or empty text
    field, or a COPA question that is not cause/effect.

    Raises:
        KeyError: ``task`` is not a built-in task name.

    Example:
        >>> row_encoder("cola")({"sentence": " It rains. ", "label": 1})
        {'text_a': 'It rains.', 'label': 1}
    """
    return _ENCODERS[task]
