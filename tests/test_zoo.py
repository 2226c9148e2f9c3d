"""load_head in one line: the local zoo, head directories, resolution order and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import headzoo
from headzoo import Head, HeadExistsError, HeadNotFoundError, InvalidNameError, load_head

from .conftest import logits, tiny_bert


def _save_tiny(tmp_path: Path, seed: int = 1) -> tuple[Path, torch.nn.Module]:
    """A tiny backbone folder on disk, and a trained-looking model of it."""
    backbone = tmp_path / "tiny-backbone"
    base = tiny_bert(seed=0, id2label={0: "a", 1: "b", 2: "c"}, label2id={"a": 0, "b": 1, "c": 2})
    base.save_pretrained(backbone)
    with torch.no_grad():
        torch.manual_seed(seed)
        base.classifier.weight.normal_()
        base.classifier.bias.normal_()
    return backbone, base


def test_zoo_home_default_is_under_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HEADZOO_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert headzoo.zoo_home() == tmp_path / "cache" / "headzoo"


def test_load_head_builds_the_model_from_the_zoo(tmp_path: Path, zoo_dir: Path) -> None:
    backbone, trained = _save_tiny(tmp_path)
    head = Head.from_model(trained, task="toy", backbone=str(backbone), method="lora")
    path = headzoo.save_to_zoo(head)
    assert zoo_dir in path.parents and path.parts[-2:] == ("toy", "lora")
    model = load_head("toy", str(backbone))
    assert model.config.id2label == {0: "a", 1: "b", 2: "c"}
    assert torch.equal(logits(model), logits(trained))
    assert [e.task for e in headzoo.list_heads()] == ["toy"]


def test_load_head_into_an_existing_model_in_place(tmp_path: Path) -> None:
    backbone, trained = _save_tiny(tmp_path)
    headzoo.save_to_zoo(Head.from_model(trained, task="toy", backbone=str(backbone), method="bitfit"))
    mine = tiny_bert(seed=0)
    returned = load_head("toy", str(backbone), model=mine)
    assert returned is mine
    assert torch.equal(logits(mine), logits(trained))


def test_load_head_from_a_head_directory_uses_its_backbone(tmp_path: Path) -> None:
    backbone, trained = _save_tiny(tmp_path)
    Head.from_model(trained, task="toy", backbone=str(backbone)).save(tmp_path / "myhead")
    model = load_head(tmp_path / "myhead")
    assert torch.equal(logits(model), logits(trained))


def test_method_preference_and_explicit_method(tmp_path: Path) -> None:
    backbone, trained = _save_tiny(tmp_path, seed=1)
    probe = Head.from_model(trained, task="toy", backbone=str(backbone), method="probe")
    headzoo.save_to_zoo(probe)
    _, other = _save_tiny(tmp_path / "x", seed=2)
    lora = Head.from_model(other, task="toy", backbone=str(backbone), method="lora",
                           backbone_fingerprint=probe.config.backbone_fingerprint)
    headzoo.save_to_zoo(lora)
    assert headzoo.resolve_head("toy", str(backbone)).config.method == "lora"
    assert headzoo.resolve_head("toy", str(backbone), method="probe").config.method == "probe"


def test_not_found_says_how_to_train_one(tmp_path: Path) -> None:
    backbone, _ = _save_tiny(tmp_path)
    with pytest.raises(HeadNotFoundError, match=r"headzoo train rte --backbone"):
        load_head("rte", str(backbone))


def test_save_to_zoo_refuses_to_overwrite(tmp_path: Path) -> None:
    backbone, trained = _save_tiny(tmp_path)
    head = Head.from_model(trained, task="toy", backbone=str(backbone), method="lora")
    headzoo.save_to_zoo(head)
    with pytest.raises(HeadExistsError):
        headzoo.save_to_zoo(head)
    headzoo.save_to_zoo(head, overwrite=True)


def test_add_to_zoo_returns_the_place_and_refuses_a_different_head(tmp_path: Path) -> None:
    backbone, trained = _save_tiny(tmp_path)
    first = Head.from_model(trained, task="toy", backbone=str(backbone), method="lora").save(tmp_path / "first")
    _, other = _save_tiny(tmp_path / "other", seed=2)
    second = Head.from_model(other, task="toy", backbone=str(backbone), method="lora").save(tmp_path / "second")
    place = headzoo.add_to_zoo(first)
    assert place == headzoo.zoo_path("toy", str(backbone), "lora")
    assert headzoo.add_to_zoo(first) == place  # the same files again: nothing to do
    with pytest.raises(HeadExistsError, match=r"already holds a different 'toy'/'lora' head.*overwrite=True"):
        headzoo.add_to_zoo(second)
    assert (place / "head.safetensors").read_bytes() == (first / "head.safetensors").read_bytes()
    assert headzoo.add_to_zoo(second, overwrite=True) == place
    assert (place / "head.safetensors").read_bytes() == (second / "head.safetensors").read_bytes()


@pytest.mark.parametrize("task", ["../escape", "a/b", "", "x" * 200, "..", "bad name"])
def test_names_that_would_escape_the_zoo_are_refused(tmp_path: Path, task: str) -> None:
    backbone, _ = _save_tiny(tmp_path)
    with pytest.raises(InvalidNameError):
        headzoo.zoo_path(task, str(backbone), "lora")


def test_missing_path_is_a_clear_error() -> None:
    with pytest.raises(HeadNotFoundError, match="does not exist"):
        load_head("./no/such/head")


def test_backbone_folder_without_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(headzoo.BackboneError, match=r"has no config\.json"):
        headzoo.resolve_backbone(tmp_path / "empty")
