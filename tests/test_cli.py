"""The command line: thin, helpful, one-line errors with no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import headzoo
from headzoo import Head
from headzoo.cli import main

from .conftest import tiny_bert
from .tiny_task import one_thread, tiny_backbone_fixture, toy_csv_fixture  # noqa: F401 (fixtures)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _zoo_head(tmp_path: Path) -> Path:
    backbone = tmp_path / "tiny-backbone"
    tiny_bert(id2label={0: "a", 1: "b", 2: "c"}, label2id={"a": 0, "b": 1, "c": 2}).save_pretrained(backbone)
    from headzoo.backbone import load_classifier, resolve_backbone

    model = load_classifier(resolve_backbone(backbone))
    headzoo.save_to_zoo(Head.from_model(model, task="toy", backbone=str(backbone), method="lora",
                                        metrics={"accuracy": 0.5}))
    return backbone


def test_console_script_prints_one_line_errors(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "headzoo.cli", "show", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    expected = f"error: no head at {str(tmp_path / 'missing')!r}: the path does not exist"
    assert out.stderr.strip().splitlines() == [expected]
    assert "Traceback" not in out.stderr


def test_help_explains_every_command(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("show", "list", "push", "pull", "search"):
        assert command in out
        code, sub, _ = run(capsys, command, "--help")
        assert code == 0 and "Usage" in sub


def test_list_and_show(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and "no heads" in out
    backbone = _zoo_head(tmp_path)
    code, out, _ = run(capsys, "list")
    assert code == 0 and "toy" in out and "lora" in out and "accuracy=0.5" in out
    code, out, _ = run(capsys, "show", "toy", "--backbone", str(backbone))
    assert code == 0 and "labels:      a, b, c" in out
    code, out, _ = run(capsys, "show", "toy", "--backbone", str(backbone), "--json")
    assert code == 0 and '"format_version": 1' in out


def test_push_pull_search(hub, tmp_path: Path, capsys) -> None:
    backbone = _zoo_head(tmp_path)
    code, out, err = run(capsys, "push", "toy", "--backbone", str(backbone), "--namespace", "alice")
    assert code == 0, err
    repo_id = "alice/headzoo-toy-tiny-backbone-lora"
    assert f"{repo_id}/commit/" in out
    code, out, _ = run(capsys, "search", "--task", "toy")
    assert code == 0 and repo_id in out and "accuracy=0.5" in out
    code, out, err = run(capsys, "pull", repo_id)
    assert code == 0, err
    assert "toy head" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show"], "Missing argument"),
        (["bogus"], "No such command"),
        (["show", "/no/such/head"], "does not exist"),
        (["show", "toy"], "needs a backbone"),
        (["show", "../x", "--backbone", "minilm"], "does not exist"),
        (["list", "--backbone", "/no/such/dir"], "does not exist"),
        (["pull", "not a repo"], "not a valid Hub repo id"),
        (["pull", "alice/missing"], "not found"),
        (["search", "--limit", "0"], "limit"),
        (["push", "/no/such/head"], "does not exist"),
    ],
)
def test_bad_arguments_get_one_line_and_nonzero_exit(hub, capsys, tmp_path, monkeypatch, args: list[str],
                                                    message: str) -> None:
    # relative paths ("../x") resolve inside tmp_path, not next to wherever the suite was started
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    code, _, err = run(capsys, *args)
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


def test_train_target_modules_reach_peft_and_the_head(tiny_backbone: Path, toy_csv: Path, zoo_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """--target-modules (the paper's Q, K, V, O on BERT) is what LoRA adapts, and the head records it."""
    code, _, err = run(capsys, "train", "toy", "--backbone", str(tiny_backbone), "--data-file", str(toy_csv),
                         "--text-column", "text", "--label-column", "label", "--method", "lora", "--max-steps", "2",
                         "--batch-size", "8", "--max-length", "32", "--no-progress",
                         "--target-modules", "query, key,value,attention.output.dense")
    assert code == 0, err
    entries = headzoo.list_heads()
    assert [(e.task, e.method) for e in entries] == [("toy", "lora")]
    training = Head.load(entries[0].path).config.training
    assert sorted(training["target_modules"]) == ["attention.output.dense", "key", "query", "value"]


def _commands() -> list[list[str]]:
    """Every command's path: `show`, ..., `zoo build`, `zoo publish`."""
    import typer

    from headzoo.cli import app

    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        paths += [[name, sub] for sub in subs] if subs else [[name]]
    return paths


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_takes_no_progress(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """--no-progress is a shared flag: every command's --help lists it and its parser accepts it."""
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0 and "--no-progress" in out
    code, _, err = run(capsys, *command, "--no-progress", "--bogus")
    assert code == 2 and "No such option: --bogus" in err  # --no-progress itself parsed


@pytest.mark.parametrize("args", [["list", "--no-progress"], ["tasks", "--no-progress"],
                                  ["suggest", "--no-progress"]])
def test_no_progress_runs_where_nothing_long_runs(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = run(capsys, *args)
    if args[0] == "suggest":  # reaches the command: its own check of the data, not a parse error
        assert code == 1 and "needs your data" in err
    else:
        assert code == 0 and out, err


def test_pull_with_no_progress(hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backbone = _zoo_head(tmp_path)
    code, _, err = run(capsys, "push", "toy", "--backbone", str(backbone), "--namespace", "alice", "--no-progress")
    assert code == 0, err
    code, out, err = run(capsys, "pull", "alice/headzoo-toy-tiny-backbone-lora", "--overwrite", "--no-progress")
    assert code == 0 and "toy head" in out, err



def test_the_command_line_starts_without_torch() -> None:
    """`headzoo --help` stays quick: building the options' settings defaults imports no torch or transformers."""
    code = "import sys, headzoo.cli; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
