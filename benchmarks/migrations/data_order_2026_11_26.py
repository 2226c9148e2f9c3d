"""One-off (2026-11-26): record ``data_order: "restart"`` in the suite's ``matched`` runs with a stage 1.

``finetune`` gained ``data_order`` ("continue", the new default, or "restart"). Every ``matched`` run with
a stage 1 made before then restarted the data order for stage 2, which is what ``"restart"`` does, but its
settings (and so its settings hash) had no such key. The setting is recorded only where it acts
(``matched``, strategy other than FT), so FT and ``zoo`` runs keep their hashes.

For each such record in the suite's ``matched`` ``runs.jsonl`` files this script checks that the stored
settings hash to the stored ``settings_hash`` (so the record is intact and had no ``data_order``), adds
``data_order: "restart"``, and writes the new hash into the record and its key. Records that are already
migrated or do not check out are left alone and named.

Run once from the repository root:  python benchmarks/migrations/data_order_2026_11_26.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import suite  # noqa: E402

from headzoo.train import _atomic_write, _dumps, _hash, _run_key  # noqa: E402


def migrate(path: Path) -> tuple[int, int]:
    """Re-key the records of one ``runs.jsonl``; returns (changed, left alone)."""
    lines, changed, left = [], 0, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        result = entry["result"]
        settings = result["settings"]
        if result.get("protocol") != "matched" or result.get("strategy") == "ft" or "data_order" in settings:
            lines.append(line)
            continue
        old = _hash(settings)
        if not (old == entry["settings_hash"] == result["settings_hash"]):
            print(f"{path}: {entry['key']}: stored hash {entry['settings_hash']} is not its settings' {old}; "
                  "left alone")
            lines.append(line)
            left += 1
            continue
        settings["data_order"] = "restart"
        new = _hash(settings)
        result["settings_hash"] = entry["settings_hash"] = new
        entry["key"] = _run_key(entry["strategy"], entry["method"], entry["seed"], new)
        lines.append(_dumps(entry))
        changed += 1
    _atomic_write(path, "".join(line + "\n" for line in lines))
    return changed, left


def main() -> int:
    total = 0
    for grid in suite.build_plan(list(suite.TASKS), ["matched"], results=suite.DEFAULT_RESULTS):
        path = grid.out_dir / "runs.jsonl"
        changed, left = migrate(path)
        print(f"{path}: {changed} record(s) re-keyed, {left} left alone")
        total += changed
    print(f"{total} record(s) re-keyed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
