"""Run hashes stay as they are: the settings hash of a run keys its checkpoints, ``result.json`` and the grid's
``runs.jsonl``, so a change to how the hashed settings are built would make every committed record stale.

The expected hashes were computed before the stage-2 and grid internals were refactored into one run context;
the committed grid records under ``results/`` are rebuilt from their stored settings and must hash as stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from headzoo.train import FinetuneSettings, Stage1Settings, run_settings, settings_hash
from headzoo.train import grid as grid_module
from headzoo.train.args import stage1_record
from headzoo.train.data import TaskData

RESULTS = Path(__file__).resolve().parents[1] / "results"
BACKBONE = "sentence-transformers/all-MiniLM-L6-v2"
#: The fields of FinetuneSettings a stored record may carry.
FIELDS = ("epochs", "learning_rate", "batch_size", "max_length", "seed", "protocol", "stage1_fraction", "preset",
          "warmup_ratio", "weight_decay", "max_grad_norm", "group_by_length", "data_order", "eval_strategy",
          "eval_steps", "min_steps", "training_args")
#: The settings these hashes were made under where the defaults have changed since: an evaluation at every epoch
#: boundary (a record without ``eval_strategy`` ran so) and, in the cases, the ``matched`` protocol's share.
THEN = {"eval_strategy": "epoch"}


def task_data(task: str, train_size: int, max_length: int = 128, info: dict[str, Any] | None = None) -> TaskData:
    """A TaskData with what a run hashes (name, backbone, data info, train size) and nothing to train on."""
    info = info if info is not None else {"dataset": "aps/super_glue", "dataset_config": task, "dataset_name": task,
                                          "eval_split": "validation", "train_size": train_size, "eval_size": 56,
                                          "data_limit": None}
    return TaskData(spec=SimpleNamespace(name=task), backbone=SimpleNamespace(id=BACKBONE), tokenizer=None,
                    train=range(train_size), validation=None, max_length=max_length, info=info)


#: (name, train size, FinetuneSettings fields, strategy, method, run_settings keywords, hash before the refactor)
CASES: list[tuple[str, int, dict[str, Any], str, str | None, dict[str, Any], str]] = [
    ("ft", 250, {"epochs": 10}, "ft", None, {}, "f3d1e92767ea"),
    ("ft-floor-binds", 16, {"epochs": 3, "batch_size": 8}, "ft", None, {}, "17af1a360e2e"),
    ("ft-no-floor", 16, {"epochs": 3, "batch_size": 8, "min_steps": 0}, "ft", None, {}, "c74763e8fb90"),
    ("ft-floor-equal", 80, {"epochs": 3, "batch_size": 8, "min_steps": 30}, "ft", None, {}, "e76e37f5d0d0"),
    ("ft-eval-no", 250, {"epochs": 10, "eval_strategy": "no"}, "ft", None, {}, "db083ba621e4"),
    ("ft-accumulation", 100, {"epochs": 3, "gradient_accumulation_steps": 2}, "ft", None, {}, "974a68066e5d"),
    ("ft-unhashed-args", 250, {"epochs": 10, "report_to": ["tensorboard"]}, "ft", None, {}, "f3d1e92767ea"),
    ("eh-ft-lora-matched", 250, {"epochs": 10}, "eh-ft", "lora", {}, "f42d6d6a3ac6"),
    ("eh-ft-lora-matched-floor", 20, {"epochs": 2, "batch_size": 4}, "eh-ft", "lora", {}, "14a9b028f8d9"),
    ("eh-ft-lora-restart", 250, {"epochs": 10, "data_order": "restart"}, "eh-ft", "lora", {}, "f9b6c40233a0"),
    ("eh-ft-bitfit-stage1-lr", 250, {"epochs": 10}, "eh-ft", "bitfit",
     {"stage1": Stage1Settings(learning_rate=0.01, epochs=2)}, "4cb344054309"),
    ("eh-ft-imprint", 250, {"epochs": 10}, "eh-ft", "imprint", {}, "9ccbffb4db52"),
    ("lp-ft-zoo", 250, {"epochs": 10, "protocol": "zoo"}, "lp-ft", "probe", {}, "599fcbf7e770"),
    ("eh-ft-zoo-given-head", 250, {"epochs": 10, "protocol": "zoo"}, "eh-ft", "lora", {"head": "heads/cb-lora"},
     "ac45015fdef9"),
    ("eh-ft-label-map", 250, {"epochs": 10, "preset": "paper", "protocol": "matched"}, "eh-ft", "lora",
     {"head": "heads/cb-lora", "label_map": {"neg": "negative", "pos": "positive"}}, "8216ed032a99"),
    # since: auto (the default) is hashed as the protocol it resolves to, zoo from a given head
    ("eh-ft-auto-given-head", 250, {"epochs": 10}, "eh-ft", "lora", {"head": "heads/cb-lora"}, "ac45015fdef9"),
    ("eh-ft-auto-matched", 250, {"epochs": 10}, "eh-ft", "lora", {}, "f42d6d6a3ac6"),
]


@pytest.mark.parametrize(("train_size", "fields", "strategy", "method", "extra", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_run_hashes_are_those_before_the_refactor(train_size: int, fields: dict[str, Any], strategy: str,
                                                  method: str | None, extra: dict[str, Any], expected: str) -> None:
    cfg = FinetuneSettings.from_any(None, **{**THEN, **fields})
    extra = {"stage1": Stage1Settings(), **extra}
    settings = run_settings(task_data("cb", train_size), cfg, strategy=strategy, method=method, **extra)
    assert settings_hash(settings) == expected


@pytest.mark.parametrize(("method", "fields", "expected"), [
    ("lora", {}, "69f9f214e5d8"),
    ("probe", {"batch_size": 8}, "03060ea3a409"),
    ("bitfit", {"gradient_accumulation_steps": 2, "preset": "paper"}, "7edc3b8f1678"),
])
def test_shared_zoo_head_hashes_are_those_before_the_refactor(method: str, fields: dict[str, Any], expected: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def stored(directory: Path, hash_: str) -> tuple[Any, dict[str, Any]]:
        seen.append(hash_)
        return "the stored head", {}

    monkeypatch.setattr(grid_module, "read_stage1", stored)
    cfg = FinetuneSettings.from_any(None, protocol="zoo", **fields)
    head = grid_module.shared_head(task_data("cb", 250), Path("unused"), method, stage1=Stage1Settings(), cfg=cfg,
                                   callbacks=None, progress=False)
    assert (head, seen) == ("the stored head", [expected])


def test_the_default_evaluation_enters_the_hash() -> None:
    settings = run_settings(task_data("cb", 250), FinetuneSettings(epochs=10), strategy="ft", method=None,
                            stage1=Stage1Settings())
    assert (settings["eval_strategy"], settings["eval_steps"]) == ("steps", 0.2)
    assert settings_hash(settings) != "f3d1e92767ea"  # FT's hash under evaluations at every epoch boundary
    other = run_settings(task_data("cb", 250), FinetuneSettings(epochs=10, eval_steps=0.25), strategy="ft",
                         method=None, stage1=Stage1Settings())
    assert settings_hash(other) != settings_hash(settings)
    epoch = run_settings(task_data("cb", 250), FinetuneSettings(epochs=10, eval_strategy="epoch", eval_steps=0.25),
                         strategy="ft", method=None, stage1=Stage1Settings())
    assert "eval_steps" not in epoch and settings_hash(epoch) == "f3d1e92767ea"  # eval_steps acts under steps only


def committed_records() -> list[tuple[str, dict[str, Any]]]:
    """``(file, record)`` of every grid run committed under ``results/`` (``runs.jsonl`` lines)."""
    return [(str(path.relative_to(RESULTS)), json.loads(line))
            for path in sorted(RESULTS.glob("**/runs.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def older_form(settings: dict[str, Any]) -> bool:
    """A record written before ``data_order`` or probe's ``backbone_dropout`` existed: the grid runs it again."""
    stage1 = settings["stage1"] or {}
    no_order = settings["protocol"] == "matched" and settings["strategy"] != "ft" and "data_order" not in settings
    return no_order or (stage1.get("method") == "probe" and "backbone_dropout" not in stage1)


def test_committed_records_rebuild_to_their_hashes() -> None:
    records = committed_records()
    assert len(records) >= 600
    rebuilt = 0
    for name, record in records:
        stored = record["result"]["settings"]
        if older_form(stored):
            continue
        cfg = FinetuneSettings(**{**THEN, **{k: stored[k] for k in FIELDS if k in stored}},
                               **({} if "min_steps" in stored else {"min_steps": 0}))
        stage1 = Stage1Settings(**stored["stage1"]) if stored["stage1"] else Stage1Settings()
        data = task_data(stored["task"], stored["data"]["train_size"], stored["max_length"], stored["data"])
        settings = run_settings(data, cfg, strategy=stored["strategy"], method=stored["method"], stage1=stage1,
                                head=stored["head"])
        # what the grid looks a stored run up by: its settings with today's stage-1 record (grid.current_keys)
        today = {**stored, "stage1": stage1_record(stored["stage1"]) if stored["stage1"] else None}
        assert settings == today, (name, record["key"])
        if today == stored:
            assert settings_hash(settings) == record["settings_hash"], (name, record["key"])
        rebuilt += 1
    assert rebuilt >= 600
