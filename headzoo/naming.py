"""Naming rules in one place: task and method names, backbone slugs, Hub repo ids and names, revisions.

Every name that becomes a path component or part of a URL is checked here
before it reaches the file system or the network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import InvalidNameError

#: When a (task, backbone) pair has heads of several methods, the first found in this order is used.
METHOD_PREFERENCE = ("lora", "bitfit", "ia3", "prefix", "probe", "none")

#: One name part (a task, a method, either half of a repo id): at most 96 characters.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
#: A branch, tag or commit name.
REVISION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
#: A backbone Hub id: ``name`` or ``org/name`` (no length limit; transformers checks the rest).
BACKBONE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


def validate_name(name: str, what: str) -> str:
    """Check a task or method name used as a path component (no ``/``, ``..``, spaces).

    Args:
        name: the name to check.
        what: what it names (``"task"``, ``"method"``), for the message.

    Returns:
        ``name`` unchanged.

    Raises:
        InvalidNameError: quoting the name.

    Example:
        >>> validate_name("rte", "task")
        'rte'
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise InvalidNameError(
            f"{what} {name!r} is not a valid name: use letters, digits, '_', '.' and '-' "
            "(at most 96 characters, no '..' or '/')"
        )
    return name


def looks_like_repo_id(name: str) -> bool:
    """Whether ``name`` has the shape of a Hub repo id (``namespace/name``, two valid name parts).

    Example:
        >>> looks_like_repo_id("headzoo/headzoo-rte-roberta-base-lora"), looks_like_repo_id("rte")
        (True, False)
    """
    return name.count("/") == 1 and all(NAME_PATTERN.match(part) for part in name.split("/"))


def is_backbone_id(name: str) -> bool:
    """Whether ``name`` has the shape of a backbone's Hub id (``name`` or ``org/name``).

    Example:
        >>> is_backbone_id("FacebookAI/roberta-base"), is_backbone_id("a/b/c")
        (True, False)
    """
    return bool(BACKBONE_ID_PATTERN.match(name))


def backbone_slug(backbone_id: str) -> str:
    """A file-name-safe name for a backbone, used in zoo paths (``org--name`` or ``local--dir``).

    Raises:
        InvalidNameError: the id gives an empty name.

    Example:
        >>> backbone_slug("FacebookAI/roberta-base")
        'FacebookAI--roberta-base'
    """
    if os.path.isabs(backbone_id):
        name = "local--" + Path(backbone_id).name
    else:
        name = backbone_id.replace("/", "--")
    name = re.sub(r"[^A-Za-z0-9._-]", "-", name).strip(".-")
    if not name:
        raise InvalidNameError(f"backbone {backbone_id!r} gives an empty zoo name; name its folder")
    return name


def validate_repo_id(repo_id: str) -> str:
    """Check a Hub repo id (``namespace/name``) before it reaches the network or the cache.

    Raises:
        InvalidNameError: quoting the id and the rule.

    Example:
        >>> validate_repo_id("headzoo/headzoo-rte-roberta-base-lora")
        'headzoo/headzoo-rte-roberta-base-lora'
    """
    parts = repo_id.split("/") if isinstance(repo_id, str) else []
    if (
        len(parts) != 2
        or not all(NAME_PATTERN.match(p) for p in parts)
        or ".." in repo_id
        or "--" in repo_id
        or repo_id.endswith((".git", "."))
    ):
        raise InvalidNameError(
            f"{repo_id!r} is not a valid Hub repo id: use 'namespace/name' with letters, digits, '-', '_' "
            "and '.', at most 96 characters each, no '--' or '..'"
        )
    return repo_id


def validate_revision(revision: str | None) -> str | None:
    """Check a branch, tag or commit name before it reaches a URL or the cache's ``refs/`` folder.

    Raises:
        InvalidNameError: quoting the revision.

    Example:
        >>> validate_revision("refs/pr/1")
        'refs/pr/1'
    """
    if revision is None:
        return None
    if (
        not isinstance(revision, str)
        or not REVISION_PATTERN.match(revision)
        or ".." in revision
        or "//" in revision
        or revision.endswith(("/", ".", ".lock"))
    ):
        raise InvalidNameError(
            f"{revision!r} is not a valid revision: give a branch, tag or commit sha (letters, digits, '.', '_', "
            "'-' and '/', at most 200 characters, no '..')"
        )
    return revision


def repo_name(task: str, backbone: str, method: str | None) -> str:
    """The repo name (without namespace) of a head: ``headzoo-{task}-{backbone name}-{method}``.

    Raises:
        InvalidNameError: ``task`` or ``method`` is not a valid name.

    Example:
        >>> repo_name("rte", "FacebookAI/roberta-base", "lora")
        'headzoo-rte-roberta-base-lora'
    """
    validate_name(task, "task")
    base = Path(backbone).name if os.path.isabs(backbone) else backbone.rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base)
    name = f"headzoo-{task}-{base}-{validate_name(method or 'none', 'method')}"
    name = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", name)).strip(".-")
    return name[:96].rstrip(".-")


__all__ = [
    "BACKBONE_ID_PATTERN",
    "METHOD_PREFERENCE",
    "NAME_PATTERN",
    "REVISION_PATTERN",
    "backbone_slug",
    "is_backbone_id",
    "looks_like_repo_id",
    "repo_name",
    "validate_name",
    "validate_repo_id",
    "validate_revision",
]


#: The feature a head reads: the model's own ``*ForSequenceClassification`` path (BERT: the CLS token through
#: its pooler), or the sentence embedding the checkpoint declares (sentence-transformers' pooling).
SEQUENCE_CLASSIFICATION = "sequence-classification"
SENTENCE_EMBEDDING = "sentence-embedding"
FEATURES = (SEQUENCE_CLASSIFICATION, SENTENCE_EMBEDDING)


def validate_feature(feature: str | None) -> str | None:
    """A feature name (see :data:`FEATURES`), or None / ``"auto"`` for what the backbone declares.

    Raises:
        ConfigError: an unknown name; the message lists the known ones.

    Example:
        >>> validate_feature("sentence-embedding")
        'sentence-embedding'
        >>> validate_feature("auto") is None
        True
    """
    from .errors import ConfigError

    if feature is None or feature == "auto":
        return None
    if feature not in FEATURES:
        raise ConfigError(f"unknown feature {feature!r}; choose one of {', '.join(FEATURES)}, or 'auto' for what "
                          "the backbone declares")
    return feature
