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


#: The shipped heads whose labels are sentiment: SST-2's (negative, positive) and the VADER sets' three.
SENTIMENT_HEADS = ("sst2/", "vader_")


def test_demo_pipeline_runs_end_to_end(minilm_path, zoo_dir) -> None:
    """suggest picks a shipped sentiment head for the tweets, and three starts train alike."""
    result = run_demo("minilm", n_train=400, n_test=32, epochs=0.2, seed=0)
    assert result.zoo_head is not None and result.zoo_head.startswith(SENTIMENT_HEADS)
    assert " of 3 rows from " in result.label_report
    assert list(result.runs) == ["zoo head", "imprint", "random head (FT)"]
    for res in result.runs.values():
        assert 0.0 <= res["final"]["accuracy"] <= 1.0
    assert len({res["stage2_steps"] for res in result.runs.values()}) == 1  # the same stage-2 budget
    assert result.suggestions[0]["rank"] == 1
    table = result.table()
    assert result.label_report in table and "random head (FT)" in table and "held-out" in table
    assert not (zoo_dir / "heads").exists()  # nothing is written to the user's zoo


def test_demo_leaves_out_a_head_of_its_own_task(minilm_path, zoo_dir) -> None:
    """A tweet-sentiment head left in the user's zoo by an earlier run is not someone else's head."""
    import json
    import shutil

    from headzoo.zoo import shipped_zoo_root

    slug = "sentence-transformers--all-MiniLM-L6-v2"
    own = zoo_dir / "heads" / slug / "tweet-sentiment" / "probe"
    shutil.copytree(shipped_zoo_root() / "heads" / slug / "sst2" / "probe", own)
    config = json.loads((own / "head_config.json").read_text(encoding="utf-8"))
    config["task"] = "tweet-sentiment"
    (own / "head_config.json").write_text(json.dumps(config), encoding="utf-8")
    result = run_demo("minilm", n_train=400, n_test=32, epochs=0.2, seed=0)
    assert result.zoo_head is not None and not result.zoo_head.startswith("tweet-sentiment/")
    assert all(not s["source"].startswith("tweet-sentiment/") for s in result.suggestions)
