"""One-off (2026-11-26): re-key the suite's zoo heads after stage-1 hashes dropped unread fields.

Until this date ``Stage1Settings.to_dict()`` listed every LoRA / prefix field for every method
(``lora_dropout: 0.1`` for a BitFit head too), and the zoo protocol keys its shared heads by the
hash of that dict (``results/<task>/zoo/heads/<method>/stage1.json``). Now the dict holds only the
fields the method reads (``headzoo.train.stage1_record``) and ``lora_dropout`` defaults to 0.

A head of another method than LoRA cannot have been affected by either change. For each one this
script rebuilds the hash it was stored under from the suite's plan with the old rule, and only if
that matches the stored hash (so the head provably has the plan's settings) writes the new hash.
LoRA heads are left alone: their lora_dropout changed, so the suite trains them again.

Run once from the repository root:  HF_HUB_OFFLINE=1 python benchmarks/migrations/stage1_hash_2026_11_26.py
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import suite  # noqa: E402

from headzoo.train import Stage1Settings, _hash, _prepare_data, _shared_head_settings, _steps_per_epoch  # noqa: E402


def old_to_dict(cfg: Stage1Settings) -> dict:
    data = asdict(cfg)
    data["lora_dropout"] = 0.1  # the old default, which every suite head was made with
    if cfg.method != "probe":
        del data["backbone_dropout"]
    return data


def main() -> int:
    changed = 0
    for grid in suite.build_plan(list(suite.TASKS), ["zoo"], results=suite.DEFAULT_RESULTS):
        data = _prepare_data(grid.task, suite.BACKBONE, data_dir=suite.DEFAULT_DATA_DIR, limit=None,
                             max_length=suite.MAX_LENGTH)
        for method in ("bitfit", "prefix", "ia3", "probe"):
            path = grid.out_dir / "heads" / method / "stage1.json"
            stored = json.loads(path.read_text(encoding="utf-8"))
            cfg = replace(Stage1Settings(method=method, **suite.stage1_overrides(grid)),
                          batch_size=suite.BATCH_SIZE, max_length=data.max_length).resolved(suite.PRESET)
            steps = cfg.max_steps or max(1, round(cfg.epochs * _steps_per_epoch(len(data.train), cfg.batch_size)))
            old = _hash(_shared_head_settings(data, old_to_dict(cfg), steps, suite.PRESET))
            new = _hash(_shared_head_settings(data, cfg.to_dict(), steps, suite.PRESET))
            if stored["settings_hash"] == new:
                print(f"{path}: already {new}")
                continue
            if stored["settings_hash"] != old:
                print(f"{path}: stored {stored['settings_hash']} is not the plan's {old}; left alone")
                continue
            stored["settings_hash"] = new
            path.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"{path}: {old} -> {new}")
            changed += 1
    print(f"{changed} head(s) re-keyed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
