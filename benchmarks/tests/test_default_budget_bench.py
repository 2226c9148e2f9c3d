"""benchmarks/default_budget.py: its records' settings, floor gains and page (no training)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import default_budget
from benchmarks.common import dev_study


def _record(name: str, k: int, seed: int, accs: dict[tuple[str, int], float]) -> dict[str, object]:
    runs = {}
    for (start, floor), acc in accs.items():
        runs[f"{start}@{floor}"] = {"start": start, "min_steps": floor, "dev_accuracy": acc, "dev_macro_f1": acc,
                                    "budget_steps": max(3, floor), "stage1_steps": 0, "stage2_steps": max(3, floor),
                                    "head": None, "seconds": 10.0 if floor else 4.0}
    return {"record_version": default_budget.RECORD_VERSION, "set": name, "k": k, "seed": seed, "runs": runs,
            "epochs": 3, "batch_size": 32, "learning_rate": 5e-5, "protocol": "matched",
            "command": "HF_HUB_OFFLINE=1 python benchmarks/default_budget.py --data-dir ../shared/data",
            "machine": {"platform": "Linux", "cpu": "x", "cpu_count": 2, "torch": "2.13.0"}}


def test_records_cover_finetunes_defaults_and_the_page_names_them(tmp_path: Path) -> None:
    from headzoo import FinetuneSettings

    settings = default_budget.settings_of("tweets", 8, 0, 300)
    assert settings["dev_size"] == 300 and "min_steps" not in settings  # the floors are keys inside a record
    assert (settings["epochs"], settings["batch_size"], settings["protocol"]) == (3, 32, "matched")
    assert settings["learning_rate"] == FinetuneSettings().learning_rate
    other = {**_record("tweets", 8, 0, {("ft", 0): 0.4}), **settings, "batch_size": 16}
    path = tmp_path / "runs" / "tweets" / "k8-seed0.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(other), encoding="utf-8")
    page = default_budget.write_report(tmp_path).read_text(encoding="utf-8")
    assert "defaults (3 epochs of batch 16, learning rate 5e-05, the `matched` protocol)" in page


def test_floor_gain_is_paired_by_group_and_skips_missing_runs() -> None:
    a = _record("tweets", 8, 0, {("ft", 0): 0.40, ("ft", 30): 0.50})
    b = _record("tweets", 8, 1, {("ft", 0): 0.42})
    assert default_budget.gain([a, b], "ft", 0, 30) == "+10.0 (1 seed), n/a"
    assert default_budget.gain([a, b], "auto", 0, 30) == "—"
    assert default_budget.steps_seconds([a, b], "ft", 0) == "3 steps, 4 s"
    assert default_budget.steps_seconds([a, b], "auto", 0) == "—"


def test_page_tabulates_every_floor_over_all_groups_and_per_cell(tmp_path: Path) -> None:
    for seed, (f0, f30, a0, a30) in enumerate([(0.40, 0.50, 0.45, 0.55), (0.42, 0.50, 0.45, 0.57),
                                               (0.38, 0.50, 0.45, 0.56)]):
        rec = _record("debates", 32, seed, {("ft", 0): f0, ("ft", 30): f30, ("auto", 0): a0, ("auto", 30): a30})
        path = tmp_path / "runs" / "debates" / f"k32-seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rec), encoding="utf-8")
    page = default_budget.write_report(tmp_path).read_text(encoding="utf-8")
    assert "3 groups (set, k, seed)." in page
    assert ("| 0 | 40.0 ± 2.0 (3) (3 steps, 4 s) | 45.0 ± 0.0 (3) (3 steps, 4 s) | +5.0 ± 1.2 SE, better | — | — |"
            in page)
    assert ("| debates | 32 | 30 | 50.0 ± 0.0 (3) (30 steps, 10 s) | 56.0 ± 1.0 (3) (30 steps, 10 s) | "
            "+6.0 ± 0.6 SE, better | +10.0 ± 1.2 SE, better | +11.0 ± 0.6 SE, better |") in page
    assert "`HF_HUB_OFFLINE=1 python benchmarks/default_budget.py --data-dir ../shared/data`" in page


def test_page_without_records_says_how_to_make_them(tmp_path: Path) -> None:
    page = default_budget.write_report(tmp_path).read_text(encoding="utf-8")
    assert "No records yet" in page


def test_the_committed_page_is_what_the_generator_makes_of_the_committed_records() -> None:
    out = default_budget.OUT
    records = dev_study.load_records(out)
    assert len(records) == 18, "the default_budget records are committed with their page"
    assert default_budget.render(records) == (out / dev_study.PAGE).read_text(encoding="utf-8"), (
        "run: python -m benchmarks.default_budget --report")
