"""Stage-2 settings: FinetuneSettings, transformers.TrainingArguments fields passed through, the subset sampler."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest
import torch

from headzoo.cli import main
from headzoo.errors import ConfigError
from headzoo.train import FinetuneSettings, finetune, prepare_data, run_settings, settings_hash
from headzoo.train.args import RESERVED_TRAINING_ARGS, check_training_args, hashed_training_args

pytestmark = [pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning"),
              pytest.mark.usefixtures("one_thread")]

FAST = {"limit": 32, "batch_size": 8, "max_length": 48}


@pytest.mark.parametrize("name", sorted(RESERVED_TRAINING_ARGS))
def test_reserved_training_args_are_refused_with_the_fix(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"training argument '{name}' is set by headzoo: "):
        check_training_args({name: 1})


@pytest.mark.parametrize(("args", "quoted"), [
    ({"evalstrategy": "no"}, "did you mean 'eval_strategy'"),
    ({"optim": "nope"}, "optim='nope'"),
    ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps must be an integer >= 1, got 0"),
    ({"report_to": ["no-such-tracker"]}, "no-such-tracker is not supported"),
    ({"bf16": object()}, "training argument 'bf16' must be a string, number, bool"),
    ("bf16", "training_args must be a dict"),
])
def test_bad_training_args_name_the_field(args: Any, quoted: str) -> None:
    with pytest.raises(ConfigError, match=quoted.replace("(", r"\(").replace("[", r"\[")):
        check_training_args(args)


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 is refused only where no GPU is visible")
def test_fp16_without_a_gpu_says_to_use_bf16() -> None:
    with pytest.raises(ConfigError, match="use bf16=True"):
        FinetuneSettings(training_args={"fp16": True})


def test_settings_route_training_args_and_refuse_unknown_names() -> None:
    cfg = FinetuneSettings.from_any({"epochs": 2}, learning_rate=1e-4, gradient_accumulation_steps=2,
                                    report_to=["tensorboard"])
    assert (cfg.epochs, cfg.learning_rate) == (2, 1e-4)
    assert cfg.training_args == {"gradient_accumulation_steps": 2, "report_to": ["tensorboard"]}
    assert cfg.effective_batch_size == 64
    with pytest.raises(ConfigError, match="unknown setting 'epoch'"):
        FinetuneSettings.from_any(None, epoch=3)
    with pytest.raises(ConfigError, match="is set by headzoo"):
        FinetuneSettings.from_any(None, max_steps=3)
    with pytest.raises(ConfigError, match="unknown fine-tuning setting"):
        FinetuneSettings.from_any({"epoch": 3})


def test_only_args_that_change_the_run_enter_its_hash(tiny_backbone: Path, data_dir: Path) -> None:
    assert hashed_training_args({"report_to": ["tensorboard"], "dataloader_num_workers": 2,
                                 "logging_steps": 1, "bf16": True, "gradient_accumulation_steps": 2}) == {
        "bf16": True, "gradient_accumulation_steps": 2}
    data = prepare_data("cb", str(tiny_backbone), data_dir=data_dir, limit=16, max_length=48)
    from headzoo.train import Stage1Settings

    def hash_of(**training_args: Any) -> str:
        cfg = FinetuneSettings(training_args=training_args)
        return settings_hash(run_settings(data, cfg, strategy="ft", method=None, stage1=Stage1Settings()))

    plain = hash_of()
    assert "training_args" not in run_settings(data, FinetuneSettings(), strategy="ft", method=None,
                                               stage1=Stage1Settings())  # old runs keep their hashes
    assert hash_of(report_to=["tensorboard"], dataloader_num_workers=1) == plain
    assert hash_of(gradient_accumulation_steps=2) != plain


def test_bf16_stage2_trains_in_bfloat16_on_cpu(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    from transformers import TrainerCallback

    seen: dict[str, Any] = {}

    class Spy(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            seen.setdefault("bf16", []).append(args.bf16)
            model.classifier.register_forward_hook(
                lambda module, inputs, output: seen.setdefault("dtypes", set()).add(output.dtype)
                if module.training else None
            )

    result = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="bitfit", epochs=2, data_dir=data_dir,
                      output_dir=tmp_path / "run", callbacks=[Spy()], bf16=True, **FAST)
    assert seen["bf16"] == [True, True]  # stage 1 and stage 2
    assert torch.bfloat16 in seen["dtypes"]  # the classifier ran under bf16 autocast
    assert result.settings["training_args"] == {"bf16": True}
    assert result.final["accuracy"] is not None


def test_report_to_tensorboard_writes_event_files(tiny_backbone: Path, data_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboardX")
    out = tmp_path / "run"
    result = finetune("cb", str(tiny_backbone), strategy="ft", epochs=2, data_dir=data_dir, output_dir=out,
                      report_to=["tensorboard"], logging_steps=1, **FAST)
    events = list((out / "stage2").rglob("events.out.tfevents.*"))
    assert events and all(e.stat().st_size > 0 for e in events)
    assert "training_args" not in result.settings  # a tracker does not change what the run computes


def test_gradient_accumulation_counts_optimizer_steps(tiny_backbone: Path, data_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from headzoo.train import BatchPlan

    lengths: dict[tuple[int, int], int] = collections.Counter()
    plain_iter = BatchPlan.__iter__

    def spy(self: Any) -> Any:
        for batch in plain_iter(self):
            lengths[(self.start, self.stop)] += 1
            yield batch

    monkeypatch.setattr(BatchPlan, "__iter__", spy)
    result = finetune("cb", str(tiny_backbone), strategy="eh-ft", method="bitfit", epochs=2, data_dir=data_dir,
                      gradient_accumulation_steps=2, min_steps=0, **FAST)
    # 32 examples, 8 per micro-batch, 2 micro-batches per step: 2 steps per epoch, 4 in the budget
    assert (result.steps_per_epoch, result.budget_steps) == (2, 4)
    assert (result.stage1_steps, result.stage2_steps) == (1, 3)
    assert dict(lengths) == {(0, 1): 2, (1, 4): 6}  # each step took 2 micro-batches of the plan


def test_cli_passes_training_args_and_refuses_reserved_ones(tiny_backbone: Path, data_dir: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = ["finetune", "cb", "--backbone", str(tiny_backbone), "--strategy", "ft", "--epochs", "1",
            "--data-dir", str(data_dir), "--limit", "16", "--batch-size", "8", "--max-length", "48",
            "--no-progress", "--output-dir", str(tmp_path / "run")]
    assert main([*base, "--training-arg", "max_steps=3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: training argument 'max_steps' is set by headzoo: set the budget with epochs= "
                   "(CLI --epochs); headzoo counts the steps"]
    assert main([*base, "--training-arg", "nonsense"]) == 1
    assert "--training-arg takes KEY=VALUE, got 'nonsense'" in capsys.readouterr().err
    assert main([*base, "--bf16", "--gradient-accumulation-steps", "2", "--training-arg", "lr_scheduler_type=cosine",
                 "--training-arg", "adam_beta2=0.98"]) == 0
    import json

    stored = json.loads((tmp_path / "run" / "result.json").read_text())
    assert stored["settings"]["training_args"] == {"adam_beta2": 0.98, "bf16": True,
                                                   "gradient_accumulation_steps": 2, "lr_scheduler_type": "cosine"}


def test_limit_is_a_stratified_subset_that_follows_the_seed(tiny_backbone: Path, data_dir: Path) -> None:
    from headzoo.tasks import custom_task

    def subset(seed: int, task: Any = "rte") -> Any:
        data = prepare_data(task, str(tiny_backbone), data_dir=data_dir, limit=40, max_length=48, seed=seed)
        assert data.info["data_seed"] == seed
        return data.train

    def labels(seed: int, task: Any = "rte") -> list[int]:
        return list(subset(seed, task)["label"])

    full = prepare_data("rte", str(tiny_backbone), data_dir=data_dir, limit=None, max_length=48)
    assert "data_seed" not in full.info  # without a limit the data do not depend on the seed
    share = sum(full.train["label"]) / len(full.train)
    for seed in (0, 1):
        got = labels(seed)
        assert len(got) == 40 and abs(sum(got) - 40 * share) <= 1  # class proportions kept
    a, b, again = subset(0), subset(1), subset(0)
    assert a["input_ids"] == again["input_ids"] and a["input_ids"] != b["input_ids"]

    rows = [{"text": f"row {i} {'good' if i % 4 else 'bad'}", "label": "pos" if i % 4 else "neg"} for i in range(80)]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "mine.csv"
        csv.write_text("text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in rows))
        task = custom_task(csv, "text", "label", name="mine")
        custom = [subset(seed, task) for seed in (0, 1, 2)]
    spec = task[0]
    neg = spec.label2id["neg"]
    train_n = len(task[1]["train"])
    neg_share = sum(1 for y in task[1]["train"]["label"] if y == neg) / train_n
    for got in custom:
        assert abs(sum(1 for y in got["label"] if y == neg) - 40 * neg_share) <= 1  # stratified
    assert custom[0]["input_ids"] != custom[1]["input_ids"] != custom[2]["input_ids"]  # follows the seed

