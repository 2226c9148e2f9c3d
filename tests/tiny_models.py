"""Tiny, randomly initialised sequence-classification models for tests.

Every ``model_type`` of transformers' sequence-classification auto mapping
(``MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES``) is either

* in :data:`ARCHITECTURES` -- it builds offline from a tiny config
  (``AutoConfig.for_model`` + ``AutoModelForSequenceClassification.from_config``)
  and runs a forward pass on :func:`tiny_inputs`; or
* in :data:`SKIPPED` with a one-line reason.

Nothing is downloaded: configs come from the library defaults, shrunk with the
generic overrides in :data:`BASE_OVERRIDES` (only the keys a config knows,
aliases included) plus the per-architecture tweaks in :data:`TINY_OVERRIDES`.

:data:`ARCHITECTURES` is a static, verified list so that test collection stays
fast; :func:`discover_architectures` recomputes it the slow way (build and
forward every model type) and :func:`unclassified_model_types` lists model types
of the installed transformers that are in neither list.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoModelForSequenceClassification, PreTrainedModel
from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

#: Override value meaning "do not pass this :data:`BASE_OVERRIDES` key" (its setter raises).
DROP: Any = object()

BATCH_SIZE = 2
SEQ_LEN = 8
#: Number of padding positions in the last row of :func:`tiny_inputs`.
NUM_PADDED = 2

#: Generic shrinking overrides. A key is only passed when the default config of
#: the model type knows it (directly or through ``attribute_map``).
BASE_OVERRIDES: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 37,
    "vocab_size": 99,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
}

# ---------------------------------------------------------------------------
# Reusable override fragments
# ---------------------------------------------------------------------------

_BART_LIKE = {
    "d_model": 32,
    "encoder_layers": 2,
    "decoder_layers": 2,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "encoder_ffn_dim": 37,
    "decoder_ffn_dim": 37,
}
_T5_LIKE = {
    "d_model": 32,
    "d_kv": 8,
    "d_ff": 37,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 16,
    "decoder_start_token_id": 0,
}
# Grouped-GEMM MoE kernels need 16-byte aligned strides, so expert widths are
# multiples of 4 floats (37 would fail with "strides should be multiple of 16 bytes").
_MOE = {"intermediate_size": 32, "num_local_experts": 4, "num_experts_per_tok": 2}
_MLA = {
    "num_key_value_heads": 4,
    "kv_lora_rank": 16,
    "q_lora_rank": 16,
    "qk_rope_head_dim": 4,
    "qk_nope_head_dim": 4,
    "v_head_dim": 8,
    "moe_intermediate_size": 16,
    "intermediate_size": 32,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "num_experts_per_tok": 2,
    "n_group": 1,
    "topk_group": 1,
}
_SIGLIP_VISION = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "image_size": 16,
    "patch_size": 4,
}


def _text(**kw: Any) -> dict[str, Any]:
    """A tiny decoder text sub-config (llama-ish key names)."""
    base = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "intermediate_size": 37,
        "vocab_size": 99,
        "max_position_embeddings": 64,
    }
    base.update(kw)
    return base


#: Per-architecture tweaks on top of :data:`BASE_OVERRIDES` (these win).
TINY_OVERRIDES: dict[str, dict[str, Any]] = {
    # --- encoders -----------------------------------------------------------
    "albert": {"embedding_size": 16},
    "big_bird": {"attention_type": "original_full"},
    "canine": {
        "num_hash_functions": 4,
        "num_hash_buckets": 64,
        "local_transformer_stride": 4,
        "downsampling_rate": 2,
        "upsampling_kernel_size": 2,
        "type_vocab_size": 2,
    },
    "convbert": {"embedding_size": 32},
    "distilbert": {"dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 37},
    "electra": {"embedding_size": 16},
    "esmc": {"num_key_value_heads": 4},
    "fnet": {"tpu_short_seq_length": SEQ_LEN},
    "funnel": {
        "num_hidden_layers": DROP,  # derived from block_sizes; its setter raises
        "block_sizes": [1, 1],
        "d_model": 32,
        "n_head": 4,
        "d_head": 8,
        "d_inner": 37,
    },
    "layoutlm": {"max_2d_position_embeddings": 16},
    "layoutlmv3": {
        "coordinate_size": 4,
        "shape_size": 8,
        "max_2d_position_embeddings": 16,
        "input_size": 16,
        "patch_size": 4,
        "rel_pos_bins": 8,
        "max_rel_pos": 16,
        "rel_2d_pos_bins": 8,
        "max_rel_2d_pos": 16,
    },
    "lilt": {"hidden_size": 48, "max_2d_position_embeddings": 16},
    "longformer": {"attention_window": 4},
    "luke": {"entity_vocab_size": 10, "entity_emb_size": 16},
    "markuplm": {
        "max_xpath_tag_unit_embeddings": 16,
        "max_xpath_subs_unit_embeddings": 16,
        "tag_pad_id": 15,
        "subs_pad_id": 15,
        "xpath_unit_hidden_size": 8,
        "max_depth": 4,
    },
    "mobilebert": {
        "embedding_size": 16,
        "intra_bottleneck_size": 16,
        "true_hidden_size": 16,
        "num_feedforward_networks": 2,
    },
    "modernbert": {"local_attention": 8},
    "modernbert-decoder": {"local_attention": 8},
    "perceiver": {
        "d_model": 32,
        "d_latents": 32,
        "num_latents": 8,
        "num_blocks": 1,
        "num_self_attends_per_block": 2,
        "num_self_attention_heads": 4,
        "num_cross_attention_heads": 4,
    },
    "reformer": {
        "attention_head_size": 8,
        "attn_layers": ["local", "lsh"],
        "axial_pos_shape": [4, 16],
        "axial_pos_embds_dim": [16, 16],
        "feed_forward_size": 37,
        "local_attn_chunk_length": 4,
        "lsh_attn_chunk_length": 4,
        "num_buckets": 2,
        # LSH hashing draws random rotations from the *global* torch RNG on every forward unless
        # hash_seed is set (then forward calls torch.manual_seed(hash_seed) -- a global side effect).
        "hash_seed": 0,
    },
    "rembert": {"input_embedding_size": 16, "output_embedding_size": 16},
    "roc_bert": {
        "pronunciation_embed_dim": 8,
        "pronunciation_vocab_size": 10,
        "shape_embed_dim": 8,
        "shape_vocab_size": 10,
    },
    # q/k/v/post-attention/intermediate/output groups default to 4: widths must divide by 4
    "squeezebert": {"embedding_size": 32, "intermediate_size": 40},
    "ultrabert": {"head_dim": 8, "sliding_window": 4, "prediction_head_size": 32},
    "xlm": {"emb_dim": 32, "n_layers": 2, "n_heads": 4},
    # no position limit: its max_position_embeddings setter raises
    "xlnet": {"max_position_embeddings": DROP, "d_model": 32, "n_layer": 2, "n_head": 4, "d_head": 8, "d_inner": 37},
    "xmod": {"languages": ["en_XX", "de_DE"], "default_language": "en_XX"},
    # --- encoder-decoders ---------------------------------------------------
    "bart": dict(_BART_LIKE),
    "bigbird_pegasus": {**_BART_LIKE, "attention_type": "original_full"},
    "mbart": dict(_BART_LIKE),
    "mvp": {**_BART_LIKE, "prompt_mid_dim": 16, "prompt_length": 4},
    "plbart": dict(_BART_LIKE),
    "t5": dict(_T5_LIKE),
    "mt5": dict(_T5_LIKE),
    "umt5": dict(_T5_LIKE),
    "t5gemma": {
        "encoder": _text(layer_types=["sliding_attention", "full_attention"], sliding_window=4,
                         query_pre_attn_scalar=8),
        "decoder": _text(layer_types=["sliding_attention", "full_attention"], sliding_window=4,
                         query_pre_attn_scalar=8, cross_attention_hidden_size=32),
        "vocab_size": 99,
    },
    "t5gemma2": {
        "encoder": {
            "text_config": _text(layer_types=["sliding_attention", "full_attention"], sliding_window=4,
                                 query_pre_attn_scalar=8),
            "vision_config": dict(_SIGLIP_VISION),
            "mm_tokens_per_image": 4,
            "boi_token_index": 95,
            "eoi_token_index": 96,
            "image_token_index": 97,
        },
        "decoder": _text(layer_types=["sliding_attention", "full_attention"], sliding_window=4,
                         query_pre_attn_scalar=8),
        "vocab_size": 99,
        "eoi_token_index": 96,
        "image_token_index": 97,
    },
    # --- decoder-only -------------------------------------------------------
    "axk1": dict(_MLA),
    "axk2": {**_MLA, "index_topk": 4, "index_head_dim": 8, "index_n_heads": 2, "gated_norm_rank": 4},
    "cohere_compass_text": {
        "rope_parameters": {
            "full_attention": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 1, 1]},
        },
        "sliding_window": 4,
    },
    "ctrl": {"dff": 37},
    "deepseek_v2": dict(_MLA),
    "deepseek_v3": {**_MLA, "first_k_dense_replace": 1},
    "doge": {"keep_window_size": 8, "num_experts": 4, "num_experts_per_tok": 2},
    "exaone4": {"sliding_window": 4},
    "falcon": {"num_kv_heads": 2, "ffn_hidden_size": 37, "new_decoder_architecture": True},
    "gemma": {"head_dim": 8},
    "gemma2": {"head_dim": 8, "query_pre_attn_scalar": 8, "sliding_window": 4},
    "gemma3_text": {"head_dim": 8, "query_pre_attn_scalar": 8, "sliding_window": 4},
    "gemma3": {
        "text_config": _text(query_pre_attn_scalar=8, sliding_window=4),
        "vision_config": dict(_SIGLIP_VISION),
        "mm_tokens_per_image": 4,
        "boi_token_index": 95,
        "eoi_token_index": 96,
        "image_token_index": 97,
    },
    "glm": {"head_dim": 8},
    "glm4": {"head_dim": 8},
    "gpt_neo": {"attention_types": [[["global", "local"], 1]], "window_size": 4, "intermediate_size": 37},
    "gpt_oss": {**_MOE, "head_dim": 8, "sliding_window": 4, "layer_types": ["sliding_attention", "full_attention"]},
    "gptj": {"rotary_dim": 4},
    "helium": {"head_dim": 8},
    "hunyuan_v1_moe": {"num_experts": 4, "moe_topk": 2, "intermediate_size": 32, "head_dim": 8},
    "jamba": {
        "attn_layer_period": 2,
        "attn_layer_offset": 1,
        "expert_layer_period": 2,
        "expert_layer_offset": 1,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "intermediate_size": 32,
        "mamba_d_state": 4,
        "mamba_dt_rank": 4,
        "use_mamba_kernels": False,
    },
    "jetmoe": {"kv_channels": 8, "num_local_experts": 4, "num_experts_per_tok": 2, "intermediate_size": 32},
    "minicpm3": {**_MLA, "dim_model_base": 32},
    "minimax": {**_MOE, "block_size": 4, "layer_types": ["full_attention", "linear_attention"]},
    "ministral": {"head_dim": 8, "sliding_window": 4},  # head_dim=None is not derived
    "hunyuan_v1_dense": {"head_dim": 8},  # head_dim=None is not derived
    "ministral3": {"head_dim": 8},
    "mistral": {"sliding_window": 4},
    # keep the default yarn rope: mistral4's "default" rope ignores partial_rotary_factor and breaks
    "mistral4": dict(_MLA),
    "mixtral": dict(_MOE),
    "modernvbert": {
        "text_config": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "intermediate_size": 37,
            "vocab_size": 99,
            "max_position_embeddings": 64,
            "local_attention": 8,
        },
        "vision_config": dict(_SIGLIP_VISION),
        "pixel_shuffle_factor": 2,
        "image_token_id": 97,
    },
    "olmo3": {"sliding_window": 4},
    "opt": {"ffn_dim": 37, "word_embed_proj_dim": 32},
    "phimoe": dict(_MOE),
    "qwen2_moe": {"num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 16,
                  "shared_expert_intermediate_size": 16, "intermediate_size": 32},
    "qwen3": {"head_dim": 8},
    "qwen3_moe": {"num_local_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 16,
                  "intermediate_size": 32},
    "qwen3_5_text": {
        "head_dim": 8,
        "layer_types": ["linear_attention", "full_attention"],
        "linear_key_head_dim": 8,
        "linear_value_head_dim": 8,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
    },
    "qwen3_5": {
        "text_config": _text(
            layer_types=["linear_attention", "full_attention"],
            linear_key_head_dim=8,
            linear_value_head_dim=8,
            linear_num_key_heads=2,
            linear_num_value_heads=4,
        ),
        "vision_config": {
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_heads": 4,
            "patch_size": 4,
            "out_hidden_size": 32,
            "num_position_embeddings": 16,
        },
        "image_token_id": 94,
        "video_token_id": 95,
        "vision_start_token_id": 96,
        "vision_end_token_id": 97,
    },
    "qwen3_next": {
        "head_dim": 8,
        "layer_types": ["linear_attention", "full_attention"],
        "linear_key_head_dim": 8,
        "linear_value_head_dim": 8,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "moe_intermediate_size": 16,
        "shared_expert_intermediate_size": 16,
        "intermediate_size": 32,
    },
    "seed_oss": {"head_dim": 8},
    "starcoder2": {"sliding_window": 4},
    "ultravbert": {
        "text_config": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "intermediate_size": 37,
            "vocab_size": 99,
            "max_position_embeddings": 64,
            "sliding_window": 4,
            "prediction_head_size": 32,
        },
        "vision_config": dict(_SIGLIP_VISION),
        "pixel_shuffle_factor": 2,
        "image_token_id": 97,
    },
    "zamba": {
        # >= 2 hybrid layers: the shared transformer is tied across hybrid layers
        "layers_block_type": ["hybrid", "hybrid"],
        "n_mamba_heads": 2,
        "mamba_d_state": 4,
        "mamba_dt_rank": 4,
        "use_mamba_kernels": False,
    },
    "zamba2": {
        "layers_block_type": ["linear_attention", "hybrid"],
        "hybrid_layer_ids": [1],
        "n_mamba_heads": 2,
        "mamba_d_state": 4,
        "chunk_size": 4,
        "use_mamba_kernels": False,
    },
}

#: model_type -> why it is not built (not buildable tiny offline, or not a text classifier).
SKIPPED: dict[str, str] = {
    "layoutlmv2": "LayoutLMv2Model requires the detectron2 library (`pip install detectron2`, not on PyPI)",
}

# Model types whose classification head pools the EOS token (BART family, T5 family):
# every row must contain the same number of ``eos_token_id`` tokens.
_NEEDS_EOS = {"bart", "bigbird_pegasus", "mbart", "mvp", "plbart", "t5", "mt5", "umt5", "t5gemma", "t5gemma2"}

# XLNet pools the *last* position (``summary_type="last"``); its tokenizer pads on the left.
_LEFT_PADDED = {"xlnet"}

_SPECIAL_TOKEN_KEYS = (
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "sep_token_id",
    "cls_token_id",
    "mask_token_id",
    "unk_token_id",
    "decoder_start_token_id",
    "eod_token_id",
)

#: Verified with :func:`discover_architectures` (transformers 5.24.0, torch 2.13 CPU).
_VERIFIED: tuple[str, ...] = (
    "albert", "arcee", "axk1", "axk2", "bart", "bert", "big_bird", "bigbird_pegasus", "biogpt",
    "bloom", "camembert", "canine", "cohere_compass_text", "convbert", "ctrl", "data2vec-text",
    "deberta", "deberta-v2", "deepseek_v2", "deepseek_v3", "diffllama", "distilbert", "doge",
    "electra", "ernie", "esm", "esmc", "eurobert", "exaone4", "falcon", "flaubert", "fnet",
    "funnel", "gemma", "gemma2", "gemma3", "gemma3_text", "glm", "glm4", "gpt-sw3", "gpt2",
    "gpt_bigcode", "gpt_neo", "gpt_neox", "gpt_oss", "gptj", "gte", "helium", "hunyuan_v1_dense",
    "hunyuan_v1_moe", "ibert", "jamba", "jetmoe", "jina_embeddings_v3", "layoutlm", "layoutlmv3",
    "lilt", "llama", "longformer", "luke", "markuplm", "mbart", "megatron-bert", "minicpm3",
    "minimax", "ministral", "ministral3", "mistral", "mistral4", "mixtral", "mobilebert",
    "modernbert", "modernbert-decoder", "modernvbert", "mpnet", "mpt", "mra", "mt5", "mvp",
    "nemotron", "nomic_bert", "nystromformer", "olmo", "olmo2", "olmo3", "openai-gpt", "opt",
    "perceiver", "persimmon", "phi", "phi3", "phimoe", "plbart", "qwen2", "qwen2_moe", "qwen3",
    "qwen3_5", "qwen3_5_text", "qwen3_moe", "qwen3_next", "reformer", "rembert", "roberta",
    "roberta-prelayernorm", "roc_bert", "roformer", "seed_oss", "smollm3", "squeezebert",
    "stablelm", "starcoder2", "t5", "t5gemma", "t5gemma2", "tapas", "ultrabert", "ultravbert",
    "umt5", "xlm", "xlm-roberta", "xlm-roberta-xl", "xlnet", "xmod", "yoso", "zamba", "zamba2",
)

#: Module prefixes of the parameters OUTSIDE ``base_model_prefix`` (see :func:`head_prefixes`).
HEAD_PREFIXES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "arcee", "axk1", "axk2", "biogpt", "bloom", "cohere_compass_text", "deepseek_v2",
            "deepseek_v3", "diffllama", "doge", "exaone4", "falcon", "gemma", "gemma2", "gemma3",
            "gemma3_text", "glm", "glm4", "gpt-sw3", "gpt2", "gpt_bigcode", "gpt_neo", "gpt_neox",
            "gpt_oss", "gptj", "helium", "hunyuan_v1_dense", "hunyuan_v1_moe", "jamba", "jetmoe",
            "llama", "minicpm3", "minimax", "ministral", "ministral3", "mistral", "mistral4",
            "mixtral", "mpt", "nemotron", "olmo", "olmo2", "olmo3", "openai-gpt", "opt",
            "persimmon", "phi", "phi3", "phimoe", "qwen2", "qwen2_moe", "qwen3", "qwen3_5",
            "qwen3_5_text", "qwen3_moe", "qwen3_next", "seed_oss", "smollm3", "stablelm",
            "starcoder2", "zamba", "zamba2",
        ],
        ("score",),
    ),
    **dict.fromkeys(
        [
            "big_bird", "camembert", "convbert", "data2vec-text", "electra", "esm", "esmc", "ibert",
            "jina_embeddings_v3", "layoutlmv3", "lilt", "longformer", "mpnet", "mra",
            "nystromformer", "reformer", "roberta", "roberta-prelayernorm", "roformer",
            "xlm-roberta", "xlm-roberta-xl", "xmod", "yoso",
        ],
        ("classifier.dense", "classifier.out_proj"),
    ),
    **dict.fromkeys(
        [
            "albert", "bert", "canine", "ctrl", "ernie", "fnet", "gte", "layoutlm", "luke",
            "markuplm", "megatron-bert", "mobilebert", "nomic_bert", "rembert", "roc_bert",
            "squeezebert", "tapas", "ultrabert", "ultravbert",
        ],
        ("classifier",),
    ),
    **dict.fromkeys(
        [
            "bart", "bigbird_pegasus", "mbart", "mt5", "mvp", "plbart", "t5", "umt5",
        ],
        ("classification_head.dense", "classification_head.out_proj"),
    ),
    **dict.fromkeys(
        [
            "modernbert", "modernbert-decoder", "modernvbert",
        ],
        ("classifier", "head.dense", "head.norm"),
    ),
    **dict.fromkeys(
        [
            "deberta", "deberta-v2",
        ],
        ("classifier", "pooler.dense"),
    ),
    **dict.fromkeys(
        [
            "flaubert", "xlm",
        ],
        ("sequence_summary.summary",),
    ),
    **dict.fromkeys(
        [
            "t5gemma", "t5gemma2",
        ],
        ("score.out_proj",),
    ),
    **dict.fromkeys(
        [
            "distilbert",
        ],
        ("classifier", "pre_classifier"),
    ),
    **dict.fromkeys(
        [
            "eurobert",
        ],
        ("classifier", "dense"),
    ),
    **dict.fromkeys(
        [
            "funnel",
        ],
        ("classifier.linear_hidden", "classifier.linear_out"),
    ),
    **dict.fromkeys(
        [
            "perceiver",
        ],
        (),
    ),
    **dict.fromkeys(
        [
            "xlnet",
        ],
        ("logits_proj", "sequence_summary.summary"),
    ),
}

#: Parameters INSIDE ``base_model_prefix`` that belong to the classification path, i.e. a
#: "copy the params outside the prefix" head transfer misses them: BERT-style poolers
#: (``pooler.dense`` + tanh on the first token, used by ``*ForSequenceClassification``) and the
#: whole Perceiver classification decoder (its head is EMPTY by the prefix rule).
HEAD_INSIDE_BASE: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "albert", "bert", "big_bird", "canine", "ernie", "fnet", "gte", "layoutlm", "luke", "markuplm",
            "megatron-bert", "mobilebert", "nomic_bert", "rembert", "roc_bert", "squeezebert", "tapas",
        ],
        ("pooler",),
    ),
    "perceiver": ("decoder",),
}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence warnings and transformers' logger while building (restored afterwards)."""
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        transformers.logging.set_verbosity(verbosity)


def _has_key(config: Any, key: str) -> bool:
    try:
        return hasattr(config, key)
    except Exception:  # e.g. xlnet raises NotImplementedError for max_position_embeddings
        return False


def _is_settable(config: Any, key: str) -> bool:
    key = getattr(config, "attribute_map", {}).get(key, key)
    attr = inspect.getattr_static(type(config), key, None)
    return not (isinstance(attr, property) and attr.fset is None)


def text_config(config: Any) -> Any:
    """The config holding the text vocabulary (``text_config`` / ``encoder`` sub-config or itself)."""
    for name in ("text_config", "encoder"):
        sub = getattr(config, name, None)
        if sub is not None and not isinstance(sub, dict):
            return text_config(sub)
    return config


def vocab_size_of(config: Any) -> int:
    """The text vocabulary size (1000 for vocabulary-free models such as CANINE)."""
    vocab = getattr(text_config(config), "vocab_size", None)
    if not vocab:
        vocab = getattr(config, "vocab_size", None)
    return int(vocab) if vocab else 1000  # canine: unicode code points, hashed


def _special_ids(config: Any) -> set[int]:
    """Every special token id of ``config`` and of its text sub-config."""
    configs = {id(c): c for c in (config, text_config(config))}.values()
    return {v for cfg in configs for key in _SPECIAL_TOKEN_KEYS for v in _ids(getattr(cfg, key, None))}


def tiny_config(model_type: str, num_labels: int = 3, **extra: Any) -> Any:
    """The tiny config of ``model_type`` (generic overrides + :data:`TINY_OVERRIDES` + ``extra``)."""
    with _quiet():
        default = AutoConfig.for_model(model_type)
        kwargs = {k: v for k, v in BASE_OVERRIDES.items() if _has_key(default, k) and _is_settable(default, k)}
        kwargs.update(TINY_OVERRIDES.get(model_type, {}))
        kwargs.update(extra)
        kwargs = {k: v for k, v in kwargs.items() if v is not DROP}
        kwargs["num_labels"] = num_labels
        config = AutoConfig.for_model(model_type, **kwargs)
    _fix_special_tokens(config)
    return config


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return [int(v) for v in values if isinstance(v, int)]


def _fix_special_tokens(config: Any) -> None:
    """Map special token ids beyond the tiny vocab into it (``vocab-1``, ``vocab-2``, ...); give a pad token.

    ``pad_token_id`` (needed by decoder-only heads to find the last real token) becomes the
    smallest id that is not already a special token.
    """
    vocab = vocab_size_of(config)
    for cfg in {id(c): c for c in (config, text_config(config))}.values():
        big = sorted({v for key in _SPECIAL_TOKEN_KEYS for v in _ids(getattr(cfg, key, None)) if v >= vocab})
        remap = {old: vocab - 1 - i for i, old in enumerate(big)}
        for key in _SPECIAL_TOKEN_KEYS:
            value = getattr(cfg, key, None)
            if isinstance(value, (list, tuple)):
                setattr(cfg, key, [remap.get(v, v) for v in value])
            elif isinstance(value, int) and value in remap:
                setattr(cfg, key, remap[value])
        if _has_key(cfg, "pad_token_id") and getattr(cfg, "pad_token_id", None) is None:
            used = _special_ids(cfg)
            cfg.pad_token_id = next(i for i in range(vocab) if i not in used)
    if config is not text_config(config) and getattr(config, "pad_token_id", None) is None:
        with contextlib.suppress(Exception):
            config.pad_token_id = text_config(config).pad_token_id


def build_tiny(model_type: str, seed: int = 0, num_labels: int = 3, **extra: Any) -> PreTrainedModel:
    """Build the tiny random ``AutoModelForSequenceClassification`` of ``model_type``.

    Deterministic: the same ``seed`` (and overrides) gives identical weights.
    The model is float32 and in eval mode.
    """
    config = tiny_config(model_type, num_labels=num_labels, **extra)
    transformers.set_seed(seed)
    with _quiet():
        model = AutoModelForSequenceClassification.from_config(config)
    return model.to(torch.float32).eval()


def tiny_inputs(model: PreTrainedModel, seed: int = 0, padding_side: str | None = None) -> dict[str, torch.Tensor]:
    """A batch of ``BATCH_SIZE`` x ``SEQ_LEN`` inputs for ``model``.

    ``input_ids`` avoid every special token id (except the EOS the BART/T5 families
    need at the end of each row); the last row has ``NUM_PADDED`` padding positions
    (filled with ``pad_token_id``) on ``padding_side`` (default: right, left for XLNet).
    ``token_type_ids`` (0 then 1) are added when ``forward`` takes them and
    ``type_vocab_size >= 2``.
    """
    config = model.config
    model_type = config.model_type
    if padding_side is None:
        padding_side = "left" if model_type in _LEFT_PADDED else "right"
    vocab = vocab_size_of(config)
    specials = _special_ids(config)
    allowed = torch.tensor([i for i in range(min(vocab, 1000)) if i not in specials])
    gen = torch.Generator().manual_seed(seed)
    input_ids = allowed[torch.randint(len(allowed), (BATCH_SIZE, SEQ_LEN), generator=gen)]
    attention_mask = torch.ones(BATCH_SIZE, SEQ_LEN, dtype=torch.long)
    if padding_side == "left":
        attention_mask[-1, :NUM_PADDED] = 0
    else:
        attention_mask[-1, SEQ_LEN - NUM_PADDED:] = 0
    last = torch.where(attention_mask == 1, torch.arange(SEQ_LEN), -1).max(-1).values
    pad_id = getattr(text_config(config), "pad_token_id", None)
    if pad_id is None:
        pad_id = getattr(config, "pad_token_id", None)
    if isinstance(pad_id, int) and 0 <= pad_id < vocab:
        input_ids[attention_mask == 0] = pad_id
    if model_type in _NEEDS_EOS:
        eos = getattr(text_config(config), "eos_token_id", None)
        if eos is None:
            eos = config.eos_token_id
        eos = eos[0] if isinstance(eos, (list, tuple)) else eos
        input_ids[torch.arange(BATCH_SIZE), last] = eos
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    params = inspect.signature(model.forward).parameters
    type_vocab = getattr(config, "type_vocab_size", None)
    if "token_type_ids" in params and isinstance(type_vocab, int) and type_vocab >= 2:
        token_type_ids = torch.zeros_like(input_ids)
        token_type_ids[:, SEQ_LEN // 2:] = 1
        inputs["token_type_ids"] = token_type_ids * attention_mask
    return inputs


def head_param_names(model: PreTrainedModel) -> list[str]:
    """Parameter names outside ``model.base_model_prefix`` (the task head)."""
    prefix = model.base_model_prefix + "."
    return [n for n, _ in model.named_parameters() if not n.startswith(prefix)]


def head_prefixes(model: PreTrainedModel) -> list[str]:
    """Module prefixes of :func:`head_param_names` (``classifier.dense.weight`` -> ``classifier.dense``)."""
    return sorted({n.rsplit(".", 1)[0] for n in head_param_names(model)})


def discover_architectures(model_types: list[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Build + forward every model type (slow); returns ``(working, {failing: error})``."""
    working: list[str] = []
    failing: dict[str, str] = {}
    for model_type in model_types or list(MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES):
        try:
            model = build_tiny(model_type)
            with torch.no_grad():
                logits = model(**tiny_inputs(model)).logits
            if tuple(logits.shape) != (BATCH_SIZE, 3) or not torch.isfinite(logits).all():
                raise ValueError(f"bad logits {tuple(logits.shape)}")
            working.append(model_type)
        except Exception as exc:  # report, do not raise
            failing[model_type] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
    return working, failing


def unclassified_model_types() -> list[str]:
    """Model types of the installed transformers in neither :data:`ARCHITECTURES` nor :data:`SKIPPED`."""
    known = set(ARCHITECTURES) | set(SKIPPED)
    return [m for m in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES if m not in known]


#: The model types that build and run (static, verified; see :func:`discover_architectures`).
ARCHITECTURES: list[str] = [m for m in _VERIFIED if m in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES]
