"""The sentence embedding a checkpoint declares: sentence-transformers' ``modules.json`` and pooling config.

A sentence-transformers checkpoint (all-MiniLM-L6-v2, headzoo's embedded default, and most small encoders
people deploy) says in its own files how a sentence becomes a vector:

- ``modules.json`` lists the pipeline: ``Transformer`` -> ``Pooling`` (its folder, e.g. ``1_Pooling``) ->
  optionally ``Normalize`` (unit length);
- ``<pooling folder>/config.json`` names the pooling: ``pooling_mode`` (sentence-transformers 5+) or the
  older ``pooling_mode_*_token(s)`` booleans;
- ``sentence_bert_config.json`` gives ``max_seq_length``, where texts are cut.

:func:`read_pooling` reads that declaration into a :class:`Pooling`; :func:`pool` applies it to token
states, as sentence-transformers' ``Pooling`` module does (so the vectors agree with
``SentenceTransformer.encode`` to float32 rounding). A checkpoint without ``modules.json`` declares no
sentence embedding: :func:`read_pooling` returns ``None`` and headzoo keeps the model's own
classification path.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import PoolingConfigError

#: Pooling modes, as sentence-transformers names them.
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")

#: The older boolean keys of a pooling config, in sentence-transformers' concatenation order.
LEGACY_MODE_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}



def module_kind(type_name: str) -> str:
    """The class name of a ``modules.json`` entry's ``type`` where it is a sentence-transformers module, else ``""``.

    Older checkpoints write ``sentence_transformers.models.Pooling``, newer ones
    ``sentence_transformers.sentence_transformer.modules.pooling.Pooling``: both are ``"Pooling"``.

    Example:
        >>> module_kind("sentence_transformers.sentence_transformer.modules.pooling.Pooling")
        'Pooling'
        >>> module_kind("my_package.Pooling")
        ''
    """
    return type_name.rsplit(".", 1)[-1] if type_name.startswith("sentence_transformers.") else ""


@dataclass(frozen=True)
class Pooling:
    """How a checkpoint turns token states into its sentence embedding.

    Attributes:
        modes: pooling modes (see :data:`POOLING_MODES`), concatenated in this order; usually one.
        normalize: whether the embedding is scaled to unit length (a ``Normalize`` module follows).
        max_seq_length: where the checkpoint cuts texts, in tokens, or None where it says nothing.

    Example:
        >>> Pooling(modes=("mean",), normalize=True).describe()
        'mean pooling, normalised'
    """

    modes: tuple[str, ...] = ("mean",)
    normalize: bool = False
    max_seq_length: int | None = None

    def __post_init__(self) -> None:
        if not self.modes:
            raise PoolingConfigError("a pooling needs at least one mode; known: " + ", ".join(POOLING_MODES))
        for mode in self.modes:
            if mode not in POOLING_MODES:
                raise PoolingConfigError(f"unknown pooling mode {mode!r}; known: {', '.join(POOLING_MODES)}")
        if self.max_seq_length is not None and (not isinstance(self.max_seq_length, int) or self.max_seq_length < 1):
            raise PoolingConfigError(f"max_seq_length must be a positive integer, got {self.max_seq_length!r}")

    def describe(self) -> str:
        """A short human description, e.g. ``'mean pooling, normalised'``."""
        text = " + ".join(self.modes) + " pooling"
        return text + (", normalised" if self.normalize else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``modes`` as a list)."""
        out = asdict(self)
        out["modes"] = list(self.modes)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Pooling:
        """The inverse of :meth:`to_dict`, with a typed error for a damaged record.

        Raises:
            PoolingConfigError: ``data`` is not a mapping of known fields.
        """
        if not isinstance(data, dict):
            raise PoolingConfigError(f"a pooling record must be a JSON object, got {data!r}")
        unknown = sorted(set(data) - {"modes", "normalize", "max_seq_length"})
        if unknown:
            raise PoolingConfigError(f"unknown pooling field(s) {unknown}; expected modes, normalize, max_seq_length")
        modes = data.get("modes", ("mean",))
        if isinstance(modes, str):
            modes = (modes,)
        if not isinstance(modes, (list, tuple)) or not all(isinstance(m, str) for m in modes):
            raise PoolingConfigError(f"pooling modes must be a list of names, got {modes!r}")
        normalize = data.get("normalize", False)
        if not isinstance(normalize, bool):
            raise PoolingConfigError(f"pooling 'normalize' must be true or false, got {normalize!r}")
        return cls(modes=tuple(modes), normalize=normalize, max_seq_length=data.get("max_seq_length"))


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PoolingConfigError(f"{what} {str(path)!r} is missing; restore the checkpoint's files, or pass "
                                 "feature='sequence-classification' to use the model's own head") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoolingConfigError(f"{what} {str(path)!r} is not valid JSON ({exc}); restore it from the "
                                 "checkpoint, or pass feature='sequence-classification'") from None


def modes_of(config: Any, path: Path | str = "pooling config") -> tuple[str, ...]:
    """The pooling modes a sentence-transformers pooling ``config.json`` names (new or legacy keys).

    Raises:
        PoolingConfigError: the config is not an object, names an unknown mode, or names none.

    Example:
        >>> modes_of({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False})
        ('mean',)
        >>> modes_of({"pooling_mode": "cls"})
        ('cls',)
    """
    if not isinstance(config, dict):
        raise PoolingConfigError(f"{str(path)!r} must hold a JSON object, got {type(config).__name__}")
    if "pooling_mode" in config:
        value = config["pooling_mode"]
        modes = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else None
        if modes is None or not all(isinstance(m, str) for m in modes):
            raise PoolingConfigError(f"{str(path)!r}: pooling_mode must be a name or a list of names, got {value!r}")
    else:
        modes = tuple(mode for key, mode in LEGACY_MODE_KEYS.items() if config.get(key) is True)
        if not modes:
            raise PoolingConfigError(f"{str(path)!r} names no pooling mode (no pooling_mode and no "
                                     f"pooling_mode_* key set to true); known: {', '.join(POOLING_MODES)}")
    unknown = [m for m in modes if m not in POOLING_MODES]
    if unknown:
        raise PoolingConfigError(f"{str(path)!r} names unknown pooling mode(s) {unknown}; headzoo knows "
                                 f"{', '.join(POOLING_MODES)}; pass feature='sequence-classification' to use the "
                                 "model's own head instead")
    return modes


def read_pooling(folder: str | os.PathLike[str]) -> Pooling | None:
    """The sentence embedding a checkpoint folder declares, or None where it declares none.

    A folder without ``modules.json`` declares none. One with it must list a ``Pooling`` module whose
    config is readable; a ``Normalize`` module after it makes the embedding unit-length.

    Args:
        folder: a local checkpoint folder (a Hub checkpoint's snapshot folder works the same).

    Raises:
        PoolingConfigError: ``modules.json`` or the pooling config is damaged, missing or names an unknown
            mode, or the pipeline has modules headzoo cannot reproduce (e.g. a ``Dense`` projection).

    Example:
        >>> from headzoo.backbone import embedded_backbone_path
        >>> read_pooling(embedded_backbone_path())  # doctest: +SKIP
        Pooling(modes=('mean',), normalize=True, max_seq_length=256)
    """
    root = Path(folder)
    modules_path = root / "modules.json"
    if not modules_path.exists():
        return None
    modules = _read_json(modules_path, "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise PoolingConfigError(f"{str(modules_path)!r} must be a JSON list of modules; restore it from the "
                                 "checkpoint, or pass feature='sequence-classification'")
    modules = sorted(modules, key=lambda m: m.get("idx", 0))
    types = [str(m.get("type", "")) for m in modules]
    kinds = [module_kind(t) for t in types]
    pooling_at = [i for i, kind in enumerate(kinds) if kind == "Pooling"]
    if not pooling_at:
        raise PoolingConfigError(f"{str(modules_path)!r} lists no sentence_transformers Pooling module (it has "
                                 f"{types}); pass feature='sequence-classification' to use the model's own head")
    others = [t for t, kind in zip(types, kinds, strict=True) if kind not in ("Transformer", "Pooling", "Normalize")]
    if others:
        raise PoolingConfigError(f"{str(modules_path)!r} has module(s) headzoo does not reproduce: {others}; "
                                 "pass feature='sequence-classification' to use the model's own head")
    entry = modules[pooling_at[0]]
    pooling_path = root / str(entry.get("path", "")) / "config.json"
    modes = modes_of(_read_json(pooling_path, "pooling config"), pooling_path)
    normalize = "Normalize" in kinds[pooling_at[0] + 1:]
    max_len = None
    bert_config = root / "sentence_bert_config.json"
    if bert_config.exists():
        value = _read_json(bert_config, "sentence_bert_config.json")
        max_len = value.get("max_seq_length") if isinstance(value, dict) else None
        if max_len is not None and (not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 1):
            raise PoolingConfigError(f"{str(bert_config)!r}: max_seq_length must be a positive integer, "
                                     f"got {max_len!r}")
    return Pooling(modes=modes, normalize=normalize, max_seq_length=max_len)


def pool(token_states: Any, attention_mask: Any, pooling: Pooling) -> Any:
    """The sentence embedding of a batch: ``pooling`` applied to token states, then normalised if declared.

    Follows sentence-transformers' ``Pooling.forward`` for padded batches (left or right padding).

    Args:
        token_states: ``(batch, tokens, hidden)`` float tensor (the backbone's last hidden state).
        attention_mask: ``(batch, tokens)`` 0/1 tensor.
        pooling: what the checkpoint declares.

    Returns:
        ``(batch, hidden * len(pooling.modes))`` tensor.

    Example:
        >>> import torch
        >>> states, mask = torch.ones(2, 3, 4), torch.tensor([[1, 1, 0], [1, 1, 1]])
        >>> pool(states, mask, Pooling(("mean",), normalize=True))[0].norm().item()
        1.0
    """
    import torch

    accumulate = torch.float32 if token_states.dtype in (torch.float16, torch.bfloat16) else token_states.dtype
    mask = attention_mask.unsqueeze(-1).to(token_states.dtype)
    vectors = []
    for mode in pooling.modes:
        if mode == "cls":
            first = attention_mask.to(torch.int).argmax(dim=1)
            index = first.view(-1, 1, 1).expand(-1, 1, token_states.shape[-1])
            vectors.append(torch.gather(token_states, 1, index).squeeze(1))
        elif mode == "max":
            vectors.append(token_states.masked_fill(mask == 0, float("-inf")).max(dim=1).values)
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            total = (token_states * mask).sum(dim=1, dtype=accumulate)
            count = torch.clamp(mask.sum(dim=1, dtype=accumulate), min=1e-9)
            vectors.append((total / (count if mode == "mean" else torch.sqrt(count))).to(token_states.dtype))
        elif mode == "weightedmean":
            weights = torch.arange(1, token_states.shape[1] + 1, device=token_states.device,
                                   dtype=accumulate).view(1, -1, 1)
            weights = weights - attention_mask.to(torch.int32).argmax(dim=1).view(-1, 1, 1)
            weighted = mask.to(accumulate) * weights
            total = (token_states * weighted).sum(dim=1)
            vectors.append((total / torch.clamp(weighted.sum(dim=1), min=1e-9)).to(token_states.dtype))
        else:  # lasttoken
            seq_len = token_states.shape[1]
            values, last = attention_mask.flip(1).max(1)
            last = torch.where(values == 0, seq_len - 1, last)
            index = (seq_len - last - 1).view(-1, 1, 1).expand(-1, 1, token_states.shape[-1])
            vectors.append(torch.gather(token_states * mask, 1, index).squeeze(1))
    embedding = vectors[0] if len(vectors) == 1 else torch.cat(vectors, dim=1)
    if pooling.normalize:
        embedding = torch.nn.functional.normalize(embedding, p=2, dim=1)
    return embedding
