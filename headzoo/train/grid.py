"""The paper's comparison as a library call: :func:`compare` runs strategies x PET methods x seeds.

Each finished run is a line of ``out_dir/runs.jsonl`` (the run cache), keyed by
strategy, method, seed and settings hash, so an interrupted grid resumes and changed
settings never reuse stale runs. The table and plot come from :mod:`headzoo.train.report`.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..backbone import BackboneRef
from ..errors import ConfigError, DataError
from ..head import Head
from ..pet import STAGE1_METHODS
from ..zoo import zoo_home
from .args import (
    AUTO_PROTOCOL,
    STRATEGIES,
    FinetuneSettings,
    Stage1Settings,
    check_choice,
    check_int,
    check_learning_rates,
    stage1_record,
)
from .budget import Budget, stage1_steps
from .context import RunOptions, plan_run
from .data import TaskData, prepare_data
from .records import (
    RECORD_VERSION,
    atomic_write,
    clean_json,
    dumps_json,
    read_runs,
    record_version,
    run_key,
    settings_hash,
    write_runs,
)
from .report import compare_markdown, compare_plot, label
from .results import CompareResult, FinetuneResult
from .runtime import is_main_process, quiet_progress, world_size
from .stage1_run import Stage1Job, read_stage1, train_stage1, write_stage1
from .stage2 import run_finetune

logger = logging.getLogger("headzoo.train")

RUNS_FILE = "runs.jsonl"
RESULTS_JSON = "results.json"
RESULTS_MD = "results.md"
RESULTS_PNG = "results.png"


def build_grid(strategies: Sequence[str], methods: Sequence[str],
               seeds: Sequence[int]) -> list[tuple[str, str | None, int]]:
    """The checked runs of a grid as ``(strategy, method, seed)``, seed by seed, duplicates dropped.

    Example:
        >>> build_grid(["ft", "eh-ft"], ["lora"], [0])
        [('ft', None, 0), ('eh-ft', 'lora', 0)]
    """
    if isinstance(strategies, str) or isinstance(methods, str):
        raise ConfigError(f"strategies and methods must be lists, got {strategies!r} and {methods!r}")
    cells: list[tuple[str, str | None]] = []
    for strategy in strategies:
        check_choice("strategy", strategy, STRATEGIES)
        if strategy == "ft":
            cells.append(("ft", None))
        elif strategy == "lp-ft":
            cells.append(("lp-ft", "probe"))
        else:
            if not methods:
                raise ConfigError("strategy 'eh-ft' needs at least one method, got methods=()")
            for method in methods:
                check_choice("method", method, STAGE1_METHODS)
                cells.append(("eh-ft", method))
    unique_cells = list(dict.fromkeys(cells))
    if not seeds:
        raise ConfigError("seeds must name at least one seed, got ()")
    for s in seeds:
        check_int("seed", s, 0, 2**32 - 1)
    return [(strategy, method, seed) for seed in dict.fromkeys(seeds) for strategy, method in unique_cells]


def current_keys(runs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each stored run's key under today's settings hash -> its key in ``runs.jsonl``.

    The hash is taken again from the settings a record stores, with
    :func:`~headzoo.train.args.stage1_record` applied, so a run recorded with a stage-1 field
    its method does not read is still found. Records of another
    :data:`~headzoo.train.records.RECORD_VERSION` are left out: they are run again.

    Example:
        >>> current_keys({})
        {}
    """
    index = {key: key for key, entry in runs.items() if record_version(entry) == RECORD_VERSION}
    for key, entry in runs.items():
        if record_version(entry) != RECORD_VERSION:
            continue
        try:
            settings = dict(entry["result"]["settings"])
            if isinstance(settings.get("stage1"), Mapping):
                settings["stage1"] = stage1_record(settings["stage1"])
            index[run_key(entry["strategy"], entry["method"], entry["seed"], settings_hash(settings))] = key
        except (KeyError, TypeError, ValueError):
            continue  # compare runs such a record again
    return index


def summarise(runs: Sequence[FinetuneResult], main: str) -> list[dict[str, Any]]:
    """One row per (strategy, method): n, mean / std of the final and best main metric, per-seed values.

    Example:
        >>> summarise([], "accuracy")
        []
    """
    rows: dict[tuple[str, str | None], list[FinetuneResult]] = {}
    for run in runs:
        rows.setdefault((run.strategy, run.method), []).append(run)
    summary = []
    for (strategy, method), group in rows.items():
        finals = [r.final_main for r in group if r.final_main is not None]
        bests = [r.best_main for r in group if r.best_main is not None]
        summary.append({
            "label": label(strategy, method),
            "strategy": strategy,
            "method": method,
            "n": len(group),
            "mean": statistics.fmean(finals) if finals else None,
            "std": statistics.stdev(finals) if len(finals) > 1 else (0.0 if finals else None),
            "best_mean": statistics.fmean(bests) if bests else None,
            "best_std": statistics.stdev(bests) if len(bests) > 1 else (0.0 if bests else None),
            "per_seed": {str(r.seed): r.final_main for r in group},
            "per_seed_best": {str(r.seed): r.best_main for r in group},
            "wall_seconds_mean": statistics.fmean(r.wall_seconds for r in group),
            "stage1_steps": group[0].stage1_steps,
            "stage2_steps": group[0].stage2_steps,
        })
    return clean_json(summary)


def shared_head_settings(data: TaskData, stage1: Mapping[str, Any], steps: int, preset: str) -> dict[str, Any]:
    """What keys a ``zoo`` protocol head (its hash is stored beside it in ``stage1.json``).

    Example:
        >>> settings_hash(shared_head_settings(data, cfg.to_dict(), 8, "headzoo"))  # doctest: +SKIP
    """
    return {"task": data.spec.name, "backbone": data.backbone.id, "settings": dict(stage1), "steps": steps,
            "data": data.info, "preset": preset, "world_size": world_size()}


def shared_head(data: TaskData, root: Path, method: str, *, stage1: Stage1Settings, cfg: FinetuneSettings,
                callbacks: Sequence[Any] | None, progress: bool) -> Head:
    """The ``zoo`` protocol's head for ``method``: trained once into ``root/<method>``, reused while settings match.

    Example:
        >>> head = shared_head(data, Path("grid/heads"), "lora", stage1=Stage1Settings(),  # doctest: +SKIP
        ...                    cfg=FinetuneSettings(protocol="zoo"), callbacks=None, progress=False)
    """
    settings = replace(stage1, method=method, batch_size=cfg.batch_size,
                       max_length=data.max_length).resolved(cfg.preset)
    steps = stage1_steps(settings, len(data.train), cfg.accumulation)
    hashed = shared_head_settings(data, settings.to_dict(), steps, cfg.preset)
    if cfg.training_args:
        hashed["training_args"] = dict(cfg.training_args)
    head_hash = settings_hash(hashed)
    directory = root / method
    stored = read_stage1(directory, head_hash)
    if stored is not None:
        logger.info("zoo protocol: reusing the %s head in %s", method, directory)
        return stored[0]
    logger.info("zoo protocol: pretraining the shared %s head (%d steps)", method, steps)
    job = Stage1Job(replace(settings, max_steps=steps), preset=cfg.preset, steps=steps,
                    training_args=cfg.training_args)
    trained = train_stage1(data, job, output_dir=directory / "checkpoints",
                           options=RunOptions(resume=True, callbacks=callbacks, progress=progress))
    if is_main_process():
        write_stage1(directory, head_hash, trained)
        shutil.rmtree(directory / "checkpoints", ignore_errors=True)
    return trained.head


def compare(
    task: Any,
    backbone: str | BackboneRef | None = None,
    *,
    model: Any = None,
    feature: str | None = None,
    strategies: Sequence[str] = ("ft", "lp-ft", "eh-ft"),
    methods: Sequence[str] = ("lora", "bitfit"),
    seeds: Sequence[int] = (0, 1, 2),
    settings: FinetuneSettings | Mapping[str, Any] | None = None,
    stage1_settings: Stage1Settings | Mapping[str, Any] | None = None,
    stage1_learning_rates: Mapping[str, float] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    callbacks: Sequence[Any] | None = None,
    on_run_end: Callable[[FinetuneResult], None] | None = None,
    progress: bool = False,
    **overrides: Any,
) -> CompareResult:
    """Run the grid strategies × PET methods × seeds and write a report.

    ``ft`` runs once per seed, ``lp-ft`` once per seed (method ``probe``), ``eh-ft``
    once per method and seed. Each finished run is appended to
    ``out_dir/runs.jsonl`` as it ends, keyed by (strategy, method, seed,
    settings hash); a second call with the same settings skips the runs found
    there (an interrupted grid resumes; a run cut off mid-way resumes from its
    last epoch checkpoint), while changed settings never reuse stale runs.
    Written atomically: ``runs.jsonl``, ``results.json`` (runs + summary),
    ``results.md`` (a Markdown table: mean ± std, per-seed values, wall time)
    and ``results.png`` (per-seed points and means).

    Args:
        task, backbone, model, feature, settings, stage1_settings, data_dir, limit, callbacks, progress, **overrides:
            as in :func:`~headzoo.train.finetune` (every run trains copies of ``model``;
            ``settings.seed`` is replaced by each grid seed; with ``limit``, each seed draws its own subset).
            The protocol is ``"matched"`` unless ``"zoo"`` is asked for (``"auto"``, the settings' default, is
            ``"matched"`` here).
        strategies: subset of ``("ft", "lp-ft", "eh-ft")``.
        methods: PET methods of ``eh-ft``. A ``learning_rate`` in ``stage1_settings`` applies to every
            method (probe included); leave it None to take each method's preset rate.
        stage1_learning_rates: per-method stage-1 learning rates (``{"ia3": 0.09}``; ``"probe"`` for
            LP-FT); they win over ``stage1_settings`` and the preset for the methods they name.
        seeds: the seeds.
        out_dir: output folder; default ``<zoo home>/runs/<backbone>/<task>/compare``.
        on_run_end: called with each :class:`FinetuneResult` trained by this call, as it ends.

    Returns:
        A :class:`CompareResult`; ``files`` names the files written, ``markdown`` holds the table.

    Example:
        >>> from headzoo.train import compare
        >>> res = compare("cb", "minilm", seeds=(0, 1), epochs=10, data_dir="data",  # doctest: +SKIP
        ...               out_dir="cb-grid")
        >>> print(res.markdown)  # doctest: +SKIP
    """
    cfg = FinetuneSettings.from_any(settings, **overrides)
    if cfg.protocol == AUTO_PROTOCOL:
        cfg = replace(cfg, protocol="matched")  # the paper's comparison: every strategy makes the same steps
    rates = check_learning_rates(stage1_learning_rates)
    cells = build_grid(strategies, methods, seeds)
    stage1 = Stage1Settings.from_any(stage1_settings)
    with quiet_progress(progress):
        data = prepare_data(task, backbone, data_dir=data_dir, limit=limit, max_length=cfg.max_length, seed=cfg.seed,
                            model=model, feature=feature)
        out = Path(out_dir) if out_dir is not None else (
            zoo_home() / "runs" / data.backbone.slug / data.spec.name / "compare"
        )
        per_seed: dict[int, TaskData] = {cfg.seed: data}

        def data_for(seed: int) -> TaskData:
            if limit is None:
                return data
            if seed not in per_seed:
                per_seed[seed] = prepare_data(task, data.backbone, data_dir=data_dir, limit=limit,
                                              max_length=cfg.max_length, seed=seed, model=model, feature=feature)
            return per_seed[seed]

        grid = GridPlan(
            data=data, data_for=data_for, out=out, settings=cfg, stage1=stage1, stage1_learning_rates=rates,
            cells=cells, strategies=tuple(strategies), methods=tuple(methods), seeds=tuple(seeds),
            options=RunOptions(resume=True, callbacks=callbacks, progress=progress), on_run_end=on_run_end,
        )
        return run_grid(grid)


@dataclass(frozen=True)
class GridPlan:
    """One :func:`compare` call, checked: its data, cells, settings and folder, and how each run is carried out.

    Attributes:
        data: the data of the settings' seed; ``data_for(seed)`` gives each seed's (its own subset under a limit).
        out: the grid's folder.
        settings: the stage-2 settings (each cell replaces the seed).
        stage1, stage1_learning_rates: the stage-1 settings, and the per-method rates that win over them.
        cells: the runs as ``(strategy, method, seed)`` (:func:`build_grid`).
        strategies, methods, seeds: as asked, for the record.
        options: how every run is carried out (resumed from the grid's folder).
        on_run_end: called with each result trained by this call.

    Example:
        >>> run_grid(GridPlan(data, lambda seed: data, Path("grid"), FinetuneSettings(),  # doctest: +SKIP
        ...                   Stage1Settings(), {}, build_grid(["ft"], [], [0]), ("ft",), (), (0,),
        ...                   RunOptions(resume=True), None))
    """

    data: TaskData
    data_for: Callable[[int], TaskData]
    out: Path
    settings: FinetuneSettings
    stage1: Stage1Settings
    stage1_learning_rates: Mapping[str, float]
    cells: list[tuple[str, str | None, int]]
    strategies: tuple[str, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    options: RunOptions
    on_run_end: Callable[[FinetuneResult], None] | None = None

    def stage1_for(self, method: str | None) -> Stage1Settings:
        """The stage-1 settings of ``method``'s cells: its rate from ``stage1_learning_rates`` where one is given."""
        rates = self.stage1_learning_rates
        return replace(self.stage1, learning_rate=rates[method]) if method in rates else self.stage1


def run_grid(grid: GridPlan) -> CompareResult:
    """Run (or reuse from ``runs.jsonl``) every cell of ``grid``, then write its results and report.

    Example:
        >>> outcome = run_grid(grid)  # doctest: +SKIP
    """
    results, ran, reused = run_cells(grid)
    data, cfg = grid.data, grid.settings
    spec = data.spec
    main = spec.main_metric
    summary = summarise(results, main)
    meta = {
        "protocol": cfg.protocol, "epochs": cfg.epochs, "budget_steps": Budget.of(cfg, len(data.train)).total,
        "batch_size": cfg.batch_size, "learning_rate": cfg.learning_rate, "stage1_fraction": cfg.stage1_fraction,
        "preset": cfg.preset, "seeds": list(dict.fromkeys(grid.seeds)), "data_order": cfg.data_order,
        "eval_strategy": cfg.eval_strategy,
        "stage1_learning_rates": dict(grid.stage1_learning_rates),
    }
    markdown = compare_markdown(spec.name, data.backbone.id, main, summary, results, meta)
    out = grid.out
    outcome = CompareResult(task=spec.name, backbone=data.backbone.id, out_dir=str(out), main_metric=main,
                            runs=results, summary=summary, files={}, ran=ran, reused=reused, markdown=markdown)
    if is_main_process():
        outcome.files = {name: str(out / name) for name in (RUNS_FILE, RESULTS_JSON, RESULTS_MD, RESULTS_PNG)}
        payload = {**outcome.to_dict(), "settings": {**meta, "max_length": cfg.max_length, "data": data.info,
                                                     "stage1": asdict(grid.stage1), "methods": list(grid.methods),
                                                     "strategies": list(grid.strategies),
                                                     **({"training_args": cfg.training_args}
                                                        if cfg.training_args else {})}}
        atomic_write(out / RESULTS_JSON, dumps_json(payload, indent=2) + "\n")
        atomic_write(out / RESULTS_MD, markdown)
        compare_plot(out / RESULTS_PNG, spec.name, main, summary)
    return outcome


def run_cells(grid: GridPlan) -> tuple[list[FinetuneResult], int, int]:
    """Every cell's result, as ``(results, ran, reused)``: a run stored in ``runs.jsonl`` under its key is reused.

    Each run trained here is appended to ``runs.jsonl`` as it ends (an interrupted grid resumes).

    Example:
        >>> results, ran, reused = run_cells(grid)  # doctest: +SKIP
    """
    runs_path = grid.out / RUNS_FILE
    done = read_runs(runs_path)
    stored_keys = current_keys(done)
    results: list[FinetuneResult] = []
    ran = reused = 0
    shared: dict[str, Head] = {}
    if grid.settings.protocol == "zoo":
        # the zoo protocol: one head per method, pretrained once (the publisher's cost), shared by every seed
        for method in dict.fromkeys(m for s, m, _ in grid.cells if s != "ft" and m):
            shared[method] = shared_head(grid.data, grid.out / "heads", method, stage1=grid.stage1_for(method),
                                         cfg=grid.settings, callbacks=grid.options.callbacks,
                                         progress=grid.options.progress)
    for strategy, method, seed in grid.cells:
        run = plan_run(grid.data_for(seed), replace(grid.settings, seed=seed), strategy=strategy, method=method,
                       stage1=grid.stage1_for(method), head=shared.get(method) if method else None,
                       options=grid.options)
        key = run_key(strategy, method, seed, run.settings_hash)
        if key in stored_keys:
            try:
                results.append(FinetuneResult.from_dict(done[stored_keys[key]]["result"]))
                reused += 1
                continue
            except (KeyError, TypeError, DataError) as exc:
                logger.warning("stored run %s is unreadable (%s); running it again", key, exc)
        result = run_finetune(replace(run, output_dir=grid.out / "runs" / run.name))
        result.model = None  # free memory; the grid keeps numbers only
        results.append(result)
        ran += 1
        if is_main_process():
            done[key] = {"key": key, "strategy": strategy, "method": method, "seed": seed,
                         "settings_hash": run.settings_hash, "record_version": RECORD_VERSION,
                         "result": result.to_dict()}
            write_runs(runs_path, done)
        if grid.on_run_end is not None:
            grid.on_run_end(result)
    return results, ran, reused
