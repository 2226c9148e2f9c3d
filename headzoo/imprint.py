"""Imprinted heads: each label's output row set from the class mean of the features entering the output layer.

No training: one forward pass over the labelled examples under
``torch.inference_mode`` (no gradients, no ``Trainer``), then a closed form.

**What is captured.** A forward hook on the head's output layer (the module
:func:`headzoo.head.output_layer_name` finds: BERT's ``classifier``, RoBERTa's
``classifier.out_proj``, GPT-2's ``score``) records the tensor that enters it
and the logits it gives, for any architecture. Where that layer runs on every
position (GPT-2, Llama: ``[batch, length, hidden]``), the position the model
pools is taken: the one whose logits are the model's output (else the last one
the attention mask keeps). The model runs in eval mode (no dropout).

**The rows** (nearest class mean). With ``mu_c`` the mean feature of the
examples of label ``c``::

    w_c = s * mu_c        b_c = -s * |mu_c|^2 / 2

so ``w_c . x + b_c = s * (|x|^2 - |x - mu_c|^2) / 2``: the largest logit is the
nearest class mean, and ``s`` is an inverse temperature. ``s`` is chosen from the
training features only: the value that minimises the training cross-entropy
of those logits (a one-dimensional convex problem, solved by golden-section
search over ``log s``). An output layer without a bias (``score`` of GPT-2 /
Llama) gets ``w_c = s * mu_c`` alone.

**Some rows only** (:func:`imprint_rows` with ``rows``; a head of another task
whose labels only overlap, see :mod:`headzoo.labels`): the other rows stay as
they are, and the imprinted ones get ``b_c = -s * |mu_c|^2 / 2 + beta``, with
``s`` and a shared offset ``beta`` fitted together on the training
cross-entropy of all outputs, so the new rows are on the scale of the rows they
sit next to.

**Multi-label** (labels given as 0/1 vectors): each label is a two-class
nearest-mean problem, ``w_c = s * (mu_c+ - mu_c-)``, ``b_c = -s * (|mu_c+|^2 -
|mu_c-|^2) / 2``, with one ``s`` fitted on the binary cross-entropy.

**Layers before the output layer** (RoBERTa's ``classifier.dense``, DeBERTa's
``pooler``, DistilBERT's ``pre_classifier``) keep the model's own seeded
initialisation: a fixed random map. The hook sees the features *after* them,
so the rows fit what the output layer really gets, and a saved imprinted head
holds those layers too (stage 2 trains everything as usual).

A label with no examples cannot be imprinted: :class:`~headzoo.errors.DataError`
before anything is changed, unless ``keep_empty`` lets such rows keep their
values (and :attr:`Imprint.kept` says which). Regression has no classes:
:class:`~headzoo.errors.ConfigError`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, DataError, HeadMismatchError
from .head import output_layer_name
from .head_kind import base_model, feature_of, pooling_of
from .naming import SENTENCE_EMBEDDING

logger = logging.getLogger(__name__)

__all__ = ["Features", "Imprint", "capture_features", "imprint", "imprint_rows"]

#: Golden-section iterations of the scale search (the bracket shrinks by 0.618 each).
SEARCH_STEPS = 40
#: At most this many Newton steps for the offset of imprinted rows beside a head's own.
NEWTON_STEPS = 30
#: The scale search covers ``s * v`` in ``[LOW, HIGH * d]``: ``v`` is the within-class variance of the
#: features, ``d`` their dimension (``d / v`` is the Gaussian classifier's scale).
SCALE_RANGE = (1e-3, 1e2)


@dataclass
class Features:
    """What entered the output layer, what it gave, and the labels, one row per example.

    Attributes:
        inputs: ``[N, d]`` float32 features entering the output layer (CPU).
        outputs: ``[N, num_labels]`` float32 logits the layer gave (CPU).
        labels: ``[N]`` class ids, or ``[N, num_labels]`` 0/1 floats for multi-label.
        seconds: wall time of the forward pass.
        layer: the output layer's module name.
    """

    inputs: Any
    outputs: Any
    labels: Any
    seconds: float = 0.0
    layer: str = ""


@dataclass
class Imprint:
    """What :func:`imprint_rows` set.

    Attributes:
        layer: the output layer's module name.
        rows: the labels imprinted (model output order).
        kept: labels with no examples whose rows were kept (only with ``keep_empty``).
        counts: examples per imprinted label.
        scale: the inverse temperature ``s``.
        offset: the shared bias offset ``beta`` of a partial imprint (0 otherwise).
        examples: examples used.
        seconds: wall time (forward pass and fit).
    """

    layer: str
    rows: list[str]
    kept: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    scale: float = 0.0
    offset: float = 0.0
    examples: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (what a head's ``training`` holds under ``imprint``)."""
        return {"layer": self.layer, "rows": list(self.rows), "kept": list(self.kept), "counts": dict(self.counts),
                "scale": round(self.scale, 6), "offset": round(self.offset, 6), "examples": self.examples}


def _labels_of(model: Any) -> list[str]:
    cfg = model.config
    id2label = {int(k): str(v) for k, v in (getattr(cfg, "id2label", None) or {}).items()}
    return [id2label.get(i, f"LABEL_{i}") for i in range(int(cfg.num_labels))]


def _check_classifier(model: Any) -> str:
    cfg = model.config
    if cfg.problem_type == "regression" or int(cfg.num_labels) == 1:
        raise ConfigError(
            f"imprinting sets one row per class from the class means, and {type(model).__name__} is a regression "
            "model (one output) with no classes: train its head with a PET method instead (e.g. method='lora')"
        )
    layer = output_layer_name(model)
    if layer is None:
        raise HeadMismatchError(
            f"{type(model).__name__} has no head module with a weight of {cfg.num_labels} rows to imprint; "
            "imprinting needs a linear output layer (classifier, out_proj, score)"
        )
    return layer


def capture_features(model: Any, batches: Iterable[Mapping[str, Any]], *, device: Any = None) -> Features:
    """One forward pass over ``batches``; record what enters the output layer, its logits and the labels.

    Args:
        model: a transformers sequence-classification model (not wrapped by peft).
        batches: dicts of tensors as a ``DataCollatorWithPadding`` gives them (``input_ids``,
            ``attention_mask``..., and ``labels``).
        device: run there (the model is moved there and back); default: where the model is.

    Returns:
        The :class:`Features`.

    Raises:
        DataError: no examples, or a batch without ``labels``.
        ConfigError: a regression model.

    Example:
        >>> feats = capture_features(model, loader)  # doctest: +SKIP
        >>> feats.inputs.shape  # doctest: +SKIP
        torch.Size([2000, 384])
    """
    import torch

    layer = _check_classifier(model)
    module = model.get_submodule(layer)
    seen: dict[str, Any] = {}

    def hook(mod: Any, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        tensors = [a for a in (*args, *kwargs.values()) if torch.is_tensor(a)]
        seen["x"] = tensors[0] if tensors else None
        seen["y"] = output[0] if isinstance(output, tuple) else output

    start = time.perf_counter()
    home = next((p.device for p in model.parameters()), torch.device("cpu"))
    target = torch.device(device) if device is not None else home
    was_training = model.training
    inputs, outputs, labels = [], [], []
    handle = module.register_forward_hook(hook, with_kwargs=True)
    try:
        model.to(target).eval()
        with torch.inference_mode():
            for batch in batches:
                batch = dict(batch)
                gold = batch.pop("labels", batch.pop("label", None))
                if gold is None:
                    raise DataError(f"a batch has no 'labels' to imprint from (it has {sorted(batch)}); "
                                    "give labelled examples")
                feed = {k: v.to(target) for k, v in batch.items() if torch.is_tensor(v)}
                seen.clear()
                pooled = getattr(model(**feed), "logits", None)
                x, y = seen.get("x"), seen.get("y")
                if x is None or y is None:
                    raise HeadMismatchError(f"the output layer {layer!r} of {type(model).__name__} was not called "
                                            "with a tensor in the forward pass; it cannot be imprinted")
                if x.dim() == 3:  # runs on every position (GPT-2, Llama): take the pooled one
                    x, y = _pooled(x, y, pooled, feed.get("attention_mask"))
                inputs.append(x.reshape(x.shape[0], -1).float().cpu())
                outputs.append(y.reshape(y.shape[0], -1).float().cpu())
                labels.append(torch.as_tensor(gold).cpu())
    finally:
        handle.remove()
        model.to(home).train(was_training)
    if not inputs:
        raise DataError("no examples to imprint from: the training data are empty")
    return Features(torch.cat(inputs), torch.cat(outputs), torch.cat(labels), time.perf_counter() - start, layer)


def _pooled(x: Any, y: Any, pooled: Any, mask: Any) -> tuple[Any, Any]:
    """The features and logits at the position a per-position head's model pools, per example."""
    import torch

    length = x.shape[1]
    positions = torch.arange(length, device=x.device)
    last = None
    if torch.is_tensor(pooled) and pooled.shape == (y.shape[0], y.shape[2]):
        hit = (y == pooled.to(y.device).unsqueeze(1)).all(-1)  # the position whose logits the model returned
        if bool(hit.any(1).all()):
            last = (positions * hit).argmax(-1)
    if last is None and mask is not None:
        last = (positions * mask.to(x.device).bool()).argmax(-1)
    if last is None:
        last = torch.full((x.shape[0],), length - 1, device=x.device)
    rows = torch.arange(x.shape[0], device=x.device)
    return x[rows, last], y[rows, last]


def _golden(f: Any, low: float, high: float, steps: int = SEARCH_STEPS) -> float:
    """The minimiser of a unimodal ``f`` on ``[low, high]`` (golden-section search)."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(steps):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (a + b) / 2


def imprint_rows(model: Any, features: Features, rows: Sequence[int] | None = None, *,
                 keep_empty: bool = False) -> Imprint:
    """Set the output-layer rows of ``model`` (all, or ``rows``) from the class means in ``features``.

    See the module docstring for the formula. Everything is checked and computed before
    the first value is written: a refusal leaves the model as it was.

    Args:
        model: the model ``features`` were captured from (same output layer, same labels).
        features: from :func:`capture_features`.
        rows: output indices to imprint; None imprints every row.
        keep_empty: leave rows whose label has no example as they are (and list them in ``kept``)
            instead of refusing.

    Returns:
        What was set (:class:`Imprint`).

    Raises:
        DataError: a label to imprint has no example (without ``keep_empty``), or labels out of range.
        ConfigError: a regression model, or ``rows`` out of range.

    Example:
        >>> result = imprint_rows(model, capture_features(model, loader))  # doctest: +SKIP
        >>> result.rows, round(result.scale, 1)  # doctest: +SKIP
        (['negative', 'positive'], 212.4)
    """
    import torch

    start = time.perf_counter()
    layer = _check_classifier(model)
    target = _imprint_targets(model, features, rows, keep_empty)
    x = features.inputs.double()
    active, names = target.active, target.names
    module = model.get_submodule(layer)
    weight = module.weight
    bias = getattr(module, "bias", None)
    has_bias = isinstance(bias, torch.Tensor)
    result = Imprint(layer=layer, rows=[names[c] for c in active], kept=[names[c] for c in target.empty],
                     counts={names[c]: int(target.counts[c]) for c in active}, examples=int(x.shape[0]))
    if not active:
        result.seconds = time.perf_counter() - start
        return result
    if x.shape[1] != weight.shape[1]:
        raise HeadMismatchError(f"captured features have {x.shape[1]} dimensions but {layer!r} takes "
                                f"{weight.shape[1]}; capture them from this model")
    index = torch.tensor(active)
    pooling = pooling_of(model)
    cosine = pooling is not None and pooling.normalize and not target.multi
    w, b, variance = _class_mean_rows(x, target.hot[:, index], target.multi, has_bias, cosine=cosine)
    others = [c for c in range(len(names)) if c not in active]
    fit = _ScaleFit(score=x @ w.T + b, fixed=features.outputs.double(), index=index, target=target,
                    partial=bool(others) and has_bias and not target.multi, others=others)
    s, beta = fit.solve(variance, x.shape[1])
    unit = logit_multiplier(model)  # a sentence model multiplies its head's output by its head_scale
    new_w = (s * w / unit).to(dtype=weight.dtype, device=weight.device)
    new_b = ((s * b + beta) / unit).to(dtype=bias.dtype, device=bias.device) if has_bias else None
    with torch.no_grad():
        weight[index.to(weight.device)] = new_w
        if new_b is not None:
            bias[index.to(bias.device)] = new_b
    result.scale, result.offset = s, beta
    result.seconds = features.seconds + time.perf_counter() - start
    logger.debug("imprinted %d row(s) of %s (%s) from %d examples, scale %.4g", len(active), layer,
                ", ".join(result.rows), result.examples, s)
    return result


@dataclass
class _Targets:
    """The labels of an imprint: which rows to set, and each example's classes."""

    names: list[str]
    multi: bool
    hot: Any  # [N, n] bool: example i has label c
    ids: Any  # [N] class ids (None for multi-label)
    counts: list[int]
    empty: list[int]  # rows to set that no example has
    active: list[int]  # rows to set that examples have


def _imprint_targets(model: Any, features: Features, rows: Sequence[int] | None, keep_empty: bool) -> _Targets:
    """Check the rows and labels of an imprint (nothing is changed) and say which rows it sets."""
    import torch

    names = _labels_of(model)
    n = len(names)
    wanted = list(range(n)) if rows is None else sorted(set(rows))
    if any(isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < n for r in wanted):
        raise ConfigError(f"rows to imprint must be output indices 0..{n - 1}, got {list(rows or [])!r}")
    labels = features.labels
    multi = labels.dim() == 2
    ids = None
    if multi:
        if labels.shape[1] != n:
            raise DataError(f"multi-label targets have {labels.shape[1]} columns but the model has {n} labels")
        hot = labels.double() > 0.5
    else:
        ids = labels.long().reshape(-1)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
            raise DataError(f"labels must be class ids 0..{n - 1} ({names}), got {sorted(set(ids.tolist()))[:10]}")
        hot = torch.nn.functional.one_hot(ids, n).bool()
    counts = hot.sum(0).tolist()
    empty = [c for c in wanted if counts[c] == 0]
    if empty and not keep_empty:
        shown = {names[c]: int(counts[c]) for c in range(n)}
        raise DataError(
            f"cannot imprint label(s) {[names[c] for c in empty]}: no training example has them "
            f"(examples per label: {shown}); add examples of them, or drop them from the task's labels"
        )
    return _Targets(names, multi, hot, ids, counts, empty, [c for c in wanted if counts[c] > 0])


def _class_mean_rows(x: Any, members: Any, multi: bool, has_bias: bool, *,
                     cosine: bool = False) -> tuple[Any, Any, float]:
    """The rows at scale 1 from the class means (``members``: [N, k] bool), and the within-class variance.

    ``cosine`` (a single-label head on a unit-length embedding): the rows are the class means scaled to unit
    length, with no bias, a cosine classifier.
    """
    import torch

    def mean(mask: Any) -> Any:
        m = mask.double()
        return (m.T @ x) / m.sum(0).clamp(min=1).unsqueeze(1)

    pos = mean(members)  # [k, d]
    if multi:
        neg_mask = ~members
        neg = mean(neg_mask)
        neg[neg_mask.sum(0) == 0] = x.mean(0)  # a label every example has: no negative mean
        w = pos - neg
        b = -((pos * pos).sum(1) - (neg * neg).sum(1)) / 2
        spread = sum(((x - pos[j]) ** 2).sum(1)[members[:, j]].sum() for j in range(members.shape[1]))
        count = members.sum()
    elif cosine:
        w = pos / pos.norm(dim=1, keepdim=True).clamp(min=1e-12)
        b = torch.zeros(pos.shape[0], dtype=pos.dtype)
        own = members.any(1)
        spread = ((x[own] - pos[members[own].float().argmax(1)]) ** 2).sum()
        count = own.sum()
    else:
        w = pos
        b = -(pos * pos).sum(1) / 2
        own = members.any(1)
        spread = ((x[own] - pos[members[own].float().argmax(1)]) ** 2).sum()
        count = own.sum()
    if not has_bias:
        b = torch.zeros_like(b)
    variance = float(spread) / max(1, int(count))
    if variance <= 1e-12:
        variance = float(((x - x.mean(0)) ** 2).sum(1).mean()) or 1.0
    return w, b, variance


@dataclass
class _ScaleFit:
    """The scale ``s`` (and the shared offset ``beta`` of a partial imprint) that minimise the training loss."""

    score: Any  # [N, k]: the logits of the imprinted rows at s = 1
    fixed: Any  # [N, n]: the logits the output layer gave
    index: Any  # the imprinted rows
    target: _Targets
    partial: bool  # other rows stay: fit the offset too
    others: list[int]
    last_beta: float = 0.0

    def logits(self, s: float, beta: float) -> Any:
        z = self.fixed.clone()
        z[:, self.index] = s * self.score + beta
        return z

    def loss(self, s: float, beta: float) -> float:
        import torch

        if self.target.multi:
            goal = self.target.hot[:, self.index].double()
            return float(torch.nn.functional.binary_cross_entropy_with_logits(s * self.score, goal))
        z = self.logits(s, beta)
        return float((torch.logsumexp(z, 1) - z.gather(1, self.target.ids.unsqueeze(1)).squeeze(1)).mean())

    def best_offset(self, s: float) -> float:
        """The loss is convex in the offset: Newton's method, kept inside a bracket that the slope's sign
        narrows (a bisection step where Newton would leave it), within the reach of the other logits."""
        import torch

        if not self.partial:
            return 0.0
        in_rows = self.target.hot[:, self.index].any(1).double()
        reach = 2 * (float(self.fixed[:, self.others].abs().max()) + s * float(self.score.abs().max()) + 1.0)
        low, high = -reach, reach
        beta = min(high, max(low, self.last_beta))  # the scale search moves little between calls: warm start
        for _ in range(NEWTON_STEPS):
            share = torch.softmax(self.logits(s, beta), 1)[:, self.index].sum(1)
            slope, curve = float((share - in_rows).mean()), float((share * (1 - share)).mean())
            if slope > 0:
                high = beta
            else:
                low = beta
            new = beta - slope / curve if curve > 1e-12 else math.nan
            if not low < new < high:
                new = (low + high) / 2
            done = abs(new - beta) < 1e-6 * (1 + abs(beta))
            beta = new
            if done:
                break
        self.last_beta = beta
        return beta

    def solve(self, variance: float, dim: int) -> tuple[float, float]:
        """``(s, beta)``: golden-section search over ``log s`` in the range :data:`SCALE_RANGE` gives."""
        lo, hi = math.log(SCALE_RANGE[0] / variance), math.log(SCALE_RANGE[1] * dim / variance)
        s = math.exp(_golden(lambda u: self.loss(math.exp(u), self.best_offset(math.exp(u))), lo, hi))
        return s, self.best_offset(s)


def logit_multiplier(model: Any) -> float:
    """What ``model`` multiplies its output layer's result by: a sentence model's ``head_scale``, else 1.

    Example:
        >>> logit_multiplier(bert_model)  # doctest: +SKIP
        1.0
    """
    return float(base_model(model).config.head_scale) if feature_of(model) == SENTENCE_EMBEDDING else 1.0


def imprint(model: Any, batches: Iterable[Mapping[str, Any]], rows: Sequence[int] | None = None, *,
            keep_empty: bool = False, device: Any = None) -> Imprint:
    """Imprint ``model``'s head in place from labelled ``batches``: :func:`capture_features` then :func:`imprint_rows`.

    Args:
        model: a transformers sequence-classification model.
        batches: padded, tokenised batches with ``labels`` (a ``DataLoader`` with ``DataCollatorWithPadding``).
        rows: output indices to imprint; None: all.
        keep_empty: keep rows whose label has no example instead of refusing.
        device: where to run the forward pass (default: where the model is).

    Returns:
        What was set (:class:`Imprint`); ``model`` holds the new rows.

    Raises:
        DataError: a label without examples (see ``keep_empty``), or no examples at all.
        ConfigError: a regression model.

    Example:
        >>> from torch.utils.data import DataLoader
        >>> from transformers import DataCollatorWithPadding
        >>> loader = DataLoader(tokenised_train, batch_size=64,  # doctest: +SKIP
        ...                     collate_fn=DataCollatorWithPadding(tokenizer))
        >>> imprint(model, loader).rows  # doctest: +SKIP
        ['negative', 'positive']
    """
    _check_classifier(model)
    return imprint_rows(model, capture_features(model, batches, device=device), rows, keep_empty=keep_empty)
