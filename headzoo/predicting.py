""":func:`headzoo.predict`: many heads as one classifier, on texts or on sentence embeddings you already have.

Heads are named as :func:`headzoo.load_head` names them (a task, a folder, a Hub repo id) and found the same
way (:func:`headzoo.resolve_head`: your zoo, the shipped zoo, the Hub); the work is
:func:`headzoo.predictions.predict_heads`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .backbone import DEFAULT_BACKBONE
from .errors import HeadKindError, HeadNotFoundError
from .head import Head
from .loading import resolve_head
from .naming import SENTENCE_EMBEDDING
from .predictions import CHUNK_SIZE, HeadPrediction, Predictions, check_inputs, predict_heads

HeadLike = Head | str | os.PathLike[str]


def resolve_heads(heads: HeadLike | Sequence[HeadLike], backbone: str | None = None,
                  feature: str | None = None) -> list[Head]:
    """Heads from :class:`~headzoo.head.Head` objects and names (task, folder, Hub repo id).

    A task name is looked up on ``backbone``, else on the backbone of the first ``Head`` given, else on the
    embedded default (all-MiniLM-L6-v2). With ``feature``, a name takes a head of that feature where one is
    found, else the head :func:`~headzoo.resolve_head` finds.

    Raises:
        ConfigError: no heads given.
        HeadNotFoundError: a name that is no head.

    Example:
        >>> [h.config.task for h in resolve_heads(["sst2", "./heads/topic"])]  # doctest: +SKIP
        ['sst2', 'topic']
    """
    from .errors import ConfigError

    listed = [heads] if isinstance(heads, (Head, str, os.PathLike)) else list(heads)
    if not listed:
        raise ConfigError("no heads to predict with: pass one or more heads (a Head, a task name, a folder)")
    given = [h for h in listed if isinstance(h, Head)]
    lookup = backbone or (given[0].config.backbone if given else DEFAULT_BACKBONE)
    return [h if isinstance(h, Head) else _resolve(h, lookup, feature) for h in listed]


def _resolve(name: str | os.PathLike[str], backbone: str, feature: str | None) -> Head:
    if feature is not None:
        try:
            return resolve_head(name, backbone, feature=feature)
        except (HeadKindError, HeadNotFoundError):
            pass  # the head found without it says what is wrong with it
    return resolve_head(name, backbone)


def predict(heads: HeadLike | Sequence[HeadLike], texts: str | Sequence[str] | None = None, *,
            embeddings: Any = None, backbone: str | None = None, batch_size: int = 64,
            chunk_size: int = CHUNK_SIZE) -> Predictions:
    """Labels and probabilities of one or many heads, for texts or for sentence embeddings already computed.

    On texts, every ``sentence-embedding`` head shares **one** backbone pass (the embedding that
    ``SentenceTransformer.encode`` gives), then costs one matrix product; a ``sequence-classification`` head
    reads the model's own classification path and costs a backbone pass of its own. On embeddings (for
    example ``SentenceTransformer(...).encode(texts)`` output, or rows of your vector store) no model is
    loaded: rows go through the heads in chunks of ``chunk_size``, so memory beyond the inputs and the
    results stays bounded however many rows there are.

    Args:
        heads: one head or a list: :class:`~headzoo.head.Head` objects, task names (``"sst2"``), head folders
            or Hub repo ids, found as :func:`~headzoo.resolve_head` finds them (given embeddings, a task name
            takes a ``sentence-embedding`` head where one is found). All must be of one backbone.
        texts: the texts (a str is one text). Give texts or embeddings, not both.
        embeddings: a 2-D float numpy array or torch tensor, one sentence embedding per row, of the heads'
            checkpoint, pooled and normalised as that checkpoint declares (``SentenceTransformer.encode``).
        backbone: the backbone to look task names up on and run texts through (default: the heads' own;
            task names default to the embedded all-MiniLM-L6-v2). A head of another is an error.
        batch_size: texts per forward pass.
        chunk_size: embedding rows processed at once.

    Returns:
        :class:`~headzoo.predictions.Predictions`: per head (a column named by its task) the label names,
        the prediction per row (single-label: the argmax label; multi-label: the list of labels with
        sigmoid > 0.5; regression: the score) and float32 probabilities; ``to_rows()`` gives one dict per row.

    Raises:
        ConfigError: both or neither of texts and embeddings; no heads; a batch or chunk size below 1.
        DataError: no rows, a blank text, embeddings that are not 2-D or not floating point, a NaN or inf row.
        BackboneMismatchError: heads of different backbones, a head of another than ``backbone``, embeddings
            of another width than the heads read.
        HeadKindError: a ``sequence-classification`` head given embeddings (pass texts).
        HeadNotFoundError: a name that is no head.

    Example:
        >>> import headzoo
        >>> preds = headzoo.predict(["sst2", "sms_spam"], ["what a lovely film", "WIN a prize now"])  # doctest: +SKIP
        >>> preds["sst2"].predicted  # doctest: +SKIP
        ['positive', 'positive']
        >>> vectors = SentenceTransformer("all-MiniLM-L6-v2").encode(texts)  # doctest: +SKIP
        >>> headzoo.predict("sst2", embeddings=vectors).to_rows()  # doctest: +SKIP
    """
    check_inputs(texts, embeddings, batch_size, chunk_size)
    found = resolve_heads(heads, backbone, SENTENCE_EMBEDDING if embeddings is not None else None)
    return predict_heads(found, texts, embeddings=embeddings, backbone=backbone,
                         batch_size=batch_size, chunk_size=chunk_size)


__all__ = ["HeadPrediction", "Predictions", "predict", "resolve_heads"]
