"""The reproduction suite: FT, LP-FT and EH-FT (LoRA, BitFit, prefix, IA3) on seven tasks, two protocols.

Every run goes through :func:`headzoo.train.compare` (no training loop here): one
compare grid per (task, protocol), written to ``results/<task>/<protocol>/runs.jsonl``
by compare itself, one JSON line per finished run. The suite is resumable per run
(compare skips the runs already in ``runs.jsonl`` and a run cut off mid-way resumes
from its last epoch checkpoint), so it can be completed over several invocations;
``--max-runs`` / ``--time-budget`` stop it cleanly after the current run. A record of another
``headzoo.train.RECORD_VERSION`` (none has the field yet: version 1) is superseded: not done, run again.

Budgets (:data:`TASKS`): the paper's epoch budgets (RoBERTa-large: CB, COPA 400;
RTE, MRPC 60; WiC 40; CoLA, STS-B 20) scaled by 1/40 (:data:`EPOCH_SCALE`), on the
full official train sets, validation (dev) as the test set, as in the paper. That
keeps the paper's proportions exactly and gives every run 2,500 to 5,500 training
examples (T = 80 to 172 steps of 32), so no train subset is needed (``--train-limit``
exists for trials; ``compare(limit=...)`` would cut the dev set too, so the suite makes
a train-only subset itself). The first CB runs took 2 to 14 minutes each on a shared
2-core CPU; ``--dry-run`` estimates the rest from the wall times of runs finished on this kind of machine.
Seeds: 5 for every task (MRPC, WiC, CoLA and STS-B had 3 until 2026-11-26; one verdict on
3 seeds moved when 2 were added).

Protocols (``headzoo.train`` module notes):

- ``matched``: total budget ``T`` steps for every strategy; stage 1 takes 10% of it.
  FT runs here only: it has no stage 1, so it is the same run under both protocols.
- ``zoo``: compare pretrains one head per method (and one ``probe`` head for LP-FT) once
  per task, seed 0, for the matched protocol's stage-1 step count (10% of ``T``, passed as
  ``stage1_settings={"max_steps": ...}``), into ``results/<task>/zoo/heads/<method>/``;
  every seed's stage 2 starts from that head with FT's full budget ``T``, and the head's
  cost is reported apart (``result.stage1``). Commit those heads with the runs: the head's
  digest is part of every zoo run's settings hash, so a retrained head means new runs.
  The suite stops if compare does not report the shared head (``stage1.source == "given"``).

The CB grid started before this suite (``headzoo compare cb ... --out results/cb``,
protocol matched, 10 epochs: the same settings) stays where it is: the suite's
(cb, matched) grid uses ``results/cb`` so those runs are reused, not trained again
(:data:`OUT_DIRS`). Do not run that grid while another process writes ``results/cb``.

Order: rounds by seed, so that a partial suite covers every task: round k runs seed k
of every grid (compare is called with seeds ``0..k``; finished runs are reused).

Example:
    python benchmarks/suite.py --dry-run                       # the plan, what is done, estimated cost
    python benchmarks/suite.py --time-budget 120               # train for about two hours, then stop
    python benchmarks/suite.py --tasks cb,copa --protocols zoo --max-runs 3
    python benchmarks/suite.py --jobs 14 --time-budget 7 --grace 1.5  # all 14 grids at once (a GPU)
    git add results/*/runs.jsonl results/*/*/runs.jsonl results/*/zoo/heads results/README.md results/plots
    python benchmarks/report.py                                # regenerate results/README.md (done after a run)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Where the run records go (``--results``).
DEFAULT_RESULTS = REPO_ROOT / "results"
#: The offline GLUE / SuperGLUE files (``--data-dir``; ``HEADZOO_DATA_DIR`` wins when set).
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

#: The backbone (an alias of headzoo.backbone) and the id it resolves to (checked at run time).
BACKBONE = "minilm"
BACKBONE_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: Stage-2 (and FT) hyperparameters: compare's defaults, stated here so the plan is explicit.
LEARNING_RATE = 5e-5
BATCH_SIZE = 32
MAX_LENGTH = 128
STAGE1_FRACTION = 0.1
#: Stage-1 learning rates: ``headzoo.train.PRESETS["headzoo"]`` (measured on MiniLM; the paper's
#: RoBERTa-large rates are too small for budgets this short).
PRESET = "headzoo"
#: Stage-1 rates pinned per method, over the preset (empty: every method at the preset). A pin keeps
#: finished runs the suite's runs when the preset moves; the runs of 2026-11-26 re-made IA3 and
#: prefix-tuning at the preset's 9e-2, so none is pinned now.
STAGE1_LEARNING_RATES: dict[str, float] = {}
#: Data order of ``matched`` stage 2 (``finetune(data_order=...)``): compare's default, ``"continue"``
#: (stage 2 takes the batches after stage 1's, so every example is seen as often as under FT).
DATA_ORDER = "continue"
#: PET methods of EH-FT.
METHODS: tuple[str, ...] = ("lora", "bitfit", "prefix", "ia3")
PROTOCOLS: tuple[str, ...] = ("matched", "zoo")
#: Strategies per protocol: FT has no stage 1, so its runs are the same under both and run once.
STRATEGIES: dict[str, tuple[str, ...]] = {"matched": ("ft", "lp-ft", "eh-ft"), "zoo": ("lp-ft", "eh-ft")}
#: Seed of the zoo protocol's pretrained heads (one head per method, shared by every seed): compare
#: trains them with ``stage1_settings.seed``, whose default is 0.
ZOO_HEAD_SEED = 0
#: Paper epochs x this = our epochs.
EPOCH_SCALE = 1 / 40


@dataclass(frozen=True)
class TaskBudget:
    """One task of the suite.

    Attributes:
        task: headzoo task name.
        paper_epochs: the paper's total epoch budget (RoBERTa-large, official code).
        train_size, eval_size: the official train / dev sizes (../shared/data/MANIFEST.md).
        seeds: how many seeds (0..seeds-1).
        train_limit: train on a stratified seed-0 subset of this many examples (the dev set
            stays whole); None = the full train set.
    """

    task: str
    paper_epochs: int
    train_size: int
    eval_size: int
    seeds: int
    train_limit: int | None = None

    @property
    def epochs(self) -> float:
        """Our epoch budget: the paper's times :data:`EPOCH_SCALE` (a float: compare hashes 10.0, not 10)."""
        return float(self.paper_epochs * EPOCH_SCALE)


#: The suite's tasks, in run order (small tasks first).
TASKS: dict[str, TaskBudget] = {
    b.task: b
    for b in (
        TaskBudget("cb", paper_epochs=400, train_size=250, eval_size=56, seeds=5),
        TaskBudget("copa", paper_epochs=400, train_size=400, eval_size=100, seeds=5),
        TaskBudget("rte", paper_epochs=60, train_size=2490, eval_size=277, seeds=5),
        TaskBudget("mrpc", paper_epochs=60, train_size=3668, eval_size=408, seeds=5),
        TaskBudget("wic", paper_epochs=40, train_size=5428, eval_size=638, seeds=5),
        TaskBudget("cola", paper_epochs=20, train_size=8551, eval_size=1043, seeds=5),
        TaskBudget("stsb", paper_epochs=20, train_size=5749, eval_size=1500, seeds=5),
    )
}

#: Output folders (relative to the results root) that differ from ``<task>/<protocol>``:
#: the CB grid that predates the suite has the same settings, so its runs are reused.
OUT_DIRS: dict[tuple[str, str], str] = {("cb", "matched"): "cb"}


@dataclass(frozen=True)
class Grid:
    """One compare grid: a task under one protocol."""

    task: str
    protocol: str
    epochs: float
    seeds: tuple[int, ...]
    train_size: int
    eval_size: int
    train_limit: int | None
    out_dir: Path
    methods: tuple[str, ...] = METHODS
    strategies: tuple[str, ...] = field(default=())

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch (the last batch may be short)."""
        return math.ceil(self.train_size / BATCH_SIZE)

    @property
    def budget_steps(self) -> int:
        """FT's budget ``T`` (as compare computes it)."""
        return max(1, round(self.epochs * self.steps_per_epoch))

    @property
    def stage1_steps(self) -> int:
        """Stage-1 steps: 10% of ``T`` (matched), also the zoo heads' length."""
        return max(1, round(STAGE1_FRACTION * self.budget_steps))

    def cells(self) -> list[tuple[str, str | None]]:
        """(strategy, method) pairs, in compare's order."""
        out: list[tuple[str, str | None]] = []
        for strategy in self.strategies:
            if strategy == "ft":
                out.append(("ft", None))
            elif strategy == "lp-ft":
                out.append(("lp-ft", "probe"))
            else:
                out.extend(("eh-ft", m) for m in self.methods)
        return out

    def runs(self, seeds: Sequence[int] | None = None) -> list[tuple[str, str | None, int]]:
        """(strategy, method, seed) of every run, in compare's order (seeds outer)."""
        return [(s, m, seed) for seed in (self.seeds if seeds is None else seeds) for s, m in self.cells()]

    def command(self) -> str:
        """The suite command that runs (or resumes) this grid."""
        return f"{task_command(self.task)} --protocols {self.protocol}"


def task_command(task: str) -> str:
    """The suite command that runs (or resumes) both grids of ``task``."""
    return f"python benchmarks/suite.py --tasks {task}"


def out_dir(results: Path, task: str, protocol: str) -> Path:
    """The compare output folder of (task, protocol) under ``results``."""
    return results / OUT_DIRS.get((task, protocol), f"{task}/{protocol}")


def build_plan(tasks: Sequence[str], protocols: Sequence[str], *, results: Path, seeds: Sequence[int] | None = None,
               epochs: float | None = None, train_limit: int | None = None,
               methods: Sequence[str] | None = None) -> list[Grid]:
    """The grids to run, task by task (protocols in the given order).

    Example:
        >>> [g.out_dir.name for g in build_plan(["rte"], ["matched", "zoo"], results=Path("r"))]
        ['matched', 'zoo']
    """
    grids = []
    for task in tasks:
        if task not in TASKS:
            raise SystemExit(f"error: unknown task {task!r}; the suite's tasks are {', '.join(TASKS)}")
        budget = TASKS[task]
        limit = train_limit if train_limit is not None else budget.train_limit
        for protocol in protocols:
            if protocol not in PROTOCOLS:
                raise SystemExit(f"error: unknown protocol {protocol!r}; use {' or '.join(PROTOCOLS)}")
            unknown = sorted(set(methods or ()) - set(METHODS))
            if unknown:
                raise SystemExit(f"error: unknown method(s) {unknown}; the suite's methods are {', '.join(METHODS)}")
            grids.append(Grid(
                task=task, protocol=protocol, epochs=float(epochs) if epochs is not None else budget.epochs,
                seeds=tuple(seeds) if seeds is not None else tuple(range(budget.seeds)),
                train_size=min(limit, budget.train_size) if limit else budget.train_size,
                eval_size=budget.eval_size, train_limit=limit, out_dir=out_dir(results, task, protocol),
                strategies=STRATEGIES[protocol], methods=tuple(methods) if methods else METHODS,
            ))
    return grids


# --------------------------------------------------------------------------- what is done


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    entries = []
    if not path.is_file():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("result"), dict):
            entries.append(entry)
    return entries


def expected_settings(grid: Grid, strategy: str, method: str | None, seed: int, backbone_id: str) -> dict[str, Any]:
    """The settings compare records for one run of ``grid`` (all but the dataset's names and world size).

    Stage-1 settings are compared through ``Stage1Settings(...).resolved(PRESET)``, as compare builds them.
    """
    from headzoo.train import Stage1Settings

    stage1 = None
    if method:
        pinned = {"learning_rate": STAGE1_LEARNING_RATES[method]} if method in STAGE1_LEARNING_RATES else {}
        stage1 = Stage1Settings(method=method, seed=seed, batch_size=BATCH_SIZE, max_length=MAX_LENGTH,
                                **stage1_overrides(grid), **pinned).resolved(PRESET).to_dict()
    order = {"data_order": DATA_ORDER} if grid.protocol == "matched" and strategy != "ft" else {}
    return {
        "task": grid.task, "backbone": backbone_id, "strategy": strategy, "method": method, "seed": seed,
        "protocol": grid.protocol, "epochs": grid.epochs, "learning_rate": LEARNING_RATE, "batch_size": BATCH_SIZE,
        "max_length": MAX_LENGTH, "warmup_ratio": 0.1, "weight_decay": 0.01, "max_grad_norm": 1.0,
        "group_by_length": True, "stage1_fraction": STAGE1_FRACTION, "preset": PRESET, "stage1": stage1, **order,
    }


def stage2_settings(grid: Grid) -> Any:
    """compare's ``settings`` for ``grid``: the plan's ``headzoo.train.FinetuneSettings`` (compare sets each seed)."""
    from headzoo.train import FinetuneSettings

    return FinetuneSettings(epochs=grid.epochs, learning_rate=LEARNING_RATE, batch_size=BATCH_SIZE,
                            max_length=MAX_LENGTH, protocol=grid.protocol, stage1_fraction=STAGE1_FRACTION,
                            preset=PRESET, data_order=DATA_ORDER, min_steps=0)  # the plan's budget is in epochs


def stage1_overrides(grid: Grid) -> dict[str, Any]:
    """compare's ``stage1_settings`` for ``grid``: the zoo heads' length; nothing for matched (10% of T)."""
    return {"max_steps": grid.stage1_steps} if grid.protocol == "zoo" else {}


def head_matches(grid: Grid, strategy: str, head: Any) -> bool:
    """Whether a record's ``settings.head`` fits the plan: none under matched, the shared head's digest under zoo."""
    if grid.protocol == "zoo" and strategy != "ft":
        return isinstance(head, str) and bool(head)
    return head is None


def version_differences(result: dict[str, Any], version: int | None = None) -> list[str]:
    """``["record_version N"]`` when a record was made with another ``headzoo.train.RECORD_VERSION`` than today's.

    ``result`` is a runs.jsonl line's ``result``; ``version`` the line's own ``record_version`` (the one
    compare decides by; :func:`headzoo.train.record_version`). A record without the field is version 1,
    so the suite's records from before the field existed stay current while ``RECORD_VERSION`` is 1.

    Example:
        >>> version_differences({}), version_differences({"record_version": 0})
        ([], ['record_version 0'])
    """
    from headzoo.train import RECORD_VERSION, record_version

    versions = {record_version(result)} | ({version} if version is not None else set())
    return [f"record_version {v}" for v in sorted(versions - {RECORD_VERSION})]


def settings_differences(grid: Grid, result: dict[str, Any], backbone_id: str, *,
                         version: int | None = None) -> list[str]:
    """What a stored run (``result`` of a runs.jsonl line) has other than the plan's settings for ``grid``.

    Everything compare hashes is compared except the dataset's names, the world size and, under
    zoo, the shared head's digest (any head will do: compare itself keys runs by the full hash).
    Stage-1 settings are named one by one (``stage1.lora_r``; ``(absent)`` when the record lacks one), the
    fields the method does not read left out (``headzoo.train.stage1_record``). A record of another record
    version (:func:`version_differences`; ``version``: the line's ``record_version``) is superseded, whatever
    its settings: compare runs it again.
    """
    from headzoo.train import stage1_record

    settings = result.get("settings") or {}
    keys = version_differences(result, version)
    try:
        expected = expected_settings(grid, result["strategy"], result.get("method"), int(result["seed"]),
                                     backbone_id)
    except (KeyError, TypeError, ValueError):  # headzoo's ConfigError (an unknown method...) is a ValueError
        return [*keys, "unreadable settings"]
    keys += [k for k, v in expected.items() if k != "stage1" and settings.get(k) != v]
    keys += [k for k in ("data_order",) if k in settings and k not in expected]
    plan_s1, s1 = expected.get("stage1") or {}, stage1_record(settings.get("stage1") or {})
    keys += [f"stage1.{k}" + ("" if k in s1 else " (absent)") for k in sorted(set(plan_s1) | set(s1))
             if s1.get(k) != plan_s1.get(k)]
    if not head_matches(grid, result["strategy"], settings.get("head")):
        keys.append("head")
    data = settings.get("data") or {}
    if (data.get("train_size"), data.get("eval_size")) != (grid.train_size, grid.eval_size):
        keys.append(f"data ({data.get('train_size')} train)")
    return keys


def record_matches(grid: Grid, result: dict[str, Any], backbone_id: str, *, version: int | None = None) -> bool:
    """Whether a stored run has the plan's settings for ``grid`` (:func:`settings_differences` finds none)."""
    return not settings_differences(grid, result, backbone_id, version=version)


def finished_runs(grid: Grid, backbone_id: str) -> dict[tuple[str, str | None, int], dict[str, Any]]:
    """The runs of ``grid`` already in its ``runs.jsonl`` with the plan's settings: (strategy, method, seed) -> result.

    This is the dry run's view (no data is loaded); compare itself decides by the full settings hash and
    the line's ``record_version``. A record of another record version is not done: compare runs it again.
    """
    from headzoo.train import record_version

    wanted = set(grid.runs())
    done: dict[tuple[str, str | None, int], dict[str, Any]] = {}
    for entry in _read_jsonl(grid.out_dir / "runs.jsonl"):
        result = entry["result"]
        run = (result.get("strategy"), result.get("method"), result.get("seed"))
        if run in wanted and record_matches(grid, result, backbone_id, version=record_version(entry)):
            done[run] = result
    return done


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _machine_kind(machine: Any) -> tuple[Any, Any]:
    """What makes runs' wall times comparable: the accelerator (None on a CPU) and the CPU core count."""
    machine = machine if isinstance(machine, dict) else {}
    return machine.get("accelerator"), machine.get("cpu_count")


def _this_machine() -> tuple[Any, Any]:
    from headzoo.train import machine_info

    return _machine_kind(machine_info())


def _all_throughputs(results: Path, kind: tuple[Any, Any]) -> list[float]:
    """examples/s of every recorded run made on a machine of ``kind``."""
    values = []
    for path in sorted(results.rglob("runs.jsonl")):
        for entry in _read_jsonl(path):
            eps = entry["result"].get("examples_per_second")
            if isinstance(eps, (int, float)) and eps > 0 and _machine_kind(entry["result"].get("machine")) == kind:
                values.append(float(eps))
    return values


def _kind_label(kind: tuple[Any, Any]) -> str:
    accelerator, cores = kind
    return accelerator or f"CPU, {cores} cores"


def print_plan(grids: Sequence[Grid], *, results: Path, backbone_id: str, out: Callable[[str], None] = print) -> int:
    """Print the plan: per grid the runs, those done, those to do and an estimated cost. Returns the runs to do."""
    kind = _this_machine()  # a GPU's wall times say nothing of a CPU's: estimate from runs made on this kind
    throughputs = _all_throughputs(results, kind)
    eps = statistics.median(throughputs) if throughputs else None
    out(f"suite plan: {len(grids)} grid(s); results in {results}; backbone {backbone_id}")
    out(f"epochs = paper epochs x {EPOCH_SCALE:g}; stage-2 lr {LEARNING_RATE:g}, batch {BATCH_SIZE}, "
        f"max_length {MAX_LENGTH}, stage-1 preset {PRESET!r}"
        + "".join(f" ({m} pinned to {r:g})" for m, r in STAGE1_LEARNING_RATES.items())
        + f", stage 1 = {STAGE1_FRACTION:g} x T, matched data order {DATA_ORDER!r}")
    header = (f"{'task':<5} {'protocol':<8} {'epochs':>6} {'train':>5} {'T':>4} {'s1':>3} {'seeds':>5} "
              f"{'runs':>4} {'done':>4} {'todo':>4}  {'est. time':<10} out")
    out(header)
    total = done_total = 0
    est_total = 0.0
    est_known = True
    notes = []
    for grid in grids:
        done = finished_runs(grid, backbone_id)
        planned = grid.runs()
        todo = len(planned) - len(done)
        walls = [float(r["wall_seconds"]) for r in done.values()
                 if isinstance(r.get("wall_seconds"), (int, float)) and _machine_kind(r.get("machine")) == kind]
        if walls:
            per_run: float | None = statistics.fmean(walls)
        elif eps:
            per_run = (grid.budget_steps * BATCH_SIZE) / eps
        else:
            per_run = None
        est = per_run * todo if per_run is not None else None
        if todo and est is None:
            est_known = False
        est_total += est or 0.0
        total += len(planned)
        done_total += len(done)
        source = "" if not todo else (" (mean of finished)" if walls else " (rough)" if per_run else "")
        try:
            shown = grid.out_dir.relative_to(results.parent)
        except ValueError:
            shown = grid.out_dir
        out(f"{grid.task:<5} {grid.protocol:<8} {grid.epochs:>6g} {grid.train_size:>5} {grid.budget_steps:>4} "
            f"{grid.stage1_steps:>3} {len(grid.seeds):>5} {len(planned):>4} {len(done):>4} {todo:>4}  "
            f"{(_fmt_duration(est) if todo else '-') + source:<10} {shown}")
        if grid.protocol == "zoo":
            heads = grid.out_dir / "heads"
            missing = [m for m in ("probe", *grid.methods) if not (heads / m / "stage1.json").is_file()]
            if missing:
                notes.append(f"{grid.task}/zoo: shared heads compare pretrains first ({grid.stage1_steps} steps "
                             f"each): {', '.join(missing)}")
    out(f"total: {total} runs, {done_total} done, {total - done_total} to do; estimated "
        f"{_fmt_duration(est_total) if est_known else 'unknown (no finished runs to time)'}"
        + (f" (rough grids: training only, at the median {eps:.1f} examples/s of the finished runs)" if eps else "")
        + f"; timed from runs made on this kind of machine ({_kind_label(kind)})")
    for note in notes:
        out(note)
    return total - done_total


# --------------------------------------------------------------------------- running


class StopSuite(Exception):
    """Raised from compare's ``on_run_end`` when the run or time budget is spent (after the run was recorded)."""


class Budget:
    """Counts trained runs and time; :meth:`check` raises :class:`StopSuite` once either budget is spent."""

    def __init__(self, max_runs: int | None, time_budget_s: float | None,
                 log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> None:
        self.max_runs = max_runs
        self.time_budget_s = time_budget_s
        self.start = time.monotonic()
        self.ran = 0
        self.log = log

    def exceeded(self) -> str | None:
        """Why the suite must stop now, or None."""
        if self.max_runs is not None and self.ran >= self.max_runs:
            return f"--max-runs {self.max_runs} reached"
        elapsed = time.monotonic() - self.start
        if self.time_budget_s is not None and elapsed >= self.time_budget_s:
            return f"--time-budget {self.time_budget_s / 60:g} min spent ({elapsed / 60:.1f} min)"
        return None

    def check(self) -> None:
        """Raise :class:`StopSuite` if a budget is spent."""
        reason = self.exceeded()
        if reason:
            raise StopSuite(reason)

    def on_run_end(self, result: Any) -> None:
        """compare's callback: log the run (already in runs.jsonl), count it, stop if a budget is spent."""
        self.ran += 1
        label = result.strategy + (f"({result.method})" if result.method else "")
        self.log(f"[suite] {result.task}/{result.protocol} {label} seed {result.seed}: {result.main_metric} "
                 f"final {result.final_main} best {result.best_main} ({result.wall_seconds:.0f} s)")
        source = (result.stage1 or {}).get("source")
        if result.protocol == "zoo" and result.strategy != "ft" and source != "given":
            raise StopSuite(f"compare made this zoo run's head itself (stage1.source={source!r}), not from one "
                            "shared head per method: this headzoo's compare predates the shared-head zoo "
                            "protocol the suite needs; the run is recorded, nothing more is run")
        self.check()


def task_argument(grid: Grid, data_dir: Path) -> Any:
    """What compare gets as ``task``: the name, or with a train limit a (TaskSpec, DatasetDict) pair.

    ``compare(limit=N)`` caps every split, the dev set included; a train limit must leave the
    dev (test) set whole, so the subset is made here with ``load_task(split="train", limit=N)``.
    """
    if grid.train_limit is None:
        return grid.task
    import datasets

    from headzoo.tasks import get_task, load_task

    spec = get_task(grid.task)
    train = load_task(spec, data_dir, split="train", limit=grid.train_limit)["train"]
    validation = load_task(spec, data_dir, split="validation")["validation"]
    return spec, datasets.DatasetDict({"train": train, "validation": validation})


def run_suite(grids: Sequence[Grid], *, data_dir: Path, backbone: str, budget: Budget,
              log: Callable[[str], None]) -> str | None:
    """Run the grids in rounds by seed through compare; returns why it stopped early, or None when all is done."""
    from headzoo.train import compare

    backbone_id = _resolve_backbone_id(backbone)
    if backbone == BACKBONE and backbone_id != BACKBONE_ID:
        log(f"[suite] warning: {BACKBONE!r} resolves to {backbone_id!r}, not {BACKBONE_ID!r}; the report "
            "will not match these runs to the plan")
    rounds = max(len(g.seeds) for g in grids)
    tasks: dict[tuple[str, int | None], Any] = {}
    try:
        for k in range(rounds):
            for grid in grids:
                if k >= len(grid.seeds):
                    continue
                seeds = grid.seeds[: k + 1]
                done = finished_runs(grid, backbone_id)
                if all(run in done for run in grid.runs(seeds)):
                    continue
                budget.check()
                key = (grid.task, grid.train_limit)
                if key not in tasks:
                    tasks[key] = task_argument(grid, data_dir)
                log(f"[suite] {grid.task}/{grid.protocol}: seeds {', '.join(map(str, seeds))} "
                    f"({len(grid.runs(seeds)) - sum(r in done for r in grid.runs(seeds))} run(s) to train)")
                compare(tasks[key], backbone, strategies=list(grid.strategies), methods=list(grid.methods),
                        seeds=list(seeds), settings=stage2_settings(grid), out_dir=grid.out_dir,
                        stage1_settings=stage1_overrides(grid) or None, stage1_learning_rates=STAGE1_LEARNING_RATES,
                        data_dir=data_dir, on_run_end=budget.on_run_end)
    except StopSuite as stop:
        return str(stop)
    return None


def _child_argv(argv: Sequence[str], grid: Grid) -> list[str]:
    """``argv`` with the grid selection, the job count and the report left to the parent."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--tasks", "--protocols", "--jobs", "--grace"):
            skip = "=" not in arg
            continue
        if name == "--no-report":
            continue
        out.append(arg)
    return [*out, "--tasks", grid.task, "--protocols", grid.protocol, "--no-report"]


def run_parallel(grids: Sequence[Grid], *, argv: Sequence[str], jobs: int, results: Path,
                 time_budget_s: float | None, grace_s: float, log: Callable[[str], None]) -> dict[str, int]:
    """Run each grid in its own ``suite.py`` process, ``jobs`` at a time. Returns the exit status per grid.

    Every grid has its own ``runs.jsonl``, so the processes never write the same file. With a time
    budget, a grid still running ``grace_s`` after it is stopped with SIGTERM (its finished runs stay).
    """
    import subprocess

    logs = results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // min(jobs, len(grids)))))
    pending = list(grids)
    running: dict[str, tuple[subprocess.Popen[bytes], Any]] = {}
    codes: dict[str, int] = {}
    start = time.monotonic()
    deadline = None if time_budget_s is None else start + time_budget_s + grace_s
    try:
        while pending or running:
            while pending and len(running) < jobs and (deadline is None or time.monotonic() < deadline - grace_s):
                grid = pending.pop(0)
                name = f"{grid.task}-{grid.protocol}"
                fh = open(logs / f"{name}.log", "ab")  # closed when the process ends
                cmd = [sys.executable, str(Path(__file__).resolve()), *_child_argv(argv, grid)]
                running[name] = (subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env), fh)
                log(f"[suite] started {name} (log: {logs / (name + '.log')})")
            if time_budget_s is not None and time.monotonic() >= start + time_budget_s:
                pending.clear()  # nothing new once the budget is spent
            for name, (proc, fh) in list(running.items()):
                if proc.poll() is None and deadline is not None and time.monotonic() > deadline:
                    log(f"[suite] {name}: still running {grace_s / 60:g} min after the budget; stopping it")
                    proc.terminate()
                    try:
                        proc.wait(30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                if proc.poll() is not None:
                    fh.close()
                    codes[name] = proc.returncode
                    del running[name]
                    lines = (logs / f"{name}.log").read_text(errors="replace").strip().splitlines()
                    log(f"[suite] {name} exited {proc.returncode}: {lines[-1] if lines else '(no output)'}")
            time.sleep(1)
    finally:
        for proc, fh in running.values():
            proc.terminate()
            proc.wait()
            fh.close()
    minutes = (time.monotonic() - start) / 60
    log(f"[suite] {len(codes)} grid process(es) done in {minutes:.1f} min; "
        f"failed: {sorted(n for n, c in codes.items() if c) or 'none'}")
    return codes


def _resolve_backbone_id(backbone: str) -> str:
    from headzoo.backbone import resolve_backbone

    return resolve_backbone(backbone).id


def _parse_seeds(text: str) -> list[int]:
    text = text.strip()
    if text.isdigit() and "," not in text:
        return list(range(int(text)))
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"error: --seeds takes a count (5) or a list (0,1,2), got {text!r}") from None


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _run_report(results: Path, log: Callable[[str], None]) -> None:
    import report  # benchmarks/report.py: this folder is on sys.path when suite.py runs as a script

    page = report.write_report(results)
    log(f"[suite] report written: {page}")


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/suite.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated tasks (default: all seven)")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS), help="matched, zoo or both (default)")
    parser.add_argument("--seeds", default=None, help="override the table's seeds: a count (3) or a list (0,2)")
    parser.add_argument("--max-runs", type=int, default=None,
                        help="stop after this many trained runs (with --jobs: per grid)")
    parser.add_argument("--time-budget", type=float, default=None, metavar="MIN",
                        help="stop after the current run once this many minutes have passed")
    parser.add_argument("--dry-run", action="store_true", help="print the plan (done / to do / estimated cost) only")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results root (default: results/)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="GLUE / SuperGLUE files (default: $HEADZOO_DATA_DIR, else ../shared/data)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="PET methods of EH-FT (default: all four; fewer leaves rows of the page empty)")
    parser.add_argument("--backbone", default=BACKBONE, help="backbone (default: minilm; others leave the plan)")
    parser.add_argument("--epochs", type=float, default=None,
                        help="override every task's epochs (trials only: other settings, other runs)")
    parser.add_argument("--train-limit", type=int, default=None,
                        help="train on a stratified subset of N examples, dev set whole (trials only)")
    parser.add_argument("--no-report", action="store_true", help="do not regenerate results/README.md at the end")
    parser.add_argument("--jobs", type=int, default=1,
                        help="run this many grids at once, each (task, protocol) in its own process with its own "
                             "runs.jsonl (for a GPU or a many-core machine; logs in <results>/logs/)")
    parser.add_argument("--grace", type=float, default=15.0, metavar="MIN",
                        help="with --jobs and --time-budget: stop a grid still running this many minutes after "
                             "the budget (SIGTERM; its finished runs are kept)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or with ``--dry-run`` print) the suite. Returns the exit status."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = args.results.resolve()
    data_dir = args.data_dir or Path(os.environ.get("HEADZOO_DATA_DIR") or DEFAULT_DATA_DIR)
    if args.max_runs is not None and args.max_runs < 1:
        raise SystemExit("error: --max-runs must be at least 1")
    if args.time_budget is not None and args.time_budget <= 0:
        raise SystemExit("error: --time-budget must be a positive number of minutes")
    grids = build_plan(_split(args.tasks), _split(args.protocols), results=results,
                       seeds=_parse_seeds(args.seeds) if args.seeds else None, epochs=args.epochs,
                       train_limit=args.train_limit, methods=_split(args.methods))
    if not grids:
        raise SystemExit("error: nothing to run (no tasks or protocols)")
    backbone_id = _resolve_backbone_id(args.backbone)
    if args.dry_run:
        print_plan(grids, results=results, backbone_id=backbone_id)
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.jobs < 1:
        raise SystemExit("error: --jobs must be at least 1")
    if args.jobs > 1 and len(grids) > 1:
        codes = run_parallel(grids, argv=list(sys.argv[1:] if argv is None else argv), jobs=args.jobs,
                             results=results, time_budget_s=args.time_budget * 60 if args.time_budget else None,
                             grace_s=args.grace * 60, log=log)
        if not args.no_report:
            _run_report(results, log)
        return 1 if any(code > 0 for code in codes.values()) else 0  # < 0: stopped after the budget, not failed
    budget = Budget(args.max_runs, args.time_budget * 60 if args.time_budget else None, log)
    stopped = run_suite(grids, data_dir=Path(data_dir), backbone=args.backbone, budget=budget, log=log)
    elapsed = (time.monotonic() - budget.start) / 60
    if stopped:
        log(f"[suite] stopped: {stopped}; {budget.ran} run(s) trained in {elapsed:.1f} min. "
            "Run the same command again to continue.")
    else:
        log(f"[suite] every planned run is done ({budget.ran} trained now, {elapsed:.1f} min)")
    if not args.no_report:
        _run_report(results, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
