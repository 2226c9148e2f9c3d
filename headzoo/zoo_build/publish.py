"""Publishing a zoo folder: its heads, and pushing every one of them to the Hub."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..files import HEAD_FILE
from ..naming import validate_name

__all__ = ["publish_zoo", "zoo_heads"]


def zoo_heads(zoo: str | os.PathLike[str] | None = None) -> list[Path]:
    """The head folders of a zoo folder (``<zoo>/heads/<backbone>/<task>/<method>``), sorted.

    Default: the user's zoo. Folders being written (names starting with ``.``) are skipped.

    Example:
        >>> zoo_heads("no-such-zoo")
        []
    """
    from ..zoo import zoo_home

    root = (Path(zoo).expanduser() if zoo is not None else zoo_home()) / "heads"
    if not root.is_dir():
        return []
    return [p.parent for p in sorted(root.glob(f"*/*/*/{HEAD_FILE}"))
            if not any(part.startswith(".") for part in p.parent.relative_to(root).parts)]


def publish_zoo(namespace: str, zoo: str | os.PathLike[str] | None = None, *, private: bool = False,
                token: str | None = None) -> list[str]:
    """Push every head of a zoo folder to ``namespace`` on the Hub (:func:`headzoo.hub.push_head`); return the URLs.

    Repo names follow the naming rule (``<namespace>/headzoo-<task>-<backbone>-<method>``), so
    ``load_head(task, backbone)`` finds them with ``HEADZOO_NAMESPACE=<namespace>``. Re-running
    a publish makes no new commits for heads already there.

    Args:
        namespace: the user or organisation.
        zoo: the zoo folder; default: the user's zoo. ``headzoo.zoo.shipped_zoo_root()`` is the shipped one.
        private: create the repos private.
        token: a Hub token (default: the standard login / ``HF_TOKEN``).

    Raises:
        ConfigError: the zoo folder holds no heads.
        HubError: no token, no write access, network failures.

    Example:
        >>> publish_zoo("me", "headzoo/zoo_data")  # doctest: +SKIP
        ['https://huggingface.co/me/headzoo-cb-all-MiniLM-L6-v2-bitfit/commit/...', ...]
    """
    from ..hub import push_head

    validate_name(namespace, "namespace")
    heads = zoo_heads(zoo)
    if not heads:
        where = str(zoo) if zoo is not None else "the user's zoo"
        raise ConfigError(f"no heads in {where!r} to publish; build them first with `headzoo zoo build`")
    return [push_head(path, namespace=namespace, private=private, token=token) for path in heads]
