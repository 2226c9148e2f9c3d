"""Several labels per example: list-of-labels and 0/1 columns, metrics, both stages, the zoo and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch

import headzoo
from headzoo import Head
from headzoo.cli import main
from headzoo.errors import ConfigError, DataError
from headzoo.tasks import (
    MULTI_LABEL,
    MULTI_LABEL_THRESHOLD,
    TaskSpec,
    compute_metrics,
    custom_task,
    dataset_task,
    metric_fn_for_trainer,
)
from headzoo.train import finetune, prepare_data, pretrain_head
from headzoo.train.data import load_raw

from .tiny_task import one_thread  # noqa: F401 (fixture)

FAST = {"max_steps": 2, "batch_size": 8, "max_length": 32}


def _tags(i: int) -> list[str]:
    return [t for t, on in (("sports", i % 2 == 0), ("politics", i % 3 == 0), ("music", i % 5 == 0)) if on]


def _text(i: int) -> str:
    words = {"sports": "ball goal", "politics": "vote law", "music": "song band"}
    return " ".join([words[t] for t in _tags(i)] or ["the weather"]) + f" {i}"


def _tagged(n: int = 30) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": [_text(i) for i in range(n)], "tags": [_tags(i) for i in range(n)]})


def _spec(labels: tuple[str, ...] = ("a", "b", "c")) -> TaskSpec:
    return TaskSpec(name="ml", benchmark="custom", text_columns=("text_a",), labels=labels, problem_type=MULTI_LABEL,
                    num_labels=len(labels), metrics=("micro_f1", "macro_f1", "accuracy"), main_metric="micro_f1")


# ---------------------------------------------------------------------------
# reading: list columns, ClassLabel lists, 0/1 columns, CSV with a separator
# ---------------------------------------------------------------------------


def test_a_list_column_is_a_multi_label_task_with_float_multi_hot_rows() -> None:
    spec, data = dataset_task(_tagged(), label_column="tags", name="news")
    assert spec.problem_type == MULTI_LABEL and spec.is_multi_label
    assert spec.labels == ("music", "politics", "sports") and spec.num_labels == 3
    assert spec.main_metric == "micro_f1" and spec.metrics == ("micro_f1", "macro_f1", "accuracy")
    feature = data["train"].features["label"]
    assert feature.length == 3 and feature.feature.dtype == "float32"
    rows = {t: y for t, y in zip(data["train"]["text_a"], data["train"]["label"], strict=True)}
    assert rows[_text(0)] == [1.0, 1.0, 1.0] and rows[_text(1)] == [0.0, 0.0, 0.0]
    assert rows[_text(3)] == [0.0, 1.0, 0.0]
    assert data["train"].num_rows + data["validation"].num_rows == 30


def test_a_list_of_classlabel_keeps_its_names_and_order() -> None:
    features = datasets.Features({"text": datasets.Value("string"),
                                  "labels": datasets.Sequence(datasets.ClassLabel(names=["joy", "anger", "fear"]))})
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c", "d"] * 3, "labels": [[0], [1, 2], [], [2]] * 3},
                                    features=features)
    spec, data = dataset_task(datasets.DatasetDict({"train": ds, "validation": ds}))
    assert spec.labels == ("joy", "anger", "fear")
    assert data["validation"]["label"][:4] == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


def test_one_01_column_per_label() -> None:
    ds = datasets.Dataset.from_dict({
        "comment": ["you fool", "nice", "idiot and worse", "ok"] * 3,
        "toxic": [1, 0, 1, 0] * 3, "obscene": [False, False, True, False] * 3, "insult": ["1", "0", "true", "0"] * 3,
    })
    spec, data = dataset_task(ds, "comment", label_columns=["toxic", "obscene", "insult"], name="toxicity")
    assert spec.labels == ("toxic", "obscene", "insult") and spec.is_multi_label  # the columns' order
    rows = dict(zip(data["train"]["text_a"], data["train"]["label"], strict=True))
    assert rows["idiot and worse"] == [1.0, 1.0, 1.0] and rows["nice"] == [0.0, 0.0, 0.0]


def test_csv_cells_are_split_at_the_separator_and_json_lists_are_found(tmp_path: Path) -> None:
    csv_path = tmp_path / "posts.csv"
    csv_path.write_text("text,tags\n" + "".join(f"{_text(i)},{'|'.join(_tags(i))}\n" for i in range(20)),
                        encoding="utf-8")
    spec, data = custom_task(csv_path, "text", "tags", problem_type="multi_label_classification")
    assert spec.labels == ("music", "politics", "sports") and spec.name == "posts"
    rows = dict(zip(data["train"]["text_a"], data["train"]["label"], strict=True))
    assert rows.get(_text(1), [0.0, 0.0, 0.0]) == [0.0, 0.0, 0.0]  # an empty cell: no label
    semi = tmp_path / "semi.tsv"
    semi.write_text("text\ttags\n" + "".join(f"{_text(i)}\t{' ; '.join(_tags(i))}\n" for i in range(20)),
                    encoding="utf-8")
    assert custom_task(semi, "text", "tags", problem_type=MULTI_LABEL, label_separator=";")[0].labels == spec.labels
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text("".join(json.dumps({"text": _text(i), "tags": _tags(i)}) + "\n" for i in range(20)),
                     encoding="utf-8")
    assert custom_task(jsonl, "text", "tags")[0].problem_type == MULTI_LABEL  # lists: no flag needed
    cols = tmp_path / "cols.csv"
    cols.write_text("text,a,b\n" + "".join(f"t{i},{i % 2},{int(i % 3 == 0)}\n" for i in range(20)), encoding="utf-8")
    assert custom_task(cols, "text", label_columns=["a", "b"])[0].labels == ("a", "b")


def test_a_limit_draws_a_plain_seeded_subset() -> None:
    spec, raw = load_raw(dataset_task(_tagged(40), label_column="tags"), None, limit=8, seed=2)
    assert raw["train"].num_rows == 8 and spec.is_multi_label
    again = load_raw(dataset_task(_tagged(40), label_column="tags"), None, limit=8, seed=2)[1]
    assert again["train"]["text_a"][:] == raw["train"]["text_a"][:]


# ---------------------------------------------------------------------------
# bad input: ragged rows, unknown labels, non-0/1 columns
# ---------------------------------------------------------------------------


def test_a_row_that_is_not_a_list_like_the_others_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ragged.jsonl"
    rows = [{"text": "a", "tags": ["x"]}, {"text": "b", "tags": ["y", "x"]}, {"text": "c", "tags": "x"}] * 2
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3 \(line 3\).*holds a list of labels in other rows but 'x' here.*"
                                        r"\['x'\]"):
        custom_task(path, "text", "tags")


def test_a_01_vector_in_a_list_column_is_refused_with_the_label_columns_fix() -> None:
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c"] * 2, "tags": [[1, 0, 1], [0, 1, 0], [1, 1, 0]] * 2})
    with pytest.raises(DataError, match=r"row 0 \(ds\[0\]\): label '1' appears twice.*label_columns="):
        dataset_task(ds, label_column="tags")
    floats = datasets.Dataset.from_dict({"text": ["a", "b"] * 2, "tags": [[1.0, 0.0], [0.0, 1.0]] * 2})
    with pytest.raises(DataError, match=r"label column 'tags'.*lists of label names or ClassLabel ids.*label_columns"):
        dataset_task(floats, label_column="tags")


def test_an_unknown_label_in_validation_names_the_row(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": _text(i), "tags": _tags(i)}) + "\n" for i in range(12)),
                     encoding="utf-8")
    dev = tmp_path / "dev.jsonl"
    dev.write_text(json.dumps({"text": "x", "tags": ["sports"]}) + "\n" + json.dumps({"text": "y", "tags": ["jazz"]})
                   + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2 \(line 2\) of .*dev.jsonl.*label 'jazz' never occurs in the train"):
        custom_task(train, "text", "tags", validation=dev)
    features = datasets.Features({"text": datasets.Value("string"),
                                  "labels": datasets.Sequence(datasets.ClassLabel(names=["a", "b"]))})
    ds = datasets.Dataset.from_dict({"text": ["p", "q"] * 2, "labels": [[0], [1]] * 2}, features=features)
    bad = ds.cast_column("labels", datasets.Sequence(datasets.Value("int64"))).map(
        lambda r, i: {"labels": [5] if i == 1 else r["labels"]}, with_indices=True)
    bad = bad.cast_column("labels", datasets.Sequence(datasets.Value("int64")))
    with pytest.raises(DataError, match=r"row 1 \(ds\['dev'\]\[1\]\): label id 5 in column 'labels' is outside 0..1"):
        dataset_task(datasets.DatasetDict({"train": ds, "dev": bad}))


def test_01_columns_must_hold_0_or_1() -> None:
    base = {"text": ["a", "b", "c", "d"], "toxic": [1, 0, 1, 0]}
    for value, shown in (("yes", "'yes'"), (0.5, "0.5"), (2, "2")):
        ds = datasets.Dataset.from_dict({**base, "insult": [0, 1, value, 0]} if not isinstance(value, str)
                                        else {**base, "insult": ["0", "1", value, "0"]})
        with pytest.raises(DataError, match=rf"row 2 \(ds\[2\]\): label column 'insult' must hold 0 or 1.*{shown}"):
            dataset_task(ds, label_columns=["toxic", "insult"])
    empty = datasets.Dataset.from_dict({**base, "insult": [0, None, 1, 0]})
    with pytest.raises(DataError, match=r"row 1 \(ds\[1\]\): label column 'insult' is empty"):
        dataset_task(empty, label_columns=["toxic", "insult"])
    with pytest.raises(DataError, match=r"'obscene'.*not found"):
        dataset_task(datasets.Dataset.from_dict(base), label_columns=["toxic", "obscene"])


def test_bad_multi_label_arguments() -> None:
    with pytest.raises(ConfigError, match="at least 2 different 0/1 columns"):
        dataset_task(_tagged(), label_columns=["tags"])
    with pytest.raises(DataError, match="holds lists of labels, but problem_type='single_label_classification'"):
        dataset_task(_tagged(), label_column="tags", problem_type="classification")
    one = datasets.Dataset.from_dict({"text": ["a", "b"] * 2, "tags": [["x"], []] * 2})
    with pytest.raises(DataError, match=r"1 distinct label.*at least two"):
        dataset_task(one, label_column="tags")
    with pytest.raises(ConfigError, match="label_columns make a multi-label task, but problem_type='regression'"):
        dataset_task(_tagged(), label_columns=["a", "b"], problem_type="regression")


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def test_metrics_at_the_documented_threshold() -> None:
    assert MULTI_LABEL_THRESHOLD == 0.5
    refs = [[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]]
    preds = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]]
    m = compute_metrics(_spec(), preds, refs)
    assert m["accuracy"] == 0.5  # subset accuracy: the middle two rows are exactly right
    assert m["micro_f1"] == pytest.approx(2 * 4 / (2 * 4 + 1 + 1))  # tp 4, fn 1, fp 1
    assert m["macro_f1"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)  # a and b right, c: tp 0
    logits = np.where(np.asarray(preds) == 1, 2.0, -2.0)
    assert compute_metrics(_spec(), logits, refs) == m
    # sigmoid(0) = 0.5 is not above the threshold: a zero logit predicts nothing
    assert compute_metrics(_spec(), np.zeros((4, 3)), refs)["micro_f1"] == 0.0
    fn = metric_fn_for_trainer(_spec())
    assert fn((logits.astype(np.float32), np.asarray(refs, dtype=np.float32))) == m


def test_metric_inputs_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(DataError, match=r"shape \(examples, 3\), got \(4,\)"):
        compute_metrics(_spec(), [0, 1, 0, 1], [[0, 1, 0]] * 4)
    with pytest.raises(DataError, match="must be 0 or 1, got 2"):
        compute_metrics(_spec(), [[0, 1, 0]], [[0, 2, 0]])
    with pytest.raises(DataError, match="2 predictions but 1 references"):
        compute_metrics(_spec(), [[0, 1, 0]] * 2, [[0, 1, 0]])


# ---------------------------------------------------------------------------
# training, the zoo and loading
# ---------------------------------------------------------------------------


def test_stage_1_trains_with_bce_and_the_zoo_head_loads_as_multi_label(tiny_backbone: Path, zoo_dir: Path) -> None:
    task = dataset_task(_tagged(), label_column="tags", name="news")
    data = prepare_data(task, str(tiny_backbone), data_dir=None, limit=None, max_length=32)
    assert data.info["problem_type"] == MULTI_LABEL
    head = pretrain_head(task, str(tiny_backbone), "bitfit", settings=FAST)
    c = head.config
    assert c.problem_type == MULTI_LABEL and c.id2label == {0: "music", 1: "politics", 2: "sports"}
    assert set(c.metrics) >= {"micro_f1", "macro_f1", "accuracy"}
    saved = json.loads((head.path / "head_config.json").read_text(encoding="utf-8"))
    assert saved["problem_type"] == MULTI_LABEL and saved["num_labels"] == 3
    loaded = Head.load(head.path)
    assert loaded.config.problem_type == MULTI_LABEL
    assert all(torch.equal(loaded.tensors[k], head.tensors[k]) for k in head.tensors)

    model = headzoo.load_head("news", str(tiny_backbone), method="bitfit")
    assert model.config.problem_type == MULTI_LABEL and model.config.id2label == c.id2label
    assert torch.equal(model.classifier.weight, head.tensors["classifier.weight"].to(model.classifier.weight.dtype))
    batch = data.tokenizer(["ball goal 0"], return_tensors="pt")
    labels = torch.tensor([[0.0, 0.0, 1.0]])
    out = model(**batch, labels=labels)  # transformers picks BCE from problem_type
    assert out.loss.item() == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(out.logits, labels).item(), rel=1e-5)


def test_a_multi_label_head_applies_to_a_model_with_the_same_labels_in_another_order(tiny_backbone: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    head = pretrain_head(dataset_task(_tagged(), label_column="tags", name="news"), str(tiny_backbone), "bitfit",
                         settings=FAST, save=False)
    order = {0: "sports", 1: "music", 2: "politics"}
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_backbone, num_labels=3, id2label=order, label2id={v: k for k, v in order.items()})
    head.apply(model)
    assert model.config.problem_type == MULTI_LABEL and model.config.id2label == order
    rows = head.tensors["classifier.weight"]  # music, politics, sports
    assert torch.equal(model.classifier.weight.detach(), rows[[2, 0, 1]])


def test_finetune_on_01_columns_reports_multi_label_metrics(tiny_backbone: Path, tmp_path: Path) -> None:
    ds = datasets.Dataset.from_dict({
        "text": [_text(i) for i in range(24)],
        "sports": [int(i % 2 == 0) for i in range(24)], "politics": [int(i % 3 == 0) for i in range(24)],
    })
    result = finetune(dataset_task(ds, label_columns=["sports", "politics"], name="two"), str(tiny_backbone),
                      strategy="eh-ft", method="bitfit", epochs=1, batch_size=8, max_length=32,
                      output_dir=tmp_path / "run")
    assert result.main_metric == "micro_f1" and set(result.final) >= {"micro_f1", "macro_f1", "accuracy"}
    assert result.model.config.problem_type == MULTI_LABEL
    assert result.settings["data"]["problem_type"] == MULTI_LABEL


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_multi_label_from_a_csv_and_from_01_columns(tiny_backbone: Path, tmp_path: Path, zoo_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("text,tags,sports,politics\n" + "".join(
        f"{_text(i)},{';'.join(_tags(i))},{int(i % 2 == 0)},{int(i % 3 == 0)}\n" for i in range(24)), encoding="utf-8")
    common = ("--backbone", str(tiny_backbone), "--data-file", str(path), "--text-column", "text", "--method",
              "bitfit", "--max-steps", "2", "--batch-size", "8", "--max-length", "32", "--no-progress")
    code, out, err = _run(capsys, "train", "posts", *common, "--label-column", "tags", "--multi-label",
                          "--label-separator", ";")
    assert code == 0, err
    assert "micro_f1=" in out
    head = Head.load(headzoo.list_heads()[0].path)
    assert head.config.problem_type == MULTI_LABEL and list(head.config.id2label.values()) == [
        "music", "politics", "sports"]
    code, out, err = _run(capsys, "train", "cols", *common, "--label-columns", "sports,politics")
    assert code == 0, err
    code, _, err = _run(capsys, "train", "bad", *common, "--label-columns", "sports,politics", "--label-column", "tags")
    assert code == 1 and "not both" in err
    code, _, err = _run(capsys, "train", "rte", "--multi-label")
    assert code == 1 and "need --data-file" in err
