"""The embedded demo: its data set, and the whole pipeline on a tiny sample."""

from __future__ import annotations

import pytest

from headzoo import DataError
from headzoo.demo import DEMO_LABELS, demo_task, run_demo


def test_demo_data_is_disjoint_stratified_and_seeded() -> None:
    spec, data = demo_task(300, 100, seed=0)
    assert spec.labels == DEMO_LABELS and spec.num_labels == 3
    train, test = data["train"], data["validation"]
    assert train.num_rows == 300 and test.num_rows == 100
    assert not set(train["text_a"][:]) & set(test["text_a"][:])
    share = [train["label"][:].count(i) / train.num_rows for i in range(3)]
    share_test = [test["label"][:].count(i) / test.num_rows for i in range(3)]
    assert all(abs(a - b) < 0.05 for a, b in zip(share, share_test, strict=True))
    _, again = demo_task(300, 100, seed=0)
    assert again["train"]["text_a"][:] == train["text_a"][:]
    _, other = demo_task(300, 100, seed=1)
    assert other["train"]["text_a"][:] != train["text_a"][:]


def test_demo_refuses_impossible_sizes() -> None:
    with pytest.raises(DataError, match="at least 3"):
        demo_task(1, 100)
    with pytest.raises(DataError, match="ask for at most"):
        demo_task(10**6, 10)


def test_demo_pipeline_runs_end_to_end(minilm_path, zoo_dir) -> None:
    result = run_demo("minilm", n_train=64, n_test=32, epochs=1, seed=0)
    assert (zoo_dir / "heads" / "sentence-transformers--all-MiniLM-L6-v2" / "tweet-sentiment" / "lora"
            / "head.safetensors").is_file()
    for res in (result.ft, result.eh_ft):
        assert 0.0 <= res["final"]["accuracy"] <= 1.0
    assert result.ft["stage2_steps"] == result.eh_ft["stage2_steps"]  # the same stage-2 budget
    table = result.table()
    assert "EH-FT" in table and "FT" in table and "held-out" in table
