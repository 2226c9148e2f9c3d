"""Building a whole zoo in one resumable call: one head per (task, method), checked, written to a zoo folder.

:func:`build_zoo` trains one head per (task, method) under one fixed budget
(:class:`~headzoo.zoo_build.budget.ZooBudget`), on the feature the backbone declares unless told otherwise,
checks each head on its task's validation split (:mod:`headzoo.zoo_build.checks`), and writes the heads
whose zero-shot check passes into a zoo folder
(``<out>/heads/<backbone>/<task>/<method>/``).

Resumable: a head whose record has the same build hash (task, backbone, method, budget, data
sizes, feature, :data:`ZOO_BUILD_VERSION`) is not trained or checked again. Under ``torchrun`` /
``accelerate launch`` every process trains, and only rank 0 writes files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..backbone import BackboneRef, resolve_backbone
from ..errors import ConfigError, DataError
from ..head import CONFIG_FILE, Head
from ..head_config import read_config
from ..naming import validate_name
from ..pet import IMPRINT, STAGE1_METHODS
from .budget import ZooBudget, parse_budget
from .checks import check_head
from .context import BuildContext
from .data import ZooTask, task_data, zoo_tasks

logger = logging.getLogger("headzoo.zoo_build")

__all__ = ["DEFAULT_METHODS", "RECORD_FILE", "ZOO_BUILD_VERSION", "ZooHead", "build_zoo"]

#: The version of what a build computes; a head recorded under another version is built again.
ZOO_BUILD_VERSION = 2
#: The build record's file name inside the zoo folder (unless ``record`` is given).
RECORD_FILE = "zoo_build.json"
#: Methods built when none are named.
DEFAULT_METHODS = ("probe",)


@dataclass
class ZooHead:
    """One (task, method) of a build: where its head is (None when left out) and its two checks."""

    task: str
    method: str
    status: str
    path: Path | None
    entry: dict[str, Any]


def _methods(methods: str | Sequence[str]) -> list[str]:
    names = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else [str(m) for m in methods]
    names = [m for m in names if m]
    if not names:
        raise ConfigError(f"no methods given ({methods!r}); pass names like 'probe,imprint'")
    for m in names:
        if m not in STAGE1_METHODS:
            raise ConfigError(f"method {m!r} is not a stage-1 method; choose from {', '.join(STAGE1_METHODS)}")
    return list(dict.fromkeys(names))


def _read_record(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"heads": {}, "random": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("heads"), dict):
            raise ValueError("no 'heads' object")
    except (OSError, ValueError) as exc:
        raise DataError(f"the zoo build record {str(path)!r} is unreadable ({exc}); delete it to build every "
                        "head again") from None
    data.setdefault("random", {})
    return data


def _write_record(path: Path, record: dict[str, Any]) -> None:
    from ..train.records import atomic_write, dumps_json

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, dumps_json(record, indent=2) + "\n")


def _head_hash(head_path: Path) -> str | None:
    try:
        build = read_config(head_path / CONFIG_FILE).training.get("zoo_build") or {}
    except Exception:  # a damaged head is simply built again
        return None
    return build.get("build_hash") if isinstance(build, dict) else None


def build_zoo(
    backbone: str | BackboneRef = "minilm",
    tasks: str | Sequence[str] = "all",
    methods: str | Sequence[str] = DEFAULT_METHODS,
    out: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    record: str | os.PathLike[str] | None = None,
    budget: ZooBudget | Mapping[str, Any] | None = None,
    feature: str | None = None,
    checks: bool = True,
    start_check: bool = False,
    callbacks: Sequence[Any] | None = None,
    progress: bool = False,
    on_head: Callable[[ZooHead], Any] | None = None,
) -> list[Path]:
    """Train, check and write every head of a zoo; return the head folders it holds afterwards.

    Args:
        backbone: the backbone (``"minilm"``, a Hub id or a folder).
        tasks: ``"all"`` (:data:`BUILTIN_ZOO_TASKS` then :data:`ZOO_PACKAGED_SETS`), or names (any packaged set).
        methods: stage-1 methods, e.g. ``"probe,imprint"`` (the default: ``probe``).
        out: the zoo folder (heads go to ``<out>/heads/...``); default: the user's zoo
            (:func:`headzoo.zoo.zoo_home`). The shipped zoo is rebuilt with ``out="headzoo/zoo_data"``.
        data_dir: offline GLUE / SuperGLUE files (default ``$HEADZOO_DATA_DIR``, else the Hub).
        record: the build record (JSON); default ``<out>/zoo_build.json``.
        budget: a :class:`~headzoo.zoo_build.budget.ZooBudget` or a dict of its fields.
        feature: the feature the heads read (``"sentence-embedding"``, ``"sequence-classification"``); None or
            ``"auto"``: what the backbone declares (see :func:`headzoo.finetune`).
        checks: run check (a) on the validation split and leave out the heads whose 95 % interval is not above
            the majority class (a constant prediction); False writes every head.
        start_check: also run check (b), fine-tuning from each head against a random head (minutes per head;
            reported in the record, not a condition to ship).
        callbacks, progress: passed to the Trainer runs.
        on_head: called with a :class:`ZooHead` after each (task, method), built or skipped.

    Returns:
        The folders of the heads now in the zoo for these tasks and methods, in build order
        (empty on ranks other than 0, which write nothing).

    Raises:
        ConfigError: unknown tasks, methods, budget fields or feature.
        PoolingConfigError: ``"sentence-embedding"`` for a backbone that declares no sentence embedding.
        DataError: a task's data is missing (the message says how to get it).

    Example:
        >>> from headzoo.zoo_build import build_zoo
        >>> build_zoo("minilm", "cb", "bitfit", out="my-zoo", data_dir="../shared/data")  # doctest: +SKIP
        [PosixPath('my-zoo/heads/sentence-transformers--all-MiniLM-L6-v2/cb/bitfit')]
    """
    from ..train import is_main_process, settings_hash
    from ..train.data import resolve_data_feature
    from ..zoo import zoo_home

    task_names = zoo_tasks(tasks)
    method_names = _methods(methods)
    plan = parse_budget(budget)
    ref = backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone)
    kind = resolve_data_feature(ref, feature)
    root = Path(out).expanduser() if out is not None else zoo_home()
    record_path = Path(record).expanduser() if record is not None else root / RECORD_FILE
    book = _read_record(record_path)
    main = is_main_process()
    book.update(version=ZOO_BUILD_VERSION, backbone=ref.id, feature=kind, rule=plan.rule(), budget=asdict(plan),
                start_check=bool(checks and start_check))
    written: list[Path] = []
    scratch = Path(tempfile.gettempdir()) / f"headzoo-zoo-build-{settings_hash(str(root.resolve()))}"
    ctx = BuildContext(ref, plan, root, book, scratch, kind, checks=checks, start_check=bool(checks and start_check),
                       main=main, callbacks=callbacks, progress=progress)
    try:
        for name in task_names:
            task = ZooTask(*task_data(name, data_dir, plan))
            for method in method_names:
                if method == IMPRINT and task.spec.is_regression:
                    logger.info("zoo build: %s/imprint skipped: a regression task has no class means", name)
                    continue
                result = _build_one(task, method, ctx)
                if main:
                    _write_record(record_path, book)
                if result.path is not None and main:  # other ranks write nothing
                    written.append(result.path)
                if on_head is not None:
                    on_head(result)
    finally:
        if main:
            shutil.rmtree(scratch, ignore_errors=True)
    return written


def _ladder(task: ZooTask, method: str, ctx: BuildContext) -> tuple[tuple[int, ...], list[str]]:
    """The stage-1 lengths an attempt may take, in order, and the build hash of each."""
    from ..train import settings_hash

    # An imprint trains nothing: one attempt, no step count (retraining would give the same rows).
    ladder = (0,) if _closed_form(task, method, ctx) else ctx.plan.ladder if ctx.checks else ctx.plan.ladder[:1]
    hashes = [settings_hash({"version": ZOO_BUILD_VERSION, "task": task.spec.name, "backbone": ctx.ref.id,
                             "method": method, "budget": ctx.plan.attempt(steps), "data": task.sizes,
                             "feature": ctx.feature, "checks": ctx.checks, "start_check": ctx.start_check})
              for steps in ladder]
    return ladder, hashes


def _closed_form(task: ZooTask, method: str, ctx: BuildContext) -> bool:
    """Whether the method sets the head without optimizer steps on this feature (an imprint; a sentence probe)."""
    from ..train.budget import makes_no_steps

    return makes_no_steps(method, ctx.feature, task.spec.problem_type)


def _build_one(task: ZooTask, method: str, ctx: BuildContext) -> ZooHead:
    """One (task, method): the stage-1 lengths of the budget's ladder in turn until a head passes check (a)."""
    spec = task.spec
    key = f"{spec.name}/{method}"
    ladder, hashes = _ladder(task, method, ctx)
    target = ctx.root / "heads" / ctx.ref.slug / validate_name(spec.name, "task") / validate_name(method, "method")
    entry = ctx.book["heads"].get(key)
    first, earlier = 0, []
    if isinstance(entry, dict) and entry.get("build_hash") in hashes:
        done = hashes.index(entry["build_hash"])
        if entry.get("status") == "shipped" and _head_hash(target) == entry["build_hash"]:
            logger.info("zoo build: %s already built; skipped", key)
            return ZooHead(spec.name, method, "shipped", target, entry)
        if entry.get("status") == "left out":
            if done == len(hashes) - 1:
                logger.info("zoo build: %s already checked at every length and left out; skipped", key)
                return ZooHead(spec.name, method, "left out", None, entry)
            first = done + 1
            earlier = [*entry.get("attempts", []), _summary(entry)]
        else:
            first = done
            earlier = list(entry.get("attempts", []))
    for i in range(first, len(ladder)):
        entry, head = _attempt(task, method, ladder[i], hashes[i], ctx)
        entry["attempts"] = earlier
        if entry["status"] == "shipped":
            break
        earlier = [*earlier, _summary(entry)]
        if i + 1 < len(ladder):
            logger.info("zoo build: %s failed check (a) at %d steps; trying %d", key, ladder[i], ladder[i + 1])
            if ctx.main:
                ctx.book["heads"][key] = entry  # resumable from here
    status = entry["status"]
    if ctx.main:
        if status == "shipped":
            head.save(target, overwrite=True)
            entry["bytes"] = {name: (target / name).stat().st_size for name in sorted(os.listdir(target))}
        elif target.exists():
            shutil.rmtree(target)
    ctx.book["heads"][key] = entry
    logger.info("zoo build: %s %s", key, status)
    return ZooHead(spec.name, method, status, target if status == "shipped" else None, entry)


def _summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An earlier, failed attempt as the record keeps it."""
    return {k: entry.get(k) for k in ("build_hash", "stage1_steps", "stage1_metrics", "checks", "status")}


def _attempt(task: ZooTask, method: str, steps: int, build_hash: str,
             ctx: BuildContext) -> tuple[dict[str, Any], Head]:
    """Train one head for ``steps`` stage-1 steps and run its checks; return its record entry and the head."""
    from ..train import pretrain_head
    from ..train.runtime import machine_info

    spec, plan, info = task.spec, ctx.plan, task.info
    closed_form = _closed_form(task, method, ctx)
    start = time.perf_counter()
    data = task.closed_form_data if closed_form else task.stage1_data
    head = pretrain_head((spec, data), ctx.ref, method, feature=ctx.feature, settings={
        **({"max_steps": steps} if steps else {}), "batch_size": plan.batch_size, "max_length": plan.max_length,
        "seed": plan.seed}, preset=plan.preset, save=False, output_dir=ctx.scratch / "stage1" / spec.name / method,
        callbacks=ctx.callbacks, progress=ctx.progress)
    stage1_seconds = time.perf_counter() - start
    head.config.training["zoo_build"] = {
        "build_hash": build_hash, "version": ZOO_BUILD_VERSION, "rule": plan.rule(), "stage1_steps": steps,
        "train_subset": f"{info['closed_form_train_size' if closed_form else 'stage1_train_size']} of "
                        f"{info['train_size']} training examples "
                        f"(stratified, seed {plan.seed})",
        **({"data": {k: info[k] for k in ("package", "package_version", "file", "title", "source", "license",
                                           "license_note")}} if "package" in info else {}),
    }
    entry = {"task": spec.name, "method": method, "feature": ctx.feature, "build_hash": build_hash,
             "stage1_steps": steps,
             "labels": list(spec.labels), "main_metric": spec.main_metric, "data": info,
             "stage1_seconds": round(stage1_seconds, 1), "stage1_metrics": head.config.metrics,
             "machine": machine_info()}
    status = "shipped"
    if ctx.checks:
        entry["checks"] = check_head(head, method, task, ctx)
        status = "shipped" if entry["checks"]["zero_shot"]["passes"] else "left out"
    entry["status"] = status
    return entry, head
