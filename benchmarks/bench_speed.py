"""Training throughput: headzoo's stages against a plain fixed-padding Trainer reference.

Measures, in one run on one machine, on the real MiniLM backbone and real
GLUE / SuperGLUE data (``--data-dir``, default ../shared/data):

- ``reference``: transformers' ``Trainer`` fed the same tokenised data padded to
  a fixed ``max_length`` of 128 (what the classic GLUE example script does):
  ``default_data_collator``, random sampling;
- ``ft``: headzoo's full fine-tuning (dynamic padding, length grouping);
- ``lora`` / ``bitfit`` / ``ia3`` / ``prefix`` / ``probe``: headzoo's stage 1
  with each method (its preset learning rate);
- ``eh-ft`` vs ``ft`` end to end under the ``matched`` protocol
  (``headzoo.train.finetune``: model loading, stage 1, stage 2 and per-epoch
  evaluation included).

Every stage runs in a fresh subprocess over exactly ``--epochs`` epochs of the
same random training subset (``--n-train`` examples, so length grouping
covers whole epochs), batch 32, and reports training examples/s (the
``Trainer.train`` wall time, set-up excluded) and the process's peak RSS.

The speed goals it prints (issue 6): FT ≥ 1.5x the reference on RTE and MRPC;
stage-1 LoRA ≥ 1.25x headzoo's FT; the probe stage ≥ 3x FT; EH-FT's total
wall time ≤ FT's under ``matched``.

Run:  HF_HUB_OFFLINE=1 python -m benchmarks.bench_speed --tasks rte,mrpc --out results/bench_speed.md
      HF_HUB_OFFLINE=1 python -m benchmarks.bench_speed --stages ft,lora --repeats 3 --e2e-epochs 0   # medians
      HF_HUB_OFFLINE=1 python -m benchmarks.bench_speed --scaling --tasks rte --out results/bench_scaling.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common.pages import machine_versions
from benchmarks.common.processes import spawn_child
from benchmarks.common.records import ROOT, machine_info

STAGES = ("reference", "ft", "lora", "bitfit", "ia3", "prefix", "probe")
#: Extra stages, run only when ``--stages`` names them: ``lora-dropout`` is LoRA with ``lora_dropout=0.1``
#: (headzoo's default until 2026-11-26; the default is now peft's 0).
EXTRA_STAGES = ("lora-dropout",)
GOALS = {"ft_vs_reference": 1.5, "lora_vs_ft": 1.25, "probe_vs_ft": 3.0}
REPO = ROOT


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(kb / 1024, 1)


def _subset(data: Any, n_train: int) -> Any:
    if len(data.train) > n_train:
        data.train = data.train.shuffle(seed=0).select(range(n_train))
        data.info = {**data.info, "train_size": n_train}
    return data


def _timer_callback() -> Any:
    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.start = time.perf_counter()

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.seconds = time.perf_counter() - self.start

    return Timer()


def _one_stage(stage: str, task: str, data_dir: str, n_train: int, epochs: float, batch_size: int,
               max_length: int) -> dict[str, Any]:
    """Train one stage for ``epochs`` epochs of ``n_train`` examples; return examples/s and peak RSS."""
    import torch
    from transformers.utils import logging as hf_logging

    from headzoo.pet import prepare
    from headzoo.train import (
        PRESETS,
        FinetuneSettings,
        Stage1Settings,
        StageSpec,
        build_model,
        has_accelerator,
        make_trainer,
        prepare_data,
        steps_per_epoch,
    )

    hf_logging.set_verbosity_error()
    data = _subset(prepare_data(task, "minilm", data_dir=data_dir, limit=None, max_length=max_length), n_train)
    steps = max(1, round(epochs * steps_per_epoch(len(data.train), batch_size)))
    model = build_model(data, seed=0)
    timer = _timer_callback()
    if stage == "reference":
        from transformers import Trainer, TrainingArguments, default_data_collator

        padded = _reference_dataset(task, data_dir, data.tokenizer, max_length, n_train)
        args = TrainingArguments(output_dir=os.environ["BENCH_TMP"], per_device_train_batch_size=batch_size,
                                 max_steps=steps, learning_rate=5e-5, report_to="none", disable_tqdm=True,
                                 save_strategy="no", eval_strategy="no", logging_strategy="no", seed=0,
                                 use_cpu=not has_accelerator())  # the same device as headzoo's stages
        trainer = Trainer(model=model, args=args, train_dataset=padded, data_collator=default_data_collator,
                          callbacks=[timer])
    else:
        # every stage trains with the same batch, warmup 0.1, weight decay 0.01, clipping 1.0, seed 0, length-grouped
        common = {"batch_size": batch_size, "max_length": max_length, "warmup_ratio": 0.1, "weight_decay": 0.01,
                  "max_grad_norm": 1.0, "seed": 0, "group_by_length": True}
        settings: FinetuneSettings | Stage1Settings
        if stage == "ft":
            settings = FinetuneSettings(**common)
            trainable, lr = model, 5e-5
        else:
            method = "lora" if stage == "lora-dropout" else stage
            settings = Stage1Settings(method=method, **common,
                                      **({"lora_dropout": 0.1} if stage == "lora-dropout" else {}))
            trainable, lr = prepare(model, method, settings), PRESETS["headzoo"][method]
        trainer = make_trainer(trainable, data, Path(os.environ["BENCH_TMP"]), settings,
                               StageSpec(run_name=f"bench-{stage}", max_steps=steps, learning_rate=lr),
                               progress=False, callbacks=[timer])
    n_params = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    trainer.train()
    examples = min(steps * batch_size, round(epochs * len(data.train)))
    return {"stage": stage, "task": task, "steps": steps, "examples": examples, "seconds": round(timer.seconds, 3),
            "examples_per_second": round(examples / timer.seconds, 2), "peak_rss_mb": _peak_rss_mb(),
            "trainable_parameters": n_params, "threads": torch.get_num_threads()}


def _reference_dataset(task: str, data_dir: str, tokenizer: Any, max_length: int, n_train: int) -> Any:
    """The same training subset, tokenised with ``padding="max_length"`` (the GLUE example script's way)."""
    from headzoo.tasks import load_task

    raw = load_task(task, data_dir)["train"]
    if len(raw) > n_train:
        raw = raw.shuffle(seed=0).select(range(n_train))
    pair = "text_b" in raw.column_names

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        texts = (batch["text_a"], batch["text_b"]) if pair else (batch["text_a"],)
        enc = tokenizer(*texts, truncation=True, max_length=max_length, padding="max_length")
        enc["labels"] = batch["label"]
        return enc

    return raw.map(encode, batched=True, remove_columns=raw.column_names)


def _end_to_end(strategy: str, task: str, data_dir: str, n_train: int, epochs: float,
                data_order: str | None = None, seed: int = 0) -> dict[str, Any]:
    """``finetune`` under ``matched`` on the subset, everything included.

    The subset (``n_train`` examples of every split) is drawn with seed 0 whatever ``seed`` is, so every pair
    trains on the same examples and ``--e2e-vary-seed`` moves the data order and the init only
    (``finetune(limit=n, seed=s)`` would draw subset ``s``).
    """
    from transformers.utils import logging as hf_logging

    from headzoo.tasks import get_task, load_task
    from headzoo.train import finetune

    hf_logging.set_verbosity_error()
    start = time.perf_counter()
    spec = get_task(task)
    subset = (spec, load_task(spec, data_dir, limit=n_train, seed=0))
    result = finetune(subset, "minilm", strategy=strategy, method="lora" if strategy == "eh-ft" else None,
                      epochs=epochs, seed=seed, output_dir=os.environ["BENCH_TMP"], save_checkpoints=False,
                      eval_strategy="epoch",  # the evaluations its records were timed with
                      **({"data_order": data_order} if data_order else {}))
    wall = time.perf_counter() - start
    return {"stage": f"e2e-{strategy}", "task": task, "seconds": round(wall, 3),
            "stage1_seconds": result.stage1_seconds, "stage2_seconds": result.stage2_seconds,
            "stage1_steps": result.stage1_steps, "stage2_steps": result.stage2_steps,
            "final": result.final_main, "peak_rss_mb": _peak_rss_mb(),
            "data_order": result.settings.get("data_order"), "seed": seed}


def _trace_steps() -> list[tuple[str, Any, float]]:
    """Make every ``Trainer`` log (run name, batch shape, seconds) per training step and (run name, "eval",
    seconds) per evaluation into the returned list (used by ``python -m benchmarks.bench_order --trace``)."""
    import transformers

    log: list[tuple[str, Any, float]] = []
    step, evaluate = transformers.Trainer.training_step, transformers.Trainer.evaluate

    def training_step(self: Any, model: Any, inputs: Any, *a: Any, **k: Any) -> Any:
        start = time.perf_counter()
        out = step(self, model, inputs, *a, **k)
        log.append((self.args.run_name, tuple(inputs["input_ids"].shape), time.perf_counter() - start))
        return out

    def timed_evaluate(self: Any, *a: Any, **k: Any) -> Any:
        start = time.perf_counter()
        out = evaluate(self, *a, **k)
        log.append((self.args.run_name, "eval", time.perf_counter() - start))
        return out

    transformers.Trainer.training_step = training_step
    transformers.Trainer.evaluate = timed_evaluate
    return log


def _trace_totals(log: list[tuple[str, Any, float]]) -> dict[str, dict[str, float]]:
    """Per Trainer run: steps, padded tokens, training and evaluation seconds."""
    runs: dict[str, dict[str, float]] = {}
    for name, shape, seconds in log:
        r = runs.setdefault(name, {"steps": 0, "padded_tokens": 0, "train_s": 0.0, "eval_s": 0.0})
        if shape == "eval":
            r["eval_s"] += seconds
        else:
            r["steps"] += 1
            r["padded_tokens"] += shape[0] * shape[1]
            r["train_s"] += seconds
    return runs


def _child(argv: list[str]) -> None:
    spec = json.loads(argv[0])
    trace = _trace_steps() if spec.get("trace") else None
    if spec["stage"].startswith("e2e-"):
        out = _end_to_end(spec["stage"][4:], spec["task"], spec["data_dir"], spec["n_train"], spec["e2e_epochs"],
                          spec.get("data_order"), spec.get("seed", 0))
    else:
        out = _one_stage(spec["stage"], spec["task"], spec["data_dir"], spec["n_train"], spec["epochs"],
                         spec["batch_size"], spec["max_length"])
    if trace is not None:
        out["trace"] = _trace_totals(trace)
        out["padded_tokens"] = sum(int(r["padded_tokens"]) for r in out["trace"].values())
    print("RESULT " + json.dumps(out), flush=True)




def _versions() -> str:
    import peft

    return machine_versions(machine_info(), peft.__version__, accelerator=False)


def _times(value: float | None) -> str:
    """A ratio as ``1.23x``, or ``-`` when there is none (a stage left out of the run)."""
    return "-" if value is None else f"{value:.2f}x"


def _stage_runs(results: list[dict[str, Any]], task: str) -> dict[str, list[dict[str, Any]]]:
    """The stage measurements of ``task`` (not the end-to-end runs), by stage, in round order."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(results, key=lambda r: int(r.get("repeat", 0))):
        if r["task"] == task and not r["stage"].startswith("e2e-"):
            runs.setdefault(r["stage"], []).append(r)
    return runs


def _median_ratio(runs: dict[str, list[dict[str, Any]]], stage: str,
                  base: str) -> tuple[float | None, list[float]]:
    """The median over rounds of ``stage``'s examples/s over ``base``'s in the same round, and each round's."""
    per_round = {s: {int(r.get("repeat", 0)): r["examples_per_second"] for r in runs.get(s, [])} for s in (stage, base)}
    ratios = [per_round[stage][i] / per_round[base][i] for i in sorted(per_round[stage])
              if per_round[base].get(i)]
    return (round(statistics.median(ratios), 2) if ratios else None), ratios


def _rounds(stages: list[str], n: int) -> list[tuple[str, int]]:
    """``n`` rounds of ``stages`` as (stage, round), the order reversed in odd rounds so that drift hits all."""
    return [(stage, i) for i in range(n) for stage in (stages if i % 2 == 0 else stages[::-1])]


def report(results: list[dict[str, Any]], args: argparse.Namespace, command: str,
           rendered_from: Path | None = None) -> tuple[str, list[Any]]:
    """The Markdown report of a run: examples/s per stage, ratios against the goals, peak RSS.

    ``rendered_from``: the .json the results were read back from (``--render``), said in place of the date.
    """
    now = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    when = (f"Report rewritten from `{rendered_from}` (`--render`), not re-measured; date of the rewrite: {now}"
            if rendered_from is not None else f"Date: {now}")
    lines = [
        "# Training throughput (generated by benchmarks/bench_speed.py)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {_versions()}  ",
        when,
        "",
        f"Each stage: a fresh process, {args.epochs:g} epoch(s) of the same {args.n_train} random training "
        f"examples, batch {args.batch_size}, max_length {args.max_length}, MiniLM-L6; examples/s over "
        "`Trainer.train` (set-up excluded).",
        "",
    ]
    verdicts = []
    for task in args.tasks:
        runs = _stage_runs(results, task)
        rounds = max((len(v) for v in runs.values()), default=0)
        lines += [f"## {task}", ""]
        if rounds > 1:
            lines += [f"{rounds} rounds, each running every stage in a fresh process (stage order reversed in odd "
                      "rounds, so that drift in the machine's speed hits all); examples/s and seconds are medians "
                      "over the rounds, ratios the median of the ratios within each round.", ""]
        if runs:
            lines += ["| stage | examples/s | vs reference | vs headzoo FT | trainable params | peak RSS MB | seconds |"
                      + (" examples/s per round |" if rounds > 1 else ""),
                      "|---|---|---|---|---|---|---|" + ("---|" if rounds > 1 else "")]
        for stage in STAGES + EXTRA_STAGES:
            if stage not in runs:
                continue
            rs = runs[stage]
            eps = statistics.median(r["examples_per_second"] for r in rs)
            line = (f"| {stage} | {eps:.2f} | {_times(_median_ratio(runs, stage, 'reference')[0])} | "
                    f"{_times(_median_ratio(runs, stage, 'ft')[0])} | {rs[0]['trainable_parameters']:,} | "
                    f"{max(r['peak_rss_mb'] for r in rs):.0f} | {statistics.median(r['seconds'] for r in rs):.1f} |")
            if rounds > 1:
                line += " " + ", ".join(f"{r['examples_per_second']:.2f}" for r in rs) + " |"
            lines.append(line)
        checks = []
        for name, stage, base, goal in (("headzoo FT vs reference", "ft", "reference", "ft_vs_reference"),
                                        ("stage-1 LoRA vs headzoo FT", "lora", "ft", "lora_vs_ft"),
                                        ("probe stage vs headzoo FT", "probe", "ft", "probe_vs_ft")):
            value, ratios = _median_ratio(runs, stage, base)
            if value is not None:
                checks.append((name, value, GOALS[goal], ratios))
        if checks:
            lines += ["", "| goal | measured | target | met |" + (" per round |" if rounds > 1 else ""),
                      "|---|---|---|---|" + ("---|" if rounds > 1 else "")]
        for name, value, goal, ratios in checks:
            met = value >= goal
            verdicts.append((task, name, value, goal, met))
            lines.append(f"| {name} | {value:.2f}x | ≥ {goal}x | {'yes' if met else '**no**'} |"
                         + (" " + ", ".join(f"{x:.2f}x" for x in ratios) + " |" if rounds > 1 else ""))
        lines += _e2e_lines(task, results, args, verdicts)
        lines.append("")
    return "\n".join(lines) + "\n", verdicts


def _e2e_lines(task: str, results: list[dict[str, Any]], args: argparse.Namespace,
               verdicts: list[Any]) -> list[str]:
    """FT against EH-FT(LoRA) end to end: every pair, the medians and the median of the pairwise ratios."""
    runs = [r for r in results if r["task"] == task and r["stage"].startswith("e2e-")]
    pairs: dict[int, dict[str, dict[str, Any]]] = {}
    for r in runs:
        pairs.setdefault(int(r.get("repeat", 0)), {})[r["stage"]] = r
    pairs = {i: p for i, p in pairs.items() if "e2e-ft" in p and "e2e-eh-ft" in p}
    if not pairs:
        return []
    orders = sorted({str(p["e2e-eh-ft"].get("data_order")) for p in pairs.values()})
    lines = ["", f"End to end, `finetune(..., protocol='matched')`, EH-FT's data order "
             f"{', '.join(f'`{o}`' for o in orders)}, {args.e2e_epochs:g} epochs of {args.n_train} "
             "examples with evaluation after every epoch, each run a fresh process (imports, data, model loading "
             f"included); {len(pairs)} pair(s), run alternately (FT first in even pairs, EH-FT first in odd ones) "
             "so that drift in the machine's speed hits both. Padded tokens: the training batches' "
             "batch x length, summed over both stages (traced per step; '-' where not traced).", "",
             "| pair | seed | run | wall s | stage-1 steps / s | stage-2 steps / s | padded tokens | final metric | "
             "peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    ratios = []
    for i, pair in sorted(pairs.items()):
        for name in ("e2e-ft", "e2e-eh-ft"):
            r = pair[name]
            tokens = f"{r['padded_tokens']:,}" if "padded_tokens" in r else "-"
            lines.append(f"| {i} | {r.get('seed', 0)} | {name[4:].upper()} | {r['seconds']:.1f} | "
                         f"{r['stage1_steps']} / "
                         f"{r['stage1_seconds']:.1f} | {r['stage2_steps']} / {r['stage2_seconds']:.1f} | "
                         f"{tokens} | {r['final']:.4f} | {r['peak_rss_mb']:.0f} |")
        ratios.append(pair["e2e-eh-ft"]["seconds"] / pair["e2e-ft"]["seconds"])
    ratio = statistics.median(ratios)
    ft_med = statistics.median(p["e2e-ft"]["seconds"] for p in pairs.values())
    eh_med = statistics.median(p["e2e-eh-ft"]["seconds"] for p in pairs.values())
    met = ratio <= 1.0
    verdicts.append((task, "EH-FT(LoRA) wall ≤ FT wall (matched)", round(ratio, 3), 1.0, met))
    faster = sum(x < 1.0 for x in ratios)
    interval = _median_interval(ratios)
    lines.append(f"\nEH-FT total wall ≤ FT's: {'yes' if met else '**no**'}: EH-FT / FT wall, median of the pairs "
                 f"{ratio:.3f} (pairs: {', '.join(f'{x:.3f}' for x in ratios)}); median wall {eh_med:.1f} s vs "
                 f"{ft_med:.1f} s. EH-FT was faster in {faster} of {len(ratios)} pairs (two-sided sign test "
                 f"p = {_sign_test(faster, sum(x != 1.0 for x in ratios)):.2f}); "
                 + (f"a distribution-free interval for the median ratio, at least 95%: {interval[0]:.4f} to "
                    f"{interval[1]:.4f}" + (" (below 1: EH-FT is faster)" if interval[1] < 1.0 else
                                            " (above 1: EH-FT is slower)" if interval[0] > 1.0 else
                                            " (it holds 1: no difference shown)")
                    if interval else f"{len(ratios)} pairs are too few for a 95% interval of the median (6 at least)"))
    parts = _e2e_components(list(pairs.values()))
    if parts:
        lines.append(
            f"\nWhere the difference comes from (traced runs; medians over the pairs): within each EH-FT process, "
            f"stage 1 cost {parts['s1_vs_s2']:.2f}x stage 2 per padded token, which saved {parts['saving']:.1f} s; "
            f"EH-FT's stage-2 steps cost {parts['s2_vs_ft']:.3f}x FT's per padded token (a different process); its "
            f"extra set-up (second model load, PEFT, stage-1 Trainer) cost {parts['setup']:+.1f} s and its "
            f"evaluations {parts['eval']:+.1f} s. Net of saving and set-up alone, EH-FT / FT would be "
            f"{parts['estimate']:.3f}. FT's own training speed ranged {parts['ft_low']:.0f} to {parts['ft_high']:.0f} "
            "ms per 1,000 padded tokens between its runs, a spread several times that expected difference.")
    return lines


def _half_binomial_cdf(n: int, k: int) -> float:
    """P(Binom(n, 1/2) <= k)."""
    return sum(math.comb(n, j) for j in range(k + 1)) / 2**n


def _sign_test(wins: int, n: int) -> float:
    """Two-sided sign-test p-value of ``wins`` out of ``n`` non-tied pairs.

    Example:
        >>> round(_sign_test(11, 15), 3)
        0.118
    """
    if n == 0:
        return 1.0
    return min(1.0, 2 * _half_binomial_cdf(n, min(wins, n - wins)))


def _median_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """Distribution-free interval for the median: order statistics k and n+1-k, the widest k whose binomial
    tail P(Binom(n, 1/2) < k) is at most (1 - level) / 2 (so the coverage is at least ``level``).

    Example:
        >>> _median_interval([float(x) for x in range(1, 16)])
        (4.0, 12.0)
    """
    n = len(values)
    alpha = (1 - level) / 2
    ks = [k for k in range(1, n // 2 + 1) if _half_binomial_cdf(n, k - 1) <= alpha]
    if not ks:
        return None
    xs = sorted(values)
    return xs[ks[-1] - 1], xs[n - ks[-1]]


def _e2e_components(pairs: list[dict[str, dict[str, Any]]]) -> dict[str, float] | None:
    """Split the EH-FT / FT difference of traced pairs into stage-1 saving, set-up and evaluation (medians)."""
    def split(run: dict[str, Any]) -> tuple[dict[str, float], dict[str, float], float]:
        trace = run["trace"]
        stage1 = next((v for k, v in trace.items() if "-stage1-" in k), {"train_s": 0.0, "padded_tokens": 0})
        stage2 = next(v for k, v in trace.items() if "-stage2-" in k)
        other = run["seconds"] - sum(v["train_s"] + v["eval_s"] for v in trace.values())
        return stage1, stage2, other

    rows = []
    for pair in pairs:
        ft, eh = pair["e2e-ft"], pair["e2e-eh-ft"]
        if "trace" not in ft or "trace" not in eh:
            return None
        _, ft2, ft_other = split(ft)
        s1, s2, eh_other = split(eh)
        s2_rate, ft_rate = s2["train_s"] / s2["padded_tokens"], ft2["train_s"] / ft2["padded_tokens"]
        saving = s1["padded_tokens"] * s2_rate - s1["train_s"]
        rows.append({"s1_vs_s2": s1["train_s"] / s1["padded_tokens"] / s2_rate, "s2_vs_ft": s2_rate / ft_rate,
                     "saving": saving, "setup": eh_other - ft_other, "eval": s2["eval_s"] - ft2["eval_s"],
                     "estimate": 1 - (saving - (eh_other - ft_other)) / ft["seconds"], "ft_rate": 1e6 * ft_rate})
    out = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "ft_rate"}
    return {**out, "ft_low": min(r["ft_rate"] for r in rows), "ft_high": max(r["ft_rate"] for r in rows)}


def scaling(args: argparse.Namespace, tmp: Path, command: str) -> str:
    """FT's cost at 3 training-set sizes and 3 ``max_length`` values (one epoch each), as Markdown."""
    sizes = [args.n_train // 2, args.n_train, args.n_train * 2]
    lengths = [64, 128, 256]
    rows = []
    for task in args.tasks:
        seen: dict[tuple[int, int], dict[str, Any]] = {}
        for n, length in [(n, args.max_length) for n in sizes] + [(args.n_train, length) for length in lengths]:
            if (n, length) in seen:
                continue
            spec = {"data_dir": args.data_dir, "n_train": n, "epochs": 1.0, "batch_size": args.batch_size,
                    "max_length": length, "e2e_epochs": 0, "stage": "ft", "task": task}
            r = spawn_child("bench_speed", spec, tmp / f"{task}-{n}-{length}")
            r.update(n_train=n, max_length=length)
            print(json.dumps(r), flush=True)
            seen[(n, length)] = r
            rows.append(r)
    lines = ["# How FT's cost grows (generated by benchmarks/bench_speed.py --scaling)", "",
             f"Command: `{command}`  ", f"Machine: {_versions()}  ",
             f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "One epoch of headzoo FT (dynamic padding, length grouping, batch "
             f"{args.batch_size}) per row, each in a fresh process; `Trainer.train` seconds.", "",
             "| task | train examples | max_length | seconds | examples/s | s per 1,000 examples | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['n_train']} | {r['max_length']} | {r['seconds']:.1f} | "
                     f"{r['examples_per_second']:.1f} | {1000 * r['seconds'] / r['examples']:.1f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="rte,mrpc", help="comma-separated tasks (default rte,mrpc)")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated stages")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--n-train", type=int, default=640, help="training examples per stage")
    parser.add_argument("--epochs", type=float, default=1.0, help="epochs per stage")
    parser.add_argument("--e2e-epochs", type=float, default=2.0, help="epochs of the end-to-end FT / EH-FT runs "
                        "(0 skips them)")
    parser.add_argument("--data-order", default=None, choices=("continue", "restart"),
                        help="EH-FT's data order in the end-to-end runs (default: finetune's, continue)")
    parser.add_argument("--e2e-vary-seed", action="store_true",
                        help="end-to-end pair i runs seed i (data order, init) instead of seed 0 in every pair")
    parser.add_argument("--e2e-repeats", type=int, default=3,
                        help="pairs of end-to-end FT / EH-FT runs, alternated; the median ratio is the figure")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of the stages (order reversed in odd rounds); medians are the figures")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report here")
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="only rewrite the report from the .json of an earlier run (same other arguments)")
    parser.add_argument("--scaling", action="store_true", help="instead: FT at n-train/2, n-train, 2 x n-train "
                        "examples and at max_length 64, 128, 256")
    args = parser.parse_args(argv)
    args.tasks = [t for t in args.tasks.split(",") if t]
    stages = [s for s in args.stages.split(",") if s]
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="headzoo-speed-"))
    if args.scaling:
        text = scaling(args, tmp, "HF_HUB_OFFLINE=1 python -m benchmarks.bench_speed " + shlex.join(argv))
        print(text)
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")
        return 0
    if args.render is not None:
        argv = [a for i, a in enumerate(argv) if a != "--render" and (i == 0 or argv[i - 1] != "--render")
                and not a.startswith("--render=")]
        text, _ = report(json.loads(args.render.read_text(encoding="utf-8")), args,
                         "HF_HUB_OFFLINE=1 python -m benchmarks.bench_speed " + shlex.join(argv), args.render)
        print(text)
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")
        return 0
    results = []
    base = {"data_dir": args.data_dir, "n_train": args.n_train, "epochs": args.epochs,
            "batch_size": args.batch_size, "max_length": args.max_length, "e2e_epochs": args.e2e_epochs,
            "data_order": args.data_order}
    for task in args.tasks:
        plan = _rounds(stages, args.repeats)
        if args.e2e_epochs > 0:
            plan += _rounds(["e2e-ft", "e2e-eh-ft"], args.e2e_repeats)
        for stage, repeat in plan:
            spec = {**base, "stage": stage, "task": task, "trace": stage.startswith("e2e-"),  # tokens per run
                    "seed": repeat if args.e2e_vary_seed and stage.startswith("e2e-") else 0}
            r = {**spawn_child("bench_speed", spec, tmp), "repeat": repeat}
            print(json.dumps(r), flush=True)
            results.append(r)
    command = "HF_HUB_OFFLINE=1 python -m benchmarks.bench_speed " + shlex.join(argv)
    text, verdicts = report(results, args, command)
    print(text)
    met = sum(1 for v in verdicts if v[-1])
    print(f"goals met: {met} of {len(verdicts)}")
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
