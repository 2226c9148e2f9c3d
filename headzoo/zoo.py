"""Where heads live: the local zoo, a directory tree of head folders (local storage only, no network).

Finding a head by (task, backbone), including on the Hub, is :mod:`headzoo.loading`.
The local zoo is a directory tree, ``$HEADZOO_HOME/heads/<backbone>/<task>/<method>/``,
each leaf a head directory (``head.safetensors`` + ``head_config.json`` +
``README.md``). ``HEADZOO_HOME`` defaults to ``$XDG_CACHE_HOME/headzoo``
(``~/.cache/headzoo``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .backbone import BackboneRef, resolve_backbone
from .errors import HeadExistsError, HeadFormatError, InvalidNameError
from .files import HEAD_FILE, HEAD_FILES, copy_head_files, entry_lock
from .head import Head
from .head_config import CONFIG_FILE, HeadConfig, read_config
from .naming import METHOD_PREFERENCE, validate_name

logger = logging.getLogger(__name__)


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

    Without ``method`` the first present in :data:`headzoo.naming.METHOD_PREFERENCE` wins,
    then any other method in name order.

    Example:
        >>> find_in_zoo("rte", "minilm")  # doctest: +SKIP
        PosixPath('/home/me/.cache/headzoo/heads/sentence-transformers--all-MiniLM-L6-v2/rte/lora')
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


def add_to_zoo(source: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Copy a head folder (e.g. a download in the Hub cache) byte for byte to its place in the zoo; return that place.

    The place comes from the head's config (task, backbone, method). If the zoo
    already holds the same files, nothing is copied; if only the card differs, it is replaced.
    Two processes adding the same head at once: one copies, the other finds it there.

    Raises:
        HeadExistsError: the zoo holds a different head at that place and ``overwrite`` is False.

    Example:
        >>> add_to_zoo(pull_head("headzoo/headzoo-rte-all-MiniLM-L6-v2-lora"))  # doctest: +SKIP
        PosixPath('/home/me/.cache/headzoo/heads/sentence-transformers--all-MiniLM-L6-v2/rte/lora')
    """
    path = Path(source)
    config = read_config(path)
    target = zoo_path(config.task, config.backbone, config.method)
    with entry_lock(target):
        if (target / HEAD_FILE).is_file() or (target / CONFIG_FILE).is_file():
            if _same_files(path, target, HEAD_FILES):
                return target
            if not overwrite and not _same_files(path, target, (HEAD_FILE, CONFIG_FILE)):
                raise HeadExistsError(
                    f"the zoo already holds a different {config.task!r}/{config.method!r} head for "
                    f"{config.backbone!r} at {str(target)!r}; pass overwrite=True (CLI: --overwrite) to replace it"
                )
        copy_head_files(path, target, overwrite=True)
    return target


def _same_files(a: Path, b: Path, names: tuple[str, ...]) -> bool:
    """Whether each of ``names`` is in both folders (or in neither) with the same bytes."""
    for name in names:
        fa, fb = a / name, b / name
        if fa.is_file() != fb.is_file() or (fa.is_file() and fa.read_bytes() != fb.read_bytes()):
            return False
    return True


__all__ = [
    "ZooEntry",
    "add_to_zoo",
    "find_in_zoo",
    "list_heads",
    "save_to_zoo",
    "zoo_home",
    "zoo_path",
]
