"""headzoo inside the transformers stack: a ``TrainerCallback`` for your own ``Trainer``, and pipelines.

- :class:`SaveHeadCallback`: add it to your own ``transformers.Trainer`` (around a
  model from ``headzoo.prepare_pet`` or peft's ``get_peft_model``); at the end of
  training it takes the trained head out (:meth:`headzoo.Head.from_model`), records
  the run's settings and eval metrics, and saves and/or pushes it.
- :func:`load_pipeline`: ``transformers.pipeline("text-classification")`` with a
  zoo or Hub head in place and the tokenizer of the head's backbone.

This module imports transformers when it is imported; ``import headzoo`` does not
import it until one of these names is used.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from .backbone import load_tokenizer, resolve_backbone
from .errors import ConfigError, HeadExistsError
from .head import Head
from .loading import load_head
from .naming import validate_name, validate_repo_id

logger = logging.getLogger(__name__)

#: peft's ``peft_type`` values and the headzoo method names they record.
PEFT_METHODS = {"LORA": "lora", "IA3": "ia3", "PREFIX_TUNING": "prefix"}

#: Keys of the Trainer's eval logs that are not metrics.
_NOT_METRICS = frozenset({"loss", "runtime", "samples_per_second", "steps_per_second", "epoch"})


class SaveHeadCallback(TrainerCallback):
    """Save (and/or push) the trained head when your own ``transformers.Trainer`` finishes.

    At the start of training it checks that the head can be taken out of the
    model and that ``save_directory`` is free (so a mistake fails before the
    first step, not after the last), and records the backbone's fingerprint
    (so a BitFit run, which changes backbone biases, still fits the pretrained
    backbone). At the end, on the main process only, it builds the head with
    :meth:`headzoo.Head.from_model` (which unwraps peft models itself), records
    the learning rate, steps, epochs, batch size, seed, the PET method and the
    last eval metrics (without the loss), then calls ``head.save_pretrained`` and
    ``head.push_to_hub``. The head stays on :attr:`head`.

    Args:
        save_directory: where to save the head (``head.save_pretrained``); None to only push.
        task: the task name to record (also the head's place in the zoo).
        backbone: the backbone id to record; defaults to ``model.config.name_or_path``.
        method: the stage-1 method to record; defaults to the peft model's type
            (``lora``, ``ia3``, ``prefix``), else None.
        repo_id: also push the head to this Hub repo (``head.push_to_hub``).
        overwrite: replace a head already in ``save_directory``.
        private: create the Hub repo private.
        token: a Hub token; defaults to the standard login / ``HF_TOKEN``.

    Raises:
        ConfigError: neither ``save_directory`` nor ``repo_id`` is given.
        InvalidNameError: a bad task, method or repo id.

    Example:
        >>> save_head = headzoo.SaveHeadCallback("my-head", task="sst2", repo_id="me/my-sst2-head")  # doctest: +SKIP
        >>> Trainer(model=headzoo.prepare_pet(model, "lora"), args=args, train_dataset=train,  # doctest: +SKIP
        ...         callbacks=[save_head]).train()
        >>> save_head.head  # doctest: +SKIP
        Head(task='sst2', ...)
    """

    def __init__(
        self,
        save_directory: str | os.PathLike[str] | None = None,
        *,
        task: str,
        backbone: str | None = None,
        method: str | None = None,
        repo_id: str | None = None,
        overwrite: bool = False,
        private: bool = False,
        token: str | None = None,
    ) -> None:
        if save_directory is None and repo_id is None:
            raise ConfigError(
                "SaveHeadCallback needs somewhere to put the head: give save_directory (a folder), "
                "repo_id (a Hub repo), or both"
            )
        self.save_directory = Path(save_directory).expanduser() if save_directory is not None else None
        self.task = validate_name(task, "task")
        self.backbone = backbone
        self.method = validate_name(method, "method") if method is not None else None
        self.repo_id = validate_repo_id(repo_id) if repo_id is not None else None
        self.overwrite = overwrite
        self.private = private
        self.token = token
        #: The head taken at the end of training (None before).
        self.head: Head | None = None
        self._fingerprint: str | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        """Check the model and the target before the first step; record the backbone fingerprint."""
        if model is not None:
            probe = Head.from_model(model, task=self.task, backbone=self.backbone)  # fails now, not after training
            self._fingerprint = probe.config.backbone_fingerprint
        target = self.save_directory
        if target is not None and not self.overwrite and target.is_dir() and any(target.iterdir()):
            raise HeadExistsError(
                f"SaveHeadCallback would save the head into {str(target)!r}, which is not empty: "
                "pass overwrite=True or another save_directory"
            )

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        """Take the trained head out of ``model``, then save and/or push it (main process only)."""
        if model is None or not getattr(state, "is_world_process_zero", True):
            return
        self.head = Head.from_model(
            model,
            task=self.task,
            backbone=self.backbone,
            backbone_fingerprint=self._fingerprint,
            method=self.method or _peft_method(model),
            training=_training_record(args, state, model),
            metrics=_last_eval_metrics(getattr(state, "log_history", None) or []),
        )
        if self.save_directory is not None:
            self.head.save_pretrained(self.save_directory, overwrite=self.overwrite)
            logger.info("saved the head to %s", self.save_directory)
        if self.repo_id is not None:
            url = self.head.push_to_hub(self.repo_id, private=self.private, token=self.token)
            logger.info("pushed the head to %s", url)


def _peft_method(model: Any) -> str | None:
    config = getattr(model, "active_peft_config", None)
    peft_type = getattr(getattr(config, "peft_type", None), "value", getattr(config, "peft_type", None))
    return PEFT_METHODS.get(str(peft_type)) if peft_type else None


def _training_record(args: Any, state: Any, model: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"trainer": "transformers.Trainer + headzoo.SaveHeadCallback"}
    for key, value in (
        ("learning_rate", getattr(args, "learning_rate", None)),
        ("steps", getattr(state, "global_step", None)),
        ("epochs", round(float(state.epoch), 4) if getattr(state, "epoch", None) is not None else None),
        ("batch_size", getattr(args, "per_device_train_batch_size", None)),
        ("gradient_accumulation_steps", getattr(args, "gradient_accumulation_steps", None)),
        ("weight_decay", getattr(args, "weight_decay", None)),
        ("warmup_ratio", getattr(args, "warmup_ratio", None)),
        ("seed", getattr(args, "seed", None)),
    ):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            record[key] = value
    config = getattr(model, "active_peft_config", None)
    for key in ("r", "lora_alpha", "lora_dropout", "num_virtual_tokens"):
        value = getattr(config, key, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            record[{"r": "lora_r", "num_virtual_tokens": "prefix_length"}.get(key, key)] = value
    targets = getattr(config, "target_modules", None)
    if targets:
        record["target_modules"] = sorted(targets) if not isinstance(targets, str) else targets
    return record


def _last_eval_metrics(log_history: list[dict[str, Any]]) -> dict[str, float]:
    """The metrics of the last evaluation in the Trainer's log (``eval_`` keys), without loss and timings."""
    for entry in reversed(log_history):
        metrics = {
            key[len("eval_"):]: float(value)
            for key, value in entry.items()
            if key.startswith("eval_") and key[len("eval_"):] not in _NOT_METRICS
            and isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        if any(key.startswith("eval_") for key in entry):
            return metrics
    return {}


def load_pipeline(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    method: str | None = None,
    revision: str | None = None,
    allow_backbone_mismatch: bool = False,
    **pipeline_kwargs: Any,
) -> Any:
    """``transformers.pipeline("text-classification")`` with a head in place and its backbone's tokenizer.

    The same as ``pipeline("text-classification", model=headzoo.load_head(...),
    tokenizer=<the backbone>)``: the head is found as :func:`headzoo.load_head` finds
    it (a task name in the zoo or on the Hub, a folder, a repo id), and the
    pipeline's labels are the head's. Regression heads return raw scores,
    multi-label heads sigmoid scores (transformers decides from ``problem_type``).

    Args:
        task_or_path: a task name, a head folder or a Hub repo id of a head.
        backbone: the backbone id or folder; defaults to the one the head records.
        method: pick the head trained with this stage-1 method.
        revision: Hub revision of the head repo.
        allow_backbone_mismatch: apply even if the backbone weights differ from the head's.
        **pipeline_kwargs: passed to ``transformers.pipeline`` (``device``, ``top_k``...).

    Returns:
        A ``transformers`` ``TextClassificationPipeline``.

    Raises:
        HeadNotFoundError: no head for (task, backbone).
        BackboneError: the backbone or its tokenizer cannot be loaded.

    Example:
        >>> classify = headzoo.load_pipeline("sst2", "minilm")  # doctest: +SKIP
        >>> classify("a gripping, funny film")  # doctest: +SKIP
        [{'label': 'positive', 'score': 0.93}]
    """
    from transformers import pipeline

    model = load_head(task_or_path, backbone, method=method, revision=revision,
                      allow_backbone_mismatch=allow_backbone_mismatch)
    tokenizer = load_tokenizer(resolve_backbone(backbone or model.config.name_or_path))
    return pipeline("text-classification", model=model, tokenizer=tokenizer, **pipeline_kwargs)


__all__ = ["PEFT_METHODS", "SaveHeadCallback", "load_pipeline"]
