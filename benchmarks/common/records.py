"""Run records: JSON-ready values, the settings hash, atomic writes, resuming and the machine a run ran on.

The hash is the one every committed record was keyed with (sorted keys, ASCII JSON, sha256, 12 hex digits), so
committed records are reused, not run again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The repository root (``results/`` and the studies' default output folders are under it).
ROOT = Path(__file__).resolve().parents[2]


def record_version(record: Mapping[str, Any]) -> int:
    """The version a stored record was written with (1 when it has none; -1 when the field is not an int).

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
        return value if math.isfinite(value) else None
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


def write_record(path: Path, record: Mapping[str, Any]) -> Path:
    """Write one JSON record (indent 1, a final newline) atomically; returns its path."""
    return atomic_write(path, dumps_json(record, indent=1) + "\n")


def resume_record(path: Path, key: str) -> dict[str, Any]:
    """The record at ``path`` when its ``settings_hash`` is ``key``, else an empty dict (start afresh)."""
    if not path.is_file():
        return {}
    record = json.loads(path.read_text(encoding="utf-8"))
    return record if record.get("settings_hash") == key else {}


def read_runs_jsonl(path: Path) -> list[dict[str, Any]]:
    """The run entries of a ``runs.jsonl`` file (objects with a ``result`` object; other lines are skipped)."""
    entries: list[dict[str, Any]] = []
    if not path.is_file():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("result"), dict):
            entries.append(entry)
    return entries


def machine_info() -> dict[str, Any]:
    """Where a run ran, for the record: platform, CPU, accelerator, thread count and versions.

    Example:
        >>> sorted(machine_info())[:3]
        ['accelerator', 'cpu', 'cpu_count']
    """
    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    accelerator = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    try:
        world = max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        world = 1
    return {"platform": f"{platform.system()} {platform.machine()}", "cpu": cpu, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "accelerator": accelerator, "world_size": world,
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__}
