"""push / pull / search through the real huggingface_hub client against the loopback Hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import headzoo
from headzoo import Head, HubError, HubUnreachableError, InvalidNameError, UnsafeFileError
from headzoo.hub import pull_head, push_head, search_heads
from headzoo.naming import repo_name

from .conftest import HUB_TOKENS, logits, tiny_bert


def _backbone_and_head(tmp_path: Path, task: str = "toy", method: str = "lora", seed: int = 1):
    backbone = tmp_path / "tiny-backbone"
    if not backbone.exists():
        tiny_bert(seed=0, id2label={0: "a", 1: "b", 2: "c"}, label2id={"a": 0, "b": 1, "c": 2}).save_pretrained(
            backbone
        )
    model = headzoo.resolve_backbone(backbone)
    from headzoo.backbone import load_classifier

    trained = load_classifier(model).eval()
    with torch.no_grad():
        torch.manual_seed(seed)
        trained.classifier.weight.normal_()
    head = Head.from_model(trained, task=task, backbone=str(backbone), method=method,
                           metrics={"accuracy": 0.625}, training={"dataset": "nyu-mll/glue", "learning_rate": 5e-3})
    return backbone, trained, head


def test_push_search_pull_load(hub, tmp_path: Path) -> None:
    backbone, trained, head = _backbone_and_head(tmp_path)
    url = push_head(head, namespace="alice")
    repo_id = f"alice/{repo_name('toy', str(backbone), 'lora')}"
    assert f"/{repo_id}/commit/" in url
    assert sorted(hub.list_files(repo_id)) == [".gitattributes", "README.md", "head.safetensors", "head_config.json"]

    found = search_heads(task="toy", method="lora")
    assert [h.repo_id for h in found] == [repo_id]
    assert found[0].metrics == {"accuracy": 0.625} and found[0].method == "lora"
    assert search_heads(task="other") == []

    path = pull_head(repo_id)
    assert Path(os.environ.get("HF_HOME", "")) not in path.parents  # the test cache, not the session one
    assert sorted(p.name for p in path.iterdir()) == ["README.md", "head.safetensors", "head_config.json"]
    model = headzoo.load_head(repo_id, str(backbone))
    assert torch.equal(logits(model), logits(trained))


def test_card_metadata_round_trips(hub, tmp_path: Path) -> None:
    from huggingface_hub import HfApi, ModelCard

    _, _, head = _backbone_and_head(tmp_path)
    push_head(head, "alice/toy-head")
    info = HfApi().model_info("alice/toy-head")
    assert info.card_data["library_name"] == "headzoo"
    assert "task:toy" in info.card_data["tags"] and "pet:lora" in info.card_data["tags"]
    card = ModelCard.load(pull_head("alice/toy-head") / "README.md")
    assert card.data.eval_results[0].metric_type == "accuracy"
    assert card.data.eval_results[0].metric_value == 0.625
    assert 'headzoo.load_head("alice/toy-head"' in card.text
    assert HUB_TOKENS["alice"] not in card.content


def test_push_twice_makes_one_commit(hub, tmp_path: Path) -> None:
    _, _, head = _backbone_and_head(tmp_path)
    head.save(tmp_path / "h")
    first = push_head(tmp_path / "h", "alice/twice")
    second = push_head(tmp_path / "h", "alice/twice")
    assert hub.commit_count("alice/twice") == 1
    assert first.rsplit("/", 1)[-1] == second.rsplit("/", 1)[-1]


def test_interrupted_push_is_completed_by_rerunning(hub, tmp_path: Path) -> None:
    _, _, head = _backbone_and_head(tmp_path)
    hub.fail_next("/commit/", status=500, count=10)
    with pytest.raises(HubError, match="500"):
        push_head(head, "alice/flaky")
    hub.clear_faults()
    push_head(head, "alice/flaky")
    assert hub.commit_count("alice/flaky") == 1
    assert "head.safetensors" in hub.list_files("alice/flaky")


def test_branch_push_and_pull_by_revision(hub, tmp_path: Path) -> None:
    _, _, head_main = _backbone_and_head(tmp_path, seed=1)
    _, _, head_dev = _backbone_and_head(tmp_path, seed=2)
    push_head(head_main, "alice/branchy")
    push_head(head_dev, "alice/branchy", revision="dev")
    main = Head.load(pull_head("alice/branchy"))
    dev = Head.load(pull_head("alice/branchy", revision="dev"))
    assert torch.equal(main.tensors["classifier.weight"], head_main.tensors["classifier.weight"])
    assert torch.equal(dev.tensors["classifier.weight"], head_dev.tensors["classifier.weight"])
    with pytest.raises(HubError, match="revision 'nope'"):
        pull_head("alice/branchy", revision="nope")


def test_wrong_or_missing_token_is_refused(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, head = _backbone_and_head(tmp_path)
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(HubError, match="refused the credentials") as err:
        push_head(head, "alice/x")
    assert "hf_wrong" not in str(err.value)
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="no Hugging Face token"):
        push_head(head, "alice/x")


def test_missing_repo_is_a_clear_error(hub) -> None:
    with pytest.raises(HubError, match="not found"):
        pull_head("alice/does-not-exist")


def test_repo_with_a_pickle_is_refused(hub) -> None:
    hub.seed_repo("alice/evil", {"head.safetensors": b"x", "head_config.json": b"{}", "pytorch_model.bin": b"\x80"})
    with pytest.raises(UnsafeFileError, match=r"pytorch_model\.bin"):
        pull_head("alice/evil")
    assert not any("resolve" in r.path and r.path.endswith(".bin") for r in hub.requests)


def test_html_instead_of_a_head_is_rejected(hub) -> None:
    hub.seed_repo("alice/html", {"head.safetensors": b"<html>oops</html>", "head_config.json": b"<html></html>"})
    with pytest.raises(headzoo.HeadFormatError):
        pull_head("alice/html")


@pytest.mark.parametrize("repo_id", ["no-namespace", "a/b/c", "../etc", "alice/..", "alice/x--y", ""])
def test_invalid_repo_ids(hub, repo_id: str) -> None:
    with pytest.raises(InvalidNameError):
        pull_head(repo_id)


def test_offline_pull_from_cache(hub, tmp_path: Path) -> None:
    from huggingface_hub import constants

    _, _, head = _backbone_and_head(tmp_path)
    push_head(head, "alice/offline")
    pull_head("alice/offline")
    code = (
        "import headzoo; p = headzoo.pull_head('alice/offline'); "
        "print(headzoo.Head.load(p).config.task)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": constants.HF_HUB_CACHE, "HF_ENDPOINT": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("toy")


def test_unreachable_hub_falls_back_to_the_cache(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, head = _backbone_and_head(tmp_path)
    push_head(head, "alice/cached")
    first = pull_head("alice/cached")
    hub.fail_next("/api/models/alice/cached", disconnect=True, count=50)
    again = pull_head("alice/cached")
    assert again == first
    hub.clear_faults()
    hub.fail_next("/api/models/alice/never", disconnect=True, count=50)
    with pytest.raises(HubUnreachableError, match="no copy is in the local cache"):
        pull_head("alice/never")


def test_load_head_resolves_local_zoo_then_hub(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backbone, trained, head = _backbone_and_head(tmp_path)
    monkeypatch.setenv("HEADZOO_NAMESPACE", "alice")
    push_head(head)
    model = headzoo.load_head("toy", str(backbone))
    assert torch.equal(logits(model), logits(trained))
    # A local head of the same (task, backbone) wins over the Hub.
    _, local_trained, local = _backbone_and_head(tmp_path, seed=9)
    headzoo.save_to_zoo(local)
    assert torch.equal(logits(headzoo.load_head("toy", str(backbone))), logits(local_trained))


def test_pull_to_zoo_makes_the_head_listable_and_offline(hub, tmp_path: Path) -> None:
    backbone, trained, head = _backbone_and_head(tmp_path)
    push_head(head, "alice/zooed")
    path = pull_head("alice/zooed", to_zoo=True)
    assert [(e.task, e.method, e.path) for e in headzoo.list_heads()] == [("toy", "lora", path)]
    hub.reset()  # the Hub forgets it; the zoo still has it
    assert torch.equal(logits(headzoo.load_head("toy", str(backbone))), logits(trained))


def test_push_of_a_minilm_head_sends_only_the_head_files(hub, minilm_path: Path, capsys) -> None:
    from headzoo.backbone import load_classifier, resolve_backbone
    from headzoo.cli import main

    ref = resolve_backbone("minilm")
    model = load_classifier(ref, num_labels=2, id2label={0: "entailment", 1: "not_entailment"},
                            label2id={"entailment": 0, "not_entailment": 1})
    headzoo.save_to_zoo(Head.from_model(model, task="rte", backbone=ref.id, method="lora"))
    hub.clear_requests()
    assert main(["push", "rte", "--backbone", "minilm", "--namespace", "alice"]) == 0, capsys.readouterr().err
    repo_id = "alice/headzoo-rte-all-MiniLM-L6-v2-lora"
    files = {name: len(hub.read_file(repo_id, name)) for name in hub.list_files(repo_id)}
    assert sorted(files) == [".gitattributes", "README.md", "head.safetensors", "head_config.json"]
    head_bytes = files["head.safetensors"] + files["head_config.json"] + files["README.md"]
    sent = sum(int(r.headers.get("Content-Length") or r.headers.get("content-length") or 0) for r in hub.requests)
    backbone_bytes = sum(p.stat().st_size for p in minilm_path.glob("*.safetensors"))
    print(f"head files {head_bytes} B, request bodies {sent} B, backbone weights {backbone_bytes} B")
    assert head_bytes < 10_000
    assert sent < 3 * head_bytes  # base64 in the commit body + small JSON requests
    assert sent * 1000 < backbone_bytes
