"""Heads as files: extract, save, load, apply; labels, dtypes, backbone identity."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import headzoo
from headzoo import (
    BackboneMismatchError,
    Head,
    HeadExistsError,
    HeadMismatchError,
    LabelMismatchError,
    read_head,
)
from headzoo.files import HEAD_FILE
from headzoo.head import head_state_names
from headzoo.head_config import CONFIG_FILE

from .conftest import logits, tiny_bert

LABELS = {"id2label": {0: "a", 1: "b", 2: "c"}, "label2id": {"a": 0, "b": 1, "c": 2}}


def _trained_like(model: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """Give the head of ``model`` distinctive values (as training would)."""
    g = torch.Generator().manual_seed(seed)
    state = model.state_dict()
    with torch.no_grad():
        for name in head_state_names(model):
            state[name].copy_(torch.randn(state[name].shape, generator=g))
    return model


@pytest.mark.parametrize(
    ("model_type", "expected"),
    [
        ("bert", ["classifier.bias", "classifier.weight"]),
        (
            "roberta",
            ["classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias",
             "classifier.out_proj.weight"],
        ),
        ("distilbert", ["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"]),
    ],
)
def test_head_is_everything_outside_base_model_prefix(model_type: str, expected: list[str]) -> None:
    extra = {"dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 37} if model_type == "distilbert" else {}
    model = tiny_bert(model_type=model_type, **extra) if extra else tiny_bert(model_type=model_type)
    head = Head.from_model(model, task="t")
    assert sorted(head.tensors) == expected
    prefix = model.base_model_prefix + "."
    assert set(head.tensors) == {k for k in model.state_dict() if not k.startswith(prefix)}


def test_save_load_apply_gives_identical_logits(tmp_path) -> None:
    source = _trained_like(tiny_bert(seed=0, **LABELS))
    head = Head.from_model(source, task="toy", backbone="tiny", method="lora", metrics={"accuracy": 0.5})
    head.save(tmp_path / "h")
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == sorted([CARD, CONFIG_FILE, HEAD_FILE])
    loaded = Head.load(tmp_path / "h")
    assert loaded.config == head.config
    for name, tensor in head.tensors.items():
        assert torch.equal(loaded.tensors[name], tensor)
    target = tiny_bert(seed=0, **LABELS)
    assert not torch.equal(logits(target), logits(source))
    loaded.apply(target)
    assert torch.equal(logits(target), logits(source))


CARD = "README.md"


def test_config_json_has_headline_fields_first(tmp_path) -> None:
    Head.from_model(tiny_bert(), task="toy").save(tmp_path / "h")
    keys = list(json.loads((tmp_path / "h" / CONFIG_FILE).read_text()))
    assert keys[:5] == ["format_version", "task", "backbone", "model_type", "architecture"]
    for key in ("hidden_size", "num_labels", "id2label", "problem_type", "tensors", "backbone_fingerprint"):
        assert key in keys


def test_read_head_is_numpy_only(tmp_path) -> None:
    source = _trained_like(tiny_bert())
    Head.from_model(source, task="toy").save(tmp_path / "h")
    arrays, config = read_head(tmp_path / "h")
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in arrays.values())
    np.testing.assert_array_equal(arrays["classifier.weight"], source.classifier.weight.detach().numpy())
    assert config.num_labels == 3 and config.model_type == "bert"
    arrays2, _ = read_head(tmp_path / "h" / HEAD_FILE)
    assert sorted(arrays2) == sorted(arrays)


def test_apply_casts_dtype_to_the_model() -> None:
    source = _trained_like(tiny_bert())
    head = Head.from_model(source, task="toy")
    target = tiny_bert().to(torch.bfloat16)
    head.apply(target)
    assert target.classifier.weight.dtype == torch.bfloat16
    torch.testing.assert_close(target.classifier.weight.float(), source.classifier.weight.to(torch.bfloat16).float())


def test_label_order_is_permuted_to_the_model() -> None:
    source = _trained_like(tiny_bert(**LABELS))
    head = Head.from_model(source, task="toy")
    order = ["c", "a", "b"]
    target = tiny_bert(id2label=dict(enumerate(order)), label2id={n: i for i, n in enumerate(order)})
    head.apply(target)
    src, tgt = logits(source), logits(target)
    for i, name in enumerate(order):
        assert torch.equal(tgt[:, i], src[:, LABELS["label2id"][name]])


def test_roberta_label_permutation_touches_only_the_output_layer() -> None:
    source = _trained_like(tiny_bert(model_type="roberta", num_labels=2, id2label={0: "x", 1: "y"},
                                     label2id={"x": 0, "y": 1}))
    head = Head.from_model(source, task="toy")
    assert head.config.output_layer == "classifier.out_proj"
    target = tiny_bert(model_type="roberta", num_labels=2, id2label={0: "y", 1: "x"}, label2id={"y": 0, "x": 1})
    head.apply(target)
    assert torch.equal(logits(target), logits(source).flip(1))


def test_different_label_sets_are_refused_and_model_unchanged() -> None:
    # Label sets with no label in common are refused; {a, b, c} -> {a, b, z} (a partial overlap, refused before
    # issue 17) is now supported: tests/test_labels.py::test_partial_overlap_copies_matched_rows_keeps_the_rest.
    head = Head.from_model(_trained_like(tiny_bert(**LABELS)), task="toy")
    target = tiny_bert(id2label={0: "x", 1: "y", 2: "z"}, label2id={"x": 0, "y": 1, "z": 2})
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(LabelMismatchError) as err:
        head.apply(target)
    assert "['a', 'b', 'c']" in str(err.value) and "['x', 'y', 'z']" in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_generic_model_labels_take_the_head_names() -> None:
    head = Head.from_model(tiny_bert(**LABELS), task="toy")
    target = tiny_bert()
    head.apply(target)
    assert target.config.id2label == {0: "a", 1: "b", 2: "c"}
    assert target.config.label2id == {"a": 0, "b": 1, "c": 2}


def test_regression_head_keeps_problem_type(tmp_path) -> None:
    source = _trained_like(tiny_bert(num_labels=1, problem_type="regression"))
    Head.from_model(source, task="stsb").save(tmp_path / "h")
    head = Head.load(tmp_path / "h")
    assert head.config.num_labels == 1 and head.config.problem_type == "regression"
    target = tiny_bert(num_labels=1)
    head.apply(target)
    assert target.config.problem_type == "regression"
    assert torch.equal(logits(target), logits(source))


def test_other_backbone_weights_are_refused_unless_allowed() -> None:
    head = Head.from_model(_trained_like(tiny_bert(seed=0)), task="toy", backbone="tiny-a")
    other = tiny_bert(seed=7)
    with pytest.raises(BackboneMismatchError) as err:
        head.apply(other)
    message = str(err.value)
    assert head.config.backbone_fingerprint in message
    assert headzoo.backbone_fingerprint(other) in message
    assert "allow_backbone_mismatch" in message
    head.apply(other, allow_backbone_mismatch=True)
    assert torch.equal(other.classifier.weight, head.tensors["classifier.weight"])


def test_other_model_type_is_refused() -> None:
    head = Head.from_model(tiny_bert(), task="toy")
    with pytest.raises(BackboneMismatchError, match="roberta"):
        head.apply(tiny_bert(model_type="roberta"))


def test_wrong_shapes_are_refused_with_names() -> None:
    head = Head.from_model(tiny_bert(num_labels=3), task="toy")
    with pytest.raises(HeadMismatchError, match=r"classifier\.weight: head \[3, 32\] vs model \[2, 32\]"):
        head.apply(tiny_bert(num_labels=2), allow_backbone_mismatch=True)


def test_fingerprint_survives_bf16_but_not_other_weights() -> None:
    model = tiny_bert(seed=3)
    fp = headzoo.backbone_fingerprint(model)
    assert headzoo.backbone_fingerprint(tiny_bert(seed=3)) == fp
    assert headzoo.backbone_fingerprint(tiny_bert(seed=3).to(torch.bfloat16)) == fp
    assert headzoo.backbone_fingerprint(tiny_bert(seed=4)) != fp
    # The head is not part of the backbone fingerprint.
    assert headzoo.backbone_fingerprint(_trained_like(tiny_bert(seed=3))) == fp


def test_save_refuses_to_overwrite_unless_asked(tmp_path) -> None:
    first = Head.from_model(_trained_like(tiny_bert(), seed=1), task="toy")
    second = Head.from_model(_trained_like(tiny_bert(), seed=2), task="toy")
    first.save(tmp_path / "h")
    with pytest.raises(HeadExistsError, match="overwrite"):
        second.save(tmp_path / "h")
    assert torch.equal(Head.load(tmp_path / "h").tensors["classifier.weight"], first.tensors["classifier.weight"])
    second.save(tmp_path / "h", overwrite=True)
    assert torch.equal(Head.load(tmp_path / "h").tensors["classifier.weight"], second.tensors["classifier.weight"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h"]


def test_interrupted_save_keeps_the_old_head(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Head.from_model(_trained_like(tiny_bert(), seed=1), task="toy")
    second = Head.from_model(_trained_like(tiny_bert(), seed=2), task="toy")
    first.save(tmp_path / "h")
    import headzoo.cards

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(headzoo.cards, "render_card", boom)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "h", overwrite=True)
    assert torch.equal(Head.load(tmp_path / "h").tensors["classifier.weight"], first.tensors["classifier.weight"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h"], "temporary directories were left behind"


def test_peft_wrapped_model_gives_the_trained_copy_not_the_original() -> None:
    """Superseded the refusal: from_model now unwraps peft itself, and must take the TRAINED copy."""
    from peft import LoraConfig, TaskType, get_peft_model

    model = tiny_bert()
    wrapped = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, target_modules=["query", "value"]))
    inner = wrapped.base_model.model
    trained = inner.classifier.modules_to_save["default"]
    with torch.no_grad():
        trained.weight.add_(1.0)
    original = inner.classifier.original_module
    for source in (wrapped, inner):  # the PeftModel, and the transformers model with peft layers inside it
        head = Head.from_model(source, task="toy")
        assert sorted(head.tensors) == ["classifier.bias", "classifier.weight"]
        assert torch.equal(head.tensors["classifier.weight"], trained.weight)
        assert not torch.equal(head.tensors["classifier.weight"], original.weight)
    with pytest.raises(HeadMismatchError, match="peft"):  # the raw rule still refuses to guess
        head_state_names(inner)


def test_card_is_rendered_from_the_config(tmp_path) -> None:
    from huggingface_hub import ModelCard

    head = Head.from_model(tiny_bert(**LABELS), task="toy", backbone="org/tiny", method="lora",
                           metrics={"accuracy": 0.75}, training={"dataset": "nyu-mll/glue", "learning_rate": 0.005})
    head.save(tmp_path / "h")
    card = ModelCard.load(tmp_path / "h" / "README.md")
    assert card.data.library_name == "headzoo"
    assert card.data.base_model == "org/tiny"
    assert {"headzoo", "task:toy", "pet:lora", "backbone:org/tiny"} <= set(card.data.tags)
    assert card.data.eval_results[0].metric_value == 0.75
    assert "headzoo.load_head(" in card.text and "2210.16771" in card.text


def test_saving_the_same_head_twice_gives_identical_bytes(tmp_path) -> None:
    head = Head.from_model(_trained_like(tiny_bert()), task="toy", backbone="org/tiny")
    head.save(tmp_path / "a")
    Head.load(tmp_path / "a").save(tmp_path / "b")
    for name in (HEAD_FILE, CONFIG_FILE, CARD):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    from safetensors import safe_open

    with safe_open(str(tmp_path / "a" / HEAD_FILE), "np") as fh:
        assert json.loads(fh.metadata()["headzoo"]) == {"backbone": "org/tiny", "format_version": 1, "task": "toy"}


def test_non_finite_metrics_are_not_written(tmp_path) -> None:
    head = Head.from_model(tiny_bert(), task="toy", metrics={"pearson": float("nan"), "accuracy": 0.5})
    assert head.config.metrics == {"accuracy": 0.5}
    head.save(tmp_path / "h")
