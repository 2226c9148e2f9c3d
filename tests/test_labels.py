"""Heads for your own labels (issue 17, item 2): labels by name, label maps, partial overlap, heads of other tasks.

Every refusal is a one-line ``LabelMismatchError`` (or ``ConfigError`` for a map of the wrong type) naming the
labels, and leaves the model exactly as it was. The hypothesis sizes come from ``tests/reliability.py``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import headzoo
from headzoo import ConfigError, Head, HeadzooError, LabelMismatchError, load_head, match_labels
from headzoo.backbone import load_classifier, resolve_backbone
from headzoo.cli import main
from headzoo.labels import normalize_label, parse_label_map

from . import reliability as R
from .conftest import logits, tiny_bert
from .tiny_task import one_thread, tiny_backbone_fixture  # noqa: F401 (fixtures)

SST2 = {"id2label": {0: "negative", 1: "positive"}, "label2id": {"negative": 0, "positive": 1}}


def fuzz(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _labels(*names: str) -> dict[str, Any]:
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


def _trained(model: Any, seed: int = 3) -> Any:
    with torch.no_grad():
        torch.manual_seed(seed)
        for name, p in model.named_parameters():
            if not name.startswith(model.base_model_prefix + "."):
                p.normal_()
    return model


def _state(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(before: dict[str, torch.Tensor], model: Any) -> bool:
    return all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.fixture(scope="module")
def sst2() -> tuple[Head, torch.Tensor]:
    """An sst2-style head (negative, positive) on tiny_bert(seed=0), and the logits of the model it came from."""
    source = _trained(tiny_bert(num_labels=2, **SST2))
    return Head.from_model(source, task="sst2", backbone="tiny", method="lora"), logits(source)


# --------------------------------------------------------------------------- the rules, on label lists


def test_names_match_ignoring_case_and_space() -> None:
    m = match_labels([" Positive", "NEGATIVE "], ["negative", "positive"], source="sst2/lora")
    assert m.rows == (1, 0) and m.permutation == [1, 0] and not m.new and not m.exact
    assert m.report == "2 of 2 rows from sst2/lora ( Positive, NEGATIVE )"
    assert normalize_label("  MiXeD ") == "mixed"


def test_label_map_goes_model_label_to_head_label() -> None:
    m = match_labels(["pos", "neg"], ["negative", "positive"], {"neg": "negative", "POS ": "Positive"},
                     source="sst2/lora")
    assert m.rows == (1, 0)
    assert m.report == "2 of 2 rows from sst2/lora (pos=positive, neg=negative)"
    assert m.label_map == {"neg": "negative", "POS": "Positive"}


def test_partial_overlap_report_line() -> None:
    m = match_labels(["negative", "neutral", "positive"], ["negative", "positive"], source="sst2/lora")
    assert m.rows == (0, None, 1) and m.new == ["neutral"] and m.new_rows == [1] and m.unused == []
    assert m.report == "2 of 3 rows from sst2/lora (negative, positive); new: neutral"
    fewer = match_labels(["entailment", "neutral"], ["contradiction", "entailment", "neutral"], source="cb")
    assert fewer.report == "2 of 2 rows from cb (entailment, neutral); not used: contradiction"


def test_default_names_go_by_position() -> None:
    m = match_labels(["LABEL_0", "LABEL_1"], ["negative", "positive"], source="sst2")
    assert m.rows == (0, 1) and m.by_position and m.take_head_names and m.exact
    with pytest.raises(LabelMismatchError, match="default names"):
        match_labels(["LABEL_0", "LABEL_1", "LABEL_2"], ["negative", "positive"])
    mapped = match_labels(["LABEL_0", "LABEL_1", "LABEL_2"], ["negative", "positive"],
                          {"LABEL_0": "negative", "LABEL_2": "positive"})
    assert mapped.rows == (0, None, 1)


@pytest.mark.parametrize(
    ("model_labels", "label_map", "quoted"),
    [
        (["neg", "pos"], {"neg": "negative", "bogus": "positive"}, ["'bogus'", "['neg', 'pos']"]),  # key: no such
        (["neg", "pos"], {"neg": "negative", "pos": "posit1ve"}, ["'posit1ve'", "['negative', 'positive']"]),
        (["neg", "pos"], {"neg": "negative", "pos": "negative"}, ["'neg'", "'pos'", "'negative'"]),  # two to one
        (["positive", "pos"], {"pos": "positive"}, ["'positive'", "'pos'"]),  # a mapped and a named one collide
        (["x", "y"], None, ["['negative', 'positive']", "['x', 'y']", "no label in common"]),
        (["Pos", "pos"], None, ["'Pos'", "'pos'", "case"]),
    ],
)
def test_bad_maps_and_sets_are_refused_naming_the_labels(model_labels: list[str], label_map: Any,
                                                          quoted: list[str]) -> None:
    with pytest.raises(LabelMismatchError) as err:
        match_labels(model_labels, ["negative", "positive"], label_map, source="sst2/lora")
    message = str(err.value)
    assert "\n" not in message
    for part in quoted:
        assert part in message, (part, message)


def test_a_reversed_map_gets_a_hint() -> None:
    with pytest.raises(LabelMismatchError, match="did you mean neg=negative,pos=positive"):
        match_labels(["neg", "pos"], ["negative", "positive"], {"negative": "neg", "positive": "pos"})


def test_regression_heads_go_to_regression_only() -> None:
    assert match_labels(["LABEL_0"], ["LABEL_0"], model_regression=True, head_regression=True).rows == (0,)
    with pytest.raises(LabelMismatchError, match="regression heads go to regression tasks only"):
        match_labels(["negative", "positive"], ["LABEL_0"], head_regression=True, source="stsb/lora")
    with pytest.raises(LabelMismatchError, match="regression heads go to regression tasks only"):
        match_labels(["LABEL_0"], ["negative", "positive"], model_regression=True)
    with pytest.raises(LabelMismatchError, match="no labels to map"):
        match_labels(["LABEL_0"], ["LABEL_0"], {"a": "b"}, model_regression=True, head_regression=True)


@pytest.mark.parametrize("bad", [["neg", "negative"], {"neg": 1}, {"": "negative"}, {"neg": "  "}, "neg=negative"])
def test_maps_of_the_wrong_type_are_config_errors(bad: Any) -> None:
    with pytest.raises(ConfigError, match="label_map"):
        match_labels(["neg"], ["negative"], bad)


def test_parse_label_map() -> None:
    assert parse_label_map("neg=negative,pos=positive") == {"neg": "negative", "pos": "positive"}
    assert parse_label_map(" a = b , ") == {"a": "b"}
    for bad in ("", "neg", "neg=", "=negative", "neg=negative,neg=positive"):
        with pytest.raises(ConfigError, match="--label-map"):
            parse_label_map(bad)


# --------------------------------------------------------------------------- into models


def test_capitalised_model_labels_take_the_sst2_rows(sst2: tuple[Head, torch.Tensor]) -> None:
    head, source_logits = sst2
    model = tiny_bert(num_labels=2, **_labels("Positive", "Negative"))
    head.apply(model)
    out = logits(model)
    assert torch.equal(out[:, 0], source_logits[:, 1]) and torch.equal(out[:, 1], source_logits[:, 0])
    assert model.config.id2label == {0: "Positive", 1: "Negative"}  # the model keeps its own names


def test_pos_neg_with_a_map(sst2: tuple[Head, torch.Tensor]) -> None:
    head, source_logits = sst2
    model = tiny_bert(num_labels=2, **_labels("neg", "pos"))
    before = _state(model)
    with pytest.raises(LabelMismatchError, match="label_map"):
        head.apply(model)  # no name in common: refused, unchanged
    assert _same(before, model)
    head.apply(model, label_map={"neg": "negative", "pos": "positive"})
    assert torch.equal(logits(model), source_logits)


def test_partial_overlap_copies_matched_rows_keeps_the_rest(sst2: tuple[Head, torch.Tensor], caplog) -> None:
    head, source_logits = sst2
    model = tiny_bert(num_labels=3, **_labels("negative", "neutral", "positive"))
    own = model.classifier.weight.detach().clone(), model.classifier.bias.detach().clone()
    with caplog.at_level("INFO", logger="headzoo.head"):
        head.apply(model)
    line = "2 of 3 rows from sst2/lora (negative, positive); new: neutral"
    assert line in caplog.messages
    assert head.match_labels(model).report == line
    w, b = model.classifier.weight.detach(), model.classifier.bias.detach()
    assert torch.equal(w[0], head.tensors["classifier.weight"][0]) and torch.equal(w[2], head.tensors[
        "classifier.weight"][1])
    assert torch.equal(w[1], own[0][1]) and torch.equal(b[1], own[1][1])  # neutral: the model's own init
    out = logits(model)
    torch.testing.assert_close(out[:, [0, 2]], source_logits, rtol=1e-6, atol=1e-7)  # 3 rows vs 2: float32 rounding


def test_roberta_copies_dense_whole_and_out_proj_rows() -> None:
    source = _trained(tiny_bert(model_type="roberta", num_labels=2, **SST2))
    head = Head.from_model(source, task="sst2", method="lora")
    assert head.config.output_layer == "classifier.out_proj"
    model = tiny_bert(model_type="roberta", num_labels=3, **_labels("Positive", "neutral", "negative"))
    own = model.classifier.out_proj.weight.detach().clone()
    head.apply(model)
    assert torch.equal(model.classifier.dense.weight, source.classifier.dense.weight)
    assert torch.equal(model.classifier.dense.bias, source.classifier.dense.bias)
    rows = model.classifier.out_proj.weight.detach()
    assert torch.equal(rows[0], source.classifier.out_proj.weight[1].detach())
    assert torch.equal(rows[2], source.classifier.out_proj.weight[0].detach())
    assert torch.equal(rows[1], own[1])


#: (model labels, label_map) that a 2-label sst2 head refuses, each a LabelMismatchError with the model unchanged.
REFUSED = [
    (("neg", "pos", "meh"), {"neg": "negative", "bogus": "positive"}),  # a model label neither side has
    (("neg", "pos", "meh"), {"neg": "negative", "pos": "posit1ve"}),  # a head label neither side has
    (("neg", "pos", "meh"), {"neg": "negative", "pos": "negative"}),  # two labels mapped to one
    (("negative", "pos", "meh"), {"pos": "negative"}),  # a mapped label and a named one on one row
    (("neg", "pos", "meh"), {"negative": "neg", "positive": "pos"}),  # the map the wrong way round
    (("x", "y", "z"), None),  # no overlap
    (("x", "y", "z"), {"x": "x"}),  # a map that leaves no overlap
    (("Pos", "pos", "neg"), None),  # two model labels that differ only in case
]


@pytest.mark.parametrize(("names", "label_map"), REFUSED)
def test_refusals_leave_the_model_unchanged(sst2: tuple[Head, torch.Tensor], names: tuple[str, ...],
                                            label_map: dict[str, str] | None) -> None:
    head, _ = sst2
    labels = _labels(*names)
    model = tiny_bert(num_labels=3, **labels)
    before = _state(model)
    with pytest.raises(LabelMismatchError) as err:
        head.apply(model, label_map=label_map)
    message = str(err.value)
    assert "\n" not in message and any(f"'{name}'" in message for name in names), message  # names the labels
    assert _same(before, model) and model.config.id2label == labels["id2label"]


def test_regression_head_refuses_a_classifier_and_back() -> None:
    reg = Head.from_model(tiny_bert(num_labels=1, problem_type="regression"), task="stsb")
    model = tiny_bert(num_labels=2, **SST2)
    before = _state(model)
    with pytest.raises(LabelMismatchError, match="regression heads go to regression tasks only"):
        reg.apply(model, allow_backbone_mismatch=True)
    assert _same(before, model)
    cls = Head.from_model(tiny_bert(num_labels=2, **SST2), task="sst2")
    target = tiny_bert(num_labels=1, problem_type="regression")
    with pytest.raises(LabelMismatchError, match="regression"):
        cls.apply(target)


def test_load_head_with_label_map_builds_renamed_labels(tmp_path: Path, tiny_backbone: Path) -> None:
    ref = resolve_backbone(str(tiny_backbone))
    source = _trained(load_classifier(ref, num_labels=2, **SST2))
    Head.from_model(source, task="sst2", backbone=ref.id, method="lora").save(tmp_path / "sst2")
    model, match = load_head(tmp_path / "sst2", label_map={"neg": "negative", "pos": "positive"},
                             return_labels=True)
    assert model.config.id2label == {0: "neg", 1: "pos"}
    assert match.report == "2 of 2 rows from sst2/lora (neg=negative, pos=positive)"
    assert torch.equal(model.classifier.weight, source.classifier.weight)
    with pytest.raises(LabelMismatchError, match="both to the head label"):
        load_head(tmp_path / "sst2", label_map={"neg": "negative", "pos": "negative"})


def test_a_head_of_another_task_by_name_for_my_model(tiny_backbone: Path) -> None:
    """load_head("sst2", model=my_model): the zoo head of the model's own backbone, 3 labels from 2."""
    ref = resolve_backbone(str(tiny_backbone))
    source = _trained(load_classifier(ref, num_labels=2, **SST2))
    headzoo.save_to_zoo(Head.from_model(source, task="sst2", backbone=ref.id, method="lora"))
    mine = load_classifier(ref, num_labels=3, **_labels("Negative", "neutral", "POSITIVE"))
    model, match = load_head("sst2", model=mine, return_labels=True)
    assert model is mine
    assert match.report == "2 of 3 rows from sst2/lora (Negative, POSITIVE); new: neutral"
    mapped = load_classifier(ref, num_labels=3, **_labels("bad", "meh", "good"))
    _, match = load_head("sst2", model=mapped, label_map={"bad": "negative", "good": "positive"},
                         return_labels=True)
    assert match.rows == (0, None, 1)


# --------------------------------------------------------------------------- fuzzed label maps and label sets

POOL = ["negative", "positive", "Negative", " POSITIVE ", "neutral", "neg", "pos", "x", "LABEL_0", "LABEL_1"]


@fuzz(R.FUZZ_LABEL_MATCH_EXAMPLES)
@given(
    model_labels=st.lists(st.sampled_from(POOL), min_size=1, max_size=4, unique=True),
    label_map=st.none() | st.dictionaries(st.sampled_from([*POOL, "bogus", ""]),
                                          st.sampled_from([*POOL, "bogus", " "]), max_size=3),
)
def test_fuzzed_label_maps_and_sets(sst2: tuple[Head, torch.Tensor], model_labels: list[str],
                                    label_map: dict[str, str] | None) -> None:
    head, source_logits = sst2
    model = tiny_bert(num_labels=len(model_labels), **_labels(*model_labels))
    before = _state(model)
    init = logits(model)
    try:
        match = head.match_labels(model, label_map)
        head.apply(model, label_map=label_map)
    except HeadzooError as exc:
        assert isinstance(exc, (LabelMismatchError, ConfigError)), type(exc)
        assert "\n" not in str(exc) and str(exc)
        assert _same(before, model), "a refused head changed the model"
        event(f"refused: {type(exc).__name__}")
        return
    event(f"{len(match.matched)} of {len(match.rows)}")
    out = logits(model)
    mapping = {normalize_label(k): normalize_label(v) for k, v in (label_map or {}).items()}
    rows = [r for r in match.rows if r is not None]
    assert len(rows) == len(set(rows)) and rows, "no row may be used twice, one at least is used"
    for i, (label, row) in enumerate(zip(match.model_labels, match.rows, strict=True)):
        if row is None:
            assert torch.equal(out[:, i], init[:, i])  # a new row keeps the model's own init
            continue
        if not match.by_position:
            want = mapping.get(normalize_label(label), normalize_label(label))
            assert normalize_label(head.config.labels[row]) == want
        # the row's logits are the head's: to the last bits of float32 (a layer of 4 rows and one of 2 can round
        # their products differently)
        torch.testing.assert_close(out[:, i], source_logits[:, row], rtol=1e-6, atol=1e-7)
    assert match.report.startswith(f"{len(rows)} of {len(model_labels)} rows from sst2/lora (")


# --------------------------------------------------------------------------- CLI


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_previews_my_labels(sst2: tuple[Head, torch.Tensor], tmp_path: Path, capsys) -> None:
    head, _ = sst2
    head.save(tmp_path / "sst2")
    code, out, _ = run(capsys, "show", str(tmp_path / "sst2"), "--labels", "Negative,neutral,positive")
    assert code == 0
    assert "your labels: 2 of 3 rows from sst2/lora (Negative, positive); new: neutral" in out
    code, out, _ = run(capsys, "show", str(tmp_path / "sst2"), "--labels", "neg,pos", "--label-map", "neg=negative")
    assert code == 0 and "your labels: 1 of 2 rows from sst2/lora (neg=negative); new: pos" in out
    code, _, err = run(capsys, "show", str(tmp_path / "sst2"), "--labels", "x,y")
    assert code == 1 and err.count("\n") == 1 and "no label in common" in err
    code, _, err = run(capsys, "show", str(tmp_path / "sst2"), "--label-map", "neg=negative")
    assert code == 1 and "--label-map needs --labels" in err


def _three_class_csv(path: Path) -> Path:
    rng = random.Random(0)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for i in range(60):
            label = rng.choice(["neg", "meh", "pos"])
            words = {"neg": "bad awful poor", "meh": "okay so so", "pos": "good fine nice"}[label]
            writer.writerow([f"{words} {i}", label])
    return path


def test_finetune_from_another_task_with_a_label_map(tiny_backbone: Path, tmp_path: Path, capsys) -> None:
    ref = resolve_backbone(str(tiny_backbone))
    source = _trained(load_classifier(ref, num_labels=2, **SST2))
    headzoo.save_to_zoo(Head.from_model(source, task="sst2", backbone=ref.id, method="lora"))
    data = _three_class_csv(tmp_path / "mine.csv")
    common = ["finetune", "mytask", "--backbone", str(tiny_backbone), "--data-file", str(data), "--text-column",
              "text", "--label-column", "label", "--from", "sst2", "--epochs", "1", "--batch-size", "8",
              "--max-length", "32", "--no-progress", "--protocol", "zoo", "--output-dir", str(tmp_path / "run")]
    code, _, err = run(capsys, *common, "--label-map", "neg=negative,pos=negative")
    assert code == 1 and err.count("\n") == 1 and "'negative'" in err and "'neg'" in err and "'pos'" in err
    code, out, err = run(capsys, *common, "--label-map", "neg=negative,pos=positive")
    assert code == 0, err
    line = next(x for x in out.splitlines() if " rows from " in x)
    assert line.startswith("2 of 3 rows from sst2/lora (neg=negative, pos=positive); new: meh (imprinted from ")
