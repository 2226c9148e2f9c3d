"""Interruptions: Ctrl-C in `headzoo train` and `compare`, and faults while a head is being replaced.

Nothing half-written may reach the zoo, and what was finished must be usable
to continue (``--resume`` for train, re-running for compare).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import headzoo
from headzoo import Head
from headzoo.cli import main
from headzoo.files import CARD_FILE, HEAD_FILE
from headzoo.head_config import CONFIG_FILE

from .conftest import tiny_bert
from .tiny_task import one_thread, tiny_backbone_fixture, toy_csv_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")


# --------------------------------------------------------------------------- tiny backbone and data


#: toy.csv: 72 training rows in batches of 8 -> 9 steps per epoch; 2 epochs; Ctrl-C before step 13 (epoch 2).
STEPS_PER_EPOCH = 9
EPOCHS = 2
PAUSE_AT = 13


def _train_args(backbone: Path, data: Path) -> list[str]:
    return ["train", "toy", "--backbone", str(backbone), "--data-file", str(data), "--text-column", "text",
            "--label-column", "label", "--method", "lora", "--epochs", str(EPOCHS), "--batch-size", "8",
            "--max-length", "32", "--no-progress"]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def _zoo_is_clean(zoo: Path) -> None:
    """No head and nothing half-written under the zoo's heads/."""
    heads = zoo / "heads"
    found = [p for p in heads.rglob("*")] if heads.is_dir() else []
    assert not [p for p in found if p.name in (HEAD_FILE, CONFIG_FILE)], found
    assert not [p for p in found if ".tmp-" in p.name or ".old-" in p.name], found
    assert headzoo.list_heads() == []


# The real CLI entry point, with one change: the 13th training step (mid-way through epoch 2, after
# epoch 1's checkpoint at step 9) writes a marker file and waits there to be interrupted, so the
# SIGINT lands at a known point instead of a race with a fast tiny model.
#
# SIGINT is set to raise KeyboardInterrupt as at a terminal: a child inherits an ignored SIGINT, and the test
# runner has one when it was started as a background job of a non-interactive shell (`pytest &` in a script),
# where the Ctrl-C below would otherwise be dropped and the child would train on. SIGUSR1 dumps every
# thread's stack to stderr, so a child that does not exit after the Ctrl-C shows where it is.
_PAUSING_CLI = """
import faulthandler, os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
faulthandler.register(signal.SIGUSR1, all_threads=True)
import transformers
_original = transformers.Trainer.training_step
_calls = [0]
def _training_step(self, *args, **kwargs):
    _calls[0] += 1
    if _calls[0] == int(os.environ["HEADZOO_TEST_PAUSE_AT"]):
        open(os.environ["HEADZOO_TEST_MARKER"], "w").close()
        while True:
            time.sleep(0.05)
    return _original(self, *args, **kwargs)
transformers.Trainer.training_step = _training_step
from headzoo.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigint_mid_epoch_then_resume(tiny_backbone: Path, toy_csv: Path, zoo_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "paused"
    env = {**os.environ, "HEADZOO_TEST_PAUSE_AT": str(PAUSE_AT), "HEADZOO_TEST_MARKER": str(marker),
           "OMP_NUM_THREADS": "1", "HEADZOO_HOME": str(zoo_dir)}
    proc = subprocess.Popen([sys.executable, "-c", _PAUSING_CLI, *_train_args(tiny_backbone, toy_csv)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"training never reached step {PAUSE_AT}"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)  # the stacks, then stop it
            time.sleep(2)
            proc.kill()
            out, err = proc.communicate()
            err = f"headzoo train did not exit within 120 s of Ctrl-C; its stderr, with every thread's stack:\n{err}"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert _error_lines(err) == [
        "error: interrupted; the zoo holds no half-written head; re-run the same command with --resume to "
        "continue from the last checkpoint"
    ], err
    assert "Traceback" not in err and "saved to" not in out
    _zoo_is_clean(zoo_dir)
    checkpoints = sorted(zoo_dir.glob("runs/*/toy/stage1-lora-*/checkpoint-*"))
    assert [c.name for c in checkpoints] == [f"checkpoint-{STEPS_PER_EPOCH}"], checkpoints  # epoch 1's, kept
    run_dir = checkpoints[0].parent
    # As if a later checkpoint had been cut off while being written: it must be skipped, not resumed from.
    (run_dir / "checkpoint-14").mkdir()
    (run_dir / "checkpoint-14" / "optimizer.pt").write_bytes(b"\x80\x04 half")

    loads: list[tuple[str, Any]] = []
    original_load = torch.load

    def spy(f: Any, *args: Any, **kwargs: Any) -> Any:
        loads.append((str(f), kwargs.get("weights_only")))
        return original_load(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    code = main([*_train_args(tiny_backbone, toy_csv), "--resume"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "saved to" in out
    names = {Path(f).name for f, _ in loads}
    assert {"rng_state.pth", "optimizer.pt", "scheduler.pt"} <= names  # it did resume from epoch 1 ...
    assert all(Path(f).parent == checkpoints[0] for f, _ in loads), loads  # ... and only from there
    assert all(weights_only is True for _, weights_only in loads), loads  # the restricted unpickler only
    assert not list(run_dir.glob("checkpoint-*"))  # finished: checkpoints removed

    entries = headzoo.list_heads()
    assert [(e.task, e.method) for e in entries] == [("toy", "lora")]
    resumed = Head.load(entries[0].path)
    assert resumed.config.training["steps_per_epoch"] == STEPS_PER_EPOCH
    assert resumed.config.training["steps"] == EPOCHS * STEPS_PER_EPOCH
    # The same kind of result as never being interrupted: the same head, up to float noise.
    monkeypatch.setattr(torch, "load", original_load)
    from headzoo.tasks import custom_task
    from headzoo.train import pretrain_head

    task = custom_task(str(toy_csv), ["text"], "label", name="toy")
    straight = pretrain_head(task, str(tiny_backbone), "lora", settings={"epochs": EPOCHS, "batch_size": 8,
                             "max_length": 32}, save=False, output_dir=tmp_path / "straight")
    assert sorted(straight.tensors) == sorted(resumed.tensors)
    for name, tensor in straight.tensors.items():
        torch.testing.assert_close(resumed.tensors[name], tensor, rtol=1e-4, atol=1e-5)


class _Interrupter:
    """A TrainerCallback that presses Ctrl-C at the n-th training step counted over all runs."""

    def __new__(cls, at: int) -> Any:
        from transformers import TrainerCallback

        class Interrupt(TrainerCallback):
            steps = 0

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                Interrupt.steps += 1
                if Interrupt.steps == at:
                    raise KeyboardInterrupt

        return Interrupt()


#: FT with seeds 0 and 1, one epoch of 9 steps each: step 13 is in the middle of the second run.
GRID_SEEDS = ("0", "1")
GRID_INTERRUPT_AT = STEPS_PER_EPOCH + 4


def test_interrupted_compare_keeps_finished_runs(tiny_backbone: Path, toy_csv: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import headzoo.cli.training

    out_dir = tmp_path / "grid"
    args = ["compare", "toy", "--backbone", str(tiny_backbone), "--data-file", str(toy_csv), "--text-column",
            "text", "--label-column", "label", "--strategies", "ft", "--seeds", ",".join(GRID_SEEDS), "--epochs",
            "1", "--min-steps", "0", "--batch-size", "8", "--max-length", "32", "--out", str(out_dir), "--no-progress"]
    monkeypatch.setattr(headzoo.cli.training, "progress_callbacks", lambda quiet: [_Interrupter(GRID_INTERRUPT_AT)])
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 130
    assert _error_lines(err) == [
        "error: interrupted; finished runs are kept in runs.jsonl; re-run the same command to continue"
    ], err
    finished = (out_dir / "runs.jsonl").read_text().splitlines()
    assert len(finished) == 1 and '"seed": 0' in finished[0]

    monkeypatch.undo()
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "1 run(s) trained, 1 reused" in out
    lines = (out_dir / "runs.jsonl").read_text().splitlines()
    assert lines[0] == finished[0] and len(lines) == 2  # the first run kept as it was, the second added


# --------------------------------------------------------------------------- saving


def _two_heads() -> tuple[Head, Head]:
    """Two heads for one entry whose files differ whatever the initialisation gave (new = seed 1, shifted)."""
    old = Head.from_model(tiny_bert(seed=0), task="toy", backbone="tiny", method="lora")
    new = Head.from_model(tiny_bert(seed=1), task="toy", backbone="tiny", method="lora")
    new = Head({name: tensor + 1.0 for name, tensor in new.tensors.items()}, new.config)
    new.config.backbone_fingerprint = old.config.backbone_fingerprint
    return old, new


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as at a terminal, even when the test runner was started with it ignored.

    A background job of a non-interactive shell (`pytest &` in a script) starts with SIGINT ignored, and
    Python keeps it so; a real SIGINT would then be dropped instead of interrupting the save.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def _fault_in_save_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import safetensors.numpy

    def partial(arrays: Any, filename: str, metadata: Any = None) -> None:
        Path(filename).write_bytes(b"\x10\x00\x00\x00")  # a few bytes, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.numpy, "save_file", partial)


def _fault_in_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from headzoo.head_config import HeadConfig

    def interrupted(self: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(HeadConfig, "to_json", interrupted)


def _fault_in_card(monkeypatch: pytest.MonkeyPatch) -> None:
    import headzoo.cards

    def interrupted(config: Any, repo_id: Any = None) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(headzoo.cards, "render_card", interrupted)


def _fault_in_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)


def _sigint_between_renames(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SIGINT right after the old head was moved aside: it must wait until the new one is in place."""
    real_rename = os.rename
    sent = []

    def rename(src: Any, dst: Any) -> None:
        real_rename(src, dst)
        if Path(dst).name == "head" and not sent:  # the old head moved into .lora.old-*/head
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "rename", rename)


def _oserror_in_final_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    real_rename = os.rename

    def rename(src: Any, dst: Any) -> None:
        if ".tmp-" in Path(src).name and Path(dst).name == "lora" and Path(dst).exists() is False:
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)


#: (fault, exception the save raises, which head the entry must hold afterwards)
SAVE_FAULTS = [
    (_fault_in_save_file, KeyboardInterrupt, "old"),
    (_fault_in_config, KeyboardInterrupt, "old"),
    (_fault_in_card, KeyboardInterrupt, "old"),
    (_fault_in_fsync, KeyboardInterrupt, "old"),
    (_sigint_between_renames, KeyboardInterrupt, "new"),
    (_oserror_in_final_rename, OSError, "old"),
]


@pytest.mark.parametrize(("fault", "raised", "survivor"), SAVE_FAULTS, ids=[f[0].__name__.strip("_")
                                                                           for f in SAVE_FAULTS])
@pytest.mark.usefixtures("sigint_raises")
def test_interrupted_save_keeps_a_whole_head(fault: Any, raised: type[BaseException], survivor: str,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = _two_heads()
    target = tmp_path / "zoo" / "toy" / "lora"
    old.save(target)
    before = _files(target)
    new.save(tmp_path / "reference")
    expected_new = _files(tmp_path / "reference")
    assert before[HEAD_FILE] != expected_new[HEAD_FILE]
    fault(monkeypatch)
    with pytest.raises(raised):
        new.save(target, overwrite=True)
    monkeypatch.undo()
    assert _files(target) == (before if survivor == "old" else expected_new)
    assert sorted(p.name for p in target.parent.iterdir()) == ["lora"]  # no .tmp- or .old- left
    assert set(_files(target)) == {HEAD_FILE, CONFIG_FILE, CARD_FILE}
    Head.load(target)


def test_leftover_temp_dir_is_ignored(tmp_path: Path, zoo_dir: Path) -> None:
    backbone = tmp_path / "tiny-backbone"
    tiny_bert(seed=0).save_pretrained(backbone)
    head = Head.from_model(tiny_bert(seed=0), task="toy", backbone=str(backbone), method="zz")
    place = headzoo.zoo_path("toy", str(backbone), "zz")
    head.save(place.parent / ".zz.tmp-killed")  # what a save killed before its rename leaves
    assert headzoo.list_heads() == []
    assert headzoo.zoo.find_in_zoo("toy", str(backbone)) is None
    with pytest.raises(headzoo.HeadNotFoundError):
        headzoo.load_head("toy", str(backbone))
    headzoo.save_to_zoo(head)
    assert [e.method for e in headzoo.list_heads()] == ["zz"]
