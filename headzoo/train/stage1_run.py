"""One stage-1 training run: a head trained together with a PET method, and the cache of such heads.

:func:`train_stage1` is what :func:`~headzoo.train.pretrain_head`, stage 1 of
:func:`~headzoo.train.finetune`, the shared heads of :func:`~headzoo.train.compare` and the
learning-rate search all run. A stage-1 head is cached as ``<dir>/head`` plus ``<dir>/stage1.json``
holding the settings hash it was made under.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backbone import backbone_fingerprint
from ..errors import HeadzooError
from ..head import Head
from ..pet import IMPRINT, prepare, trainable_parameter_count, unwrap
from .args import PRESETS, Stage1Settings
from .budget import makes_no_steps
from .context import RunOptions
from .data import TaskData, build_model, examples_seen, steps_per_epoch
from .head_starts import imprint_stage1, probe_stage1
from .records import atomic_write, clean_json, dumps_json
from .trainer import StageSpec, clear_checkpoints, epoch_points, make_trainer, metric_dict, run_trainer

logger = logging.getLogger("headzoo.train")

STAGE1_FILE = "stage1.json"


@dataclass
class Stage1Run:
    """A stage-1 head and what its training measured (``info``: source, steps, metrics, seconds...).

    Example:
        >>> run = train_stage1(data, Stage1Job(settings, preset="headzoo", steps=8),  # doctest: +SKIP
        ...                    output_dir=Path("s1"), options=RunOptions())
        >>> run.info["steps"]  # doctest: +SKIP
        8
    """

    head: Head
    info: dict[str, Any]


@dataclass(frozen=True)
class Stage1Job:
    """What one stage-1 run trains (:func:`train_stage1`).

    Attributes:
        settings: the stage-1 settings (a learning rate of None takes ``preset``'s rate for the method).
        preset: ``"headzoo"`` or ``"paper"``; recorded with the head.
        steps: optimizer steps to make.
        training_args: other ``transformers.TrainingArguments`` fields.
        planned: take the first ``steps`` batches of the run's :class:`~headzoo.train.data.BatchPlan`
            (``data_order="continue"``).
        evaluate: evaluate the head on the validation split at the end.
        extra: merged into the head's ``training`` record.

    Example:
        >>> Stage1Job(Stage1Settings(method="bitfit"), preset="headzoo", steps=8).planned
        False
    """

    settings: Stage1Settings
    preset: str
    steps: int
    training_args: Mapping[str, Any] = field(default_factory=dict)
    planned: bool = False
    evaluate: bool = True
    extra: Mapping[str, Any] | None = None


def target_modules_of(peft_model: Any) -> list[str] | None:
    """The modules a peft model's default adapter targets, sorted (None when it has no such list).

    Example:
        >>> target_modules_of(object()) is None
        True
    """
    config = getattr(peft_model, "peft_config", {}).get("default")
    targets = getattr(config, "target_modules", None)
    if targets is None:
        return None
    return sorted(targets) if not isinstance(targets, str) else [targets]


def train_stage1(data: TaskData, job: Stage1Job, *, output_dir: Path, options: RunOptions) -> Stage1Run:
    """Train a head with PET for ``job.steps`` optimizer steps; return it (unwrapped, trained copy) and what happened.

    ``options`` gives ``resume``, ``callbacks`` and ``progress`` (stage 1 keeps no checkpoint of its own after
    the run; its caller clears them).

    ``method="imprint"`` trains nothing: the head is imprinted from the training data in one forward
    pass (:func:`~headzoo.train.head_starts.imprint_stage1`), with no steps, checkpoints or Trainer.

    Example:
        >>> run = train_stage1(data, Stage1Job(Stage1Settings(method="bitfit"), preset="headzoo",  # doctest: +SKIP
        ...                    steps=8), output_dir=Path("s1"), options=RunOptions())
    """
    settings, steps = job.settings, job.steps
    if settings.method == IMPRINT:
        return Stage1Run(*imprint_stage1(data, settings, evaluate=job.evaluate, extra=job.extra))
    if makes_no_steps(settings.method, data.feature, data.spec.problem_type):  # the probe on frozen embeddings
        return Stage1Run(*probe_stage1(data, settings, evaluate=job.evaluate, extra=job.extra))
    training_args = dict(job.training_args)
    batch = settings.batch_size * int(training_args.get("gradient_accumulation_steps", 1))
    per_epoch = steps_per_epoch(len(data.train), batch)
    model = build_model(data, settings.seed)
    fingerprint = backbone_fingerprint(model)  # before training: BitFit changes backbone biases
    trainable = prepare(model, settings.method, settings)
    n_trainable = trainable_parameter_count(trainable)
    if not options.resume:
        clear_checkpoints(output_dir)
    stage = StageSpec(
        run_name=f"headzoo-stage1-{settings.method}", max_steps=steps,
        learning_rate=float(settings.learning_rate or PRESETS[job.preset][settings.method]),
        save_at=tuple(p for p in epoch_points(steps, per_epoch, 0) if p < steps),
        batches=(0, steps) if job.planned else None, training_args=training_args,
    )
    trainer = make_trainer(trainable, data, output_dir, settings, stage, callbacks=options.callbacks,
                           progress=options.progress)
    wall, _ = run_trainer(trainer, output_dir, options.resume)
    eval_start = time.perf_counter()
    metrics = metric_dict(trainer.evaluate(), data.spec.metrics) if job.evaluate else {}
    eval_seconds = time.perf_counter() - eval_start
    plain = unwrap(trainer.model)
    train_seconds = max(wall, 1e-9)
    examples = examples_seen(steps, per_epoch, len(data.train), batch)
    training: dict[str, Any] = {
        **data.info,
        **({"data_license": data.spec.license_metadata} if data.spec.license_metadata else {}),
        "preset": job.preset,
        "method": settings.method,
        "learning_rate": settings.learning_rate,
        "steps": steps,
        "epochs": round(steps / per_epoch, 4),
        "steps_per_epoch": per_epoch,
        "batch_size": settings.batch_size,
        "max_length": settings.max_length,
        "warmup_ratio": settings.warmup_ratio,
        "weight_decay": settings.weight_decay,
        "max_grad_norm": settings.max_grad_norm,
        "seed": settings.seed,
        "group_by_length": settings.group_by_length,
        "trainable_parameters": n_trainable,
        "wall_seconds": round(wall + eval_seconds, 3),
        **({"training_args": training_args} if training_args else {}),
        **(job.extra or {}),
    }
    if settings.method == "lora":
        training.update(lora_r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout)
    if settings.method in ("lora", "ia3"):
        training["target_modules"] = target_modules_of(trainable)
    if settings.method == "prefix":
        training["prefix_length"] = settings.prefix_length
    if settings.method == "probe":
        training["backbone_dropout"] = settings.backbone_dropout
    head = Head.from_model(
        plain,
        task=data.spec.name,
        backbone=data.backbone.id,
        backbone_revision=data.backbone.revision,
        backbone_fingerprint=fingerprint,
        method=settings.method,
        training=clean_json(training),
        metrics={k: v for k, v in metrics.items() if v is not None},
    )
    info = {
        "source": "trained",
        "method": settings.method,
        "steps": steps,
        "learning_rate": settings.learning_rate,
        "metrics": metrics,
        "wall_seconds": round(wall + eval_seconds, 3),
        "examples_per_second": round(examples / train_seconds, 3),
        "trainable_parameters": n_trainable,
        "train_examples": examples,
    }
    logger.info("stage 1 (%s, %d steps): %s", settings.method, steps, metrics)
    return Stage1Run(head, info)


def write_stage1(directory: Path, settings_hash: str, run: Stage1Run) -> Path:
    """Cache a stage-1 head in ``directory`` under ``settings_hash``; return the ``stage1.json`` path.

    Example:
        >>> write_stage1(Path("run/stage1"), "abc123", run)  # doctest: +SKIP
    """
    run.head.save(directory / "head", overwrite=True, card=False)
    return atomic_write(directory / STAGE1_FILE,
                        dumps_json({"settings_hash": settings_hash, "info": run.info}, indent=2))


def read_stage1(directory: Path, settings_hash: str) -> tuple[Head, dict[str, Any]] | None:
    """The head and info cached in ``directory`` if they were made under ``settings_hash``, else None.

    Example:
        >>> read_stage1(Path("no-such-dir"), "abc123") is None
        True
    """
    try:
        stored = json.loads((directory / STAGE1_FILE).read_text(encoding="utf-8"))
        if stored.get("settings_hash") != settings_hash:
            return None
        return Head.load(directory / "head"), dict(stored["info"])
    except (OSError, ValueError, KeyError, TypeError, HeadzooError):
        return None
