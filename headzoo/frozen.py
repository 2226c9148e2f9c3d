"""Heads fitted on frozen sentence embeddings: one backbone pass, then a fit of seconds, no training loop.

- :func:`encode` runs a :class:`~headzoo.sentence_model.SentenceEmbeddingForSequenceClassification`'s
  backbone over texts once (no gradients, length-sorted batches) and returns their embeddings.
- :func:`fit_probe` fits a logistic regression (scikit-learn) on embeddings: multinomial for one label per
  row, one-vs-rest for multi-label rows, ridge regression for a score. This is headzoo's ``probe`` on the
  sentence-embedding kind, and the frozen-embedding baseline that any start must clear.
- :func:`set_head` writes such logits-space weights into a model, dividing by its ``head_scale``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import DataError

#: Where a fit is given no ``C``: scikit-learn's default inverse regularisation strength.
DEFAULT_C = 1.0


def encode(model: Any, tokenizer: Any, texts: Sequence[str], text_pairs: Sequence[str] | None = None,
           batch_size: int = 64) -> Any:
    """The sentence embeddings of ``texts`` (float32 tensor, one row per text, in the given order).

    Args:
        model: a :class:`~headzoo.sentence_model.SentenceEmbeddingForSequenceClassification` (or a peft wrap
            of one: anything with ``embed``).
        tokenizer: the backbone's tokenizer.
        texts: the texts (first segments).
        text_pairs: second segments of a sentence-pair task, or None.
        batch_size: texts per forward pass.

    Raises:
        DataError: ``texts`` is empty, or ``text_pairs`` has another length.

    Example:
        >>> encode(model, tokenizer, ["a great film", "a dull one"]).shape  # doctest: +SKIP
        torch.Size([2, 384])
    """
    import torch

    if len(texts) == 0:
        raise DataError("no texts to encode: pass at least one")
    if text_pairs is not None and len(text_pairs) != len(texts):
        raise DataError(f"{len(texts)} texts but {len(text_pairs)} second segments; pass one per text")
    max_length = model_max_length(model, tokenizer)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]) + (len(text_pairs[i]) if text_pairs else 0))
    rows: list[Any] = [None] * len(texts)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                pair = [text_pairs[i] for i in chunk] if text_pairs is not None else None
                batch = tokenizer([texts[i] for i in chunk], pair, padding=True, truncation=True,
                                  max_length=max_length, return_tensors="pt").to(device)
                vectors = model.embed(**batch).float().cpu()
                for i, vector in zip(chunk, vectors, strict=True):
                    rows[i] = vector
    finally:
        model.train(was_training)
    return torch.stack(rows)


def model_max_length(model: Any, tokenizer: Any) -> int:
    """Where a sentence model cuts texts: the checkpoint's ``max_seq_length``, else the smaller of the
    tokenizer's and the backbone's limits.

    Example:
        >>> model_max_length(model, tokenizer)  # all-MiniLM-L6-v2  # doctest: +SKIP
        256
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if base.pooling.max_seq_length:
        return int(base.pooling.max_seq_length)
    return token_limit(tokenizer, base.config.backbone)


def token_limit(tokenizer: Any, config: Any) -> int:
    """The smaller of the tokenizer's ``model_max_length`` and the config's ``max_position_embeddings``
    (either ignored where unset or a placeholder), else 512.

    Example:
        >>> from types import SimpleNamespace as N
        >>> token_limit(N(model_max_length=int(1e30)), N(max_position_embeddings=64))
        64
    """
    limits = [int(getattr(tokenizer, "model_max_length", 0) or 0),
              int(getattr(config, "max_position_embeddings", 0) or 0)]
    limits = [n for n in limits if 0 < n < 1_000_000]
    return min(limits) if limits else 512


def _as_numpy(values: Any) -> np.ndarray:
    return values.detach().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)


def _rows(embeddings: Any, labels: Any, what: str = "a probe") -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (float64, 2-D, with rows) and labels, one per row, as numpy; else a :class:`DataError`."""
    x = _as_numpy(embeddings).astype(np.float64)
    y = _as_numpy(labels)
    if x.ndim != 2 or len(x) == 0:
        raise DataError(f"{what} needs a 2-D array of embeddings with rows, got shape {tuple(x.shape)}")
    if len(y) != len(x):
        raise DataError(f"{len(x)} embeddings but {len(y)} labels; pass one label per row")
    return x, y


def fit_probe(embeddings: Any, labels: Any, num_labels: int, problem_type: str = "single_label_classification",
              c: float = DEFAULT_C, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A linear head fitted on frozen embeddings, as logits-space ``(weight, bias)``.

    Args:
        embeddings: ``(n, d)`` array or tensor.
        labels: ``(n,)`` class ids, ``(n, num_labels)`` 0/1 rows (multi-label) or ``(n,)`` scores (regression).
        num_labels: rows of the head.
        problem_type: ``single_label_classification``, ``multi_label_classification`` or ``regression``.
        c: inverse regularisation strength (``C`` of scikit-learn; ``1/alpha`` of the ridge for a score).
        seed: the solver's seed.

    Returns:
        ``weight`` of shape ``(num_labels, d)`` and ``bias`` of shape ``(num_labels,)``; a class that no row
        has gets a row of zeros and a bias below every other class's.

    Raises:
        DataError: no rows, labels of another length, or a single class among the rows.

    Example:
        >>> import numpy as np
        >>> w, b = fit_probe(np.eye(4)[[0, 1, 0, 1]], [0, 1, 0, 1], num_labels=2)
        >>> w.shape, b.shape
        ((2, 4), (2,))
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    x, y = _rows(embeddings, labels, "a probe")
    d = x.shape[1]
    if problem_type == "regression":
        model = Ridge(alpha=1.0 / c).fit(x, y.reshape(len(y), -1).astype(np.float64))
        return model.coef_.reshape(num_labels, d), np.atleast_1d(model.intercept_).reshape(num_labels)
    weight, bias = np.zeros((num_labels, d)), np.zeros(num_labels)
    if problem_type == "multi_label_classification":
        y = y.astype(np.float64).reshape(len(x), num_labels)
        for j in range(num_labels):
            column = y[:, j] > 0.5
            if column.all() or not column.any():  # constant column: a bias alone says it
                bias[j] = 8.0 if column.all() else -8.0
                continue
            fit = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, column.astype(int))
            weight[j], bias[j] = fit.coef_[0], fit.intercept_[0]
        return weight, bias
    y = y.astype(int).reshape(-1)
    present = np.unique(y)
    if len(present) < 2:
        raise DataError(f"a probe needs examples of at least two classes, got only class {present.tolist()}")
    fit = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, y)
    if len(present) == 2:  # scikit-learn fits one row for two classes: split it symmetrically
        coef = np.vstack([-fit.coef_[0] / 2, fit.coef_[0] / 2])
        intercept = np.array([-fit.intercept_[0] / 2, fit.intercept_[0] / 2])
    else:
        coef, intercept = fit.coef_, fit.intercept_
    weight[present], bias[present] = coef, intercept
    missing = np.setdiff1d(np.arange(num_labels), present)
    if len(missing):
        bias[missing] = intercept.min() - 4.0
    return weight, bias


def set_head(model: Any, weight: Any, bias: Any) -> None:
    """Write logits-space ``(weight, bias)`` into a sentence model's ``classifier``, in place.

    The stored tensors are divided by the model's ``head_scale``, so its logits are ``x @ weight.T + bias``.

    Raises:
        DataError: the shapes differ from the model's head.

    Example:
        >>> set_head(model, *fit_probe(encode(model, tokenizer, texts), labels, 2))  # doctest: +SKIP
    """
    import torch

    scale = float(model.config.head_scale)
    layer = model.classifier
    w = torch.as_tensor(np.asarray(weight), dtype=layer.weight.dtype) / scale
    b = torch.as_tensor(np.asarray(bias), dtype=layer.bias.dtype) / scale
    if tuple(w.shape) != tuple(layer.weight.shape) or tuple(b.shape) != tuple(layer.bias.shape):
        raise DataError(f"a head of shape {tuple(w.shape)} does not fit the model's {tuple(layer.weight.shape)}")
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(b)
