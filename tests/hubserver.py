"""A small, in-process fake of the Hugging Face Hub HTTP API, for tests.

`HubServer` speaks enough of the Hub protocol for the real `huggingface_hub`
client (pointed at it with `endpoint=server.url` or `HF_ENDPOINT`) to create and
delete repos, upload through the NDJSON commit endpoint, read repo metadata,
list trees, refs and commits, and download files (with `Range` support).

All files are stored as regular git blobs: `preupload` always answers
`"uploadMode": "regular"`, so uploads never go through LFS or Xet. Blob contents
live in a temporary directory (content-addressed by sha256); the commit graph
(repos -> branches/tags -> commits, each commit a full snapshot path -> blob)
is kept in memory. Only the standard library and PyYAML are used.

Test hooks: `fail_next` / `truncate_next` for fault injection, `requests` (a
log of every request served), `commit_count`, and `seed_repo` / `read_file` /
`list_files` / `head` to arrange and inspect state without going through HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

__all__ = ["Commit", "HubError", "HubServer", "LoggedRequest", "Repo", "new_token", "parse_card_metadata"]

# URL segment (as in /api/models/...) -> repo type, and the reverse prefix for web URLs.
_API_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_WEB_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_WEB_TYPES = {"datasets": "dataset", "spaces": "space"}

# Same regex as `huggingface_hub.repocard.REGEX_YAML_BLOCK`.
_YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
_REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_SHA_PREFIX = re.compile(r"^[0-9a-f]{7,40}$")

# What the Hub puts in the `.gitattributes` of a new repo (abridged).
_GITATTRIBUTES = b"""\
*.bin filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.gguf filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
"""

_INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


# --------------------------------------------------------------------------- data model


@dataclass
class Commit:
    """One commit: a full snapshot of the repo (path -> sha256 of the blob)."""

    sha: str
    parent: str | None
    files: dict[str, str]
    title: str
    message: str
    author: str
    timestamp: float


@dataclass
class Repo:
    """A repository with its commit graph and refs."""

    repo_type: str
    repo_id: str
    private: bool
    created_at: float
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        """Owner (user or org) of the repo."""
        return self.repo_id.split("/", 1)[0]


@dataclass
class LoggedRequest:
    """One served request, as recorded in `HubServer.requests`."""

    method: str
    path: str  # percent-decoded path, without the query string
    query: dict[str, list[str]]
    status: int  # 0 when the connection was dropped on purpose
    user: str | None
    target: str  # raw request target, as sent by the client
    headers: dict[str, str]  # request headers (the Authorization value is masked)


@dataclass
class _Fault:
    substring: str
    method: str | None
    remaining: int
    status: int = 500
    error_code: str | None = None
    message: str | None = None
    disconnect: bool = False
    truncate_at: int | None = None

    def matches(self, method: str, target: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.substring in target or self.substring in path


class HubError(Exception):
    """An error answer: status, message and optional `X-Error-Code`."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # more fields for the JSON body


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate_at: int | None = None


@dataclass
class _Request:
    method: str
    target: str
    segments: list[str]  # raw (still percent-encoded) path segments
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    user: str | None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() in ("1", "true", "yes")

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise HubError(400, f"Invalid JSON body: {err}") from err


# --------------------------------------------------------------------------- helpers


def _iso(ts: float) -> str:
    """Format a POSIX timestamp the way the Hub does (`2024-01-02T03:04:05.000Z`)."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _git_blob_sha1(data: bytes) -> str:
    """Git object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _json_response(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Response:
    body = json.dumps(obj, default=str).encode()
    return _Response(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def _error_response(err: HubError) -> _Response:
    headers = {"X-Error-Message": err.message, **err.headers}
    if err.code is not None:
        headers["X-Error-Code"] = err.code
    return _json_response({"error": err.message, **err.extra}, err.status, headers)


def parse_card_metadata(text: str) -> dict[str, Any] | None:
    """Return the YAML front matter of a model card, or None when there is none.

    Raises `ValueError` when the front matter is not valid YAML or not a mapping.
    """
    match = _YAML_BLOCK.search(text)
    if match is None:
        return None
    try:
        data = yaml.safe_load(match.group(2))
    except yaml.YAMLError as err:
        raise ValueError(f"Invalid YAML in README.md metadata: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("README.md metadata must be a YAML mapping")
    return data


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _derived_tags(card: Mapping[str, Any] | None) -> list[str]:
    """Tags like the Hub computes them from card metadata (library, tags, pipeline, languages, ...)."""
    card = card or {}
    tags: list[str] = []
    tags += _as_list(card.get("library_name"))
    tags += _as_list(card.get("tags"))
    tags += _as_list(card.get("pipeline_tag"))
    tags += [f"dataset:{d}" for d in _as_list(card.get("datasets"))]
    tags += _as_list(card.get("language"))
    tags += [f"base_model:{b}" for b in _as_list(card.get("base_model"))]
    tags += [f"license:{lic}" for lic in _as_list(card.get("license"))]
    tags.append("region:us")
    return list(dict.fromkeys(tags))


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "HubServer/1.0"
    timeout = 60  # idle keep-alive connections are dropped after this
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid the 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        self.server.hub._handle(self)  # type: ignore[attr-defined]

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr logging; see `HubServer.requests`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], hub: HubServer) -> None:
        super().__init__(address, _Handler)
        self.hub = hub


# --------------------------------------------------------------------------- the server


class HubServer:
    """Fake Hugging Face Hub on 127.0.0.1, served from a background thread.

    Args:
        host: interface to bind (default loopback).
        port: TCP port; 0 picks a free one.
        storage_dir: where blobs are written; default a fresh temporary directory, removed by `stop()`.
        etag: what the `ETag` of a download is: `"sha256"` of the content (default), or `"git"`, the git blob
            sha1 the real Hub sends for non-LFS files. The client names cache blobs after it either way.
        gitattributes: give new repos an initial commit holding a `.gitattributes`, like the Hub does
            (otherwise the initial commit is empty).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        storage_dir: str | Path | None = None,
        etag: Literal["sha256", "git"] = "sha256",
        gitattributes: bool = True,
    ) -> None:
        if etag not in ("sha256", "git"):
            raise ValueError(f"etag must be 'sha256' or 'git', not {etag!r}")
        self.host = host
        self.port = port
        self.etag_mode = etag
        self.gitattributes = gitattributes
        self._given_storage = Path(storage_dir) if storage_dir is not None else None
        self._storage: Path | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._tokens: dict[str, tuple[str, str]] = {}  # token -> (user, role)
        self._orgs: dict[str, set[str]] = {}  # user -> orgs
        self._repos: dict[tuple[str, str], Repo] = {}
        self._blobs: dict[str, tuple[int, str]] = {}  # sha256 -> (size, git sha1)
        self._commit_counts: dict[tuple[str, str], int] = {}
        self._faults: list[_Fault] = []
        self._log: list[LoggedRequest] = []
        self._counter = itertools.count()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HubServer:
        """Bind the socket and serve in a daemon thread. Returns self."""
        if self._httpd is not None:
            raise RuntimeError("HubServer already started")
        if self._given_storage is not None:
            self._storage = self._given_storage
            self._storage.mkdir(parents=True, exist_ok=True)
        else:
            self._storage = Path(tempfile.mkdtemp(prefix="hubserver-"))
        (self._storage / "blobs").mkdir(exist_ok=True)
        self._httpd = _Server((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hubserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the temporary storage (if it was created by `start`)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._storage is not None and self._given_storage is None:
            shutil.rmtree(self._storage, ignore_errors=True)
        self._storage = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to use as `endpoint=` / `HF_ENDPOINT`, e.g. `http://127.0.0.1:PORT`."""
        if self._httpd is None:
            raise RuntimeError("HubServer not started")
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ users

    def add_user(
        self, name: str, token: str, orgs: Iterable[str] = (), role: Literal["write", "read"] = "write"
    ) -> None:
        """Register `token` for user `name` (member of `orgs`). A "read" token gets 403 on writes.

        Calling it again for the same user adds another token and more orgs.
        """
        with self._lock:
            self._tokens[token] = (name, role)
            self._orgs.setdefault(name, set()).update(orgs)

    # ------------------------------------------------------------------ test hooks

    def fail_next(
        self,
        path_substring: str,
        status: int = 500,
        count: int = 1,
        *,
        method: str | None = None,
        error_code: str | None = None,
        message: str | None = None,
        disconnect: bool = False,
    ) -> None:
        """Make the next `count` requests whose target contains `path_substring` fail.

        The match is against the raw request target (with query string) and its percent-decoded path;
        `method` restricts it to one HTTP method. The failure answers `status` with a JSON error (and
        `X-Error-Code: error_code` if given), or, with `disconnect=True`, closes the connection without
        answering. The request body is consumed and nothing else happens (no state change).
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    path_substring,
                    method,
                    count,
                    status=status,
                    error_code=error_code,
                    message=message,
                    disconnect=disconnect,
                )
            )

    def truncate_next(self, path_substring: str, keep_bytes: int, count: int = 1) -> None:
        """Answer the next `count` matching GETs normally but cut the body after `keep_bytes` bytes.

        The announced `Content-Length` stays the full length and the connection is closed, as when a
        download is interrupted mid-way.
        """
        with self._lock:
            self._faults.append(_Fault(path_substring, "GET", count, truncate_at=keep_bytes))

    def clear_faults(self) -> None:
        """Forget pending `fail_next` / `truncate_next` faults."""
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of the log of served requests, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._log.clear()

    def commit_count(self, repo_id: str, repo_type: str = "model") -> int:
        """Number of commits received through the commit endpoint for this repo since the server started.

        Neither the repo's initial commit nor `seed_repo` commits count; the count survives deletion.
        """
        with self._lock:
            return self._commit_counts.get((repo_type, repo_id), 0)

    def seed_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        *,
        repo_type: str = "model",
        private: bool = False,
        branch: str = "main",
        message: str = "Seed files",
        author: str | None = None,
        delete: Iterable[str] = (),
    ) -> str:
        """Create the repo if needed and commit `files` (and deletions) on `branch`, bypassing HTTP.

        A missing `branch` is created from `main`. Returns the new commit sha.
        """
        with self._lock:
            repo = self._repos.get((repo_type, repo_id))
            if repo is None:
                repo = self._new_repo(repo_type, repo_id, private, author or repo_id.split("/")[0])
            if branch not in repo.branches:
                repo.branches[branch] = repo.branches["main"]
            snapshot = dict(repo.commits[repo.branches[branch]].files)
            for path in delete:
                snapshot.pop(path, None)
            for path, content in files.items():
                data = content.encode() if isinstance(content, str) else content
                snapshot[path] = self._store_blob(data)
            commit = self._make_commit(repo, repo.branches[branch], snapshot, message, "", author or repo.namespace)
            repo.branches[branch] = commit.sha
            return commit.sha

    def repo_exists(self, repo_id: str, repo_type: str = "model") -> bool:
        """Whether the repo exists (regardless of visibility)."""
        with self._lock:
            return (repo_type, repo_id) in self._repos

    def head(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> str:
        """Commit sha that `revision` (branch, tag or sha) resolves to. Raises KeyError."""
        with self._lock:
            return self._resolve(self._repo_or_keyerror(repo_type, repo_id), revision).sha

    def list_files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> list[str]:
        """Sorted paths of the files at `revision`. Raises KeyError."""
        with self._lock:
            return sorted(self._resolve(self._repo_or_keyerror(repo_type, repo_id), revision).files)

    def read_file(self, repo_id: str, path: str, revision: str = "main", repo_type: str = "model") -> bytes:
        """Content of `path` at `revision`. Raises KeyError."""
        with self._lock:
            commit = self._resolve(self._repo_or_keyerror(repo_type, repo_id), revision)
            return self._read_blob(commit.files[path])

    def commits(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> list[Commit]:
        """History of `revision`, newest first. Raises KeyError."""
        with self._lock:
            repo = self._repo_or_keyerror(repo_type, repo_id)
            return self._history(repo, self._resolve(repo, revision))

    def reset(self) -> None:
        """Drop all repos, faults, counters and the request log (users are kept)."""
        with self._lock:
            self._repos.clear()
            self._commit_counts.clear()
            self._faults.clear()
            self._log.clear()

    # ------------------------------------------------------------------ storage

    def _store_blob(self, data: bytes) -> str:
        assert self._storage is not None, "HubServer not started"
        key = hashlib.sha256(data).hexdigest()
        if key not in self._blobs:
            path = self._storage / "blobs" / key
            tmp = path.with_suffix(f".tmp{next(self._counter)}")
            tmp.write_bytes(data)
            tmp.replace(path)
            self._blobs[key] = (len(data), _git_blob_sha1(data))
        return key

    def _read_blob(self, key: str) -> bytes:
        assert self._storage is not None, "HubServer not started"
        return (self._storage / "blobs" / key).read_bytes()

    def _blob_size(self, key: str) -> int:
        return self._blobs[key][0]

    def _blob_oid(self, key: str) -> str:
        return self._blobs[key][1]

    def _new_repo(self, repo_type: str, repo_id: str, private: bool, author: str) -> Repo:
        repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private, created_at=time.time())
        files = {".gitattributes": self._store_blob(_GITATTRIBUTES)} if self.gitattributes else {}
        commit = self._make_commit(repo, None, files, "initial commit", "", author)
        repo.branches["main"] = commit.sha
        self._repos[(repo_type, repo_id)] = repo
        return repo

    def _make_commit(
        self, repo: Repo, parent: str | None, files: dict[str, str], title: str, message: str, author: str
    ) -> Commit:
        ts = time.time()
        seed = json.dumps(
            [repo.repo_id, parent, sorted(files.items()), title, message, author, ts, next(self._counter)]
        )
        commit = Commit(hashlib.sha1(seed.encode()).hexdigest(), parent, files, title, message, author, ts)
        repo.commits[commit.sha] = commit
        return commit

    def _repo_or_keyerror(self, repo_type: str, repo_id: str) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None:
            raise KeyError(f"{repo_type} repo {repo_id!r} does not exist")
        return repo

    def _try_resolve(self, repo: Repo, revision: str) -> Commit | None:
        rev = revision
        for prefix, refs in (("refs/heads/", repo.branches), ("refs/tags/", repo.tags)):
            if rev.startswith(prefix) and rev[len(prefix) :] in refs:
                return repo.commits[refs[rev[len(prefix) :]]]
        if rev in repo.branches:
            return repo.commits[repo.branches[rev]]
        if rev in repo.tags:
            return repo.commits[repo.tags[rev]]
        if rev in repo.commits:
            return repo.commits[rev]
        if _SHA_PREFIX.match(rev):
            found = [c for sha, c in repo.commits.items() if sha.startswith(rev)]
            if len(found) == 1:
                return found[0]
        return None

    def _resolve(self, repo: Repo, revision: str) -> Commit:
        commit = self._try_resolve(repo, revision)
        if commit is None:
            raise KeyError(f"revision {revision!r} not found in {repo.repo_id}")
        return commit

    def _history(self, repo: Repo, commit: Commit) -> list[Commit]:
        out = [commit]
        while out[-1].parent is not None:
            out.append(repo.commits[out[-1].parent])
        return out

    def _last_commit_touching(self, repo: Repo, head: Commit, path: str) -> Commit:
        """Most recent commit in `head`'s history that changed `path` (file or folder)."""

        def state(c: Commit) -> list[tuple[str, str]]:
            return sorted((p, k) for p, k in c.files.items() if p == path or p.startswith(path + "/"))

        history = self._history(repo, head)
        for commit, parent in itertools.pairwise(history):
            if state(commit) != state(parent):
                return commit
        return history[-1]

    # ------------------------------------------------------------------ auth

    def _user_for(self, headers: Mapping[str, str]) -> str | None:
        auth = headers.get("Authorization")
        if not auth:
            return None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self._tokens:
            raise HubError(401, _INVALID_CREDENTIALS)
        return self._tokens[token.strip()][0]

    def _require_user(self, req: _Request) -> str:
        if req.user is None:
            raise HubError(401, "Invalid username or password.")
        return req.user

    def _is_member(self, user: str | None, namespace: str) -> bool:
        return user is not None and (user == namespace or namespace in self._orgs.get(user, set()))

    def _require_write(self, req: _Request, namespace: str) -> str:
        user = self._require_user(req)
        token = (req.headers.get("Authorization") or "").partition(" ")[2].strip()
        if self._tokens[token][1] != "write":
            raise HubError(403, "You don't have write permission with this token (read-only access token).")
        if not self._is_member(user, namespace):
            raise HubError(403, f"You don't have the rights to write in namespace {namespace!r}.")
        return user

    def _visible_repo(self, req: _Request, repo_type: str, repo_id: str) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not self._is_member(req.user, repo.namespace)):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _commit_at(self, repo: Repo, revision: str) -> Commit:
        commit = self._try_resolve(repo, revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    # ------------------------------------------------------------------ request handling

    def _handle(self, handler: _Handler) -> None:
        method = handler.command
        target = handler.path
        body = self._read_body(handler)
        split = urlsplit(target)
        segments = [s for s in split.path.split("/") if s != ""]
        query = parse_qs(split.query, keep_blank_values=True)
        decoded_path = unquote(split.path)
        user: str | None = None
        response: _Response | None
        try:
            with self._lock:
                fault = self._take_fault(method, target, decoded_path)
                if fault is not None and fault.truncate_at is None:
                    response = None if fault.disconnect else self._fault_response(fault)
                else:
                    user = self._user_for(handler.headers)
                    req = _Request(method, target, segments, query, handler.headers, body, user)
                    response = self._route(req)
                    if fault is not None and fault.truncate_at is not None:
                        response.truncate_at = fault.truncate_at
        except HubError as err:
            response = _error_response(err)
        except Exception as err:  # a bug in the fake: answer 500 rather than hang the client
            response = _json_response({"error": f"HubServer internal error: {err!r}"}, 500)
        with self._lock:
            status = response.status if response is not None else 0
            logged_headers = {k: ("***" if k.lower() == "authorization" else v) for k, v in handler.headers.items()}
            self._log.append(LoggedRequest(method, decoded_path, query, status, user, target, logged_headers))
        if response is None:
            handler.close_connection = True
            return
        self._write(handler, response)

    @staticmethod
    def _read_body(handler: _Handler) -> bytes:
        """Read the whole request body (Content-Length or chunked), so keep-alive stays in sync."""
        if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
            return b"".join(chunks)
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length > 0 else b""

    def _take_fault(self, method: str, target: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, target, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_response(fault: _Fault) -> _Response:
        err = HubError(fault.status, fault.message or f"Injected failure (HTTP {fault.status})", fault.error_code)
        return _error_response(err)

    @staticmethod
    def _write(handler: _Handler, response: _Response) -> None:
        body = response.body
        try:
            handler.send_response(response.status)
            headers = {"Content-Length": str(len(body)), **response.headers}
            for key, value in headers.items():
                # http.server writes headers as latin-1: escape anything else (and any line break).
                safe = str(value).encode("ascii", "backslashreplace").decode().replace("\r", " ").replace("\n", " ")
                handler.send_header(key, safe)
            if response.truncate_at is not None:
                handler.send_header("Connection", "close")
            handler.end_headers()
            if handler.command != "HEAD":
                if response.truncate_at is not None:
                    handler.wfile.write(body[: response.truncate_at])
                    handler.wfile.flush()
                    handler.close_connection = True
                    try:
                        handler.connection.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    # ------------------------------------------------------------------ routing

    def _route(self, req: _Request) -> _Response:
        seg = req.segments
        if seg[:1] == ["api"]:
            rest = seg[1:]
            if rest == ["whoami-v2"] and req.method == "GET":
                return self._whoami(req)
            if rest == ["repos", "create"] and req.method == "POST":
                return self._create_repo(req)
            if rest == ["repos", "delete"] and req.method == "DELETE":
                return self._delete_repo(req)
            if rest == ["validate-yaml"] and req.method == "POST":
                return self._validate_yaml(req)
            if len(rest) == 1 and rest[0] in _API_TYPES and req.method == "GET":
                return self._list_repos(req, _API_TYPES[rest[0]])
            if len(rest) >= 3 and rest[0] in _API_TYPES:
                repo_id = f"{unquote(rest[1])}/{unquote(rest[2])}"
                return self._repo_api(req, _API_TYPES[rest[0]], repo_id, rest[3:])
            raise HubError(404, "Not Found")
        repo_type = "model"
        if seg[:1] and seg[0] in _WEB_TYPES:
            repo_type, seg = _WEB_TYPES[seg[0]], seg[1:]
        if len(seg) >= 4 and seg[2] == "resolve" and req.method in ("GET", "HEAD"):
            return self._resolve_file(req, repo_type, f"{unquote(seg[0])}/{unquote(seg[1])}", seg[3:])
        raise HubError(404, "Not Found")

    def _repo_api(self, req: _Request, repo_type: str, repo_id: str, rest: list[str]) -> _Response:
        method = req.method
        action = rest[0] if rest else ""
        joined = unquote("/".join(rest[1:]))  # a revision / branch / tag, which may contain "/"
        if action == "" and method == "GET":
            return self._repo_info(req, repo_type, repo_id, None)
        if action == "revision" and method == "GET" and joined:
            return self._repo_info(req, repo_type, repo_id, joined)
        if action == "tree" and method == "GET" and len(rest) >= 2:
            return self._tree(req, repo_type, repo_id, unquote(rest[1]), unquote("/".join(rest[2:])))
        if action == "paths-info" and method == "POST" and joined:
            return self._paths_info(req, repo_type, repo_id, joined)
        if action == "preupload" and method == "POST" and joined:
            return self._preupload(req, repo_type, repo_id, joined)
        if action == "commit" and method == "POST" and joined:
            return self._commit(req, repo_type, repo_id, joined)
        if action == "branch" and method in ("POST", "DELETE") and joined:
            return self._branch(req, repo_type, repo_id, joined)
        if action == "tag" and method in ("POST", "DELETE") and joined:
            return self._tag(req, repo_type, repo_id, joined)
        if action == "refs" and method == "GET" and len(rest) == 1:
            return self._refs(req, repo_type, repo_id)
        if action == "commits" and method == "GET" and joined:
            return self._list_commits(req, repo_type, repo_id, joined)
        if action == "settings" and method == "PUT" and len(rest) == 1:
            return self._settings(req, repo_type, repo_id)
        raise HubError(404, "Not Found")

    # ------------------------------------------------------------------ endpoints: account & repos

    def _whoami(self, req: _Request) -> _Response:
        user = self._require_user(req)
        token = (req.headers.get("Authorization") or "").partition(" ")[2].strip()
        role = self._tokens[token][1]
        orgs = sorted(self._orgs.get(user, set()))
        return _json_response(
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "email": f"{user}@example.com",
                "emailVerified": True,
                "canPay": False,
                "isPro": False,
                "periodEnd": None,
                "avatarUrl": "",
                "orgs": [
                    {
                        "type": "org",
                        "id": hashlib.sha1(o.encode()).hexdigest()[:24],
                        "name": o,
                        "fullname": o,
                        "roleInOrg": "admin",
                    }
                    for o in orgs
                ],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "hubserver", "role": role, "createdAt": _iso(0)},
                },
            }
        )

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self.url}/{_WEB_PREFIX[repo_type]}{repo_id}"

    def _create_repo(self, req: _Request) -> _Response:
        user = self._require_user(req)
        payload = req.json()
        name = payload.get("name")
        namespace = payload.get("organization") or user
        repo_type = payload.get("type") or "model"
        if repo_type not in _WEB_PREFIX:
            raise HubError(400, f"Invalid repo type: {repo_type}")
        if not isinstance(name, str) or not _REPO_NAME.match(name) or name.endswith(".git") or ".." in name:
            raise HubError(400, f"Invalid repo name: {name!r}")
        self._require_write(req, namespace)
        repo_id = f"{namespace}/{name}"
        url = self._repo_url(repo_type, repo_id)
        if (repo_type, repo_id) in self._repos:
            # The client reads `url` from this 409 body when create_repo(exist_ok=True).
            raise HubError(409, f"You already created this {repo_type} repo", extra={"url": url})
        private = payload.get("visibility") == "private" or payload.get("private") is True
        self._new_repo(repo_type, repo_id, private, user)
        return _json_response({"url": url, "name": repo_id, "id": hashlib.sha1(url.encode()).hexdigest()[:24]})

    def _delete_repo(self, req: _Request) -> _Response:
        user = self._require_user(req)
        payload = req.json()
        namespace = payload.get("organization") or user
        repo_type = payload.get("type") or "model"
        repo_id = f"{namespace}/{payload.get('name')}"
        self._visible_repo(req, repo_type, repo_id)
        self._require_write(req, namespace)
        del self._repos[(repo_type, repo_id)]
        return _json_response({})

    def _settings(self, req: _Request, repo_type: str, repo_id: str) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        self._require_write(req, repo.namespace)
        payload = req.json()
        if "visibility" in payload:
            repo.private = payload["visibility"] == "private"
        elif "private" in payload:
            repo.private = bool(payload["private"])
        return _json_response({})

    def _validate_yaml(self, req: _Request) -> _Response:
        content = req.json().get("content") or ""
        try:
            parse_card_metadata(content)
        except ValueError as err:
            return _json_response({"errors": [{"message": str(err)}], "warnings": []}, 400)
        return _json_response({"errors": [], "warnings": []})

    # ------------------------------------------------------------------ endpoints: reading

    def _card(self, commit: Commit) -> dict[str, Any] | None:
        key = commit.files.get("README.md")
        if key is None:
            return None
        try:
            return parse_card_metadata(self._read_blob(key).decode("utf-8", errors="replace"))
        except ValueError:
            return None

    def _info_dict(
        self,
        repo: Repo,
        commit: Commit,
        *,
        full: bool = True,
        card_data: bool = True,
        blobs: bool = False,
    ) -> dict[str, Any]:
        card = self._card(commit)
        info: dict[str, Any] = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "private": repo.private,
            "likes": 0,
            "downloads": 0,
            "trendingScore": 0,
            "tags": _derived_tags(card),
            "createdAt": _iso(repo.created_at),
        }
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
            if card and card.get("pipeline_tag"):
                info["pipeline_tag"] = card["pipeline_tag"]
            if card and card.get("library_name"):
                info["library_name"] = card["library_name"]
        if full:
            info.update(
                author=repo.namespace,
                sha=commit.sha,
                lastModified=_iso(commit.timestamp),
                gated=False,
                disabled=False,
                usedStorage=sum(self._blob_size(k) for k in set(commit.files.values())),
            )
            siblings = []
            for path in sorted(commit.files):
                sibling: dict[str, Any] = {"rfilename": path}
                if blobs:
                    key = commit.files[path]
                    sibling.update(size=self._blob_size(key), blobId=self._blob_oid(key))
                siblings.append(sibling)
            info["siblings"] = siblings
            if repo.repo_type == "model":
                info["spaces"] = []
        if card_data and card is not None:
            info["cardData"] = card
        return info

    def _repo_info(self, req: _Request, repo_type: str, repo_id: str, revision: str | None) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        commit = self._commit_at(repo, revision or "main")
        return _json_response(self._info_dict(repo, commit, blobs=req.flag("blobs")))

    def _list_repos(self, req: _Request, repo_type: str) -> _Response:
        search = (req.param("search") or "").lower()
        author = req.param("author")
        filters = [f for value in req.query.get("filter", []) for f in value.split(",") if f]
        full = req.flag("full")
        card_data = req.flag("cardData")
        items = []
        for repo in list(self._repos.values()):
            if repo.repo_type != repo_type:
                continue
            if repo.private and not self._is_member(req.user, repo.namespace):
                continue
            if author and repo.namespace != author:
                continue
            if search and search not in repo.repo_id.lower():
                continue
            commit = repo.commits[repo.branches["main"]]
            info = self._info_dict(repo, commit, full=True, card_data=True)
            if not all(f in info["tags"] for f in filters):
                continue
            items.append(info)
        sort = req.param("sort")
        if sort in ("lastModified", "createdAt", "id", "likes", "downloads", "trendingScore"):
            items.sort(key=lambda i: (i.get(sort) is not None, i.get(sort)), reverse=req.param("direction") != "1")
        limit = req.param("limit")
        if limit is not None and limit.isdigit():
            items = items[: int(limit)]
        brief_keys = (
            "_id",
            "id",
            "modelId",
            "private",
            "likes",
            "downloads",
            "trendingScore",
            "tags",
            "pipeline_tag",
            "library_name",
            "createdAt",
        )
        out = []
        for info in items:
            item = dict(info) if full else {k: info[k] for k in brief_keys if k in info}
            if not card_data:
                item.pop("cardData", None)
            elif "cardData" in info:
                item["cardData"] = info["cardData"]
            out.append(item)
        return _json_response(out)

    def _entries_under(self, commit: Commit, base: str) -> tuple[dict[str, str], set[str]]:
        """Files (path -> blob key) and directories strictly below `base` ("" for the root)."""
        prefix = f"{base}/" if base else ""
        files = {p: k for p, k in commit.files.items() if p.startswith(prefix)}
        dirs = set()
        for path in files:
            parts = path[len(prefix) :].split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add(prefix + "/".join(parts[:i]))
        return files, dirs

    def _dir_oid(self, commit: Commit, path: str) -> str:
        files, _ = self._entries_under(commit, path)
        return hashlib.sha1(json.dumps(sorted((p, self._blob_oid(k)) for p, k in files.items())).encode()).hexdigest()

    def _entry(self, repo: Repo, commit: Commit, path: str, *, expand: bool) -> dict[str, Any]:
        key = commit.files.get(path)
        if key is not None:
            entry: dict[str, Any] = {
                "type": "file",
                "oid": self._blob_oid(key),
                "size": self._blob_size(key),
                "path": path,
            }
        else:
            entry = {"type": "directory", "oid": self._dir_oid(commit, path), "size": 0, "path": path}
        if expand:
            last = self._last_commit_touching(repo, commit, path)
            entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": _iso(last.timestamp)}
        return entry

    def _tree(self, req: _Request, repo_type: str, repo_id: str, revision: str, path: str) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        commit = self._commit_at(repo, revision)
        path = path.strip("/")
        files, dirs = self._entries_under(commit, path)
        if path and not files:
            raise HubError(
                404,
                f"Entry not found: {path!r} is not a directory at {revision}",
                "EntryNotFound",
                {"X-Repo-Commit": commit.sha},
            )
        if not req.flag("recursive"):
            depth = path.count("/") + 1 if path else 0
            files = {p: k for p, k in files.items() if p.count("/") == depth}
            dirs = {d for d in dirs if d.count("/") == depth}
        expand = req.flag("expand")
        entries = [self._entry(repo, commit, d, expand=expand) for d in sorted(dirs)]
        entries += [self._entry(repo, commit, p, expand=expand) for p in sorted(files)]
        return _json_response(entries)

    def _paths_info(self, req: _Request, repo_type: str, repo_id: str, revision: str) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        commit = self._commit_at(repo, revision)
        if (req.headers.get("Content-Type") or "").startswith("application/json"):
            payload = req.json()
            paths, expand = _as_list(payload.get("paths")), bool(payload.get("expand"))
        else:
            form = parse_qs(req.body.decode(), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = (form.get("expand", [""])[-1]).lower() in ("1", "true")
        out = []
        for raw in paths:
            path = raw.strip("/")
            if path in commit.files or (path and self._entries_under(commit, path)[0]):
                out.append(self._entry(repo, commit, path, expand=expand))
        return _json_response(out)

    def _refs(self, req: _Request, repo_type: str, repo_id: str) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        out: dict[str, Any] = {
            "branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in repo.branches.items()],
            "converts": [],
            "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": s} for t, s in repo.tags.items()],
        }
        if req.flag("include_prs"):
            out["pullRequests"] = []
        return _json_response(out)

    def _list_commits(self, req: _Request, repo_type: str, repo_id: str, revision: str) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        commit = self._commit_at(repo, revision)
        return _json_response(
            [
                {
                    "id": c.sha,
                    "title": c.title,
                    "message": c.message,
                    "authors": [{"user": c.author, "avatar": ""}],
                    "date": _iso(c.timestamp),
                }
                for c in self._history(repo, commit)
            ]
        )

    def _resolve_file(self, req: _Request, repo_type: str, repo_id: str, rest: list[str]) -> _Response:
        repo = self._visible_repo(req, repo_type, repo_id)
        # The client percent-encodes the revision into one segment; also accept raw "refs/pr/1"-style ones.
        commit, path = None, ""
        for k in range(1, len(rest)):
            commit = self._try_resolve(repo, unquote("/".join(rest[:k])))
            if commit is not None:
                path = unquote("/".join(rest[k:]))
                break
        if commit is None:
            raise HubError(404, f"Invalid rev id: {unquote(rest[0])}", "RevisionNotFound")
        key = commit.files.get(path)
        if key is None:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        data = self._read_blob(key)
        etag = key if self.etag_mode == "sha256" else self._blob_oid(key)
        headers = {
            "Content-Type": "application/octet-stream",
            "ETag": f'"{etag}"',
            "X-Repo-Commit": commit.sha,
            "Accept-Ranges": "bytes",
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
        }
        range_header = req.headers.get("Range")
        if range_header and req.method == "GET":
            span = self._parse_range(range_header, len(data))
            if span is None:
                return _Response(416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"})
            start, end = span
            return _Response(
                206, data[start : end + 1], {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
            )
        return _Response(200, data, headers)

    @staticmethod
    def _parse_range(header: str, size: int) -> tuple[int, int] | None:
        """Parse a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range; None when unsatisfiable."""
        match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
        if match is None or (match.group(1) == "" and match.group(2) == ""):
            return None
        first, last = match.group(1), match.group(2)
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            return None
        return start, end

    # ------------------------------------------------------------------ endpoints: writing

    def _writable_repo(self, req: _Request, repo_type: str, repo_id: str) -> Repo:
        self._require_user(req)
        repo = self._visible_repo(req, repo_type, repo_id)
        self._require_write(req, repo.namespace)
        return repo

    def _preupload(self, req: _Request, repo_type: str, repo_id: str, revision: str) -> _Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        commit = self._try_resolve(repo, revision)
        if commit is None and not req.flag("create_pr"):
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        files = []
        for item in req.json().get("files", []):
            entry: dict[str, Any] = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            key = commit.files.get(item["path"]) if commit is not None else None
            if key is not None:
                entry["oid"] = self._blob_oid(key)
            files.append(entry)
        return _json_response({"files": files, "commitOid": commit.sha if commit else None})

    def _commit(self, req: _Request, repo_type: str, repo_id: str, revision: str) -> _Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        user = req.user or repo.namespace
        if req.flag("create_pr"):
            raise HubError(400, "create_pr is not supported by HubServer")
        branch = revision.removeprefix("refs/heads/")
        if branch not in repo.branches:
            if self._try_resolve(repo, revision) is not None:
                raise HubError(400, f"Cannot commit to {revision!r}: not a branch")
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        head = repo.commits[repo.branches[branch]]
        try:
            lines = [json.loads(line) for line in req.body.decode().splitlines() if line.strip()]
        except ValueError as err:
            raise HubError(400, f"Invalid NDJSON commit payload: {err}") from err
        if not lines or not all(isinstance(line, dict) for line in lines) or lines[0].get("key") != "header":
            raise HubError(400, "The commit payload must start with a header line")
        header = lines[0].get("value") or {}
        parent = header.get("parentCommit")
        if parent and not head.sha.startswith(parent):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        snapshot = dict(head.files)
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value") or {}
            path = str(value.get("path", ""))
            if key == "file":
                self._check_path(path)
                raw = value.get("content", "")
                data = base64.b64decode(raw) if value.get("encoding") == "base64" else str(raw).encode()
                snapshot[path] = self._store_blob(data)
            elif key == "deletedFile":
                if path not in snapshot:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del snapshot[path]
            elif key == "deletedFolder":
                prefix = path.strip("/") + "/"
                gone = [p for p in snapshot if prefix == "/" or p.startswith(prefix)]
                if not gone:
                    raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                for p in gone:
                    del snapshot[p]
            elif key == "lfsFile":
                raise HubError(400, "LFS files are not supported by HubServer (preupload answers 'regular')")
            else:
                raise HubError(400, f"Unknown commit operation: {key!r}")
        commit = self._make_commit(
            repo, head.sha, snapshot, str(header.get("summary") or ""), str(header.get("description") or ""), user
        )
        repo.branches[branch] = commit.sha
        self._commit_counts[(repo_type, repo_id)] = self._commit_counts.get((repo_type, repo_id), 0) + 1
        return _json_response(
            {
                "success": True,
                "commitOid": commit.sha,
                "commitUrl": f"{self._repo_url(repo_type, repo_id)}/commit/{commit.sha}",
                "commitMessage": commit.title,
                "commitDescription": commit.message,
                "hookOutput": "",
                "pullRequestUrl": None,
            }
        )

    @staticmethod
    def _check_path(path: str) -> None:
        parts = path.split("/")
        if not path or any(p in ("", ".", "..") for p in parts) or parts[0] == ".git":
            raise HubError(400, f"Invalid path in repo: {path!r}")

    def _branch(self, req: _Request, repo_type: str, repo_id: str, branch: str) -> _Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        if req.method == "DELETE":
            if branch not in repo.branches:
                raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
            if branch == "main":
                raise HubError(403, "Cannot delete the default branch")
            del repo.branches[branch]
            return _json_response({})
        if branch in repo.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{branch}")
        if branch in repo.tags or branch.startswith("refs/") or _SHA_PREFIX.fullmatch(branch):
            raise HubError(400, f"Invalid branch name: {branch!r}")
        start = req.json().get("startingPoint") or "main"
        repo.branches[branch] = self._commit_at(repo, start).sha
        return _json_response({})

    def _tag(self, req: _Request, repo_type: str, repo_id: str, name: str) -> _Response:
        repo = self._writable_repo(req, repo_type, repo_id)
        if req.method == "DELETE":
            if name not in repo.tags:
                raise HubError(404, f"Invalid rev id: {name}", "RevisionNotFound")
            del repo.tags[name]
            return _json_response({})
        tag = req.json().get("tag")
        if not isinstance(tag, str) or not tag or tag.startswith("refs/"):
            raise HubError(400, f"Invalid tag name: {tag!r}")
        commit = self._commit_at(repo, name)  # for POST, the URL names the revision to tag
        if tag in repo.tags or tag in repo.branches:
            raise HubError(409, f"Reference already exists: refs/tags/{tag}")
        repo.tags[tag] = commit.sha
        return _json_response({})


def new_token() -> str:
    """A random token in the Hub's format, for tests that need fresh users."""
    return "hf_" + secrets.token_hex(17)
