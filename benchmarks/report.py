"""Write ``results/README.md`` and ``results/plots/*.png`` from every ``results/**/runs.jsonl``.

Nothing on the page is typed by hand: every number of ours comes from the run
records that :func:`headzoo.train.compare` appended (via ``benchmarks/suite.py``);
the paper's RoBERTa-large numbers are the constant :data:`PAPER` below. Records
are grouped by task, by protocol (``result.protocol``) and by settings: runs with
the suite's settings for their task (``suite.TASKS``, matched as the suite matches
them) fill the main tables; any other settings found are listed apart. FT has no
stage 1, so its runs are the same under both protocols and serve as the baseline
of both. Tasks and rows without runs say "not run yet".

Records of another ``headzoo.train.RECORD_VERSION`` are superseded: listed apart, as
``record_version N``, and the suite runs them again.

Example:
    python -m benchmarks.report                       # results/ -> results/README.md + results/plots/
    python -m benchmarks.report --results /tmp/r      # another results root
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import suite_plan as suite
from benchmarks.common.pages import figure, machine_label, write_page
from benchmarks.common.records import record_version
from benchmarks.common.stats import VERDICT_SE, mean_std

#: The paper's dev-set results, RoBERTa-large (Yang et al., "Parameter-Efficient Tuning Makes a Good
#: Classification Head", EMNLP 2022, arXiv 2210.16771; the results table as in ../shared/PAPER.md).
#: The paper's numbers, not ours: best dev value, x100 (CoLA Matthews correlation, STS-B Pearson).
PAPER: dict[str, dict[str, float]] = {
    "FT": {"rte": 87.52, "boolq": 86.32, "copa": 93.75, "cb": 94.64, "wic": 73.90, "mrpc": 90.81,
           "qnli": 94.75, "cola": 68.72, "stsb": 92.27, "avg": 86.96},
    "EH-FT(BitFit)": {"rte": 88.10, "boolq": 86.97, "copa": 94.75, "cb": 99.12, "wic": 75.20, "mrpc": 91.00,
                      "qnli": 94.61, "cola": 68.78, "stsb": 92.25, "avg": 87.86},
    "EH-FT(LoRA)": {"rte": 88.68, "boolq": 86.69, "copa": 94.5, "cb": 99.12, "wic": 74.65, "mrpc": 91.00,
                    "qnli": 94.73, "cola": 69.00, "stsb": 92.24, "avg": 87.85},
}
#: A row "beats FT" when its mean exceeds FT's by more than this many standard errors of the difference.
#: The main metric of each task (as headzoo.tasks defines it), for tasks without records yet.
MAIN_METRIC: dict[str, str] = {"cola": "matthews_correlation", "stsb": "pearson"}
PAGE = "README.md"
PLOTS = "plots"
COLORS = {"any": "black", "matched": "tab:blue", "zoo": "tab:orange"}


# --------------------------------------------------------------------------- records


@dataclass
class Run:
    """One finished run, as its record in a ``runs.jsonl`` holds it."""

    key: str
    source: str
    result: dict[str, Any]
    #: settings in which the run differs from the suite's plan (``suite.settings_differences``), set by
    #: :func:`build_views`; None for runs outside the suite's tasks and protocols
    differences: list[str] | None = field(default=None, compare=False)
    #: the runs.jsonl line's ``record_version`` (``headzoo.train.record_version``: 1 when it has none)
    version: int = field(default=1, compare=False)

    @property
    def task(self) -> str:
        return str(self.result["task"])

    @property
    def main(self) -> str:
        return str(self.result["main_metric"])

    @property
    def final(self) -> float | None:
        value = (self.result.get("final") or {}).get(self.main)
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def best(self) -> float | None:
        value = (self.result.get("best") or {}).get(self.main)
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def settings(self) -> dict[str, Any]:
        return self.result.get("settings") or {}

    @property
    def wall(self) -> float:
        value = self.result.get("wall_seconds")
        if isinstance(value, (int, float)):
            return float(value)
        return float(self.result.get("stage1_seconds") or 0) + float(self.result.get("stage2_seconds") or 0)

    @property
    def head_seconds(self) -> float | None:
        """Stage-1 seconds: trained in the run (matched) or, for a zoo head, what making it took."""
        stage1 = self.result.get("stage1") or {}
        if stage1.get("source") in ("zoo", "given"):
            value = stage1.get("wall_seconds")
            return float(value) if isinstance(value, (int, float)) else None
        return float(self.result.get("stage1_seconds") or 0.0) if stage1 else None


@dataclass
class Records:
    """Every run found under a results root."""

    runs: list[Run]
    files: dict[str, int]
    skipped: list[str] = field(default_factory=list)


REQUIRED = ("task", "strategy", "seed", "protocol", "main_metric", "final", "best", "settings")


def load_records(results: Path) -> Records:
    """Read every ``runs.jsonl`` under ``results`` (sorted paths); a run key seen twice counts once."""

    runs: list[Run] = []
    files: dict[str, int] = {}
    skipped: list[str] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(results.rglob("runs.jsonl")):
        rel = _rel(path, results)
        files[rel] = 0
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                result = entry["result"]
                missing = [k for k in REQUIRED if k not in result]
                if missing:
                    raise KeyError(", ".join(missing))
                key = str(entry.get("key") or f"{result['strategy']}|{result.get('method') or '-'}|"
                          f"{result['seed']}|{result.get('settings_hash')}")
            except (ValueError, KeyError, TypeError) as exc:
                skipped.append(f"{rel} line {lineno}: {exc!s}")
                continue
            if (result["task"], key) in seen:
                continue
            seen.add((result["task"], key))
            runs.append(Run(key=key, source=rel, result=result, version=record_version(entry)))
            files[rel] += 1
    return Records(runs, files, skipped)


def _rel(path: Path, results: Path) -> str:
    try:
        return path.relative_to(results.parent).as_posix()
    except ValueError:
        return path.as_posix()


# --------------------------------------------------------------------------- rows and statistics


@dataclass
class Row:
    """One line of a task table: a strategy (and method) under a protocol (``"any"`` for FT)."""

    strategy: str
    method: str | None
    protocol: str
    planned: int
    runs: list[Run] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.strategy == "eh-ft":
            return f"EH-FT ({self.method})"
        return self.strategy.upper()

    @property
    def protocol_label(self) -> str:
        return "both (no stage 1)" if self.protocol == "any" else self.protocol

    @property
    def n(self) -> int:
        return len(self.finals)

    @property
    def finals(self) -> list[float]:
        return [r.final for r in self.runs if r.final is not None]

    @property
    def bests(self) -> list[float]:
        return [r.best for r in self.runs if r.best is not None]

    @property
    def complete(self) -> bool:
        return self.n >= self.planned

    @property
    def seeds(self) -> list[int]:
        return sorted(int(r.result["seed"]) for r in self.runs)




@dataclass
class Comparison:
    """A row against FT on the final value of the main metric (x100)."""

    diff: float | None
    se: float | None
    verdict: str


def compare_to_ft(row: Row, ft: Row) -> Comparison:
    """Difference of means against FT, its standard error and the verdict (rule: :data:`VERDICT_SE`).

    SE = sqrt(s_row^2 / n_row + s_FT^2 / n_FT) with sample standard deviations (Welch). "beats FT" when
    the difference exceeds VERDICT_SE x SE, "below FT" when it is under -VERDICT_SE x SE, else "ties";
    fewer than 2 seeds on either side give "too few seeds" (the difference is still shown).
    """
    if row.n == 0:
        return Comparison(None, None, "not run yet")
    if ft.n == 0:
        return Comparison(None, None, "no FT runs yet")
    m, s = mean_std([100 * v for v in row.finals])
    fm, fs = mean_std([100 * v for v in ft.finals])
    assert m is not None and fm is not None
    diff = m - fm
    if s is None or fs is None:
        return Comparison(diff, None, "too few seeds")
    se = math.sqrt(s**2 / row.n + fs**2 / ft.n)
    if diff > VERDICT_SE * se:
        verdict = "beats FT"
    elif diff < -VERDICT_SE * se:
        verdict = "below FT"
    else:
        verdict = "ties"
    return Comparison(diff, se, verdict)


@dataclass
class TaskView:
    """What the page shows for one task."""

    task: str
    budget: Any
    grids: list[Any]
    rows: list[Row]
    other: list[Run]

    @property
    def ft(self) -> Row:
        return self.rows[0]

    @property
    def main(self) -> str:
        for row in self.rows:
            for run in row.runs:
                return run.main
        return MAIN_METRIC.get(self.task, "accuracy")

    @property
    def planned_runs(self) -> int:
        return sum(row.planned for row in self.rows)

    @property
    def finished_runs(self) -> int:
        return sum(min(row.n, row.planned) for row in self.rows)

    @property
    def complete(self) -> bool:
        return all(row.complete for row in self.rows)

    @property
    def runs(self) -> list[Run]:
        return [r for row in self.rows for r in row.runs]


def build_views(records: Records, results: Path) -> list[TaskView]:
    """One view per suite task: planned rows filled with the records that have the suite's settings."""
    views = []
    by_task: dict[str, list[Run]] = {}
    for run in records.runs:
        by_task.setdefault(run.task, []).append(run)
    for task, budget in suite.TASKS.items():
        grids = suite.build_plan([task], suite.PROTOCOLS, results=results)
        n_seeds = len(grids[0].seeds)
        rows = [Row("ft", None, "any", n_seeds)]
        for protocol in suite.PROTOCOLS:
            rows.append(Row("lp-ft", "probe", protocol, n_seeds))
            rows.extend(Row("eh-ft", m, protocol, n_seeds) for m in suite.METHODS)
        index = {(r.strategy, r.method, r.protocol): r for r in rows}
        grid_of = {g.protocol: g for g in grids}
        other = []
        ft_seeds: dict[int, Run] = {}
        for run in sorted(by_task.get(task, []), key=lambda r: (r.result["protocol"] != "matched", r.source, r.key)):
            res = run.result
            protocol, strategy, method = res["protocol"], res["strategy"], res.get("method")
            grid = grid_of.get(protocol)
            if grid is not None:
                run.differences = suite.settings_differences(grid, res, suite.BACKBONE_ID, version=run.version)
            if grid is None or run.differences:
                other.append(run)
                continue
            if strategy == "ft":
                if int(res["seed"]) in ft_seeds:  # the same FT run under the other protocol: counted once
                    other.append(run)
                    continue
                ft_seeds[int(res["seed"])] = run
                index[("ft", None, "any")].runs.append(run)
            elif (strategy, method, protocol) in index:
                index[(strategy, method, protocol)].runs.append(run)
            else:
                other.append(run)
        for row in rows:
            row.runs.sort(key=lambda r: int(r.result["seed"]))
        views.append(TaskView(task, budget, grids, rows, other))
    return views


def plan_differences(run: Run) -> str:
    """The settings in which ``run`` differs from the suite's plan for its task and protocol (for "Other records")."""
    keys = run.differences
    if keys is None:
        return "not a suite task / protocol"
    if not keys and run.result["strategy"] == "ft":
        return "none (an FT seed already counted)"
    return ", ".join(keys) or "none"


@dataclass
class SettingChange:
    """Superseded runs that differ from the plan only in stage-1 settings or the data order, paired by seed with
    the suite's current runs of the same task, strategy, method and protocol."""

    differs_in: str
    strategy: str
    method: str | None
    protocol: str
    #: task -> [(superseded final, current final)], one pair per seed that both have
    pairs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return Row(self.strategy, self.method, self.protocol, 0).label

    def delta(self, task: str) -> float | None:
        """Current mean − superseded mean over the paired seeds, x100."""
        pairs = self.pairs.get(task)
        if not pairs:
            return None
        return 100 * statistics.fmean(new - old for old, new in pairs)


def _task_table_head(lead: Sequence[str], tasks: Sequence[str], tail: Sequence[str]) -> list[str]:
    """A Markdown table's header and rule: the ``lead`` columns, one column per task, the ``tail`` columns."""
    columns = [*lead, *(_name(t) for t in tasks), *tail]
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def _signed(value: float) -> str:
    text = f"{value:+.2f}"
    return "+0.00" if text == "-0.00" else text


def _changed_by_stage1_only(keys: Sequence[str]) -> bool:
    return bool(keys) and all(k == "data_order" or k.startswith("stage1.") for k in keys)


def setting_changes(views: Sequence[TaskView]) -> list[SettingChange]:
    """What each superseded stage-1 / data-order setting scored against the suite's current one, seed for seed.

    Only records whose differences from the plan are all stage-1 settings or ``data_order`` count (other
    budgets, data sizes or backbones are not comparable); a superseded run without a current run of the
    same seed is left out.
    """
    groups: dict[tuple[str, str, str | None, str], SettingChange] = {}
    for view in views:
        current = {(row.strategy, row.method, row.protocol): {int(r.result["seed"]): r for r in row.runs}
                   for row in view.rows}
        for run in view.other:
            res = run.result
            keys = run.differences
            if keys is None or not _changed_by_stage1_only(keys) or run.final is None:
                continue
            now = current.get((res["strategy"], res.get("method"), res["protocol"]), {}).get(int(res["seed"]))
            if now is None or now.final is None:
                continue
            key = (", ".join(keys), res["strategy"], res.get("method"), res["protocol"])
            change = groups.setdefault(key, SettingChange(*key))
            change.pairs.setdefault(view.task, []).append((run.final, now.final))
    order = {p: i for i, p in enumerate(("matched", "zoo"))}
    return sorted(groups.values(), key=lambda c: (c.differs_in, order.get(c.protocol, 9), c.strategy != "lp-ft",
                                                  c.method or ""))


def setting_change_lines(views: Sequence[TaskView]) -> list[str]:
    """The section on superseded settings: per task, current mean − superseded mean on the same seeds."""
    changes = setting_changes(views)
    if not changes:
        return []
    tasks = [v.task for v in views]
    lines = [
        "## What the changed settings did",
        "",
        "Runs listed under \"Other records\" that differ from the plan only in stage-1 settings or the data "
        "order, against the suite's current runs of the same cell: per task, the current mean minus the "
        "superseded mean (final value ×100) over the seeds both have; positive means the current settings scored "
        "higher. The machine is not a setting: where the two sets of runs ran on different machines, that "
        "differs too (each task's settings line counts runs per machine).",
        "",
        *_task_table_head(("differs in", "strategy", "protocol"), tasks,
                          ("mean Δ", "current higher / lower / equal", "seed pairs")),
    ]
    for change in changes:
        deltas = [change.delta(t) for t in tasks]
        shown = [d for d in deltas if d is not None]
        higher = sum(d > 0 for d in shown)
        lower = sum(d < 0 for d in shown)
        mean = _signed(statistics.fmean(shown)) if shown else "–"
        lines.append(f"| {change.differs_in} | {change.label} | {change.protocol} | "
                     + " | ".join("–" if d is None else _signed(d) for d in deltas)
                     + f" | {mean} | {higher} / {lower} / {len(shown) - higher - lower} | "
                     f"{sum(len(p) for p in change.pairs.values())} |")
    lines.append("")
    return lines


# --------------------------------------------------------------------------- formatting


def _x100(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _mean_pm(values: Sequence[float]) -> str:
    m, s = mean_std([100 * v for v in values])
    if m is None:
        return "–"
    return f"{m:.2f} ± {s:.2f}" if s is not None else f"{m:.2f} (1 seed)"


def _set(values: Iterable[Any]) -> str:
    unique = sorted({json.dumps(v) for v in values if v is not None})
    shown = [json.loads(v) for v in unique]
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in shown) or "–"


#: How the page names the tasks.
DISPLAY = {"cb": "CB", "copa": "COPA", "rte": "RTE", "mrpc": "MRPC", "wic": "WiC", "cola": "CoLA", "stsb": "STS-B"}


def _name(task: str) -> str:
    return DISPLAY.get(task, task.upper())


METRIC_NAMES = {"accuracy": "accuracy", "matthews_correlation": "Matthews corr.", "pearson": "Pearson r"}




def machine_counts(runs: Iterable[Run]) -> str:
    """``label (n runs); ...`` over ``runs``, most runs first."""
    counts: dict[str, int] = {}
    for run in runs:
        label = machine_label(run.result.get("machine") or run.settings.get("machine"))
        counts[label] = counts.get(label, 0) + 1
    return "; ".join(f"{label} ({n} run{'s' if n != 1 else ''})"
                     for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def settings_line(runs: Sequence[Run]) -> str:
    """The settings of a task's runs, read from their records (a value that varies shows every value)."""

    def values(name: str) -> str:
        return _set(r.settings.get(name) for r in runs)

    data = [r.settings.get("data") or {} for r in runs]
    stage1_lr: dict[str, set[float]] = {}
    zoo_heads: dict[str, set[str]] = {}
    for run in runs:
        s1 = run.settings.get("stage1") or {}
        if run.result.get("method") and s1.get("learning_rate") is not None:
            stage1_lr.setdefault(str(run.result["method"]), set()).add(float(s1["learning_rate"]))
        info = run.result.get("stage1") or {}
        if run.result["protocol"] == "zoo" and info.get("source") in ("zoo", "given"):
            wall = info.get("wall_seconds")
            zoo_heads.setdefault(str(info.get("method")), set()).add(
                f"{info.get('steps')} steps" + (f" in {wall:.0f} s" if isinstance(wall, (int, float)) else ""))
    matched_s1 = [r.result.get("stage1_steps") for r in runs if r.result["protocol"] == "matched"
                  and r.result.get("stage1")]
    eps = [float(r.result["examples_per_second"]) for r in runs
           if isinstance(r.result.get("examples_per_second"), (int, float))]
    parts = [
        f"backbone `{values('backbone')}`",
        f"epochs {values('epochs')} = {_set(r.result.get('budget_steps') for r in runs)} steps "
        f"({_set(r.result.get('steps_per_epoch') for r in runs)} per epoch)",
        f"train {_set(d.get('train_size') for d in data)} (data limit {_set(d.get('data_limit') for d in data)}), "
        f"dev {_set(d.get('eval_size') for d in data)}",
        f"stage-2 lr {values('learning_rate')}, batch {values('batch_size')}, max_length {values('max_length')}, "
        f"warmup {values('warmup_ratio')}, weight decay {values('weight_decay')}, grad clip {values('max_grad_norm')}",
        f"stage-1 preset `{values('preset')}` ("
        + (", ".join(f"{m} pinned to {r:g}" for m, r in suite.STAGE1_LEARNING_RATES.items()) or "no pins")
        + "), lr "
        + (", ".join(f"{m} {_set(v)}" for m, v in sorted(stage1_lr.items())) or "–"),
        f"stage-1 steps (matched) {_set(matched_s1)}",
    ]
    if zoo_heads:
        parts.append(f"zoo heads (made once, seed {suite.ZOO_HEAD_SEED}): "
                     + "; ".join(f"{m} {', '.join(sorted(v))}" for m, v in sorted(zoo_heads.items())))
    parts.append(f"evaluations per run {_set(len(r.result.get('history') or []) for r in runs)} (best-epoch = the "
                 "best of them)")
    if eps:
        parts.append(f"median throughput {statistics.median(eps):.1f} training examples/s")
    parts.append(f"ran on {machine_counts(runs)}: wall times and throughput depend on it, the settings do not")
    return "Settings, from the records: " + "; ".join(parts) + "."


def task_section(view: TaskView, plots: dict[str, str]) -> list[str]:
    """The Markdown of one task."""
    budget = view.budget
    main = view.main
    g0 = view.grids[0]
    lines = [f"## {_name(view.task)}: {METRIC_NAMES.get(main, main)} on the dev set", ""]
    status = (f"{view.finished_runs} of {view.planned_runs} planned runs finished"
              + (" (complete)." if view.complete else "."))
    if not view.runs:
        status = f"**Not run yet** with the suite's settings: 0 of {view.planned_runs} planned runs."
    lines += [
        f"Plan (`benchmarks/suite.py`): the paper's {budget.paper_epochs} epochs × {suite.EPOCH_SCALE:g} = "
        f"{g0.epochs:g} epoch(s) = T = {g0.budget_steps} steps of {suite.BATCH_SIZE} ({g0.steps_per_epoch} per "
        f"epoch) on {g0.train_size} train examples"
        + (f" (a stratified subset of {budget.train_size})" if g0.train_size < budget.train_size else " (all)")
        + f", {g0.eval_size} dev examples as the test set, seeds 0–{len(g0.seeds) - 1}; stage 1 "
        f"{g0.stage1_steps} steps. {status}",
        "",
        f"Runs: `{suite.task_command(view.task)}` (both protocols; resumable). Page: "
        "`python -m benchmarks.report`.",
        "",
    ]
    runs = view.runs
    if not runs:
        paper = [f"{name} {PAPER[name][view.task]:.2f}" for name in PAPER if view.task in PAPER[name]]
        return [*lines, f"Paper (RoBERTa-large, best dev, its budgets): {', '.join(paper)}.", ""]
    lines += [settings_line(runs), ""]
    lines += [
        "| strategy | protocol | seeds (n/planned) | final ×100 | best-epoch ×100 | vs FT (final) | verdict "
        "| Δ best-epoch | steps stage 1 + 2 | stage-1 s | wall s / run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in view.rows:
        if row.n == 0:
            lines.append(f"| {row.label} | {row.protocol_label} | 0/{row.planned} | not run yet | | | "
                         f"{'baseline' if row.strategy == 'ft' else 'not run yet'} | | | | |")
            continue
        if row is view.ft:
            vs, verdict, dbest = "—", "baseline", "—"
        else:
            cmp = compare_to_ft(row, view.ft)
            vs = "–" if cmp.diff is None else (f"{cmp.diff:+.2f}" + (f" (SE {cmp.se:.2f})" if cmp.se else ""))
            verdict = cmp.verdict
            bm, _ = mean_std([100 * v for v in row.bests])
            fbm, _ = mean_std([100 * v for v in view.ft.bests])
            dbest = f"{bm - fbm:+.2f}" if bm is not None and fbm is not None else "–"
        steps = _set(f"{r.result.get('stage1_steps')} + {r.result.get('stage2_steps')}" for r in row.runs)
        heads = [h for h in (r.head_seconds for r in row.runs) if h is not None]
        head_s = (f"{statistics.fmean(heads):.0f}" + (" (once)" if row.protocol == "zoo" else "")) if heads else "–"
        lines.append(
            f"| {row.label} | {row.protocol_label} | {row.n}/{row.planned} "
            f"({', '.join(map(str, row.seeds))}) | {_mean_pm(row.finals)} | {_mean_pm(row.bests)} | {vs} | "
            f"{verdict} | {dbest} | {steps} | {head_s} | {statistics.fmean(r.wall for r in row.runs):.0f} |"
        )
    lines.append("")
    paper = [f"{name} {PAPER[name][view.task]:.2f}" for name in PAPER if view.task in PAPER[name]]
    lines += [f"Paper (RoBERTa-large, best dev, its budgets): {', '.join(paper)}.", ""]
    if view.task in plots:
        lines += [f"![{view.task}]({plots[view.task]})", ""]
    return lines


def overview(views: Sequence[TaskView]) -> list[str]:
    """The table over tasks, with the paper's rows."""
    tasks = [v.task for v in views]
    complete = [v for v in views if v.complete]
    lines = [
        "## Overview",
        "",
        "Final-epoch mean over seeds ×100 per task (accuracy; CoLA Matthews correlation; STS-B Pearson r). "
        "A cell with (n/planned) lacks seeds; \"not run yet\" has none. The average is over the tasks where "
        f"every row has all its seeds ({len(complete)} of {len(views)}"
        + (f": {', '.join(v.task for v in complete)}" if complete else "") + "), the same tasks for every row; "
        "the median Δ is the median over those tasks of the row's difference to FT, which one task far from FT "
        "cannot move the way it moves the average.",
        "",
        *_task_table_head(("strategy", "protocol"), tasks, ("avg (complete tasks)", "Δ avg vs FT", "median Δ vs FT")),
    ]
    for i in range(len(views[0].rows)):
        row0 = views[0].rows[i]
        cells = []
        for view in views:
            row = view.rows[i]
            m, _ = mean_std([100 * v for v in row.finals])
            if m is None:
                cells.append("not run yet")
            else:
                cells.append(f"{m:.2f}" + ("" if row.complete else f" ({row.n}/{row.planned})"))
        if complete:
            means = [mean_std([100 * v for v in v.rows[i].finals])[0] for v in complete]
            ft_means = [mean_std([100 * v for v in v.ft.finals])[0] for v in complete]
            avg, ft_avg = statistics.fmean(means), statistics.fmean(ft_means)
            avg_s, delta = f"{avg:.2f}", ("—" if i == 0 else f"{avg - ft_avg:+.2f}")
            median = "—" if i == 0 else _signed(statistics.median(m - f for m, f in zip(means, ft_means, strict=True)))
        else:
            avg_s, delta, median = "–", "–", "–"
        lines.append(f"| {row0.label} | {row0.protocol_label} | " + " | ".join(cells)
                     + f" | {avg_s} | {delta} | {median} |")
    for name, values in PAPER.items():
        ours = [values[t] for t in tasks if t in values]
        avg7 = statistics.fmean(ours)
        delta = avg7 - statistics.fmean(PAPER["FT"][t] for t in tasks if t in PAPER["FT"])
        lines.append(f"| paper: {name} | RoBERTa-large, matched | " + " | ".join(
            f"{values[t]:.2f}" if t in values else "–" for t in tasks) + f" | {avg7:.2f} (these {len(ours)} tasks) "
            f"| {'—' if name == 'FT' else f'{delta:+.2f}'} | "
            + ("—" if name == "FT" else _signed(statistics.median(values[t] - PAPER["FT"][t] for t in tasks
                                                                  if t in values and t in PAPER["FT"]))) + " |")
    lines += ["", *verdict_tally(views)]
    lines += [
        "",
        "The paper's rows are its numbers (RoBERTa-large, 10-400 epochs, best dev value), not ours; its own "
        "averages over nine tasks (with BoolQ and QNLI) are "
        + ", ".join(f"{name} {values['avg']:.2f}" for name, values in PAPER.items()) + ".",
        "",
    ]
    return lines


def verdict_tally(views: Sequence[TaskView]) -> list[str]:
    """How often each row beats, ties or falls below FT over the tasks (the per-task verdicts, counted)."""
    lines = ["Verdicts against FT over the tasks (final value, 2-SE rule; see each task's table):", "",
             "| strategy | protocol | beats FT | ties | below FT | no verdict (not run, too few seeds) |",
             "|---|---|---|---|---|---|"]
    for i, row0 in enumerate(views[0].rows):
        if row0 is views[0].ft:
            continue
        counts: dict[str, list[str]] = {"beats FT": [], "ties": [], "below FT": [], "other": []}
        for view in views:
            verdict = compare_to_ft(view.rows[i], view.ft).verdict
            counts[verdict if verdict in counts else "other"].append(_name(view.task))
        cells = [f"{len(v)}" + (f" ({', '.join(v)})" if v and key != "ties" else "") for key, v in counts.items()]
        lines.append(f"| {row0.label} | {row0.protocol_label} | " + " | ".join(cells) + " |")
    return lines


# --------------------------------------------------------------------------- plots




def plot_task(view: TaskView, path: Path) -> None:
    """Per-seed final values and mean ± std of every row with runs; FT's mean as a dashed line."""
    rows = [r for r in view.rows if r.n]
    fig = figure(max(5.0, 0.85 * len(rows) + 2.0), 3.8)
    ax = fig.add_subplot(1, 1, 1)
    for i, row in enumerate(rows):
        values = [100 * v for v in row.finals]
        offsets = [(j - (len(values) - 1) / 2) * 0.07 for j in range(len(values))]
        ax.scatter([i + o for o in offsets], values, s=14, color="tab:gray", alpha=0.8, zorder=2)
        m, s = mean_std(values)
        ax.errorbar([i], [m], yerr=[s or 0.0], fmt="D", color=COLORS.get(row.protocol, "tab:green"), capsize=4,
                    zorder=3)
    ft_mean, _ = mean_std([100 * v for v in view.ft.finals])
    if ft_mean is not None:
        ax.axhline(ft_mean, color="black", linestyle="--", linewidth=0.8, label="FT mean")
    for protocol, color in COLORS.items():
        if any(r.protocol == protocol for r in rows):
            ax.errorbar([], [], yerr=[], fmt="D", color=color,
                        label="FT" if protocol == "any" else f"{protocol}: mean ± std")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r.label.replace("EH-FT ", "EH-FT\n") for r in rows], fontsize="small")
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylabel(f"dev {METRIC_NAMES.get(view.main, view.main)} ×100 (final)")
    ax.set_title(f"{_name(view.task)}: per seed (grey) and mean ± std")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, format="png")


def plot_overview(views: Sequence[TaskView], path: Path) -> None:
    """Per task and protocol: each non-FT row's mean minus FT's (final, ×100), ± 1 SE where defined."""
    fig = figure(10.0, 6.4)
    for p, protocol in enumerate(suite.PROTOCOLS):
        ax = fig.add_subplot(len(suite.PROTOCOLS), 1, p + 1)
        labels = [r.label for r in views[0].rows if r.protocol == protocol]
        step = 0.8 / max(1, len(labels))
        for j, label in enumerate(labels):
            xs, ys, errs = [], [], []
            for t, view in enumerate(views):
                row = next(r for r in view.rows if r.protocol == protocol and r.label == label)
                cmp = compare_to_ft(row, view.ft)
                if cmp.diff is not None:
                    xs.append(t - 0.4 + step * (j + 0.5))
                    ys.append(cmp.diff)
                    errs.append(cmp.se or 0.0)
            if xs:
                ax.errorbar(xs, ys, yerr=errs, fmt="o", color=f"C{j}", capsize=3, markersize=5, label=label)
        for t, view in enumerate(views):
            if not any(compare_to_ft(r, view.ft).diff is not None for r in view.rows if r.protocol == protocol):
                ax.text(t, 0.5, "not run yet", ha="center", va="center", fontsize="x-small", color="gray",
                        transform=ax.get_xaxis_transform())
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(views)))
        ax.set_xticklabels([_name(v.task) for v in views])
        ax.set_xlim(-0.6, len(views) - 0.4)
        ax.set_ylabel("mean − FT mean (×100)")
        ax.set_title(f"protocol {protocol}: difference to FT (final dev metric), ± 1 SE", fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small", ncol=len(labels), loc="best")
    fig.tight_layout()
    fig.savefig(path, format="png")


# --------------------------------------------------------------------------- the page


def machine_lines(records: Records) -> list[str]:
    """Where the runs ran (a ``machine`` field when records have one) and where this page was made."""
    machines = sorted({json.dumps(r.result.get("machine") or r.settings.get("machine"), sort_keys=True)
                       for r in records.runs if r.result.get("machine") or r.settings.get("machine")})
    lines = ["## Machine", ""]
    if machines:
        lines.append(f"Runs per machine: {machine_counts(records.runs)}.")
        lines += ["", "Recorded machine fields: " + "; ".join(f"`{m}`" for m in machines) + "."]
    else:
        lines.append("The run records carry no machine field: the wall times (and examples/s) were measured on "
                     "whatever machine ran them, with whatever else it was running then.")
    lines += [
        "",
        f"Report generated on (not necessarily the machine of the runs): {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPU core(s), Python {platform.python_version()}.",
        "",
    ]
    return lines


def render(records: Records, views: Sequence[TaskView], plots: Mapping[str, str]) -> str:
    """The whole page."""
    total = sum(v.planned_runs for v in views)
    done = sum(v.finished_runs for v in views)
    per_protocol = {p: (sum(min(r.n, r.planned) for v in views for r in v.rows if r.protocol == p),
                        sum(r.planned for v in views for r in v.rows if r.protocol == p))
                    for p in ("any", *suite.PROTOCOLS)}
    lines = [
        "<!-- Generated by `python -m benchmarks.report` from results/**/runs.jsonl. Do not edit by hand. -->",
        "",
        "# Reproduction suite: EH-FT against FT and LP-FT on MiniLM",
        "",
        "**Generated file: do not edit by hand.** `python -m benchmarks.report` writes it (and `plots/`) from the "
        "run records in `results/**/runs.jsonl`; `python -m benchmarks.suite` makes those records through "
        "`headzoo.train.compare` (resumable per run; `--dry-run` shows what is left and its cost).",
        "",
        f"Status: {done} of {total} planned runs finished (FT {per_protocol['any'][0]}/{per_protocol['any'][1]}, "
        + ", ".join(f"{p} {per_protocol[p][0]}/{per_protocol[p][1]}" for p in suite.PROTOCOLS) + "); "
        f"tasks complete: {', '.join(v.task for v in views if v.complete) or 'none yet'}.",
        "",
        "## How to read it",
        "",
        f"- Backbone `{suite.BACKBONE_ID}` (MiniLM-L6, 22M parameters), not the paper's RoBERTa-large; budgets are "
        f"the paper's epochs × {suite.EPOCH_SCALE:g} (same proportions between tasks); the official dev set is the "
        "test set, as in the paper. Per task, the plan and the settings read from the records are stated.",
        "- final = the dev value at the end of the budget; best-epoch = the best of the per-epoch evaluations (the "
        "paper reports the best dev value). Both ×100, mean ± sample std over seeds.",
        "- Protocols: **matched**: every strategy makes T steps, stage 1 takes 10% of them; data order "
        f"`{suite.DATA_ORDER}`"
        + (" (stage 2 restarts the data order: these runs predate `\"continue\"`, now headzoo's default, under "
           "which stage 2 takes the batches after stage 1's)" if suite.DATA_ORDER == "restart" else
           " (headzoo's default: the run's batches are laid out once and stage 2 takes those after stage 1's, so "
           "every example is seen as often as under FT)")
        + ". **zoo**: one head "
        "per method pretrained once per task (seed 0, 10% of T steps), every seed's stage 2 starts from it with "
        "FT's full T steps; the head's cost is the stage-1 s column (paid once, not per run). FT has no stage 1: "
        "its runs (made under matched) are the baseline of both protocols.",
        f"- **vs FT**: row mean − FT mean (final, ×100) and its standard error SE = √(s²/n + s_FT²/n_FT). "
        f"Verdict: **beats FT** if the difference is above {VERDICT_SE:g} SE, **below FT** if under −{VERDICT_SE:g} "
        "SE, otherwise **ties** (no clear difference at this number of seeds); **too few seeds** while either side "
        "has fewer than 2. Δ best-epoch is the same difference on best-epoch means (no verdict).",
        "",
    ]
    lines += overview(views)
    if "overview" in plots:
        lines += [f"![difference to FT]({plots['overview']})", ""]
    for view in views:
        lines += task_section(view, dict(plots))
    lines += setting_change_lines(views)
    other = [r for v in views for r in v.other] + [r for r in records.runs if r.task not in suite.TASKS]
    lines += ["## Other records", ""]
    if other:
        lines += ["Runs whose settings are not the suite's for their task (or a second copy of an FT seed under "
                  "the other protocol); not in the tables above.", "",
                  "| task | strategy | protocol | seed | epochs | train | final ×100 | differs from the plan in "
                  "| file |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(other, key=lambda r: (r.task, r.source, r.key)):
            label = r.result["strategy"] + (f" ({r.result['method']})" if r.result.get("method") else "")
            lines.append(f"| {r.task} | {label} | {r.result['protocol']} | {r.result['seed']} | "
                         f"{r.settings.get('epochs')} | {(r.settings.get('data') or {}).get('train_size')} | "
                         f"{_x100(None if r.final is None else 100 * r.final)} | {plan_differences(r)} "
                         f"| `{r.source}` |")
    else:
        lines.append("None: every record has the suite's settings.")
    lines += ["", "Run records read: " + (", ".join(f"`{f}` ({n})" for f, n in records.files.items()) or "none") + "."]
    if records.skipped:
        lines += ["", f"Unreadable lines skipped: {'; '.join(records.skipped)}."]
    lines.append("")
    lines += machine_lines(records)
    return "\n".join(lines)


def write_report(results: Path, page: Path | None = None) -> Path:
    """Read ``results/**/runs.jsonl``, write the page (default ``results/README.md``) and ``results/plots/``.

    Example:
        >>> write_report(Path("results"))  # doctest: +SKIP
        PosixPath('results/README.md')
    """
    results = Path(results)
    records = load_records(results)
    views = build_views(records, results)
    plot_dir = results / PLOTS
    plot_dir.mkdir(parents=True, exist_ok=True)
    plots: dict[str, str] = {}
    for view in views:
        if view.runs:
            plot_task(view, plot_dir / f"{view.task}.png")
            plots[view.task] = f"{PLOTS}/{view.task}.png"
    if any(v.ft.n for v in views):
        plot_overview(views, plot_dir / "overview.png")
        plots["overview"] = f"{PLOTS}/overview.png"
    for stale in plot_dir.glob("*.png"):
        if f"{PLOTS}/{stale.name}" not in plots.values():
            stale.unlink()
    page = page or results / PAGE
    text = render(records, views, plots)
    write_page(page, text)
    return page


def main(argv: Sequence[str] | None = None) -> int:
    """Write the page; prints its path."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=suite.DEFAULT_RESULTS,
                        help="results root (default: results/); the page is <results>/README.md")
    args = parser.parse_args(argv)
    print(write_report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
