"""Where heads live: the local zoo, a directory tree of head folders (local storage only, no network).

Finding a head by (task, backbone), including on the Hub, is :mod:`headzoo.loading`.
The local zoo is a directory tree, ``$HEADZOO_HOME/heads/<backbone>/<task>/<method>/``,
each leaf a head directory (``head.safetensors`` + ``head_config.json`` +
``README.md``). ``HEADZOO_HOME`` defaults to ``$XDG_CACHE_HOME/headzoo``
(``~/.cache/headzoo``).

The shipped zoo is the same tree inside the installed package
(``headzoo/zoo_data/heads/...``, see :func:`shipped_zoo_root`): heads built by
:func:`headzoo.zoo_build.build_zoo` that come with ``pip install headzoo``. It is
read-only: saving and adding always go to the user's zoo. Finding a head looks
in the user's zoo first, then in the shipped one (:mod:`headzoo.loading`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backbone import BackboneRef, resolve_backbone
from .errors import HeadExistsError, HeadFormatError, InvalidNameError
from .files import HEAD_FILE, HEAD_FILES, copy_head_files, entry_lock
from .head_config import CONFIG_FILE, HeadConfig, read_config
from .naming import METHOD_PREFERENCE, validate_name

logger = logging.getLogger(__name__)

#: Where a head comes from: the user's zoo (``HEADZOO_HOME``) or the zoo shipped inside the package.
SOURCES = ("user", "shipped")
#: Overrides the shipped zoo's folder (a zoo root holding ``heads/``); empty turns the shipped zoo off.
SHIPPED_ZOO_ENV = "HEADZOO_SHIPPED_ZOO"


def shipped_zoo_root() -> Path | None:
    """The root of the zoo that ships inside the package (``headzoo/zoo_data``), or None when it is turned off.

    ``$HEADZOO_SHIPPED_ZOO`` points it elsewhere (a folder holding ``heads/``); set to an empty
    string it turns the shipped zoo off. The folder may be missing (a packaging that dropped the
    package data): lookups then find no shipped head, and the messages say how to reinstall.

    Example:
        >>> shipped_zoo_root().name  # doctest: +SKIP
        'zoo_data'
    """
    env = os.environ.get(SHIPPED_ZOO_ENV)
    if env is not None:
        return Path(env).expanduser() if env.strip() else None
    return Path(__file__).resolve().parent / "zoo_data"


def _source_roots(source: str) -> list[tuple[str, Path]]:
    """``(source, zoo root)`` pairs to look in, in resolution order, for ``source`` ("user", "shipped", "all")."""
    if source not in (*SOURCES, "all"):
        raise InvalidNameError(f"zoo source {source!r} is not one of 'user', 'shipped', 'all'")
    roots: list[tuple[str, Path]] = []
    if source in ("user", "all"):
        roots.append(("user", zoo_home()))
    shipped = shipped_zoo_root()
    if source in ("shipped", "all") and shipped is not None:
        roots.append(("shipped", shipped))
    return roots


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
    """One head in a zoo; ``source`` is ``"user"`` (the user's zoo) or ``"shipped"`` (inside the package)."""

    task: str
    backbone: str
    method: str
    path: Path
    config: HeadConfig
    source: str = "user"


def list_heads(task: str | None = None, backbone: str | None = None, method: str | None = None, *,
               source: str = "user") -> list[ZooEntry]:
    """The heads in the user's zoo (or the shipped zoo, or both), optionally filtered.

    Unreadable entries are skipped with a warning that names the file and the fix.

    Args:
        task, backbone, method: keep only these.
        source: ``"user"`` (default: ``HEADZOO_HOME``), ``"shipped"`` (the zoo inside the package)
            or ``"all"`` (user heads first, then shipped ones).

    Example:
        >>> [(e.task, e.source) for e in list_heads(backbone="minilm", source="all")]  # doctest: +SKIP
        [('rte', 'user'), ('cb', 'shipped'), ('rte', 'shipped')]
    """
    if task:
        validate_name(task, "task")
    if method:
        validate_name(method, "method")
    slug = resolve_backbone(backbone).slug if backbone else None
    entries = []
    for origin, home in _source_roots(source):
        entries += _list_root(home / "heads", origin, slug, task, method)
    return entries


def _list_root(root: Path, origin: str, slug: str | None, task: str | None, method: str | None) -> list[ZooEntry]:
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
            fix = SHIPPED_FIX if origin == "shipped" else "delete that folder or save the head again"
            logger.warning("skipping unreadable %s zoo entry %s: %s; %s", origin, leaf, exc, fix)
            continue
        entries.append(ZooEntry(config.task, config.backbone, leaf.name, leaf, config, origin))
    return entries


#: What to do about a damaged or missing shipped zoo.
SHIPPED_FIX = "reinstall headzoo (pip install --force-reinstall --no-deps headzoo) to restore the shipped zoo"


def find_in_zoo(task: str, backbone: str | BackboneRef, method: str | None = None, *,
                source: str = "user") -> Path | None:
    """The zoo directory of the best head for (task, backbone[, method]), or None.

    Without ``method`` the first present in :data:`headzoo.naming.METHOD_PREFERENCE` wins,
    then any other method in name order. ``source`` as in :func:`find_all_in_zoo`; with
    ``"all"`` a head in the user's zoo wins over a shipped one.

    Example:
        >>> find_in_zoo("rte", "minilm")  # doctest: +SKIP
        PosixPath('/home/me/.cache/headzoo/heads/sentence-transformers--all-MiniLM-L6-v2/rte/lora')
    """
    found = find_all_in_zoo(task, backbone, method, source=source)
    return found[0].path if found else None


@dataclass(frozen=True)
class ZooCandidate:
    """A head folder that a lookup found: where it is and which zoo it is in (``"user"`` / ``"shipped"``)."""

    path: Path
    source: str


def find_all_in_zoo(task: str, backbone: str | BackboneRef, method: str | None = None, *,
                    source: str = "user") -> list[ZooCandidate]:
    """Every head folder for (task, backbone[, method]), best first: the user's zoo, then the shipped one.

    Within a zoo the methods come in :data:`headzoo.naming.METHOD_PREFERENCE` order, then any
    other in name order. Folders are only listed here, not read: :mod:`headzoo.loading` reads
    them and moves past a damaged one.

    Args:
        task, backbone, method: what to find.
        source: ``"user"`` (default), ``"shipped"`` or ``"all"``.

    Example:
        >>> [c.source for c in find_all_in_zoo("rte", "minilm", source="all")]  # doctest: +SKIP
        ['shipped', 'shipped']
    """
    ref = backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone)
    task = validate_name(task, "task")
    if method:
        validate_name(method, "method")
    found = []
    for origin, home in _source_roots(source):
        parent = (zoo_path(task, ref, "none") if origin == "user" else home / "heads" / ref.slug / task / "none").parent
        if not parent.is_dir():
            continue
        # a shipped folder with either file counts, so that a damaged one is reported, not passed over
        wanted = (HEAD_FILE,) if origin == "user" else (HEAD_FILE, CONFIG_FILE)
        present = sorted(p.name for p in parent.iterdir()
                         if not p.name.startswith(".") and any((p / name).is_file() for name in wanted))
        if method:
            ordered = [method] if method in present else []
        else:
            ordered = [m for m in METHOD_PREFERENCE if m in present] + [m for m in present
                                                                        if m not in METHOD_PREFERENCE]
        found += [ZooCandidate(parent / m, origin) for m in ordered]
    return found


def save_to_zoo(head: Any, *, overwrite: bool = False) -> Path:
    """Save a head (a :class:`headzoo.Head`) at its place in the local zoo and return that directory.

    This module does not import :mod:`headzoo.head` (which sits above it), so
    any object with ``config`` and ``save(directory, overwrite=...)`` is taken.

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
    "SHIPPED_FIX",
    "SHIPPED_ZOO_ENV",
    "SOURCES",
    "ZooCandidate",
    "ZooEntry",
    "add_to_zoo",
    "find_all_in_zoo",
    "find_in_zoo",
    "list_heads",
    "save_to_zoo",
    "shipped_zoo_root",
    "zoo_home",
    "zoo_path",
]
