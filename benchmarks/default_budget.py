"""How much do ``finetune``'s defaults train on a few dozen examples, and what is a floor of steps worth?

``finetune(task)`` counts its budget in epochs: ``T = round(3 epochs * steps per epoch)`` optimizer steps of 32
examples, of which the ``matched`` protocol charges a tenth to the start. On 8 examples per class that is 3
steps; the transfer benchmark, whose figures back the default start, gave every start at least 30 steps of 16.
``FinetuneSettings.min_steps`` puts a floor under ``T``. This benchmark asks what the floor is worth with every
other setting at ``finetune``'s defaults (epochs, batch size, learning rate), under the ``matched`` protocol and
with an evaluation at every epoch boundary (:data:`PINNED`: ``finetune``'s defaults when its records were made;
the ``auto`` start now gets the whole budget by default, which this study has not measured).

For each set of the transfer benchmark, each ``k`` and seed, the seed's k-shot sample is drawn as
the transfer benchmark draws it; FT (``strategy="ft"``) and ``auto`` (``finetune``'s default start) are
fine-tuned on it with every floor of ``--floors`` and scored on a **dev split of the training pool**
(``--dev`` examples outside the sample, drawn by :func:`benchmarks.common.heldout.dev_split`). The held-out
test split of the transfer benchmark is never read here.

Records: ``results/default_budget/runs/<set>/k<k>-seed<seed>.json``, rewritten after each fine-tuning run and
reused on the next start while their settings hash is unchanged (the run resumes).

    HF_HUB_OFFLINE=1 python -m benchmarks.default_budget --data-dir ../shared/data
    python -m benchmarks.default_budget --report            # the page from the records only
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common.dev_study import (
    STARTS,
    Group,
    Variants,
    accuracies,
    finetune_on_dev,
    paired,
    run_key,
    run_variants,
    set_order,
)
from benchmarks.common.dev_study import write_report as write_study_report
from benchmarks.common.heldout import DEV_SIZE, groups, offline_session, plan_parser
from benchmarks.common.pages import machine_line
from benchmarks.common.records import ROOT
from benchmarks.common.stats import diff_verdict, mean_std_text

OUT = ROOT / "results" / "default_budget"
RECORD_VERSION = 1
SETS = ("tweets", "reviews", "debates")
KS = (8, 32)
SEEDS = (0, 1, 2)
FLOORS = (0, 30)
#: The settings the records ran at where ``finetune``'s defaults have changed since.
PINNED = {"protocol": "matched", "eval_strategy": "epoch"}


def settings_of(name: str, k: int, seed: int, dev: int) -> dict[str, Any]:
    """What a record's hash covers (the floors are keys inside the record); every other setting is the default
    (but :data:`PINNED`)."""
    from headzoo import FinetuneSettings

    defaults = FinetuneSettings()
    return {"record_version": RECORD_VERSION, "set": name, "k": k, "seed": seed, "dev_size": dev,
            "epochs": defaults.epochs, "batch_size": defaults.batch_size, "learning_rate": defaults.learning_rate,
            "protocol": PINNED["protocol"], "max_length": defaults.max_length}


def finetune_start(start: str, task: Any, dev: list[tuple[str, int]], label_map: dict[str, str], seed: int,
                   floor: int, scratch: Path) -> dict[str, Any]:
    """``finetune`` at its defaults (but :data:`PINNED`) from FT's random head or from ``auto``, with
    ``min_steps=floor``; scored on dev."""
    kwargs: dict[str, Any] = {"seed": seed, "min_steps": floor, "output_dir": scratch, **PINNED}
    if start == "ft":
        kwargs["strategy"] = "ft"
    else:
        kwargs["label_map"] = label_map or None  # no strategy, method or head: the default start, auto
    result, figures = finetune_on_dev(task, dev, **kwargs)
    return {**figures, "budget_steps": result.budget_steps, "stage1_steps": result.stage1_steps,
            "head": (result.stage1 or {}).get("source")}


def run(group: Group, out: Path, floors: list[int], command: str) -> Path:
    """Every (start, floor) of one (set, k, seed); returns the record's path."""
    label_map, seed = group.info["label_map"], group.seed
    variants = Variants("min_steps", floors,
                        lambda start, floor, task, dev, scratch: finetune_start(start, task, dev, label_map, seed,
                                                                                floor, scratch))
    return run_variants(group, out, settings_of(group.name, group.k, seed, group.dev_size), variants, command)


# --------------------------------------------------------------------------- the page


def steps_seconds(records: list[dict[str, Any]], start: str, floor: int) -> str:
    """The range of budgets in steps and the mean seconds of ``start`` runs at ``floor``.

    >>> rec = {"runs": {"auto@30": {"budget_steps": 30, "seconds": 40.0}}}
    >>> steps_seconds([rec, rec], "auto", 30)
    '30 steps, 40 s'
    """
    runs = [r["runs"][run_key(start, floor)] for r in records
            if run_key(start, floor) in r["runs"]]
    if not runs:
        return "—"
    low, high = min(x["budget_steps"] for x in runs), max(x["budget_steps"] for x in runs)
    steps = f"{low}" if low == high else f"{low}-{high}"
    return f"{steps} steps, {sum(x['seconds'] for x in runs) / len(runs):.0f} s"


def table_rows(records: list[dict[str, Any]], floors: list[int], prefix: str = "") -> list[str]:
    """One row per floor: FT and auto (dev accuracy, steps and time), auto − FT, and each start's floor gain."""
    rows = []
    for floor in floors:
        cells = [f"{mean_std_text(accuracies(records, s, floor))} ({steps_seconds(records, s, floor)})"
                 for s in STARTS]
        gains = [gain(records, s, floors[0], floor) if floor != floors[0] else "—" for s in STARTS]
        rows.append(f"| {prefix}{floor} | {' | '.join(cells)} | "
                    f"{diff_verdict(paired(records, floor))} | {' | '.join(gains)} |")
    return rows


def gain(records: list[dict[str, Any]], start: str, base: int, floor: int) -> str:
    """``start`` at ``floor`` minus ``start`` at ``base``, paired by group, with the 2-SE verdict.

    >>> rec = {"runs": {"ft@0": {"dev_accuracy": 0.4}, "ft@30": {"dev_accuracy": 0.5}}}
    >>> gain([rec], "ft", 0, 30)
    '+10.0 (1 seed), n/a'
    """
    a, b = run_key(start, base), run_key(start, floor)
    diffs = [100 * (r["runs"][b]["dev_accuracy"] - r["runs"][a]["dev_accuracy"]) for r in records
             if a in r["runs"] and b in r["runs"]]
    return diff_verdict(diffs)


def defaults_line(records: list[dict[str, Any]]) -> str:
    """The ``finetune`` settings the records ran at, as the page names them (each distinct one).

    >>> defaults_line([{"epochs": 3, "batch_size": 32, "learning_rate": 5e-5, "protocol": "matched"}])
    '3 epochs of batch 32, learning rate 5e-05, the `matched` protocol'
    """
    lines = sorted({f"{r['epochs']:g} epochs of batch {r['batch_size']}, learning rate {r['learning_rate']:g}, "
                    f"the `{r['protocol']}` protocol" for r in records})
    return "; ".join(lines) if lines else "its defaults"


def render(records: list[dict[str, Any]]) -> str:
    """The page (Markdown) of these records."""
    floors = sorted({run["min_steps"] for r in records for run in r["runs"].values()})
    commands = sorted({r["command"] for r in records})
    head = ("| min_steps | FT | auto | auto − FT (paired) | FT: gain over the first floor | "
            "auto: gain over the first floor |")
    lines = [
        "<!-- Generated by `python -m benchmarks.default_budget --report` from runs/**/*.json. "
        "Do not edit by hand. -->",
        "",
        "# `finetune`'s default budget on a few examples: what a floor of steps is worth",
        "",
        "**Generated file: do not edit by hand.** [`benchmarks/default_budget.py`](../../benchmarks/default_budget.py) "
        f"fine-tunes MiniLM with `finetune`'s defaults ({defaults_line(records)}) from FT's random head and "
        "from `auto` (the default start) on the k-shot samples of the "
        "transfer benchmark, with each floor `min_steps` below, and scores them on a dev split of the **training "
        "pool** (never the transfer test split). Figures: dev accuracy in percent, mean ± sample std over seeds "
        "(n), with the budget in steps and the mean wall seconds of a run (loading, suggest, training and the "
        "pass over the dev split); differences are paired by group, ± their standard error, with the 2-SE verdict.",
        "",
        f"{len(records)} groups (set, k, seed).",
        "",
        "Command(s): " + "; ".join(f"`{c}`" for c in commands) if commands else (
            "No records yet: `HF_HUB_OFFLINE=1 python -m benchmarks.default_budget --data-dir ../shared/data`."),
        "",
        "Machine(s): " + "; ".join(sorted({machine_line(r["machine"]) for r in records})),
        "",
        "## Over every group",
        "",
        head,
        "|---|---|---|---|---|---|",
        *table_rows(records, floors),
        "",
        "## Per set and k",
        "",
        "| set | k " + head,
        "|---|---|---|---|---|---|---|---|",
    ]
    cells = sorted({(r["set"], r["k"]) for r in records},
                   key=lambda c: (set_order(c[0]), c[1]))
    for name, k in cells:
        group = [r for r in records if (r["set"], r["k"]) == (name, k)]
        lines += table_rows(group, floors, prefix=f"{name} | {k} | ")
    return "\n".join(lines) + "\n"


def write_report(out: Path) -> Path:
    """Write ``out/README.md`` from the records under ``out/runs``; returns its path."""
    return write_study_report(out, render)


def main(argv: list[str] | None = None) -> int:
    parser = plan_parser(__doc__, SETS, KS, SEEDS)
    parser.add_argument("--floors", default=",".join(str(f) for f in FLOORS), help="min_steps values to compare")
    parser.add_argument("--dev", type=int, default=DEV_SIZE, help="dev examples drawn from the pool")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the records (default results/default_budget)")
    parser.add_argument("--report", action="store_true", help="only write the page from the records")
    args = parser.parse_args(argv)
    if not args.report:
        command = offline_session("default_budget", argv)
        floors = sorted({int(x) for x in args.floors.split(",") if x})
        for name, k, seed, info in groups(args.sets, args.k, args.seeds, args.data_dir):
            run(Group(name, k, seed, info, args.dev), args.out, floors, command)
    print(write_report(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
