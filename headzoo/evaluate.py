"""Scoring a head on labelled data: one forward pass under ``torch.inference_mode``, no ``Trainer``.

One evaluator serves the library wherever it scores a head on data:

- :func:`evaluate_model`: a model's task metrics (and loss) on a task's validation split. The zoo's
  check (a) scores a head on the plain backbone with it (:func:`evaluate_head`), and an imprinted
  stage 1 scores its model with it;
- :func:`sample_scores`: accuracy, macro-F1 over the gold classes and cross-entropy of logits
  already computed, which is how ``suggest`` scores each candidate head on its half B.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .head import Head
from .tasks import compute_metrics

if TYPE_CHECKING:
    from .train.data import TaskData

# headzoo.train's modules import this one: its own imports of headzoo.train are made where they are used.

__all__ = ["evaluate_head", "evaluate_model", "head_outputs", "inference_device", "length_sorted_batches",
           "sample_scores"]


def inference_device() -> str | None:
    """``"cuda"`` where an accelerator is in use and CUDA is available, else None (where the model is).

    Example:
        >>> inference_device() in (None, "cuda")
        True
    """
    import torch

    from .train.runtime import has_accelerator

    return "cuda" if has_accelerator() and torch.cuda.is_available() else None


def length_order(dataset: Any) -> list[int]:
    """The row indices of a tokenised split, shortest first (by its ``length`` column; else as they are).

    Example:
        >>> length_order({"length": [3, 1, 2]})
        [1, 2, 0]
    """
    lengths = dataset["length"] if "length" in _columns(dataset) else [0] * len(dataset)
    return sorted(range(len(lengths)), key=lambda i: lengths[i])


def _columns(dataset: Any) -> list[str]:
    return list(getattr(dataset, "column_names", None) or dataset.keys())


def length_sorted_batches(dataset: Any, tokenizer: Any, batch_size: int) -> Iterator[dict[str, Any]]:
    """Padded batches of a tokenised split, shortest examples first (least padding), in :func:`length_order`.

    Example:
        >>> batch = next(length_sorted_batches(data.train, data.tokenizer, 64))  # doctest: +SKIP
        >>> sorted(batch)  # doctest: +SKIP
        ['attention_mask', 'input_ids', 'labels', 'token_type_ids']
    """
    from torch.utils.data import DataLoader

    from .train.data import PaddingCollator

    order = length_order(dataset)
    plan = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    yield from DataLoader(dataset, batch_sampler=plan, collate_fn=PaddingCollator(tokenizer))


def _batches_in_order(dataset: Any, tokenizer: Any, batch_size: int) -> Iterator[dict[str, Any]]:
    from .train.data import PaddingCollator

    collate = PaddingCollator(tokenizer)
    for start in range(0, len(dataset), batch_size):
        yield collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])


def _predict(model: Any, batches: Any, device: Any) -> tuple[Any, Any]:
    """The logits (float32, CPU) and labels of one forward pass; the model's device and mode are restored."""
    import torch

    home = next((p.device for p in model.parameters()), torch.device("cpu"))
    target = torch.device(device) if device is not None else home
    was_training = model.training
    outputs, labels = [], []
    try:
        model.to(target).eval()
        with torch.inference_mode():
            for batch in batches:
                batch = dict(batch)
                labels.append(torch.as_tensor(batch.pop("labels")).cpu())
                feed = {k: v.to(target) for k, v in batch.items() if torch.is_tensor(v)}
                logits = model(**feed).logits
                outputs.append(logits.reshape(logits.shape[0], -1).float().cpu())
    finally:
        model.to(home).train(was_training)
    return torch.cat(outputs), torch.cat(labels)


def _loss(spec: Any, logits: Any, labels: Any) -> float:
    import torch

    if spec.is_regression:
        return float(torch.nn.functional.mse_loss(logits.reshape(-1), labels.float().reshape(-1)))
    if labels.dim() == 2:
        return float(torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.float()))
    return float(torch.nn.functional.cross_entropy(logits, labels.long()))


def _outputs(model: Any, data: TaskData, batch_size: int, device: Any, shortest_first: bool) -> tuple[Any, ...]:
    """``(logits, labels)`` in the order the examples ran, and both again in the split's order."""
    import torch

    if shortest_first:
        order = length_order(data.validation)
        batches: Any = length_sorted_batches(data.validation, data.tokenizer, batch_size)
    else:
        order = list(range(len(data.validation)))
        batches = _batches_in_order(data.validation, data.tokenizer, batch_size)
    logits, labels = _predict(model, batches, device)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order, dtype=torch.long)] = torch.arange(len(order))
    in_order = logits[inverse].reshape(-1) if data.spec.is_regression else logits[inverse]
    return logits, labels, in_order, labels[inverse]


def evaluate_model(model: Any, data: TaskData, batch_size: int = 64, *, loss: bool = False,
                   device: Any = None, shortest_first: bool = True) -> dict[str, float]:
    """The task's metrics of ``model`` on ``data.validation``: one forward pass, no Trainer.

    The examples run shortest first (least padding) unless ``shortest_first`` is False; the
    metrics are computed in the split's own order, the loss in the order the examples ran.
    Correlations of a constant prediction are ``nan``, as :func:`headzoo.tasks.compute_metrics`
    gives them.

    Args:
        model: a ``*ForSequenceClassification`` model of ``data``'s task (not wrapped by peft).
        data: a :class:`headzoo.train.TaskData` (tokenised splits).
        batch_size: examples per forward pass.
        loss: also return ``"loss"``: the training loss of the task (cross-entropy, binary
            cross-entropy per label, or mean squared error).
        device: run there (the model is moved there and back); default: where the model is.
        shortest_first: batch the examples shortest first; False batches them in the split's order
            (each batch padded to its longest example). Padding moves logits in their last float
            digits, so the two orders can differ there.

    Returns:
        ``{metric: value}`` for the task's metrics (and ``"loss"``).

    Example:
        >>> evaluate_model(model, data, 64, loss=True)  # doctest: +SKIP
        {'accuracy': 0.71, 'macro_f1': 0.7, 'loss': 0.62}
    """
    logits, labels, in_order, gold = _outputs(model, data, batch_size, device, shortest_first)
    metrics = {k: float(v) for k, v in compute_metrics(data.spec, in_order.numpy(), gold.numpy()).items()}
    if loss:
        metrics["loss"] = _loss(data.spec, logits, labels)
    return metrics


def evaluate_head(head: Head, data: TaskData, batch_size: int = 64) -> dict[str, float]:
    """The task's metrics of a head on the plain backbone (no fine-tuning) over ``data.validation``.

    A fresh model of ``data``'s backbone (seed 0) takes the head; :func:`evaluate_model` scores it,
    the examples in the split's order (as the zoo's check (a) figures were computed).

    Args:
        head: the head.
        data: a :class:`headzoo.train.TaskData` (tokenised splits) of the head's task.
        batch_size: examples per forward pass.

    Returns:
        ``{metric: value}`` for the task's metrics.

    Example:
        >>> evaluate_head(head, prepare_data("cb", "minilm", data_dir="data", limit=None,  # doctest: +SKIP
        ...                                  max_length=128))["accuracy"]
        0.5
    """
    outputs, labels = head_outputs(head, data, batch_size)
    return {k: float(v) for k, v in compute_metrics(data.spec, outputs, labels).items()}


def head_outputs(head: Head, data: TaskData, batch_size: int = 64) -> tuple[Any, Any]:
    """The head's outputs on the plain backbone over ``data.validation`` and the gold labels, in the split's order.

    The same forward pass as :func:`evaluate_head`, for a caller that needs the rows themselves (an
    interval on a metric, say): ``compute_metrics(data.spec, outputs, labels)`` gives its figures.

    Returns:
        ``(outputs, labels)`` as numpy arrays: logits (scores for a regression task) and gold labels.

    Example:
        >>> outputs, labels = head_outputs(head, data)  # doctest: +SKIP
        >>> compute_metrics(data.spec, outputs, labels) == evaluate_head(head, data)  # doctest: +SKIP
        True
    """
    from .train.data import build_model

    _, _, in_order, gold = _outputs(head.apply(build_model(data, 0)), data, batch_size, None, False)
    return in_order.numpy(), gold.numpy()


def sample_scores(logits: Any, labels: Any) -> tuple[float, float, float]:
    """Accuracy, macro-F1 (the mean F1 over the classes of the gold labels) and mean cross-entropy of logits.

    Args:
        logits: ``[N, num_labels]`` float logits.
        labels: ``[N]`` gold class ids.

    Returns:
        ``(accuracy, macro_f1, cross_entropy)``.

    Example:
        >>> import torch
        >>> acc, f1, ce = sample_scores(torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), torch.tensor([0, 1, 1]))
        >>> round(acc, 3), round(f1, 3)
        (0.667, 0.667)
    """
    import torch

    gold = labels.long().reshape(-1)
    pred = logits.argmax(1)
    f1 = []
    for c in gold.unique().tolist():
        tp = int(((pred == c) & (gold == c)).sum())
        wrong = int(((pred == c) != (gold == c)).sum())  # false positives + false negatives
        f1.append(2 * tp / (2 * tp + wrong))
    loss = float(torch.nn.functional.cross_entropy(logits.float(), gold))
    return float((pred == gold).float().mean()), sum(f1) / len(f1), loss
