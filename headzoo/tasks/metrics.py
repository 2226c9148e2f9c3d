"""Task metrics: compute_metrics and the compute_metrics function for transformers.Trainer.

Multi-label tasks are scored on 0/1 decisions per label: a label is predicted
when the sigmoid of its logit is above :data:`MULTI_LABEL_THRESHOLD` (0.5, i.e.
a logit above 0). ``micro_f1`` pools every (example, label) decision,
``macro_f1`` is the unweighted mean of the per-label F1 (a label that is
neither present nor predicted counts as 0), and ``accuracy`` is subset
accuracy (exact match: all of an example's labels right).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DataError
from .spec import TaskSpec, get_task

__all__ = ["MULTI_LABEL_THRESHOLD", "compute_metrics", "metric_fn_for_trainer", "metric_interval"]

#: A multi-label task predicts a label when the sigmoid of its logit is above this.
MULTI_LABEL_THRESHOLD = 0.5


def _accuracy(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(r, p))


def _f1(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(r, p, average="binary", pos_label=1, zero_division=0))


def _macro_f1(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(r, p, average="macro", zero_division=0))


def _micro_f1(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(r, p, average="micro", zero_division=0))


def _mcc(p: np.ndarray, r: np.ndarray) -> float:
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(r, p))


def _correlation(kind: str) -> Callable[[np.ndarray, np.ndarray], float]:
    def corr(p: np.ndarray, r: np.ndarray) -> float:
        from scipy import stats

        if len(p) < 2 or np.all(p == p[0]) or np.all(r == r[0]):
            return float("nan")  # undefined for constant input
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = stats.pearsonr(p, r)[0] if kind == "pearson" else stats.spearmanr(p, r)[0]
        return float(value)

    return corr


def _combined(p: np.ndarray, r: np.ndarray) -> float:
    return (_correlation("pearson")(p, r) + _correlation("spearmanr")(p, r)) / 2


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {  # keys == spec.METRIC_NAMES
    "accuracy": _accuracy,
    "f1": _f1,
    "macro_f1": _macro_f1,
    "micro_f1": _micro_f1,
    "matthews_correlation": _mcc,
    "pearson": _correlation("pearson"),
    "spearmanr": _correlation("spearmanr"),
    "combined_score": _combined,
}


def compute_metrics(task: TaskSpec | str, predictions: Any, references: Any) -> dict[str, float]:
    """Compute the task's metrics (``task.metrics``) as plain floats.

    Metric names: ``accuracy``; ``f1`` (binary F1 of class 1, MRPC);
    ``macro_f1`` (unweighted mean of per-class F1, CB and custom tasks);
    ``micro_f1``; ``matthews_correlation`` (CoLA); ``pearson``, ``spearmanr``
    and ``combined_score`` (their mean) for regression. Correlations of a
    constant input are ``nan``.

    Multi-label tasks take 2-D arrays of shape ``(examples, labels)``: the
    references are 0/1 (multi-hot); the predictions are 0/1 (ints or bools) or
    logits (floats), a label counting as predicted when the sigmoid of its
    logit is above :data:`MULTI_LABEL_THRESHOLD` (0.5). There ``accuracy`` is
    subset accuracy (exact match of the whole label set) and ``micro_f1`` /
    ``macro_f1`` pool / average over the labels.

    Args:
        task: A ``TaskSpec`` or built-in task name.
        predictions: Class ids (or 2-D logits, reduced by argmax) for
            classification; scores for regression; 0/1 or logits per label
            for multi-label tasks.
        references: Gold class ids, scores, or multi-hot rows.

    Raises:
        DataError: shapes that do not fit the task or each other, no
            predictions, or multi-label references that are not 0/1.

    Example:
        >>> compute_metrics(get_task("mrpc"), [1, 0, 1, 1], [1, 0, 0, 1])
        {'accuracy': 0.75, 'f1': 0.8}
    """
    spec = get_task(task) if isinstance(task, str) else task
    preds = np.asarray(predictions)
    refs = np.asarray(references)
    if spec.is_multi_label:
        preds, refs = _multi_label_arrays(spec, preds, refs)
        return {name: _METRICS[name](preds, refs) for name in spec.metrics}
    if spec.is_regression:
        preds = preds.astype(np.float64).reshape(-1) if preds.ndim <= 1 or preds.shape[-1] == 1 else preds
        refs = refs.astype(np.float64).reshape(-1)
    else:
        if preds.ndim == 2:
            preds = preds.argmax(axis=-1)
        refs = refs.reshape(-1)
    if preds.ndim != 1:
        raise DataError(f"predictions must be 1-D (or 2-D logits), got shape {preds.shape}")
    if len(preds) != len(refs):
        raise DataError(f"got {len(preds)} predictions but {len(refs)} references; they must match")
    if len(preds) == 0:
        raise DataError("no predictions to score: predictions and references are empty")
    return {name: _METRICS[name](preds, refs) for name in spec.metrics}


def _multi_label_arrays(spec: TaskSpec, preds: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0/1 int arrays ``(n, labels)`` of multi-label predictions (logits thresholded) and references."""
    k = spec.num_labels
    for what, a in (("predictions", preds), ("references", refs)):
        if a.ndim != 2 or a.shape[1] != k:
            raise DataError(
                f"multi-label {what} of task {spec.name!r} must have shape (examples, {k}), got {a.shape}; "
                "give one row of per-label values per example"
            )
    if len(preds) != len(refs):
        raise DataError(f"got {len(preds)} predictions but {len(refs)} references; they must match")
    if len(preds) == 0:
        raise DataError("no predictions to score: predictions and references are empty")
    if not np.isin(refs, (0, 1)).all():
        bad = refs[~np.isin(refs, (0, 1))].reshape(-1)[0].item()
        raise DataError(f"multi-label references must be 0 or 1, got {bad!r}; pass multi-hot rows")
    if preds.dtype.kind == "f":
        from scipy.special import expit

        preds = expit(preds) > MULTI_LABEL_THRESHOLD  # logits -> decisions
    elif preds.dtype.kind not in "biu" or not np.isin(preds, (0, 1)).all():
        raise DataError("multi-label predictions must be 0/1 decisions (ints or bools) or float logits")
    return preds.astype(np.int64), refs.astype(np.int64)


def metric_fn_for_trainer(task: TaskSpec | str) -> Callable[[Any], dict[str, float]]:
    """Return a ``compute_metrics`` function for ``transformers.Trainer``.

    The function takes an ``EvalPrediction`` (or a ``(predictions,
    label_ids)`` tuple). For classification, logits of shape ``(n, k)`` are
    reduced by argmax; a single logit per example (shape ``(n,)`` or
    ``(n, 1)``, a binary BCE head) is thresholded at 0. For regression the
    ``(n, 1)`` output is squeezed. For multi-label tasks the ``(n, labels)``
    logits go to :func:`compute_metrics` as they are (thresholded at
    :data:`MULTI_LABEL_THRESHOLD` on the sigmoid). If the model returns a
    tuple, its first element is taken as the logits (lists are read as arrays).

    Example:
        >>> fn = metric_fn_for_trainer("rte")
        >>> fn(([[0.2, 0.9], [3.0, -1.0]], [1, 0]))
        {'accuracy': 1.0}
    """
    spec = get_task(task) if isinstance(task, str) else task

    def trainer_metrics(eval_pred: Any) -> dict[str, float]:
        if hasattr(eval_pred, "predictions"):
            preds, labels = eval_pred.predictions, eval_pred.label_ids
        else:
            preds, labels = eval_pred[0], eval_pred[1]
        if isinstance(preds, tuple):  # the model returned (logits, hidden_states, ...)
            preds = preds[0]
        if isinstance(labels, tuple):
            labels = labels[0]
        p = np.asarray(preds, dtype=np.float64)
        if spec.is_multi_label:  # (n, labels) logits and multi-hot labels
            return compute_metrics(spec, p, np.asarray(labels, dtype=np.float64))
        y = np.asarray(labels).reshape(-1)
        if spec.is_regression:
            p = p.reshape(-1) if p.ndim == 2 and p.shape[1] == 1 else p  # (n, 1) -> (n,)
            return compute_metrics(spec, p, y.astype(np.float64))
        if p.ndim == 2 and p.shape[1] > 1:
            ids = p.argmax(axis=-1)
        else:
            ids = (p.reshape(-1) > 0).astype(np.int64)  # one logit per example (BCE head)
        return compute_metrics(spec, ids, y.astype(np.int64))

    return trainer_metrics


def metric_interval(task: TaskSpec | str, predictions: Any, references: Any, *, level: float = 0.95,
                    resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """A percentile-bootstrap interval of the task's main metric: the examples resampled with replacement.

    It says how far the figure on these examples could move on another draw of the same size; the zoo
    ships a head only where the lower end is above what a constant prediction scores.

    Args:
        task: a ``TaskSpec`` or built-in task name.
        predictions, references: as :func:`compute_metrics` takes them, one row per example.
        level: the interval's coverage.
        resamples: bootstrap draws.
        seed: the draws' seed.

    Returns:
        ``(low, high)``; a draw whose metric is ``nan`` (a correlation of a constant) counts as 0.

    Raises:
        DataError: no examples, or a level outside (0, 1).

    Example:
        >>> low, high = metric_interval("sst2", [1] * 90 + [0] * 10, [1] * 100)
        >>> round(low, 2), round(high, 2)
        (0.84, 0.96)
    """
    spec = task if isinstance(task, TaskSpec) else get_task(task)
    preds, refs = np.asarray(predictions), np.asarray(references)
    if len(refs) == 0 or len(preds) != len(refs):
        raise DataError(f"an interval needs one prediction per example, got {len(preds)} and {len(refs)}")
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1, got {level!r}")
    if not spec.is_multi_label and not spec.is_regression and preds.ndim == 2:
        preds = preds.argmax(axis=-1)  # once, not per draw
    rng = np.random.default_rng(seed)
    scores = np.empty(resamples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(resamples):
            rows = rng.integers(0, len(refs), len(refs))
            value = compute_metrics(spec, preds[rows], refs[rows])[spec.main_metric]
            scores[i] = 0.0 if np.isnan(value) else value
    tail = (1 - level) / 2 * 100
    return float(np.percentile(scores, tail)), float(np.percentile(scores, 100 - tail))
