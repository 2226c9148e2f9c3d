"""Which feature a head reads: the backbone's declaration decides the default; one option chooses explicitly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from headzoo.backbone import (
    declared_pooling,
    default_feature,
    load_sentence_classifier,
    resolve_backbone,
    resolve_feature,
)
from headzoo.errors import ConfigError, PoolingConfigError
from headzoo.naming import FEATURES, SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION, validate_feature
from headzoo.pooling import Pooling

MODULES = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
           {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]


def with_declaration(folder: Path, source: Path, pooling: object = None) -> Path:
    shutil.copytree(source, folder)
    (folder / "modules.json").write_text(json.dumps(MODULES))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling or {"pooling_mode": "cls"}))
    return folder


def test_the_embedded_default_reads_its_sentence_embedding(minilm_path: Path) -> None:
    ref = resolve_backbone("minilm")
    assert declared_pooling(ref) == Pooling(("mean",), normalize=True, max_seq_length=256)
    assert default_feature(ref) == SENTENCE_EMBEDDING == resolve_feature(ref) == resolve_feature(ref, "auto")
    assert resolve_feature(ref, SEQUENCE_CLASSIFICATION) == SEQUENCE_CLASSIFICATION


def test_a_plain_checkpoint_keeps_the_models_own_path(tiny_backbone: Path) -> None:
    ref = resolve_backbone(tiny_backbone)
    assert declared_pooling(ref) is None
    assert default_feature(ref) == SEQUENCE_CLASSIFICATION
    with pytest.raises(PoolingConfigError, match="declares no sentence embedding"):
        resolve_feature(ref, SENTENCE_EMBEDDING)
    with pytest.raises(PoolingConfigError, match="declares no sentence embedding"):
        load_sentence_classifier(ref, num_labels=2)


def test_a_local_declaration_is_honoured(tmp_path: Path, tiny_backbone: Path) -> None:
    ref = resolve_backbone(with_declaration(tmp_path / "st", tiny_backbone))
    assert default_feature(ref) == SENTENCE_EMBEDDING
    model = load_sentence_classifier(ref, num_labels=2)
    assert model.pooling == Pooling(("cls",), normalize=False)


def test_a_damaged_declaration_fails_loudly_not_silently(tmp_path: Path, tiny_backbone: Path) -> None:
    ref = resolve_backbone(with_declaration(tmp_path / "st", tiny_backbone, {"pooling_mode": "attention"}))
    with pytest.raises(PoolingConfigError, match="'attention'"):
        default_feature(ref)


@pytest.mark.parametrize("bad", ["sentence", "cls", ""])
def test_an_unknown_feature_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_feature(bad)
    assert repr(bad) in str(info.value) and all(f in str(info.value) for f in FEATURES)


def test_a_hub_backbone_declaration_is_read_from_the_hub(hub, tmp_path: Path, tiny_backbone: Path) -> None:
    from huggingface_hub import HfApi

    folder = with_declaration(tmp_path / "st", tiny_backbone, {"pooling_mode_mean_tokens": True})
    api = HfApi()
    api.create_repo("alice/tiny-st")
    api.upload_folder(repo_id="alice/tiny-st", folder_path=str(folder))
    api.create_repo("alice/tiny-plain")
    api.upload_folder(repo_id="alice/tiny-plain", folder_path=str(tiny_backbone))
    assert declared_pooling(resolve_backbone("alice/tiny-st")) == Pooling(("mean",))
    assert default_feature(resolve_backbone("alice/tiny-plain")) == SEQUENCE_CLASSIFICATION
