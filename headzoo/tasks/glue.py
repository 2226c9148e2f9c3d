"""The built-in GLUE/SuperGLUE tasks: offline readers of the official files, Hub loading, and load_task."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from ..errors import ConfigError, DataError
from .sampling import check_limit, limit_dataset
from .spec import TASKS, TaskSpec, get_task, list_tasks, row_encoder, task_features
from .textfiles import read_delimited, read_jsonl, read_text

__all__ = ["DATA_DIR_ENV", "load_task"]

logger = logging.getLogger(__name__)

#: Environment variable naming the offline data folder (used when ``data_dir`` is None).
DATA_DIR_ENV = "HEADZOO_DATA_DIR"

_SPLITS = ("train", "validation")
_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
}
_BINARY = {"0": 0, "1": 1}


# ---------------------------------------------------------------------------
# Offline readers (rows with the Hub's field names and int labels)
# ---------------------------------------------------------------------------


def _glue_tsv(
    path: Path, *, header: bool = True, width: int | None = None
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    # GLUE TSVs are not CSV-quoted: some texts contain unbalanced double quotes.
    return read_delimited(path, delimiter="\t", quoting=csv.QUOTE_NONE, header=header, width=width)


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
        files[0], {"#1 String": "sentence1", "#2 String": "sentence2", "Quality": "label"}, _BINARY
    )


def _read_sst2(files: list[Path]) -> list[dict[str, Any]]:
    return _read_named_tsv(files[0], {"sentence": "sentence", "label": "label"}, _BINARY)


def _read_cola(files: list[Path]) -> list[dict[str, Any]]:
    # No header: source, label, original label (blank), sentence.
    path = files[0]
    _, rows = _glue_tsv(path, header=False, width=4)
    return [
        {"sentence": cols[3], "label": _label_id(cols[1], _BINARY, f"line {n} of {str(path)!r}")}
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
        for lineno, obj in read_jsonl(path):
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


_read_copa = _jsonl_reader(("premise", "choice1", "choice2", "question"), _BINARY)


def _read_wic(files: list[Path]) -> list[dict[str, Any]]:
    # Original WiC release: *.data.txt (word, PoS, "i-j", sentence1, sentence2) + *.gold.txt (T/F).
    data_path, gold_path = files
    _, rows = read_delimited(data_path, delimiter="\t", quoting=csv.QUOTE_NONE, header=False, width=5)
    gold = [(n, g.strip()) for n, g in enumerate(read_text(gold_path).splitlines(), start=1) if g.strip()]
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
    if TASKS.get(spec.name) != spec:
        raise ConfigError(
            f"load_task() loads built-in tasks only ({', '.join(list_tasks())}); task {spec.name!r} "
            "is custom: use custom_task(), which returns its data."
        )
    splits = _resolve_splits(split)
    check_limit(limit)
    if data_dir is None:
        env = os.environ.get(DATA_DIR_ENV)
        data_dir = env if env else None
    if data_dir is not None:
        loaded = _load_offline(spec, Path(data_dir).expanduser(), splits)
    else:
        loaded = _load_hub(spec, splits)
    out = datasets.DatasetDict()
    for name in splits:
        out[name] = limit_dataset(loaded[name], limit, seed, stratify=not spec.is_regression)
    logger.info("loaded task %s: %s", spec.name, ", ".join(f"{k}={v.num_rows}" for k, v in out.items()))
    return out


def _load_offline(spec: TaskSpec, root: Path, splits: Iterable[str]) -> dict[str, datasets.Dataset]:
    if not root.is_dir():
        raise DataError(
            f"data directory {str(root)!r} does not exist; pass the folder holding glue/ and superglue/ "
            f"(data_dir or {DATA_DIR_ENV}), or unset both to load from the Hub"
        )
    source = _OFFLINE[spec.name]
    encode = row_encoder(spec.name)
    features = task_features(spec)
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
    encode = row_encoder(spec.name)
    features = task_features(spec)
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
