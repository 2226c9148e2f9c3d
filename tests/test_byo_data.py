"""Bring your own data and model: a datasets.Dataset / DatasetDict and a model instance in training."""

from __future__ import annotations

import copy
from pathlib import Path

import datasets
import pytest
import torch

from headzoo.errors import ConfigError, DataError, HeadzooError
from headzoo.tasks import custom_task, dataset_task
from headzoo.train import build_model, compare, finetune, prepare_data, pretrain_head
from headzoo.train.data import load_raw

from .tiny_task import one_thread  # noqa: F401 (fixture)

FAST = {"max_steps": 2, "batch_size": 8, "max_length": 32}
WORDS = {"pos": "good nice fine", "neg": "bad poor awful"}


def _sentiment(n: int = 24, *, class_label: bool = True, column: str = "label") -> datasets.Dataset:
    labels = ["pos" if i % 3 else "neg" for i in range(n)]
    features = datasets.Features({
        "text": datasets.Value("string"),
        column: datasets.ClassLabel(names=["pos", "neg"]) if class_label else datasets.Value("string"),
    })
    return datasets.Dataset.from_dict({"text": [f"{WORDS[y]} {i}" for i, y in enumerate(labels)],
                                       column: labels}, features=features)


def _classifier(backbone: Path, num_labels: int = 2):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(123)
    return AutoModelForSequenceClassification.from_pretrained(backbone, num_labels=num_labels)


# ---------------------------------------------------------------------------
# dataset_task: columns, labels, splits
# ---------------------------------------------------------------------------


def test_a_dataset_keeps_its_classlabel_names_and_splits_off_a_stratified_seeded_validation_set() -> None:
    ds = _sentiment(30)
    spec, data = dataset_task(ds, name="reviews")
    assert spec.name == "reviews" and spec.labels == ("pos", "neg")  # the ClassLabel's order, not sorted
    assert spec.problem_type == "single_label_classification" and not spec.is_pair
    assert data["train"].num_rows + data["validation"].num_rows == 30 and data["validation"].num_rows == 3
    assert sorted(data["validation"]["label"]) == [0, 0, 1]  # 20 pos / 10 neg -> 2 pos, 1 neg
    again = dataset_task(ds, name="reviews")[1]
    assert again["validation"]["text_a"][:] == data["validation"]["text_a"][:]  # seeded
    other = dataset_task(ds, name="reviews", seed=1)[1]
    assert other["validation"]["text_a"][:] != data["validation"]["text_a"][:]
    assert ds.column_names == ["text", "label"]  # the given data is untouched


def test_default_columns_find_sentence_pairs_and_a_labels_column() -> None:
    ds = datasets.Dataset.from_dict({"sentence1": ["a b", "c d", "e f", "g h"] * 3,
                                     "sentence2": ["x", "y", "z", "w"] * 3, "labels": [0, 1, 1, 0] * 3})
    spec, data = dataset_task(ds)
    assert spec.is_pair and spec.name == "dataset" and spec.labels == ("0", "1")
    assert data["train"].column_names == ["text_a", "text_b", "label"]
    assert data["train"][0]["text_b"] in {"x", "y", "z", "w"}


def test_named_columns_and_string_labels() -> None:
    ds = _sentiment(12, class_label=False, column="stars").rename_column("text", "review")
    spec, data = dataset_task(ds, "review", "stars", name="stars")
    assert spec.labels == ("neg", "pos")  # strings: sorted, as custom_task does
    assert data["train"].features["label"].names == ["neg", "pos"]


@pytest.mark.parametrize(("splits", "used"), [
    (("train", "validation", "test"), "validation"),
    (("train", "dev"), "dev"),
    (("train", "test"), "test"),
])
def test_a_datasetdict_evaluates_on_validation_else_dev_else_test(splits: tuple[str, ...], used: str) -> None:
    parts = {s: _sentiment(12 if s == "train" else 6).map(lambda r, s=s: {"text": f"{s} {r['text']}"})
             for s in splits}
    spec, data = dataset_task(datasets.DatasetDict(parts))
    assert data["train"].num_rows == 12  # nothing split off
    assert all(t.startswith(used) for t in data["validation"]["text_a"][:])
    assert f"split {used!r}" in spec.description


def test_a_datasetdict_without_a_validation_split_splits_train_and_validation_names_a_split() -> None:
    _, data = dataset_task(datasets.DatasetDict({"train": _sentiment(20)}))
    assert (data["train"].num_rows, data["validation"].num_rows) == (18, 2)
    dd = datasets.DatasetDict({"train": _sentiment(12), "dev": _sentiment(6), "test": _sentiment(3)})
    assert dataset_task(dd, validation="test")[1]["validation"].num_rows == 3


def test_load_raw_takes_a_dataset_with_a_seeded_limit() -> None:
    spec, raw = load_raw(_sentiment(40), None, limit=10, seed=3)
    assert spec.labels == ("pos", "neg") and raw["train"].num_rows == 10
    labels = raw["train"]["label"][:]
    assert labels.count(1) in (3, 4)  # stratified: about a third negative
    assert load_raw(_sentiment(40), None, limit=10, seed=3)[1]["train"]["text_a"][:] == raw["train"]["text_a"][:]


# ---------------------------------------------------------------------------
# bad input: each error names the column or row and the fix
# ---------------------------------------------------------------------------


def test_missing_named_column_lists_the_columns_there_are() -> None:
    with pytest.raises(DataError, match=r"'review'.*not found.*available columns: 'text', 'label'"):
        dataset_task(_sentiment(), text_columns="review")
    with pytest.raises(DataError, match=r"'stars'.*not found"):
        dataset_task(_sentiment(), label_column="stars")


def test_no_default_text_or_label_column_says_how_to_name_them() -> None:
    ds = datasets.Dataset.from_dict({"review": ["a", "b"], "label": [0, 1]})
    with pytest.raises(DataError, match=r"no text column.*'review'.*dataset_task\(ds, text_columns="):
        dataset_task(ds)
    ds = datasets.Dataset.from_dict({"text": ["a", "b"], "stars": [0, 1]})
    with pytest.raises(DataError, match=r"no label column.*'stars'.*label_column="):
        load_raw(ds, None, limit=None)


def test_float_labels_are_refused_for_classification_with_the_regression_fix() -> None:
    ds = datasets.Dataset.from_dict({"text": ["a", "b", "c", "d"] * 3, "score": [0.5, 1.25, 3.0, 4.75] * 3})
    with pytest.raises(DataError, match=r"row 0 \(ds\[0\]\): label column 'score' holds the float 0.5.*"
                                        r"problem_type='regression'"):
        dataset_task(ds, label_column="score")
    with pytest.raises(DataError, match="problem_type='regression'"):
        dataset_task(ds, label_column="score", problem_type="classification")
    spec, data = dataset_task(ds, label_column="score", problem_type="regression")
    assert spec.is_regression and data["train"].features["label"].dtype == "float32"
    whole = datasets.Dataset.from_dict({"text": ["a", "b"] * 4, "stars": [1.0, 2.0] * 4})
    assert dataset_task(whole, label_column="stars")[0].labels == ("1", "2")  # whole numbers are classes


def test_unusable_column_types_name_the_column() -> None:
    ds = datasets.Dataset.from_dict({"text": ["a", "b"] * 3, "label": [{"x": 1}, {"x": 2}] * 3})
    with pytest.raises(DataError, match=r"label column 'label'.*cannot be a label.*ClassLabel, string, int or bool"):
        dataset_task(ds)
    tokens = datasets.Dataset.from_dict({"tokens": [["a", "b"], ["c"]] * 3, "label": [0, 1] * 3})
    with pytest.raises(DataError, match=r"text column 'tokens'.*not strings.*join them"):
        dataset_task(tokens, text_columns="tokens")


def test_empty_text_and_unlabelled_test_rows_name_the_row() -> None:
    ds = datasets.Dataset.from_dict({"text": ["a", "b", " ", "d"] * 2, "label": [0, 1, 0, 1] * 2})
    with pytest.raises(DataError, match=r"row 2 \(ds\[2\]\): text column 'text' is empty"):
        dataset_task(ds)
    test = _sentiment(4).cast_column("label", datasets.Value("int64")).map(lambda r: {"label": -1})
    test = test.cast_column("label", datasets.ClassLabel(names=["pos", "neg"]))
    dd = datasets.DatasetDict({"train": _sentiment(12), "test": test})
    with pytest.raises(DataError, match=r"row 0 \(ds\['test'\]\[0\]\): label id -1 is outside 0..1"):
        dataset_task(dd)


def test_bad_arguments_and_splits() -> None:
    with pytest.raises(ConfigError, match=r"datasets.Dataset or DatasetDict, got dict.*from_pandas"):
        dataset_task({"text": ["a"], "label": [0]})  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"no 'train' split; its splits are 'training'"):
        dataset_task(datasets.DatasetDict({"training": _sentiment()}))
    with pytest.raises(DataError, match=r"validation split 'dev' is not in the DatasetDict"):
        dataset_task(datasets.DatasetDict({"train": _sentiment()}), validation="dev")
    with pytest.raises(ConfigError, match="a Dataset has none"):
        dataset_task(_sentiment(), validation="dev")
    with pytest.raises(ConfigError, match=r"label_column.*or label_columns.*not both"):
        dataset_task(_sentiment(), label_column="label", label_columns=["a", "b"])


# ---------------------------------------------------------------------------
# run hashes: new keys only for new kinds of input
# ---------------------------------------------------------------------------

_OLD_INFO_KEYS = {"dataset", "dataset_config", "dataset_name", "eval_split", "train_size", "eval_size", "data_limit"}


def test_a_file_task_records_the_same_data_keys_as_before(tiny_backbone: Path, tmp_path: Path) -> None:
    path = tmp_path / "toy.csv"
    path.write_text("text,label\n" + "".join(f"{WORDS[y]} {i},{y}\n" for i, y in
                                             enumerate(["pos", "neg"] * 8)), encoding="utf-8")
    data = prepare_data(custom_task(path, "text", "label"), str(tiny_backbone), data_dir=None, limit=None,
                        max_length=32)
    assert set(data.info) == _OLD_INFO_KEYS and data.model is None


def test_in_memory_data_is_keyed_by_a_digest_of_its_rows(tiny_backbone: Path) -> None:
    def info(ds: datasets.Dataset) -> dict:
        return prepare_data(ds, str(tiny_backbone), data_dir=None, limit=None, max_length=32).info

    first = info(_sentiment(24))
    assert set(first) == _OLD_INFO_KEYS | {"data_digest"} and first["dataset"] == "custom:dataset"
    assert info(_sentiment(24))["data_digest"] == first["data_digest"]
    changed = _sentiment(24).map(lambda r, i: {"text": r["text"] + ("!" if i == 5 else "")}, with_indices=True)
    assert info(changed)["data_digest"] != first["data_digest"]
    pair = prepare_data(dataset_task(_sentiment(24)), str(tiny_backbone), data_dir=None, limit=None, max_length=32)
    assert pair.info["data_digest"] == first["data_digest"]  # a dataset_task pair is in-memory data too


# ---------------------------------------------------------------------------
# training on a Dataset, with a model instance
# ---------------------------------------------------------------------------


def test_pretrain_head_on_a_dataset(tiny_backbone: Path) -> None:
    head = pretrain_head(_sentiment(24), str(tiny_backbone), "bitfit", settings=FAST, save=False)
    assert head.config.task == "dataset" and head.config.id2label == {0: "pos", 1: "neg"}
    assert head.config.training["dataset"] == "custom:dataset" and "data_digest" in head.config.training
    assert "accuracy" in head.config.metrics


def test_pretrain_head_with_a_model_copies_it_and_takes_its_backbone(tiny_backbone: Path) -> None:
    model = _classifier(tiny_backbone)
    before = copy.deepcopy(model.state_dict())
    head = pretrain_head(_sentiment(24), model=model, method="bitfit", settings=FAST, save=False)
    # BitFit trains biases in place: the given model must not have been the one trained
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert head.config.backbone == str(tiny_backbone)  # from model.name_or_path
    assert head.config.training["backbone_fingerprint"] == head.config.backbone_fingerprint
    assert not any(torch.equal(head.tensors[k], before[k]) for k in ("classifier.weight",))


def test_build_model_from_a_model_keeps_the_backbone_and_reseeds_the_head(tiny_backbone: Path) -> None:
    model = _classifier(tiny_backbone)
    data = prepare_data(_sentiment(24), None, data_dir=None, limit=None, max_length=32, model=model)
    a, b, c = build_model(data, 0), build_model(data, 0), build_model(data, 1)
    assert a is not model and a.config.id2label == {0: "pos", 1: "neg"}
    assert a.config.problem_type == "single_label_classification" and model.config.problem_type is None
    state, given = a.state_dict(), model.state_dict()
    assert all(torch.equal(state[k], given[k]) for k in given if k.startswith("bert."))
    assert torch.equal(a.classifier.weight, b.classifier.weight)
    assert not torch.equal(a.classifier.weight, c.classifier.weight)
    assert not torch.equal(a.classifier.weight, model.classifier.weight)


def test_finetune_with_a_model_starts_stage_2_from_a_fresh_copy(tiny_backbone: Path, tmp_path: Path) -> None:
    model = _classifier(tiny_backbone)
    before = copy.deepcopy(model.state_dict())
    dd = datasets.DatasetDict({"train": _sentiment(24), "validation": _sentiment(6)})
    result = finetune(dd, model=model, strategy="eh-ft", method="bitfit", epochs=1, batch_size=8, max_length=32,
                      output_dir=tmp_path / "run")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert result.model is not model and result.backbone == str(tiny_backbone)
    assert result.settings["data"]["backbone_fingerprint"].startswith("sha256:")
    assert set(result.final) >= {"accuracy", "macro_f1"} and result.stage2_steps >= 1
    # stage 1 trained BitFit biases on its own copy: stage 2 started from the given backbone weights
    assert result.stage1["source"] == "trained"


def test_compare_takes_a_dataset_and_a_model(tiny_backbone: Path, tmp_path: Path) -> None:
    model = _classifier(tiny_backbone)
    res = compare(_sentiment(16), model=model, strategies=("ft",), methods=(), seeds=(0,), epochs=1, batch_size=8,
                  max_length=32, out_dir=tmp_path / "grid")
    assert res.ran == 1 and res.task == "dataset" and res.backbone == str(tiny_backbone)


def test_a_model_that_does_not_fit_is_refused_before_training(tiny_backbone: Path) -> None:
    with pytest.raises(ConfigError, match=r"model= has 3 output\(s\).*2 labels \['pos', 'neg'\].*num_labels=2"):
        pretrain_head(_sentiment(), model=_classifier(tiny_backbone, 3), method="bitfit", settings=FAST,
                      save=False)
    from transformers import AutoModel

    with pytest.raises(ConfigError, match=r"\*ForSequenceClassification"):
        pretrain_head(_sentiment(), model=AutoModel.from_pretrained(tiny_backbone), settings=FAST, save=False)
    with pytest.raises(ConfigError, match=r"no name_or_path.*pass backbone="):
        from transformers import AutoConfig, AutoModelForSequenceClassification

        bare = AutoModelForSequenceClassification.from_config(AutoConfig.from_pretrained(tiny_backbone))
        bare.name_or_path = ""
        bare.config._name_or_path = ""
        finetune(_sentiment(), model=bare, epochs=1)


def test_a_peft_model_or_another_backbone_type_is_refused(tiny_backbone: Path) -> None:
    from headzoo.pet import prepare

    with pytest.raises(ConfigError, match=r"peft model.*plain transformers model"):
        pretrain_head(_sentiment(), model=prepare(_classifier(tiny_backbone), "lora"), settings=FAST, save=False)
    from transformers import AutoModelForSequenceClassification, RobertaConfig

    roberta = AutoModelForSequenceClassification.from_config(
        RobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37))
    with pytest.raises(ConfigError, match=r"backbone .* is a 'bert' model but model= is a 'roberta' model"):
        pretrain_head(_sentiment(), str(tiny_backbone), model=roberta, settings=FAST, save=False)
    assert issubclass(ConfigError, HeadzooError)
