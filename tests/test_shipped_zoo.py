"""The zoo that ships inside the package: offline loading, resolution order, the checks it claims, damage, umask."""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest

import headzoo
from headzoo import HeadFormatError, HeadNotFoundError
from headzoo.cli import main
from headzoo.zoo import SHIPPED_ZOO_ENV, list_heads, shipped_zoo_root

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "results" / "zoo" / "zoo.json"
MINILM_SLUG = "sentence-transformers--all-MiniLM-L6-v2"
#: The whole shipped zoo must stay below this many bytes (docs/zoo.md states the size).
MAX_ZOO_BYTES = 2 * 2**20
#: Ways a shipped head gets damaged, each tried on the preferred (lora) head of a task.
DAMAGES = {
    "truncated safetensors": lambda d: (d / "head.safetensors").write_bytes((d / "head.safetensors").read_bytes()[:20]),
    "missing safetensors": lambda d: (d / "head.safetensors").unlink(),
    "config not JSON": lambda d: (d / "head_config.json").write_text("{not json", encoding="utf-8"),
    "missing config": lambda d: (d / "head_config.json").unlink(),
    "tensor bytes flipped to NaN": lambda d: _nan_tensor(d / "head.safetensors"),
}


#: Umasks a zoo save is tried under.
UMASKS = (0o022, 0o002, 0o077)


def _nan_tensor(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-4:] = b"\x00\x00\xc0\x7f"  # the last float32 becomes NaN
    path.write_bytes(bytes(data))


def _record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def _shipped() -> list:
    return list_heads(source="shipped")


@pytest.fixture
def shipped_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the shipped zoo, used as the shipped zoo for this test."""
    root = shipped_zoo_root()
    assert root is not None
    copy = tmp_path / "shipped"
    shutil.copytree(root / "heads", copy / "heads")
    monkeypatch.setenv(SHIPPED_ZOO_ENV, str(copy))
    return copy


def _task_with(methods: set[str]) -> str:
    by_task: dict[str, set[str]] = {}
    for e in _shipped():
        by_task.setdefault(e.task, set()).add(e.method)
    return sorted(t for t, m in by_task.items() if methods <= m)[0]


# ---------------------------------------------------------------------- what ships


def test_the_shipped_zoo_has_minilm_heads_for_the_paper_tasks_and_more() -> None:
    entries = _shipped()
    assert entries, f"no shipped heads under {shipped_zoo_root()}; build them with `headzoo zoo build`"
    assert {e.source for e in entries} == {"shipped"}
    assert {e.path.parent.parent.name for e in entries} == {MINILM_SLUG}
    tasks = {e.task for e in entries}
    assert len(tasks) >= 6, tasks
    assert tasks & {"sms_spam", "chat_topics"}, "no head for a labelled set beyond GLUE / SuperGLUE"
    for e in entries:
        assert sorted(os.listdir(e.path)) == ["README.md", "head.safetensors", "head_config.json"]
        assert e.config.training["zoo_build"]["build_hash"]


def test_shipped_zoo_matches_its_record_and_stays_small() -> None:
    record = _record()
    shipped = {f"{e.task}/{e.method}": e for e in _shipped()}
    claimed = {key for key, h in record["heads"].items() if h["status"] == "shipped"}
    assert set(shipped) == claimed
    total = 0
    for key, entry in shipped.items():
        h = record["heads"][key]
        assert entry.config.training["zoo_build"]["build_hash"] == h["build_hash"]
        checks = h["checks"]
        assert checks["zero_shot"]["passes"] or checks["as_start"]["passes"], key
        sizes = {name: (entry.path / name).stat().st_size for name in os.listdir(entry.path)}
        assert sizes == h["bytes"], key
        total += sum(sizes.values())
    assert total < MAX_ZOO_BYTES
    for key, h in record["heads"].items():
        if h["status"] == "left out":
            assert not h["checks"]["zero_shot"]["passes"] and not h["checks"]["as_start"]["passes"], key


def test_shipped_data_licences_are_on_the_cards() -> None:
    for e in _shipped():
        data = e.config.training["zoo_build"].get("data")
        if data is None:
            continue  # a built-in task: its licence is the task's (headzoo.tasks.spec)
        assert data["license"]["license"]
        assert data["package"] in (e.path / "README.md").read_text(encoding="utf-8")


def test_load_head_works_offline_for_every_shipped_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert list_heads() == []  # the user's zoo is empty
    for task in sorted({e.task for e in _shipped()}):
        model = headzoo.load_head(task, "minilm")
        head = headzoo.resolve_head(task, "minilm")
        assert head.path is not None and shipped_zoo_root() in head.path.parents
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        assert labels == head.config.labels, task


# ---------------------------------------------------------------------- check (a), as the record claims


def _zero_shot_claims() -> list[str]:
    if not RECORD.is_file():
        return []
    return sorted(k for k, h in _record()["heads"].items()
                  if h["status"] == "shipped" and h["checks"]["zero_shot"]["passes"])


@pytest.mark.parametrize("key", _zero_shot_claims())
def test_heads_that_claim_check_a_beat_the_majority_class_on_dev(key: str, data_dir: Path) -> None:
    """Check (a) again: the shipped head, with no fine-tuning, above the majority class (or above 0) on dev."""
    from headzoo.evaluate import evaluate_head
    from headzoo.tasks.packaged import PACKAGED_SETS
    from headzoo.train import prepare_data
    from headzoo.zoo_build import ZooBudget, task_data, zero_shot_baseline

    task, method = key.split("/")
    if task in PACKAGED_SETS:
        pytest.importorskip(PACKAGED_SETS[task].module)
    spec, stage1, _, _ = task_data(task, data_dir, ZooBudget())
    data = prepare_data((spec, stage1), "minilm", data_dir=None, limit=None, max_length=128)
    head = headzoo.resolve_head(task, "minilm", method=method)
    _, baseline = zero_shot_baseline(spec, stage1["validation"])
    score = evaluate_head(head, data)[spec.main_metric]
    assert score > baseline
    assert score == pytest.approx(_record()["heads"][key]["checks"]["zero_shot"]["metrics"][spec.main_metric],
                                  abs=1e-4)


# ---------------------------------------------------------------------- resolution order


def test_the_users_zoo_comes_before_the_shipped_zoo(tmp_path: Path) -> None:
    task = _task_with({"lora"})
    shipped = headzoo.resolve_head(task, "minilm", method="lora")
    mine = headzoo.Head(dict(shipped.tensors), shipped.config)
    mine.config.training = {**mine.config.training, "note": "mine"}
    path = headzoo.save_to_zoo(mine)
    assert headzoo.zoo_home() in path.parents  # a user's save goes to the user's zoo...
    assert headzoo.resolve_head(task, "minilm").config.training.get("note") == "mine"
    assert "note" not in headzoo.Head.load(shipped.path).config.training  # ...never into the shipped one
    sources = [e.source for e in list_heads(task=task, method="lora", source="all")]
    assert sources == ["user", "shipped"]


def test_list_shows_where_each_head_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["source"] for r in rows} == {"shipped"}
    assert main(["list", "--backbone", "minilm"]) == 0
    out = capsys.readouterr().out
    assert "no heads in your zoo" in out and " shipped " in out
    assert main(["list", "--source", "user"]) == 0
    assert "shipped" not in capsys.readouterr().out.split("(train one")[1]


# ---------------------------------------------------------------------- a damaged or missing shipped zoo


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_shipped_head_is_skipped_when_another_serves(damage: str, shipped_copy: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    task = _task_with({"lora", "bitfit"})
    lora = shipped_copy / "heads" / MINILM_SLUG / task / "lora"
    before = {p.name: p.read_bytes() for p in lora.iterdir()}
    DAMAGES[damage](lora)
    with caplog.at_level(logging.WARNING, logger="headzoo"):
        head = headzoo.resolve_head(task, "minilm")
    assert head.config.method == "bitfit"
    assert any("damaged shipped head" in r.getMessage() and str(lora) in r.getMessage() for r in caplog.records)
    assert "reinstall headzoo" in caplog.text
    assert {p.name for p in lora.iterdir()} <= set(before)  # nothing repaired or written behind the user's back


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_shipped_head_that_is_the_only_one_is_a_one_line_error(damage: str, shipped_copy: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    task = _task_with({"lora"})
    lora = shipped_copy / "heads" / MINILM_SLUG / task / "lora"
    DAMAGES[damage](lora)
    with pytest.raises(HeadFormatError) as info:
        headzoo.resolve_head(task, "minilm", method="lora")
    message = str(info.value)
    assert str(lora) in message and "reinstall headzoo" in message and f"headzoo train {task}" in message
    assert main(["show", task, "--backbone", "minilm", "--method", "lora"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: the shipped head at") and "Traceback" not in err[0]


def test_a_missing_shipped_zoo_is_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(SHIPPED_ZOO_ENV, str(tmp_path / "gone"))
    assert list_heads(source="shipped") == []
    with pytest.raises(HeadNotFoundError) as info:
        headzoo.resolve_head("rte", "minilm")
    assert "the shipped zoo is missing" in str(info.value) and "reinstall headzoo" in str(info.value)
    assert main(["show", "rte", "--backbone", "minilm"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "shipped zoo is missing" in err[0]


def test_an_unreadable_shipped_config_is_skipped_in_listings(shipped_copy: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    task = _task_with({"lora"})
    lora = shipped_copy / "heads" / MINILM_SLUG / task / "lora"
    (lora / "head_config.json").write_text("[]", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="headzoo"):
        entries = list_heads(source="shipped")
    assert (task, "lora") not in {(e.task, e.method) for e in entries}
    assert "reinstall headzoo" in caplog.text and str(lora) in caplog.text


# ---------------------------------------------------------------------- zoo files follow the umask


@pytest.mark.parametrize("umask", UMASKS)
def test_zoo_files_and_folders_follow_the_umask(umask: int) -> None:
    task = _task_with({"bitfit"})
    head = headzoo.resolve_head(task, "minilm", method="bitfit")
    old = os.umask(umask)
    try:
        path = headzoo.save_to_zoo(head)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask
    for name in ("head.safetensors", "head_config.json", "README.md"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o666 & ~umask, name
