"""Hugging Face native names and pieces: from_pretrained / save_pretrained / push_to_hub, peft models in
Head.from_model, your own Trainer (the docs example, run as written), SaveHeadCallback and pipelines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import headzoo
from headzoo import ConfigError, Head, HeadExistsError, HeadFormatError, HubError
from headzoo.files import HEAD_FILES
from headzoo.hub import pull_head, push_head

from .conftest import HUB_TOKENS, logits, tiny_bert

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"id2label": {0: "a", 1: "b", 2: "c"}, "label2id": {"a": 0, "b": 1, "c": 2}}
DOCS_BACKBONE = '"sentence-transformers/all-MiniLM-L6-v2"'


def _head(seed: int = 1, task: str = "toy", method: str | None = "lora") -> tuple[torch.nn.Module, Head]:
    model = tiny_bert(**LABELS)
    with torch.no_grad():
        torch.manual_seed(seed)
        model.classifier.weight.normal_()
    return model, Head.from_model(model, task=task, backbone="org/tiny", method=method)


def _blocks(page: Path) -> dict[str, str]:
    """The fenced python blocks of a page that follow a ``<!-- tested: NAME -->`` marker."""
    text = page.read_text(encoding="utf-8")
    found = dict(re.findall(r"<!-- tested: (\w+) -->\n```python\n(.*?)```", text, re.S))
    assert found, f"no tested blocks in {page}"
    return found


# ------------------------------------------------------------------ names


def test_save_pretrained_and_from_pretrained_on_a_folder(tmp_path: Path) -> None:
    model, head = _head()
    assert head.save_pretrained(tmp_path / "h") == tmp_path / "h"
    loaded = Head.from_pretrained(tmp_path / "h")
    assert loaded.path == tmp_path / "h" and loaded.config == head.config
    assert torch.equal(loaded.tensors["classifier.weight"], head.tensors["classifier.weight"])
    assert Head.from_pretrained(str(tmp_path / "h" / "head.safetensors")).config == head.config
    # the old names are aliases: same files, same head
    head.save(tmp_path / "old")
    for name in HEAD_FILES:
        assert (tmp_path / "old" / name).read_bytes() == (tmp_path / "h" / name).read_bytes()
    assert Head.load(tmp_path / "old").config == loaded.config
    # the same checks and errors as save / load
    with pytest.raises(HeadExistsError):
        head.save_pretrained(tmp_path / "h")
    head.save_pretrained(tmp_path / "h", overwrite=True)
    with pytest.raises(HeadFormatError) as via_load:
        Head.load(tmp_path / "missing")
    with pytest.raises(HeadFormatError) as via_new:
        Head.from_pretrained(tmp_path / "missing")
    assert str(via_new.value) == str(via_load.value)
    with pytest.raises(ConfigError, match="revision='v1'"):
        Head.from_pretrained(tmp_path / "h", revision="v1")
    assert torch.equal(logits(loaded.apply(tiny_bert(**LABELS))), logits(model))


def test_a_local_folder_named_like_a_repo_id_is_read_locally(tmp_path: Path, monkeypatch) -> None:
    _, head = _head()
    monkeypatch.chdir(tmp_path)
    head.save_pretrained("alice/local-head")
    assert Head.from_pretrained("alice/local-head").config == head.config  # no Hub call: none is set up here


def test_push_to_hub_and_from_pretrained_on_the_loopback_hub(hub, tmp_path: Path) -> None:
    model, head = _head()
    url = head.push_to_hub("alice/toy-head")
    assert "/alice/toy-head/commit/" in url
    assert sorted(hub.list_files("alice/toy-head")) == [".gitattributes", "README.md", "head.safetensors",
                                                          "head_config.json"]
    pulled = Head.from_pretrained("alice/toy-head")
    assert pulled.config == head.config
    assert pulled.path is not None and pulled.path.name == url.rsplit("/", 1)[-1]  # the snapshot of that commit
    assert torch.equal(logits(pulled.apply(tiny_bert(**LABELS))), logits(model))
    # the old names push and pull the same thing: no new commit, same files
    assert push_head(head, "alice/toy-head") == url
    assert hub.commit_count("alice/toy-head") == 1
    assert Head.load(pull_head("alice/toy-head")).config == pulled.config


def test_push_to_hub_branches_default_names_and_errors(hub, monkeypatch) -> None:
    _, main = _head(seed=1)
    _, dev = _head(seed=2)
    main.push_to_hub("alice/branchy")
    dev.push_to_hub("alice/branchy", revision="dev", commit_message="dev head")
    assert torch.equal(Head.from_pretrained("alice/branchy", revision="dev").tensors["classifier.weight"],
                       dev.tensors["classifier.weight"])
    assert torch.equal(Head.from_pretrained("alice/branchy").tensors["classifier.weight"],
                       main.tensors["classifier.weight"])
    with pytest.raises(HubError, match="revision 'nope'"):
        Head.from_pretrained("alice/branchy", revision="nope")
    with pytest.raises(HubError, match="not found"):
        Head.from_pretrained("alice/does-not-exist")
    url = main.push_to_hub(namespace="alice")  # the naming rule, as push_head
    assert f"/{headzoo.default_repo_id('toy', 'org/tiny', 'lora', 'alice')}/commit/" in url
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="no Hugging Face token"):
        main.push_to_hub("alice/x")


# ------------------------------------------------------------------ peft models


@pytest.mark.parametrize("method", ["lora", "ia3", "prefix", "bitfit", "probe"])
def test_from_model_unwraps_pet_models_without_changing_them(method: str) -> None:
    import copy

    from headzoo.backbone import backbone_fingerprint
    from headzoo.pet import unwrap

    model = tiny_bert(**LABELS)
    fingerprint = backbone_fingerprint(model)
    pet_model = headzoo.prepare_pet(model, method)
    with torch.no_grad():  # "training": every trainable tensor moves
        for param in pet_model.parameters():
            if param.requires_grad:
                param.add_(0.5)
    before = {k: v.clone() for k, v in pet_model.state_dict().items()}
    head = Head.from_model(pet_model, task="toy", backbone_fingerprint=fingerprint if method == "bitfit" else None)
    after = pet_model.state_dict()
    assert sorted(after) == sorted(before) and all(torch.equal(after[k], before[k]) for k in before)
    reference = Head.from_model(unwrap(copy.deepcopy(pet_model)), task="toy")
    assert sorted(head.tensors) == sorted(reference.tensors) == ["classifier.bias", "classifier.weight"]
    for name, tensor in reference.tensors.items():
        assert torch.equal(head.tensors[name], tensor)
    assert head.config.backbone_fingerprint == fingerprint
    assert head.config.output_layer == "classifier" and head.config.architecture == "BertForSequenceClassification"
    head.apply(tiny_bert(**LABELS))  # fits the pretrained backbone


# ------------------------------------------------------------------ your own loop (the docs, as written)


def _run_docs(blocks: list[str], backbone: Path, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    for block in blocks:
        exec(compile(block.replace(DOCS_BACKBONE, repr(str(backbone))), "docs/your_own_loop.md", "exec"), namespace)
    return namespace


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_your_own_loop_docs_example_runs(hub, tiny_backbone: Path, in_tmp: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    hub.add_user("me", "hf_me_test_token")
    blocks = _blocks(ROOT / "docs" / "your_own_loop.md")
    assert DOCS_BACKBONE in blocks["loop"]
    ns = _run_docs([blocks["loop"]], tiny_backbone)
    head, pet_model = ns["head"], ns["pet_model"]
    trained = pet_model.get_base_model().classifier.modules_to_save["default"]
    assert torch.equal(head.tensors["classifier.weight"], trained.weight.detach())
    assert not torch.equal(head.tensors["classifier.weight"],
                           pet_model.get_base_model().classifier.original_module.weight)
    saved = Head.from_pretrained(in_tmp / "heads" / "reviews-lora")
    assert saved.config.method == "lora" and saved.config.labels == ["negative", "positive"]
    assert saved.config.backbone == str(tiny_backbone)

    monkeypatch.setenv("HF_TOKEN", "hf_me_test_token")  # the docs push as "me"
    _run_docs([blocks["share"]], tiny_backbone, ns)
    assert "head.safetensors" in hub.list_files("me/headzoo-reviews-lora")
    assert ns["head"].config == saved.config
    model = ns["model"]
    assert model.config.id2label == {0: "negative", 1: "positive"}
    assert torch.equal(model.classifier.weight.detach(), saved.tensors["classifier.weight"])

    _run_docs([blocks["pipeline"]], tiny_backbone, ns)
    out = ns["classify"]("a gripping, funny film")
    assert out[0]["label"] in {"negative", "positive"}


def test_your_own_loop_with_the_callback(tiny_backbone: Path, in_tmp: Path) -> None:
    blocks = _blocks(ROOT / "docs" / "your_own_loop.md")
    loop = blocks["loop"]
    setup = loop[: loop.index("Trainer(")]  # the callback block replaces the last three lines
    ns = _run_docs([setup, blocks["callback"]], tiny_backbone)
    head = ns["head"]
    trained = ns["pet_model"].get_base_model().classifier.modules_to_save["default"]
    assert torch.equal(head.tensors["classifier.weight"], trained.weight.detach())
    saved = Head.from_pretrained(in_tmp / "heads" / "reviews-lora")
    assert saved.config == head.config
    assert saved.config.method == "lora" and saved.config.backbone == str(tiny_backbone)
    training = saved.config.training
    assert training["learning_rate"] == 5e-3 and training["steps"] == 3 and training["lora_r"] == 8
    headzoo.load_head(in_tmp / "heads" / "reviews-lora")  # fits a fresh backbone


def test_callback_checks_before_training_and_records_eval_metrics(tiny_backbone: Path, in_tmp: Path) -> None:
    import datasets
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    with pytest.raises(ConfigError, match="save_directory"):
        headzoo.SaveHeadCallback(task="toy")
    tokenizer = AutoTokenizer.from_pretrained(tiny_backbone)
    data = datasets.Dataset.from_dict({"text": ["good", "bad", "fine", "awful"], "label": [1, 0, 1, 0]}).map(
        lambda rows: tokenizer(rows["text"]), batched=True)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_backbone, num_labels=2)
    fingerprint = headzoo.backbone_fingerprint(model)
    args = TrainingArguments("runs", max_steps=2, learning_rate=1e-2, report_to="none", eval_strategy="steps",
                             eval_steps=2)

    def accuracy(pred) -> dict[str, float]:
        return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}

    (in_tmp / "taken").mkdir()
    (in_tmp / "taken" / "file").write_text("x")
    busy = headzoo.SaveHeadCallback("taken", task="toy", method="bitfit")
    trainer = Trainer(model=headzoo.prepare_pet(model, "bitfit"), args=args, train_dataset=data, eval_dataset=data,
                      processing_class=tokenizer, callbacks=[busy])
    with pytest.raises(HeadExistsError, match="taken"):
        trainer.train()
    assert trainer.state.global_step == 0  # refused before the first step

    save = headzoo.SaveHeadCallback("h", task="toy", method="bitfit")
    Trainer(model=model, args=args, train_dataset=data, eval_dataset=data, processing_class=tokenizer,
            compute_metrics=accuracy, callbacks=[save]).train()
    head = Head.from_pretrained(in_tmp / "h")
    assert head.config.method == "bitfit"
    assert head.config.backbone_fingerprint == fingerprint  # taken before BitFit moved the biases
    assert set(head.config.metrics) == {"accuracy"}  # no loss, runtime or throughput
    head.apply(AutoModelForSequenceClassification.from_pretrained(tiny_backbone, num_labels=2))


def test_callback_pushes_to_the_hub(hub, tiny_backbone: Path, in_tmp: Path) -> None:
    from transformers import AutoModelForSequenceClassification, TrainerControl, TrainerState, TrainingArguments

    model = headzoo.prepare_pet(AutoModelForSequenceClassification.from_pretrained(tiny_backbone, num_labels=2),
                                "lora")
    callback = headzoo.SaveHeadCallback(task="toy", repo_id="alice/pushed")
    args, state = TrainingArguments("runs", report_to="none"), TrainerState()
    callback.on_train_begin(args, state, TrainerControl(), model=model)
    callback.on_train_end(args, state, TrainerControl(), model=model)
    assert callback.head is not None and callback.head.config.method == "lora"
    assert Head.from_pretrained("alice/pushed").config == callback.head.config
    assert HUB_TOKENS["alice"] not in (pull_head("alice/pushed") / "head_config.json").read_text()


# ------------------------------------------------------------------ pipelines


def test_pipeline_with_a_zoo_head(tiny_backbone: Path) -> None:
    from transformers import AutoModelForSequenceClassification, pipeline

    labels = {"id2label": {0: "negative", 1: "positive"}, "label2id": {"negative": 0, "positive": 1}}
    model = AutoModelForSequenceClassification.from_pretrained(tiny_backbone, num_labels=2, **labels)
    with torch.no_grad():
        torch.manual_seed(3)
        model.classifier.weight.normal_()
    headzoo.save_to_zoo(Head.from_model(model, task="toy", backbone=str(tiny_backbone), method="lora"))

    classify = pipeline("text-classification", model=headzoo.load_head("toy", str(tiny_backbone)),
                        tokenizer=str(tiny_backbone))
    texts = ["a gripping, funny film", "dull and far too long"]
    got = classify(texts, top_k=None)
    from transformers import AutoTokenizer

    batch = AutoTokenizer.from_pretrained(tiny_backbone)(texts, padding=True, return_tensors="pt")
    probs = torch.softmax(logits(model, dict(batch)), dim=-1)
    for row, p in zip(got, probs, strict=True):
        scores = {r["label"]: r["score"] for r in row}
        assert set(scores) == {"negative", "positive"}
        assert scores["positive"] == pytest.approx(float(p[1]), abs=1e-5)
    helper = headzoo.load_pipeline("toy", str(tiny_backbone))
    assert helper(texts, top_k=None) == got


# ------------------------------------------------------------------ the README's quick start, as written


def test_readme_share_snippet_runs_as_written(hub, minilm_path: Path, in_tmp: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from headzoo.backbone import load_classifier, resolve_backbone

    ref = resolve_backbone("minilm")
    labels = {"id2label": {0: "entailment", 1: "not_entailment"}, "label2id": {"entailment": 0, "not_entailment": 1}}
    trained = load_classifier(ref, num_labels=2, **labels)
    with torch.no_grad():
        torch.manual_seed(5)
        trained.classifier.weight.normal_()
    headzoo.save_to_zoo(Head.from_model(trained, task="rte", backbone=ref.id, method="lora"))  # "step 1"
    hub.add_user("me", "hf_me_test_token")
    monkeypatch.setenv("HF_TOKEN", "hf_me_test_token")

    ns: dict = {}
    exec(compile(_blocks(ROOT / "README.md")["share"], "README.md", "exec"), ns)
    assert "head.safetensors" in hub.list_files("me/headzoo-rte-all-MiniLM-L6-v2-lora")
    assert Head.from_pretrained(in_tmp / "heads" / "rte-lora").config == ns["head"].config
    assert torch.equal(ns["model"].classifier.weight.detach(), trained.classifier.weight.detach())
