"""A classifier on the sentence embedding a checkpoint declares: pooling, normalisation, then a linear head.

:class:`SentenceEmbeddingForSequenceClassification` is a transformers ``PreTrainedModel``: it trains with
``Trainer``, wraps with peft, runs in ``pipeline("text-classification")`` and round-trips through
``save_pretrained`` / ``from_pretrained``. Its backbone is any transformers base model (``AutoModel``) under
``model.backbone`` (``base_model_prefix = "backbone"``), so headzoo's one rule holds unchanged: the head is
every parameter outside ``backbone``, here ``classifier.weight`` and ``classifier.bias``.

The head reads ``pool(last_hidden_state)`` as the checkpoint declares it (:mod:`headzoo.pooling`), the same
vector ``SentenceTransformer.encode`` returns, and its logits are ``head_scale * classifier(embedding)``
(``head_scale`` is a config value, recorded with the head; 1 by default). On a unit-length embedding a linear
head needs large weights for confident logits. Measured (results/sentence_head_scale), a larger scale did not
help a random head learn in 60 steps; a head fitted first on the frozen embeddings did (``probe``).

Example:
    >>> from headzoo.sentence_model import SentenceEmbeddingForSequenceClassification
    >>> model = SentenceEmbeddingForSequenceClassification.from_backbone("minilm", num_labels=2)  # doctest: +SKIP
    >>> model.save_pretrained("out")  # doctest: +SKIP
    >>> SentenceEmbeddingForSequenceClassification.from_pretrained("out")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar

import torch
from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, AutoModel, PreTrainedConfig, PreTrainedModel
from transformers.configuration_utils import SubConfigSpec
from transformers.modeling_outputs import SequenceClassifierOutput

from .pooling import Pooling

#: The ``model_type`` of :class:`SentenceClassifierConfig` (in a saved ``config.json``).
MODEL_TYPE = "headzoo_sentence_classifier"

#: ``head_scale`` where none is given: logits are this times the linear head's output. Measured on SST-2 samples
#: (results/sentence_head_scale): 20 learned no better than 1 in 60 steps at the backbone's learning rate.
DEFAULT_HEAD_SCALE = 1.0


@strict
class SentenceClassifierConfig(PreTrainedConfig):
    """The config of :class:`SentenceEmbeddingForSequenceClassification`: a backbone config plus its pooling.

    Attributes:
        backbone: the backbone's own config (any ``AutoConfig``), kept whole.
        pooling: :meth:`headzoo.pooling.Pooling.to_dict` of the declared sentence embedding.
        head_scale: logits are ``head_scale * classifier(embedding)``.

    Example:
        >>> from transformers import BertConfig
        >>> SentenceClassifierConfig(backbone=BertConfig(hidden_size=8), num_labels=3).hidden_size
        8
    """

    model_type = MODEL_TYPE
    sub_configs_defaults: ClassVar[dict[str, SubConfigSpec]] = {
        "backbone": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    backbone: PreTrainedConfig | dict | None = None
    pooling: dict | None = None
    head_scale: float = DEFAULT_HEAD_SCALE

    @property
    def hidden_size(self) -> int:
        """The width of the backbone's token states."""
        return int(self.backbone.hidden_size)

    @property
    def vocab_size(self) -> int:
        """The backbone's vocabulary size (peft's prompt learning reads it from the top config)."""
        return int(self.backbone.vocab_size)

    @property
    def embedding_size(self) -> int:
        """The width of the sentence embedding (``hidden_size`` times the number of pooling modes)."""
        return self.hidden_size * len(self.pooling_spec().modes)

    def pooling_spec(self) -> Pooling:
        """The :class:`~headzoo.pooling.Pooling` this config records (mean pooling where it records none)."""
        return Pooling.from_dict(self.pooling) if self.pooling else Pooling()


def _forward_keys(module: torch.nn.Module) -> frozenset[str]:
    return frozenset(inspect.signature(module.forward).parameters)


class SentenceEmbeddingForSequenceClassification(PreTrainedModel):
    """A linear head on a checkpoint's declared sentence embedding, as a transformers model.

    Build one from a checkpoint with :meth:`from_backbone`; load a saved one with ``from_pretrained``.

    Example:
        >>> from transformers import BertConfig
        >>> cfg = SentenceClassifierConfig(backbone=BertConfig(hidden_size=8, num_hidden_layers=1,
        ...     num_attention_heads=2, intermediate_size=16, vocab_size=30), num_labels=2)
        >>> model = SentenceEmbeddingForSequenceClassification(cfg)
        >>> sorted(n for n, _ in model.named_parameters() if not n.startswith("backbone."))
        ['classifier.bias', 'classifier.weight']
    """

    config_class = SentenceClassifierConfig
    base_model_prefix = "backbone"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: SentenceClassifierConfig, backbone: torch.nn.Module | None = None) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.backbone = backbone if backbone is not None else AutoModel.from_config(config.backbone)
        self.pooling = config.pooling_spec()
        self.classifier = torch.nn.Linear(config.embedding_size, config.num_labels)
        self._backbone_keys = _forward_keys(self.backbone)
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        if module is self.classifier:
            std = float(getattr(self.config.backbone, "initializer_range", 0.02))
            torch.nn.init.normal_(module.weight, mean=0.0, std=std)
            torch.nn.init.zeros_(module.bias)
        elif hasattr(self.backbone, "_init_weights"):  # every other module is the backbone's
            self.backbone._init_weights(module)

    @classmethod
    def from_backbone(cls, path: str, pooling: Pooling | None = None, head_scale: float = DEFAULT_HEAD_SCALE,
                      **kwargs: Any) -> SentenceEmbeddingForSequenceClassification:
        """A new model on a pretrained backbone folder or Hub id, with a freshly initialised head.

        Args:
            path: what ``AutoModel.from_pretrained`` takes (headzoo resolves ``"minilm"`` etc. before this).
            pooling: the sentence embedding; by default what the folder declares
                (:func:`~headzoo.pooling.read_pooling`).
            head_scale: see :class:`SentenceClassifierConfig`.
            **kwargs: ``num_labels``, ``id2label``, ``label2id``, ``problem_type`` go to the config; the rest
                (``revision``, ``use_safetensors``...) to ``AutoModel.from_pretrained``.

        Raises:
            PoolingConfigError: the folder declares no pooling and none is given, or its declaration is damaged.

        Example:
            >>> model = SentenceEmbeddingForSequenceClassification.from_backbone(  # doctest: +SKIP
            ...     "path/to/minilm", num_labels=2)
        """
        from .errors import PoolingConfigError
        from .pooling import read_pooling

        head_keys = ("num_labels", "id2label", "label2id", "problem_type")
        head_kwargs = {k: kwargs.pop(k) for k in head_keys if k in kwargs}
        if pooling is None:
            pooling = read_pooling(path)
            if pooling is None:
                raise PoolingConfigError(f"{str(path)!r} declares no sentence embedding (no modules.json); pass "
                                         "pooling=Pooling(...) or use feature='sequence-classification'")
        backbone = AutoModel.from_pretrained(path, **kwargs)
        # A copy: a composite config sets its sub-configs' attention implementation, which the loaded model owns.
        config = SentenceClassifierConfig(backbone=copy.deepcopy(backbone.config), pooling=pooling.to_dict(),
                                          head_scale=head_scale, **head_kwargs)
        with torch.device("meta"):
            model = cls(config, backbone=torch.nn.Identity())
        model.backbone = backbone
        model.config.backbone = backbone.config
        model._backbone_keys = _forward_keys(backbone)
        model.classifier = torch.nn.Linear(config.embedding_size, config.num_labels)
        model._init_weights(model.classifier)
        return model

    def embed(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
              **kwargs: Any) -> torch.Tensor:
        """The sentence embedding of a tokenised batch (what ``SentenceTransformer.encode`` gives).

        Example:
            >>> batch = tokenizer(["a text"], return_tensors="pt")  # doctest: +SKIP
            >>> model.embed(**batch).shape  # doctest: +SKIP
            torch.Size([1, 384])
        """
        if attention_mask is None:
            reference = input_ids if input_ids is not None else kwargs["inputs_embeds"][..., 0]
            attention_mask = torch.ones(reference.shape[:2], dtype=torch.long, device=reference.device)
        passed = {k: v for k, v in kwargs.items() if k in self._backbone_keys and v is not None}
        outputs = self.backbone(input_ids=input_ids, attention_mask=attention_mask, return_dict=True, **passed)
        from .pooling import pool

        hidden = outputs.last_hidden_state
        # prefix-tuning puts its virtual tokens' mask in front; they have no hidden states to pool
        return pool(hidden, attention_mask[:, -hidden.shape[1]:], self.pooling)

    def forward(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **kwargs: Any) -> SequenceClassifierOutput:
        """Logits (and the loss where ``labels`` are given), as ``*ForSequenceClassification`` models return them."""
        embedding = self.embed(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        logits = self.classifier(embedding.to(self.classifier.weight.dtype)) * self.config.head_scale
        loss = None
        if labels is not None:
            from transformers.loss.loss_utils import ForSequenceClassificationLoss

            loss = ForSequenceClassificationLoss(labels, logits, self.config)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def register_auto_classes() -> None:
    """Make ``AutoConfig`` / ``AutoModel(ForSequenceClassification)`` and ``pipeline`` know the sentence model.

    Called when this module is imported, so a saved model loads back with
    ``AutoModelForSequenceClassification.from_pretrained(folder)`` after ``import headzoo.sentence_model``
    (no remote code). Calling it again does nothing.

    Example:
        >>> register_auto_classes()
        >>> from transformers import AutoConfig
        >>> type(AutoConfig.for_model(MODEL_TYPE)).__name__
        'SentenceClassifierConfig'
    """
    from transformers import AutoModelForSequenceClassification
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if MODEL_TYPE in CONFIG_MAPPING:
        return
    AutoConfig.register(MODEL_TYPE, SentenceClassifierConfig)
    AutoModel.register(SentenceClassifierConfig, SentenceEmbeddingForSequenceClassification)
    AutoModelForSequenceClassification.register(SentenceClassifierConfig, SentenceEmbeddingForSequenceClassification)


register_auto_classes()
