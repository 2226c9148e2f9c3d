"""Stage 1 (pretrain_head), stage 2 (finetune) and the grid (compare) on a tiny offline BERT.

The backbone is a randomly initialised 2-layer BERT (hidden 32) saved to a temp
folder with a character-level WordPiece vocabulary, so everything trains in
seconds on a CPU. Data: CB from the shared offline files, 32 examples per split.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import TrainerCallback

import headzoo
from headzoo.backbone import backbone_fingerprint, load_classifier, resolve_backbone
from headzoo.errors import ConfigError, HeadExistsError
from headzoo.head import Head
from headzoo.pet import DEFAULTS as PET_DEFAULTS
from headzoo.pet import (
    METHODS,
    head_modules,
    head_parameter_names,
    parameter_count,
    prepare,
    trainable_parameter_count,
    unwrap,
)
from headzoo.train import (
    METHOD_SETTINGS,
    PRESETS,
    BatchPlan,
    FinetuneResult,
    Stage1Settings,
    compare,
    finetune,
    pretrain_head,
    run_key,
    settings_hash,
    stage1_record,
)
from headzoo.train.context import head_id
from headzoo.train.grid import current_keys

pytestmark = [pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning"),
              pytest.mark.usefixtures("one_thread")]

LIMIT = 32  # examples per split
BATCH = 8  # -> 4 steps per epoch
# budgets here are counted in epochs, and most tests below read an evaluation at every epoch boundary; the default
# eval_strategy ("steps") has its own tests
FAST = {"limit": LIMIT, "batch_size": BATCH, "max_length": 48, "min_steps": 0, "eval_strategy": "epoch"}


# --------------------------------------------------------------------------- fixtures


def _fresh(backbone: Path, seed: int = 0) -> Any:
    """The classifier _build_model makes for CB with ``seed`` (same head init)."""
    from transformers import set_seed

    from headzoo.tasks import get_task

    spec = get_task("cb")
    set_seed(seed)
    return load_classifier(
        resolve_backbone(str(backbone)), num_labels=3, id2label=spec.id2label, label2id=spec.label2id,
        problem_type=spec.problem_type,
    )


def _batch(backbone: Path) -> dict[str, torch.Tensor]:
    from headzoo.backbone import load_tokenizer

    tok = load_tokenizer(resolve_backbone(str(backbone)))
    return dict(tok(["the cat is here.", "it was not that one, you see"], ["a dog", "he is"], padding=True,
                    return_tensors="pt"))


def _logits(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(**batch).logits.detach().clone()
    model.train(was_training)
    return out


class Recorder(TrainerCallback):
    """Remembers what the trainers saw: per run_name, the first step and hooks' results."""

    def __init__(self, on_begin: Any = None, on_end: Any = None, stop_at: tuple[str, int] | None = None) -> None:
        self.begin: dict[str, Any] = {}
        self.end: dict[str, Any] = {}
        self.first_step: dict[str, int] = {}
        self.on_begin, self.on_end, self.stop_at = on_begin, on_end, stop_at

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
        if self.on_begin:
            self.begin[args.run_name] = self.on_begin(model)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
        if self.on_end:
            self.end[args.run_name] = self.on_end(model)

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.first_step.setdefault(args.run_name, state.global_step)
        if self.stop_at and args.run_name == self.stop_at[0] and state.global_step == self.stop_at[1]:
            raise KeyboardInterrupt("simulated interruption")


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("kwargs", "quoted"),
    [
        ({"method": "lorax"}, "'lorax'"),
        ({"learning_rate": -1}, "-1"),
        ({"learning_rate": float("nan")}, "nan"),
        ({"epochs": 0}, "0"),
        ({"max_steps": 0}, "0"),
        ({"batch_size": 2.5}, "2.5"),
        ({"warmup_ratio": 1.5}, "1.5"),
        ({"lora_r": 0}, "0"),
        ({"lora_dropout": 1.0}, "1.0"),
        ({"target_modules": []}, "[]"),
        ({"prefix_length": "17"}, "'17'"),
        ({"seed": -3}, "-3"),
    ],
)
def test_stage1_settings_reject_bad_values(kwargs: dict[str, Any], quoted: str) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ConfigError, match=name) as info:
        Stage1Settings(**kwargs)
    assert quoted in str(info.value)


def test_stage1_settings_presets_and_dicts() -> None:
    for preset, rates in PRESETS.items():
        assert set(rates) == set(METHODS)
        for method in METHODS:
            assert Stage1Settings(method=method).resolved(preset).learning_rate == rates[method]
    assert Stage1Settings(method="lora", learning_rate=1e-4).resolved("paper").learning_rate == 1e-4
    assert PRESETS["paper"]["lora"] == 5e-4 and PRESETS["paper"]["prefix"] == 5e-3 and PRESETS["paper"]["probe"] == 1e-3
    assert Stage1Settings.from_any({"max_steps": 5}, method="bitfit").method == "bitfit"
    with pytest.raises(ConfigError, match="bogus"):
        Stage1Settings.from_any({"bogus": 1})
    with pytest.raises(ConfigError, match="'fast'"):
        Stage1Settings().resolved("fast")
    assert json.loads(json.dumps(Stage1Settings(target_modules=["query"]).to_dict()))["target_modules"] == ["query"]


@pytest.mark.parametrize(
    ("kwargs", "quoted"),
    [
        ({"strategy": "sgd"}, "'sgd'"),
        ({"strategy": "ft", "method": "lora"}, "'lora'"),
        ({"strategy": "lp-ft", "method": "bitfit"}, "'bitfit'"),
        ({"strategy": "eh-ft", "method": "adapter"}, "'adapter'"),
        ({"protocol": "free"}, "'free'"),
        ({"stage1_fraction": 1.5}, "1.5"),
        ({"epochs": -1}, "-1"),
        ({"learning_rate": 0}, "0"),
        ({"preset": "fastest"}, "'fastest'"),
        ({"data_order": "shuffled"}, "'shuffled'"),
        ({"eval_strategy": "often"}, "'often'"),
        ({"eval_steps": 0}, "eval_steps must be a number > 0"),
        ({"eval_steps": 1.5}, "1.5"),
        ({"min_steps": -1}, "-1"),
        ({"min_steps": 2.5}, "2.5"),
        ({"training_args": {"eval_strategy": "no"}}, "eval_strategy="),
    ],
)
def test_finetune_rejects_bad_arguments_before_loading(kwargs: dict[str, Any], quoted: str) -> None:
    # "no-such-task" is never loaded: argument checks come first.
    with pytest.raises(ConfigError) as info:
        finetune("no-such-task", "no/such-backbone", **kwargs)
    assert quoted in str(info.value)


def test_compare_rejects_bad_grid(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'ft'"):
        compare("cb", strategies="ft", out_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'nope'"):
        compare("cb", strategies=("ft", "nope"), out_dir=tmp_path)
    with pytest.raises(ConfigError, match="seeds"):
        compare("cb", seeds=(), out_dir=tmp_path)
    with pytest.raises(ConfigError, match="'loar'"):
        compare("cb", stage1_learning_rates={"loar": 0.1}, out_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"stage1_learning_rates\['ia3'\].*-0.1"):
        compare("cb", stage1_learning_rates={"ia3": -0.1}, out_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"'0\.1'"):
        compare("cb", stage1_learning_rates="0.1", out_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'later'"):
        compare("cb", data_order="later", out_dir=tmp_path)
    assert not tmp_path.joinpath("runs.jsonl").exists()


def test_budget_too_small_for_two_stages(tiny_backbone: Path, data_dir: Path) -> None:
    # 32 examples / batch 32 = 1 step per epoch, 1 epoch and no floor: nothing is left for stage 2.
    with pytest.raises(ConfigError, match="stage1_fraction") as info:
        finetune("cb", str(tiny_backbone), strategy="eh-ft", method="probe", epochs=1, data_dir=data_dir,
                 limit=LIMIT, batch_size=32, min_steps=0)
    assert "min_steps 0" in str(info.value)


def test_result_json_has_no_nan() -> None:
    result = FinetuneResult(
        task="stsb", backbone="x", strategy="ft", method=None, seed=0, protocol="matched", main_metric="pearson",
        final={"pearson": float("nan"), "loss": 1.0}, best={"pearson": float("inf")}, best_epoch=1.0, best_step=1,
        history=[{"epoch": 1.0, "step": 1, "stage": 2, "pearson": float("nan")}], stage1=None, steps_per_epoch=1,
        budget_steps=1, stage1_steps=0, stage2_steps=1, stage1_seconds=0.0, stage2_seconds=0.5,
        examples_per_second=None, settings={}, settings_hash="abc",
    )
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert data["final"]["pearson"] is None and data["best"]["pearson"] is None
    assert FinetuneResult.from_dict(json.loads(text)).final == {"pearson": None, "loss": 1.0}


def test_stage1_records_hold_only_the_settings_the_method_reads() -> None:
    """A setting a method ignores stays out of its record and run hash (changing its default keeps the runs)."""
    lora = Stage1Settings(method="lora").to_dict()
    assert {"lora_r", "lora_alpha", "lora_dropout", "target_modules"} <= set(lora)
    assert "prefix_length" not in lora and "backbone_dropout" not in lora
    assert "lora_dropout" not in Stage1Settings(method="ia3").to_dict()
    assert "target_modules" in Stage1Settings(method="ia3").to_dict()
    assert set(Stage1Settings(method="prefix").to_dict()) & set(METHOD_SETTINGS["lora"]) == set()
    bitfit = Stage1Settings(method="bitfit", lora_dropout=0.3, prefix_length=5).to_dict()
    assert bitfit == Stage1Settings(method="bitfit").to_dict()
    assert not set(bitfit) & {name for names in METHOD_SETTINGS.values() for name in names}
    # every Stage1Settings field is either common or named for a method, and pet's defaults agree
    assert all(name in PET_DEFAULTS for names in METHOD_SETTINGS.values() for name in names)
    assert {k: getattr(Stage1Settings(), k) for k in PET_DEFAULTS} == PET_DEFAULTS
    assert Stage1Settings().lora_dropout == 0.0  # peft's default; dropout here costs LoRA its speed on CPU


def test_stage1_record_drops_unread_fields_and_fills_none() -> None:
    old = {"method": "bitfit", "learning_rate": 5e-3, "lora_r": 8, "lora_dropout": 0.1, "prefix_length": 17}
    assert stage1_record(old) == {"method": "bitfit", "learning_rate": 5e-3}
    lora = stage1_record({**old, "method": "lora"})
    assert lora == {"method": "lora", "learning_rate": 5e-3, "lora_r": 8, "lora_dropout": 0.1}
    assert "backbone_dropout" not in stage1_record({"method": "probe"})  # absent stays absent: it still counts


def test_compare_finds_runs_recorded_with_fields_their_method_does_not_read() -> None:
    """runs.jsonl lines written when every stage-1 field was hashed are keyed again from their settings."""
    def entry(stage1: dict[str, Any]) -> dict[str, Any]:
        settings = {"task": "cb", "strategy": "eh-ft", "method": stage1["method"], "seed": 0, "stage1": stage1}
        key = run_key("eh-ft", stage1["method"], 0, settings_hash(settings))
        return {"key": key, "strategy": "eh-ft", "method": stage1["method"], "seed": 0,
                "settings_hash": settings_hash(settings), "result": {"settings": settings}}

    def planned(stage1: Stage1Settings) -> str:
        settings = {"task": "cb", "strategy": "eh-ft", "method": stage1.method, "seed": 0, "stage1": stage1.to_dict()}
        return run_key("eh-ft", stage1.method, 0, settings_hash(settings))

    legacy = {**asdict(Stage1Settings(method="bitfit")), "lora_dropout": 0.1}
    del legacy["backbone_dropout"]
    old_lora = {**asdict(Stage1Settings(method="lora")), "lora_dropout": 0.1}
    del old_lora["backbone_dropout"]
    runs = {e["key"]: e for e in (entry(legacy), entry(old_lora), {"key": "broken", "result": None})}
    index = current_keys(runs)
    assert planned(Stage1Settings(method="bitfit")) != entry(legacy)["key"]  # the hash did change...
    assert index[planned(Stage1Settings(method="bitfit"))] == entry(legacy)["key"]  # ...and the run is found
    assert planned(Stage1Settings(method="lora")) not in index  # its lora_dropout differs: train it again
    assert index[planned(Stage1Settings(method="lora", lora_dropout=0.1))] == entry(old_lora)["key"]
    assert index["broken"] == "broken"


def test_backbone_dropout_is_a_probe_setting_only() -> None:
    """Only the probe's settings (and so its run hashes) carry backbone_dropout; the other methods' are unchanged."""
    assert Stage1Settings(method="probe").to_dict()["backbone_dropout"] is False
    for method in ("lora", "ia3", "prefix", "bitfit"):
        assert "backbone_dropout" not in Stage1Settings(method=method).to_dict()
    again = Stage1Settings.from_any(Stage1Settings(method="probe", backbone_dropout=True).to_dict())
    assert again.backbone_dropout is True
    assert Stage1Settings.from_any(Stage1Settings(backbone_dropout=True), method="probe").backbone_dropout is True
    with pytest.raises(ConfigError, match="backbone_dropout"):
        Stage1Settings(backbone_dropout="no")  # type: ignore[arg-type]


@pytest.mark.parametrize("dropout", [False, True])
def test_probe_backbone_runs_in_eval_mode_unless_asked(tiny_backbone: Path, dropout: bool) -> None:
    """The Trainer's model.train() leaves a probed backbone in eval mode (no dropout); the head still trains."""
    import torch

    model = _fresh(tiny_backbone)
    prepare(model, "probe", Stage1Settings(method="probe", backbone_dropout=dropout))
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.5
    model.train()
    batch = {"input_ids": torch.randint(5, 90, (4, 12)), "attention_mask": torch.ones(4, 12, dtype=torch.long)}
    torch.manual_seed(0)
    first = model.bert(**batch).last_hidden_state
    second = model.bert(**batch).last_hidden_state
    assert model.bert.training is dropout and model.classifier.training  # the head is not touched
    assert torch.equal(first, second) is (not dropout)  # dropout-free features are the same every time
    model.eval()
    with torch.no_grad():
        reference = model.bert(**batch).last_hidden_state
    if not dropout:
        torch.testing.assert_close(first, reference)


# --------------------------------------------------------------------------- pet


def _pet_parameter_numel(model: Any) -> int:
    markers = ("lora_", "ia3_", "prompt_encoder")
    return sum(p.numel() for n, p in model.named_parameters() if any(m in n for m in markers))


@pytest.mark.parametrize("method", METHODS)
def test_prepare_trains_only_pet_and_head(tiny_backbone: Path, method: str) -> None:
    model = _fresh(tiny_backbone)
    head_numel = sum(p.numel() for n, p in model.named_parameters() if n in set(head_parameter_names(model)))
    bias_numel = sum(p.numel() for n, p in model.named_parameters() if n.startswith("bert.") and n.endswith("bias"))
    total = parameter_count(model)
    prepared = prepare(model, method, Stage1Settings(method=method))
    trainable = {n for n, p in prepared.named_parameters() if p.requires_grad}
    count = trainable_parameter_count(prepared)
    if method == "probe":
        assert count == head_numel
        assert trainable == set(head_parameter_names(model))
    elif method == "bitfit":
        assert count == head_numel + bias_numel
        assert all(n.endswith("bias") or n.startswith("classifier.") for n in trainable)
    else:
        # peft: the trained head copy plus the PET parameters, nothing of the backbone
        assert count == head_numel + _pet_parameter_numel(prepared)
        assert all(("modules_to_save.default" in n) or any(m in n for m in ("lora_", "ia3_", "prompt_encoder"))
                   for n in trainable)
        if method == "prefix":
            assert _pet_parameter_numel(prepared) == 17 * 2 * 2 * 32  # length x layers x (k, v) x hidden
        if method == "lora":
            assert _pet_parameter_numel(prepared) == 2 * 2 * 8 * (32 + 32)  # layers x (q, v) x r x (in + out)
    assert count < total


def test_lora_on_minilm_is_small(minilm_path: Path) -> None:
    model = load_classifier(resolve_backbone("minilm"), num_labels=2)
    head_numel = sum(p.numel() for n, p in model.named_parameters() if n.startswith("classifier."))
    total = parameter_count(model)
    count = trainable_parameter_count(prepare(model, "lora"))
    assert head_numel < count < 0.05 * total


def test_head_modules_come_from_the_state_dict_rule() -> None:
    from transformers import AutoConfig, AutoModelForSequenceClassification

    def build(model_type: str, **kw: Any) -> Any:
        config = AutoConfig.for_model(model_type, vocab_size=99, num_labels=2, **kw)
        return AutoModelForSequenceClassification.from_config(config)

    small = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 37}
    assert head_modules(build("bert", **small)) == ["classifier"]
    assert head_modules(build("roberta", **small)) == ["classifier"]
    assert head_modules(build("distilbert", dim=32, n_layers=1, n_heads=4, hidden_dim=37)) == [
        "classifier", "pre_classifier"]
    assert head_modules(build("gpt2", n_embd=32, n_layer=1, n_head=4, pad_token_id=0)) == ["score"]


def test_lora_without_default_targets_explains_the_fix() -> None:
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.for_model("distilbert", vocab_size=99, dim=32, n_layers=1, n_heads=4, hidden_dim=37)
    model = AutoModelForSequenceClassification.from_config(config)
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    if "distilbert" in TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING:
        pytest.skip("this peft version knows distilbert's LoRA targets")
    with pytest.raises(ConfigError, match="target_modules") as info:
        prepare(model, "lora")
    assert "q_lin" in str(info.value)
    prepared = prepare(model, "lora", {"target_modules": ["q_lin", "v_lin"]})
    wrapped = {n.split(".")[2] for n, p in prepared.named_parameters() if p.requires_grad and "modules_to_save" in n}
    assert wrapped == {"classifier", "pre_classifier"}  # both head modules train, found without a name list


@pytest.mark.parametrize("method", ["lora", "ia3", "prefix"])
def test_unwrap_returns_the_trained_head_copy(tiny_backbone: Path, method: str) -> None:
    model = _fresh(tiny_backbone)
    init = {k: v.clone() for k, v in model.classifier.state_dict().items()}
    backbone_before = backbone_fingerprint(model)
    prepared = prepare(model, method)
    wrapper = prepared.get_base_model().classifier
    with torch.no_grad():
        for p in wrapper.modules_to_save["default"].parameters():
            p.add_(0.5)
    trained = {k: v.clone() for k, v in wrapper.modules_to_save["default"].state_dict().items()}
    plain = unwrap(prepared)
    assert type(plain).__name__ == "BertForSequenceClassification"
    assert not any(m in n for n, _ in plain.named_parameters() for m in ("lora_", "ia3_", "modules_to_save"))
    head = Head.from_model(plain, task="cb")
    for key, value in trained.items():
        assert torch.equal(head.tensors[f"classifier.{key}"], value)
        assert not torch.equal(head.tensors[f"classifier.{key}"], init[key])
    assert backbone_fingerprint(plain) == backbone_before  # adapters dropped, not merged


# --------------------------------------------------------------------------- stage 1


def _trained_and_original(model: Any) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor] | None]:
    """At the end of stage 1: the head as trained, and peft's untouched original_module (if any)."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        wrapper = model.get_base_model().classifier
        trained = wrapper.modules_to_save["default"].state_dict()
        original = wrapper.original_module.state_dict()
        return (
            {f"classifier.{k}": v.detach().clone() for k, v in trained.items()},
            {f"classifier.{k}": v.detach().clone() for k, v in original.items()},
        )
    return {f"classifier.{k}": v.detach().clone() for k, v in model.classifier.state_dict().items()}, None


@pytest.mark.parametrize("method", METHODS)
def test_pretrain_head_saves_the_trained_head(tiny_backbone: Path, data_dir: Path, zoo_dir: Path,
                                               method: str) -> None:
    recorder = Recorder(on_end=_trained_and_original)
    head = pretrain_head(
        "cb", str(tiny_backbone), method, data_dir=data_dir, limit=LIMIT, callbacks=[recorder],
        settings={"max_steps": 3, "batch_size": BATCH, "max_length": 48},
    )
    trained, original = recorder.end[f"headzoo-stage1-{method}"]
    init = {k: v for k, v in _fresh(tiny_backbone).state_dict().items() if k.startswith("classifier.")}
    for name, tensor in head.tensors.items():
        assert torch.equal(tensor, trained[name]), name  # the trained module ...
        assert not torch.equal(tensor, init[name]), name  # ... which moved off the random init
        if original is not None:
            assert torch.equal(original[name], init[name])  # peft's original_module stayed at init
    cfg = head.config
    assert cfg.method == method and cfg.task == "cb"
    assert cfg.training["steps"] == 3 and cfg.training["learning_rate"] == PRESETS["headzoo"][method]
    assert cfg.training["train_size"] == LIMIT and cfg.training["dataset"] == "aps/super_glue"
    assert set(cfg.metrics) == {"accuracy", "macro_f1", "loss"}
    assert all(isinstance(v, float) and math.isfinite(v) for v in cfg.metrics.values())
    # the fingerprint is the pretrained backbone's (taken before BitFit moved the biases)
    fresh = _fresh(tiny_backbone, seed=5)
    assert cfg.backbone_fingerprint == backbone_fingerprint(fresh)
    head.apply(fresh)  # no BackboneMismatchError
    # saved in the zoo, identical on reload
    stored = Head.load(zoo_dir / "heads" / resolve_backbone(str(tiny_backbone)).slug / "cb" / method)
    assert all(torch.equal(stored.tensors[k], v) for k, v in head.tensors.items())
    json.loads(json.dumps(cfg.to_dict(), allow_nan=False))


def test_pretrain_head_refuses_to_overwrite_before_training(tiny_backbone: Path, data_dir: Path) -> None:
    settings = {"max_steps": 1, "batch_size": BATCH, "max_length": 32}
    pretrain_head("cb", str(tiny_backbone), "probe", data_dir=data_dir, limit=LIMIT, settings=settings)
    recorder = Recorder(on_begin=lambda m: True)
    with pytest.raises(HeadExistsError, match="overwrite"):
        pretrain_head("cb", str(tiny_backbone), "probe", data_dir=data_dir, limit=LIMIT, settings=settings,
                      callbacks=[recorder])
    assert recorder.begin == {}  # refused before any training
    again = pretrain_head("cb", str(tiny_backbone), "probe", data_dir=data_dir, limit=LIMIT, settings=settings,
                          overwrite=True, save=True)
    assert again.config.method == "probe"


# --------------------------------------------------------------------------- stage 2


def test_lp_ft_stage2_starts_from_the_stage1_head(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    batch = _batch(tiny_backbone)
    recorder = Recorder(on_begin=lambda m: _logits(m, batch), on_end=lambda m: _logits(m, batch))
    result = finetune("cb", str(tiny_backbone), strategy="lp-ft", epochs=2, data_dir=data_dir, seed=3,
                      output_dir=tmp_path / "run", callbacks=[recorder], **FAST)
    stage1_end = recorder.end["headzoo-stage1-probe"]
    stage2_begin = recorder.begin["headzoo-stage2-lp-ft"]
    # the probe froze the backbone, so a fresh backbone + the extracted head gives the same logits
    torch.testing.assert_close(stage2_begin, stage1_end, rtol=0, atol=1e-6)
    assert not torch.allclose(recorder.begin["headzoo-stage1-probe"], stage1_end)  # stage 1 did move the head
    # compute-matched accounting: T = 2 epochs x 4 steps; stage 1 takes max(1, round(0.1 * 8)) = 1
    assert (result.steps_per_epoch, result.budget_steps) == (4, 8)
    assert (result.stage1_steps, result.stage2_steps, result.total_steps) == (1, 7, 8)
    assert [h["step"] for h in result.history] == [4, 8] and [h["epoch"] for h in result.history] == [1.0, 2.0]
    assert result.stage1["source"] == "trained" and result.stage1["learning_rate"] == PRESETS["headzoo"]["probe"]
    assert result.final == {k: v for k, v in result.history[-1].items() if k not in ("epoch", "step", "stage")}
    assert result.best_main == max(h["accuracy"] for h in result.history)
    assert result.model is not None
    stored = json.loads((tmp_path / "run" / "result.json").read_text())
    assert stored["settings_hash"] == result.settings_hash and "model" not in stored
    assert not list((tmp_path / "run").rglob("checkpoint-*"))  # cleaned up after success


def test_bitfit_stage2_starts_from_a_fresh_backbone(tiny_backbone: Path, data_dir: Path) -> None:
    def backbone_state(model: Any) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith("bert.")}

    recorder = Recorder(on_begin=backbone_state, on_end=backbone_state)
    result = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="bitfit", epochs=2, data_dir=data_dir,
                      callbacks=[recorder], **FAST)
    pretrained = backbone_state(_fresh(tiny_backbone))
    after_bitfit = recorder.end["headzoo-stage1-bitfit"]
    stage2 = recorder.begin["headzoo-stage2-eh-ft"]
    assert any(not torch.equal(after_bitfit[k], pretrained[k]) for k in pretrained if k.endswith("bias"))
    assert all(torch.equal(stage2[k], pretrained[k]) for k in pretrained)  # BitFit's biases did not leak
    assert result.stage1_steps + result.stage2_steps == result.budget_steps


def test_zoo_protocol_gives_stage2_the_full_budget(tiny_backbone: Path, data_dir: Path) -> None:
    head = pretrain_head("cb", str(tiny_backbone), "lora", data_dir=data_dir, limit=LIMIT,
                         settings={"max_steps": 2, "batch_size": BATCH, "max_length": 48})
    batch = _batch(tiny_backbone)
    recorder = Recorder(on_begin=lambda m: _logits(m, batch))
    # head=None + protocol="zoo": the zoo's lora head (saved above) is used
    result = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="lora", epochs=2, protocol="zoo",
                      data_dir=data_dir, callbacks=[recorder], **FAST)
    assert result.stage1["source"] == "zoo" and result.stage1["steps"] == 2
    assert (result.stage2_steps, result.budget_steps, result.total_steps) == (8, 8, 10)
    expected = head.apply(_fresh(tiny_backbone))
    torch.testing.assert_close(recorder.begin["headzoo-stage2-eh-ft"], _logits(expected, batch), rtol=0, atol=1e-6)
    # a given head, at the default protocol ("auto"): zoo, so stage 2 makes the whole budget, and the run says so
    given = finetune("cb", str(tiny_backbone), strategy="eh-ft", head=head, epochs=2, data_dir=data_dir, **FAST)
    assert given.stage1["source"] == "given" and given.method == "lora"  # the head's own method is reported
    assert (given.protocol, given.settings["protocol"]) == ("zoo", "zoo")
    assert (given.stage2_steps, given.budget_steps) == (8, 8) and given.stage1_steps == 2  # the head's own, apart
    assert [h["step"] for h in given.history] == [4, 8]
    # matched, asked for: the given head is charged stage 1's share, as the paper's comparison does
    charged = finetune("cb", str(tiny_backbone), strategy="eh-ft", head=head, epochs=2, data_dir=data_dir,
                       protocol="matched", **FAST)
    assert (charged.protocol, charged.stage1_steps, charged.stage2_steps) == ("matched", 1, 7)
    assert charged.settings_hash != given.settings_hash


@pytest.mark.parametrize("world_size", [1, 2])
@pytest.mark.parametrize("grouped", [True, False])
def test_batch_plan_slices_make_one_pass_per_epoch(grouped: bool, world_size: int) -> None:
    lengths = [(i * 37) % 50 + 3 for i in range(100)]
    plan = {"lengths": lengths if grouped else None, "world_size": world_size}
    whole = list(BatchPlan(100, 8, 5, start=0, stop=30, **plan))
    stage1 = list(BatchPlan(100, 8, 5, start=0, stop=3, **plan))
    stage2 = list(BatchPlan(100, 8, 5, start=3, stop=30, **plan))
    assert stage1 + stage2 == whole and len(whole) == 30 * world_size
    assert len(BatchPlan(100, 8, 5, start=3, stop=30, **plan)) == len(stage2)
    per_epoch = math.ceil(13 / world_size) * world_size  # 13 batches of 8, padded to a multiple of world_size
    for e in range(2):
        epoch = whole[e * per_epoch:(e + 1) * per_epoch]
        assert sorted(i for batch in epoch[:13] for i in batch) == list(range(100))  # every example once
        assert epoch[13:] == epoch[: per_epoch - 13]  # padding repeats the epoch's first batches
    assert whole[:13] != whole[per_epoch:per_epoch + 13]  # each epoch has its own order
    if grouped:  # transformers' grouping: the batch holding the longest example comes first
        assert max(lengths[i] for i in whole[0]) == max(lengths)


@pytest.mark.parametrize("order", ["continue", "restart"])
def test_matched_stage2_continues_the_data_order_of_stage1(tiny_backbone: Path, data_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch, order: str) -> None:
    from headzoo.train import BatchPlan

    iterated: dict[tuple[int, int], list[list[int]]] = {}
    plain_iter = BatchPlan.__iter__

    def spy(self: Any) -> Any:
        for batch in plain_iter(self):
            iterated.setdefault((self.start, self.stop), []).append(batch)
            yield batch

    monkeypatch.setattr(BatchPlan, "__iter__", spy)
    result = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="bitfit", epochs=2, data_dir=data_dir,
                      seed=1, data_order=order, **FAST)
    assert (result.stage1_steps, result.stage2_steps) == (1, 7)
    assert result.settings["data_order"] == order
    if order == "restart":
        assert iterated == {}  # both stages use the Trainer's own sampler
        return
    assert set(iterated) == {(0, 1), (1, 8)}  # stage 1 took step 0 of the plan, stage 2 steps 1..7
    batches = iterated[(0, 1)] + iterated[(1, 8)]
    for e in range(2):  # 4 batches of 8 per epoch: every example once per epoch, as under FT
        assert sorted(i for batch in batches[e * 4:(e + 1) * 4] for i in batch) == list(range(LIMIT))
    ft = finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir, seed=1, **FAST)
    assert "data_order" not in ft.settings  # recorded only where it acts: FT's hash predates the setting
    zoo = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="bitfit", epochs=2, data_dir=data_dir,
                   seed=1, protocol="zoo", stage1_settings={"max_steps": 1}, **FAST)
    assert "data_order" not in zoo.settings


def test_finetune_resumes_from_the_last_checkpoint(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    stopper = Recorder(stop_at=("headzoo-stage2-ft", 6))
    with pytest.raises(KeyboardInterrupt):
        finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir, output_dir=out,
                 callbacks=[stopper], **FAST)
    assert (out / "stage2" / "checkpoint-4").is_dir()  # saved at the first epoch boundary
    recorder = Recorder()
    result = finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir, output_dir=out,
                      resume=True, callbacks=[recorder], **FAST)
    assert recorder.first_step["headzoo-stage2-ft"] == 5  # went on after checkpoint-4
    assert [h["epoch"] for h in result.history] == [1.0, 2.0] and result.total_steps == 8
    again = finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir, output_dir=out,
                     resume=True, **FAST)
    assert again.model is None and again.final == result.final  # finished: the stored result comes back


def test_eval_strategy_no_evaluates_once_at_the_end_of_the_same_steps(tiny_backbone: Path, data_dir: Path,
                                                                      tmp_path: Path) -> None:
    every = finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir,
                     output_dir=tmp_path / "every", **FAST)
    end = finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir,
                   output_dir=tmp_path / "end", **{**FAST, "eval_strategy": "no"})
    assert [h["step"] for h in every.history] == [4, 8]
    assert [h["step"] for h in end.history] == [8] and end.best == end.final and end.best_step == 8
    # Not bit for bit the same model: each evaluation's DataLoader draws a seed from torch's global RNG, which
    # moves the dropout stream after it (transformers' Trainer does the same with its own eval_strategy).
    assert end.final.keys() == every.final.keys() and end.total_steps == every.total_steps == 8
    assert end.settings["eval_strategy"] == "no" and "eval_strategy" not in every.settings
    assert end.settings_hash != every.settings_hash  # a stored result with other evaluations is not reused


class Counter(TrainerCallback):
    """The global steps at which stage 2 evaluated and saved a checkpoint."""

    def __init__(self) -> None:
        self.evaluated: list[int] = []
        self.saved: list[int] = []

    def on_evaluate(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if args.run_name.startswith("headzoo-stage2-"):
            self.evaluated.append(state.global_step)

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if args.run_name.startswith("headzoo-stage2-"):
            self.saved.append(state.global_step)


def test_one_step_epochs_evaluate_a_handful_of_times_by_default(tiny_backbone: Path, data_dir: Path,
                                                                 tmp_path: Path) -> None:
    # 32 examples in one batch of 32: every epoch is one step, and the floor makes the budget 30 of them
    counter = Counter()
    result = finetune("cb", str(tiny_backbone), strategy="ft", data_dir=data_dir, limit=LIMIT, batch_size=32,
                      max_length=48, output_dir=tmp_path / "run", callbacks=[counter])
    assert (result.steps_per_epoch, result.budget_steps) == (1, 30)
    assert counter.evaluated == [6, 12, 18, 24, 30]  # every 0.2 of stage 2, the last at the end: not 30 times
    assert [h["step"] for h in result.history] == counter.evaluated and result.final == {
        k: v for k, v in result.history[-1].items() if k not in ("epoch", "step", "stage")}
    assert result.best_main == max(h["accuracy"] for h in result.history)
    assert counter.saved == [6, 12, 18, 24]  # checkpoints for resume where it evaluates, not at every epoch
    assert (result.settings["eval_strategy"], result.settings["eval_steps"]) == ("steps", 0.2)


@pytest.mark.parametrize(("fields", "stage1", "evaluate_at", "save_at"), [
    ({}, 0, [6, 12, 18, 24, 30], [6, 12, 18, 24]),
    ({"eval_steps": 10}, 0, [10, 20, 30], [10, 20]),  # a whole number: every that many steps
    ({"eval_steps": 0.5}, 3, [14, 27], [14]),  # a matched stage 1 of 3 steps: stage 2's own 27 steps
    ({"eval_strategy": "epoch"}, 3, list(range(1, 28)), list(range(1, 27))),  # one-step epochs: every step
    ({"eval_strategy": "no"}, 0, [30], [6, 12, 18, 24]),
])
def test_stage2_points_follow_eval_strategy(fields: dict[str, Any], stage1: int, evaluate_at: list[int],
                                            save_at: list[int]) -> None:
    from headzoo.train.budget import Budget
    from headzoo.train.stage2 import stage2_points

    budget = Budget(steps_per_epoch=1, epoch_steps=3, total=30, stage1=stage1, stage2=30 - stage1)
    assert stage2_points(headzoo.FinetuneSettings(**fields), budget) == (evaluate_at, save_at)


def test_min_steps_is_a_floor_under_the_budget(tiny_backbone: Path, data_dir: Path, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    # 32 examples in batches of 8: 4 steps per epoch, so one epoch is a budget of 4 steps
    caplog.set_level(logging.INFO, logger="headzoo.train")
    plain = finetune("cb", str(tiny_backbone), strategy="ft", epochs=1, data_dir=data_dir,
                     output_dir=tmp_path / "plain", **FAST)
    loose = finetune("cb", str(tiny_backbone), strategy="ft", epochs=1, data_dir=data_dir,
                     output_dir=tmp_path / "loose", **{**FAST, "min_steps": 3})
    floored = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="bitfit", epochs=1,
                       data_dir=data_dir, output_dir=tmp_path / "floored", **{**FAST, "min_steps": 10})
    default = finetune("cb", str(tiny_backbone), strategy="ft", epochs=1, data_dir=data_dir,
                       output_dir=tmp_path / "default", **{k: v for k, v in FAST.items() if k != "min_steps"})
    assert (plain.budget_steps, plain.stage2_steps) == (4, 4)
    assert loose.settings_hash == plain.settings_hash and "min_steps" not in loose.settings  # the floor does not bind
    assert floored.budget_steps == 10 and (floored.stage1_steps, floored.stage2_steps) == (1, 9)  # matched: 10 %
    assert floored.settings["min_steps"] == 10 and floored.history[-1]["step"] == 10
    assert default.budget_steps == 30 and default.settings["min_steps"] == 30  # the default floor
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("budget: ")]
    assert said == ["budget: 10 steps (min_steps; 1 epoch(s) of 4 step(s) would be 4)",
                    "budget: 30 steps (min_steps; 1 epoch(s) of 4 step(s) would be 4)"]


def test_cli_eval_strategy_and_min_steps_reach_the_run(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    from headzoo.cli import main

    out = tmp_path / "run"
    assert main(["finetune", "cb", "--backbone", str(tiny_backbone), "--strategy", "ft", "--epochs", "2",
                 "--eval-strategy", "no", "--min-steps", "10", "--data-dir", str(data_dir),
                 "--limit", str(FAST["limit"]), "--batch-size", str(FAST["batch_size"]), "--max-length", "48",
                 "--output-dir", str(out),
                 "--no-progress"]) == 0
    stored = json.loads((out / "result.json").read_text())
    assert [h["step"] for h in stored["history"]] == [10] and stored["settings"]["eval_strategy"] == "no"
    assert stored["budget_steps"] == 10 and stored["settings"]["min_steps"] == 10
    assert main(["finetune", "cb", "--backbone", str(tiny_backbone), "--strategy", "ft", "--epochs", "2",
                 "--eval-steps", "4", "--min-steps", "10", "--data-dir", str(data_dir),
                 "--limit", str(FAST["limit"]), "--batch-size", str(FAST["batch_size"]), "--max-length", "48",
                 "--output-dir", str(out), "--no-progress"]) == 0
    stored = json.loads((out / "result.json").read_text())
    assert [h["step"] for h in stored["history"]] == [4, 8, 10]  # --eval-strategy steps is the default
    assert (stored["settings"]["eval_strategy"], stored["settings"]["eval_steps"]) == ("steps", 4.0)


# --------------------------------------------------------------------------- compare


def test_compare_writes_reports_and_resumes(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid"
    ended: list[FinetuneResult] = []
    kwargs = {"strategies": ("ft", "eh-ft"), "methods": ("bitfit",), "seeds": (0, 1), "epochs": 2,
              "data_dir": data_dir, "out_dir": out, **FAST}
    first = compare("cb", str(tiny_backbone), on_run_end=ended.append, **kwargs)
    assert (first.ran, first.reused, len(ended)) == (4, 0, 4)
    lines = (out / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 4
    keys = {json.loads(line)["key"] for line in lines}
    assert {k.split("|")[0] for k in keys} == {"ft", "eh-ft"}
    by_strategy = {r.strategy: r for r in first.runs}
    assert by_strategy["ft"].total_steps == by_strategy["eh-ft"].total_steps == 8  # compute-matched
    assert by_strategy["ft"].stage1_steps == 0 and by_strategy["eh-ft"].stage1_steps == 1
    # compare's protocol is matched, though the settings' default is auto (which finetune resolves per start)
    assert {r.protocol for r in first.runs} == {r.settings["protocol"] for r in first.runs} == {"matched"}

    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["protocol"] == "matched" and "Protocol `matched`" in (out / "results.md").read_text()
    assert len(results["runs"]) == 4 and {row["label"] for row in results["summary"]} == {"FT", "EH-FT (bitfit)"}
    for row in results["summary"]:
        assert row["n"] == 2 and set(row["per_seed"]) == {"0", "1"}
        values = list(row["per_seed"].values())
        assert row["mean"] == pytest.approx(sum(values) / 2)
    md = (out / "results.md").read_text()
    assert "| FT |" in md and "EH-FT (bitfit)" in md and "±" in md
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.files == {name: str(out / name) for name in ("runs.jsonl", "results.json", "results.md",
                                                               "results.png")}
    assert not list(out.glob(".*tmp"))  # atomic writes left no temp files

    ended.clear()
    second = compare("cb", str(tiny_backbone), on_run_end=ended.append, **kwargs)
    assert (second.ran, second.reused, ended) == (0, 4, [])
    assert [r.final for r in second.runs] == [r.final for r in first.runs]

    changed = compare("cb", str(tiny_backbone), **{**kwargs, "seeds": (0,), "learning_rate": 1e-4})
    assert (changed.ran, changed.reused) == (2, 0)  # new settings never reuse stale runs
    assert len((out / "runs.jsonl").read_text().splitlines()) == 6


def test_compare_takes_stage1_learning_rates_per_method(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    res = compare("cb", str(tiny_backbone), strategies=("lp-ft", "eh-ft"), methods=("ia3", "bitfit"), seeds=(0,),
                  epochs=2, stage1_learning_rates={"ia3": 0.07, "probe": 0.2}, data_dir=data_dir,
                  out_dir=tmp_path / "grid", **FAST)
    rates = {r.method: r.settings["stage1"]["learning_rate"] for r in res.runs}
    assert rates == {"probe": 0.2, "ia3": 0.07, "bitfit": PRESETS["headzoo"]["bitfit"]}  # unnamed: the preset's
    assert {r.method: r.stage1["learning_rate"] for r in res.runs} == rates  # and stage 1 trained with them
    md = (tmp_path / "grid" / "results.md").read_text()
    assert "ia3 stage-1 lr 0.07, probe stage-1 lr 0.2" in md and "data order `continue`" in md


# --------------------------------------------------------------------------- MiniLM (slow)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["lora", "probe"])
def test_minilm_default_rates_move_the_head_off_the_majority_class(minilm_path: Path, data_dir: Path,
                                                                   method: str) -> None:
    from collections import Counter

    from headzoo.tasks import load_task

    labels = load_task("sst2", data_dir, split="validation", limit=640)["validation"]["label"]
    majority = max(Counter(labels).values()) / len(labels)
    head = pretrain_head("sst2", "minilm", method, data_dir=data_dir, limit=640, save=False)  # 20 steps of 32
    assert head.config.training["steps"] == 20
    assert head.config.metrics["accuracy"] > majority + 0.03  # measured: lora 60.3, probe 64.8, majority 50.9


def test_resume_reuses_stage1_unless_its_backbone_changed(tiny_backbone: Path, data_dir: Path,
                                                          tmp_path: Path) -> None:
    def interrupted(out: Path) -> None:
        with pytest.raises(KeyboardInterrupt):
            finetune("cb", str(tiny_backbone), strategy="lp-ft", epochs=2, data_dir=data_dir, output_dir=out,
                     callbacks=[Recorder(stop_at=("headzoo-stage2-lp-ft", 5))], **FAST)
        assert (out / "stage1" / "stage1.json").is_file() and (out / "stage2" / "checkpoint-3").is_dir()

    interrupted(tmp_path / "a")
    recorder = Recorder(on_begin=lambda m: True)
    result = finetune("cb", str(tiny_backbone), strategy="lp-ft", epochs=2, data_dir=data_dir,
                      output_dir=tmp_path / "a", resume=True, callbacks=[recorder], **FAST)
    assert list(recorder.begin) == ["headzoo-stage2-lp-ft"]  # the stored stage-1 head was reused
    assert recorder.first_step["headzoo-stage2-lp-ft"] == 4 and result.total_steps == 8

    interrupted(tmp_path / "b")
    config = tmp_path / "b" / "stage1" / "head" / "head_config.json"
    data = json.loads(config.read_text())
    data["backbone_fingerprint"] = "sha256:0000000000000000"  # as if made for other weights
    config.write_text(json.dumps(data))
    recorder = Recorder(on_begin=lambda m: True)
    finetune("cb", str(tiny_backbone), strategy="lp-ft", epochs=2, data_dir=data_dir, output_dir=tmp_path / "b",
             resume=True, callbacks=[recorder], **FAST)
    assert list(recorder.begin) == ["headzoo-stage1-probe", "headzoo-stage2-lp-ft"]  # stale head: trained again
    assert recorder.first_step["headzoo-stage2-lp-ft"] == 1  # and stage 2 restarted from the new head


def test_compare_zoo_protocol_shares_one_head_per_method(tiny_backbone: Path, data_dir: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "zoo-grid"
    kwargs = {"strategies": ("ft", "eh-ft"), "methods": ("lora",), "seeds": (0, 1), "epochs": 2,
              "protocol": "zoo", "stage1_settings": {"max_steps": 2}, "data_dir": data_dir, "out_dir": out,
              **FAST}
    first = compare("cb", str(tiny_backbone), **kwargs)
    eh = [r for r in first.runs if r.strategy == "eh-ft"]
    assert len(eh) == 2 and all(r.stage1["source"] == "given" for r in eh)
    # one head, trained once, before the seeds: both runs start from the same tensors
    assert len({r.settings["head"] for r in eh}) == 1
    shared = Head.load(out / "heads" / "lora" / "head")
    assert eh[0].settings["head"] == head_id(shared)
    assert all((r.stage1_steps, r.stage2_steps, r.budget_steps) == (2, 8, 8) for r in eh)  # stage 2: full budget
    assert all(r.stage1["wall_seconds"] is not None for r in eh)  # the publisher's cost, reported apart
    again = compare("cb", str(tiny_backbone), **kwargs)
    assert (again.ran, again.reused) == (0, 4)  # the shared head is reused, so are the runs


# --------------------------------------------------------------------------- stage-1 search


class _Untouchable:
    """Stands in for the dev split: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the search read the validation split ({name})")

    def __len__(self) -> int:
        raise AssertionError("the search read the validation split (len)")


def test_search_scores_on_held_out_train_and_never_reads_dev(tiny_backbone: Path, data_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import headzoo.train.lr_search as search_mod
    from headzoo.train import prepare_data

    def no_dev(*args: Any, **kwargs: Any) -> Any:
        data = prepare_data(*args, **kwargs)
        data.validation = _Untouchable()
        return data

    monkeypatch.setattr(search_mod, "prepare_data", no_dev)
    res = search_mod.search_stage1("cb", str(tiny_backbone), "bitfit", learning_rates=(1e-3, 3e-2),
                                   lengths=(0.5, 1.0), holdout=0.25, data_dir=data_dir, limit=LIMIT,
                                   settings={"batch_size": BATCH, "max_length": 48})
    assert (res.search_train_size, res.holdout_size) == (24, 8)
    assert [(t["learning_rate"], t["epochs"], t["steps"]) for t in res.trials] == [
        (1e-3, 0.5, 2), (3e-2, 0.5, 2), (1e-3, 1.0, 3), (3e-2, 1.0, 3)]
    assert all(isinstance(t["score"], float) for t in res.trials)
    best = max(t["score"] for t in res.trials)
    assert res.best["score"] == best and res.chosen() == {"learning_rate": res.best["learning_rate"],
                                                          "epochs": res.best["epochs"]}
    assert "dev not used" in res.summary() and "held-out 25% of train" in res.summary()


def test_pretrain_head_with_search_records_the_choice(tiny_backbone: Path, data_dir: Path) -> None:
    head = pretrain_head("cb", str(tiny_backbone), "lora", data_dir=data_dir, limit=LIMIT,
                         settings={"batch_size": BATCH, "max_length": 48},
                         search={"learning_rates": (1e-3, 1e-2), "lengths": (1.0,)})
    training = head.config.training
    assert training["learning_rate_source"].startswith("search: lr ")
    assert training["learning_rate"] in (1e-3, 1e-2) and training["epochs"] == 1.0
    assert f"lr {training['learning_rate']:g} and 1 epoch(s) chosen" in training["learning_rate_source"]
    card = (headzoo.zoo_path("cb", str(tiny_backbone), "lora") / "README.md").read_text()
    assert "learning_rate_source" in card and "dev not used" in card
    plain = pretrain_head("cb", str(tiny_backbone), "bitfit", data_dir=data_dir, limit=LIMIT, save=False,
                          settings={"max_steps": 1, "batch_size": BATCH, "max_length": 48})
    assert plain.config.training["learning_rate_source"] == "preset headzoo"
    with pytest.raises(ConfigError, match="search"):
        pretrain_head("cb", str(tiny_backbone), "lora", data_dir=data_dir, limit=LIMIT, search={"lr": 1})


@pytest.mark.slow
def test_compare_runs_under_torchrun_on_two_cpu_processes(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    """The same CLI command under ``torchrun --nproc_per_node 2`` (gloo on CPU): rank 0 writes, both ranks train."""
    from .tiny_task import compare_under_torchrun

    _, runs = compare_under_torchrun(tiny_backbone, data_dir, tmp_path / "ddp", limit=LIMIT, batch=BATCH)
    assert all("feature" not in r["settings"]["data"] for r in runs)  # the plain backbone keeps the model's own path
