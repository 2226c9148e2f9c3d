"""The budget of a run, computed once (headzoo.train.budget), and the run context that carries it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from headzoo.train import FinetuneSettings, Stage1Settings, run_settings, settings_hash
from headzoo.train.budget import Budget, stage1_steps
from headzoo.train.context import RunOptions, plan_run
from headzoo.train.data import TaskData


def fields(budget: Budget) -> tuple[int, int, int, int, int, bool]:
    return (budget.steps_per_epoch, budget.epoch_steps, budget.total, budget.stage1, budget.stage2,
            budget.floor_binds)


@pytest.mark.parametrize(("settings", "train", "run", "expected"), [
    ({"epochs": 10}, 250, {}, (8, 80, 80, 0, 80, False)),  # FT: no stage 1
    ({"epochs": 10}, 250, {"strategy": "eh-ft", "method": "lora"}, (8, 80, 80, 8, 72, False)),
    ({"epochs": 3}, 250, {"strategy": "lp-ft", "method": "probe"}, (8, 24, 30, 3, 27, True)),  # the floor binds
    ({"epochs": 3, "min_steps": 0}, 250, {"strategy": "lp-ft", "method": "probe"}, (8, 24, 24, 2, 22, False)),
    ({"epochs": 10, "protocol": "zoo"}, 250, {"strategy": "eh-ft", "method": "lora"}, (8, 80, 80, 0, 80, False)),
    ({"epochs": 10}, 250, {"strategy": "eh-ft", "method": "imprint"}, (8, 80, 80, 0, 80, False)),  # no step
    ({"epochs": 10}, 250, {"strategy": "eh-ft", "method": "lora", "head_given": True},
     (8, 80, 80, 0, 80, False)),  # a given head, at the default protocol (auto -> zoo): stage 2 makes every step
    ({"epochs": 10, "protocol": "matched"}, 250, {"strategy": "eh-ft", "method": "imprint", "head_given": True},
     (8, 80, 80, 8, 72, False)),  # under matched a given head is charged the share, whatever made it
    ({"epochs": 10, "protocol": "matched"}, 250, {"strategy": "eh-ft", "method": "lora"},
     (8, 80, 80, 8, 72, False)),  # matched asked for: what auto resolves to without a given head
    ({"epochs": 1, "gradient_accumulation_steps": 2}, 250, {}, (4, 4, 30, 0, 30, True)),
    ({"epochs": 0.01, "min_steps": 0, "stage1_fraction": 0.5}, 250, {"strategy": "lp-ft", "method": "probe"},
     (8, 1, 1, 1, 0, False)),  # nothing left for stage 2: finetune refuses it
])
def test_budget_follows_the_documented_rules(settings: dict, train: int, run: dict,
                                             expected: tuple[int, int, int, int, int, bool]) -> None:
    assert fields(Budget.of(FinetuneSettings.from_any(None, **settings), train, **run)) == expected


def test_auto_protocol_resolves_to_the_one_that_applies() -> None:
    auto = FinetuneSettings()
    assert auto.protocol == "auto"
    assert (auto.resolved().protocol, auto.resolved(head_given=True).protocol) == ("matched", "zoo")
    for protocol in ("matched", "zoo"):  # asked for: kept, given head or not
        cfg = FinetuneSettings(protocol=protocol)
        assert cfg.resolved(head_given=True) is cfg and cfg.resolved() is cfg


def test_stage1_steps_is_max_steps_else_its_epochs() -> None:
    assert stage1_steps(Stage1Settings(epochs=2), 250) == 16
    assert stage1_steps(Stage1Settings(epochs=2), 250, accumulation=2) == 8
    assert stage1_steps(Stage1Settings(epochs=0.01), 250) == 1
    assert stage1_steps(Stage1Settings(max_steps=5), 250) == 5


def test_a_planned_run_carries_its_budget_hash_and_folder(tmp_path: Path) -> None:
    info = {"dataset": "aps/super_glue", "train_size": 250}
    data = TaskData(spec=SimpleNamespace(name="cb"), tokenizer=None, train=range(250), validation=None,
                    backbone=SimpleNamespace(id="sentence-transformers/all-MiniLM-L6-v2", slug="minilm"),
                    max_length=128, info=info)
    cfg = FinetuneSettings(epochs=3)
    run = plan_run(data, cfg, strategy="eh-ft", method="lora", stage1=Stage1Settings(),
                   options=RunOptions(resume=True))
    hashed = run_settings(data, cfg, strategy="eh-ft", method="lora", stage1=Stage1Settings())
    assert run.hashed_settings == hashed and run.settings_hash == settings_hash(hashed)
    assert run.budget == Budget.of(cfg, 250, strategy="eh-ft", method="lora")
    assert run.name == f"eh-ft-lora-seed0-{run.settings_hash}"
    assert run.output_dir.parts[-3:] == ("minilm", "cb", run.name)  # under the zoo home's runs by default
    assert run.stage1 is not None and run.stage1.learning_rate == 5e-3  # as recorded: the preset's rate
    assert run.options.resume and run.options.save_checkpoints
    assert run.settings.protocol == run.hashed_settings["protocol"] == "matched"  # auto, without a given head
    given = plan_run(data, cfg, strategy="ft", method=None, stage1=Stage1Settings(), output_dir=tmp_path)
    assert (given.output_dir, given.stage1, given.budget.stage1) == (tmp_path, None, 0)


def test_a_run_from_a_given_head_plans_every_step_for_stage2() -> None:
    info = {"dataset": "aps/super_glue", "train_size": 250}
    data = TaskData(spec=SimpleNamespace(name="cb"), tokenizer=None, train=range(250), validation=None,
                    backbone=SimpleNamespace(id="sentence-transformers/all-MiniLM-L6-v2", slug="minilm"),
                    max_length=128, info=info)
    given = plan_run(data, FinetuneSettings(epochs=3), strategy="eh-ft", method="lora", stage1=Stage1Settings(),
                     head="heads/cb-lora")
    assert (given.budget.total, given.budget.stage1, given.budget.stage2) == (30, 0, 30)
    assert given.settings.protocol == given.hashed_settings["protocol"] == "zoo"  # the record says what applied
    assert "data_order" not in given.hashed_settings  # it acts under matched only
    zoo = plan_run(data, FinetuneSettings(epochs=3, protocol="zoo"), strategy="eh-ft", method="lora",
                   stage1=Stage1Settings(), head="heads/cb-lora")
    assert zoo.settings_hash == given.settings_hash  # auto is never hashed: the same run as zoo asked for
    matched = plan_run(data, FinetuneSettings(epochs=3, protocol="matched"), strategy="eh-ft", method="lora",
                       stage1=Stage1Settings(), head="heads/cb-lora")
    assert (matched.budget.stage1, matched.budget.stage2, matched.hashed_settings["protocol"]) == (3, 27, "matched")
