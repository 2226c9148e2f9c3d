"""headzoo.pooling: a checkpoint's declared sentence embedding, read and applied as sentence-transformers does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from headzoo.errors import HeadzooError, PoolingConfigError
from headzoo.pooling import POOLING_MODES, Pooling, modes_of, pool, read_pooling

ST_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]


def write_checkpoint(folder: Path, modules=ST_MODULES, pooling=None, bert_config=None) -> Path:
    """The sentence-transformers files of a checkpoint folder (no weights: read_pooling reads none)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modules.json").write_text(json.dumps(modules) if not isinstance(modules, str) else modules)
    if pooling is not None:
        (folder / "1_Pooling").mkdir(exist_ok=True)
        text = pooling if isinstance(pooling, str) else json.dumps(pooling)
        (folder / "1_Pooling" / "config.json").write_text(text)
    if bert_config is not None:
        (folder / "sentence_bert_config.json").write_text(json.dumps(bert_config))
    return folder


def test_the_embedded_backbone_declares_mean_pooling_normalised(minilm_path: Path) -> None:
    assert read_pooling(minilm_path) == Pooling(modes=("mean",), normalize=True, max_seq_length=256)


def test_a_folder_without_modules_json_declares_nothing(tiny_backbone: Path) -> None:
    assert read_pooling(tiny_backbone) is None


def test_new_and_legacy_keys_name_the_same_modes() -> None:
    assert modes_of({"pooling_mode": "cls"}) == ("cls",)
    assert modes_of({"pooling_mode": ["mean", "max"]}) == ("mean", "max")
    # the legacy booleans concatenate in sentence-transformers' order, whatever the key order
    assert modes_of({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": True}) == ("cls", "mean")


def test_without_normalize_module_the_embedding_is_not_normalised(tmp_path: Path) -> None:
    folder = write_checkpoint(tmp_path / "ck", modules=ST_MODULES[:2], pooling={"pooling_mode": "max"})
    assert read_pooling(folder) == Pooling(modes=("max",), normalize=False, max_seq_length=None)


#: Damaged sentence-transformers declarations (modules.json, 1_Pooling/config.json, config.json) and a word
#: each error must quote; the reliability page counts them.
DAMAGED_DECLARATIONS = [
        ("{not json", {"pooling_mode": "mean"}, None, "modules.json"),
        ('{"a": 1}', {"pooling_mode": "mean"}, None, "JSON list"),
        (ST_MODULES[:1], None, None, "no sentence_transformers Pooling"),
        (ST_MODULES, None, None, "is missing"),
        (ST_MODULES, "{broken", None, "not valid JSON"),
        (ST_MODULES, {"pooling_mode": "attention"}, None, "'attention'"),
        (ST_MODULES, {"pooling_mode_mean_tokens": False}, None, "names no pooling mode"),
        (ST_MODULES, ["mean"], None, "JSON object"),
        (ST_MODULES, {"pooling_mode": 3}, None, "3"),
        ([*ST_MODULES, {"idx": 3, "path": "3_Dense", "type": "sentence_transformers.models.Dense"}],
         {"pooling_mode": "mean"}, None, "Dense"),
        (ST_MODULES, {"pooling_mode": "mean"}, {"max_seq_length": -4}, "-4"),
]


@pytest.mark.parametrize(("modules", "pooling", "bert_config", "quoted"), DAMAGED_DECLARATIONS)
def test_a_damaged_declaration_is_a_typed_one_line_error(tmp_path: Path, modules, pooling, bert_config,
                                                          quoted) -> None:
    folder = write_checkpoint(tmp_path / "ck", modules=modules, pooling=pooling, bert_config=bert_config)
    before = sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file())
    with pytest.raises(PoolingConfigError) as info:
        read_pooling(folder)
    assert isinstance(info.value, HeadzooError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert quoted in message and "\n" not in message
    assert sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file()) == before


@pytest.mark.parametrize("bad", [{"modes": []}, {"modes": ["nope"]}, {"modes": "mean", "normalize": "yes"},
                                 {"extra": 1}, ["mean"]])
def test_a_damaged_pooling_record_is_a_typed_error(bad) -> None:
    with pytest.raises(PoolingConfigError):
        Pooling.from_dict(bad)


def test_a_pooling_record_round_trips() -> None:
    pooling = Pooling(modes=("cls", "mean"), normalize=True, max_seq_length=128)
    assert Pooling.from_dict(json.loads(json.dumps(pooling.to_dict()))) == pooling


@pytest.mark.parametrize("mode", POOLING_MODES)
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pool_agrees_with_sentence_transformers_pooling(mode: str, padding_side: str) -> None:
    pytest.importorskip("sentence_transformers")
    from sentence_transformers.sentence_transformer.modules import Pooling as st_pooling
    torch.manual_seed(0)
    states = torch.randn(3, 6, 8)
    mask = torch.ones(3, 6, dtype=torch.long)
    if padding_side == "right":
        mask[1, 4:] = 0
        mask[2, 2:] = 0
    else:
        mask[1, :2] = 0
        mask[2, :4] = 0
    theirs = st_pooling(8, pooling_mode=mode)({"token_embeddings": states, "attention_mask": mask})
    ours = pool(states, mask, Pooling(modes=(mode,)))
    torch.testing.assert_close(ours, theirs["sentence_embedding"])


def test_pool_normalises_where_declared() -> None:
    states, mask = torch.randn(2, 5, 4), torch.ones(2, 5, dtype=torch.long)
    norms = pool(states, mask, Pooling(("mean", "max"), normalize=True)).norm(dim=1)
    torch.testing.assert_close(norms, torch.ones(2))


def test_modules_saved_by_newer_sentence_transformers_are_read(tmp_path: Path) -> None:
    modules = [{"idx": 0, "name": "0", "path": "",
                "type": "sentence_transformers.base.modules.transformer.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize",
                "type": "sentence_transformers.sentence_transformer.modules.normalize.Normalize"}]
    folder = write_checkpoint(tmp_path / "ck", modules=modules, pooling={"embedding_dimension": 8,
                                                                          "pooling_mode": "lasttoken"})
    assert read_pooling(folder) == Pooling(("lasttoken",), normalize=True)


def test_the_real_checkpoint_copy_keeps_its_declaration(minilm_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "minilm"
    shutil.copytree(minilm_path, copy)
    (copy / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    assert read_pooling(copy).modes == ("cls",)
