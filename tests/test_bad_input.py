"""Every file a user can hand us: a clear HeadzooError, and nothing changed."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from headzoo import (
    BackboneMismatchError,
    Head,
    HeadFormatError,
    HeadMismatchError,
    HeadzooError,
    UnsafeFileError,
    load_head,
    read_head,
)
from headzoo.files import HEAD_FILE
from headzoo.head_config import CONFIG_FILE

from .conftest import tiny_bert


@pytest.fixture
def head_dir(tmp_path: Path) -> Path:
    Head.from_model(tiny_bert(), task="toy", backbone="tiny").save(tmp_path / "h")
    return tmp_path / "h"


@pytest.fixture
def target():
    model = tiny_bert()
    return model, {k: v.clone() for k, v in model.state_dict().items()}


def _refused(path: Path, target, error: type[HeadzooError], match: str) -> None:
    """Loading+applying ``path`` raises ``error`` and leaves the model exactly as it was."""
    model, before = target
    with pytest.raises(error, match=match):
        load_head(path, model=model)
    with pytest.raises(error, match=match):
        read_head(path)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def _edit_config(head_dir: Path, **changes) -> None:
    data = json.loads((head_dir / CONFIG_FILE).read_text())
    data.update(changes)
    (head_dir / CONFIG_FILE).write_text(json.dumps(data))


def test_truncated_safetensors(head_dir: Path, target) -> None:
    raw = (head_dir / HEAD_FILE).read_bytes()
    (head_dir / HEAD_FILE).write_bytes(raw[: len(raw) // 2])
    _refused(head_dir, target, HeadFormatError, "corrupt or truncated")


def test_corrupted_safetensors_header(head_dir: Path, target) -> None:
    raw = bytearray((head_dir / HEAD_FILE).read_bytes())
    raw[8:20] = b"\xff" * 12
    (head_dir / HEAD_FILE).write_bytes(bytes(raw))
    _refused(head_dir, target, HeadFormatError, "corrupt or truncated")


def test_random_bytes_as_safetensors(head_dir: Path, target) -> None:
    (head_dir / HEAD_FILE).write_bytes(b"\x00\x01garbage" * 10)
    _refused(head_dir, target, HeadFormatError, "corrupt or truncated")


def test_invalid_json_config(head_dir: Path, target) -> None:
    (head_dir / CONFIG_FILE).write_text('{"format_version": 1, "task": ')
    _refused(head_dir, target, HeadFormatError, r"not valid JSON .*line 1")


def test_config_not_an_object(head_dir: Path, target) -> None:
    (head_dir / CONFIG_FILE).write_text("[1, 2]")
    _refused(head_dir, target, HeadFormatError, "expected a JSON object")


def test_missing_config(head_dir: Path, target) -> None:
    (head_dir / CONFIG_FILE).unlink()
    _refused(head_dir, target, HeadFormatError, "has no head_config.json")


def test_missing_weights(head_dir: Path, target) -> None:
    (head_dir / HEAD_FILE).unlink()
    _refused(head_dir, target, HeadFormatError, "has no head.safetensors")


def test_unknown_format_version(head_dir: Path, target) -> None:
    _edit_config(head_dir, format_version=99)
    _refused(head_dir, target, HeadFormatError, r"format_version 99 is not supported.*pip install -U headzoo")


def test_missing_config_field(head_dir: Path, target) -> None:
    data = json.loads((head_dir / CONFIG_FILE).read_text())
    del data["num_labels"]
    (head_dir / CONFIG_FILE).write_text(json.dumps(data))
    _refused(head_dir, target, HeadFormatError, r"missing field\(s\) \['num_labels'\]")


def test_wrong_type_in_config(head_dir: Path, target) -> None:
    _edit_config(head_dir, num_labels="three")
    _refused(head_dir, target, HeadFormatError, "'num_labels' must be int, got 'three'")


def test_missing_tensor(head_dir: Path, target) -> None:
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(head_dir / HEAD_FILE))
    del arrays["classifier.bias"]
    save_file(arrays, str(head_dir / HEAD_FILE))
    _refused(head_dir, target, HeadFormatError, r"missing \['classifier.bias'\]")


def test_extra_tensor(head_dir: Path, target) -> None:
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(head_dir / HEAD_FILE))
    arrays["classifier.extra"] = arrays["classifier.bias"]
    save_file(arrays, str(head_dir / HEAD_FILE))
    _refused(head_dir, target, HeadFormatError, r"unexpected \['classifier.extra'\]")


def test_shape_differs_from_config(head_dir: Path, target) -> None:
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(head_dir / HEAD_FILE))
    arrays["classifier.bias"] = arrays["classifier.bias"][:2]
    save_file(arrays, str(head_dir / HEAD_FILE))
    _refused(head_dir, target, HeadFormatError, r"'classifier.bias' .* shape \[2\] but head_config.json says \[3\]")


def test_nan_tensor(head_dir: Path, target) -> None:
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(head_dir / HEAD_FILE))
    arrays["classifier.bias"][0] = float("nan")
    save_file(arrays, str(head_dir / HEAD_FILE))
    _refused(head_dir, target, HeadFormatError, "NaN or Inf")


def test_head_for_a_model_with_other_head_names(tmp_path: Path) -> None:
    Head.from_model(tiny_bert(model_type="roberta"), task="toy").save(tmp_path / "h")
    _edit_config(tmp_path / "h", model_type="bert")
    model = tiny_bert()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(HeadMismatchError, match=r"missing \['classifier.bias', 'classifier.weight'\]"):
        load_head(tmp_path / "h", model=model, allow_backbone_mismatch=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_wrong_shapes_for_the_model(head_dir: Path) -> None:
    model = tiny_bert(num_labels=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(HeadMismatchError, match="shapes do not match"):
        load_head(head_dir, model=model, allow_backbone_mismatch=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_wrong_backbone(head_dir: Path) -> None:
    model = tiny_bert(seed=5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(BackboneMismatchError, match="allow_backbone_mismatch=True"):
        load_head(head_dir, model=model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("suffix", [".bin", ".pt", ".pkl"])
def test_pickle_file_is_never_loaded(tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch, target) -> None:
    calls = []
    monkeypatch.setattr(pickle, "load", lambda *a, **k: calls.append("pickle.load"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append("pickle.loads"))
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append("torch.load"))
    directory = tmp_path / "h"
    directory.mkdir()
    payload = directory / f"head{suffix}"
    payload.write_bytes(b"\x80\x04\x95 not really a pickle")
    _refused(directory, target, UnsafeFileError, "never loads pickle")
    _refused(payload, target, UnsafeFileError, "never loads pickle")
    assert calls == []
