"""SentenceEmbeddingForSequenceClassification: a transformers model on a checkpoint's declared embedding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from headzoo.errors import PoolingConfigError
from headzoo.pooling import Pooling
from headzoo.sentence_model import (
    MODEL_TYPE,
    SentenceClassifierConfig,
    SentenceEmbeddingForSequenceClassification,
)

TEXTS = ["I loved this film, every minute of it.", "Dull, slow and far too long.", "ok",
         " ".join(["a very long sentence that goes on"] * 60)]


def tiny_sentence_backbone(folder: Path, tiny_backbone: Path, mode: str = "mean", normalize: bool = True) -> Path:
    """The tiny BERT checkpoint with sentence-transformers' files beside it."""
    shutil.copytree(tiny_backbone, folder)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": mode}))
    return folder


@pytest.fixture
def tiny_st(tmp_path: Path, tiny_backbone: Path) -> Path:
    return tiny_sentence_backbone(tmp_path / "tiny-st", tiny_backbone)


def batch(path: Path, texts=TEXTS, max_length: int = 64):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)(texts, padding=True, truncation=True, max_length=max_length,
                                               return_tensors="pt")


def test_the_head_is_every_parameter_outside_the_backbone(tiny_st: Path) -> None:
    model = SentenceEmbeddingForSequenceClassification.from_backbone(str(tiny_st), num_labels=3)
    assert model.base_model_prefix == "backbone"
    assert sorted(n for n, _ in model.named_parameters() if not n.startswith("backbone.")) == [
        "classifier.bias", "classifier.weight"]
    assert model.classifier.weight.shape == (3, 32)
    assert model.pooling == Pooling(("mean",), normalize=True)


def test_the_backbone_keeps_its_pretrained_weights(tiny_st: Path) -> None:
    from transformers import AutoModel

    model = SentenceEmbeddingForSequenceClassification.from_backbone(str(tiny_st), num_labels=2)
    reference = AutoModel.from_pretrained(tiny_st).state_dict()
    for name, tensor in model.backbone.state_dict().items():
        torch.testing.assert_close(tensor, reference[name], rtol=0, atol=0)


def test_a_backbone_without_a_declaration_needs_one(tiny_backbone: Path) -> None:
    with pytest.raises(PoolingConfigError, match="declares no sentence embedding"):
        SentenceEmbeddingForSequenceClassification.from_backbone(str(tiny_backbone), num_labels=2)
    model = SentenceEmbeddingForSequenceClassification.from_backbone(
        str(tiny_backbone), pooling=Pooling(("cls",)), num_labels=2)
    assert model.config.pooling == {"modes": ["cls"], "normalize": False, "max_seq_length": None}


def test_save_and_load_back_in_one_line(tiny_st: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    model = SentenceEmbeddingForSequenceClassification.from_backbone(
        str(tiny_st), num_labels=2, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1}).eval()
    model.save_pretrained(tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / "config.json").read_text())["model_type"] == MODEL_TYPE
    assert not list((tmp_path / "saved").glob("*.bin"))
    inputs = batch(tiny_st)
    for loaded in (SentenceEmbeddingForSequenceClassification.from_pretrained(tmp_path / "saved"),
                   AutoModelForSequenceClassification.from_pretrained(tmp_path / "saved")):
        assert type(loaded) is SentenceEmbeddingForSequenceClassification
        assert loaded.config.id2label == {0: "neg", 1: "pos"}
        with torch.no_grad():
            torch.testing.assert_close(loaded.eval()(**inputs).logits, model(**inputs).logits)


def test_it_runs_in_the_text_classification_pipeline(tiny_st: Path, caplog: pytest.LogCaptureFixture) -> None:
    from transformers import AutoTokenizer, pipeline

    model = SentenceEmbeddingForSequenceClassification.from_backbone(
        str(tiny_st), num_labels=2, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    pipe = pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(tiny_st))
    out = pipe(TEXTS[:2])
    assert [row["label"] for row in out] == [("neg", "pos")[int(i)] for i in model.eval()(**batch(
        tiny_st, TEXTS[:2])).logits.argmax(-1)]
    assert "not supported" not in caplog.text


@pytest.mark.parametrize(("num_labels", "problem_type", "labels"), [
    (3, None, torch.tensor([0, 2, 1, 1])),
    (3, "multi_label_classification", torch.tensor([[1.0, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]])),
    (1, "regression", torch.tensor([0.5, 4.0, 2.5, 1.0])),
])
def test_its_loss_is_the_sequence_classification_loss(tiny_st: Path, num_labels, problem_type, labels) -> None:
    from transformers import BertForSequenceClassification

    model = SentenceEmbeddingForSequenceClassification.from_backbone(
        str(tiny_st), num_labels=num_labels, problem_type=problem_type)
    out = model(**batch(tiny_st), labels=labels)
    reference = BertForSequenceClassification(model.backbone.config.__class__(
        **{**model.backbone.config.to_dict(), "num_labels": num_labels, "problem_type": problem_type}))
    expected_type = problem_type or "single_label_classification"
    assert model.config.problem_type == expected_type
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    # the same loss function as BERT's classifier, applied to our logits
    reference.config.problem_type = expected_type
    from transformers.loss.loss_utils import ForSequenceClassificationLoss

    torch.testing.assert_close(out.loss, ForSequenceClassificationLoss(labels, out.logits, reference.config))


def test_it_trains_with_trainer_and_peft(tiny_st: Path, tmp_path: Path) -> None:
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments

    torch.manual_seed(0)
    model = SentenceEmbeddingForSequenceClassification.from_backbone(str(tiny_st), num_labels=2)
    head_before = model.classifier.weight.detach().clone()
    wrapped = get_peft_model(model, LoraConfig(target_modules=["query", "value"], modules_to_save=["classifier"]))
    tokenizer = AutoTokenizer.from_pretrained(tiny_st)
    data = Dataset.from_dict({"text": TEXTS * 4, "label": [1, 0, 1, 0] * 4}).map(
        lambda e: tokenizer(e["text"], truncation=True, max_length=64), batched=True).remove_columns("text")
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=3, per_device_train_batch_size=4,
                             learning_rate=1e-2, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True)
    Trainer(model=wrapped, args=args, train_dataset=data, data_collator=DataCollatorWithPadding(tokenizer)).train()
    trained = wrapped.merge_and_unload()
    assert not torch.equal(trained.classifier.weight, head_before)


def test_the_embedding_is_sentence_transformers_encode(minilm_path: Path) -> None:
    st = pytest.importorskip("sentence_transformers")
    model = SentenceEmbeddingForSequenceClassification.from_backbone(str(minilm_path), num_labels=2).eval()
    theirs = st.SentenceTransformer(str(minilm_path), device="cpu").encode(TEXTS, convert_to_tensor=True)
    with torch.no_grad():
        ours = model.embed(**batch(minilm_path, max_length=model.pooling.max_seq_length))
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_a_config_records_backbone_and_pooling() -> None:
    from transformers import BertConfig

    config = SentenceClassifierConfig(backbone=BertConfig(hidden_size=16, num_attention_heads=2),
                                      pooling=Pooling(("mean", "max")).to_dict(), num_labels=2)
    assert config.embedding_size == 32
    again = SentenceClassifierConfig.from_dict(config.to_dict())
    assert again.backbone.hidden_size == 16 and again.pooling_spec() == Pooling(("mean", "max"))
