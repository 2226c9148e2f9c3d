"""headzoo: pretrained classification heads as a shareable artifact.

Train a head once with a parameter-efficient method (EH-FT, Yang et al.,
EMNLP 2022), share it as a few-kilobyte ``head.safetensors``, and start full
fine-tuning from it in one line::

    import headzoo
    headzoo.pretrain_head("rte", "minilm", "lora")   # stage 1, saved to the local zoo
    model = headzoo.load_head("rte", "minilm")        # a classifier with that head in place
"""

from __future__ import annotations

from .backbone import DEFAULT_BACKBONE, BackboneRef, backbone_fingerprint, resolve_backbone, weight_fingerprint
from .errors import (
    BackboneError,
    BackboneMismatchError,
    ConfigError,
    DataError,
    HeadExistsError,
    HeadFormatError,
    HeadMismatchError,
    HeadNotFoundError,
    HeadzooError,
    HubError,
    HubUnreachableError,
    InvalidNameError,
    LabelMismatchError,
    TaskNotFoundError,
    UnsafeFileError,
)
from .head import FORMAT_VERSION, Head, HeadConfig, head_state_names, read_config, read_head
from .hub import HubHead, default_repo_id, pull_head, push_head, search_heads
from .loading import load_head, resolve_head
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
from .zoo import ZooEntry, add_to_zoo, find_in_zoo, list_heads, save_to_zoo, zoo_home, zoo_path

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BACKBONE",
    "FORMAT_VERSION",
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
    "HeadMismatchError",
    "HeadNotFoundError",
    "HeadzooError",
    "HubError",
    "HubHead",
    "HubUnreachableError",
    "InvalidNameError",
    "LabelMismatchError",
    "SearchResult",
    "Stage1Settings",
    "TaskNotFoundError",
    "UnsafeFileError",
    "ZooEntry",
    "__version__",
    "add_to_zoo",
    "backbone_fingerprint",
    "compare",
    "default_repo_id",
    "find_in_zoo",
    "finetune",
    "head_state_names",
    "list_heads",
    "load_head",
    "pretrain_head",
    "pull_head",
    "push_head",
    "read_config",
    "read_head",
    "resolve_backbone",
    "resolve_head",
    "save_to_zoo",
    "search_heads",
    "search_stage1",
    "weight_fingerprint",
    "zoo_home",
    "zoo_path",
]
