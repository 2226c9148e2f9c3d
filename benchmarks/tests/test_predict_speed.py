"""benchmarks/predict_speed.py: its stand-in zoo, inputs, clocks, memory accounting and page (tiny, no timing
asserted)."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks import predict_speed as study
from tests.tiny_task import tiny_st_fixture  # noqa: F401

TASKS = {"alpha": ("x", "y"), "beta": ("p", "q", "r")}


@pytest.fixture()
def tiny_zoo(tiny_st: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Any]]:
    """A stand-in zoo of two tasks on the tiny sentence checkpoint, set as the shipped zoo; and its heads."""
    root = study.write_stand_in_zoo(tmp_path / "stand-in", backbone=str(tiny_st), tasks=TASKS)
    monkeypatch.setenv("HEADZOO_SHIPPED_ZOO", str(root))
    return root, study.sentence_heads(backbone=str(tiny_st))


def test_the_stand_in_zoo_holds_a_head_per_task_and_method_of_the_tasks_labels(tiny_zoo: tuple[Path, list[Any]],
                                                                               tiny_st: Path) -> None:
    root, entries = tiny_zoo
    assert sorted((e.task, e.method, tuple(e.config.labels)) for e in entries) == [
        ("alpha", "imprint", ("x", "y")), ("alpha", "probe", ("x", "y")),
        ("beta", "imprint", ("p", "q", "r")), ("beta", "probe", ("p", "q", "r"))]
    record = study.heads_record(entries)
    assert all(h["stand_in"] for h in record) and sum(h["labels"] for h in record) == 10
    (root / "marker").write_text("kept")
    assert study.write_stand_in_zoo(root, backbone=str(tiny_st), tasks={"gamma": ("a", "b")}) == root
    assert (root / "marker").is_file() and len(study.sentence_heads(backbone=str(tiny_st))) == 4  # left as it was


def test_the_planned_tasks_are_sst2_and_the_packaged_sets() -> None:
    planned = study.planned_tasks()
    assert planned["sst2"] == ("negative", "positive")
    assert {"sms_spam", "banking77_intent", "clinc150_intent", "vader_tweet_sentiment"} <= set(planned)
    assert len(planned["banking77_intent"]) == 77


def test_unit_rows_are_seeded_float32_of_unit_length_whatever_the_block() -> None:
    rows = study.unit_rows(1000, 8, seed=3, block=64)
    assert rows.shape == (1000, 8) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(rows, study.unit_rows(1000, 8, seed=3, block=1000))
    assert not np.array_equal(rows, study.unit_rows(1000, 8, seed=4))


def test_texts_are_sst2_dev_then_train(tmp_path: Path) -> None:
    folder = tmp_path / "glue" / "SST-2"
    folder.mkdir(parents=True)
    (folder / "dev.tsv").write_text("sentence\tlabel\nd1\t0\nd2\t1\n", encoding="utf-8")
    (folder / "train.tsv").write_text('sentence\tlabel\nt1 "quoted\t0\nt2\t1\nt3\t0\n', encoding="utf-8")
    assert study.read_texts(tmp_path, 4) == ["d1", "d2", 't1 "quoted', "t2"]
    with pytest.raises(SystemExit, match="fewer than --texts 9"):
        study.read_texts(tmp_path, 9)


def test_rounds_rotate_and_ratios_are_taken_within_a_round() -> None:
    assert study.rotated(["a", "b", "c"], 4) == ["b", "c", "a"]
    rounds = [{"p": 2.0, "e": 1.0}, {"p": 3.3, "e": 3.0}, {"p": 1.0, "e": 1.0}]
    assert study.ratios(rounds, "p", "e") == pytest.approx([2.0, 1.1, 1.0])
    assert study.spread(study.ratios(rounds, "p", "e")) == {"median": 1.1, "min": 1.0, "max": 2.0}


def test_clocked_adds_up_the_calls_and_puts_the_functions_back() -> None:
    module = types.SimpleNamespace(work=lambda n: n * 2, fail=lambda: 1 / 0)
    real = module.work
    spent: dict[str, float] = {}
    with pytest.raises(ZeroDivisionError), study.clocked([(module, "work"), (module, "fail")], spent):
        assert module.work(2) == 4 and module.work(3) == 6
        module.fail()
    assert module.work is real and set(spent) == {"work", "fail"} and spent["work"] >= 0


def test_the_child_counts_the_answer_apart_from_the_working_memory(tiny_zoo: tuple[Path, list[Any]],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _, entries = tiny_zoo
    paths = [str(e.path) for e in entries]
    width = int(entries[0].config.tensors["classifier.weight"][1])
    spec = {"paths": paths, "rows": 3000, "width": width, "seed": 0, "trace": True}
    assert study.main(["--child", json.dumps(spec)]) == 0
    got = json.loads(capsys.readouterr().out.split("RESULT ", 1)[1])
    assert got["labels"] == 10 and got["result_bytes"] == 3000 * 10 * 4 and got["input_bytes"] == 3000 * width * 4
    assert got["working_bytes"] == got["extra_bytes"] - got["result_bytes"] and got["extra_bytes"] >= 3000 * 10 * 4
    plain = study.measure_embeddings(paths, 3000, width, 0)
    if plain["peak_reset"]:  # Linux: the peak resident memory can be reset
        assert plain["working_bytes"] == plain["extra_bytes"] - plain["result_bytes"]
    summary = study.summarize_size([plain, got])
    assert summary["working_bytes_traced"] == got["working_bytes"] and summary["labels"] == 10


def test_the_texts_part_clocks_the_embedding_pass_inside_predict(tiny_zoo: tuple[Path, list[Any]],
                                                                 tiny_st: Path) -> None:
    _, entries = tiny_zoo
    texts = ["good fine", "bad awful poor", "a table"] * 3
    got = study.time_texts([str(e.path) for e in entries], texts, str(tiny_st), batch_size=4, rounds=2,
                           reference=False)
    assert [r["order"] for r in got["rounds"]] == [["predict", "embed"], ["embed", "predict"]]
    for r in got["rounds"]:
        assert 0 < r["predict_load"] + r["predict_encode"] <= r["predict"]
    assert got["in_call"]["min"] >= 1.0 and got["predict_vs_st"] is None


def test_the_load_part_times_every_side_in_every_round(tiny_zoo: tuple[Path, list[Any]], tiny_st: Path) -> None:
    _, entries = tiny_zoo
    got = study.time_load("alpha", str(entries[0].path), None, rounds=2, backbone=str(tiny_st))
    assert len(got["rounds"]) == 2 and "load_head_other_kind" not in got["seconds"]
    assert set(got["ratios"]) == {"task_vs_automodel", "task_vs_whole", "task_vs_seq", "folder_vs_automodel"}
    assert all(s["median"] > 0 for s in got["seconds"].values())
    for r in got["rounds"]:  # the clocked parts of a call add up to the call
        assert set(r["parts"]) == set(study.LOAD_PARTS) and r["parts"]["weights"] > 0
        assert sum(r["parts"].values()) == pytest.approx(r["load_head_task"], abs=1e-4)
    from transformers import AutoModel

    from headzoo.head import Head
    assert "apply" in vars(Head) and "timed" not in repr(vars(Head)["apply"])  # put back as they were
    assert "timed" not in repr(AutoModel.from_pretrained)


def _records() -> dict[str, dict[str, Any]]:
    machine = {"platform": "Linux", "cpu": "Fake CPU", "cpu_count": 2, "torch": "2", "torch_threads": 2}
    heads = [{"task": "sst2", "method": "probe", "labels": 2, "stand_in": True},
             {"task": "trec", "method": "probe", "labels": 6, "stand_in": True}]
    base = {"heads": heads, "zoo": "/tmp/z", "machine": machine, "command": "python -m benchmarks.predict_speed",
            "load_average": [3.0, 3.5]}
    rounds = [{"predict": 10.6, "predict_load": 0.2, "predict_encode": 10.3, "embed": 10.0, "st": 9.0},
              {"predict": 12.0, "predict_load": 0.2, "predict_encode": 11.6, "embed": 10.0, "st": 11.0}]
    size = {"seconds": {"median": 2.0, "min": 1.9, "max": 2.1}, "rows_per_second": 50_000, "input_bytes": 2**30,
            "result_bytes": 2**31, "labels": 8, "working_bytes_rss": 50 * 2**20, "working_bytes_traced": 40 * 2**20}
    load_ratio = {"median": 1.15, "min": 1.0, "max": 1.3}
    return {
        "texts": {**base, "texts": 2000, "batch_size": 64,
                  "result": {"rounds": rounds, "predict_vs_embed": study.spread([1.06, 1.2]),
                             "predict_vs_st": study.spread([10.6 / 9, 12 / 11]),
                             "in_call": study.spread([1.01, 1.02])}},
        "embeddings": {**base, "width": 384, "repeats": 3,
                       "result": {"sizes": {"100000": size, "1000000": {**size, "working_bytes_rss": 52 * 2**20}}}},
        "load": {**base, "task": "sst2",
                 "result": {"rounds": [{}] * 3, "seconds": {"automodel": {"median": 0.05, "min": 0.04, "max": 0.06}},
                            "ratios": {"task_vs_automodel": load_ratio, "task_vs_whole": {**load_ratio, "median": 1.05},
                                       "task_vs_seq": load_ratio, "folder_vs_automodel": load_ratio},
                            "parts": {k: {"median": 0.002, "min": 0.001, "max": 0.003} for k in study.LOAD_PARTS}}},
    }


def test_the_page_gives_the_answers_first_and_says_plainly_when_a_target_is_missed() -> None:
    suggest = [{"data": "sst2 train (2 labels)", "candidates": 4, "in_call_ratio": 1.1, "ratio": 1.3}]
    page = study.render(_records(), suggest)
    answers = page[page.index("**Answers**"):page.index("## predict over texts")]
    assert "1.130x (1.060 to 1.200) one headzoo embedding pass" in answers and answers.count("**not met**") == 2
    assert "in-call ratio 1.015x (1.010 to 1.020), **met** (target ≤ 1.05x)" in answers
    assert "1.050x (1.000 to 1.300) `from_pretrained` of the same sentence model saved whole, **met**" in answers
    assert "`AutoModel.from_pretrained` of the backbone alone (no head, no pooling), **not met**" in answers
    assert "it does not grow with the rows" in answers and "**met** (target ≤ 1.2x)" in answers
    assert "| `Head.apply` (checks, weight fingerprint, copying the head in) | 2.00 (1.00 to 3.00) |" in page
    assert "2 sentence-embedding heads from the zoo folder `/tmp/z` (stand-ins with random weights" in page
    records = _records()
    records["embeddings"]["result"]["sizes"]["1000000"]["working_bytes_rss"] = 500 * 2**20
    assert "**it grows with the rows.**" in study.render(records)


def test_the_committed_page_is_what_the_renderer_makes_of_the_records() -> None:
    records = study.read_records()
    if not records:
        pytest.skip("no committed records")
    page = (study.OUT / "README.md").read_text(encoding="utf-8")
    assert study.render(records, study.read_suggest()) == page, "run: python -m benchmarks.predict_speed --report"
