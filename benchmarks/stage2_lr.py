"""Does the stage-2 learning rate decide whether a good start beats a random head? Measured on training data only.

The transfer benchmark gives every start the same stage 2: ``T = max(30, 3 epochs)`` steps of 16 at learning
rate 5e-5. At that budget `auto` (``finetune``'s default start) is not better than FT at 2 SE on 6 of its 9
cells. One reading is that in 30-72 steps at 5e-5 the backbone barely moves, whatever the head. This
benchmark asks whether another stage-2 learning rate, the same for both starts, widens the gap.

For each set of the transfer benchmark, each ``k`` and seed, the seed's k-shot sample is drawn as
``benchmarks/transfer.py`` draws it; FT (a random head) and ``auto`` (``finetune(head="auto")``: the zoo head
suggest ranks first, or an imprint) are fine-tuned on it at every learning rate of ``--lrs`` and the transfer
budget, and scored on a **dev split of the training pool** (``--dev`` examples outside the sample, drawn
stratified with the seed, as ``benchmarks/suggest_rank.py`` draws it). The held-out test split of the
transfer benchmark is never read here.

Records: ``results/stage2_lr/runs/<set>/k<k>-seed<seed>.json``, rewritten after each fine-tuning run and
reused on the next start while their settings hash is unchanged (the run resumes).

    HF_HUB_OFFLINE=1 python benchmarks/stage2_lr.py --data-dir ../shared/data
    python benchmarks/stage2_lr.py --report            # the page from the records only
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import suggest_rank  # its dev split of the training pool
import transfer  # benchmarks/transfer.py: its sets, samples, budget and prediction pass
import transfer_report  # its one-line machine

from headzoo.train.records import atomic_write, dumps_json

OUT = transfer.ROOT / "results" / "stage2_lr"
RECORD_VERSION = 1
SETS = ("tweets", "reviews", "debates")
KS = (8, 32)
SEEDS = (0, 1, 2)
LRS = (5e-5, 1e-4, 2e-4)
STARTS = ("ft", "auto")
PAGE = "README.md"


def settings_of(name: str, k: int, seed: int, steps: int, dev: int) -> dict[str, Any]:
    """What a record's hash covers (the learning rates are keys inside the record)."""
    return {"record_version": RECORD_VERSION, "set": name, "k": k, "seed": seed, "budget_steps": steps,
            "batch_size": transfer.BATCH, "max_length": transfer.MAX_LENGTH, "dev_size": dev}


def run_key(start: str, lr: float) -> str:
    """A run's key in its record.

    >>> run_key("auto", 1e-4)
    'auto@0.0001'
    """
    return f"{start}@{lr:g}"


def finetune_start(start: str, task: Any, dev: list[tuple[str, int]], label_map: dict[str, str], seed: int,
                   steps: int, lr: float, scratch: Path) -> dict[str, Any]:
    """Stage 2 from FT's random head or from ``auto`` at learning rate ``lr``, scored on ``dev``."""
    from dataclasses import replace

    settings = replace(transfer.stage2_settings(task[1]["train"].num_rows, steps, seed), learning_rate=lr)
    kwargs: dict[str, Any] = {"settings": settings, "output_dir": scratch}
    if start == "ft":
        kwargs["strategy"] = "ft"
    else:
        kwargs.update(head="auto", label_map=label_map or None)
    result, figures = suggest_rank.finetune_on_dev(task, dev, **kwargs)
    return {**figures, "head": (result.stage1 or {}).get("source")}


def run(name: str, k: int, seed: int, info: dict[str, Any], out: Path, dev_size: int, lrs: list[float],
        command: str) -> Path:
    """Every (start, learning rate) of one (set, k, seed); returns the record's path."""
    steps = transfer.budget_steps(k * len(info["labels"]))
    return run_variants(name, k, seed, info, out, dev_size, settings_of(name, k, seed, steps, dev_size),
                        "learning_rate", lrs, command,
                        lambda start, lr, task, dev, scratch: finetune_start(start, task, dev, info["label_map"],
                                                                             seed, steps, lr, scratch))


def run_variants(name: str, k: int, seed: int, info: dict[str, Any], out: Path, dev_size: int,
                 settings: dict[str, Any], field: str, values: list[Any], command: str,
                 measure: Callable[[str, Any, Any, list[tuple[str, int]], Path], dict[str, Any]]) -> Path:
    """Every (start, value) of one (set, k, seed) not yet in its record; returns the record's path.

    ``settings`` is what the record's hash covers; ``field`` names the setting whose ``values`` vary (a run's
    key is :func:`run_key` of its start and value); ``measure(start, value, task, dev, scratch)`` fine-tunes one
    run and returns its figures. The record is rewritten after each run, so an interrupted group resumes.
    """
    from headzoo.train import machine_info, settings_hash

    key = settings_hash(settings)
    path = out / "runs" / name / f"k{k}-seed{seed}.json"
    record = suggest_rank.resume_record(path, key)
    task, sample, dev = suggest_rank.draw_group(name, info, k, seed, dev_size)
    if not record:
        record = {**settings, "settings_hash": key, "labels": info["labels"], "label_map": info["label_map"],
                  "train_examples": len(sample), "dev_examples": len(dev), "runs": {},
                  "machine": machine_info(), "command": command}
    for value in values:
        for start in STARTS:
            if run_key(start, value) in record["runs"]:
                continue
            scratch = Path(tempfile.mkdtemp(prefix=f"{out.name}-"))
            print(f"{name} k={k} seed={seed}: {start}, {field} {value:g}", flush=True)
            measured = measure(start, value, task, dev, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            record["runs"][run_key(start, value)] = {"start": start, field: value, **measured}
            print(f"    dev accuracy {measured['dev_accuracy']:.4f} ({measured['seconds']:.0f} s)", flush=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, dumps_json(record, indent=1) + "\n")
    return path


# --------------------------------------------------------------------------- the page


def load_records(out: Path) -> list[dict[str, Any]]:
    """Every record under ``out/runs``, sorted by set, k and seed."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "runs").glob("*/*.json"))]
    return sorted(records, key=lambda r: (SETS.index(r["set"]) if r["set"] in SETS else 99, r["k"], r["seed"]))


def paired(records: list[dict[str, Any]], lr: float) -> list[float]:
    """``auto`` minus FT dev accuracy in points, per record that has both at ``lr``.

    >>> rec = {"runs": {"ft@5e-05": {"dev_accuracy": 0.5}, "auto@5e-05": {"dev_accuracy": 0.6}}}
    >>> [round(d, 6) for d in paired([rec], 5e-5)]
    [10.0]
    """
    out = []
    for r in records:
        ft, auto = r["runs"].get(run_key("ft", lr)), r["runs"].get(run_key("auto", lr))
        if ft and auto:
            out.append(100 * (auto["dev_accuracy"] - ft["dev_accuracy"]))
    return out


def accuracies(records: list[dict[str, Any]], start: str, lr: float) -> list[float]:
    """Dev accuracy in percent of ``start`` at ``lr``, per record that has it."""
    return [100 * r["runs"][run_key(start, lr)]["dev_accuracy"] for r in records if run_key(start, lr) in r["runs"]]


def mean_std(values: list[float]) -> str:
    """``mean ± std (n)``, or the one value, or a dash.

    >>> mean_std([1.0, 3.0])
    '2.0 ± 1.4 (2)'
    """
    mean, std = transfer_report.mean_std(values)
    if mean is None:
        return "—"
    return f"{mean:.1f}" + ("" if std is None else f" ± {std:.1f}") + f" ({len(values)})"


def diff_verdict(diffs: list[float]) -> str:
    """Mean paired difference ± its standard error and the 2-SE verdict.

    >>> diff_verdict([4.0, 5.0, 6.0])
    '+5.0 ± 0.6 SE, better'
    >>> diff_verdict([1.0])
    '+1.0 (1 seed), n/a'
    """
    if len(diffs) < 2:
        return f"{diffs[0]:+.1f} (1 seed), n/a" if diffs else "—"
    mean, se = statistics.mean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5
    return f"{mean:+.1f} ± {se:.1f} SE, {transfer_report.se_verdict(mean, se)}"


def render(records: list[dict[str, Any]]) -> str:
    """The page (Markdown) of these records."""
    lrs = sorted({run["learning_rate"] for r in records for run in r["runs"].values()})
    commands = sorted({r["command"] for r in records})
    lines = [
        "<!-- Generated by `python benchmarks/stage2_lr.py --report` from runs/**/*.json. Do not edit by hand. -->",
        "",
        "# Stage-2 learning rate: does it decide whether `auto` beats a random head?",
        "",
        "**Generated file: do not edit by hand.** [`benchmarks/stage2_lr.py`](../../benchmarks/stage2_lr.py) "
        "fine-tunes MiniLM from FT's random head and from `auto` (`finetune`'s default start) on the k-shot "
        "samples of the transfer benchmark, at the transfer budget and at each learning rate below, the same for "
        "both starts, and scores them on a dev split of the **training pool** (never the transfer test split). "
        "Figures: dev accuracy in percent, mean ± sample std over seeds (n); the difference is `auto` minus FT "
        "paired by seed, ± its standard error, with the 2-SE verdict.",
        "",
        f"{len(records)} groups (set, k, seed).",
        "",
        "Command(s): " + "; ".join(f"`{c}`" for c in commands) if commands else (
            "No records yet: `HF_HUB_OFFLINE=1 python benchmarks/stage2_lr.py --data-dir ../shared/data`."),
        "",
        "Machine(s): " + "; ".join(sorted({transfer_report.machine_line(r["machine"]) for r in records})),
        "",
        "## Over every group",
        "",
        "| learning rate | FT | auto | auto − FT (paired) |",
        "|---|---|---|---|",
    ]
    for lr in lrs:
        lines.append(f"| {lr:g} | {mean_std(accuracies(records, 'ft', lr))} | "
                     f"{mean_std(accuracies(records, 'auto', lr))} | {diff_verdict(paired(records, lr))} |")
    lines += ["", "## Per set and k", "", "| set | k | learning rate | FT | auto | auto − FT (paired) |",
              "|---|---|---|---|---|---|"]
    cells = sorted({(r["set"], r["k"]) for r in records}, key=lambda c: (SETS.index(c[0]) if c[0] in SETS else 99,
                                                                          c[1]))
    for name, k in cells:
        group = [r for r in records if (r["set"], r["k"]) == (name, k)]
        for lr in lrs:
            lines.append(f"| {name} | {k} | {lr:g} | {mean_std(accuracies(group, 'ft', lr))} | "
                         f"{mean_std(accuracies(group, 'auto', lr))} | {diff_verdict(paired(group, lr))} |")
    return "\n".join(lines) + "\n"


def write_report(out: Path, render_page: Callable[[list[dict[str, Any]]], str] | None = None) -> Path:
    """Write ``out/README.md`` from the records under ``out/runs`` (with ``render_page``, default this page's
    :func:`render`); returns its path."""
    page = out / PAGE
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(page, (render_page or render)(load_records(out)))
    return page


def main(argv: list[str] | None = None) -> int:
    parser = transfer.plan_parser(__doc__, SETS, KS, SEEDS)
    parser.add_argument("--lrs", default=",".join(f"{lr:g}" for lr in LRS), help="stage-2 learning rates")
    parser.add_argument("--dev", type=int, default=suggest_rank.DEV_SIZE, help="dev examples drawn from the pool")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the records (default results/stage2_lr)")
    parser.add_argument("--report", action="store_true", help="only write the page from the records")
    args = parser.parse_args(argv)
    if not args.report:
        command = transfer.offline_session("stage2_lr.py", argv)
        lrs = [float(x) for x in args.lrs.split(",") if x]
        for name, k, seed, info in suggest_rank.groups(args.sets, args.k, args.seeds, args.data_dir):
            run(name, k, seed, info, args.out, args.dev, lrs, command)
    print(write_report(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
