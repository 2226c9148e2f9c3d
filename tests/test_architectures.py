"""The one rule over every sequence-classification architecture that builds tiny and offline.

extract -> save -> load -> apply to a fresh model of the same backbone -> identical logits.
The architectures that cannot be built are listed with the reason in ``tiny_models.SKIPPED``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from headzoo import Head, HeadMismatchError
from headzoo.head import head_state_names

from .tiny_models import ARCHITECTURES, SKIPPED, build_tiny, tiny_inputs

#: Architectures whose classifier lives inside ``base_model_prefix``: the rule finds no head,
#: and headzoo says so instead of guessing.
NO_HEAD = {"perceiver": "the classification decoder is perceiver.decoder, inside the base model"}
SWEEP = [m for m in ARCHITECTURES if m not in NO_HEAD]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest on one thread (and the sweep builds 250 of them)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

REQUIRED = ["bert", "roberta", "xlm-roberta", "distilbert", "electra", "deberta-v2", "albert", "mpnet",
            "modernbert", "gpt2", "llama"]


def test_sweep_covers_the_required_architectures() -> None:
    missing = [m for m in REQUIRED if m not in ARCHITECTURES]
    assert not missing, f"required architectures missing from the sweep: {missing}"
    assert len(SWEEP) >= 15
    assert not set(ARCHITECTURES) & set(SKIPPED)


@pytest.mark.parametrize("model_type", sorted(NO_HEAD))
def test_models_without_a_head_outside_the_base_are_refused_clearly(model_type: str) -> None:
    with pytest.raises(HeadMismatchError, match="no parameters outside"):
        Head.from_model(build_tiny(model_type), task="sweep")


@pytest.mark.parametrize("model_type", SWEEP)
def test_extract_save_load_apply_gives_identical_logits(model_type: str, tmp_path: Path) -> None:
    source = build_tiny(model_type, seed=0)
    names = head_state_names(source)
    gen = torch.Generator().manual_seed(1)
    state = source.state_dict()
    with torch.no_grad():  # make the head distinct from any fresh init
        for name in names:
            if state[name].is_floating_point():
                state[name].copy_(torch.randn(state[name].shape, generator=gen) * 0.5)
    inputs = tiny_inputs(source, seed=0)
    with torch.no_grad():
        expected = source(**inputs).logits

    head = Head.from_model(source, task="sweep", backbone=f"tiny-{model_type}")
    prefix = source.base_model_prefix + "."
    assert sorted(head.tensors) == sorted(k for k in source.state_dict() if not k.startswith(prefix))
    head.save(tmp_path / "head")
    loaded = Head.load(tmp_path / "head")

    target = build_tiny(model_type, seed=0)
    with torch.no_grad():
        assert not torch.equal(target(**inputs).logits, expected), "the fresh model already had this head"
    loaded.apply(target)
    with torch.no_grad():
        assert torch.equal(target(**inputs).logits, expected)
