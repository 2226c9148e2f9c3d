"""benchmarks/stage2_lr.py: its run keys, paired differences, verdicts and page (no training)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import stage2_lr
from benchmarks.common import dev_study, stats


def _record(name: str, k: int, seed: int, ft: dict[float, float], auto: dict[float, float]) -> dict[str, object]:
    runs = {}
    for start, accs in (("ft", ft), ("auto", auto)):
        for lr, acc in accs.items():
            runs[dev_study.run_key(start, lr)] = {"start": start, "learning_rate": lr, "dev_accuracy": acc,
                                                  "dev_macro_f1": acc, "stage2_steps": 30, "head": None,
                                                  "seconds": 1.0}
    return {"record_version": stage2_lr.RECORD_VERSION, "set": name, "k": k, "seed": seed, "budget_steps": 30,
            "runs": runs, "command": f"HF_HUB_OFFLINE=1 python benchmarks/stage2_lr.py --k {k}",
            "machine": {"platform": "Linux", "cpu": "x", "cpu_count": 2, "torch": "2.13.0"}}


def test_run_keys_are_distinct_per_start_and_learning_rate() -> None:
    keys = {dev_study.run_key(s, lr) for s in dev_study.STARTS for lr in stage2_lr.LRS}
    assert len(keys) == len(dev_study.STARTS) * len(stage2_lr.LRS)
    assert dev_study.run_key("ft", 5e-5) == "ft@5e-05"


def test_paired_differences_skip_records_missing_a_start() -> None:
    both = _record("tweets", 8, 0, {5e-5: 0.50}, {5e-5: 0.55})
    only_ft = _record("tweets", 8, 1, {5e-5: 0.40}, {})
    diffs = dev_study.paired([both, only_ft], 5e-5)
    assert len(diffs) == 1 and abs(diffs[0] - 5.0) < 1e-9
    assert dev_study.accuracies([both, only_ft], "ft", 5e-5) == [50.0, 40.0]
    assert dev_study.paired([both], 1e-4) == []


def test_diff_verdict_uses_two_standard_errors() -> None:
    assert stats.diff_verdict([4.0, 5.0, 6.0]).endswith("better")
    assert stats.diff_verdict([-4.0, -5.0, -6.0]).endswith("worse")
    assert stats.diff_verdict([-3.0, 1.0, 4.0]).endswith("tie")
    assert stats.diff_verdict([]) == "—"
    assert stats.mean_std_text([]) == "—" and stats.mean_std_text([2.0]) == "2.0 (1)"


def test_page_tabulates_every_learning_rate_over_all_groups_and_per_cell(tmp_path: Path) -> None:
    for seed, (f, a) in enumerate([(0.50, 0.60), (0.52, 0.60), (0.48, 0.62)]):
        rec = _record("reviews", 8, seed, {5e-5: f, 1e-4: f + 0.02}, {5e-5: a, 1e-4: a - 0.10})
        path = tmp_path / "runs" / "reviews" / f"k8-seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rec), encoding="utf-8")
    page = stage2_lr.write_report(tmp_path).read_text(encoding="utf-8")
    assert "3 groups (set, k, seed)." in page
    assert "| 5e-05 | 50.0 ± 2.0 (3) | 60.7 ± 1.2 (3) | +10.7 ± 1.8 SE, better |" in page
    assert "| reviews | 8 | 0.0001 | 52.0 ± 2.0 (3) | 50.7 ± 1.2 (3) | -1.3 ± 1.8 SE, tie |" in page
    assert "`HF_HUB_OFFLINE=1 python benchmarks/stage2_lr.py --k 8`" in page


def test_the_committed_page_is_what_the_generator_makes_of_the_committed_records() -> None:
    out = stage2_lr.OUT
    records = dev_study.load_records(out)
    assert records, "the stage2_lr records are committed with their page"
    assert stage2_lr.render(records) == (out / dev_study.PAGE).read_text(encoding="utf-8"), (
        "run: python -m benchmarks.stage2_lr --report")


def test_page_without_records_says_how_to_make_them(tmp_path: Path) -> None:
    page = stage2_lr.write_report(tmp_path).read_text(encoding="utf-8")
    assert "No records yet" in page
