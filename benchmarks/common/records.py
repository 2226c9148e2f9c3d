"""Run records: JSON-ready values, the settings hash, atomic writes, resuming and the machine a run ran on.

The JSON, hash, atomic-write and machine helpers are the library's own (:mod:`headzoo.train.records`,
:mod:`headzoo.train.runtime`), so a study keys its records with the very hash the library keys its runs with
(sorted keys, ASCII JSON, sha256, 12 hex digits) and committed records are reused, not run again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from headzoo.train.records import atomic_write, clean_json, dumps_json, record_version, settings_hash
from headzoo.train.runtime import machine_info

__all__ = ["ROOT", "atomic_write", "clean_json", "dumps_json", "machine_info", "read_runs_jsonl", "record_version",
           "resume_record", "settings_hash", "write_record"]

#: The repository root (``results/`` and the studies' default output folders are under it).
ROOT = Path(__file__).resolve().parents[2]


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


