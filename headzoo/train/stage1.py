"""Stage 1 as a library call: :func:`pretrain_head` trains a head with PET and saves it to the zoo."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..backbone import BackboneRef
from ..errors import ConfigError, HeadExistsError
from ..head import CONFIG_FILE, HEAD_FILE, Head
from ..pet import IMPRINT
from ..zoo import save_to_zoo, zoo_home, zoo_path
from .args import Stage1Settings, bad_value, check_preset, check_training_args
from .budget import stage1_steps
from .context import RunOptions
from .data import TaskData, prepare_data
from .lr_search import search_stage1
from .records import settings_hash
from .runtime import is_main_process, quiet_progress
from .stage1_run import Stage1Job, train_stage1
from .trainer import clear_checkpoints

logger = logging.getLogger("headzoo.train")


def pretrain_head(
    task: Any,
    backbone: str | BackboneRef | None = None,
    method: str | None = None,
    *,
    model: Any = None,
    feature: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    settings: Stage1Settings | Mapping[str, Any] | None = None,
    preset: str = "headzoo",
    output_dir: str | os.PathLike[str] | None = None,
    save: bool = True,
    overwrite: bool = False,
    seed: int | None = None,
    callbacks: Sequence[Any] | None = None,
    resume: bool = False,
    progress: bool = False,
    search: bool | Mapping[str, Any] = False,
    training_args: Mapping[str, Any] | None = None,
) -> Head:
    """Stage 1: train a classification head together with a PET method and keep only the head.

    The backbone's fingerprint is taken before training (BitFit changes backbone
    biases), the PET parameters are dropped afterwards (:func:`headzoo.pet.unwrap`),
    and the head records every hyperparameter, the data and its validation metrics.

    Args:
        task: a task name (``"rte"``), a ``TaskSpec``, a ``datasets.Dataset`` / ``DatasetDict``
            (read by :func:`headzoo.tasks.dataset_task` with its default columns, ``text`` or
            ``sentence1``/``sentence2``... and ``label``), or the ``(TaskSpec, DatasetDict)`` pair of
            :func:`headzoo.tasks.custom_task` or :func:`headzoo.tasks.dataset_task`.
        backbone: a Hub id, alias (``"minilm"``) or local folder; default ``"minilm"``, or with
            ``model`` the model's own ``name_or_path``.
        method: one of :data:`headzoo.pet.STAGE1_METHODS`; overrides ``settings.method`` (default ``"lora"``).
            ``"imprint"`` trains nothing: each label's row is set from the class mean of the features entering
            the output layer, in one forward pass over the training data (:mod:`headzoo.imprint`).
        model: an already built ``*ForSequenceClassification`` model with the task's ``num_labels``,
            instead of loading ``backbone``. It is deep-copied before training and never changed;
            the copy's head is initialised afresh with the seed (see :func:`headzoo.train.build_model`).
        feature: what the head reads: ``"sentence-embedding"`` (the sentence embedding the backbone declares,
            as sentence-transformers computes it), ``"sequence-classification"`` (the model's own head path),
            ``"auto"`` (what the backbone declares) or None (the same as ``"auto"``).
        data_dir: offline data folder for built-in tasks (see :func:`headzoo.tasks.load_task`).
        limit: use at most this many examples per split: a stratified subset drawn with the seed.
        settings: :class:`Stage1Settings` or a dict of its fields.
        preset: ``"headzoo"`` or ``"paper"``: the learning rate when ``settings.learning_rate`` is None.
        output_dir: Trainer checkpoints; default ``<zoo home>/runs/<backbone>/<task>/stage1-...``.
        save: save the head into the local zoo (:func:`headzoo.zoo.save_to_zoo`).
        overwrite: replace a head already in the zoo.
        seed: overrides ``settings.seed``.
        callbacks: ``transformers.TrainerCallback`` objects (progress bars...).
        resume: continue from the last checkpoint in ``output_dir``.
        progress: let the Trainer show its tqdm progress bar.
        search: first choose the learning rate and stage-1 length on a held-out split of the
            training data (:func:`headzoo.train.search_stage1`; dev is never used), then train
            with them on the whole training split. ``True`` takes the default grid; a dict passes
            ``learning_rates``, ``lengths``, ``holdout`` to the search. What was searched and
            chosen is recorded in ``head_config.json`` and the card (``learning_rate_source``).
        training_args: other ``transformers.TrainingArguments`` fields (``{"bf16": True}``...).

    Returns:
        The trained :class:`~headzoo.head.Head`; ``head.path`` is where it was saved (None with ``save=False``).

    Raises:
        ConfigError: invalid settings (the message quotes the value).
        HeadExistsError: the zoo already has this head and ``overwrite`` is False (checked before training).

    Example:
        >>> import headzoo.train as T
        >>> head = T.pretrain_head("cb", "minilm", "lora", data_dir="data",  # doctest: +SKIP
        ...                        settings={"epochs": 2})
        >>> head.config.metrics["accuracy"]  # doctest: +SKIP
        0.71
        >>> model = AutoModelForSequenceClassification.from_pretrained("roberta-base", num_labels=2)  # doctest: +SKIP
        >>> head = T.pretrain_head(my_dataset, model=model, method="bitfit")  # doctest: +SKIP
    """
    check_preset(preset)
    given = Stage1Settings.from_any(settings, method=method, seed=seed)
    source = "given" if given.learning_rate is not None else f"preset {preset}"
    cfg = given.resolved(preset)
    options: dict[str, Any] | None = None
    if search is True:
        options = {}
    elif isinstance(search, Mapping) and not set(search) - {"learning_rates", "lengths", "holdout"}:
        options = dict(search)
    elif search not in (False, None):
        raise bad_value("search", search, "True, False or a dict with learning_rates, lengths, holdout")
    if cfg.method == IMPRINT and (given.learning_rate is not None or options is not None):
        raise ConfigError("method 'imprint' trains nothing (one forward pass, rows from class means): it has no "
                          "learning rate to set or search; drop "
                          + ("learning_rate (CLI --lr)" if options is None else "search (CLI --search)"))
    extra = check_training_args(training_args)
    with quiet_progress(progress):
        data = prepare_data(task, backbone, data_dir=data_dir, limit=limit, max_length=cfg.max_length,
                            seed=cfg.seed, model=model, feature=feature)
        if save and not overwrite:
            _refuse_existing(data, cfg.method)
        if options is not None:
            found = search_stage1(task, data.backbone, cfg.method, settings=cfg, data_dir=data_dir, limit=limit,
                                  seed=cfg.seed, callbacks=callbacks, progress=progress, model=model, **options)
            cfg = replace(cfg, **found.chosen(), max_steps=None)
            source = "search: " + found.summary()
        steps = stage1_steps(cfg, len(data.train), int(extra.get("gradient_accumulation_steps", 1)))
        run_hash = settings_hash({"task": data.spec.name, "backbone": data.backbone.id, "settings": cfg.to_dict(),
                                  "data": data.info, "preset": preset,
                                  **({"training_args": extra} if extra else {})})
        out = Path(output_dir) if output_dir is not None else (
            zoo_home() / "runs" / data.backbone.slug / data.spec.name / f"stage1-{cfg.method}-seed{cfg.seed}-{run_hash}"
        )
        job = Stage1Job(cfg, preset=preset, steps=steps, training_args=extra,
                        extra={"learning_rate_source": source})
        stage1 = train_stage1(data, job, output_dir=out,
                              options=RunOptions(resume=resume, callbacks=callbacks, progress=progress))
    head = stage1.head
    if is_main_process():
        clear_checkpoints(out)  # finished: resumable state is no longer needed
        if save:
            path = save_to_zoo(head, overwrite=overwrite)
            head.path = path
            logger.info("saved the %s head for %s to %s", cfg.method, data.spec.name, path)
    return head


def _refuse_existing(data: TaskData, method: str) -> None:
    existing = zoo_path(data.spec.name, data.backbone, method)
    if (existing / HEAD_FILE).is_file() or (existing / CONFIG_FILE).is_file():
        raise HeadExistsError(
            f"the zoo already has a {method} head for {data.spec.name!r} on {data.backbone.id!r} at "
            f"{str(existing)!r}; pass overwrite=True (CLI: --overwrite) to train and replace it"
        )
