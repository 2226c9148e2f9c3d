"""Training on the sentence-embedding feature: every stage-1 method, stage 2, heads of that kind, kind errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from headzoo import Head, load_head
from headzoo.errors import ConfigError, HeadKindError, PoolingConfigError
from headzoo.head_kind import feature_of
from headzoo.naming import SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION
from headzoo.sentence_model import SentenceEmbeddingForSequenceClassification
from headzoo.tasks import dataset_task
from headzoo.train import FinetuneSettings, finetune, pretrain_head

from .tiny_task import compare_under_torchrun, one_thread, tiny_backbone_fixture, tiny_st_fixture  # noqa: F401


def toy_task(multi: bool = False):
    from datasets import Dataset

    words = {"pos": "good fine nice great", "neg": "bad awful poor sad", "neu": "table chair door"}
    rows = []
    for i in range(36):
        label = ("pos", "neg", "neu")[i % 3]
        rows.append({"text": f"{words[label]} {i}", "label": label})
    if multi:
        return dataset_task(Dataset.from_list([{"text": r["text"], "labels": [r["label"]] + (["odd"] if i % 2 else [])}
                                               for i, r in enumerate(rows)]),
                            name="toymulti", text_columns="text", label_column="labels", validation_fraction=0.25)
    return dataset_task(Dataset.from_list(rows), "text", "label", name="toy", validation_fraction=0.25)


S1 = {"batch_size": 8, "max_steps": 4}


@pytest.mark.parametrize("method", ["probe", "imprint", "lora", "bitfit", "ia3", "prefix"])
def test_every_stage1_method_makes_a_sentence_head(tiny_st: Path, method: str) -> None:
    settings = S1 if method in ("probe", "imprint") else {**S1, "learning_rate": 1e-2}
    head = pretrain_head(toy_task(), str(tiny_st), method=method, feature=SENTENCE_EMBEDDING, settings=settings,
                         save=False)
    c = head.config
    assert c.feature == SENTENCE_EMBEDDING and c.model_type == "bert" and c.hidden_size == 32
    assert c.pooling == {"modes": ["mean"], "normalize": True, "max_seq_length": 48}
    assert sorted(head.tensors) == ["classifier.bias", "classifier.weight"]
    assert c.training["feature"] == SENTENCE_EMBEDDING
    if method in ("probe", "imprint"):
        assert c.training["steps"] == 0  # closed form: no optimizer step
    model = load_head(head.path or _saved(head), str(tiny_st))
    assert isinstance(model, SentenceEmbeddingForSequenceClassification) and feature_of(model) == SENTENCE_EMBEDDING


def _saved(head: Head) -> Path:
    import tempfile

    return head.save(Path(tempfile.mkdtemp()) / "h")


def test_a_probe_on_frozen_embeddings_fits_the_training_data(tiny_st: Path) -> None:
    head = pretrain_head(toy_task(), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                         save=False)
    assert head.config.metrics["accuracy"] > 0.5  # three classes: chance is 1/3
    assert head.config.training["fit"].startswith("logistic regression")


def test_a_multi_label_probe(tiny_st: Path) -> None:
    head = pretrain_head(toy_task(multi=True), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING,
                         settings=S1, save=False)
    assert head.config.problem_type == "multi_label_classification"


@pytest.mark.parametrize(("strategy", "method"), [("ft", None), ("lp-ft", None), ("eh-ft", "lora")])
def test_stage2_on_the_sentence_feature(tiny_st: Path, tmp_path: Path, strategy: str, method) -> None:
    result = finetune(toy_task(), str(tiny_st), strategy=strategy, method=method, feature=SENTENCE_EMBEDDING,
                      settings=FinetuneSettings(epochs=1, batch_size=8, min_steps=4, learning_rate=1e-3),
                      stage1_settings={"learning_rate": 1e-2}, output_dir=tmp_path / "run", save_checkpoints=False)
    assert feature_of(result.model) == SENTENCE_EMBEDDING
    assert result.stage2_steps >= 1
    assert "accuracy" in result.final


def test_the_feature_is_hashed_only_for_the_sentence_kind(tiny_st: Path, tmp_path: Path) -> None:
    from headzoo.train import prepare_data

    plain = prepare_data(toy_task(), str(tiny_st), data_dir=None, limit=None, max_length=128,
                         feature=SEQUENCE_CLASSIFICATION)
    sentence = prepare_data(toy_task(), str(tiny_st), data_dir=None, limit=None, max_length=128,
                            feature=SENTENCE_EMBEDDING)
    auto = prepare_data(toy_task(), str(tiny_st), data_dir=None, limit=None, max_length=128, feature="auto")
    default = prepare_data(toy_task(), str(tiny_st), data_dir=None, limit=None, max_length=128)
    assert plain.feature == SEQUENCE_CLASSIFICATION and "feature" not in plain.info
    assert sentence.feature == auto.feature == default.feature == SENTENCE_EMBEDDING  # the default: what it declares
    assert sentence.info["feature"] == SENTENCE_EMBEDDING
    assert sentence.max_length == 48  # the checkpoint's max_seq_length


def test_heads_of_one_kind_refuse_the_other(tiny_st: Path, tmp_path: Path) -> None:
    sentence = pretrain_head(toy_task(), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                             save=False).save(tmp_path / "se")
    plain = pretrain_head(toy_task(), str(tiny_st), method="probe", settings={**S1, "learning_rate": 1e-2},
                          feature=SEQUENCE_CLASSIFICATION, save=False).save(tmp_path / "sc")
    sc_model = load_head(plain, str(tiny_st))
    se_model = load_head(sentence, str(tiny_st))
    before = {k: v.clone() for k, v in sc_model.state_dict().items()}
    with pytest.raises(HeadKindError) as info:
        Head.load(sentence).apply(sc_model)
    message = str(info.value)
    assert SENTENCE_EMBEDDING in message and SEQUENCE_CLASSIFICATION in message and "feature=" in message
    assert "\n" not in message
    assert all(torch.equal(before[k], v) for k, v in sc_model.state_dict().items())  # nothing changed
    with pytest.raises(HeadKindError):
        Head.load(plain).apply(se_model)
    with pytest.raises(HeadKindError):
        load_head(sentence, str(tiny_st), feature=SEQUENCE_CLASSIFICATION)


def test_a_pooling_that_disagrees_with_the_heads_record_is_refused(tiny_st: Path, tmp_path: Path) -> None:
    from headzoo.backbone import load_sentence_classifier, resolve_backbone

    head = pretrain_head(toy_task(), str(tiny_st), method="imprint", feature=SENTENCE_EMBEDDING, settings=S1,
                         save=False)
    other = tmp_path / "cls-st"
    shutil.copytree(tiny_st, other)
    (other / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    model = load_sentence_classifier(resolve_backbone(other), num_labels=3)
    with pytest.raises(HeadKindError, match=r"mean pooling, normalised.*cls pooling"):
        head.apply(model, allow_backbone_mismatch=True)


def test_a_head_applies_alike_at_another_head_scale(tiny_st: Path) -> None:
    from headzoo.backbone import load_sentence_classifier, resolve_backbone

    head = pretrain_head(toy_task(), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                         save=False)
    a = load_sentence_classifier(resolve_backbone(tiny_st), num_labels=3)
    b = load_sentence_classifier(resolve_backbone(tiny_st), num_labels=3)
    b.config.head_scale = 5.0
    head.apply(a)
    head.apply(b)
    inputs = {"input_ids": torch.tensor([[2, 10, 11, 12, 3]]), "attention_mask": torch.ones(1, 5, dtype=torch.long)}
    with torch.no_grad():
        torch.testing.assert_close(a.eval()(**inputs).logits, b.eval()(**inputs).logits, rtol=1e-5, atol=1e-5)


def test_asking_for_sentence_embedding_on_a_plain_backbone_is_a_typed_error(tiny_backbone: Path) -> None:
    with pytest.raises(PoolingConfigError, match="declares no sentence embedding"):
        pretrain_head(toy_task(), str(tiny_backbone), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                      save=False)
    with pytest.raises(ConfigError, match="'pooled'"):
        pretrain_head(toy_task(), str(tiny_backbone), method="probe", feature="pooled", settings=S1, save=False)


def test_the_cli_trains_shows_and_lists_a_sentence_head(tiny_st: Path, tmp_path: Path, capsys) -> None:
    from headzoo.cli import main

    data = tmp_path / "toy.csv"
    data.write_text("text,label\n" + "".join(f"{'good fine' if i % 2 else 'bad poor'} {i},{'pos' if i % 2 else 'neg'}\n"
                                             for i in range(40)))
    columns = ["--text-column", "text", "--label-column", "label"]
    code = main(["train", "toy", "--data-file", str(data), *columns, "--backbone", str(tiny_st), "--method", "probe",
                 "--feature", "sentence-embedding", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "toy" in listed and "sentence" in listed
    assert main(["show", "toy", "--backbone", str(tiny_st)]) == 0
    shown = capsys.readouterr().out
    assert "feature:     sentence-embedding (mean pooling, normalised)" in shown
    code = main(["train", "toy", "--data-file", str(data), *columns, "--backbone", str(tiny_st), "--feature", "cls"])
    _, err = capsys.readouterr()
    assert code != 0 and err.strip().count("\n") == 0 and "'cls'" in err and "Traceback" not in err


def test_a_sentence_heads_card_names_its_feature(tiny_st: Path) -> None:
    from headzoo.cards import card_tags, render_card

    head = pretrain_head(toy_task(), str(tiny_st), method="imprint", feature=SENTENCE_EMBEDDING, settings=S1,
                         save=False)
    assert "feature:sentence-embedding" in card_tags(head.config)
    assert "Feature the head reads: `sentence-embedding` (mean pooling, normalised" in render_card(head.config)


def test_suggest_ranks_the_heads_of_the_asked_feature(tiny_st: Path, tmp_path: Path) -> None:
    from headzoo import save_to_zoo, suggest_heads

    sentence = pretrain_head(toy_task(), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                             save=False)
    save_to_zoo(sentence)
    plain = pretrain_head(toy_task(), str(tiny_st), method="bitfit", settings={**S1, "learning_rate": 1e-2},
                          feature=SEQUENCE_CLASSIFICATION, save=False)
    save_to_zoo(plain)
    ranked = suggest_heads(toy_task(), str(tiny_st), feature=SENTENCE_EMBEDDING, sample=24)
    assert [s.source for s in ranked if s.origin != "imprint"] == ["toy/probe"]
    assert any("toy/bitfit" in line and "sequence-classification" in line for line in ranked.skipped)
    top = ranked[0]
    assert 0.0 <= top.accuracy <= 1.0
    plain_ranked = suggest_heads(toy_task(), str(tiny_st), feature=SEQUENCE_CLASSIFICATION, sample=24)
    assert [s.source for s in plain_ranked if s.origin != "imprint"] == ["toy/bitfit"]


def test_suggest_takes_a_sentence_model_as_model(tiny_st: Path) -> None:
    """model= of the sentence kind names its backbone through the backbone inside it, as the other kind does."""
    from headzoo import save_to_zoo, suggest_heads
    from headzoo.backbone import load_classifier, resolve_backbone
    from headzoo.head_kind import backbone_name_of

    save_to_zoo(pretrain_head(toy_task(), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                              save=False))
    spec, _ = toy_task()
    model = load_classifier(resolve_backbone(str(tiny_st)), feature=SENTENCE_EMBEDDING, num_labels=3,
                            id2label=dict(spec.id2label), label2id=dict(spec.label2id))
    assert backbone_name_of(model) == str(tiny_st)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    by_model = suggest_heads(toy_task(), model=model, sample=24)
    by_name = suggest_heads(toy_task(), str(tiny_st), feature=SENTENCE_EMBEDDING, sample=24)
    assert [s.source for s in by_model] == [s.source for s in by_name]
    assert [s.accuracy for s in by_model] == pytest.approx([s.accuracy for s in by_name])
    assert all(v.equal(before[k]) for k, v in model.state_dict().items())


def test_a_label_map_with_no_candidate_head_imprints(tiny_st: Path) -> None:
    """With no head of the kind in any zoo, the map has no head to name: suggest ranks the imprint alone."""
    from headzoo import suggest_heads

    ranked = suggest_heads(toy_task(), str(tiny_st), feature=SENTENCE_EMBEDDING, sample=24,
                           label_map={"pos": "positive"})
    assert [s.origin for s in ranked] == ["imprint"]


def test_finetune_from_a_sentence_head_builds_that_kind(tiny_st: Path, tmp_path: Path) -> None:
    head_dir = pretrain_head(toy_task(), str(tiny_st), method="probe", feature=SENTENCE_EMBEDDING, settings=S1,
                             save=False).save(tmp_path / "head")
    result = finetune(toy_task(), str(tiny_st), head=str(head_dir),
                      settings=FinetuneSettings(epochs=1, batch_size=8, min_steps=4),
                      output_dir=tmp_path / "run", save_checkpoints=False)
    assert feature_of(result.model) == SENTENCE_EMBEDDING
    assert result.stage1["source"] in ("given", "zoo")


def test_prefix_tuning_on_the_sentence_feature_trains_the_head_and_leaves_the_backbone(tiny_st: Path) -> None:
    """peft's prefix-tuning on a sentence model: the virtual tokens reach every layer, the pooling reads only the
    real tokens, and what is kept is a head that moved, on the backbone's pretrained weights."""
    from headzoo.backbone import load_classifier, resolve_backbone
    from headzoo.pet import prepare as prepare_pet
    from headzoo.pet import unwrap

    model = load_classifier(resolve_backbone(str(tiny_st)), feature=SENTENCE_EMBEDDING, num_labels=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = {"input_ids": torch.tensor([[2, 10, 11, 12, 3, 0], [2, 13, 3, 0, 0, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]])}
    wrapped = prepare_pet(model, "prefix", {"prefix_length": 5})
    out = wrapped(**batch, labels=torch.tensor([0, 2]))
    assert out.logits.shape == (2, 3)
    out.loss.backward()
    prompt = [p for n, p in wrapped.named_parameters() if "prompt_encoder" in n]
    assert prompt and all(p.grad is not None and p.grad.abs().sum() > 0 for p in prompt)
    plain = unwrap(wrapped)
    assert isinstance(plain, SentenceEmbeddingForSequenceClassification)
    after = plain.state_dict()
    assert sorted(after) == sorted(before)
    assert all(after[k].equal(v) for k, v in before.items())  # nothing stepped yet: backbone and head as they were


def test_lp_ft_on_the_sentence_feature_charges_no_steps_to_its_closed_form_probe(tiny_st: Path, tmp_path: Path) -> None:
    result = finetune(toy_task(), str(tiny_st), strategy="lp-ft", feature=SENTENCE_EMBEDDING,
                      settings=FinetuneSettings(epochs=1, batch_size=8, min_steps=8, protocol="matched"),
                      output_dir=tmp_path / "run", save_checkpoints=False)
    assert result.stage1_steps == 0
    assert result.stage2_steps == result.budget_steps == 8


@pytest.mark.slow
def test_compare_on_the_sentence_feature_runs_under_torchrun(tiny_st: Path, data_dir: Path, tmp_path: Path) -> None:
    """The sentence kind trains under ``torchrun --nproc_per_node 2`` (gloo on CPU) as the other kind does."""
    _, runs = compare_under_torchrun(tiny_st, data_dir, tmp_path / "ddp", "--feature", SENTENCE_EMBEDDING)
    assert [r["settings"]["data"]["feature"] for r in runs] == [SENTENCE_EMBEDDING] * 2


@pytest.mark.parametrize("feature", [SEQUENCE_CLASSIFICATION, SENTENCE_EMBEDDING])
def test_loading_a_backbone_is_quiet_and_leaves_transformers_logging_as_it_was(tiny_st: Path, feature: str) -> None:
    """A new head is headzoo's doing, not news: transformers' missing-weights report does not reach its handlers,
    and its logging (level, handlers, their filters) is as it was afterwards."""
    import logging

    from transformers.utils import logging as hf_logging

    from headzoo.backbone import load_classifier, resolve_backbone

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    root, heard = hf_logging.get_logger(), Collect()
    root.addHandler(heard)
    try:
        before = (hf_logging.get_verbosity(), [(h, list(h.filters)) for h in root.handlers])
        load_classifier(resolve_backbone(str(tiny_st)), feature=feature, num_labels=3)
        assert not [m for m in heard.messages if "MISSING" in m or "newly initialized" in m]
        assert (hf_logging.get_verbosity(), [(h, list(h.filters)) for h in root.handlers]) == before
        hf_logging.get_logger("transformers.modeling_utils").warning("still heard")
        assert heard.messages[-1:] == ["still heard"]
    finally:
        root.removeHandler(heard)
