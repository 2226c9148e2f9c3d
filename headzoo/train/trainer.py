"""The ``transformers.Trainer`` of one stage: arguments, batch plan, step callbacks, checkpoints, evaluations."""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..head import finite
from .data import BatchPlan, PaddingCollator, TaskData
from .runtime import has_accelerator, world_size

logger = logging.getLogger("headzoo.train")


def planned_trainer_class() -> type:
    """A ``Trainer`` subclass whose training batches come from its ``batch_plan`` (a :class:`BatchPlan`) when set.

    Example:
        >>> trainer = planned_trainer_class()(model=model, args=args)  # doctest: +SKIP
    """
    from transformers import Trainer

    class PlannedTrainer(Trainer):
        """A ``Trainer`` whose training batches come from a :class:`BatchPlan` when one is set."""

        batch_plan: BatchPlan | None = None

        def get_train_dataloader(self) -> Any:
            if self.batch_plan is None:
                return super().get_train_dataloader()
            from torch.utils.data import DataLoader

            loader = DataLoader(self.train_dataset, batch_sampler=self.batch_plan, collate_fn=self.data_collator,
                                num_workers=self.args.dataloader_num_workers,
                                pin_memory=self.args.dataloader_pin_memory)
            return self.accelerator.prepare(loader)

    return PlannedTrainer


def epoch_points(length: int, steps_per_epoch: int, offset: int) -> list[int]:
    """Local steps (1..length) of a stage that starts at global step ``offset`` which end an epoch, plus the last.

    Example:
        >>> epoch_points(10, 4, 2)
        [2, 6, 10]
    """
    points = {length}
    k = offset // steps_per_epoch + 1
    while k * steps_per_epoch - offset < length:
        points.add(k * steps_per_epoch - offset)
        k += 1
    return sorted(p for p in points if p >= 1)


def step_points(length: int, every: float) -> list[int]:
    """Local steps (1..length) of a stage every ``every`` steps, plus the last.

    ``every`` below 1 is a fraction of ``length``, rounded up to whole steps, as ``TrainingArguments.eval_steps``
    reads it: 0.2 gives at most 5 points, whatever the length.

    Example:
        >>> step_points(30, 0.2), step_points(3, 0.2), step_points(10, 4)
        ([6, 12, 18, 24, 30], [1, 2, 3], [4, 8, 10])
    """
    interval = max(1, math.ceil(every * length) if every < 1 else int(every))
    return sorted({*range(interval, length, interval), length})


def at_steps_callback(evaluate: Iterable[int], save: Iterable[int]) -> Any:
    """A ``TrainerCallback`` that evaluates and / or saves at the given global steps, whatever the intervals are.

    Example:
        >>> callback = at_steps_callback(evaluate=[8, 16], save=[8])
    """
    from transformers import TrainerCallback

    class AtSteps(TrainerCallback):
        def __init__(self) -> None:
            self.evaluate = set(evaluate)
            self.save = set(save)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if state.global_step in self.evaluate:
                control.should_evaluate = True
            if state.global_step in self.save:
                control.should_save = True
            return control

    return AtSteps()


@dataclass(frozen=True)
class StageSpec:
    """What the Trainer of one stage runs (:func:`make_trainer`).

    Example:
        >>> StageSpec(run_name="headzoo-stage2-ft", max_steps=10, learning_rate=5e-5).evaluate_at
        ()
    """

    run_name: str = field(metadata={"help": "args.run_name: callbacks tell the stages apart by it "
                                            "(headzoo-stage1-<method>, headzoo-stage2-<strategy>)."})
    max_steps: int = field(metadata={"help": "Optimizer steps of the stage."})
    learning_rate: float = field(metadata={"help": "Peak learning rate (linear warmup, then linear decay)."})
    evaluate_at: Iterable[int] = field(default=(), metadata={"help": "Steps after which the stage evaluates."})
    save_at: Iterable[int] = field(default=(), metadata={"help": "Steps after which the stage saves a checkpoint."})
    batches: tuple[int, int] | None = field(
        default=None, metadata={"help": "(start, stop): train on steps start..stop-1 of the run's BatchPlan; "
                                        "None takes the Trainer's own sampler."},
    )
    training_args: Mapping[str, Any] = field(
        default_factory=dict, metadata={"help": "Other transformers.TrainingArguments fields "
                                                "(checked by check_training_args)."},
    )


def make_trainer(model: Any, data: TaskData, output_dir: Path, settings: Any, stage: StageSpec, *,
                 callbacks: Sequence[Any] | None = None, progress: bool = False) -> Any:
    """The Trainer of one stage.

    ``settings`` (a :class:`~headzoo.train.Stage1Settings` or :class:`~headzoo.train.FinetuneSettings`) gives
    the batch size, warmup, weight decay, clipping, seed and grouping; ``stage`` the name, length, learning
    rate, evaluation and checkpoint steps, batch plan slice and any other ``TrainingArguments`` fields.

    Example:
        >>> trainer = make_trainer(model, data, Path("out"), FinetuneSettings(),  # doctest: +SKIP
        ...                        StageSpec(run_name="headzoo-stage2-ft", max_steps=10, learning_rate=5e-5))
    """
    import torch
    from transformers import TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    from ..tasks import metric_fn_for_trainer

    batch_size = settings.batch_size
    max_steps = stage.max_steps
    values: dict[str, Any] = dict(
        output_dir=str(output_dir),
        run_name=stage.run_name,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size * 2,
        max_steps=max_steps,
        learning_rate=stage.learning_rate,
        lr_scheduler_type="linear",
        # floor, not transformers' ceil: a 1-step stage must not spend its only step at learning rate 0
        warmup_steps=int(settings.warmup_ratio * max_steps),
        weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm,
        eval_strategy="no",  # evaluations are placed by the at-steps callback (StageSpec.evaluate_at)
        save_strategy="no",  # so are checkpoints
        save_total_limit=1,
        logging_strategy="steps",
        logging_steps=max(1, min(50, max_steps // 10)),
        report_to="none",
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
        length_column_name="length",
        remove_unused_columns=False,
        label_names=["labels"],
        seed=settings.seed,
        use_cpu=not has_accelerator(),
    )
    values.update(stage.training_args)
    args = TrainingArguments(**values)
    try:
        trainer = planned_trainer_class()(
            model=model,
            args=args,
            train_dataset=data.train,
            eval_dataset=data.validation,
            processing_class=data.tokenizer,
            data_collator=PaddingCollator(data.tokenizer),
            compute_metrics=metric_fn_for_trainer(data.spec),
            callbacks=[at_steps_callback(stage.evaluate_at, stage.save_at), *(callbacks or [])],
        )
    except (RuntimeError, ImportError) as exc:
        if args.report_to in ([], ["none"]):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"report_to={args.report_to!r} could not start: {first}") from exc
    trainer.remove_callback(PrinterCallback)  # the library never prints
    if stage.batches is not None:
        trainer.batch_plan = BatchPlan(
            len(data.train), batch_size, settings.seed,
            lengths=data.train["length"] if settings.group_by_length else None,
            start=stage.batches[0], stop=stage.batches[1], world_size=world_size(),
            accumulation=args.gradient_accumulation_steps,
        )
    return trainer


def clear_checkpoints(directory: Path) -> None:
    """Delete the ``checkpoint-*`` folders in ``directory`` (nothing else).

    Example:
        >>> clear_checkpoints(Path("no-such-dir"))
    """
    if directory.is_dir():
        for child in directory.glob("checkpoint-*"):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def last_complete_checkpoint(directory: Path) -> str | None:
    """The newest ``checkpoint-N`` holding ``trainer_state.json`` (the Trainer writes it last).

    A checkpoint cut off while it was being written (Ctrl-C, a killed job) is deleted, not resumed from.

    Example:
        >>> last_complete_checkpoint(Path("no-such-dir")) is None
        True
    """
    found = [p for p in directory.glob("checkpoint-*") if p.is_dir() and p.name[len("checkpoint-"):].isdigit()]
    complete = [p for p in found if (p / "trainer_state.json").is_file()]
    for partial in set(found) - set(complete):
        logger.info("removing %s: it was cut off while being written", partial)
        shutil.rmtree(partial, ignore_errors=True)
    return str(max(complete, key=lambda p: int(p.name[len("checkpoint-"):]))) if complete else None


def run_trainer(trainer: Any, directory: Path, resume: bool) -> tuple[float, float]:
    """Train (resuming from the last checkpoint in ``directory`` if asked); return (wall, eval) seconds.

    Example:
        >>> wall, evaluation = run_trainer(trainer, Path("out/stage2"), resume=False)  # doctest: +SKIP
    """
    checkpoint = last_complete_checkpoint(directory) if resume and directory.is_dir() else None
    if resume and checkpoint is None:
        logger.info("no checkpoint in %s to resume from; starting from scratch", directory)
    elif checkpoint:
        logger.info("resuming from %s", checkpoint)
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=checkpoint)
    wall = time.perf_counter() - start
    eval_seconds = sum(
        float(e.get("eval_runtime", 0.0)) for e in trainer.state.log_history if "eval_runtime" in e
    )
    return wall, min(eval_seconds, wall)


def metric_dict(raw: Mapping[str, Any], names: Iterable[str]) -> dict[str, float | None]:
    """Task metrics (and the loss) from Trainer output, ``eval_`` prefix removed, NaN -> None.

    Example:
        >>> metric_dict({"eval_accuracy": 0.5, "eval_loss": float("nan")}, ["accuracy"])
        {'accuracy': 0.5, 'loss': None}
    """
    out: dict[str, float | None] = {}
    for name in (*names, "loss"):
        key = f"eval_{name}"
        if key in raw:
            out[name] = finite(raw[key]) if raw[key] is not None else None
    return out


def evaluations(trainer: Any, metric_names: Sequence[str]) -> list[tuple[int, dict[str, float | None]]]:
    """The evaluations in a trainer's log history: ``[(step, metrics), ...]`` sorted by step.

    Example:
        >>> evaluations(trainer, ["accuracy"])  # doctest: +SKIP
        [(8, {'accuracy': 0.62, 'loss': 0.66})]
    """
    out: dict[int, dict[str, float | None]] = {}
    for entry in trainer.state.log_history:
        if "eval_loss" in entry or any(f"eval_{m}" in entry for m in metric_names):
            out[int(entry["step"])] = metric_dict(entry, metric_names)
    return sorted(out.items())
