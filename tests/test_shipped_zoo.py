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
#: Ways a shipped head gets damaged, each tried on the preferred (probe) head of a task.
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


def test_the_shipped_zoo_has_sentence_heads_for_at_least_eight_single_text_label_sets() -> None:
    from headzoo.tasks.packaged import PACKAGED_SETS

    entries = _shipped()
    assert entries, f"no shipped heads under {shipped_zoo_root()}; build them with `headzoo zoo build`"
    assert {e.source for e in entries} == {"shipped"}
    assert {e.path.parent.parent.name for e in entries} == {MINILM_SLUG}
    assert {e.config.feature for e in entries} == {"sentence-embedding"}
    tasks = {e.task for e in entries}
    assert {"sst2", "sms_spam", "chat_topics"} <= tasks
    packaged = tasks & set(PACKAGED_SETS)  # single-text sets that PyPI packages ship
    assert len(packaged) >= 8, packaged
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
        zero_shot = h["checks"]["zero_shot"]
        assert zero_shot["passes"] and zero_shot["interval"][0] > zero_shot["baseline"], key
        assert entry.config.feature == h["feature"] == record["feature"], key
        sizes = {name: (entry.path / name).stat().st_size for name in os.listdir(entry.path)}
        assert sizes == h["bytes"], key
        total += sum(sizes.values())
    assert total < MAX_ZOO_BYTES
    for key, h in record["heads"].items():
        if h["status"] == "left out":
            assert not h["checks"]["zero_shot"]["passes"], key


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


#: Shipped heads checked again in the default suite (those of the smallest dev sets); the rest run with -m slow.
QUICK_CLAIMS = 3


def _zero_shot_claims() -> list:
    if not RECORD.is_file():
        return []
    claims = sorted((h["data"]["validation_size"], k) for k, h in _record()["heads"].items()
                    if h["status"] == "shipped" and h["checks"]["zero_shot"]["passes"])
    return [pytest.param(k, marks=() if i < QUICK_CLAIMS else pytest.mark.slow) for i, (_, k) in enumerate(claims)]


@pytest.mark.parametrize("key", _zero_shot_claims())
def test_heads_that_claim_check_a_beat_the_majority_class_on_dev(key: str, data_dir: Path) -> None:
    """Check (a) again: the shipped head, with no fine-tuning, above the majority class (or above 0) on dev."""
    from headzoo.evaluate import evaluate_head
    from headzoo.tasks.packaged import PACKAGED_SETS
    from headzoo.train import prepare_data
    from headzoo.zoo_build import ZooBudget, task_data, zero_shot_baseline

    task, method = key.split("/")
    if task in PACKAGED_SETS:
        try:
            PACKAGED_SETS[task].path()  # the file is read, never imported (some of these packages do not import)
        except headzoo.DataError as exc:
            pytest.skip(str(exc))
    budget = ZooBudget(**{k: v for k, v in _record()["budget"].items() if k != "retry_steps"})
    spec, stage1, *_ = task_data(task, data_dir, budget)
    head = headzoo.resolve_head(task, "minilm", method=method)
    data = prepare_data((spec, stage1), "minilm", data_dir=None, limit=None, max_length=128,
                        feature=head.config.feature)
    _, baseline = zero_shot_baseline(spec, stage1["validation"])
    score = evaluate_head(head, data)[spec.main_metric]
    assert score > baseline
    assert score == pytest.approx(_record()["heads"][key]["checks"]["zero_shot"]["metrics"][spec.main_metric],
                                  abs=1e-4)


# ---------------------------------------------------------------------- resolution order


def test_the_users_zoo_comes_before_the_shipped_zoo(tmp_path: Path) -> None:
    task = _task_with({"probe"})
    shipped = headzoo.resolve_head(task, "minilm", method="probe")
    mine = headzoo.Head(dict(shipped.tensors), shipped.config)
    mine.config.training = {**mine.config.training, "note": "mine"}
    path = headzoo.save_to_zoo(mine)
    assert headzoo.zoo_home() in path.parents  # a user's save goes to the user's zoo...
    assert headzoo.resolve_head(task, "minilm").config.training.get("note") == "mine"
    assert "note" not in headzoo.Head.load(shipped.path).config.training  # ...never into the shipped one
    sources = [e.source for e in list_heads(task=task, method="probe", source="all")]
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
    task = _task_with({"probe", "imprint"})
    probe_dir = shipped_copy / "heads" / MINILM_SLUG / task / "probe"
    before = {p.name: p.read_bytes() for p in probe_dir.iterdir()}
    DAMAGES[damage](probe_dir)
    with caplog.at_level(logging.WARNING, logger="headzoo"):
        head = headzoo.resolve_head(task, "minilm")
    assert head.config.method == "imprint"
    assert any("damaged shipped head" in r.getMessage() and str(probe_dir) in r.getMessage() for r in caplog.records)
    assert "reinstall headzoo" in caplog.text
    assert {p.name for p in probe_dir.iterdir()} <= set(before)  # nothing repaired or written behind the user's back


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_shipped_head_that_is_the_only_one_is_a_one_line_error(damage: str, shipped_copy: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    task = _task_with({"probe"})
    probe_dir = shipped_copy / "heads" / MINILM_SLUG / task / "probe"
    DAMAGES[damage](probe_dir)
    with pytest.raises(HeadFormatError) as info:
        headzoo.resolve_head(task, "minilm", method="probe")
    message = str(info.value)
    assert str(probe_dir) in message and "reinstall headzoo" in message and f"headzoo train {task}" in message
    assert main(["show", task, "--backbone", "minilm", "--method", "probe"]) == 1
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
    task = _task_with({"probe"})
    probe_dir = shipped_copy / "heads" / MINILM_SLUG / task / "probe"
    (probe_dir / "head_config.json").write_text("[]", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="headzoo"):
        entries = list_heads(source="shipped")
    assert (task, "probe") not in {(e.task, e.method) for e in entries}
    assert "reinstall headzoo" in caplog.text and str(probe_dir) in caplog.text


# ---------------------------------------------------------------------- zoo files follow the umask


@pytest.mark.parametrize("umask", UMASKS)
def test_zoo_files_and_folders_follow_the_umask(umask: int) -> None:
    task = _task_with({"imprint"})
    head = headzoo.resolve_head(task, "minilm", method="imprint")
    old = os.umask(umask)
    try:
        path = headzoo.save_to_zoo(head)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask
    for name in ("head.safetensors", "head_config.json", "README.md"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o666 & ~umask, name
