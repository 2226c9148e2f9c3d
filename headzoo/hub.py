"""Share heads on the Hugging Face Hub: push, pull and search, through ``huggingface_hub``.

Naming rule: the head of ``task`` on ``backbone`` trained with ``method`` lives
in ``{namespace}/headzoo-{task}-{backbone name}-{method}``, e.g.
``headzoo/headzoo-rte-all-MiniLM-L6-v2-lora``. The namespace is the
``namespace`` argument, else ``$HEADZOO_NAMESPACE``, else (for pushes) the
token's user, else (for lookups) ``headzoo``.

Tokens come from the standard Hugging Face login (``hf auth login``) or
``HF_TOKEN``; the endpoint from ``HF_ENDPOINT``. Only the head files
(``head.safetensors``, ``head_config.json``, ``README.md``) are ever uploaded or
downloaded, and a repo holding pickle files is refused.

This module sits below :mod:`headzoo.head` (``Head.from_pretrained`` and
``Head.push_to_hub`` call it), so it never imports it: a head object is
anything with ``save(directory, card=...)``, as :class:`headzoo.Head` has.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backbone import BackboneRef, resolve_backbone
from .cards import render_card
from .errors import HeadNotFoundError, HeadzooError, HubError, HubUnreachableError, InvalidNameError, UnsafeFileError
from .files import CARD_FILE, HEAD_FILE, HEAD_FILES, PICKLE_SUFFIXES, read_head
from .head_config import CONFIG_FILE
from .naming import METHOD_PREFERENCE, repo_name, validate_name, validate_repo_id, validate_revision
from .zoo import add_to_zoo

logger = logging.getLogger(__name__)

#: Where lookups by (task, backbone) go when no namespace is set.
DEFAULT_NAMESPACE = "headzoo"


def default_repo_id(
    task: str, backbone: str, method: str | None, namespace: str | None = None, *, token: str | None = None
) -> str:
    """The repo id of a head under the naming rule.

    Args:
        task: task name.
        backbone: backbone id (only its last path component is used).
        method: stage-1 method.
        namespace: the user or organisation; else ``$HEADZOO_NAMESPACE``; else the token's user.
        token: a Hub token (for finding the user); defaults to the standard login.

    Example:
        >>> default_repo_id("rte", "FacebookAI/roberta-base", "lora", "me")
        'me/headzoo-rte-roberta-base-lora'
    """
    namespace = namespace or os.environ.get("HEADZOO_NAMESPACE")
    if not namespace:
        with _hub_errors("find your user name"):
            from huggingface_hub import HfApi

            namespace = HfApi(token=token).whoami()["name"]
    return validate_repo_id(f"{namespace}/{repo_name(task, backbone, method)}")


@contextmanager
def _hub_errors(action: str, repo_id: str | None = None, revision: str | None = None) -> Iterator[None]:
    """Turn ``huggingface_hub`` / HTTP errors into one-line :class:`HubError` messages with the fix."""
    from huggingface_hub import errors as hf_errors

    where = f" {repo_id!r}" if repo_id else ""
    try:
        yield
    except HeadzooError:
        raise
    except hf_errors.RevisionNotFoundError as exc:
        raise HubError(
            f"cannot {action}: revision {revision!r} of{where} does not exist; check `headzoo search` or the repo's "
            "branches and tags"
        ) from exc
    except hf_errors.EntryNotFoundError as exc:
        raise HubError(f"cannot {action}: a head file is missing from{where}; it is not a headzoo head") from exc
    except hf_errors.RepositoryNotFoundError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        hint = (
            "check the id; if it is private, log in with `hf auth login` or set HF_TOKEN"
            if status != 401 or _has_token()
            else "it may be private: log in with `hf auth login` or set HF_TOKEN"
        )
        raise HubError(f"cannot {action}: repo{where} not found on the Hub; {hint}") from exc
    except hf_errors.OfflineModeIsEnabled as exc:
        raise HubUnreachableError(
            f"cannot {action}: HF_HUB_OFFLINE=1 is set and this needs the network; unset it"
        ) from exc
    except hf_errors.LocalEntryNotFoundError as exc:
        raise HubUnreachableError(
            f"cannot {action}: the Hub cannot be reached and{where} is not in the local cache; "
            "connect to the network (or check HF_ENDPOINT) and try again"
        ) from exc
    except hf_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 401:
            raise HubError(
                f"cannot {action}: the Hub refused the credentials (401); "
                + ("the token is wrong or expired: log in again with `hf auth login` or fix HF_TOKEN"
                   if _has_token() else "log in with `hf auth login` or set HF_TOKEN")
            ) from exc
        if status == 403:
            raise HubError(
                f"cannot {action}: the token may not write to{where} (403); use a token with write access "
                "or a namespace you own (--namespace)"
            ) from exc
        raise HubError(f"cannot {action}: the Hub answered {status}: {_first_line(exc)}") from exc
    except (OSError, ConnectionError) as exc:
        raise HubUnreachableError(
            f"cannot {action}: the Hub at {_endpoint()} cannot be reached ({_first_line(exc)}); "
            "check the network or HF_ENDPOINT"
        ) from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("httpx", "httpcore", "requests", "urllib3")):
            raise HubUnreachableError(
                f"cannot {action}: the Hub at {_endpoint()} cannot be reached ({type(exc).__name__}); "
                "check the network or HF_ENDPOINT"
            ) from exc
        if type(exc).__name__ == "HFValidationError":
            raise InvalidNameError(f"cannot {action}: {_first_line(exc)}") from exc
        raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _has_token() -> bool:
    from huggingface_hub import get_token

    return bool(get_token())


def push_head(
    dir_or_head: str | os.PathLike[str] | Any,
    repo_id: str | None = None,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    namespace: str | None = None,
    token: str | None = None,
) -> str:
    """Upload a head (its three files, nothing else) to the Hub in one commit.

    Creates the repo (and the branch ``revision``) when needed. Re-running a
    push of the same files makes no new commit, so an interrupted push is
    completed by running it again.

    Args:
        dir_or_head: a head directory or a :class:`headzoo.Head` (``Head.push_to_hub`` passes itself).
        repo_id: target repo; defaults to the naming rule under ``namespace``.
        private: create the repo private.
        revision: a branch to push to (created from ``main`` when missing).
        commit_message: defaults to ``"Upload headzoo head (<task>, <method>)"``.
        namespace: user or organisation for the default repo id.
        token: a Hub token; defaults to the standard login / ``HF_TOKEN``.

    Returns:
        The URL of the commit.

    Raises:
        HubError: no or wrong token, no write access, network failures.
        HeadFormatError: the head is not valid (it is checked before anything is sent).

    Example:
        >>> push_head("~/.cache/headzoo/heads/.../rte/lora", namespace="me")  # doctest: +SKIP
        'https://huggingface.co/me/headzoo-rte-all-MiniLM-L6-v2-lora/commit/...'
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    with tempfile.TemporaryDirectory(prefix="headzoo-push-") as tmp:
        if hasattr(dir_or_head, "save") and hasattr(dir_or_head, "config"):  # a Head (head.py is not imported here)
            directory = dir_or_head.save(Path(tmp) / "head", card=False)
        else:
            directory = Path(dir_or_head).expanduser()
        _, config = read_head(directory)
        validate_revision(revision)
        repo_id = validate_repo_id(repo_id) if repo_id else default_repo_id(
            config.task, config.backbone, config.method, namespace, token=token
        )
        api = HfApi(token=token)
        if token is None and not _has_token():
            raise HubError("cannot push: no Hugging Face token; log in with `hf auth login` or set HF_TOKEN")
        card = render_card(config, repo_id=repo_id).encode("utf-8")
        operations = [
            CommitOperationAdd(HEAD_FILE, str(directory / HEAD_FILE)),
            CommitOperationAdd(CONFIG_FILE, str(directory / CONFIG_FILE)),
            CommitOperationAdd(CARD_FILE, card),
        ]
        with _hub_errors("push the head", repo_id, revision):
            api.create_repo(repo_id, private=private, exist_ok=True)
            if revision and revision != "main":
                api.create_branch(repo_id, branch=revision, exist_ok=True)
            info = api.create_commit(
                repo_id,
                operations=operations,
                commit_message=commit_message or f"Upload headzoo head ({config.task}, {config.method or 'none'})",
                revision=revision,
            )
    logger.info("pushed %s to %s", config.task, info.commit_url)
    return str(info.commit_url)


def pull_head(
    repo_id: str,
    revision: str | None = None,
    *,
    token: str | None = None,
    to_zoo: bool = False,
    overwrite: bool = False,
) -> Path:
    """Download a head's files (never a backbone) into the Hugging Face cache and return their folder.

    Works offline from the cache (``HF_HUB_OFFLINE=1``, or when the Hub cannot
    be reached: the cached copy is used and a warning says so). A repo that
    holds any pickle file is refused before anything is downloaded.

    Args:
        repo_id: the head's repo, ``namespace/name``.
        revision: branch, tag or commit sha.
        token: a Hub token for private repos.
        to_zoo: also copy the head into the local zoo (:func:`headzoo.zoo.add_to_zoo`), so
            ``load_head(task, backbone)`` finds it.
        overwrite: replace a different head already at that zoo place.

    Returns:
        The folder holding ``head.safetensors``, ``head_config.json`` and ``README.md``: the zoo
        folder the head was installed into when ``to_zoo``, else the folder in the Hugging Face cache.

    Raises:
        HubUnreachableError: the Hub cannot be reached and no copy is in the cache.
        HubError: repo or revision not found, auth, a corrupted download.
        HeadExistsError: ``to_zoo`` and the zoo holds a different head there; pass ``overwrite=True``.
        UnsafeFileError: the repo holds pickle files.
        HeadFormatError: the downloaded files are not a valid head.

    Example:
        >>> path = pull_head("headzoo/headzoo-rte-all-MiniLM-L6-v2-lora")  # doctest: +SKIP
        >>> zoo_dir = pull_head("headzoo/headzoo-rte-all-MiniLM-L6-v2-lora", to_zoo=True)  # doctest: +SKIP
    """
    from huggingface_hub import HfApi, constants, snapshot_download

    validate_repo_id(repo_id)
    validate_revision(revision)
    offline = constants.is_offline_mode()
    path: Path | None = None
    if not offline:
        try:
            with _hub_errors("pull the head", repo_id, revision):
                api = HfApi(token=token)
                info = api.model_info(repo_id, revision=revision, files_metadata=True)
                files = [s.rfilename for s in info.siblings or []]
                _refuse_pickles(repo_id, files)
                missing = [f for f in (HEAD_FILE, CONFIG_FILE) if f not in files]
                if missing:
                    raise HeadNotFoundError(
                        f"{repo_id!r} is not a headzoo head: it has no {', '.join(missing)}"
                    )
                path = Path(snapshot_download(repo_id, revision=revision, allow_patterns=list(HEAD_FILES),
                                              token=token))
                if info.sha and path.name != info.sha:  # a commit landed in between: check against that one
                    info = api.model_info(repo_id, revision=path.name, files_metadata=True)
                _verify_download(repo_id, path, info.siblings or [])
        except HubUnreachableError as exc:
            logger.warning("%s; trying the local cache", exc)
    if path is None:
        try:
            with _hub_errors("pull the head from the cache", repo_id, revision):
                path = Path(snapshot_download(repo_id, revision=revision, allow_patterns=list(HEAD_FILES),
                                              local_files_only=True))
        except HubError as exc:
            raise HubUnreachableError(
                f"cannot pull {repo_id!r}"
                + (f" at {revision!r}" if revision else "")
                + ": the Hub cannot be reached"
                + (" (HF_HUB_OFFLINE=1)" if offline else "")
                + " and no copy is in the local cache; pull it once online"
            ) from exc
        logger.warning("using the cached copy of %s (the Hub was not asked)", repo_id)
        _refuse_pickles(repo_id, [p.name for p in path.iterdir()])
        _verify_cached(repo_id, path)
    read_head(path)  # validates what arrived: size, format, NaN; an HTML page is not a head
    if to_zoo:
        return add_to_zoo(path, overwrite=overwrite)
    return path


def _verify_download(repo_id: str, path: Path, siblings: list[Any]) -> None:
    """Each downloaded file must have the size and hash the Hub's file listing announced; else it is evicted."""
    announced = {s.rfilename: s for s in siblings}
    for name in HEAD_FILES:
        file, sibling = path / name, announced.get(name)
        if sibling is None or not file.is_file():
            continue
        data = file.read_bytes()
        lfs = getattr(sibling, "lfs", None)
        if lfs:
            size, digest, kind, got = lfs.size, lfs.sha256, "sha256", hashlib.sha256(data).hexdigest()
        else:
            size, digest, kind, got = sibling.size, sibling.blob_id, "git sha1", _git_blob_sha1(data)
        wrong = []
        if size is not None and len(data) != size:
            wrong.append(f"{len(data)} bytes instead of {size}")
        if digest and got != digest:
            wrong.append(f"{kind} {got[:12]}... instead of {digest[:12]}...")
        if wrong:
            _evict(file)
            raise HubError(
                f"the Hub sent {name} of {repo_id!r} with {' and '.join(wrong)} (what its file list announced)"
                + (" and it looks like an HTML page" if data.lstrip()[:1] == b"<" else "")
                + "; the download was corrupted or replaced on the way (a proxy or captive portal?), so it was "
                "deleted from the cache: pull again, or check HF_ENDPOINT"
            )


def _verify_cached(repo_id: str, path: Path) -> None:
    """A cached file is named after its hash (git sha1 or sha256): check the content still has it."""
    for name in HEAD_FILES:
        file = path / name
        if not file.is_file():
            continue
        blob = file.resolve().name
        if re.fullmatch(r"[0-9a-f]{64}", blob):
            got = hashlib.sha256(file.read_bytes()).hexdigest()
        elif re.fullmatch(r"[0-9a-f]{40}", blob):
            got = _git_blob_sha1(file.read_bytes())
        else:
            continue
        if got != blob:
            _evict(file)
            raise HubError(
                f"the cached copy of {name} of {repo_id!r} is corrupt (its content no longer matches its hash "
                f"{blob[:12]}...); it was deleted: pull {repo_id!r} again online"
            )


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _evict(file: Path) -> None:
    """Delete a snapshot file and the cache blob it points to, so the next pull downloads it again."""
    blob = file.resolve()
    file.unlink(missing_ok=True)
    if blob != file:
        blob.unlink(missing_ok=True)


def _refuse_pickles(repo_id: str, files: list[str]) -> None:
    pickles = sorted(f for f in files if Path(f).suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise UnsafeFileError(
            f"{repo_id!r} holds pickle file(s) {pickles}; headzoo never downloads or loads pickle. "
            "Ask the publisher to push a safetensors head with `headzoo push`"
        )


@dataclass(frozen=True)
class HubHead:
    """A head found on the Hub by :func:`search_heads`."""

    repo_id: str
    task: str | None
    backbone: str | None
    method: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    last_modified: str | None = None
    downloads: int | None = None


def _tag_value(tags: list[str], key: str) -> str | None:
    for tag in tags:
        if tag.startswith(key + ":"):
            return tag[len(key) + 1:]
    return None


def search_heads(
    task: str | None = None,
    backbone: str | None = None,
    method: str | None = None,
    author: str | None = None,
    *,
    limit: int = 100,
    token: str | None = None,
) -> list[HubHead]:
    """List heads on the Hub by their tags, with their headline metrics.

    Example:
        >>> [h.repo_id for h in search_heads(task="rte")]  # doctest: +SKIP
        ['headzoo/headzoo-rte-all-MiniLM-L6-v2-lora']
    """
    from huggingface_hub import HfApi

    for value, what in ((task, "task"), (method, "method"), (author, "author")):
        if value:
            validate_name(value.lower() if what == "task" else value, what)
    tags = ["headzoo"]
    if task:
        tags.append(f"task:{task.lower()}")
    if method:
        tags.append(f"pet:{method}")
    if backbone:
        tags.append(f"backbone:{resolve_backbone(backbone).id}")
    out = []
    with _hub_errors("search the Hub"):
        for info in HfApi(token=token).list_models(filter=tags, author=author, cardData=True, limit=limit):
            card = getattr(info, "card_data", None)
            metrics: dict[str, float] = {}
            for result in getattr(card, "eval_results", None) or []:
                if isinstance(result.metric_value, (int, float)):
                    metrics[result.metric_type] = float(result.metric_value)
            info_tags = list(info.tags or [])
            modified = getattr(info, "last_modified", None)
            out.append(
                HubHead(
                    repo_id=info.id,
                    task=_tag_value(info_tags, "task"),
                    backbone=_tag_value(info_tags, "backbone"),
                    method=_tag_value(info_tags, "pet"),
                    metrics=metrics,
                    last_modified=modified.isoformat() if hasattr(modified, "isoformat") else modified,
                    downloads=getattr(info, "downloads", None),
                )
            )
    return out


def find_on_hub(
    task: str, backbone: BackboneRef, *, method: str | None = None, revision: str | None = None
) -> Path | None:
    """Pull the head of (task, backbone[, method]) under the naming rule, or return None.

    Tries the methods of :data:`headzoo.naming.METHOD_PREFERENCE` in order when
    ``method`` is None. Falls back to the local cache when the Hub cannot be reached.

    Example:
        >>> find_on_hub("rte", resolve_backbone("minilm"))  # doctest: +SKIP
        PosixPath('.../snapshots/<sha>')
    """
    namespace = os.environ.get("HEADZOO_NAMESPACE") or DEFAULT_NAMESPACE
    for candidate in [method] if method else list(METHOD_PREFERENCE):
        repo_id = f"{namespace}/{repo_name(task, backbone.id, candidate)}"
        try:
            return pull_head(repo_id, revision=revision)
        except HubError as exc:
            logger.debug("no head at %s: %s", repo_id, exc)
            continue
    return None


__all__ = [
    "DEFAULT_NAMESPACE",
    "HubHead",
    "default_repo_id",
    "find_on_hub",
    "pull_head",
    "push_head",
    "search_heads",
]
