"""Imprinted heads (issue 17, item 4): rows from class means, one forward pass, no gradients, no Trainer."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import datasets
import pytest
import torch

import headzoo
from headzoo import ConfigError, DataError, Head, Stage1Settings
from headzoo.cli import main
from headzoo.imprint import Features, capture_features, imprint, imprint_rows
from headzoo.pet import IMPRINT, METHODS, STAGE1_METHODS, prepare
from headzoo.tasks import CLASSIFICATION, TaskSpec, dataset_task
from headzoo.train import PRESETS, finetune, pretrain_head
from headzoo.train.args import IMPRINT_SETTINGS
from headzoo.train.grid import build_grid

from .conftest import tiny_bert
from .tiny_task import one_thread, tiny_backbone_fixture  # noqa: F401 (fixtures)

FAST = {"batch_size": 8, "max_length": 32}


def _batches(n_batches: int = 4, labels: int = 3, seed: int = 1, size: int = 8, skip: int | None = None,
             pad: bool = True) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        ids = torch.randint(5, 99, (size, 10), generator=g)
        mask = torch.ones_like(ids)
        if pad:
            mask[: size // 2, 6:] = 0
            ids[mask == 0] = 0  # the pad token of the tiny models
        y = torch.randint(0, labels, (size,), generator=g)
        if skip is not None:
            y[y == skip] = (skip + 1) % labels
        out.append({"input_ids": ids, "attention_mask": mask, "labels": y})
    return out


def _state(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _ce(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float(torch.nn.functional.cross_entropy(logits.double(), y.long()))


# --------------------------------------------------------------------------- the formula


def test_rows_are_scaled_class_means_and_the_scale_minimises_training_loss() -> None:
    model = tiny_bert(num_labels=3)
    batches = _batches()
    result = imprint(model, batches)
    feats = capture_features(model, batches)
    x, y = feats.inputs.double(), feats.labels
    mu = torch.stack([x[y == c].mean(0) for c in range(3)])
    s = result.scale
    torch.testing.assert_close(model.classifier.weight.double(), s * mu, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.classifier.bias.double(), -s * (mu * mu).sum(1) / 2, rtol=1e-5, atol=1e-6)
    # the largest logit is the nearest class mean
    assert torch.equal(feats.outputs.argmax(1), torch.cdist(x, mu).argmin(1))
    # s minimises the training cross-entropy of s * (x.mu - |mu|^2 / 2)
    score = x @ mu.T - (mu * mu).sum(1) / 2
    best = _ce(s * score, y)
    assert best <= _ce(1.1 * s * score, y) + 1e-9 and best <= _ce(s / 1.1 * score, y) + 1e-9
    assert result.rows == ["LABEL_0", "LABEL_1", "LABEL_2"] and result.kept == []
    assert sum(result.counts.values()) == result.examples == 32
    assert math.isfinite(result.scale) and result.scale > 0


@pytest.mark.parametrize("model_type", ["bert", "roberta", "distilbert", "deberta-v2", "electra", "gpt2"])
def test_the_hook_sees_what_enters_the_output_layer(model_type: str) -> None:
    extra = {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2} if model_type == "gpt2" else {}
    model = tiny_bert(num_labels=3, model_type=model_type, **extra)
    layer = headzoo.head.output_layer_name(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = imprint(model, _batches())
    assert result.layer == layer
    changed = sorted(k for k, v in model.state_dict().items() if not torch.equal(before[k], v))
    assert changed == sorted(k for k in (f"{layer}.weight", f"{layer}.bias") if k in before)  # nothing else moved
    # the rows are means of the features the output layer really gets (after RoBERTa's dense, DeBERTa's pooler...)
    feats = capture_features(model, _batches())
    means = torch.stack([feats.inputs[feats.labels == c].mean(0) for c in range(3)])
    weight = model.get_submodule(layer).weight.detach()
    torch.testing.assert_close(weight, result.scale * means, rtol=1e-4, atol=1e-5)
    logits = torch.cat([model(**{k: v for k, v in b.items() if k != "labels"}).logits.detach() for b in _batches()])
    torch.testing.assert_close(logits, feats.outputs)  # the captured position is the one the model pools


def test_only_the_given_rows_change_and_sit_on_the_scale_of_the_others() -> None:
    model = tiny_bert(num_labels=3)
    imprint(model, _batches())
    with torch.no_grad():
        model.classifier.weight[1].normal_()
        model.classifier.bias[1] = 0.0
    kept = model.classifier.weight[[0, 2]].detach().clone(), model.classifier.bias[[0, 2]].detach().clone()
    feats = capture_features(model, _batches())
    before = _ce(feats.outputs, feats.labels)
    result = imprint_rows(model, feats, [1])
    assert result.rows == ["LABEL_1"]
    assert torch.equal(model.classifier.weight[[0, 2]], kept[0]) and torch.equal(model.classifier.bias[[0, 2]],
                                                                                  kept[1])
    after = capture_features(model, _batches())
    assert _ce(after.outputs, after.labels) < before


def test_a_class_with_no_examples_is_refused_and_nothing_changes() -> None:
    model = tiny_bert(num_labels=3, id2label={0: "neg", 1: "neu", 2: "pos"}, label2id={"neg": 0, "neu": 1, "pos": 2})
    before = _state(model)
    with pytest.raises(DataError) as err:
        imprint(model, _batches(skip=1))
    message = str(err.value)
    assert "\n" not in message and "['neu']" in message and "'neu': 0" in message and "add examples" in message
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    result = imprint(model, _batches(skip=1), keep_empty=True)  # a partial start keeps the init and says so
    assert result.kept == ["neu"] and result.rows == ["neg", "pos"]
    assert torch.equal(model.classifier.weight[1], before["classifier.weight"][1])


def test_regression_and_empty_data_are_refused() -> None:
    with pytest.raises(ConfigError, match="regression"):
        imprint(tiny_bert(num_labels=1, problem_type="regression"), _batches(labels=1))
    with pytest.raises(DataError, match="empty"):
        imprint(tiny_bert(num_labels=2), [])
    with pytest.raises(DataError, match="'labels'"):
        imprint(tiny_bert(num_labels=2), [{"input_ids": torch.ones(2, 3, dtype=torch.long)}])


def test_multi_label_rows_are_two_class_nearest_means() -> None:
    model = tiny_bert(num_labels=3, problem_type="multi_label_classification")
    g = torch.Generator().manual_seed(0)
    batches = [{**b, "labels": (torch.rand(8, 3, generator=g) > 0.5).float()} for b in _batches()]
    result = imprint(model, batches)
    feats = capture_features(model, batches)
    x, hot = feats.inputs.double(), feats.labels > 0.5
    for c in range(3):
        pos, neg = x[hot[:, c]].mean(0), x[~hot[:, c]].mean(0)
        torch.testing.assert_close(model.classifier.weight[c].double(), result.scale * (pos - neg), rtol=1e-4,
                                   atol=1e-5)


def test_features_of_a_finished_capture_can_be_reused() -> None:
    feats = Features(torch.randn(12, 32), torch.zeros(12, 2), torch.tensor([0, 1] * 6))
    model = tiny_bert(num_labels=2)
    result = imprint_rows(model, feats)
    assert result.examples == 12 and result.seconds >= 0


# --------------------------------------------------------------------------- the method in the pipeline


def test_imprint_is_a_stage1_method_without_a_learning_rate(tiny_backbone: Path) -> None:
    assert IMPRINT in STAGE1_METHODS and IMPRINT not in METHODS
    assert all(IMPRINT not in rates for rates in PRESETS.values())
    cfg = Stage1Settings(method="imprint").resolved("paper")
    assert cfg.learning_rate is None and set(cfg.to_dict()) == set(IMPRINT_SETTINGS)
    with pytest.raises(ConfigError, match="nothing to prepare"):
        prepare(tiny_bert(), "imprint")
    assert build_grid(["ft", "eh-ft"], ["lora", "imprint"], [0])[-1] == ("eh-ft", "imprint", 0)  # a baseline


def _sentiment(n: int = 48) -> datasets.DatasetDict:
    rng = random.Random(0)
    rows = [rng.choice(["neg", "pos"]) for _ in range(n)]
    text = [("bad awful poor " if y == "neg" else "good fine nice ") + str(i) for i, y in enumerate(rows)]
    return datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": text, "label": rows}),
                                 "validation": datasets.Dataset.from_dict({"text": text[:12], "label": rows[:12]})})


def test_pretrain_head_imprint_saves_a_head_without_training(tiny_backbone: Path, zoo_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    def no_trainer(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("imprinting must not build a Trainer")

    monkeypatch.setattr(transformers.Trainer, "__init__", no_trainer)
    monkeypatch.setattr(torch.Tensor, "backward", no_trainer)
    task = dataset_task(_sentiment(), "text", label_column="label", name="toysent")
    head = pretrain_head(task, str(tiny_backbone), "imprint", settings=FAST)
    c = head.config
    assert c.method == "imprint" and c.training["method"] == "imprint" and c.training["steps"] == 0
    assert c.training["learning_rate"] is None and "learning_rate_source" not in c.training
    assert c.training["imprint"]["rows"] == ["neg", "pos"] and c.training["imprint"]["examples"] == 48
    assert c.training["imprint"]["scale"] > 0
    assert set(c.metrics) == {"accuracy", "macro_f1", "loss"}
    assert head.path is not None and Head.load(head.path).config.method == "imprint"
    assert headzoo.find_in_zoo("toysent", headzoo.resolve_backbone(str(tiny_backbone)), "imprint") == head.path
    with pytest.raises(ConfigError, match="no learning rate"):
        pretrain_head(task, str(tiny_backbone), "imprint", settings={**FAST, "learning_rate": 1e-3}, save=False)
    with pytest.raises(ConfigError, match="--search"):
        pretrain_head(task, str(tiny_backbone), "imprint", settings=FAST, search=True, save=False)


def test_pretrain_head_imprint_with_a_class_without_examples(tiny_backbone: Path, zoo_dir: Path) -> None:
    spec = TaskSpec(name="three", benchmark="custom", text_columns=("text_a",), labels=("a", "b", "c"),
                    problem_type=CLASSIFICATION, num_labels=3, metrics=("accuracy",), main_metric="accuracy")
    train = datasets.Dataset.from_dict({"text_a": ["good one", "bad one"] * 8, "label": [0, 1] * 8})
    data = datasets.DatasetDict({"train": train, "validation": train})
    with pytest.raises(DataError) as err:
        pretrain_head((spec, data), str(tiny_backbone), "imprint", settings=FAST)
    assert "['c']" in str(err.value) and "\n" not in str(err.value)
    assert headzoo.list_heads() == []  # nothing reached the zoo


def test_pretrain_head_imprint_rejects_regression(tiny_backbone: Path) -> None:
    reg = datasets.Dataset.from_dict({"text": ["a b", "c d", "e f", "g h"] * 4, "score": [0.1, 0.5, 0.9, 0.3] * 4})
    task = dataset_task(datasets.DatasetDict({"train": reg, "validation": reg}), "text", label_column="score",
                        problem_type="regression", name="toyreg")
    with pytest.raises(ConfigError, match="regression"):
        pretrain_head(task, str(tiny_backbone), "imprint", settings=FAST, save=False)


def test_eh_ft_from_an_imprinted_head_spends_the_whole_budget_in_stage_2(tiny_backbone: Path) -> None:
    task = dataset_task(_sentiment(), "text", label_column="label", name="toysent")
    result = finetune(task, str(tiny_backbone), strategy="eh-ft", method="imprint", epochs=1, min_steps=0, **FAST)
    assert result.method == "imprint" and result.stage1_steps == 0
    assert result.stage2_steps == result.budget_steps == 6
    assert result.stage1["method"] == "imprint" and result.settings["stage1"] == {
        "method": "imprint", "batch_size": 8, "max_length": 32, "seed": 0}


def test_cli_train_method_imprint(tiny_backbone: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "toy.csv"
    sentiment = _sentiment()["train"]
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(sentiment["text"], sentiment["label"],
                                                                           strict=True)))
    code = main(["train", "toy", "--backbone", str(tiny_backbone), "--data-file", str(data), "--text-column",
                 "text", "--label-column", "label", "--method", "imprint", "--batch-size", "8", "--max-length",
                 "32", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "toy head (imprint)" in out and "saved to" in out and "learning rate" not in out
    code = main(["train", "toy", "--backbone", str(tiny_backbone), "--data-file", str(data), "--text-column",
                 "text", "--label-column", "label", "--method", "imprint", "--lr", "0.1", "--overwrite"])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "no learning rate" in err


def test_imprint_on_minilm_beats_the_majority_class(minilm_path: Path, data_dir: Path) -> None:
    head = pretrain_head("sst2", "minilm", "imprint", data_dir=data_dir, limit=256, save=False)
    dev = head.config.metrics
    assert head.config.training["imprint"]["examples"] == 256
    assert dev["accuracy"] > 0.6, dev  # SST-2 dev is balanced (50.9 % positive)
