"""Two processes at once: pulling the same heads, and saving to the same zoo entries.

Both workers import everything first, then meet at a file barrier and go, so
their pulls and saves overlap.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

import headzoo
from headzoo import Head, push_head
from headzoo.files import CARD_FILE, HEAD_FILE
from headzoo.head_config import CONFIG_FILE

from .conftest import tiny_bert

FILES = (HEAD_FILE, CONFIG_FILE, CARD_FILE)

_WORKER = r"""
import hashlib, json, os, sys, time
from pathlib import Path
spec = json.loads(sys.argv[1])
import headzoo
from headzoo import Head, HeadExistsError, pull_head, save_to_zoo

def barrier(name):
    Path(spec["sync"], f"{name}-{spec['me']}").touch()
    deadline = time.monotonic() + 120
    while len(list(Path(spec["sync"]).glob(f"{name}-*"))) < spec["workers"]:
        if time.monotonic() > deadline:
            raise SystemExit("the other worker never came")
        time.sleep(0.005)

def digest(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(path).iterdir())}

out = {}
if spec["job"] == "pull":
    barrier("go")
    for repo in spec["repos"]:
        out[repo] = digest(pull_head(repo, to_zoo=True))
else:
    head = Head.load(spec["head"])
    for phase, overwrite in (("keep", False), ("replace", True)):
        barrier(phase)
        for i in range(spec["entries"]):
            head.config.task = f"{phase}{i}"
            try:
                save_to_zoo(head, overwrite=overwrite)
                out[f"{phase}{i}"] = "saved"
            except HeadExistsError as exc:
                out[f"{phase}{i}"] = f"exists: {exc}"
print(json.dumps(out))
"""


WORKERS = ("a", "b")
PULL_REPOS = 4
ENTRIES = 12


def _run_two(specs: list[dict[str, Any]], env: dict[str, str]) -> list[dict[str, Any]]:
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, json.dumps(spec)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for spec in specs]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err
            assert "Traceback" not in err, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def _no_leftovers(zoo: Path) -> None:
    left = [p for p in (zoo / "heads").rglob("*") if ".tmp-" in p.name or ".old-" in p.name]
    assert left == []


def _digest(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def test_two_processes_pull_the_same_heads(hub, tmp_path: Path, zoo_dir: Path) -> None:
    from huggingface_hub import constants

    backbone = tmp_path / "tiny-backbone"
    tiny_bert(seed=0).save_pretrained(backbone)
    repos = []
    for i in range(PULL_REPOS):
        model = tiny_bert(seed=0)
        with torch.no_grad():
            torch.manual_seed(i)
            model.classifier.weight.normal_()
        repo = f"alice/concurrent-{i}"
        push_head(Head.from_model(model, task=f"task{i}", backbone=str(backbone), method="lora"), repo)
        repos.append(repo)
    sync = tmp_path / "sync"
    sync.mkdir()
    specs = [{"job": "pull", "me": me, "sync": str(sync), "repos": repos, "workers": len(WORKERS)}
             for me in WORKERS]
    first, second = _run_two(specs, _env(HF_HUB_CACHE=constants.HF_HUB_CACHE))
    assert first == second  # identical files for both
    entries = {e.task: e.path for e in headzoo.list_heads()}
    for i, repo in enumerate(repos):
        from_hub = {name: hashlib.sha256(hub.read_file(repo, name)).hexdigest() for name in FILES}
        assert first[repo] == from_hub  # ... and equal to what the Hub holds
        assert _digest(entries[f"task{i}"]) == from_hub  # the zoo got the same bytes
    _no_leftovers(zoo_dir)


def test_two_processes_save_the_same_entries(tmp_path: Path, zoo_dir: Path) -> None:
    heads = {}
    for seed, me in enumerate(WORKERS, start=1):
        model = tiny_bert(seed=0)
        with torch.no_grad():
            torch.manual_seed(seed)
            model.classifier.weight.normal_()
        heads[me] = Head.from_model(model, task="x", backbone="org/tiny", method="lora")
        heads[me].save(tmp_path / me)
    sync = tmp_path / "sync"
    sync.mkdir()
    specs = [{"job": "save", "me": me, "sync": str(sync), "head": str(tmp_path / me), "entries": ENTRIES,
              "workers": len(WORKERS)}
             for me in WORKERS]
    results = dict(zip(WORKERS, _run_two(specs, _env()), strict=True))

    def expected(me: str, task: str) -> dict[str, str]:
        head = Head.load(tmp_path / me)
        head.config.task = task
        return _digest(head.save(tmp_path / "expected" / me / task))

    for i in range(ENTRIES):
        task = f"keep{i}"
        outcomes = {me: results[me][task] for me in WORKERS}
        winners = [me for me, outcome in outcomes.items() if outcome == "saved"]
        assert len(winners) == 1, outcomes  # without overwrite: one wins ...
        losers = [me for me in WORKERS if me not in winners]
        assert all(outcomes[me].startswith("exists: ") and "overwrite=True" in outcomes[me]
                   for me in losers)  # ... the other is told
        entry = headzoo.zoo_path(task, "org/tiny", "lora")
        assert _digest(entry) == expected(winners[0], task)  # and the entry is the winner's, whole
    for i in range(ENTRIES):
        task = f"replace{i}"
        assert all(results[me][task] == "saved" for me in WORKERS)  # with overwrite: both succeed ...
        entry = _digest(headzoo.zoo_path(task, "org/tiny", "lora"))
        assert entry in [expected(me, task) for me in WORKERS]  # ... and the last one is there, whole
    _no_leftovers(zoo_dir)
