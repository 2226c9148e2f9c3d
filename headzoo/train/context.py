"""One stage-2 run as one value: what it trains, its budget, its hashed settings, its folder and how it runs.

:func:`plan_run` builds a :class:`Run` once; :func:`~headzoo.train.finetune` and every grid cell of
:func:`~headzoo.train.compare` hand it to the stage-2 internals (:mod:`headzoo.train.stage2`) instead of
threading a dozen arguments through them. :func:`run_settings` is what a run hashes: its hash keys
checkpoints, ``result.json`` and the grid's ``runs.jsonl``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..head import Head
from ..labels import check_label_map
from ..zoo import zoo_home
from .args import FinetuneSettings, Stage1Settings, hashed_training_args
from .budget import Budget
from .data import TaskData
from .records import clean_json, settings_hash
from .runtime import world_size


@dataclass(frozen=True)
class RunOptions:
    """How a run is carried out, not what it computes: nothing here enters the settings hash.

    Attributes:
        resume: continue from the last checkpoints; a finished stage-2 run returns its stored result.
        callbacks: ``transformers.TrainerCallback`` objects, used by both stages.
        progress: show the Trainer's tqdm bar.
        save_checkpoints: stage 2 checkpoints where it evaluates (for ``resume``; epoch boundaries under
            ``eval_strategy="epoch"``, else the ``"steps"`` points).
        keep_checkpoints: keep the checkpoints after a successful run.

    Example:
        >>> RunOptions(resume=True).save_checkpoints
        True
    """

    resume: bool = False
    callbacks: Sequence[Any] | None = None
    progress: bool = False
    save_checkpoints: bool = True
    keep_checkpoints: bool = False


@dataclass(frozen=True)
class Run:
    """One planned stage-2 run (see :func:`plan_run`).

    Attributes:
        data: the prepared task data.
        settings: the stage-2 settings (this run's seed, the protocol that applies).
        strategy, method: the checked strategy and stage-1 method (None for FT).
        head: the given head to start from (a :class:`Head`, a folder or Hub repo id), or None.
        stage1: the stage-1 settings as recorded (the run's seed, batch size and max length, the learning rate
            resolved from the preset), or None for FT.
        label_map: the task's label -> the given head's label, or None.
        budget: the run's :class:`~headzoo.train.budget.Budget`.
        hashed_settings: every setting of the run (:func:`run_settings`); ``settings_hash`` is its hash.
        output_dir: where checkpoints and ``result.json`` go.
        options: how the run is carried out.

    Example:
        >>> run = plan_run(data, FinetuneSettings(), strategy="ft", method=None,  # doctest: +SKIP
        ...                stage1=Stage1Settings())
        >>> run.name  # doctest: +SKIP
        'ft-none-seed0-f3d1e92767ea'
    """

    data: TaskData
    settings: FinetuneSettings
    strategy: str
    method: str | None
    head: Any
    stage1: Stage1Settings | None
    label_map: Mapping[str, str] | None
    budget: Budget
    hashed_settings: dict[str, Any]
    settings_hash: str
    output_dir: Path
    options: RunOptions

    @property
    def name(self) -> str:
        """``<strategy>-<method>-seed<seed>-<settings hash>``: the run's folder under the runs of its task."""
        return f"{self.strategy}-{self.method or 'none'}-seed{self.settings.seed}-{self.settings_hash}"


def head_id(head: Any) -> str | None:
    """What identifies a given head in the settings hash: its tensors' digest, or its path / repo id.

    Example:
        >>> head_id("heads/cb-lora")
        'heads/cb-lora'
    """
    if head is None:
        return None
    if isinstance(head, Head):
        digest = hashlib.sha256()
        for name in sorted(head.tensors):
            digest.update(name.encode())
            digest.update(head.tensors[name].detach().cpu().contiguous().float().numpy().tobytes())
        return "sha256:" + digest.hexdigest()[:16]
    return os.fspath(head)


def run_settings(data: TaskData, cfg: FinetuneSettings, *, strategy: str, method: str | None, stage1: Stage1Settings,
                 head: Any = None, label_map: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting of one run (JSON-ready), built from ``asdict(cfg)``; its hash keys checkpoints and grid runs.

    The protocol is the one that applies (``"auto"`` resolved: :meth:`FinetuneSettings.resolved`, ``zoo`` with a
    ``head``). ``data_order`` is recorded only where it acts (``matched``, a strategy with a stage 1), and
    ``training_args`` only when it holds a field that changes what the run computes
    (:func:`~headzoo.train.args.hashed_training_args`), so runs keep the hashes they had before these existed;
    ``label_map`` likewise only when one is given, ``eval_strategy`` only when it is not ``"epoch"`` (the
    evaluations a result holds differ), ``eval_steps`` only under ``"steps"``, and ``min_steps`` only where it
    raises the budget.

    Example:
        >>> run_settings(data, FinetuneSettings(), strategy="ft", method=None,  # doctest: +SKIP
        ...              stage1=Stage1Settings())
    """
    cfg = cfg.resolved(head_given=head is not None)
    stage1_cfg = replace(stage1, method=method or stage1.method, seed=cfg.seed, batch_size=cfg.batch_size,
                         max_length=data.max_length).resolved(cfg.preset) if method else None
    own = asdict(cfg)
    data_order = own.pop("data_order")
    eval_strategy = own.pop("eval_strategy")
    eval_steps = own.pop("eval_steps")
    min_steps = own.pop("min_steps")
    floor_binds = Budget.of(cfg, len(data.train)).floor_binds
    hashed = hashed_training_args(own.pop("training_args"))
    own.update(epochs=float(cfg.epochs), max_length=data.max_length)
    return clean_json({
        "task": data.spec.name, "backbone": data.backbone.id, "strategy": strategy, "method": method, **own,
        "stage1": stage1_cfg.to_dict() if stage1_cfg else None, "data": data.info, "world_size": world_size(),
        "head": head_id(head),
        **({"data_order": data_order} if cfg.protocol == "matched" and strategy != "ft" else {}),
        **({"training_args": hashed} if hashed else {}),
        **({"eval_strategy": eval_strategy} if eval_strategy != "epoch" else {}),
        **({"eval_steps": eval_steps} if eval_strategy == "steps" else {}),
        **({"min_steps": min_steps} if floor_binds else {}),
        **({"label_map": dict(sorted(check_label_map(label_map).items()))} if label_map else {}),
    })


def plan_run(data: TaskData, settings: FinetuneSettings, *, strategy: str, method: str | None,
             stage1: Stage1Settings, head: Any = None, label_map: Mapping[str, str] | None = None,
             output_dir: str | os.PathLike[str] | None = None, options: RunOptions | None = None) -> Run:
    """The :class:`Run` of a checked ``strategy`` / ``method``: its budget, hashed settings and folder, once.

    ``output_dir`` defaults to ``<zoo home>/runs/<backbone>/<task>/<run name>``. The run's settings hold the
    protocol that applies (:meth:`FinetuneSettings.resolved`: ``"auto"`` is ``"zoo"`` from a given ``head``).

    Example:
        >>> run = plan_run(data, FinetuneSettings(epochs=2), strategy="eh-ft", method="lora",  # doctest: +SKIP
        ...                stage1=Stage1Settings(), options=RunOptions(resume=True))
        >>> run.budget.stage1, run.budget.stage2  # doctest: +SKIP
        (3, 27)
    """
    settings = settings.resolved(head_given=head is not None)
    hashed = run_settings(data, settings, strategy=strategy, method=method, stage1=stage1, head=head,
                          label_map=label_map)
    run = Run(
        data=data, settings=settings, strategy=strategy, method=method, head=head,
        stage1=Stage1Settings.from_any(hashed["stage1"]) if hashed["stage1"] else None, label_map=label_map,
        budget=Budget.of(settings, len(data.train), strategy=strategy, method=method, head_given=head is not None,
                         feature=data.feature, problem_type=getattr(data.spec, "problem_type", None)),
        hashed_settings=hashed, settings_hash=settings_hash(hashed), output_dir=Path(),
        options=options if options is not None else RunOptions(),
    )
    default = zoo_home() / "runs" / data.backbone.slug / data.spec.name / run.name
    return replace(run, output_dir=Path(output_dir) if output_dir is not None else default)
