"""benchmarks/sentence_budget.py: its variants, plan, resuming, verdicts, decision and page (no training)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import sentence_budget as sb
from benchmarks.common import dev_study
from benchmarks.common.stats import paired_verdict

TIMES = {"none": 12.0, "half": 50.0, "default": 90.0, "2x": 150.0}
STEPS = {"none": 0, "half": 15, "default": 30, "2x": 60}


def _record(name: str, k: int, seed: int, accs: dict[str, float]) -> dict[str, Any]:
    runs = {f"auto@{v}": {"start": "auto", "variant": v, "dev_accuracy": acc, "dev_macro_f1": acc,
                          "stage2_steps": STEPS[v], "seconds": TIMES[v], "head": None if v == "none" else "given",
                          "suggested": None if v == "none" else "--from auto took sst2/lora (shipped), ..."}
            for v, acc in accs.items()}
    return {**sb.settings_of(name, k, seed, 300), "runs": runs,
            "command": "HF_HUB_OFFLINE=1 python -m benchmarks.sentence_budget --data-dir ../shared/data",
            "machine": {"platform": "Linux", "cpu": "x", "cpu_count": 2, "torch": "2.13.0"}}


def _write(out: Path, record: dict[str, Any]) -> None:
    path = out / "runs" / record["set"] / f"k{record['k']}-seed{record['seed']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")


def test_variants_change_only_what_they_name_from_finetunes_defaults() -> None:
    from headzoo import FinetuneSettings

    d = FinetuneSettings()
    assert sb.variant_kwargs("default") == {}
    assert sb.variant_kwargs("2x") == {"epochs": 2 * d.epochs, "min_steps": 2 * d.min_steps}
    assert sb.variant_kwargs("half") == {"epochs": d.epochs / 2, "min_steps": d.min_steps // 2}
    with pytest.raises(ValueError, match="none"):
        sb.variant_kwargs("none")
    # on a k-shot sample (one step per epoch) the floor decides: 2x is twice the default's steps
    for examples in (16, 24, 64, 96):
        per_epoch = -(-examples // d.batch_size)
        assert FinetuneSettings(**sb.variant_kwargs("2x")).budget_steps(per_epoch) == 2 * d.budget_steps(per_epoch)
        assert 2 * FinetuneSettings(**sb.variant_kwargs("half")).budget_steps(per_epoch) == d.budget_steps(per_epoch)
    settings = sb.settings_of("tweets", 8, 0, 300)
    assert (settings["feature"], settings["start"], settings["learning_rate"]) == ("sentence-embedding", "auto",
                                                                                   d.learning_rate)
    assert settings["protocol"] == d.protocol and settings["min_steps"] == d.min_steps


def test_plan_runs_seed_by_seed_so_a_cut_study_pairs_every_cell() -> None:
    order = sb.plan(["tweets", "reviews", "debates"], [8, 32], [0, 1])
    assert len(order) == 12 and order[:6] == [(0, s, k) for s in ("tweets", "reviews", "debates") for k in (8, 32)]
    assert {seed for seed, _, _ in order[6:]} == {1}


def test_run_variants_runs_only_the_given_starts_keys_names_and_resumes(tmp_path: Path) -> None:
    pool = [(f"text {i}", i % 2) for i in range(40)]
    info = {"labels": ["a", "b"], "label_map": {}, "pool": pool}
    group = dev_study.Group("tweets", 2, 0, info, 10)
    calls: list[tuple[str, str]] = []

    def measure(start: str, value: str, task: Any, dev: list[tuple[str, int]], scratch: Path) -> dict[str, Any]:
        calls.append((start, value))
        assert len(dev) == 10 and task[1]["train"].num_rows == 4
        return {"dev_accuracy": 0.5, "seconds": 1.0}

    variants = dev_study.Variants("variant", ["none", "default"], measure, starts=("auto",))
    path = dev_study.run_variants(group, tmp_path, {"set": "tweets"}, variants, "cmd")
    assert calls == [("auto", "none"), ("auto", "default")]
    assert set(json.loads(path.read_text(encoding="utf-8"))["runs"]) == {"auto@none", "auto@default"}
    dev_study.run_variants(group, tmp_path, {"set": "tweets"}, variants, "cmd")
    assert len(calls) == 2, "a finished run is reused"
    assert dev_study.run_key("ft", 5e-5) == "ft@5e-05", "the numeric keys of the older studies are unchanged"


def test_differences_are_paired_and_the_verdict_needs_two_pairs() -> None:
    a = _record("tweets", 8, 0, {"none": 0.50, "default": 0.60})
    b = _record("tweets", 8, 1, {"none": 0.52})
    assert [round(d, 6) for d in sb.differences([a, b], "none", "default")] == [10.0]
    assert paired_verdict([10.0]) == "n/a"
    assert paired_verdict([1.0, -1.0, 0.5]) == "tie"
    assert paired_verdict([-3.0, -3.2, -2.9]) == "worse"


def test_decision_changes_a_default_only_where_a_challenger_wins_beyond_two_se() -> None:
    ties = {(k, v): "tie" for k in (8, 32) for v in ("default", "2x", "half")}
    assert sb.decide(ties, [8, 32]).startswith("keep the default budget at every k")
    assert sb.decide({**ties, (8, "2x"): "worse", (32, "default"): "better"}, [8, 32]).startswith("keep")
    got = sb.decide({**ties, (8, "default"): "worse", (32, "2x"): "better"}, [8, 32])
    assert got == ("k = 8: do not fine-tune (the frozen LR beats the default beyond 2 SE); "
                   "k = 32: double the steps")
    assert sb.decide({**ties, (8, "2x"): "n/a"}, [8, 32]).startswith("keep")
    unmeasured = {(8, v): "n/a" for v in ("default", "2x", "half")}
    assert sb.decide({**ties, **unmeasured}, [8, 32]) == ("k = 8: not measured (fewer than 2 pairs); "
                                                          "k = 32: keep the default")


def test_page_answers_first_and_lists_incomplete_cells(tmp_path: Path) -> None:
    for seed, (none, half, default, double) in enumerate([(0.50, 0.61, 0.60, 0.62), (0.52, 0.62, 0.63, 0.62)]):
        for name in ("tweets", "reviews", "debates"):
            _write(tmp_path, _record(name, 8, seed, {"none": none, "half": half, "default": default, "2x": double}))
    _write(tmp_path, _record("tweets", 32, 0, {"none": 0.7, "default": 0.72}))
    page = sb.write_report(tmp_path, ks=[8, 32], seeds=[0, 1]).read_text(encoding="utf-8")
    lines = page.splitlines()
    assert lines[2].startswith("# ") and lines[4].startswith("| k | question")
    assert ("| 8 | fine-tuning (default) vs no fine-tuning (frozen LR) | +10.5 ± 0.2 SE, better | 6 | 12 s, 0 steps "
            "| 90 s, 30 steps |") in page
    assert "| 8 | 2x steps vs default | +0.5 ± 0.7 SE, tie | 6 | 90 s, 30 steps | 150 s, 60 steps |" in page
    assert "| 32 | 2x steps vs default | — | 0 | 90 s, 30 steps | — |" in page
    assert ("**What the 2-SE rule alone says (accuracy, not time):** k = 8: keep the default; k = 32: not measured "
            "(fewer than 2 pairs).") in page
    assert "2 seed(s) x 3 sets gives at most 6 pairs per k" in page
    assert "| 8 | half the steps vs default | +0.0 ± 0.4 SE, tie | 6 | 90 s, 30 steps | 50 s, 15 steps |" in page
    assert "**Incomplete:** tweets k=32 seed 0 (half, 2x); tweets k=32 seed 1 (no record);" in page
    assert "| debates | 8 | 51.0 ± 1.4 (2) | 61.5 ± 0.7 (2) | 61.5 ± 2.1 (2) | 62.0 ± 0.0 (2) | sst2/lora |" in page


def test_page_without_records_says_how_to_make_them(tmp_path: Path) -> None:
    page = sb.write_report(tmp_path).read_text(encoding="utf-8")
    assert "No records yet" in page and "tweets k=8 seed 0 (no record)" in page


def test_the_committed_page_is_what_the_generator_makes_of_the_committed_records() -> None:
    out = sb.OUT
    records = dev_study.load_records(out)
    if not records:
        pytest.skip("no sentence_budget records committed")
    assert sb.render(records) == (out / dev_study.PAGE).read_text(encoding="utf-8"), (
        "run: python -m benchmarks.sentence_budget --report")
