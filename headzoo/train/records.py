"""Run records: JSON-ready values, the settings hash, atomic writes and the ``runs.jsonl`` cache.

A record (a ``runs.jsonl`` line, a ``result.json``) carries ``record_version``.
Records written before the field existed are version 1. When what a run
computes changes, :data:`RECORD_VERSION` goes up and older records are run
again instead of being reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..head import finite

logger = logging.getLogger("headzoo.train")

#: The version of what a run computes; a stored record of another version is run again.
RECORD_VERSION = 1


def record_version(record: Mapping[str, Any]) -> int:
    """The version a stored record was written with (1 when it has none).

    Example:
        >>> record_version({}), record_version({"record_version": 2})
        (1, 2)
    """
    value = record.get("record_version", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def clean_json(value: Any) -> Any:
    """A JSON-ready copy: non-finite floats become None, tuples lists, paths strings, numpy scalars numbers.

    Example:
        >>> clean_json({"a": (1, float("nan"))})
        {'a': [1, None]}
    """
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, Mapping):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return clean_json(value.item())
    return value


def dumps_json(data: Any, indent: int | None = None) -> str:
    """``data`` as JSON text after :func:`clean_json` (keys in their order, no NaN).

    Example:
        >>> dumps_json({"b": 1, "a": float("inf")})
        '{"b": 1, "a": null}'
    """
    return json.dumps(clean_json(data), indent=indent, ensure_ascii=False, allow_nan=False, sort_keys=False)


def settings_hash(data: Any) -> str:
    """The 12-hex-digit hash of a settings dict (sorted keys, so the order of the fields does not matter).

    Example:
        >>> settings_hash({"a": 1, "b": 2}) == settings_hash({"b": 2, "a": 1})
        True
    """
    text = json.dumps(clean_json(data), sort_keys=True, ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write a file through a temporary sibling and ``os.replace``; return its path.

    Example:
        >>> import tempfile, pathlib
        >>> atomic_write(pathlib.Path(tempfile.mkdtemp()) / "x.json", "{}").read_text()
        '{}'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def run_key(strategy: str, method: str | None, seed: int, run_hash: str) -> str:
    """The key of one grid run in ``runs.jsonl``.

    Example:
        >>> run_key("eh-ft", "lora", 0, "abc")
        'eh-ft|lora|0|abc'
    """
    return f"{strategy}|{method or '-'}|{seed}|{run_hash}"


def read_runs(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The records of a ``runs.jsonl`` file by key (unreadable lines are skipped with a warning).

    Example:
        >>> read_runs("no-such-file.jsonl")
        {}
    """
    path = Path(path)
    runs: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return runs
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            runs[str(entry["key"])] = entry
        except (ValueError, KeyError, TypeError):
            logger.warning("skipping unreadable line %d of %s", lineno, path)
    return runs


def write_runs(path: str | os.PathLike[str], runs: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``runs`` (as :func:`read_runs` returns them) back to ``runs.jsonl`` atomically.

    Example:
        >>> import tempfile, pathlib
        >>> p = write_runs(pathlib.Path(tempfile.mkdtemp()) / "runs.jsonl", {"k": {"key": "k"}})
        >>> read_runs(p)
        {'k': {'key': 'k'}}
    """
    return atomic_write(path, "".join(dumps_json(entry) + "\n" for entry in runs.values()))
