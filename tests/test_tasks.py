"""Tests of headzoo.tasks: registry, offline GLUE/SuperGLUE loading, custom tasks, metrics, sampling."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import datasets
import numpy as np
import pytest

from headzoo.errors import ConfigError, DataError, HeadzooError, InvalidNameError, TaskNotFoundError
from headzoo.tasks import (
    DATA_DIR_ENV,
    TASKS,
    TaskSpec,
    compute_metrics,
    custom_task,
    get_task,
    limit_dataset,
    list_tasks,
    load_task,
    metric_fn_for_trainer,
    metric_interval,
    sample_indices,
)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(
    not (DATA / "glue").is_dir() or not (DATA / "superglue").is_dir(),
    reason=f"offline GLUE/SuperGLUE files not found at {DATA} (expected ../shared/data from the repo root)",
)


@cache
def _load(name: str, split: str | None = None) -> datasets.DatasetDict:
    return load_task(name, DATA, split=split)


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def _names(ds: datasets.Dataset) -> Counter[str]:
    names = ds.features["label"].names
    return Counter(names[i] for i in ds["label"][:])


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def test_registry_has_the_ten_tasks() -> None:
    assert list_tasks() == sorted(["rte", "mrpc", "stsb", "cola", "qnli", "sst2", "boolq", "cb", "copa", "wic"])
    for name, spec in TASKS.items():
        assert spec.name == name
        assert spec.main_metric in spec.metrics
        assert spec.hub_id is not None
        assert spec.benchmark in ("glue", "superglue")
    assert TASKS["cb"].hub_id == ("aps/super_glue", "cb")
    assert TASKS["rte"].hub_id == ("nyu-mll/glue", "rte")
    assert TASKS["stsb"].problem_type == "regression" and TASKS["stsb"].num_labels == 1
    assert TASKS["cola"].main_metric == "matthews_correlation"
    assert TASKS["cola"].text_columns == ("text_a",)
    assert TASKS["boolq"].text_columns == ("text_a", "text_b")


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("rte", "rte"),
        ("RTE", "rte"),
        ("sts-b", "stsb"),
        ("STS-B", "stsb"),
        ("sts_b", "stsb"),
        ("sst-2", "sst2"),
        ("SST2", "sst2"),
        (" CoLA ", "cola"),
        ("glue/mrpc", "mrpc"),
        ("super_glue/cb", "cb"),
        ("SuperGLUE-WiC", "wic"),
        ("BoolQ", "boolq"),
    ],
)
def test_get_task_aliases(alias: str, name: str) -> None:
    assert get_task(alias) is TASKS[name]


def test_unknown_task_error_quotes_name_and_lists_tasks() -> None:
    with pytest.raises(TaskNotFoundError) as info:
        get_task("mnli")
    msg = str(info.value)
    assert "'mnli'" in msg
    for name in list_tasks():
        assert name in msg
    assert isinstance(info.value, LookupError) and isinstance(info.value, HeadzooError)
    with pytest.raises(TaskNotFoundError, match="Did you mean 'rte'"):
        get_task("rtee")


def test_taskspec_labels_and_frozen() -> None:
    cb = get_task("cb")
    assert cb.labels == ("entailment", "contradiction", "neutral")
    assert cb.id2label == {0: "entailment", 1: "contradiction", 2: "neutral"}
    assert cb.label2id == {"entailment": 0, "contradiction": 1, "neutral": 2}
    assert get_task("stsb").id2label == {} and get_task("stsb").labels == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cb.name = "x"  # type: ignore[misc]


def test_taskspec_validation() -> None:
    base = dict(
        name="t",
        benchmark="custom",
        text_columns=("text_a",),
        labels=("a", "b"),
        problem_type="single_label_classification",
        num_labels=2,
        metrics=("accuracy",),
        main_metric="accuracy",
    )
    TaskSpec(**base)
    for bad in (
        {"name": "Upper"},
        {"benchmark": "other"},
        {"text_columns": ("a", "b")},
        {"problem_type": "multi_label"},
        {"num_labels": 3},
        {"labels": ("a", "a")},
        {"metrics": ("bleu",), "main_metric": "bleu"},
        {"main_metric": "f1"},
        {"problem_type": "regression"},
    ):
        with pytest.raises(ConfigError):
            TaskSpec(**{**base, **bad})


# ---------------------------------------------------------------------------
# Offline loading of the real files
# ---------------------------------------------------------------------------

SIZES = {
    "rte": (2490, 277),
    "mrpc": (3668, 408),
    "cola": (8551, 1043),
    "stsb": (5749, 1500),
    "sst2": (67349, 872),
    "cb": (250, 56),
    "copa": (400, 100),
    "wic": (5428, 638),
}


@needs_data
@pytest.mark.parametrize("name", sorted(SIZES))
def test_offline_sizes_and_columns(name: str) -> None:
    spec = get_task(name)
    dd = _load(name)
    assert list(dd) == ["train", "validation"]
    assert (dd["train"].num_rows, dd["validation"].num_rows) == SIZES[name]
    for ds in dd.values():
        assert ds.column_names == [*spec.text_columns, "label"]
        if spec.is_regression:
            assert ds.features["label"] == datasets.Value("float32")
        else:
            assert ds.features["label"].names == list(spec.labels)
        for col in spec.text_columns:
            texts = ds[col][:]
            assert all(t and t == t.strip() for t in texts)
            assert not any(t.startswith("\ufeff") for t in texts)


@needs_data
@pytest.mark.parametrize(("name", "n_val", "hub"), [("qnli", 5463, "nyu-mll/glue"), ("boolq", 3270, "aps/super_glue")])
def test_dev_only_tasks(name: str, n_val: int, hub: str) -> None:
    with pytest.raises(DataError) as info:
        load_task(name, DATA)
    msg = str(info.value)
    assert "train" in msg and "missing" in msg
    assert str(DATA) in msg  # says where it looked
    assert "split='validation'" in msg and hub in msg
    with pytest.raises(DataError):
        load_task(name, DATA, split="train")
    dd = _load(name, "validation")
    assert list(dd) == ["validation"]
    assert dd["validation"].num_rows == n_val


DISTRIBUTIONS = {
    ("rte", "train"): {"entailment": 1249, "not_entailment": 1241},
    ("rte", "validation"): {"entailment": 146, "not_entailment": 131},
    ("mrpc", "train"): {"not_equivalent": 1194, "equivalent": 2474},
    ("mrpc", "validation"): {"not_equivalent": 129, "equivalent": 279},
    ("cola", "train"): {"unacceptable": 2528, "acceptable": 6023},
    ("cola", "validation"): {"unacceptable": 322, "acceptable": 721},
    ("sst2", "train"): {"negative": 29780, "positive": 37569},
    ("sst2", "validation"): {"negative": 428, "positive": 444},
    ("cb", "train"): {"contradiction": 119, "entailment": 115, "neutral": 16},
    ("cb", "validation"): {"contradiction": 28, "entailment": 23, "neutral": 5},
    ("copa", "train"): {"choice1": 195, "choice2": 205},
    ("copa", "validation"): {"choice1": 55, "choice2": 45},
    ("wic", "train"): {"false": 2714, "true": 2714},
    ("wic", "validation"): {"false": 319, "true": 319},
}


@needs_data
@pytest.mark.parametrize(("name", "split"), sorted(DISTRIBUTIONS))
def test_label_distributions(name: str, split: str) -> None:
    assert _names(_load(name)[split]) == DISTRIBUTIONS[(name, split)]


@needs_data
def test_dev_only_label_distributions() -> None:
    assert _names(_load("boolq", "validation")["validation"]) == {"false": 1237, "true": 2033}
    assert _names(_load("qnli", "validation")["validation"]) == {"entailment": 2702, "not_entailment": 2761}


@needs_data
def test_stsb_float_scores() -> None:
    dd = _load("stsb")
    for ds in dd.values():
        scores = np.asarray(ds["label"][:])
        assert scores.min() >= 0.0 and scores.max() <= 5.0
    dev = np.asarray(dd["validation"]["label"][:])
    hist = np.histogram(dev, bins=[0, 1, 2, 3, 4, 5.0001])[0].tolist()
    assert hist == [344, 254, 273, 365, 264]
    assert dd["train"][1]["label"] == pytest.approx(3.8, abs=1e-6)


SPOT_CHECKS = [
    (
        "rte",
        "train",
        0,
        "No Weapons of Mass Destruction Found in Iraq Yet.",
        "Weapons of Mass Destruction Found in Iraq.",
        1,
    ),
    (
        "mrpc",
        "train",
        0,
        'Amrozi accused his brother, whom he called "the witness", of deliberately distorting his evidence.',
        'Referring to him as only "the witness", Amrozi accused his brother of deliberately distorting his evidence.',
        1,
    ),
    (
        "mrpc",
        "validation",
        0,
        "He said the foodservice pie business doesn't fit the company's long-term growth strategy.",
        '"The foodservice pie business does not fit our long-term growth strategy.',
        1,
    ),
    ("cola", "train", 0, "Our friends won't buy this analysis, let alone the next one we propose.", None, 1),
    ("cola", "validation", -1, "John talked to Bill about himself.", None, 1),
    ("stsb", "validation", 0, "A man with a hard hat is dancing.", "A man wearing a hard hat is dancing.", 5.0),
    ("sst2", "validation", 0, "it 's a charming and often affecting journey .", None, 1),
    ("sst2", "train", 0, "hide new secretions from the parental units", None, 0),
    (
        "cb",
        "train",
        0,
        "It was a complex language. Not written down but handed down. One might say it was peeled down.",
        "the language was peeled down",
        0,
    ),
    (
        "copa",
        "train",
        0,
        "My body cast a shadow over the grass. What was the cause?",
        "1) The sun was rising. 2) The grass was cut.",
        0,
    ),
    (
        "copa",
        "validation",
        0,
        "The man turned on the faucet. What was the effect?",
        "1) The toilet filled with water. 2) Water flowed from the spout.",
        1,
    ),
    ("wic", "train", 0, "carry: You must carry your camping gear .", "Sound carries well over water .", 0),
    ("wic", "validation", 0, "board: Room and board .", "He nailed boards across the windows .", 0),
]


@needs_data
@pytest.mark.parametrize(("name", "split", "index", "text_a", "text_b", "label"), SPOT_CHECKS)
def test_spot_check_rows(name: str, split: str, index: int, text_a: str, text_b: str | None, label: float) -> None:
    ds = _load(name)[split]
    row = ds[index % ds.num_rows]
    assert row["text_a"] == text_a
    assert row.get("text_b") == text_b
    assert row["label"] == label


@needs_data
def test_spot_check_dev_only_rows() -> None:
    boolq = _load("boolq", "validation")["validation"][0]
    assert boolq["text_a"] == "does ethanol take more energy make that produces"  # question first
    assert boolq["text_b"].startswith("Ethanol fuel -- All biomass goes through")
    assert boolq["label"] == 0
    qnli = _load("qnli", "validation")["validation"][1]
    assert qnli["text_a"] == "What is the first major city in the stream of the Rhine?"
    assert qnli["text_b"].startswith("The most important tributaries in this area are the Ill")
    assert qnli["label"] == 1


@needs_data
def test_split_alias_and_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    dd = load_task("cb", DATA, split="dev")
    assert list(dd) == ["validation"] and dd["validation"].num_rows == 56
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA))
    assert load_task("sts-b", split="validation")["validation"].num_rows == 1500
    with pytest.raises(ConfigError, match="'test'"):
        load_task("cb", DATA, split="test")


@needs_data
def test_limit_is_stratified_and_seeded() -> None:
    dd = load_task("cb", DATA, limit=20)
    assert dd["train"].num_rows == 20 and dd["validation"].num_rows == 20
    # 20 * (119, 115, 16) / 250 = (9.52, 9.2, 1.28) -> 10, 9, 1 by largest remainder
    assert _names(dd["train"]) == {"contradiction": 10, "entailment": 9, "neutral": 1}
    again = load_task("cb", DATA, limit=20)
    assert again["train"]["text_a"][:] == dd["train"]["text_a"][:]
    other = load_task("cb", DATA, limit=20, seed=1)
    assert other["train"]["text_a"][:] != dd["train"]["text_a"][:]
    assert _names(other["train"]) == _names(dd["train"])
    assert load_task("cb", DATA, limit=1000)["train"].num_rows == 250
    stsb = load_task("stsb", DATA, split="validation", limit=50)["validation"]
    assert stsb.num_rows == 50
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ConfigError):
            load_task("cb", DATA, limit=bad)  # type: ignore[arg-type]


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_task("rte", tmp_path / "nowhere")
    (tmp_path / "glue").mkdir()
    with pytest.raises(DataError, match=r"glue/RTE/train\.tsv"):
        load_task("rte", tmp_path)


def test_load_task_rejects_custom_spec(tmp_path: Path) -> None:
    csv_path = tmp_path / "mini.csv"
    csv_path.write_text("text,label\na,x\nb,y\nc,x\nd,y\n", encoding="utf-8")
    spec, _ = custom_task(csv_path, "text", "label", validation_fraction=0.5)
    with pytest.raises(ConfigError, match="custom_task"):
        load_task(spec)


def test_malformed_offline_file(tmp_path: Path) -> None:
    rte = tmp_path / "glue" / "RTE"
    rte.mkdir(parents=True)
    header = "index\tsentence1\tsentence2\tlabel\n"
    (rte / "train.tsv").write_text(header + "0\tA.\tB.\tentailment\n1\tC.\tD.\tmaybe\n", encoding="utf-8")
    (rte / "dev.tsv").write_text(header + "0\tA.\tB.\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unknown label 'maybe' at line 3"):
        load_task("rte", tmp_path, split="train")
    with pytest.raises(DataError, match=r"line 2 .* has 3 fields, expected 4"):
        load_task("rte", tmp_path, split="validation")


def test_hub_path_maps_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without data_dir the task loads from its Hub id; simulate the Hub schema offline."""
    calls = []
    rows = {
        ("nyu-mll/glue", "rte"): {"sentence1": ["P."], "sentence2": ["H."], "label": [1], "idx": [0]},
        ("aps/super_glue", "copa"): {
            "premise": ["It rained."],
            "choice1": ["Wet."],
            "choice2": ["Dry."],
            "question": ["effect"],
            "idx": [0],
            "label": [0],
        },
        ("aps/super_glue", "wic"): {
            "word": ["bank"],
            "sentence1": ["The bank of the river."],
            "sentence2": ["A bank loan."],
            "start1": [4],
            "start2": [2],
            "end1": [8],
            "end2": [6],
            "idx": [0],
            "label": [0],
        },
        ("nyu-mll/glue", "stsb"): {"sentence1": ["a"], "sentence2": ["b"], "label": [2.5], "idx": [0]},
    }

    def fake_load_dataset(path: str, name: str | None = None, *, split: str | None = None) -> datasets.Dataset:
        calls.append((path, name, split))
        return datasets.Dataset.from_dict(rows[(path, name)])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    rte = load_task("rte")
    assert [c[2] for c in calls] == ["train", "validation"]
    assert rte["train"][0] == {"text_a": "P.", "text_b": "H.", "label": 1}
    assert rte["train"].features["label"].names == ["entailment", "not_entailment"]
    copa = load_task("copa", split="validation")["validation"][0]
    assert copa == {"text_a": "It rained. What was the effect?", "text_b": "1) Wet. 2) Dry.", "label": 0}
    wic = load_task("wic", split="train")["train"][0]
    assert wic == {"text_a": "bank: The bank of the river.", "text_b": "A bank loan.", "label": 0}
    stsb = load_task("stsb", split="train")["train"]
    assert stsb.features["label"] == datasets.Value("float32") and stsb[0]["label"] == 2.5


# ---------------------------------------------------------------------------
# Custom tasks
# ---------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_custom_csv_single_text_with_split(tmp_path: Path) -> None:
    lines = ["text,label"]
    for i in range(30):
        label = "pos" if i % 3 else "neg"
        lines.append(f'"review {i}, with a comma and ""quotes""",{label}')
    path = _write(tmp_path / "Reviews.csv", "\n".join(lines) + "\n")
    spec, data = custom_task(path, "text", "label", validation_fraction=0.2, seed=3)
    assert spec.name == "reviews" and spec.benchmark == "custom"
    assert spec.labels == ("neg", "pos") and spec.text_columns == ("text_a",)
    assert spec.problem_type == "single_label_classification" and spec.num_labels == 2
    assert data["train"].column_names == ["text_a", "label"]
    assert data["train"].num_rows + data["validation"].num_rows == 30
    assert data["validation"].num_rows == 6
    assert _names(data["validation"]) == {"neg": 2, "pos": 4}  # stratified: 10/20 of 30 -> 2/4 of 6
    texts = data["train"]["text_a"][:] + data["validation"]["text_a"][:]
    assert sorted(texts) == sorted(f'review {i}, with a comma and "quotes"' for i in range(30))
    again = custom_task(path, "text", "label", validation_fraction=0.2, seed=3)[1]
    assert again["validation"]["text_a"][:] == data["validation"]["text_a"][:]
    other = custom_task(path, "text", "label", validation_fraction=0.2, seed=4)[1]
    assert other["validation"]["text_a"][:] != data["validation"]["text_a"][:]


def test_custom_jsonl_pair_with_validation_file(tmp_path: Path) -> None:
    train = [{"q": f"q{i}", "p": f"p{i}", "y": y} for i, y in enumerate([10, 9, 2, 10, 2, 9])]
    val = [{"q": "vq", "p": "vp", "y": 9}]
    tp = _write(tmp_path / "train.jsonl", "\n".join(json.dumps(r) for r in train) + "\n\n")
    vp = _write(tmp_path / "dev.jsonl", json.dumps(val[0]) + "\n")
    spec, data = custom_task(tp, ["q", "p"], "y", validation=vp, name="my-task")
    assert spec.name == "my-task"
    assert spec.labels == ("2", "9", "10")  # numeric labels sort numerically
    assert spec.text_columns == ("text_a", "text_b")
    assert data["train"].num_rows == 6 and data["validation"].num_rows == 1
    assert data["validation"][0] == {"text_a": "vq", "text_b": "vp", "label": 1}
    assert data["train"].features["label"].names == ["2", "9", "10"]


def test_custom_tsv_json_and_regression(tmp_path: Path) -> None:
    tsv = _write(tmp_path / "d.tsv", 'a\tb\tscore\nhe said "hi\tok\t1.5\nx\ty\t3\nz\tw\t0.25\nu\tv\t2\n')
    spec, data = custom_task(tsv, ("a", "b"), "score", problem_type="regression", validation_fraction=0.25)
    assert spec.problem_type == "regression" and spec.num_labels == 1 and spec.labels == ()
    assert spec.metrics == ("pearson", "spearmanr", "combined_score")
    assert data["train"].features["label"] == datasets.Value("float32")
    all_rows = data["train"].to_list() + data["validation"].to_list()
    assert {"text_a": 'he said "hi', "text_b": "ok", "label": 1.5} in all_rows
    records = [{"t": f"s{i}", "l": bool(i % 2)} for i in range(10)]
    js = _write(tmp_path / "recs.json", json.dumps(records))
    spec, data = custom_task(js, "t", "l", validation_fraction=0.2)
    assert spec.labels == ("false", "true")
    assert _names(data["validation"]) == {"false": 1, "true": 1}
    cols = _write(tmp_path / "cols.json", json.dumps({"t": ["a", "b", "c", "d"], "l": [1.0, 0, 1, 0.0]}))
    spec, _ = custom_task(cols, "t", "l", validation_fraction=0.5)
    assert spec.labels == ("0", "1")  # 1.0 and 1 are the same class


def test_custom_many_float_labels_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = ["t,s"] + [f"text {i},{(i % 25) / 7:.3f}" for i in range(50)]
    path = _write(tmp_path / "scores.csv", "\n".join(lines))
    with caplog.at_level("WARNING", logger="headzoo.tasks"):
        spec, _ = custom_task(path, "t", "s", validation_fraction=0.5)
    assert spec.problem_type == "single_label_classification"
    assert "problem_type='regression'" in caplog.text


def test_custom_hub_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    feats = datasets.Features(
        {"sentence": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos", "mixed"])}
    )
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"sentence": ["a", "b", "c"], "label": [2, 0, 1]}, features=feats),
            "validation": datasets.Dataset.from_dict({"sentence": ["d"], "label": [2]}, features=feats),
        }
    )
    seen = []

    def fake_load_dataset(path: str, name: str | None = None, **kwargs: object) -> datasets.DatasetDict:
        seen.append((path, name))
        return dd

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    spec, data = custom_task("someone/reviews:en", "sentence", "label")
    assert seen == [("someone/reviews", "en")]
    assert spec.hub_id == ("someone/reviews", "en") and spec.name == "reviews-en"
    assert spec.labels == ("neg", "pos", "mixed")  # the Hub ClassLabel order is kept
    assert data["validation"][0] == {"text_a": "d", "label": 2}


def test_custom_errors_missing_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist") as info:
        custom_task(tmp_path / "nope.csv", "text", "label")
    assert "nope.csv" in str(info.value)
    xlsx = tmp_path / "book.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'.*\.csv, \.tsv, \.json or \.jsonl"):
        custom_task(xlsx, "text", "label")
    with pytest.raises(DataError, match="unsupported file type"):
        custom_task(tmp_path / "missing.parquet", "text", "label")


def test_custom_error_missing_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "sentence,gold\na,1\nb,0\n")
    with pytest.raises(DataError) as info:
        custom_task(path, "text", "label")
    msg = str(info.value)
    assert "'text'" in msg and "'label'" in msg and "available columns: 'sentence', 'gold'" in msg


def test_custom_error_empty_split(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "text,label\n")
    with pytest.raises(DataError, match="no data rows"):
        custom_task(path, "text", "label")
    good = _write(tmp_path / "t.csv", "text,label\na,1\nb,0\n")
    empty_val = _write(tmp_path / "v.jsonl", "\n")
    with pytest.raises(DataError, match=r"v\.jsonl.*no data rows"):
        custom_task(good, "text", "label", validation=empty_val)


def test_custom_error_unseen_validation_label(tmp_path: Path) -> None:
    train = _write(tmp_path / "t.csv", "text,label\na,cat\nb,dog\n")
    val = _write(tmp_path / "v.csv", "text,label\nc,cat\nd,bird\n")
    with pytest.raises(DataError) as info:
        custom_task(train, "text", "label", validation=val)
    msg = str(info.value)
    assert "'bird'" in msg and "row 2 (line 3)" in msg and "v.csv" in msg and "'cat', 'dog'" in msg


def test_custom_error_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\ncaf" + b"\xe9,1\nb,0\n")
    with pytest.raises(DataError) as info:
        custom_task(path, "text", "label")
    msg = str(info.value)
    assert "latin.csv" in msg and "UTF-8" in msg and "byte offset 14" in msg and "0xe9" in msg
    assert "Re-encode" in msg


@pytest.mark.parametrize(
    ("suffix", "content", "where"),
    [
        (".csv", "text,label\na,1\n,0\nc,1\n", "row 2 (line 3)"),
        (".csv", "text,label\na,1\n   ,0\n", "row 2 (line 3)"),
        (".jsonl", '{"text": "a", "label": 1}\n{"text": null, "label": 0}\n', "row 2 (line 2)"),
        (".json", '[{"text": "a", "label": 1}, {"label": 0}]', "record 2"),
    ],
)
def test_custom_error_empty_text(tmp_path: Path, suffix: str, content: str, where: str) -> None:
    path = _write(tmp_path / f"d{suffix}", content)
    with pytest.raises(DataError) as info:
        custom_task(path, "text", "label")
    msg = str(info.value)
    assert where in msg and "'text'" in msg and "empty" in msg


def test_custom_error_empty_label_and_bad_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "text,label\na,1\nb,\n")
    with pytest.raises(DataError, match=r"row 2 \(line 3\).*label column 'label' is empty"):
        custom_task(path, "text", "label")
    path = _write(tmp_path / "e.tsv", "text\tlabel\na\t1\tEXTRA\n")
    with pytest.raises(DataError, match=r"line 2 .* has 3 fields, expected 2"):
        custom_task(path, "text", "label")
    path = _write(tmp_path / "f.jsonl", '{"text": "a", "label": 1}\n{"text": "b", label: 0}\n')
    with pytest.raises(DataError, match=r"line 2 .* not valid JSON"):
        custom_task(path, "text", "label")
    path = _write(tmp_path / "r.csv", "text,score\na,1.5\nb,high\n")
    with pytest.raises(DataError, match=r"'high' is not a finite number"):
        custom_task(path, "text", "score", problem_type="regression")
    path = _write(tmp_path / "one.csv", "text,label\na,x\nb,x\n")
    with pytest.raises(DataError, match="single label value 'x'"):
        custom_task(path, "text", "label")


def test_custom_argument_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "text,other,label\na,b,1\nc,d,0\ne,f,1\ng,h,0\n")
    with pytest.raises(ConfigError):
        custom_task(path, ["text", "other", "label"], "label")
    with pytest.raises(ConfigError):
        custom_task(path, "text", "label", validation_fraction=1.0)
    with pytest.raises(ConfigError):
        custom_task(path, "text", "label", problem_type="multi_label")
    with pytest.raises(InvalidNameError, match="built-in task 'rte'"):
        custom_task(path, "text", "label", name="rte")
    with pytest.raises(InvalidNameError):
        custom_task(path, "text", "label", name="Bad Name")
    singles = _write(tmp_path / "s.csv", "text,label\na,1\nb,0\n")
    with pytest.raises(DataError, match="single example"):
        custom_task(singles, "text", "label")


def test_library_does_not_print(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "d.csv", "text,label\na,1\nb,0\nc,1\nd,0\n")
    custom_task(path, "text", "label", validation_fraction=0.5)
    compute_metrics("rte", [0, 1], [0, 1])
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_tasks_module_does_not_import_typer() -> None:
    code = "import sys, headzoo.tasks; assert 'typer' not in sys.modules, 'typer imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def test_metrics_accuracy_and_f1() -> None:
    assert compute_metrics(get_task("rte"), [0, 1, 1, 0], [0, 1, 0, 0]) == {"accuracy": 0.75}
    # MRPC: tp=2, fp=1, fn=0 -> precision 2/3, recall 1, F1 0.8
    assert compute_metrics("mrpc", [1, 0, 1, 1], [1, 0, 0, 1]) == pytest.approx({"accuracy": 0.75, "f1": 0.8})


def test_metrics_cola_mcc() -> None:
    # tp=1, tn=2, fp=1, fn=0 -> (1*2 - 1*0) / sqrt(2*1*3*2) = 2/sqrt(12)
    got = compute_metrics("cola", [1, 1, 0, 0], [1, 0, 0, 0])
    assert got == pytest.approx({"matthews_correlation": 2 / math.sqrt(12), "accuracy": 0.75})


def test_metrics_cb_macro_f1() -> None:
    # class 0: P=1/2 R=1 F1=2/3; class 1: P=1 R=1/2 F1=2/3; class 2: F1=0 -> macro 4/9
    got = compute_metrics("cb", [0, 1, 2, 0], [0, 1, 1, 2])
    assert got == pytest.approx({"accuracy": 0.5, "macro_f1": 4 / 9})


def test_metrics_stsb_correlations() -> None:
    got = compute_metrics("stsb", [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0])
    # deviations (-1.5,-.5,.5,1.5) vs (-1.5,.5,-.5,1.5): cov 4, variances 5 -> r = 0.8; same for ranks
    assert got == pytest.approx({"pearson": 0.8, "spearmanr": 0.8, "combined_score": 0.8})
    perfect = compute_metrics("stsb", [1, 2, 3, 4], [2, 4, 6, 9])
    assert perfect["spearmanr"] == pytest.approx(1.0) and perfect["pearson"] < 1.0
    assert all(isinstance(v, float) for v in perfect.values())
    constant = compute_metrics("stsb", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    assert math.isnan(constant["pearson"]) and math.isnan(constant["combined_score"])


def test_metrics_logits_and_errors() -> None:
    assert compute_metrics("rte", np.array([[0.9, 0.1], [0.2, 0.8]]), [0, 1]) == {"accuracy": 1.0}
    with pytest.raises(DataError, match="2 predictions but 3 references"):
        compute_metrics("rte", [0, 1], [0, 1, 1])
    with pytest.raises(DataError):
        compute_metrics("rte", [], [])


@dataclasses.dataclass
class _EvalPrediction:
    """Stand-in for transformers.EvalPrediction (same attributes), to keep the test free of a heavy import."""

    predictions: object
    label_ids: object


def test_metric_interval_covers_the_figure_and_narrows_with_more_rows() -> None:
    rng = np.random.default_rng(1)
    refs = rng.integers(0, 2, 4000)
    preds = np.where(rng.random(4000) < 0.8, refs, 1 - refs)
    wide = metric_interval("sst2", preds[:200], refs[:200])
    narrow = metric_interval("sst2", preds, refs)
    for (low, high), n in ((wide, 200), (narrow, 4000)):
        figure = compute_metrics("sst2", preds[:n], refs[:n])["accuracy"]
        assert low < figure < high
    assert narrow[1] - narrow[0] < (wide[1] - wide[0]) / 2  # about 1/sqrt(20) as wide
    logits = np.stack([-preds, preds], axis=1).astype(float)  # 2-D logits give the same interval as their argmax
    assert metric_interval("sst2", logits, refs) == narrow
    assert metric_interval("sst2", preds, refs, seed=3) != narrow  # the draws are seeded
    low, high = metric_interval("cola", np.zeros(50), rng.integers(0, 2, 50))  # a constant: MCC nan, counted as 0
    assert low == high == 0.0
    with pytest.raises(DataError, match="one prediction per example, got 2 and 3"):
        metric_interval("sst2", [0, 1], [0, 1, 1])
    with pytest.raises(DataError, match=r"level must be between 0 and 1, got 1\.5"):
        metric_interval("sst2", [0, 1], [0, 1], level=1.5)


def test_metric_fn_for_trainer() -> None:
    fn = metric_fn_for_trainer(get_task("cb"))
    logits = np.array([[2.0, 0.1, 0.0], [0.0, 1.0, 0.5], [0.0, 0.2, 3.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    got = fn(_EvalPrediction(predictions=logits, label_ids=np.array([0, 1, 1, 2])))
    assert got == pytest.approx({"accuracy": 0.5, "macro_f1": 4 / 9})
    # (logits, hidden_states) tuple from the model
    hidden = np.zeros((4, 3, 8), dtype=np.float32)
    assert fn(_EvalPrediction(predictions=(logits, hidden), label_ids=np.array([0, 1, 2, 0])))["accuracy"] == 1.0
    # a single BCE logit per example
    rte = metric_fn_for_trainer("rte")
    got = rte(_EvalPrediction(predictions=np.array([[2.0], [-1.0], [0.5]]), label_ids=np.array([1, 0, 0])))
    assert got == pytest.approx({"accuracy": 2 / 3})
    stsb = metric_fn_for_trainer("stsb")
    preds = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    got = stsb(_EvalPrediction(predictions=preds, label_ids=np.array([1, 3, 2, 4.0], dtype=np.float32)))
    assert got == pytest.approx({"pearson": 0.8, "spearmanr": 0.8, "combined_score": 0.8})
    # a plain (predictions, label_ids) pair works too
    assert metric_fn_for_trainer("rte")(([[0.2, 0.9], [3.0, -1.0]], [1, 0])) == {"accuracy": 1.0}


def test_custom_csv_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\r\ncaf\xc3\xa9,yes\r\nb,no\r\nc,yes\r\nd,no\r\n")
    spec, data = custom_task(path, "text", "label", validation_fraction=0.5)
    assert spec.labels == ("no", "yes")
    texts = data["train"]["text_a"][:] + data["validation"]["text_a"][:]
    assert sorted(texts) == ["b", "c", "café", "d"]


# ---------------------------------------------------------------------------
# Sampling: the one stratified, seeded sampler
# ---------------------------------------------------------------------------

# 57 / 30 / 13 of 100, shuffled so classes are interleaved
_LABELS = [int(x) for x in np.random.default_rng(7).permutation([0] * 57 + [1] * 30 + [2] * 13)]


def _assert_stratified(picked: list[int], labels: list[int], k: int) -> None:
    counts = Counter(labels)
    got = Counter(labels[i] for i in picked)
    for y, c in counts.items():
        assert abs(got[y] - k * c / len(labels)) < 1, (y, got[y], k * c / len(labels))


@pytest.mark.parametrize("k", [1, 7, 10, 33, 50, 99, 100])
def test_sample_indices_is_stratified(k: int) -> None:
    picked = sample_indices(_LABELS, len(_LABELS), k, seed=0)
    assert len(picked) == k and picked == sorted(set(picked)) and all(0 <= i < len(_LABELS) for i in picked)
    _assert_stratified(picked, _LABELS, k)


def test_sample_indices_follows_the_seed() -> None:
    n = len(_LABELS)
    first = sample_indices(_LABELS, n, 20, seed=0)
    assert sample_indices(_LABELS, n, 20, seed=0) == first  # deterministic across calls
    assert sample_indices(list(_LABELS), n, 20, seed=0) == first  # depends on values, not the list object
    subsets = {tuple(sample_indices(_LABELS, n, 20, seed=s)) for s in range(6)}
    assert len(subsets) == 6  # different seeds -> different subsets
    # pinned: built-in task subsets and committed benchmark records depend on these exact indices
    assert sample_indices([0, 0, 0, 0, 1, 1], 6, 3, seed=0) == [0, 2, 5]
    assert sample_indices(None, 10, 4, seed=1) == sample_indices(None, 10, 4, seed=1)
    assert len(set(sample_indices(None, 10, 4, seed=1))) == 4


def test_sample_indices_leave_per_class_and_errors() -> None:
    labels = [0] * 5 + [1] * 3 + [2]
    picked = sample_indices(labels, 9, 8, seed=0, leave_per_class=1)
    assert Counter(labels[i] for i in picked) == {0: 4, 1: 2}  # one of each class left, so 6 of the 8 asked
    with pytest.raises(ConfigError, match="between 0 and 9"):
        sample_indices(labels, 9, 10, seed=0)
    with pytest.raises(ConfigError, match="8 labels for 9"):
        sample_indices(labels[:-1], 9, 3, seed=0)


def test_limit_dataset_is_stratified_and_seeded() -> None:
    ds = datasets.Dataset.from_dict({"text_a": [f"t{i}" for i in range(len(_LABELS))], "label": _LABELS})
    small = limit_dataset(ds, 25, seed=0)
    picked = [int(t[1:]) for t in small["text_a"][:]]
    assert small.num_rows == 25 and picked == sorted(picked)  # file order
    _assert_stratified(picked, _LABELS, 25)
    assert limit_dataset(ds, 25, seed=0)["text_a"][:] == small["text_a"][:]
    assert limit_dataset(ds, 25, seed=1)["text_a"][:] != small["text_a"][:]
    assert limit_dataset(ds, None, seed=0) is ds and limit_dataset(ds, 1000, seed=0) is ds
    scores = datasets.Dataset.from_dict({"text_a": list("abcdefgh"), "label": [0.5 * i for i in range(8)]})
    assert limit_dataset(scores, 3, seed=2, stratify=False)["text_a"][:] == [
        scores["text_a"][i] for i in sample_indices(None, 8, 3, seed=2)
    ]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="limit"):
            limit_dataset(ds, bad, seed=0)  # type: ignore[arg-type]


def test_limit_dataset_on_custom_task_data(tmp_path: Path) -> None:
    rows = ["text,label", *(f"review {i},{('bad', 'good', 'meh')[y]}" for i, y in enumerate(_LABELS))]
    spec, data = custom_task(_write(tmp_path / "r.csv", "\n".join(rows) + "\n"), "text", "label", seed=0)
    train = data["train"]
    labels = train["label"][:]
    small = limit_dataset(train, 30, seed=5, stratify=not spec.is_regression)
    assert small.num_rows == 30 and small.features == train.features
    assert small["text_a"][:] == [train["text_a"][i] for i in sample_indices(labels, len(labels), 30, seed=5)]
    _assert_stratified(sample_indices(labels, len(labels), 30, seed=5), labels, 30)
    assert limit_dataset(train, 30, seed=5)["text_a"][:] == small["text_a"][:]
    assert limit_dataset(train, 30, seed=6)["text_a"][:] != small["text_a"][:]
    # the validation split custom_task cuts off is stratified by the same sampler
    assert _names(data["validation"]) == {"bad": 6, "good": 3, "meh": 1}  # 10 * (57, 30, 13) / 100


@needs_data
def test_load_task_limit_is_limit_dataset() -> None:
    full = _load("rte", "train")["train"]
    assert load_task("rte", DATA, split="train", limit=40, seed=3)["train"]["text_a"][:] == (
        limit_dataset(full, 40, seed=3)["text_a"][:]
    )
