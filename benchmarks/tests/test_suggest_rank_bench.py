"""benchmarks/suggest_rank.py: its dev split, rank correlation, regret and page (no training)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import suggest_rank
from benchmarks.common import heldout


def test_dev_split_is_stratified_outside_the_sample_and_seeded() -> None:
    pool = [(f"text {i}", i % 2) for i in range(100)]
    used = set(range(10))
    dev = heldout.dev_split(pool, used, 40, seed=0)
    assert len(dev) == 40 and not set(dev) & used
    assert sum(pool[i][1] for i in dev) == 20
    assert heldout.dev_split(pool, used, 40, seed=0) == dev
    assert heldout.dev_split(pool, used, 40, seed=1) != dev
    assert len(heldout.dev_split(pool, used, 500, seed=0)) == 90  # no more than the pool has


def test_spearman_handles_ties_and_says_none_when_undefined() -> None:
    assert suggest_rank.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert abs(suggest_rank.spearman([1, 1, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-9
    assert suggest_rank.spearman([1, 1, 1], [1, 2, 3]) is None  # a constant criterion
    assert suggest_rank.spearman([1, 2], [1, 2]) is None


def _cand(rank: int, macro_f1: float, accuracy: float, rows: int, dev: float) -> dict[str, object]:
    return {"rank": rank, "source": f"h{rank}", "origin": "shipped", "macro_f1": macro_f1, "accuracy": accuracy,
            "rows_from_head": rows, "label_fit": "", "dev_accuracy": dev, "dev_macro_f1": dev}


def _record(seed: int) -> dict[str, object]:
    # suggest's order puts h1 first, but after fine-tuning h3 (most rows from the head) is best
    return {"record_version": suggest_rank.RECORD_VERSION, "set": "tweets", "k": 32, "seed": seed,
            "budget_steps": 30, "train_examples": 96, "dev_examples": 300, "labels": ["a", "b"],
            "command": "HF_HUB_OFFLINE=1 python benchmarks/suggest_rank.py",
            "machine": {"platform": "Linux", "cpu": "x", "cpu_count": 2, "torch": "2.13.0"},
            "candidates": {"h1": _cand(1, 0.6, 0.6, 0, 0.50), "h2": _cand(2, 0.5, 0.7, 1, 0.55),
                           "h3": _cand(3, 0.4, 0.5, 2, 0.60)}}


def test_group_figures_give_rho_and_the_regret_of_each_criterions_top_pick() -> None:
    got = suggest_rank.group_figures(_record(0))
    recorded = "suggest's rank in the record"
    assert got[recorded]["rho"] == -1.0
    assert abs(got[recorded]["regret"] - 10.0) < 1e-9  # h1 (50 %) against h3 (60 %)
    assert got["rows from the head, then macro-F1"]["regret"] == 0.0
    assert got["rows from the head"]["rho"] == 1.0 and got["rows from the head"]["regret"] == 0.0
    assert abs(got["zero-shot accuracy"]["regret"] - 5.0) < 1e-9  # h2


def test_page_names_the_criterion_with_the_highest_mean_rho(tmp_path: Path) -> None:
    runs = tmp_path / "runs" / "tweets"
    runs.mkdir(parents=True)
    for seed in (0, 1):
        (runs / f"k32-seed{seed}.json").write_text(json.dumps(_record(seed)), encoding="utf-8")
    page = suggest_rank.write_report(tmp_path).read_text(encoding="utf-8")
    assert "Highest mean ρ: **rows from the head** (+1.00); above 0 by more than 2 standard errors" in page
    recorded = "| suggest's rank in the record |"
    assert f"{recorded} -1.00 ± 0.00 (2 groups) | +10.00 ± 0.00 (2 groups) |" in page
    assert "## tweets, k=32, seed 1" in page
    # the per-group table names suggest's order of each record (none recorded in these), its top and the winner
    assert "| tweets k=32 seed 0 | -1.00 | " in page
    assert "| not recorded | `h1` 50.0 % | `h3` 60.0 % |" in page


def test_the_order_new_records_name_is_suggests_order() -> None:
    from headzoo.suggest import Suggestion, rank_suggestions

    cands = [_cand(1, 0.6, 0.6, 0, 0.5), _cand(2, 0.4, 0.4, 2, 0.5), _cand(3, 0.5, 0.5, 2, 0.5)]
    ranked = sorted(cands, key=suggest_rank.CRITERIA["rows from the head, then macro-F1"], reverse=True)
    # SUGGEST_ORDER describes headzoo's order: rows from the head first, then zero-shot macro-F1
    as_suggestions = [Suggestion(0, c["source"], "shipped", "", c["accuracy"], c["macro_f1"], c["rows_from_head"], 9)
                      for c in cands]
    assert [s.source for s in rank_suggestions(as_suggestions)] == [c["source"] for c in ranked] == ["h3", "h2", "h1"]
    assert suggest_rank.SUGGEST_ORDER == "rows from the head, then zero-shot macro-F1"


def test_the_committed_page_is_what_the_generator_makes_of_the_committed_records() -> None:
    out = suggest_rank.OUT
    assert suggest_rank.render(suggest_rank.load_records(out)) == (out / suggest_rank.PAGE).read_text(
        encoding="utf-8"), "run: python -m benchmarks.suggest_rank --report"


def test_page_without_records_says_how_to_make_them(tmp_path: Path) -> None:
    page = suggest_rank.write_report(tmp_path).read_text(encoding="utf-8")
    assert "No records yet" in page


def test_cross_entropy_is_backfilled_only_where_the_fresh_ranking_reproduces_the_record() -> None:
    from types import SimpleNamespace

    record = _record(0)
    fresh = [SimpleNamespace(name="h1", accuracy=0.6, macro_f1=0.6, cross_entropy=0.7),
             SimpleNamespace(name="h2", accuracy=0.69, macro_f1=0.5, cross_entropy=0.8),  # not the recorded score
             SimpleNamespace(name="h9", accuracy=0.5, macro_f1=0.5, cross_entropy=0.9)]  # not in the record
    assert suggest_rank.backfill_cross_entropy(record, fresh)
    cands = record["candidates"]
    assert cands["h1"]["cross_entropy"] == 0.7 and "cross_entropy" not in cands["h2"] and "h9" not in cands
    assert record["cross_entropy_backfilled"] == 1
    assert not suggest_rank.backfill_cross_entropy(record, fresh)  # already there: nothing changes
    # a criterion some candidate lacks has no rho and no regret in that group; the others are unaffected
    got = suggest_rank.group_figures(record)
    assert got["lower zero-shot cross-entropy"] == {"rho": None, "regret": None}
    assert got["rows from the head"]["rho"] == 1.0


def test_cross_entropy_criteria_rank_the_lower_loss_higher() -> None:
    low, high = _cand(1, 0.5, 0.5, 1, 0.5), _cand(2, 0.5, 0.5, 1, 0.5)
    low["cross_entropy"], high["cross_entropy"] = 0.6, 2.0
    for label in ("lower zero-shot cross-entropy", "rows from the head, then lower cross-entropy"):
        assert suggest_rank.CRITERIA[label](low) > suggest_rank.CRITERIA[label](high)
    more_rows = {**high, "rows_from_head": 2}
    assert suggest_rank.CRITERIA["rows from the head, then lower cross-entropy"](more_rows) > \
        suggest_rank.CRITERIA["rows from the head, then lower cross-entropy"](low)
