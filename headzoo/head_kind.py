"""Which feature a model gives its head, and whether a head's record agrees with it.

A head reads one of two features (:data:`headzoo.naming.FEATURES`): the model's own
``*ForSequenceClassification`` path, or the sentence embedding the checkpoint declares
(:class:`~headzoo.sentence_model.SentenceEmbeddingForSequenceClassification`). A head of one kind in a model of
the other would load without a shape error (both are ``classifier.*`` of the hidden size on BERT) and give
nonsense, so :func:`check_kind` refuses it with both kinds named.
"""

from __future__ import annotations

from typing import Any

from .errors import HeadKindError
from .naming import SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION


def base_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (the model itself when not wrapped)."""
    getter = getattr(model, "get_base_model", None)
    return getter() if callable(getter) else model


def feature_of(model: Any) -> str:
    """The feature ``model`` gives its head: ``"sentence-embedding"`` or ``"sequence-classification"``.

    Example:
        >>> feature_of(load_head("sst2", "minilm"))  # doctest: +SKIP
        'sentence-embedding'
    """
    from .sentence_model import MODEL_TYPE

    config = getattr(base_model(model), "config", None)
    return SENTENCE_EMBEDDING if getattr(config, "model_type", None) == MODEL_TYPE else SEQUENCE_CLASSIFICATION


def backbone_config(model: Any) -> Any:
    """The config of ``model``'s backbone: ``config.backbone`` of a sentence model, else ``config`` itself."""
    config = base_model(model).config
    return config.backbone if feature_of(model) == SENTENCE_EMBEDDING else config


def backbone_name_of(model: Any) -> str | None:
    """The backbone ``model`` was loaded from (its backbone config's ``name_or_path``), or None.

    For a sentence model that is the backbone inside it, not the folder the whole model was saved to; the
    embedded all-MiniLM-L6-v2 folder maps back to its Hub id.

    Example:
        >>> backbone_name_of(load_head("sst2", "minilm"))  # doctest: +SKIP
        'sentence-transformers/all-MiniLM-L6-v2'
    """
    from pathlib import Path

    from .backbone import DEFAULT_BACKBONE, embedded_backbone_path

    config = backbone_config(model) if getattr(base_model(model), "config", None) is not None else None
    name = getattr(config, "name_or_path", None) or getattr(model, "name_or_path", None) or None
    embedded = embedded_backbone_path()
    if name and embedded is not None:
        try:
            if Path(str(name)).expanduser().resolve() == embedded.resolve():
                return DEFAULT_BACKBONE
        except (OSError, RuntimeError, ValueError):
            pass
    return str(name) if name else None


def pooling_of(model: Any) -> Any:
    """The :class:`~headzoo.pooling.Pooling` of a sentence model, or None for the model's own path."""
    return base_model(model).config.pooling_spec() if feature_of(model) == SENTENCE_EMBEDDING else None


def kind_fix(feature: str) -> str:
    """How to get a model of ``feature``'s kind, for error messages."""
    return f"build the model with feature={feature!r} (load_head does this; CLI: --feature {feature})"


def check_kind(head_config: Any, model: Any, source: str = "the head") -> None:
    """Refuse a head whose feature or pooling differs from what ``model`` gives it.

    Args:
        head_config: a :class:`~headzoo.head_config.HeadConfig`.
        model: a transformers model (or a peft wrapper of one).
        source: how messages name the head.

    Raises:
        HeadKindError: the head reads another feature, or the same feature pooled another way; the message
            names both sides and the fix.

    Example:
        >>> check_kind(Head.from_pretrained("heads/sst2").config, bert_model)  # doctest: +SKIP
        Traceback (most recent call last):
        HeadKindError: ...
    """
    from .pooling import Pooling

    model_feature = feature_of(model)
    if head_config.feature != model_feature:
        raise HeadKindError(
            f"{source} reads the {head_config.feature} feature but {type(base_model(model)).__name__} gives its "
            f"head the {model_feature} feature: {kind_fix(head_config.feature)}, or use a head of the "
            f"{model_feature} kind")
    if model_feature != SENTENCE_EMBEDDING:
        return
    recorded, given = Pooling.from_dict(head_config.pooling), pooling_of(model)
    if (recorded.modes, recorded.normalize) != (given.modes, given.normalize):
        raise HeadKindError(
            f"{source} was fitted on {recorded.describe()} but the model's backbone declares "
            f"{given.describe()}: use the head's backbone ({head_config.backbone!r}) with its own pooling config, "
            "or a head fitted on this one")


def head_scale_ratio(head_config: Any, model: Any) -> float:
    """What a sentence head's tensors are multiplied by to give the same logits in ``model``.

    A sentence model's logits are ``head_scale * classifier(x)``; a head saved from a model of another
    ``head_scale`` is rescaled so its logits stay the same. 1.0 for the model's own path.

    Example:
        >>> head_scale_ratio(head.config, model)  # doctest: +SKIP
        1.0
    """
    if feature_of(model) != SENTENCE_EMBEDDING or not head_config.head_scale:
        return 1.0
    return float(head_config.head_scale) / float(base_model(model).config.head_scale)
