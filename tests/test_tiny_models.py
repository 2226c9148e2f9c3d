"""Sanity checks of the tiny-model helpers in ``tests/tiny_models.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from .tiny_models import (
    ARCHITECTURES,
    BATCH_SIZE,
    HEAD_INSIDE_BASE,
    HEAD_PREFIXES,
    SKIPPED,
    build_tiny,
    head_param_names,
    head_prefixes,
    tiny_inputs,
    unclassified_model_types,
)

REQUIRED = [
    # decoder-only
    "gpt2", "llama", "mistral", "qwen2",
    # encoders
    "bert", "roberta", "xlm-roberta", "distilbert", "electra", "deberta-v2", "deberta", "albert", "mpnet",
    "modernbert",
]  # fmt: skip

# One or two per head layout, for the (slower) state-dict round trip in the default run.
ROUND_TRIP = ["bert", "roberta", "distilbert", "deberta-v2", "gpt2", "llama", "bart", "t5", "xlnet", "reformer"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny matmuls: intra-op threads only add synchronisation (about 15 ms per op on a busy 2-core box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_every_model_type_is_classified() -> None:
    assert unclassified_model_types() == []
    assert not set(ARCHITECTURES) & set(SKIPPED)
    assert all(reason.strip() for reason in SKIPPED.values())
    assert sorted(HEAD_PREFIXES) == sorted(ARCHITECTURES)


def test_required_architectures_are_in() -> None:
    assert [m for m in REQUIRED if m not in ARCHITECTURES] == []


@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_tiny_model_builds_and_forwards(model_type: str) -> None:
    model = build_tiny(model_type)
    assert not model.training
    assert sum(p.numel() for p in model.parameters()) < 100_000
    assert all(p.dtype == torch.float32 for p in model.parameters())
    inputs = tiny_inputs(model)
    assert inputs["attention_mask"].shape == (BATCH_SIZE, 8)
    assert (inputs["attention_mask"] == 0).any()
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (BATCH_SIZE, 3)
    assert torch.isfinite(logits).all()

    prefix = model.base_model_prefix
    assert isinstance(prefix, str) and prefix and isinstance(getattr(model, prefix), torch.nn.Module)
    assert tuple(head_prefixes(model)) == HEAD_PREFIXES[model_type]
    names = [n for n, _ in model.named_parameters()]
    for inside in HEAD_INSIDE_BASE.get(model_type, ()):
        assert any(n.startswith(f"{prefix}.{inside}.") for n in names), inside


@pytest.mark.parametrize("model_type", ROUND_TRIP)
def test_params_determine_logits(model_type: str) -> None:
    _check_params_determine_logits(model_type)


@pytest.mark.slow
@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_params_determine_logits_all(model_type: str) -> None:
    _check_params_determine_logits(model_type)


def _check_params_determine_logits(model_type: str) -> None:
    a = build_tiny(model_type, seed=0)
    again = build_tiny(model_type, seed=0)
    sa, sagain = a.state_dict(), again.state_dict()
    assert sa.keys() == sagain.keys()
    assert all(torch.equal(sa[k], sagain[k]) for k in sa), "same seed, different weights"

    b = build_tiny(model_type, seed=1)
    inputs = tiny_inputs(a)
    with torch.no_grad():
        la = a(**inputs).logits
        assert not torch.allclose(la, b(**inputs).logits), "the seed does not change the model"
        # head (outside base_model_prefix) first, then the base: parameters alone fix the output
        params_b = dict(b.named_parameters())
        head = set(head_param_names(a))
        for name, p in a.named_parameters():
            if name in head:
                params_b[name].copy_(p)
        for name, p in a.named_parameters():
            if name not in head:
                params_b[name].copy_(p)
        assert torch.equal(b(**inputs).logits, la)
    buffers_b = dict(b.named_buffers())
    assert [n for n, x in a.named_buffers() if not torch.equal(x, buffers_b[n])] == []
