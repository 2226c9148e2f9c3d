"""Where heads live, and ``load_head``: one line from (task, backbone) to a model with the head in place.

The local zoo is a directory tree, ``$HEADZOO_HOME/heads/<backbone>/<task>/<method>/``,
each leaf a head directory (``head.safetensors`` + ``head_config.json`` +
``README.md``). ``HEADZOO_HOME`` defaults to ``$XDG_CACHE_HOME/headzoo``
(``~/.cache/headzoo``).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backbone import BackboneRef, load_classifier, resolve_backbone
from .errors import HeadFormatError, HeadNotFoundError, InvalidNameError
from .head import CONFIG_FILE, HEAD_FILE, Head, HeadConfig, read_config

logger = logging.getLogger(__name__)

#: When a (task, backbone) pair has heads of several methods, the first found in this order is used.
METHOD_PREFERENCE = ("lora", "bitfit", "ia3", "prefix", "probe", "none")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


def zoo_home() -> Path:
    """The local zoo's root: ``$HEADZOO_HOME``, else ``$XDG_CACHE_HOME/headzoo``, else ``~/.cache/headzoo``.

    Example:
        >>> zoo_home()  # doctest: +SKIP
        PosixPath('/home/me/.cache/headzoo')
    """
    env = os.environ.get("HEADZOO_HOME")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "headzoo"


def validate_name(name: str, what: str) -> str:
    """Check a task or method name used as a path component (no ``/``, ``..``, spaces).

    Raises:
        InvalidNameError: quoting the name.
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidNameError(
            f"{what} {name!r} is not a valid name: use letters, digits, '_', '.' and '-' "
            "(at most 96 characters, no '..' or '/')"
        )
    return name


def zoo_path(task: str, backbone: str | BackboneRef, method: str | None = None) -> Path:
    """The zoo directory for a head of ``task`` on ``backbone`` trained with ``method``.

    Example:
        >>> zoo_path("rte", "minilm", "lora").parts[-3:]
        ('sentence-transformers--all-MiniLM-L6-v2', 'rte', 'lora')
    """
    ref = backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone)
    home = zoo_home().resolve()
    leaf = home / "heads" / ref.slug / validate_name(task, "task") / validate_name(method or "none", "method")
    path = leaf.resolve()
    if home not in path.parents:
        raise InvalidNameError(f"zoo path {str(path)!r} would leave the zoo {str(home)!r}")
    return path


@dataclass(frozen=True)
class ZooEntry:
    """One head in the local zoo."""

    task: str
    backbone: str
    method: str
    path: Path
    config: HeadConfig


def list_heads(task: str | None = None, backbone: str | None = None, method: str | None = None) -> list[ZooEntry]:
    """The heads in the local zoo, optionally filtered; unreadable entries are skipped with a warning.

    Example:
        >>> [e.task for e in list_heads(backbone="minilm")]  # doctest: +SKIP
        ['rte', 'sst2']
    """
    if task:
        validate_name(task, "task")
    if method:
        validate_name(method, "method")
    slug = resolve_backbone(backbone).slug if backbone else None
    root = zoo_home() / "heads"
    if not root.is_dir():
        return []
    entries = []
    for config_path in sorted(root.glob(f"*/*/*/{CONFIG_FILE}")):
        leaf = config_path.parent
        if any(part.startswith(".") for part in leaf.relative_to(root).parts):
            continue  # a save in progress, or one cut off by a crash (.<method>.tmp-*)
        if slug and leaf.parent.parent.name != slug:
            continue
        if (task and leaf.parent.name != task.lower()) or (method and leaf.name != method):
            continue
        try:
            config = read_config(config_path)
        except HeadFormatError as exc:
            logger.warning("skipping unreadable zoo entry %s: %s", leaf, exc)
            continue
        entries.append(ZooEntry(config.task, config.backbone, leaf.name, leaf, config))
    return entries


def find_in_zoo(task: str, backbone: str | BackboneRef, method: str | None = None) -> Path | None:
    """The zoo directory of the best head for (task, backbone[, method]), or None.

    Without ``method`` the first present in :data:`METHOD_PREFERENCE` wins,
    then any other method in name order.
    """
    ref = backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone)
    if method:
        path = zoo_path(task, ref, method)
        return path if (path / HEAD_FILE).is_file() else None
    parent = zoo_path(task, ref, "none").parent
    if not parent.is_dir():
        return None
    present = sorted(p.name for p in parent.iterdir() if not p.name.startswith(".") and (p / HEAD_FILE).is_file())
    ordered = [m for m in METHOD_PREFERENCE if m in present] + [m for m in present if m not in METHOD_PREFERENCE]
    return parent / ordered[0] if ordered else None


def save_to_zoo(head: Head, *, overwrite: bool = False) -> Path:
    """Save a head at its place in the local zoo and return that directory.

    Example:
        >>> save_to_zoo(head)  # doctest: +SKIP
    """
    path = zoo_path(head.config.task, head.config.backbone, head.config.method)
    return head.save(path, overwrite=overwrite)


def _looks_like_repo_id(name: str) -> bool:
    return name.count("/") == 1 and all(_NAME.match(part) for part in name.split("/"))


def resolve_head(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    method: str | None = None,
    revision: str | None = None,
) -> Head:
    """Find a head: a local head directory, a Hub repo id, or a task name looked up in the zoo.

    Order for a task name: the local zoo (``HEADZOO_HOME``), then the Hub under
    the naming rule of :func:`headzoo.hub.default_repo_id`.

    Raises:
        HeadNotFoundError: nothing found; the message says how to train or pull one.
    """
    raw = os.fspath(task_or_path)
    try:
        path = Path(raw).expanduser()
        exists = path.exists()
    except RuntimeError:  # "~nobody/x"
        raise HeadNotFoundError(f"no head at {raw!r}: there is no such user's home; give the full path") from None
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a path here
        path, exists = Path(), False
    if exists or raw.startswith((".", "/", "~")) or raw.endswith((".safetensors", CONFIG_FILE)):
        if not exists:
            raise HeadNotFoundError(f"no head at {raw!r}: the path does not exist")
        return Head.load(path)
    if _looks_like_repo_id(raw):
        try:
            from . import hub
        except ImportError as exc:
            raise HeadNotFoundError(f"{raw!r} looks like a Hub repo id, but Hub support is not available") from exc
        return Head.load(hub.pull_head(raw, revision=revision))
    task = raw.lower()
    validate_name(task, "task")
    if backbone is None:
        raise HeadNotFoundError(
            f"load_head({raw!r}) needs a backbone to find the head in the zoo, "
            f"e.g. load_head({raw!r}, 'sentence-transformers/all-MiniLM-L6-v2')"
        )
    ref = resolve_backbone(backbone)
    found = find_in_zoo(task, ref, method)
    if found is not None:
        logger.info("using head %s from the local zoo", found)
        return Head.load(found)
    try:
        from . import hub
    except ImportError:  # pragma: no cover - the hub module ships with headzoo
        hub = None
    if hub is not None:
        pulled = hub.find_on_hub(task, ref, method=method, revision=revision)
        if pulled is not None:
            return Head.load(pulled)
    method_part = f" --method {method}" if method else ""
    raise HeadNotFoundError(
        f"no head for task {task!r} on backbone {ref.id!r}{f' (method {method!r})' if method else ''} "
        f"in the local zoo ({zoo_home()}) or on the Hub: train one with "
        f"`headzoo train {task} --backbone {backbone}{method_part}`, or pull one with `headzoo pull REPO_ID`"
    )


def load_head(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    model: Any = None,
    method: str | None = None,
    revision: str | None = None,
    allow_backbone_mismatch: bool = False,
    **from_pretrained_kwargs: Any,
) -> Any:
    """Build a sequence-classification model with a pretrained head in place, in one line.

    Args:
        task_or_path: a task name (``"rte"``), a local head directory, or a Hub repo id of a head.
        backbone: the backbone id or folder; defaults to the backbone the head records.
        model: put the head into this existing model (in place) instead of building one.
        method: pick the head trained with this stage-1 method (``"lora"``, ``"bitfit"``...).
        revision: Hub revision of the head repo.
        allow_backbone_mismatch: apply even if the backbone weights differ from the head's.
        **from_pretrained_kwargs: passed to ``AutoModelForSequenceClassification.from_pretrained``
            (``torch_dtype``, ``attn_implementation``...).

    Returns:
        The model with the head in place (``model`` itself when given).

    Raises:
        HeadNotFoundError: no head for (task, backbone); the message says how to get one.
        HeadMismatchError: the head does not fit the model (labels, shapes, backbone).

    Example:
        >>> import headzoo
        >>> model = headzoo.load_head("rte", "FacebookAI/roberta-base")  # doctest: +SKIP
        >>> headzoo.load_head("rte", "FacebookAI/roberta-base", model=my_model)  # doctest: +SKIP
    """
    head = resolve_head(task_or_path, backbone, method=method, revision=revision)
    if model is None:
        ref = resolve_backbone(backbone or head.config.backbone)
        cfg = head.config
        kwargs: dict[str, Any] = {
            "num_labels": cfg.num_labels,
            "id2label": dict(cfg.id2label),
            "label2id": cfg.label2id,
        }
        if cfg.problem_type:
            kwargs["problem_type"] = cfg.problem_type
        kwargs.update(from_pretrained_kwargs)
        model = load_classifier(ref, **kwargs)
    return head.apply(model, allow_backbone_mismatch=allow_backbone_mismatch)


__all__ = [
    "METHOD_PREFERENCE",
    "ZooEntry",
    "find_in_zoo",
    "list_heads",
    "load_head",
    "resolve_head",
    "save_to_zoo",
    "validate_name",
    "zoo_home",
    "zoo_path",
]
