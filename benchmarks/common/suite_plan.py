"""The reproduction suite's plan: its tasks, budgets and grids, and what its records must hold.

The suite (``python -m benchmarks.suite``) runs this plan through :func:`headzoo.train.compare`; its report
(``python -m benchmarks.report``) reads the plan to tell current records from superseded ones. The budgets and
protocols are described in :mod:`benchmarks.suite`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .records import ROOT, read_runs_jsonl, record_version

REPO_ROOT = ROOT
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
    return f"python -m benchmarks.suite --tasks {task}"


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
                            preset=PRESET, data_order=DATA_ORDER, min_steps=0,  # the plan's budget is in epochs
                            eval_strategy="epoch")  # best-epoch figures: an evaluation at every epoch boundary


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
    from headzoo.train import RECORD_VERSION

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

    wanted = set(grid.runs())
    done: dict[tuple[str, str | None, int], dict[str, Any]] = {}
    for entry in read_runs_jsonl(grid.out_dir / "runs.jsonl"):
        result = entry["result"]
        run = (result.get("strategy"), result.get("method"), result.get("seed"))
        if run in wanted and record_matches(grid, result, backbone_id, version=record_version(entry)):
            done[run] = result
    return done
