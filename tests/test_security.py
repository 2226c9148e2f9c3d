"""Nobody let in: no unpickling, no repo code, no escaping names, no leaked tokens, no forged downloads."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from pathlib import Path
from typing import Any

import pytest
import torch

import headzoo
from headzoo import BackboneError, Head, HubError, InvalidNameError, pull_head, push_head
from headzoo.backbone import load_classifier, load_config, resolve_backbone
from headzoo.cli import main
from headzoo.files import CARD_FILE, HEAD_FILE
from headzoo.head_config import CONFIG_FILE

from .conftest import HUB_TOKENS
from .tiny_task import one_thread, tiny_backbone_fixture, toy_csv_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")

LABELS = {0: "neg", 1: "pos"}


def _head(backbone: Path, seed: int, task: str = "toy") -> Head:
    """A head for the tiny backbone with random (seeded) weights, so its bytes are unique to the test."""
    model = load_classifier(resolve_backbone(backbone), num_labels=2, id2label=LABELS,
                            label2id={v: k for k, v in LABELS.items()})
    with torch.no_grad():
        torch.manual_seed(seed)
        model.classifier.weight.normal_()
    return Head.from_model(model, task=task, backbone=str(backbone), method="lora", metrics={"accuracy": 0.5})


@pytest.fixture
def traps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace every way to unpickle that headzoo could reach with a recorder."""
    calls: list[str] = []

    def trap(name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} was called")

        return record

    monkeypatch.setattr(pickle, "load", trap("pickle.load"))
    monkeypatch.setattr(pickle, "loads", trap("pickle.loads"))
    monkeypatch.setattr(torch, "load", trap("torch.load"))
    monkeypatch.setattr(torch.serialization, "load", trap("torch.serialization.load"))
    return calls


#: what runs with every unpickling function replaced by a trap
UNPICKLE_PATHS = ("pull", "load_head", "show", "finetune --head")


def test_nothing_is_unpickled(hub, tiny_backbone: Path, toy_csv: Path, traps: list[str],
                              capsys: pytest.CaptureFixture[str]) -> None:
    push_head(_head(tiny_backbone, seed=1), "alice/no-pickles")
    done = []
    path = pull_head("alice/no-pickles", to_zoo=True)
    done.append("pull")
    model = headzoo.load_head("alice/no-pickles", str(tiny_backbone))  # builds the backbone too
    assert torch.equal(model.classifier.weight, Head.load(path).tensors["classifier.weight"])
    done.append("load_head")
    assert main(["show", "toy", "--backbone", str(tiny_backbone)]) == 0
    done.append("show")
    zoo_entry = headzoo.list_heads()[0].path
    code = main(["finetune", "toy", "--backbone", str(tiny_backbone), "--head", str(zoo_entry), "--data-file",
                 str(toy_csv), "--text-column", "text", "--label-column", "label", "--epochs", "1",
                 "--batch-size", "8", "--max-length", "32", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 0, err
    done.append("finetune --head")
    assert tuple(done) == UNPICKLE_PATHS
    assert traps == []


#: the backbone folders tried
BACKBONE_FOLDERS = ("with-code", "pickle-only")


def test_backbones_never_run_code_or_unpickle(tmp_path: Path, traps: list[str]) -> None:
    from transformers import BertConfig, BertForSequenceClassification

    marker = tmp_path / "the-code-ran"
    model = BertForSequenceClassification(BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1,
                                                     num_attention_heads=4, intermediate_size=37))
    code_dir = tmp_path / BACKBONE_FOLDERS[0]
    model.save_pretrained(code_dir)
    config = json.loads((code_dir / "config.json").read_text())
    config.update(model_type="evil-bert", auto_map={"AutoConfig": "evil.EvilConfig",
                                                     "AutoModelForSequenceClassification": "evil.EvilModel"})
    (code_dir / "config.json").write_text(json.dumps(config))
    (code_dir / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from transformers import BertConfig as EvilConfig, BertForSequenceClassification as EvilModel\n"
    )
    for load in (load_config, load_classifier):
        with pytest.raises(BackboneError, match="never runs unless asked; read that code, then pass "
                                                "trust_remote_code=True"):
            load(resolve_backbone(code_dir))
    # A known model type with an auto_map: the built-in class is used, the file is still not run.
    config["model_type"] = "bert"
    (code_dir / "config.json").write_text(json.dumps(config))
    assert type(load_classifier(resolve_backbone(code_dir))).__name__ == "BertForSequenceClassification"
    assert not marker.exists()

    pickle_dir = tmp_path / BACKBONE_FOLDERS[1]
    pickle_dir.mkdir()
    model.config.save_pretrained(pickle_dir)
    (pickle_dir / "pytorch_model.bin").write_bytes(b"\x80\x04\x95 a pickle that would run code")
    with pytest.raises(BackboneError, match="only pickle weights and headzoo never unpickles"):
        load_classifier(resolve_backbone(pickle_dir))
    head_dir = Head.from_model(model, task="toy", backbone=str(pickle_dir)).save(tmp_path / "head")
    with pytest.raises(BackboneError, match="never unpickles"):
        headzoo.load_head(head_dir, str(pickle_dir))
    assert traps == []


HOSTILE_CONFIGS = [{"task": "../../../../escaped"}, {"method": "../../escaped"}, {"task": "a/b"},
                   {"backbone": "../../../../.."}]
HOSTILE_REVISIONS = ["../../refs", "a/../../b", "/etc", "main/", "x" * 201]


def test_hostile_names_in_a_pulled_head(hub, tiny_backbone: Path, tmp_path: Path, zoo_dir: Path) -> None:
    good = _head(tiny_backbone, seed=2).save(tmp_path / "good")
    weights = (good / HEAD_FILE).read_bytes()
    config = json.loads((good / CONFIG_FILE).read_text())
    for i, change in enumerate(HOSTILE_CONFIGS):
        repo = f"alice/hostile-{i}"
        hub.seed_repo(repo, {HEAD_FILE: weights, CONFIG_FILE: json.dumps({**config, **change})})
        with pytest.raises((InvalidNameError, BackboneError)):
            pull_head(repo, to_zoo=True)
    assert not (zoo_dir / "heads").exists() or not any((zoo_dir / "heads").rglob(HEAD_FILE))
    assert not list(zoo_dir.parent.rglob("escaped"))
    for revision in HOSTILE_REVISIONS:
        with pytest.raises(InvalidNameError, match="not a valid revision"):
            pull_head("alice/hostile-0", revision=revision)


#: where a token could leak
TOKEN_PLACES = ("push(token=...)", "HF_TOKEN + CLI push --debug", "refused push", "Hub, cache and zoo files",
                "compare outputs", "stdout, stderr and logs")


def test_tokens_never_leak(hub, tiny_backbone: Path, toy_csv: Path, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                           caplog: pytest.LogCaptureFixture) -> None:
    token, wrong = HUB_TOKENS["alice"], "hf_wrong_token_never_to_be_printed"
    caplog.set_level(logging.DEBUG)
    seen: dict[str, list[str]] = {place: [] for place in TOKEN_PLACES}
    head_dir = _head(tiny_backbone, seed=3).save(tmp_path / "head")

    monkeypatch.delenv("HF_TOKEN")
    seen["push(token=...)"].append(push_head(head_dir, "alice/tok-arg", token=token))
    monkeypatch.setenv("HF_TOKEN", token)
    assert main(["--debug", "push", str(head_dir), "--repo-id", "alice/tok-cli"]) == 0
    seen["HF_TOKEN + CLI push --debug"] += capsys.readouterr()
    monkeypatch.setenv("HF_TOKEN", wrong)
    with pytest.raises(HubError, match="refused the credentials") as info:
        push_head(head_dir, "alice/tok-wrong")
    assert main(["push", str(head_dir), "--repo-id", "alice/tok-wrong"]) == 1
    seen["refused push"] += [str(info.value), *capsys.readouterr()]
    monkeypatch.setenv("HF_TOKEN", token)
    for repo in ("alice/tok-arg", "alice/tok-cli"):
        seen["Hub, cache and zoo files"] += [hub.read_file(repo, name).decode() for name in (CARD_FILE, CONFIG_FILE)]
        pulled = pull_head(repo, to_zoo=True, overwrite=True)
        seen["Hub, cache and zoo files"] += [(pulled / name).read_text() for name in (CARD_FILE, CONFIG_FILE)]
    out_dir = tmp_path / "grid"
    assert main(["compare", "toy", "--backbone", str(tiny_backbone), "--data-file", str(toy_csv), "--text-column",
                 "text", "--label-column", "label", "--strategies", "ft", "--seeds", "0,1", "--epochs", "1",
                 "--batch-size", "8", "--max-length", "32", "--out", str(out_dir), "--no-progress"]) == 0
    files = [p for p in out_dir.rglob("*") if p.is_file()]
    assert {"results.json", "runs.jsonl", "results.md"} <= {p.name for p in files}
    seen["compare outputs"] += [p.read_bytes().decode("latin-1") for p in files]
    seen["stdout, stderr and logs"] += [*capsys.readouterr(), caplog.text]
    assert "Send: curl" in caplog.text or "pushed" in caplog.text  # debug logging was on
    assert all(seen[place] for place in TOKEN_PLACES)
    for secret in (token, wrong):
        leaks = {place: [t[:200] for t in texts if secret in t] for place, texts in seen.items()}
        assert not any(leaks.values()), f"{secret!r} leaked: {leaks}"


# --------------------------------------------------------------------------- forged downloads


def _blob_path(hub, data: bytes) -> Path:
    return hub._storage / "blobs" / hashlib.sha256(data).hexdigest()


def _longer(data: bytes) -> bytes:
    return data + b"\0" * 16


def _same_size_other_bytes(data: bytes) -> bytes:
    return data[:-8] + bytes(b ^ 0x55 for b in data[-8:])


def _html_page(data: bytes) -> bytes:
    return b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi login</body></html>"


def _config_edited(data: bytes) -> bytes:
    return data.replace(b'"toy"', b'"tox"', 1)


#: (file served differently, how)
TAMPERED = [
    (HEAD_FILE, _longer),
    (HEAD_FILE, _same_size_other_bytes),
    (HEAD_FILE, _html_page),
    (CONFIG_FILE, _config_edited),
]


@pytest.mark.parametrize(("name", "tamper"), TAMPERED, ids=[f"{n}-{t.__name__.strip('_')}" for n, t in TAMPERED])
def test_tampered_downloads_are_rejected(hub, tiny_backbone: Path, zoo_dir: Path, name: str, tamper: Any) -> None:
    from huggingface_hub import constants

    repo = "alice/tampered"
    push_head(_head(tiny_backbone, seed=10 + len(name)), repo)
    original = hub.read_file(repo, name)
    blob = _blob_path(hub, original)
    forged = tamper(original)
    assert forged != original
    try:
        blob.write_bytes(forged)  # the file list still announces the original size and hash
        with pytest.raises(HubError, match=f"the Hub sent {name} of 'alice/tampered' with") as info:
            pull_head(repo, to_zoo=True)
        if tamper is _html_page:
            assert "looks like an HTML page" in str(info.value)
        cached = [p for p in Path(constants.HF_HUB_CACHE).rglob("*") if p.is_file() and p.read_bytes() == forged]
        assert cached == []  # evicted, so a retry downloads it again
        assert headzoo.list_heads() == []
    finally:
        blob.write_bytes(original)
    path = pull_head(repo, to_zoo=True)  # the retry, with the Hub fixed
    assert (path / name).read_bytes() == original
    assert [e.task for e in headzoo.list_heads()] == ["toy"]


#: (how often the download of each file is cut after 100 bytes, whether the pull then succeeds)
CUTS = [(1, True), (50, False)]


@pytest.mark.parametrize(("cuts", "succeeds"), CUTS, ids=["cut once", "cut every time"])
def test_cut_downloads_resume_or_fail_cleanly(hub, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch,
                                              cuts: int, succeeds: bool) -> None:
    import time

    from huggingface_hub import file_download

    class NoWait:  # huggingface_hub waits 1 s before each resumed download; skip the waiting
        sleep = staticmethod(lambda seconds: None)

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

    monkeypatch.setattr(file_download, "time", NoWait())
    push_head(_head(tiny_backbone, seed=20 + cuts), "alice/cut")
    hub.truncate_next("/alice/cut/resolve/", keep_bytes=100, count=cuts)
    if succeeds:
        path = pull_head("alice/cut", to_zoo=True)
        assert (path / HEAD_FILE).read_bytes() == hub.read_file("alice/cut", HEAD_FILE)
        assert len(headzoo.list_heads()) == 1
        return
    with pytest.raises(HubError):
        pull_head("alice/cut", to_zoo=True)
    assert headzoo.list_heads() == []
    hub.clear_faults()
    path = pull_head("alice/cut")  # the next try, on a good connection, gets the whole file
    assert (path / HEAD_FILE).read_bytes() == hub.read_file("alice/cut", HEAD_FILE)


def test_corrupt_cache_is_rejected_offline(hub, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    push_head(_head(tiny_backbone, seed=30), "alice/cached")
    path = pull_head("alice/cached")
    blob = (path / HEAD_FILE).resolve()
    data = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(_same_size_other_bytes(data))  # bit rot, or someone edited the cache
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubError, match=r"cached copy of head\.safetensors of 'alice/cached' is corrupt"):
        pull_head("alice/cached")
    assert not (path / HEAD_FILE).exists() and not blob.exists()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    assert (pull_head("alice/cached") / HEAD_FILE).read_bytes() == data


def test_headzoo_source_never_pickles() -> None:
    """A guard for later edits: no module of headzoo calls a pickle-based reader or writer itself."""
    import ast

    import headzoo as package

    banned = {("pickle", "load"), ("pickle", "loads"), ("pickle", "dump"), ("pickle", "dumps"), ("torch", "load"),
              ("torch", "save"), ("np", "load"), ("numpy", "load"), ("dill", "load"), ("joblib", "load")}
    found = []
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                found += [f"{path.name}: import {n}" for n in names if n and n.split(".")[0] in ("pickle", "dill")]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in banned:
                    found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                    found.append(f"{path.name}:{node.lineno}: trust_remote_code={ast.unparse(node.value)}")
    assert found == []
