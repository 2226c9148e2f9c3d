"""Stage-1 methods: train a head together with a parameter-efficient method, then drop the PET part.

Five methods (:data:`METHODS`):

- ``"lora"``: LoRA through peft (r=8, alpha=16, dropout 0 by default) on the
  attention projections peft maps for the model type (BERT: ``query``, ``value``).
  The paper put LoRA on Q, K, V and O; pass ``target_modules`` to do the same.
- ``"ia3"``: (IA)^3 through peft with peft's default targets for the model type.
- ``"prefix"``: prefix-tuning through peft, 17 virtual tokens (the paper's length).
- ``"bitfit"``: only bias terms of the backbone train, plus the head. headzoo
  trains **every** backbone bias (every parameter under ``base_model_prefix``
  whose name ends in ``bias``). That is the paper's set (biases of Q, K, V,
  attention output, both MLP projections and both LayerNorms of every layer)
  plus the few biases outside the layers (embedding LayerNorm, BERT's pooler),
  a documented simplification that needs no per-architecture name table.
- ``"probe"``: only the head trains (linear probing; LP-FT's first stage).

A sixth stage-1 method trains nothing: ``"imprint"`` sets each label's output
row from the class mean of the features entering the output layer, in one
forward pass (:mod:`headzoo.imprint`). It has no learning rate, no steps and
nothing for :func:`prepare` to do, so it is not in :data:`METHODS` (the methods
trained with a learning rate: the presets, the learning-rate search and
:func:`prepare` cover exactly those) but in :data:`STAGE1_METHODS`, which every
place that takes a stage-1 method accepts (``pretrain_head``, ``finetune``,
``compare``, ``headzoo train --method``).

The head is found by the one rule of :mod:`headzoo.head`: every parameter
outside ``model.base_model_prefix``. The same rule gives peft its
``modules_to_save`` (the top-level modules that own head parameters), so no
list of head names is guessed.

peft keeps the trained head in ``<module>.modules_to_save.default`` and leaves
``<module>.original_module`` at its initial values. :func:`unwrap` puts the
trained copies back in place and drops every PET parameter, so
``Head.from_model(unwrap(model))`` takes the trained head.
"""

from __future__ import annotations

import inspect
import logging
import types
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ConfigError, HeadMismatchError
from .head import head_state_names
from .head_kind import backbone_config, feature_of
from .naming import SENTENCE_EMBEDDING

logger = logging.getLogger(__name__)

#: The stage-1 methods trained with a learning rate (what :func:`prepare` sets up).
METHODS = ("lora", "ia3", "prefix", "bitfit", "probe")
#: The stage-1 method that trains nothing: rows from class means (:mod:`headzoo.imprint`).
IMPRINT = "imprint"
#: Every stage-1 method: :data:`METHODS` and ``"imprint"``.
STAGE1_METHODS = (*METHODS, IMPRINT)

#: Default PET settings (used when ``settings`` leaves them out).
DEFAULTS: dict[str, Any] = {
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "target_modules": None,
    "prefix_length": 17,
    "backbone_dropout": False,
}

_PET_MARKERS = ("lora_", "ia3_", "modules_to_save", "original_module", "prompt_encoder", "base_layer")


def head_modules(model: Any) -> list[str]:
    """The top-level module names that own the head parameters (peft's ``modules_to_save``).

    Derived from :func:`headzoo.head.head_state_names`: the first name component
    of every head tensor.

    Example:
        >>> head_modules(bert_model)  # doctest: +SKIP
        ['classifier']
        >>> head_modules(distilbert_model)  # doctest: +SKIP
        ['classifier', 'pre_classifier']
    """
    return sorted({name.split(".", 1)[0] for name in head_state_names(model)})


def head_parameter_names(model: Any) -> list[str]:
    """The names of the head's *parameters* (``named_parameters`` names outside ``base_model_prefix``).

    Example:
        >>> head_parameter_names(bert_model)  # doctest: +SKIP
        ['classifier.bias', 'classifier.weight']
    """
    prefix = model.base_model_prefix + "."
    return sorted(n for n, _ in model.named_parameters() if not n.startswith(prefix))


def trainable_parameter_count(model: Any) -> int:
    """The number of parameters with ``requires_grad`` (shared tensors counted once).

    Example:
        >>> trainable_parameter_count(prepare(model, "probe"))  # doctest: +SKIP
        1155
    """
    seen: set[int] = set()
    total = 0
    for param in model.parameters():
        if param.requires_grad and id(param) not in seen:
            seen.add(id(param))
            total += param.numel()
    return total


def parameter_count(model: Any) -> int:
    """The number of parameters of ``model`` (shared tensors counted once).

    Example:
        >>> parameter_count(torch.nn.Linear(4, 2))  # doctest: +SKIP
        10
    """
    seen: set[int] = set()
    total = 0
    for param in model.parameters():
        if id(param) not in seen:
            seen.add(id(param))
            total += param.numel()
    return total


def _setting(settings: Any, name: str) -> Any:
    if settings is None:
        return DEFAULTS[name]
    if isinstance(settings, Mapping):
        value = settings.get(name, DEFAULTS[name])
    else:
        value = getattr(settings, name, DEFAULTS[name])
    return DEFAULTS[name] if value is None and name != "target_modules" else value


def _linear_names(model: Any) -> list[str]:
    """The distinct last name components of the backbone's linear layers (for error messages)."""
    import torch

    prefix = model.base_model_prefix
    names = set()
    for name, module in model.named_modules():
        if name.startswith(prefix + ".") and isinstance(module, torch.nn.Linear):
            names.add(name.rsplit(".", 1)[-1])
    try:  # GPT-2 style Conv1D projections
        from transformers.pytorch_utils import Conv1D

        for name, module in model.named_modules():
            if name.startswith(prefix + ".") and isinstance(module, Conv1D):
                names.add(name.rsplit(".", 1)[-1])
    except ImportError:  # pragma: no cover
        pass
    return sorted(names)


def _default_targets(model: Any, method: str) -> tuple[list[str], list[str] | None]:
    from peft.utils import constants

    model_type = backbone_config(model).model_type  # a sentence model's targets are its backbone's
    if method == "lora":
        targets = constants.TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING.get(model_type)
        feedforward = None
    else:
        targets = constants.TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING.get(model_type)
        feedforward = constants.TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING.get(model_type)
    if not targets:
        candidates = ", ".join(repr(n) for n in _linear_names(model)) or "(none found)"
        raise ConfigError(
            f"peft has no default {method} target modules for model type {model_type!r}; pass them yourself, "
            f"e.g. Stage1Settings(target_modules=['q_proj', 'v_proj']) (CLI: --target-modules q_proj,v_proj). "
            f"Linear layers of this backbone: {candidates}"
        )
    return list(targets), list(feedforward) if feedforward else None


def prepare(model: Any, method: str, settings: Any = None) -> Any:
    """Make ``model`` ready for stage 1: wrap it with peft or freeze all but the method's parameters.

    Public as ``headzoo.prepare_pet``, for training a head in your own ``Trainer``
    or loop (docs/your_own_loop.md): train the returned model, then
    ``headzoo.Head.from_model(pet_model, task=...)`` takes the trained head out of it
    (peft's trained copy; no unwrapping needed).

    The head (every parameter outside ``base_model_prefix``) always trains. For
    ``lora`` / ``ia3`` / ``prefix`` the model is wrapped by peft with
    ``task_type="SEQ_CLS"`` and ``modules_to_save`` = :func:`head_modules`; peft
    changes the model in place, so load a fresh backbone for anything after stage 1.
    For ``probe`` the frozen backbone runs in eval mode (no dropout) during training
    unless ``backbone_dropout`` is set: the head learns from the features the
    backbone really gives, and the stage is faster.

    Args:
        model: a transformers ``*ForSequenceClassification`` model.
        method: one of :data:`METHODS`.
        settings: an object or mapping with ``lora_r``, ``lora_alpha``, ``lora_dropout``,
            ``target_modules``, ``prefix_length``, ``backbone_dropout`` (missing ones take :data:`DEFAULTS`),
            e.g. a :class:`headzoo.train.Stage1Settings`.

    Returns:
        The model to train: a ``peft.PeftModel`` for the peft methods, else ``model`` itself.

    Raises:
        ConfigError: unknown method, or no default target modules for this model type.

    Example:
        >>> import headzoo
        >>> from transformers import AutoModelForSequenceClassification
        >>> model = AutoModelForSequenceClassification.from_pretrained(  # doctest: +SKIP
        ...     "sentence-transformers/all-MiniLM-L6-v2", num_labels=2)
        >>> pet_model = headzoo.prepare_pet(model, "lora", {"lora_r": 8})  # doctest: +SKIP
    """
    if method == IMPRINT:
        raise ConfigError("method 'imprint' trains nothing, so there is nothing to prepare: imprint the head with "
                          "headzoo.imprint.imprint(model, batches), or pretrain_head(task, backbone, 'imprint')")
    if method not in METHODS:
        raise ConfigError(f"unknown stage-1 method {method!r}; choose one of {', '.join(METHODS)}")
    heads = head_modules(model)
    head_params = set(head_parameter_names(model))
    if method in ("bitfit", "probe"):
        prefix = model.base_model_prefix + "."
        for name, param in model.named_parameters():
            if name in head_params:
                param.requires_grad_(True)
            elif method == "bitfit" and name.startswith(prefix) and name.endswith("bias"):
                param.requires_grad_(True)
            else:
                param.requires_grad_(False)
        if method == "bitfit" and trainable_parameter_count(model) == sum(
            p.numel() for n, p in model.named_parameters() if n in head_params
        ):
            raise ConfigError(
                f"bitfit found no bias parameters in the backbone of {type(model).__name__}; "
                "this architecture has no biases, use method='lora' or 'probe'"
            )
        if method == "probe" and not _setting(settings, "backbone_dropout"):
            _freeze_in_eval_mode(model)
        return model

    from peft import IA3Config, LoraConfig, PrefixTuningConfig, TaskType, get_peft_model

    target_modules = _setting(settings, "target_modules")
    if target_modules is not None:
        target_modules = [target_modules] if isinstance(target_modules, str) else list(target_modules)
    if method == "lora":
        if target_modules is None:
            target_modules, _ = _default_targets(model, "lora")
        config: Any = LoraConfig(
            task_type=TaskType.SEQ_CLS,
            r=int(_setting(settings, "lora_r")),
            lora_alpha=_setting(settings, "lora_alpha"),
            lora_dropout=float(_setting(settings, "lora_dropout")),
            target_modules=target_modules,
            modules_to_save=list(heads),
        )
    elif method == "ia3":
        feedforward: list[str] | None
        if target_modules is None:
            target_modules, feedforward = _default_targets(model, "ia3")
        else:
            feedforward = []  # scale the outputs of the given modules
        config = IA3Config(
            task_type=TaskType.SEQ_CLS,
            target_modules=target_modules,
            feedforward_modules=feedforward or [],
            modules_to_save=list(heads),
        )
    else:
        sizes: dict[str, int] = {}
        if feature_of(model) == SENTENCE_EMBEDDING:  # peft reads these from the top config; here they are nested
            inner = backbone_config(model)
            sizes = {"num_layers": inner.num_hidden_layers, "token_dim": inner.hidden_size,
                     "num_attention_heads": inner.num_attention_heads}
        config = PrefixTuningConfig(
            task_type=TaskType.SEQ_CLS,
            num_virtual_tokens=int(_setting(settings, "prefix_length")),
            modules_to_save=list(heads),
            **sizes,
        )
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        candidates = ", ".join(repr(n) for n in _linear_names(model)) or "(none found)"
        raise ConfigError(
            f"peft could not apply {method} to {type(model).__name__}: {first}. Check target_modules "
            f"(got {target_modules!r}); linear layers of this backbone: {candidates}"
        ) from exc
    if method == "prefix":
        _patch_prefix_forward(peft_model)
    _check_wrapped(peft_model, heads)
    return peft_model


def _freeze_in_eval_mode(model: Any) -> None:
    """Run the (frozen) backbone of ``model`` in eval mode whatever ``model.train()`` says.

    The Trainer switches the whole model to train mode at every step; a forward
    pre-hook on the backbone switches the backbone back, so a probe sees the
    features a frozen backbone gives (no dropout) and the head keeps its own
    dropout. The hook lives on this model object only: stage 2 loads a fresh one.
    """
    backbone = model.base_model  # transformers: the module under base_model_prefix, or the model itself
    if backbone is model:
        return

    def to_eval(module: Any, args: Any) -> None:
        if module.training:
            module.eval()

    backbone.register_forward_pre_hook(to_eval)


def _check_wrapped(peft_model: Any, heads: Sequence[str]) -> None:
    """Warn when peft's suffix matching wrapped a backbone module as 'modules_to_save' too."""
    from peft.utils import ModulesToSaveWrapper

    base = peft_model.get_base_model()
    wrapped = sorted(n for n, m in base.named_modules() if isinstance(m, ModulesToSaveWrapper))
    missing = sorted(set(heads) - set(wrapped))
    if missing:
        raise HeadMismatchError(
            f"peft did not wrap the head module(s) {missing} of {type(base).__name__} for training; "
            "this architecture's head cannot be trained with peft here, use method='bitfit' or 'probe'"
        )
    extra = sorted(set(wrapped) - set(heads))
    if extra:
        logger.warning(
            "peft also made the backbone module(s) %s fully trainable (their names end like a head module's); "
            "stage 1 trains them too, the head extracted afterwards is unaffected",
            extra,
        )


def _patch_prefix_forward(peft_model: Any) -> None:
    """Let peft's prefix-tuning reach backbones whose forward calls the cache ``cache``.

    transformers 5 renamed the ``past_key_values`` argument of encoder models
    such as BERT to ``cache``; peft (0.21) looks for ``past_key_values`` in the
    forward signature and otherwise refuses. When the model takes ``cache``, the
    prefix goes in under that name; otherwise peft's own path runs unchanged.
    """
    base = peft_model.get_base_model()
    prefix = getattr(base, "base_model_prefix", "")
    backbone = getattr(base, prefix, None)
    if backbone is None:
        return
    outer = inspect.signature(base.forward).parameters
    inner = inspect.signature(backbone.forward).parameters
    if "past_key_values" in outer or "cache" not in inner:
        return
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in outer.values())
    if "cache" not in outer and not takes_kwargs:
        return

    def _prefix_tuning_forward(
        self: Any,
        input_ids: Any = None,
        attention_mask: Any = None,
        inputs_embeds: Any = None,
        labels: Any = None,
        output_attentions: Any = None,
        output_hidden_states: Any = None,
        return_dict: Any = None,
        **kwargs: Any,
    ) -> Any:
        batch_size = input_ids.shape[0] if input_ids is not None else inputs_embeds.shape[0]
        kwargs.update(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            cache=self.get_prompt(batch_size),
        )
        for name, value in (("output_attentions", output_attentions), ("output_hidden_states", output_hidden_states)):
            if value is not None:
                kwargs[name] = value
        return self.base_model(labels=labels, **kwargs)

    peft_model._prefix_tuning_forward = types.MethodType(_prefix_tuning_forward, peft_model)


def unwrap(model: Any) -> Any:
    """Drop every PET parameter and return a plain transformers model holding the trained head.

    For a peft model, each ``ModulesToSaveWrapper`` is replaced by its trained
    copy (``modules_to_save[<adapter>]``, *not* ``original_module``), then the
    adapters are removed (``unload()`` for LoRA / IA3; prefix-tuning has no
    layers in the model). LoRA and IA3 are dropped, not merged, so the backbone
    keeps its pretrained weights. BitFit / probe models come back as they are
    (BitFit's trained biases stay; the head is what matters). Every parameter
    is made trainable again.

    Example:
        >>> model = unwrap(trained)  # doctest: +SKIP
        >>> head = Head.from_model(model, task="rte")  # doctest: +SKIP
    """
    try:
        from peft import PeftModel
        from peft.utils import ModulesToSaveWrapper
    except ImportError:  # pragma: no cover - peft is a dependency
        PeftModel = ()  # type: ignore[assignment]
        ModulesToSaveWrapper = ()  # type: ignore[assignment]

    if isinstance(model, PeftModel):
        adapter = model.active_adapter
        base = model.get_base_model()
        wrappers = [(n, m) for n, m in base.named_modules() if isinstance(m, ModulesToSaveWrapper)]
        for name, wrapper in wrappers:
            parent_name, _, child = name.rpartition(".")
            parent = base.get_submodule(parent_name) if parent_name else base
            trained = wrapper.modules_to_save[adapter]
            setattr(parent, child, trained)
        if model.active_peft_config.is_prompt_learning:
            plain = base
        else:
            plain = model.unload()
    else:
        plain = model
    leftovers = [n for n, _ in plain.named_parameters() if any(marker in n for marker in _PET_MARKERS)]
    if leftovers:
        raise HeadMismatchError(
            f"unwrap left PET parameters in the model ({leftovers[:3]}...); "
            "this peft version unloads differently, report it with your peft version"
        )
    for param in plain.parameters():
        param.requires_grad_(True)
    return plain


__all__ = [
    "DEFAULTS",
    "IMPRINT",
    "METHODS",
    "STAGE1_METHODS",
    "head_modules",
    "head_parameter_names",
    "parameter_count",
    "prepare",
    "trainable_parameter_count",
    "unwrap",
]
