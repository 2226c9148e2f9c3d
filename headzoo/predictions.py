"""Heads as classifiers: labels and probabilities for texts, or for sentence embeddings already computed.

This module works on :class:`~headzoo.head.Head` objects already in memory; :func:`headzoo.predict` (in
:mod:`headzoo.predict`) also finds heads by name. It does not import :mod:`headzoo.head`, so
``Head.predict`` can call :func:`predict_heads` without an import cycle.

- A ``sentence-embedding`` head is a matrix on the sentence embedding: ``logits = head_scale * (x @ W.T + b)``.
  On texts, every such head shares **one** backbone pass (:func:`headzoo.frozen.encode`, the vector
  ``SentenceTransformer.encode`` gives); on embeddings there is no model at all, only matrix products.
- A ``sequence-classification`` head reads the model's own classification path (BERT's pooler, RoBERTa's
  first token...), which a sentence embedding does not hold: on texts each such head is put into a model of
  its backbone and costs its own backbone pass; given embeddings it is a :class:`~headzoo.errors.HeadKindError`.

Rows are processed in chunks of ``chunk_size``: what is held besides the inputs and the results (one float32
probability per row and label) is one chunk's embeddings as float32 and one block of logits (at most
:data:`LOGIT_BLOCK` values, every head's side by side from one matrix product), whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BackboneMismatchError, ConfigError, DataError, HeadKindError
from .frozen import token_limit
from .naming import SENTENCE_EMBEDDING

#: Rows per chunk where none is given: the embeddings and logits of one chunk are what a prediction holds.
CHUNK_SIZE = 65_536
#: Logits computed by one matrix product at most (rows of a block times the heads' labels together): 16 MiB of
#: float32, whatever the number of heads, their labels or ``chunk_size``.
LOGIT_BLOCK = 1 << 22
#: What a head's predictions are: one label per row, a set of labels per row, or a score per row.
SINGLE_LABEL, MULTI_LABEL, REGRESSION = "single-label", "multi-label", "regression"


@dataclass(frozen=True)
class HeadPrediction:
    """One head's predictions for every row.

    Attributes:
        name: the head's column (its task; ``task/method`` or ``task#2`` where two heads share a task).
        labels: the label names, in the head's output order.
        kind: ``"single-label"`` (softmax, the argmax label), ``"multi-label"`` (sigmoid, the labels above 0.5)
            or ``"regression"`` (the score itself).
        probabilities: float32 ``(rows, labels)``: softmax or sigmoid probabilities; for a regression head the
            predicted scores.
        source: where the head came from (``task/method``, or its folder).

    Example:
        >>> p = HeadPrediction("sst2", ["negative", "positive"], "single-label",
        ...                    np.array([[0.1, 0.9]], dtype=np.float32))
        >>> p.predicted
        ['positive']
    """

    name: str
    labels: list[str]
    kind: str
    probabilities: np.ndarray = field(repr=False)
    source: str = ""

    def __len__(self) -> int:
        return int(self.probabilities.shape[0])

    @property
    def label_ids(self) -> np.ndarray:
        """Single-label: the predicted label's index per row; multi-label: a boolean ``(rows, labels)`` mask."""
        if self.kind == MULTI_LABEL:
            return self.probabilities > 0.5
        if self.kind == REGRESSION:
            raise ConfigError(f"head {self.name!r} is a regression head: it predicts scores, not label ids; "
                              "read .probabilities (the scores) or .predicted")
        return self.probabilities.argmax(axis=1)

    def value(self, row: int) -> Any:
        """The prediction of one row: a label, a list of labels (multi-label) or a score (regression)."""
        probs = self.probabilities[row]
        if self.kind == REGRESSION:
            return float(probs[0]) if len(probs) == 1 else [float(v) for v in probs]
        if self.kind == MULTI_LABEL:
            return [label for label, p in zip(self.labels, probs, strict=True) if p > 0.5]
        return self.labels[int(probs.argmax())]

    @property
    def predicted(self) -> list[Any]:
        """The prediction of every row (see :meth:`value`)."""
        return [self.value(i) for i in range(len(self))]

    def confidence(self, row: int) -> float | None:
        """The probability of a single-label row's predicted label (None for other kinds)."""
        return float(self.probabilities[row].max()) if self.kind == SINGLE_LABEL else None


@dataclass(frozen=True)
class Predictions:
    """What :func:`headzoo.predict` returns: every head's predictions for the same rows.

    Attributes:
        heads: column name -> :class:`HeadPrediction`, in the order the heads were given.
        texts: the texts, when texts were given (None for embeddings).
        backbone: the backbone the heads read.

    Example:
        >>> preds = headzoo.predict(["sst2", "sms_spam"], ["what a film"])  # doctest: +SKIP
        >>> preds["sst2"].predicted, preds.to_rows()[0]["sms_spam"]  # doctest: +SKIP
        (['positive'], 'ham')
    """

    heads: dict[str, HeadPrediction]
    texts: list[str] | None = field(default=None, repr=False)
    backbone: str = ""

    def __len__(self) -> int:
        return len(next(iter(self.heads.values())))

    def __getitem__(self, name: str) -> HeadPrediction:
        if name not in self.heads:
            raise KeyError(f"no head {name!r} in these predictions; they hold {list(self.heads)}")
        return self.heads[name]

    @property
    def names(self) -> list[str]:
        """The heads' column names."""
        return list(self.heads)

    def iter_rows(self, probabilities: bool = True) -> Iterator[dict[str, Any]]:
        """One dict per input row: ``text`` (for texts), a column per head with its prediction, and with
        ``probabilities`` a ``head:label`` column per label (the score for a regression head)."""
        for i in range(len(self)):
            row: dict[str, Any] = {"text": self.texts[i]} if self.texts is not None else {}
            for name, head in self.heads.items():
                row[name] = head.value(i)
            if probabilities:
                for name, head in self.heads.items():
                    for label, p in zip(head.labels, head.probabilities[i], strict=True):
                        row[f"{name}:{label}"] = float(p)
            yield row

    def to_rows(self, probabilities: bool = True) -> list[dict[str, Any]]:
        """:meth:`iter_rows` as a list (for ``csv.DictWriter``, JSONL, ``pandas.DataFrame``).

        Example:
            >>> headzoo.predict("sst2", ["a fine film"]).to_rows()  # doctest: +SKIP
            [{'text': 'a fine film', 'sst2': 'positive', 'sst2:negative': 0.02, 'sst2:positive': 0.98}]
        """
        return list(self.iter_rows(probabilities))

    def table(self, width: int = 48) -> str:
        """A plain-text table: one row per head for a single input, else one row per input and a column per
        head (``label (probability)``); texts are cut to ``width`` characters."""
        if len(self) == 1:
            header = ["head", "prediction", "probability"]
            rows = [[name, _shown(head.value(0)), _number(head.confidence(0))] for name, head in self.heads.items()]
        else:
            header = (["text"] if self.texts is not None else ["row"]) + self.names
            rows = [[_cut(self.texts[i], width) if self.texts is not None else str(i)]
                    + [_cell(head, i) for head in self.heads.values()] for i in range(len(self))]
        return _render(header, rows)


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "|".join(_shown(v) for v in value) or "(none)"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _cell(head: HeadPrediction, row: int) -> str:
    confidence = head.confidence(row)
    return _shown(head.value(row)) + (f" ({confidence:.2f})" if confidence is not None else "")


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _render(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)


# ------------------------------------------------------------------ checks


def check_inputs(texts: Any, embeddings: Any, batch_size: int = 64, chunk_size: int = CHUNK_SIZE) -> list[str] | None:
    """Exactly one of ``texts`` / ``embeddings``; texts as a list of non-empty strings (a str is one text).

    Raises:
        ConfigError: both or neither given; a batch or chunk size below 1.
        DataError: no texts, a text that is not a string or is blank (its row is named).

    Example:
        >>> check_inputs("a text", None)
        ['a text']
    """
    for name, value in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if (texts is None) == (embeddings is None):
        which = "both" if texts is not None else "neither"
        raise ConfigError(f"predict got {which} texts and embeddings: pass texts (a list of strings) or "
                          "embeddings (a 2-D array of sentence embeddings), one of the two")
    if texts is None:
        return None
    listed = [texts] if isinstance(texts, str) else texts
    if not isinstance(listed, Sequence):
        listed = list(listed)
    if len(listed) == 0:
        raise DataError("no texts to predict: pass at least one text")
    for i, text in enumerate(listed):
        if not isinstance(text, str):
            raise DataError(f"text {i} is a {type(text).__name__} ({str(text)[:40]!r}), not a string: pass strings")
        if not text.strip():
            raise DataError(f"text {i} is blank: drop it or give it words")
    return list(listed)


def head_kind(config: Any) -> str:
    """``"regression"``, ``"multi-label"`` or ``"single-label"``: what a head's outputs mean."""
    if config.problem_type == "regression" or config.num_labels == 1:
        return REGRESSION
    return MULTI_LABEL if config.problem_type == "multi_label_classification" else SINGLE_LABEL


def backbone_key(name: str) -> str:
    """A backbone name as it compares: aliases to their Hub id, folders resolved, the embedded MiniLM by its id.

    Example:
        >>> backbone_key("minilm")
        'sentence-transformers/all-MiniLM-L6-v2'
    """
    from .backbone import ALIASES, DEFAULT_BACKBONE, embedded_backbone_path

    raw = name.strip()
    if not raw.startswith(("/", ".", "~")):
        return ALIASES.get(raw.lower(), raw)
    try:
        path = Path(raw).expanduser().resolve()
        embedded = embedded_backbone_path()
    except (OSError, RuntimeError, ValueError):
        return raw
    return DEFAULT_BACKBONE if embedded is not None and path == embedded.resolve() else str(path)


def same_backbone(a: Any, b: Any) -> bool:
    """Whether two head configs record one backbone: equal weight fingerprints where both record one, else
    equal names (:func:`backbone_key`)."""
    if a.backbone_fingerprint and b.backbone_fingerprint:
        return bool(a.backbone_fingerprint == b.backbone_fingerprint)
    return backbone_key(a.backbone) == backbone_key(b.backbone)


def check_backbones(heads: Sequence[Any], backbone: str | None, loads_model: bool) -> None:
    """All heads record one backbone, and it is ``backbone`` where one is given.

    A given backbone of another name passes only where a model is loaded (texts) and the heads record a weight
    fingerprint, which is then checked against the loaded weights.

    Raises:
        BackboneMismatchError: two heads of different backbones, or a head of another than the given one.
    """
    first = heads[0]
    for head in heads[1:]:
        if not same_backbone(first.config, head.config):
            raise BackboneMismatchError(
                f"head {head.source} is for backbone {head.config.backbone!r} but head {first.source} is for "
                f"{first.config.backbone!r}: predict with heads of one backbone at a time")
    if backbone is None:
        return
    for head in heads:
        if backbone_key(backbone) != backbone_key(head.config.backbone) and not (
                loads_model and head.config.backbone_fingerprint):
            raise BackboneMismatchError(
                f"head {head.source} is for backbone {head.config.backbone!r}, not the given {backbone!r}: "
                "drop backbone= (CLI: --backbone) to use the head's own, or use heads trained on the given one")


def column_names(heads: Sequence[Any]) -> list[str]:
    """A column per head: its task, ``task/method`` where tasks repeat, then ``#2``, ``#3`` where those do."""
    tasks = [h.config.task for h in heads]
    names = [t if tasks.count(t) == 1 else h.source for t, h in zip(tasks, heads, strict=True)]
    out: list[str] = []
    for name in names:
        column, n = name, 1
        while column in out:
            n += 1
            column = f"{name}#{n}"
        out.append(column)
    return out


# ------------------------------------------------------------------ embeddings


def _width_error(head: Any, width: int, got: int) -> BackboneMismatchError:
    return BackboneMismatchError(
        f"the embeddings are {got} wide but head {head.source} reads the {width}-wide sentence embedding of "
        f"{head.config.backbone!r}: pass embeddings of that checkpoint (SentenceTransformer("
        f"{head.config.backbone!r}).encode(texts)), or heads trained on yours")


def check_embeddings(embeddings: Any, heads: Sequence[Any]) -> Any:
    """The embeddings as a 2-D float numpy array or torch tensor (not copied), checked against the heads.

    Raises:
        DataError: not 2-D, no rows, or not floating point (ints, bools, objects, complex).
        BackboneMismatchError: another width than a head reads.
        HeadKindError: a ``sequence-classification`` head (it reads the model's own path, not an embedding).
    """
    for head in heads:
        if head.config.feature != SENTENCE_EMBEDDING:
            raise HeadKindError(
                f"head {head.source} reads the model's own classification path ({head.config.feature}), not a "
                "sentence embedding, so it cannot classify embeddings: pass texts instead, or use a "
                "sentence-embedding head (pretrain_head(..., feature='sentence-embedding'))")
    array = embeddings if _is_tensor(embeddings) else _as_array(embeddings)
    shape = tuple(array.shape)
    if len(shape) != 2:
        hint = " (one vector? pass it as embeddings[None, :])" if len(shape) == 1 else ""
        raise DataError(f"embeddings must be 2-D (rows, width), got shape {shape}{hint}")
    if shape[0] == 0:
        raise DataError(f"no embeddings to predict (shape {shape}): pass at least one row")
    _check_dtype(array)
    for head in heads:
        width = int(head.tensors["classifier.weight"].shape[1])
        if shape[1] != width:
            raise _width_error(head, width, shape[1])
    return array


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"embeddings must be a 2-D array of numbers, got {type(value).__name__} that numpy cannot "
                        f"read as one ({' '.join(str(exc).split())[:120]})") from None


def _check_dtype(array: Any) -> None:
    if _is_tensor(array):
        ok, name = bool(array.is_floating_point()), str(array.dtype)
    else:
        ok, name = array.dtype.kind == "f", str(array.dtype)
    if not ok:
        raise DataError(f"embeddings must be floating point (float16/32/64), got dtype {name}: pass the vectors "
                        "a sentence-embedding model returns, not ids, flags or objects")


def _chunk(array: Any, start: int, stop: int, first_row: int = 0) -> np.ndarray:
    part = array[start:stop]
    if _is_tensor(part):
        part = part.detach().float().cpu().numpy()
    part = np.asarray(part, dtype=np.float32)
    finite = np.isfinite(part).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        what = "NaN" if np.isnan(part[row]).any() else "inf"
        raise DataError(f"embedding row {first_row + start + row} holds {what}: drop or recompute that row")
    return part


def probabilities_of(logits: np.ndarray, kind: str) -> np.ndarray:
    """Softmax (single-label), sigmoid (multi-label) or the scores themselves (regression), as float32.

    Example:
        >>> probabilities_of(np.array([[0.0, 0.0]]), "single-label").tolist()
        [[0.5, 0.5]]
    """
    z = logits.astype(np.float32, copy=False)
    if kind == REGRESSION:
        return z
    if kind == MULTI_LABEL:
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.float32)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _linear(head: Any) -> tuple[np.ndarray, np.ndarray]:
    """A sentence head as logits-space ``(W.T, b)`` float32: ``logits = x @ W.T + b``."""
    scale = head.config.head_scale
    if not scale:
        from .sentence_model import DEFAULT_HEAD_SCALE

        scale = DEFAULT_HEAD_SCALE
    weight = head.tensors["classifier.weight"].detach().float().cpu().numpy() * np.float32(scale)
    bias = head.tensors["classifier.bias"].detach().float().cpu().numpy() * np.float32(scale)
    return np.ascontiguousarray(weight.T), bias


def stacked_heads(heads: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Every sentence head side by side, as one logits-space ``(W.T, b)`` and each head's columns in it.

    One matrix product then gives every head's logits: ``logits[:, a:b]`` are the head whose columns are
    ``(a, b)``. Many heads of a few labels each make many thin products, which cost up to twice as much as
    one product of their total width.

    Example:
        >>> weight, bias, columns = stacked_heads([head_of_2, head_of_3])  # doctest: +SKIP
        >>> weight.shape, columns  # doctest: +SKIP
        ((384, 5), [(0, 2), (2, 5)])
    """
    linears = [_linear(h) for h in heads]
    weight = np.ascontiguousarray(np.concatenate([w for w, _ in linears], axis=1))
    bias = np.concatenate([b for _, b in linears])
    edges = np.cumsum([0] + [w.shape[1] for w, _ in linears]).tolist()
    return weight, bias, list(pairwise(edges))


def _write_probabilities(logits: np.ndarray, kind: str, target: np.ndarray) -> None:
    """``probabilities_of(logits, kind)`` into ``target``; a softmax in place there, with no temporary array."""
    if kind != SINGLE_LABEL:
        target[...] = probabilities_of(logits, kind)
        return
    target[...] = logits
    target -= target.max(axis=1, keepdims=True)
    np.exp(target, out=target)
    target /= target.sum(axis=1, keepdims=True)


def embedding_probabilities(heads: Sequence[Any], embeddings: Any, chunk_size: int = CHUNK_SIZE,
                            first_row: int = 0) -> list[np.ndarray]:
    """Every sentence head's probabilities for checked embeddings (:func:`check_embeddings`), chunk by chunk.

    Rows are read ``chunk_size`` at a time (converted to float32 and checked for NaN / inf); within a chunk one
    matrix product per block of rows gives every head's logits at once (:func:`stacked_heads`), a block being
    at most :data:`LOGIT_BLOCK` logits, and each head's probabilities are written straight into its result.
    ``first_row`` is the number of the first row in messages (for a part of a larger input).

    Raises:
        DataError: a row holds NaN or inf (the row is named).

    Example:
        >>> embedding_probabilities([head], np.zeros((3, 384), np.float32))[0].shape  # doctest: +SKIP
        (3, 2)
    """
    rows = int(embeddings.shape[0])
    weight, bias, columns = stacked_heads(heads)
    kinds = [head_kind(h.config) for h in heads]
    out = [np.empty((rows, h.config.num_labels), dtype=np.float32) for h in heads]
    block = max(1, min(chunk_size, LOGIT_BLOCK // weight.shape[1]))
    logits = np.empty((min(block, rows), weight.shape[1]), dtype=np.float32)
    for start in range(0, rows, chunk_size):
        x = _chunk(embeddings, start, min(rows, start + chunk_size), first_row)
        for at in range(0, len(x), block):
            part = x[at:at + block]
            z = logits[:len(part)]
            np.matmul(part, weight, out=z)
            z += bias
            row = start + at
            for (a, b), kind, target in zip(columns, kinds, out, strict=True):
                _write_probabilities(z[:, a:b], kind, target[row:row + len(part)])
    return out


# ------------------------------------------------------------------ texts


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _check_weights(heads: Sequence[Any], model: Any) -> None:
    """Sentence heads against the loaded sentence model: same pooling, and same weights where recorded."""
    from .backbone import backbone_fingerprint, is_fingerprint_reliable
    from .head_kind import check_kind

    fingerprint = backbone_fingerprint(model) if is_fingerprint_reliable(model) else None
    for head in heads:
        check_kind(head.config, model, f"head {head.source}")
        recorded = head.config.backbone_fingerprint
        if fingerprint and recorded and recorded != fingerprint:
            raise BackboneMismatchError(
                f"head {head.source} was trained on backbone weights {recorded}, but the loaded backbone "
                f"({model.config.backbone.name_or_path or '?'}) has weights {fingerprint}: predict on the head's "
                f"backbone ({head.config.backbone!r})")


def sentence_text_probabilities(heads: Sequence[Any], ref: Any, texts: list[str], batch_size: int,
                                chunk_size: int = CHUNK_SIZE) -> list[np.ndarray]:
    """Sentence heads on texts: one backbone pass (chunk by chunk) shared by every head.

    Example:
        >>> sentence_text_probabilities([head], resolve_backbone("minilm"), ["a text"], 64)  # doctest: +SKIP
    """
    from .backbone import load_sentence_classifier, load_tokenizer
    from .frozen import encode

    model = load_sentence_classifier(ref, num_labels=1).to(_device()).eval()
    _check_weights(heads, model)
    tokenizer = load_tokenizer(ref)
    out = [np.empty((len(texts), h.config.num_labels), dtype=np.float32) for h in heads]
    for start in range(0, len(texts), chunk_size):
        vectors = encode(model, tokenizer, texts[start:start + chunk_size], batch_size=batch_size)
        for target, part in zip(out, embedding_probabilities(heads, vectors, chunk_size, start), strict=True):
            target[start:start + len(part)] = part
    return out


def _model_logits(model: Any, tokenizer: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """The model's logits for ``texts``, in length-sorted batches, returned in the given order."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    logits = np.empty((len(texts), model.config.num_labels), dtype=np.float32)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in chunk], padding=True, truncation=True,
                              max_length=token_limit(tokenizer, model.config), return_tensors="pt").to(device)
            logits[chunk] = model(**batch).logits.float().cpu().numpy()
    return logits


def sequence_text_probabilities(head: Any, ref: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """A ``sequence-classification`` head on texts: put into a model of its backbone, one pass of its own.

    Raises:
        BackboneMismatchError: the loaded backbone's weights differ from the head's (``Head.apply``'s check).

    Example:
        >>> sequence_text_probabilities(head, resolve_backbone("minilm"), ["a text"], 64)  # doctest: +SKIP
    """
    from .backbone import load_classifier, load_tokenizer

    c = head.config
    kwargs: dict[str, Any] = {"num_labels": c.num_labels, "id2label": dict(c.id2label), "label2id": c.label2id}
    if c.problem_type:
        kwargs["problem_type"] = c.problem_type
    model = load_classifier(ref, **kwargs)
    head.apply(model, report=False)
    model = model.to(_device()).eval()
    return probabilities_of(_model_logits(model, load_tokenizer(ref), texts, batch_size), head_kind(c))


# ------------------------------------------------------------------ together


def predict_heads(heads: Sequence[Any], texts: Any = None, *, embeddings: Any = None, backbone: str | None = None,
                  batch_size: int = 64, chunk_size: int = CHUNK_SIZE) -> Predictions:
    """Predictions of heads already in memory (:func:`headzoo.predict` also finds heads by name).

    Args:
        heads: :class:`~headzoo.head.Head` objects of one backbone.
        texts: texts (a str is one text); one backbone pass serves every sentence-embedding head.
        embeddings: instead of texts, a 2-D float array or tensor of sentence embeddings.
        backbone: the backbone to run texts through (default: the heads' own); with embeddings a check only.
        batch_size: texts per forward pass.
        chunk_size: rows per chunk (what is held at once besides inputs and results).

    Raises:
        ConfigError: both or neither of texts and embeddings, no heads.
        DataError: bad texts or embeddings (see :func:`check_embeddings`; NaN / inf rows are named).
        BackboneMismatchError: heads of different backbones, another width, other weights.
        HeadKindError: a ``sequence-classification`` head given embeddings.

    Example:
        >>> predict_heads([head], ["a fine film"])["sst2"].predicted  # doctest: +SKIP
        ['positive']
    """
    heads = list(heads)
    listed = check_inputs(texts, embeddings, batch_size, chunk_size)
    if not heads:
        raise ConfigError("no heads to predict with: pass one or more heads (a Head, a task name, a folder)")
    check_backbones(heads, backbone, loads_model=listed is not None)
    name = backbone or heads[0].config.backbone
    if listed is None:
        probabilities = embedding_probabilities(heads, check_embeddings(embeddings, heads), chunk_size)
    else:
        probabilities = _text_probabilities(heads, name, listed, batch_size, chunk_size)
    columns = {
        column: HeadPrediction(column, head.config.labels, head_kind(head.config), probs, head.source)
        for column, head, probs in zip(column_names(heads), heads, probabilities, strict=True)}
    return Predictions(columns, listed, backbone_key(name))


def _text_probabilities(heads: list[Any], backbone: str, texts: list[str], batch_size: int,
                        chunk_size: int) -> list[np.ndarray]:
    from .backbone import resolve_backbone

    ref = resolve_backbone(backbone)
    sentence = [h for h in heads if h.config.feature == SENTENCE_EMBEDDING]
    shared = iter(sentence_text_probabilities(sentence, ref, texts, batch_size, chunk_size) if sentence else [])
    return [next(shared) if h.config.feature == SENTENCE_EMBEDDING
            else sequence_text_probabilities(h, ref, texts, batch_size) for h in heads]
