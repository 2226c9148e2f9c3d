"""Where a run's head comes from without gradient steps: imprinted in stage 1, or another task's head in stage 2.

:func:`imprint_stage1` is what :func:`~headzoo.train.stage1_run.train_stage1` runs for
``method="imprint"`` (:func:`~headzoo.train.pretrain_head`, ``finetune(strategy="eh-ft",
method="imprint")``, ``compare``): a fresh model, one forward pass over the training split
(:mod:`headzoo.imprint`), no optimizer steps. :func:`start_from_head` puts a given head into
the stage-2 model with the label rules of :mod:`headzoo.labels` and imprints the rows of
labels the head does not have from the training data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..backbone import backbone_fingerprint
from ..evaluate import evaluate_model, inference_device, length_sorted_batches
from ..head import Head, finite
from ..imprint import Imprint, capture_features, imprint, imprint_rows
from ..pet import IMPRINT
from .data import TaskData, build_model
from .records import clean_json

logger = logging.getLogger("headzoo.train")


@dataclass(frozen=True)
class ClosedForm:
    """A head set without optimizer steps (imprint, or a probe fitted on frozen embeddings), to be recorded.

    Attributes:
        method: the stage-1 method (``"imprint"`` / ``"probe"``).
        model: the model with the head set.
        fingerprint: its backbone's fingerprint.
        seconds: the forward pass and the fit.
        examples: training examples used.
        record: the method's own fields of the head's ``training`` record.
        timing: the method's own seconds field (in ``training`` and the run's info).
    """

    method: str
    model: Any
    fingerprint: str
    seconds: float
    examples: int
    record: Mapping[str, Any]
    timing: str


def closed_form_head(data: TaskData, settings: Any, done: ClosedForm, *, evaluate: bool,
                     extra: Mapping[str, Any] | None) -> tuple[Head, dict[str, Any]]:
    """Evaluate a :class:`ClosedForm` head on the validation split and record it: ``(head, run info)``.

    Example:
        >>> head, info = closed_form_head(data, settings, done, evaluate=True, extra=None)  # doctest: +SKIP
    """
    eval_start = time.perf_counter()
    metrics: dict[str, float | None] = {k: finite(v) for k, v in evaluate_model(
        done.model, data, settings.batch_size * 2, loss=True, device=inference_device()).items()} if evaluate else {}
    wall = round(done.seconds + time.perf_counter() - eval_start, 3)
    license_metadata = getattr(data.spec, "license_metadata", None)
    training: dict[str, Any] = {
        **data.info,
        **({"data_license": license_metadata} if license_metadata else {}),
        "method": done.method, "learning_rate": None, "steps": 0, "batch_size": settings.batch_size,
        "max_length": settings.max_length, "seed": settings.seed, "trainable_parameters": 0,
        **done.record,
        done.timing: round(done.seconds, 3),
        "wall_seconds": wall,
        **{k: v for k, v in (extra or {}).items() if k != "learning_rate_source"},  # there is no learning rate
    }
    head = Head.from_model(
        done.model, task=data.spec.name, backbone=data.backbone.id, backbone_revision=data.backbone.revision,
        backbone_fingerprint=done.fingerprint, method=done.method, training=clean_json(training),
        metrics={k: v for k, v in metrics.items() if v is not None},
    )
    info = {"source": "trained", "method": done.method, "steps": 0, "learning_rate": None, "metrics": metrics,
            "wall_seconds": wall, done.timing: round(done.seconds, 3),
            "examples_per_second": round(done.examples / max(done.seconds, 1e-9), 3), "trainable_parameters": 0,
            "train_examples": done.examples}
    logger.info("stage 1 (%s, %d examples, %.1f s): %s", done.method, done.examples, done.seconds, metrics)
    return head, info


def imprint_stage1(data: TaskData, settings: Any, *, evaluate: bool = True,
                   extra: Mapping[str, Any] | None = None) -> tuple[Head, dict[str, Any]]:
    """Stage 1 by imprinting: a fresh model of ``data``'s backbone, every row set from the class means.

    ``settings`` (a :class:`~headzoo.train.Stage1Settings`) gives the seed (the model's own
    initialisation of the layers before the output layer), the batch size (the forward pass takes
    twice it) and ``max_length``; learning rates and lengths do not apply. Returns the head
    (``method="imprint"``, what was set under ``training["imprint"]``) and the run's info.

    Raises:
        DataError: a label of the task has no training example.
        ConfigError: a regression task.

    Example:
        >>> head, info = imprint_stage1(data, Stage1Settings(method="imprint"))  # doctest: +SKIP
    """
    model = build_model(data, settings.seed)
    fingerprint = backbone_fingerprint(model)
    batch = settings.batch_size * 2
    done = imprint(model, length_sorted_batches(data.train, data.tokenizer, batch), device=inference_device())
    return closed_form_head(data, settings, ClosedForm(IMPRINT, model, fingerprint, done.seconds, done.examples,
                                                       {"imprint": done.to_dict()}, "imprint_seconds"),
                            evaluate=evaluate, extra=extra)


def probe_stage1(data: TaskData, settings: Any, *, evaluate: bool = True,
                 extra: Mapping[str, Any] | None = None) -> tuple[Head, dict[str, Any]]:
    """Stage 1 ``probe`` on the sentence-embedding feature: a logistic regression on frozen embeddings.

    One forward pass over the training split, then a fit of seconds (:func:`headzoo.frozen.fit_probe`,
    scikit-learn; one-vs-rest for multi-label tasks): no optimizer steps, no Trainer. ``settings`` gives the
    seed, the batch size (the pass takes twice it) and ``max_length``; the inverse regularisation strength is
    :data:`headzoo.frozen.DEFAULT_C`.

    Raises:
        DataError: fewer than two classes among the training examples.

    Example:
        >>> head, info = probe_stage1(data, Stage1Settings(method="probe"))  # doctest: +SKIP
    """
    from ..frozen import DEFAULT_C, fit_probe, set_head

    model = build_model(data, settings.seed)
    fingerprint = backbone_fingerprint(model)
    began = time.perf_counter()
    features = capture_features(model, length_sorted_batches(data.train, data.tokenizer, settings.batch_size * 2),
                                device=inference_device())
    set_head(model, *fit_probe(features.inputs, features.labels, int(model.config.num_labels),
                               problem_type=model.config.problem_type or "single_label_classification",
                               c=DEFAULT_C, seed=settings.seed))
    examples = int(features.inputs.shape[0])
    record = {"fit": "logistic regression on frozen embeddings (scikit-learn)", "c": DEFAULT_C, "examples": examples}
    return closed_form_head(data, settings, ClosedForm("probe", model, fingerprint, time.perf_counter() - began,
                                                       examples, record, "fit_seconds"),
                            evaluate=evaluate, extra=extra)


def imprint_new_rows(model: Any, data: TaskData, rows: list[int], batch_size: int) -> Imprint:
    """Imprint only ``rows`` of ``model`` from ``data``'s training split; rows without examples keep their values.

    Example:
        >>> imprint_new_rows(model, data, [1], 64).rows  # doctest: +SKIP
        ['neutral']
    """
    features = capture_features(model, length_sorted_batches(data.train, data.tokenizer, batch_size),
                                device=inference_device())
    return imprint_rows(model, features, rows, keep_empty=True)


def start_from_head(model: Any, head: Head, data: TaskData, *, label_map: Mapping[str, str] | None = None,
                    batch_size: int = 64) -> str:
    """Put ``head`` into the stage-2 ``model`` (labels by name, ``label_map``, partial overlap); return the report.

    Labels of the task that the head lacks are imprinted from the training data; one with no
    training example keeps the model's own initialisation. The one line
    (``"2 of 3 rows from sst2/lora (negative, positive); new: neutral (imprinted from 120 examples)"``)
    is returned (``Head.apply`` logs it at INFO, without the remarks on new rows).

    Raises:
        LabelMismatchError: the labels cannot be matched; the model is not changed.

    Example:
        >>> start_from_head(model, Head.load("heads/sst2"), data)  # doctest: +SKIP
        '2 of 3 rows from sst2/lora (negative, positive); new: neutral (imprinted from 120 examples)'
    """
    match = head.check(model, label_map=label_map).labels
    head.apply(model, label_map=label_map)
    notes: dict[str, str] = {}
    if match.new:
        done = imprint_new_rows(model, data, match.new_rows, batch_size)
        for label in done.rows:
            notes[label] = f"imprinted from {done.counts[label]} examples"
        for label in done.kept:
            notes[label] = "no training examples: the model's own init"
    return match.summary(notes)  # Head.apply logged the line without the notes


__all__ = ["imprint_new_rows", "imprint_stage1", "start_from_head"]
