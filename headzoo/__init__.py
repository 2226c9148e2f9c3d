"""headzoo: pretrained classification heads as a shareable artifact.

Train a head once with a parameter-efficient method (EH-FT, Yang et al.,
EMNLP 2022), share it as a few-kilobyte ``head.safetensors``, and start full
fine-tuning from it in one line::

    import headzoo
    headzoo.pretrain_head("rte", "minilm", "lora")   # stage 1, saved to the local zoo
    model = headzoo.load_head("rte", "minilm")        # a classifier with that head in place
"""

from __future__ import annotations

from typing import Any

from .backbone import DEFAULT_BACKBONE, BackboneRef, backbone_fingerprint, resolve_backbone, weight_fingerprint
from .errors import (
    BackboneError,
    BackboneMismatchError,
    ConfigError,
    DataError,
    HeadExistsError,
    HeadFormatError,
    HeadKindError,
    HeadMismatchError,
    HeadNotFoundError,
    HeadzooError,
    HubError,
    HubUnreachableError,
    InvalidNameError,
    LabelMismatchError,
    PoolingConfigError,
    TaskNotFoundError,
    UnsafeFileError,
)
from .head import FORMAT_VERSION, Head, HeadConfig, head_state_names, read_config, read_head
from .hub import HubHead, default_repo_id, pull_head, push_head, search_heads
from .labels import LabelMatch, match_labels
from .loading import load_head, resolve_head
from .naming import FEATURES, SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION
from .pet import prepare as prepare_pet
from .pooling import Pooling, read_pooling
from .predicting import Predictions, predict
from .suggest import Suggestion, format_suggestions, suggest_heads
from .train import (
    CompareResult,
    FinetuneResult,
    FinetuneSettings,
    SearchResult,
    Stage1Settings,
    compare,
    finetune,
    pretrain_head,
    search_stage1,
)
from .zoo import ZooEntry, add_to_zoo, find_in_zoo, list_heads, save_to_zoo, shipped_zoo_root, zoo_home, zoo_path
from .zoo_build import ZooBudget, build_zoo, publish_zoo

__version__ = "0.1.0"

#: Names of :mod:`headzoo.integrations`, imported on first use (they need transformers; ``import headzoo`` does not).
_LAZY = {"SaveHeadCallback", "load_pipeline"}
#: Names of :mod:`headzoo.sentence_model`, imported on first use (with torch and transformers' modelling code).
_LAZY_SENTENCE = {"SentenceEmbeddingForSequenceClassification", "SentenceClassifierConfig"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import integrations

        return getattr(integrations, name)
    if name in _LAZY_SENTENCE:
        from . import sentence_model

        return getattr(sentence_model, name)
    raise AttributeError(f"module 'headzoo' has no attribute {name!r}")


__all__ = [
    "DEFAULT_BACKBONE",
    "FEATURES",
    "FORMAT_VERSION",
    "SENTENCE_EMBEDDING",
    "SEQUENCE_CLASSIFICATION",
    "BackboneError",
    "BackboneMismatchError",
    "BackboneRef",
    "CompareResult",
    "ConfigError",
    "DataError",
    "FinetuneResult",
    "FinetuneSettings",
    "Head",
    "HeadConfig",
    "HeadExistsError",
    "HeadFormatError",
    "HeadKindError",
    "HeadMismatchError",
    "HeadNotFoundError",
    "HeadzooError",
    "HubError",
    "HubHead",
    "HubUnreachableError",
    "InvalidNameError",
    "LabelMatch",
    "LabelMismatchError",
    "Pooling",
    "PoolingConfigError",
    "Predictions",
    "SaveHeadCallback",
    "SearchResult",
    "SentenceClassifierConfig",
    "SentenceEmbeddingForSequenceClassification",
    "Stage1Settings",
    "Suggestion",
    "TaskNotFoundError",
    "UnsafeFileError",
    "ZooBudget",
    "ZooEntry",
    "__version__",
    "add_to_zoo",
    "backbone_fingerprint",
    "build_zoo",
    "compare",
    "default_repo_id",
    "find_in_zoo",
    "finetune",
    "format_suggestions",
    "head_state_names",
    "list_heads",
    "load_head",
    "load_pipeline",
    "match_labels",
    "predict",
    "prepare_pet",
    "pretrain_head",
    "publish_zoo",
    "pull_head",
    "push_head",
    "read_config",
    "read_head",
    "read_pooling",
    "resolve_backbone",
    "resolve_head",
    "save_to_zoo",
    "search_heads",
    "search_stage1",
    "shipped_zoo_root",
    "suggest_heads",
    "weight_fingerprint",
    "zoo_home",
    "zoo_path",
]
