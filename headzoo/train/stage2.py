"""Stage 2 as a library call: :func:`finetune` (FT, LP-FT or EH-FT), in three steps.

1. :func:`resolve_start`: the head stage 2 starts from (none, given, the zoo's, or trained here).
2. The stage-2 Trainer run from a fresh backbone plus that head.
3. :func:`build_result`: the :class:`FinetuneResult` from the evaluations.

:func:`run_finetune` runs all three for a planned :class:`~headzoo.train.context.Run` (its data, settings,
budget, hash and folder, built once by :func:`~headzoo.train.context.plan_run`);
:func:`~headzoo.train.compare` runs it per grid cell.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..backbone import BackboneRef, backbone_fingerprint, resolve_backbone
from ..errors import ConfigError, HeadzooError
from ..head import Head
from ..labels import check_label_map
from ..loading import resolve_head
from ..pet import IMPRINT, STAGE1_METHODS
from ..tasks import CLASSIFICATION
from ..zoo import find_in_zoo
from .args import STRATEGIES, FinetuneSettings, Stage1Settings, bad_value, check_choice
from .budget import Budget, makes_no_steps, stage1_steps
from .context import Run, RunOptions, plan_run
from .data import backbone_for, build_model, examples_seen, load_raw, prepare_data
from .head_starts import start_from_head
from .records import RECORD_VERSION, atomic_write, dumps_json
from .results import FinetuneResult
from .runtime import is_main_process, machine_info, quiet_progress
from .stage1_run import Stage1Job, read_stage1, train_stage1, write_stage1
from .trainer import (
    StageSpec,
    clear_checkpoints,
    epoch_points,
    evaluations,
    make_trainer,
    metric_dict,
    run_trainer,
    step_points,
)

logger = logging.getLogger("headzoo.train")

RESULT_FILE = "result.json"


def resolve_strategy(strategy: Any, method: Any, head: Any) -> tuple[str, str | None]:
    """The checked ``(strategy, stage-1 method)`` of a run: FT takes none, LP-FT ``probe``, EH-FT a PET method.

    Example:
        >>> resolve_strategy("lp-ft", None, None)
        ('lp-ft', 'probe')
    """
    strategy = check_choice("strategy", strategy, STRATEGIES)
    if strategy == "ft":
        if method is not None:
            raise ConfigError(f"strategy 'ft' starts from a random head and takes no method, got method={method!r}")
        if head is not None:
            raise ConfigError("strategy 'ft' starts from a random head; use strategy='eh-ft' to start from a head")
        return strategy, None
    if strategy == "lp-ft":
        if method not in (None, "probe"):
            raise ConfigError(f"strategy 'lp-ft' trains the head alone (method 'probe'), got method={method!r}")
        return strategy, "probe"
    return strategy, check_choice("method", method or "lora", STAGE1_METHODS)


def load_given_head(head: Any, backbone: BackboneRef) -> Head:
    """``head`` as a :class:`Head`: itself, or resolved from a folder or Hub repo id for ``backbone``.

    Example:
        >>> load_given_head("heads/cb-lora", resolve_backbone("minilm"))  # doctest: +SKIP
    """
    if isinstance(head, Head):
        return head
    if isinstance(head, (str, os.PathLike)):
        return resolve_head(head, backbone.id)
    raise bad_value("head", head, "a Head, a head folder, a Hub repo id or None")


@dataclass
class Start:
    """The head stage 2 starts from (None for FT) and what stage 1 cost.

    ``steps`` is charged to stage 1; ``seconds`` is its wall time, ``examples`` and ``train_seconds``
    its training examples and training time (for the run's throughput).
    """

    head: Head | None = None
    info: dict[str, Any] | None = None
    steps: int = 0
    seconds: float = 0.0
    examples: int = 0
    train_seconds: float = 0.0


def resolve_start(run: Run) -> Start:
    """Step 1 of a run: the starting head, given, taken from the zoo (``zoo`` protocol) or trained here.

    A head trained here is cached in ``<output_dir>/stage1`` under the run's settings hash, so ``resume``
    reuses it.

    Example:
        >>> start = resolve_start(plan_run(data, cfg, strategy="eh-ft", method="lora",  # doctest: +SKIP
        ...                                stage1=Stage1Settings()))
    """
    if run.strategy == "ft":
        return Start()
    cfg = run.settings
    if run.head is not None:
        found: Head | None = load_given_head(run.head, run.data.backbone)
        source = "given"
    elif cfg.protocol == "zoo":
        path = find_in_zoo(run.data.spec.name, run.data.backbone, run.method, source="all")  # yours, then shipped
        found = Head.load(path) if path is not None else None
        source = "zoo"
    else:
        found = None
    if found is not None:
        recorded = found.config.training.get("steps")
        steps = run.budget.stage1 if cfg.protocol == "matched" else int(recorded or 0)
        info = {
            "source": source, "method": found.config.method, "steps": steps,
            "head_steps": recorded, "learning_rate": found.config.training.get("learning_rate"),
            "metrics": dict(found.config.metrics), "wall_seconds": found.config.training.get("wall_seconds"),
        }
        return Start(head=found, info=info, steps=steps)
    return train_start(run)


def train_start(run: Run) -> Start:
    """Step 1 when no head is given or found: stage 1 trained here (or read back from its cache on ``resume``).

    Under ``matched`` it makes the budget's stage-1 steps (an imprint makes none); under ``zoo`` the length
    its settings give (:func:`~headzoo.train.budget.stage1_steps`).

    Example:
        >>> start = train_start(plan_run(data, cfg, strategy="lp-ft", method="probe",  # doctest: +SKIP
        ...                              stage1=Stage1Settings()))
    """
    cfg, stage1, data = run.settings, run.stage1, run.data
    if stage1 is None:
        raise ConfigError(f"strategy {run.strategy!r} needs stage-1 settings to train its head")
    if cfg.protocol == "matched":
        steps = run.budget.stage1
    else:
        steps = stage1_steps(stage1, len(data.train), cfg.accumulation)
    if makes_no_steps(stage1.method, data.feature, data.spec.problem_type):
        steps = 0  # no optimizer step (an imprint, a probe on frozen embeddings): stage 2 gets the whole budget
    planned = cfg.protocol == "matched" and cfg.data_order == "continue"
    stage1_dir = run.output_dir / "stage1"
    stored = read_stage1(stage1_dir, run.settings_hash) if run.options.resume else None
    if stored is not None and stored[0].config.backbone_fingerprint != backbone_fingerprint(
        build_model(data, cfg.seed)
    ):
        logger.warning("the stored stage-1 head in %s was made for other backbone weights; training it again",
                       stage1_dir)
        stored = None
    if stored is not None:
        trained_head, info = stored
    else:
        # planned: one batch plan for both stages, grouped as the run says
        grouping = {"group_by_length": cfg.group_by_length} if planned else {}
        job = Stage1Job(
            replace(stage1, max_steps=steps or None, **grouping), preset=cfg.preset, steps=steps,
            training_args=cfg.training_args, planned=planned,
            # matched: stage 2 evaluates through the run; a separate dev pass for stage 1 would only cost time
            evaluate=cfg.protocol != "matched",
        )
        trained = train_stage1(data, job, output_dir=stage1_dir, options=run.options)
        trained_head, info = trained.head, trained.info
        if is_main_process():
            write_stage1(stage1_dir, run.settings_hash, trained)
            clear_checkpoints(run.output_dir / "stage2")  # they started from an older head
    examples = int(info.get("train_examples") or 0)
    per_second = info.get("examples_per_second") or 0
    return Start(head=trained_head, info=info, steps=steps, seconds=float(info.get("wall_seconds") or 0.0),
                 examples=examples, train_seconds=examples / per_second if per_second else 0.0)


def build_result(run: Run, trainer: Any, start: Start, *, wall_seconds: float,
                 eval_seconds: float) -> FinetuneResult:
    """Step 3 of a run: final and best evaluation, steps, seconds and throughput as a :class:`FinetuneResult`.

    ``wall_seconds`` and ``eval_seconds`` are stage 2's (:func:`~headzoo.train.trainer.run_trainer`).

    Example:
        >>> result = build_result(run, trainer, Start(), wall_seconds=30.0, eval_seconds=3.0)  # doctest: +SKIP
    """
    data, cfg, budget = run.data, run.settings, run.budget
    spec = data.spec
    found = evaluations(trainer, spec.metrics)
    if not found or found[-1][0] != budget.stage2:
        found.append((budget.stage2, metric_dict(trainer.evaluate(), spec.metrics)))
    history = [
        {"epoch": round((budget.stage1 + step) / budget.steps_per_epoch, 4), "step": budget.stage1 + step,
         "stage": 2, **metrics}
        for step, metrics in found
    ]
    main = spec.main_metric

    def score(entry: Mapping[str, Any]) -> float:
        value = entry.get(main)
        return value if isinstance(value, (int, float)) else -math.inf

    best_entry = max(history, key=score)  # max() keeps the earliest of equal scores
    final_entry = history[-1]
    stage2_examples = examples_seen(budget.stage2, budget.steps_per_epoch, len(data.train), cfg.effective_batch_size)
    train_seconds = (wall_seconds - eval_seconds) + start.train_seconds
    return FinetuneResult(
        task=spec.name,
        backbone=data.backbone.id,
        strategy=run.strategy,
        method=run.method,
        seed=cfg.seed,
        protocol=cfg.protocol,
        main_metric=main,
        final={k: v for k, v in final_entry.items() if k not in ("epoch", "step", "stage")},
        best={k: v for k, v in best_entry.items() if k not in ("epoch", "step", "stage")},
        best_epoch=best_entry["epoch"],
        best_step=best_entry["step"],
        history=history,
        stage1=start.info,
        steps_per_epoch=budget.steps_per_epoch,
        budget_steps=budget.total,
        stage1_steps=start.steps,
        stage2_steps=budget.stage2,
        stage1_seconds=round(start.seconds, 3),
        stage2_seconds=round(wall_seconds, 3),
        examples_per_second=(round((stage2_examples + start.examples) / train_seconds, 3)
                             if train_seconds > 0 else None),
        settings=run.hashed_settings,
        settings_hash=run.settings_hash,
        output_dir=str(run.output_dir),
        machine=machine_info(),
        record_version=RECORD_VERSION,
        model=trainer.model,
    )


def stage2_points(cfg: FinetuneSettings, budget: Budget) -> tuple[list[int], list[int]]:
    """Where stage 2 evaluates and checkpoints, as ``(evaluate_at, save_at)`` in its own steps (1..stage2).

    ``eval_strategy="steps"``: every ``eval_steps`` steps and at the end (:func:`~headzoo.train.trainer.step_points`);
    ``"epoch"``: at every epoch boundary, counted over the whole budget, and at the end; ``"no"``: at the end.
    Checkpoints go at the evaluation points before the end, at the ``"steps"`` points under ``"no"``.

    Example:
        >>> stage2_points(FinetuneSettings(), Budget.of(FinetuneSettings(), 16))
        ([6, 12, 18, 24, 30], [6, 12, 18, 24])
        >>> cfg = FinetuneSettings(eval_strategy="epoch")
        >>> stage2_points(cfg, Budget.of(cfg, 100))
        ([4, 8, 12, 16, 20, 24, 28, 30], [4, 8, 12, 16, 20, 24, 28])
    """
    if cfg.eval_strategy == "epoch":
        points = epoch_points(budget.stage2, budget.steps_per_epoch, budget.stage1)
    else:
        points = step_points(budget.stage2, cfg.eval_steps)
    evaluate_at = [budget.stage2] if cfg.eval_strategy == "no" else points
    return evaluate_at, [p for p in points if p < budget.stage2]


def _no_stage2_left(cfg: FinetuneSettings, budget: Budget) -> ConfigError:
    return ConfigError(
        f"the budget of {budget.total} step(s) ({cfg.epochs} epoch(s) of {budget.steps_per_epoch}, min_steps "
        f"{cfg.min_steps}) leaves nothing for stage 2 after {budget.stage1} stage-1 step(s); raise epochs or "
        f"min_steps, or lower stage1_fraction (got {cfg.stage1_fraction})"
    )


def _stored_result(run: Run) -> FinetuneResult | None:
    path = run.output_dir / RESULT_FILE
    if not path.is_file():
        return None
    try:
        stored = FinetuneResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, HeadzooError) as exc:
        logger.warning("ignoring unreadable %s: %s", path, exc)
        return None
    if stored.settings_hash == run.settings_hash and stored.record_version == RECORD_VERSION:
        logger.info("run in %s already finished; returning its stored result", run.output_dir)
        return stored
    return None


def run_finetune(run: Run) -> FinetuneResult:
    """One stage-2 run on prepared data (what :func:`finetune` and each grid cell of ``compare`` run).

    ``run.label_map`` (model label -> head label) applies to a given ``run.head`` (see :func:`finetune`).

    Example:
        >>> result = run_finetune(plan_run(data, FinetuneSettings(epochs=2), strategy="ft",  # doctest: +SKIP
        ...                                method=None, stage1=Stage1Settings()))
    """
    cfg, budget, options = run.settings, run.budget, run.options
    if budget.floor_binds:
        logger.info("budget: %d steps (min_steps; %g epoch(s) of %d step(s) would be %d)", budget.total, cfg.epochs,
                    budget.steps_per_epoch, budget.epoch_steps)
    if options.resume and (stored := _stored_result(run)) is not None:
        return stored
    if budget.stage2 < 1:
        raise _no_stage2_left(cfg, budget)
    start = resolve_start(run)

    # step 2: a fresh backbone + the head, full fine-tuning
    model = build_model(run.data, cfg.seed)
    if start.head is not None:  # labels by name / label_map; rows of labels the head lacks imprinted from train
        labels = start_from_head(model, start.head, run.data, label_map=run.label_map, batch_size=cfg.batch_size * 2)
        if start.info is not None and (run.label_map or start.info.get("source") == "given"):
            start.info["labels"] = labels
    stage2_dir = run.output_dir / "stage2"
    if not options.resume:
        clear_checkpoints(stage2_dir)
    evaluate_at, save_at = stage2_points(cfg, budget)
    stage = StageSpec(
        run_name=f"headzoo-stage2-{run.strategy}", max_steps=budget.stage2, learning_rate=cfg.learning_rate,
        evaluate_at=evaluate_at, save_at=save_at if options.save_checkpoints else (),
        batches=(budget.stage1, budget.total) if run.hashed_settings.get("data_order") == "continue" else None,
        training_args=cfg.training_args,
    )
    trainer = make_trainer(model, run.data, stage2_dir, cfg, stage, callbacks=options.callbacks,
                           progress=options.progress)
    wall_seconds, eval_seconds = run_trainer(trainer, stage2_dir, options.resume)
    result = build_result(run, trainer, start, wall_seconds=wall_seconds, eval_seconds=eval_seconds)
    if is_main_process():
        atomic_write(run.output_dir / RESULT_FILE, dumps_json(result.to_dict(), indent=2) + "\n")
        if not options.keep_checkpoints:
            clear_checkpoints(stage2_dir)
            clear_checkpoints(run.output_dir / "stage1")
    final = result.final_main
    logger.info("%s%s seed %d: final %s %s", run.strategy, f" ({run.method})" if run.method else "", cfg.seed,
                result.main_metric, f"{final:.4f}" if isinstance(final, float) else final)
    return result


def finetune(
    task: Any,
    backbone: str | BackboneRef | None = None,
    *,
    model: Any = None,
    feature: str | None = None,
    strategy: str | None = None,
    method: str | None = None,
    head: Head | str | os.PathLike[str] | None = None,
    settings: FinetuneSettings | Mapping[str, Any] | None = None,
    stage1_settings: Stage1Settings | Mapping[str, Any] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    callbacks: Sequence[Any] | None = None,
    progress: bool = False,
    save_checkpoints: bool = True,
    keep_checkpoints: bool = False,
    label_map: Mapping[str, str] | None = None,
    **overrides: Any,
) -> FinetuneResult:
    """Stage 2: fully fine-tune from a random head (FT), a probed head (LP-FT) or a PET-trained head (EH-FT).

    The default start (no ``strategy``, ``method`` or ``head``) is ``head="auto"``: the zoo head that
    :func:`headzoo.suggest_heads` ranks first on your training data, or an imprint of your class means when that
    ranks first; never a random head. A regression or multi-label task, which suggest does not rank, gets the
    paper's EH-FT (a LoRA stage 1). The transfer benchmark behind this choice: ``results/transfer/README.md``.

    Budget (see :mod:`headzoo.train`): ``T = max(min_steps, round(epochs * steps_per_epoch))`` steps; the floor
    ``min_steps`` (30) gives a few dozen examples enough steps, ``min_steps=0`` counts epochs alone.
    ``protocol="auto"`` (the default) is ``"zoo"`` when the run starts from a head it did not train (``head``, a
    task's head, ``head="auto"``'s zoo head) and ``"matched"`` otherwise; ``result.protocol`` says which applied.
    ``protocol="matched"``: stage 1 takes ``max(1, round(stage1_fraction * T))``
    steps and stage 2 the rest, so FT, LP-FT and EH-FT make the same number of
    steps (a given ``head`` is charged the same stage-1 steps). ``protocol="zoo"``:
    stage 2 makes all ``T`` steps from a given head, the zoo's head for
    ``(task, backbone, method)`` (your zoo first, then the shipped one), or, when neither has one, a head trained here
    with ``stage1_settings`` (default one epoch); stage-1 cost is reported apart.

    Stage 2 starts from a freshly loaded backbone with the head applied, is
    evaluated on the validation split every ``eval_steps`` steps (by default a fifth of its steps, so at most
    5 evaluations whatever the epoch length) and at its end, and keeps the final and the best evaluation
    (``eval_strategy="epoch"``: at every epoch boundary, counted over the whole budget, and at its end;
    ``eval_strategy="no"``: at its end only, which is then both).
    Stage 1 uses this call's ``seed``, ``batch_size``, ``max_length`` and training arguments.

    Args:
        task: a task name, a ``TaskSpec``, a ``datasets.Dataset`` / ``DatasetDict`` (see
            :func:`headzoo.tasks.dataset_task`) or a ``(TaskSpec, DatasetDict)`` pair.
        backbone: Hub id, alias or local folder; default ``"minilm"``, or with ``model`` its ``name_or_path``.
        model: an already built ``*ForSequenceClassification`` model with the task's ``num_labels``, instead
            of loading ``backbone``. Both stages train deep copies of it, so it is never changed (peft and
            BitFit would change it in place) and stage 2 starts from its weights as given, with the head
            from stage 1 (or, for FT, a head initialised afresh with the seed).
        feature: what the head reads: ``"sentence-embedding"`` (the sentence embedding the backbone declares,
            as sentence-transformers computes it), ``"sequence-classification"`` (the model's own head path),
            ``"auto"`` (what the backbone declares) or None (the same as ``"auto"``).
        strategy: ``"ft"``, ``"lp-ft"`` or ``"eh-ft"``; None (the default): ``"eh-ft"``, from ``head="auto"``
            when neither ``head`` nor ``method`` is given (see above).
        method: the stage-1 PET method for ``eh-ft`` (default ``"lora"``); ``lp-ft`` implies ``"probe"``.
        head: start from this head instead of training one: a :class:`Head`, a head folder, a Hub repo id,
            or a task name, found in the zoo for this backbone (``head="sst2"``: a head of another task,
            used on purpose). Its labels match the task's by name (ignoring case and space), through
            ``label_map``, or partly: the task's labels the head lacks are imprinted from the training data
            (:mod:`headzoo.imprint`), and ``result.stage1["labels"]`` holds the one-line report
            (``"2 of 3 rows from sst2/lora (negative, positive); new: neutral (imprinted from 120 examples)"``).
            ``head="auto"`` takes the top of :func:`headzoo.suggest.suggest_heads` on the training data (an
            imprint of it when ``"imprint"`` is on top); ``result.stage1["suggested"]`` says which.
        settings: a :class:`FinetuneSettings` (or dict of its fields): epochs, learning_rate,
            batch_size, max_length, seed, protocol, stage1_fraction, preset, warmup_ratio,
            weight_decay, max_grad_norm, group_by_length, data_order, eval_strategy, eval_steps, training_args.
        stage1_settings: :class:`Stage1Settings` (or dict) for stage 1; its method, seed,
            batch size and max length are replaced by this call's.
        data_dir, limit: data source and subset size (a stratified subset drawn with the seed).
        output_dir: checkpoints and ``result.json``; default under ``<zoo home>/runs/``.
        resume: continue from the last checkpoints in ``output_dir``; a finished run
            returns its stored result (without ``model``).
        callbacks: ``transformers.TrainerCallback`` objects, used by both stages.
        progress: show the Trainer's tqdm bar.
        save_checkpoints: checkpoint where stage 2 evaluates (for ``resume``; see ``eval_strategy``).
        keep_checkpoints: keep the checkpoints after a successful run.
        label_map: the task's label -> the given head's label, for labels named differently
            (``{"neg": "negative", "pos": "positive"}``); recorded in the run's settings.
        **overrides: fields of :class:`FinetuneSettings` (``epochs=10``...) or of
            ``transformers.TrainingArguments`` (``bf16=True``, ``gradient_accumulation_steps=2``,
            ``report_to="tensorboard"``...), on top of ``settings``.

    Returns:
        A :class:`FinetuneResult` (``result.model`` is the fine-tuned model).

    Raises:
        ConfigError: invalid arguments, a training argument headzoo sets itself, or a budget
            that leaves no stage-2 step.
        LabelMismatchError: the given head's labels and the task's cannot be matched (no overlap, a map
            naming labels neither side has, two labels mapped to one); raised before any training.

    Example:
        >>> from headzoo.train import finetune
        >>> ft = finetune("cb", "minilm", strategy="ft", epochs=10, data_dir="data")  # doctest: +SKIP
        >>> eh = finetune("cb", "minilm", strategy="eh-ft", method="lora", epochs=10,  # doctest: +SKIP
        ...               data_dir="data", bf16=True)
        >>> ft.total_steps == eh.total_steps  # doctest: +SKIP
        True
        >>> mine = finetune(my_dataset_dict, model=my_model, strategy="eh-ft", epochs=3)  # doctest: +SKIP
        >>> own = finetune(my_task, strategy="eh-ft", head="sst2", label_map={"neg": "negative"})  # doctest: +SKIP
        >>> own.stage1["labels"]  # doctest: +SKIP
        '2 of 3 rows from sst2/lora (neg=negative, positive); new: neutral (imprinted from 120 examples)'
    """
    cfg = FinetuneSettings.from_any(settings, **overrides)
    if strategy is None:
        strategy = "eh-ft"
        if head is None and method is None:
            task = load_raw(task, data_dir, limit, cfg.seed)  # its problem type decides; loaded once, limit applied
            data_dir = limit = None
            head = "auto" if task[0].problem_type == CLASSIFICATION else None
    if label_map is not None:
        check_label_map(label_map)
        if head is None:
            raise ConfigError("label_map maps the task's labels to a given head's (task label -> head label): "
                              "pass the head too, head=... (CLI --from HEAD)")
    if model is not None or backbone is None:
        backbone = backbone_for(backbone, model)
    suggested = None
    if isinstance(head, str) and head.strip().lower() == "auto":  # headzoo.suggest.AUTO
        head, auto_method, label_map, suggested = auto_start(
            task, backbone, strategy=strategy, label_map=label_map, seed=cfg.seed, data_dir=data_dir, limit=limit,
            model=model, max_length=cfg.max_length, feature=feature)
        method = auto_method or method
    if head is not None and method is None and strategy == "eh-ft":
        head = load_given_head(head, backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone))
        method = head.config.method if head.config.method in STAGE1_METHODS else None  # the head's own method
    if isinstance(head, Head) and feature is None and model is None:
        feature = head.config.feature  # the model is built to read what the head reads
    strategy, method = resolve_strategy(strategy, method, head)
    stage1 = Stage1Settings.from_any(stage1_settings, method=method)
    with quiet_progress(progress):
        data = prepare_data(task, backbone, data_dir=data_dir, limit=limit, max_length=cfg.max_length, seed=cfg.seed,
                            model=model, feature=feature)
        options = RunOptions(resume=resume, callbacks=callbacks, progress=progress,
                             save_checkpoints=save_checkpoints, keep_checkpoints=keep_checkpoints)
        result = run_finetune(plan_run(data, cfg, strategy=strategy, method=method, stage1=stage1, head=head,
                                       label_map=label_map, output_dir=output_dir, options=options))
    if suggested is not None:
        result.stage1 = {**(result.stage1 or {}), "suggested": suggested}
    return result


def auto_start(task: Any, backbone: str | BackboneRef | None, *, strategy: str, label_map: Mapping[str, str] | None,
               seed: int, data_dir: Any, limit: int | None, model: Any, max_length: int,
               feature: str | None = None) -> tuple[Head | None, str | None, dict[str, str] | None, str]:
    """``finetune(head="auto")``: the top suggestion (:func:`headzoo.suggest_heads`) as ``(head, method, map, line)``.

    A zoo head comes back with the entries of ``label_map`` that apply to it; when ``"imprint"`` is on top, the
    head is None and the method ``"imprint"`` (stage 1 imprints every row from the training data). ``line`` says
    which start was taken.

    Raises:
        ConfigError: a strategy other than ``"eh-ft"`` (FT and LP-FT start from no given head).

    Example:
        >>> head, method, label_map, line = auto_start(my_task, "minilm", strategy="eh-ft",  # doctest: +SKIP
        ...                                            label_map=None, seed=0, data_dir=None, limit=None,
        ...                                            model=None, max_length=128)
        >>> line  # doctest: +SKIP
        '--from auto took sst2/lora (shipped), suggestion 1 (macro-F1 0.612, ...): 2 of 3 rows from sst2/lora ...'
    """
    from ..suggest import IMPRINT_CANDIDATE, suggest_heads  # headzoo.suggest imports train.data: at call time

    if strategy != "eh-ft":
        raise ConfigError(f"head='auto' (CLI --from auto) starts from the top suggested head, which is strategy "
                          f"'eh-ft', got strategy={strategy!r}: pass strategy='eh-ft' or drop head='auto'")
    top = suggest_heads(task, backbone, label_map=label_map, seed=seed, data_dir=data_dir, limit=limit, model=model,
                        max_length=max_length, feature=feature)[0]
    logger.info("%s", top.took)
    if top.origin == IMPRINT_CANDIDATE or top.head_path is None:
        return None, IMPRINT, None, top.took
    return Head.load(top.head_path), None, (top.label_map or None), top.took
