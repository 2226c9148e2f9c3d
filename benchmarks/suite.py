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
    python -m benchmarks.suite --dry-run                       # the plan, what is done, estimated cost
    python -m benchmarks.suite --time-budget 120               # train for about two hours, then stop
    python -m benchmarks.suite --tasks cb,copa --protocols zoo --max-runs 3
    python -m benchmarks.suite --jobs 14 --time-budget 7 --grace 1.5  # all 14 grids at once (a GPU)
    git add results/*/runs.jsonl results/*/*/runs.jsonl results/*/zoo/heads results/README.md results/plots
    python -m benchmarks.report                                # regenerate results/README.md (done after a run)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common.records import machine_info, read_runs_jsonl
from benchmarks.common.suite_plan import (
    BACKBONE,
    BACKBONE_ID,
    BATCH_SIZE,
    DATA_ORDER,
    DEFAULT_DATA_DIR,
    DEFAULT_RESULTS,
    EPOCH_SCALE,
    LEARNING_RATE,
    MAX_LENGTH,
    METHODS,
    PRESET,
    PROTOCOLS,
    REPO_ROOT,
    STAGE1_FRACTION,
    STAGE1_LEARNING_RATES,
    TASKS,
    Grid,
    build_plan,
    finished_runs,
    stage1_overrides,
    stage2_settings,
)


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
    return _machine_kind(machine_info())


def _all_throughputs(results: Path, kind: tuple[Any, Any]) -> list[float]:
    """examples/s of every recorded run made on a machine of ``kind``."""
    values = []
    for path in sorted(results.rglob("runs.jsonl")):
        for entry in read_runs_jsonl(path):
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


def child_command(argv: Sequence[str], grid: Grid) -> list[str]:
    """The command line of the process that runs one grid: ``python -m benchmarks.suite`` for that grid alone."""
    return [sys.executable, "-m", "benchmarks.suite", *_child_argv(argv, grid)]


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
                running[name] = (subprocess.Popen(child_command(argv, grid), stdout=fh, stderr=subprocess.STDOUT,
                                                  env=env, cwd=REPO_ROOT), fh)
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
    """Write the results page with ``python -m benchmarks.report`` (a study never imports another)."""
    import subprocess

    subprocess.run([sys.executable, "-m", "benchmarks.report", "--results", str(results)], check=True,
                   cwd=REPO_ROOT)
    log(f"[suite] report written: {results / 'README.md'}")


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.suite", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
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
