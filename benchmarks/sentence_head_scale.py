"""Which head start lets a sentence-embedding head learn in a few dozen steps?

On a unit-length embedding a linear head needs large weights for confident logits; a head started small and
trained at the backbone's learning rate barely moves. :class:`headzoo.sentence_model.SentenceEmbeddingForSequence\
Classification` multiplies its head's output by a fixed ``head_scale``. This study fine-tunes the whole model
(MiniLM, the sentence-embedding feature) for 60 steps of 16 at learning rate 5e-5 (the transfer benchmark's
stage 2 at k = 32) from:

- ``s1``, ``s20``: a random head (std 0.02, bias 0) at ``head_scale`` 1 and 20;
- ``probe_s1``, ``probe_s20``: a head fitted first on the frozen embeddings (``headzoo.frozen.fit_probe``, the
  sentence kind's ``probe``), at ``head_scale`` 1 and 20 (the same logits at the start);
- ``frozen``: that fitted head alone, no fine-tuning.

Data: k examples per class drawn (seeded) from GLUE SST-2's training file; scored on SST-2's dev file (872
sentences). SST-2 is not one of the transfer benchmark's held-out sets, so nothing here looks at them.

    HF_HUB_OFFLINE=1 python -m benchmarks.sentence_head_scale --data-dir ../shared/data
    python -m benchmarks.sentence_head_scale --report
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common.pages import machine_line, write_page
from benchmarks.common.records import ROOT, machine_info, settings_hash
from benchmarks.common.stats import diff_verdict

OUT = ROOT / "results" / "sentence_head_scale"
VARIANTS = ("s1", "s20", "probe_s1", "probe_s20", "frozen")
KS = (8, 32)
SEEDS = (0, 1, 2)
STEPS, BATCH, LEARNING_RATE, MAX_LENGTH = 60, 16, 5e-5, 128


def read_sst2(path: Path) -> tuple[list[str], list[int]]:
    """The sentences and labels of a GLUE SST-2 TSV file."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["sentence"] for r in rows], [int(r["label"]) for r in rows]


def sample(labels: list[int], k: int, seed: int) -> list[int]:
    """``k`` indices per class, drawn with ``seed``."""
    rng = random.Random(seed)
    return [i for c in sorted(set(labels)) for i in rng.sample([j for j, y in enumerate(labels) if y == c], k)]


def accuracy(model: Any, tokenizer: Any, texts: list[str], labels: list[int]) -> float:
    """Dev accuracy from one prediction pass."""
    import torch

    model.eval()
    right = 0
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            enc = tokenizer(texts[start:start + 64], truncation=True, max_length=MAX_LENGTH, padding=True,
                            return_tensors="pt")
            pred = model(**enc).logits.argmax(-1).tolist()
            right += sum(int(p == y) for p, y in zip(pred, labels[start:start + 64], strict=True))
    return right / len(texts)


def run(variant: str, train: tuple[list[str], list[int]], dev: tuple[list[str], list[int]], seed: int) -> dict:
    """One variant on one sample: dev accuracy at the start and after the steps, and the seconds."""
    import torch
    from datasets import Dataset
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from headzoo.backbone import load_tokenizer, resolve_backbone
    from headzoo.frozen import encode, fit_probe, set_head
    from headzoo.sentence_model import SentenceEmbeddingForSequenceClassification

    ref = resolve_backbone("minilm")
    tokenizer = load_tokenizer(ref)
    torch.manual_seed(seed)
    scale = 1.0 if variant.endswith("s1") else 20.0
    model = SentenceEmbeddingForSequenceClassification.from_backbone(ref.path, num_labels=2, head_scale=scale)
    began = time.perf_counter()
    if variant.startswith("probe") or variant == "frozen":
        set_head(model, *fit_probe(encode(model, tokenizer, train[0]), train[1], 2, seed=seed))
    start_accuracy = accuracy(model, tokenizer, *dev)
    if variant != "frozen":
        data = Dataset.from_dict({"text": train[0], "label": train[1]}).map(
            lambda e: tokenizer(e["text"], truncation=True, max_length=MAX_LENGTH), batched=True,
            remove_columns=["text"])
        args = TrainingArguments(output_dir=tempfile.mkdtemp(prefix="head-scale-"), max_steps=STEPS,
                                 per_device_train_batch_size=BATCH,
                                 learning_rate=LEARNING_RATE, warmup_steps=STEPS // 10, weight_decay=0.01,
                                 save_strategy="no", report_to=[], seed=seed, disable_tqdm=True, use_cpu=True,
                                 logging_strategy="no")
        Trainer(model=model, args=args, train_dataset=data, data_collator=DataCollatorWithPadding(tokenizer)).train()
    seconds = time.perf_counter() - began
    return {"start_accuracy": start_accuracy, "accuracy": accuracy(model, tokenizer, *dev),
            "seconds": round(seconds, 2)}


def render(records: list[dict[str, Any]]) -> str:
    """The page: per k, each variant's dev accuracy, and the head starts against each other paired by seed."""
    by = {(r["k"], r["variant"], r["seed"]): r for r in records}
    lines = ["<!-- Generated by `python -m benchmarks.sentence_head_scale --report`. Do not edit by hand. -->", "",
             "# Sentence-embedding heads: which start learns in a few dozen steps", "",
             f"MiniLM on its declared sentence embedding, fine-tuned whole for {STEPS} steps of {BATCH} at learning "
             f"rate {LEARNING_RATE:g}, on k SST-2 training sentences per class; dev accuracy (%) on SST-2's dev file, "
             f"mean ± std over seeds {', '.join(map(str, SEEDS))}. See the study's docstring for the variants.", ""]
    answer = []
    for k in KS:
        lines += [f"## k = {k}", "", "| start | dev accuracy at the start | after the steps | seconds |",
                  "|---|---|---|---|"]
        for variant in VARIANTS:
            runs = [by[(k, variant, s)] for s in SEEDS if (k, variant, s) in by]
            if not runs:
                continue
            acc = [100 * r["accuracy"] for r in runs]
            first = [100 * r["start_accuracy"] for r in runs]
            sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
            lines.append(f"| {variant} | {statistics.fmean(first):.1f} | {statistics.fmean(acc):.1f} ± {sd:.1f} "
                         f"(n={len(runs)}) | {statistics.fmean(r['seconds'] for r in runs):.1f} |")
        for a, b in (("s20", "s1"), ("probe_s20", "s20"), ("probe_s1", "probe_s20"), ("probe_s20", "frozen")):
            diffs = [100 * (by[(k, a, s)]["accuracy"] - by[(k, b, s)]["accuracy"]) for s in SEEDS
                     if (k, a, s) in by and (k, b, s) in by]
            if diffs:
                answer.append(f"- k={k}: {a} − {b}: {diff_verdict(diffs)}")
        lines.append("")
    first = next((i for i, line in enumerate(lines) if line.startswith("## k =")), len(lines))
    lines[first:first] = ["**Answer**: each pair's difference of dev accuracy (points), paired by seed, with its "
                          "standard error and the 2-SE verdict. The seconds were timed on a machine busy with other "
                          "work: compare them only within a table.", "", *answer, ""] if answer else []
    machines = sorted({machine_line(r["machine"]) for r in records})
    lines += ["Machine(s): " + "; ".join(machines), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sentence_head_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--report", action="store_true", help="only write the page from the records")
    args = parser.parse_args(argv)
    path = OUT / "records.jsonl"  # not runs.jsonl: the suite report reads every results/**/runs.jsonl
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []
    if not args.report:
        import torch

        torch.set_num_threads(2)
        train = read_sst2(args.data_dir / "glue" / "SST-2" / "train.tsv")
        dev = read_sst2(args.data_dir / "glue" / "SST-2" / "dev.tsv")
        done = {r["key"] for r in records}
        for k in KS:
            for seed in SEEDS:
                picked = sample(train[1], k, seed)
                part = ([train[0][i] for i in picked], [train[1][i] for i in picked])
                for variant in VARIANTS:
                    settings = {"k": k, "seed": seed, "variant": variant, "steps": STEPS, "batch": BATCH,
                                "learning_rate": LEARNING_RATE, "max_length": MAX_LENGTH}
                    key = settings_hash(settings)
                    if key in done:
                        continue
                    record = {**settings, "key": key, **run(variant, part, dev, seed), "machine": machine_info(),
                              "command": "HF_HUB_OFFLINE=1 python -m benchmarks.sentence_head_scale "
                                         "--data-dir ../shared/data"}
                    OUT.mkdir(parents=True, exist_ok=True)
                    with open(path, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps(record, sort_keys=True) + "\n")
                    records.append(record)
                    print(f"k={k} seed={seed} {variant}: {record['accuracy']:.4f} ({record['seconds']} s)",
                          flush=True)
    write_page(OUT / "README.md", render(records))
    print(OUT / "README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
