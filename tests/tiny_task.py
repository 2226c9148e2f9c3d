"""A tiny backbone and a tiny custom task that train in seconds on a CPU (fixtures for the reliability tests).

Use: ``from .tiny_task import one_thread, tiny_backbone_fixture, toy_csv_fixture  # noqa: F401``; the
fixtures are named ``tiny_backbone`` and ``toy_csv``, and ``one_thread`` (autouse) runs torch on one thread.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads; one thread avoids oversubscription on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", name="tiny_backbone")
def tiny_backbone_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT (hidden 32) with a character-level tokenizer, saved like a pretrained checkpoint."""
    from transformers import BertConfig, BertModel, BertTokenizer

    chars = list(string.ascii_lowercase + string.digits + ".,'!?-")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars)]
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=37, max_position_embeddings=64)
    torch.manual_seed(1234)
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(path)
    BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(path)
    return path


@pytest.fixture(scope="module", name="toy_csv")
def toy_csv_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 labelled rows: 72 train and 8 validation, so batch 8 gives 9 steps per epoch."""
    rng = random.Random(0)
    path = tmp_path_factory.mktemp("toy-data") / "toy.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for i in range(80):
            label = rng.choice(["pos", "neg"])
            writer.writerow([("good fine nice " if label == "pos" else "bad awful poor ") + str(i), label])
    return path


#: sentence-transformers' ``modules.json`` of a checkpoint that mean-pools and normalises.
ST_MODULES = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
              {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
              {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]


@pytest.fixture(scope="module", name="tiny_st")
def tiny_st_fixture(tmp_path_factory: pytest.TempPathFactory, tiny_backbone: Path) -> Path:
    """The tiny BERT with sentence-transformers' declaration: mean pooling, normalised, max_seq_length 48."""
    import json
    import shutil

    folder = tmp_path_factory.mktemp("st") / "tiny-st"
    shutil.copytree(tiny_backbone, folder)
    (folder / "modules.json").write_text(json.dumps(ST_MODULES))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (folder / "sentence_bert_config.json").write_text('{"max_seq_length": 48}')
    return folder


def compare_under_torchrun(backbone: Path, data_dir: Path, out: Path, *extra: str, limit: int = 32,
                           batch: int = 8) -> tuple[str, list[dict]]:
    """``headzoo compare cb`` (FT and EH-FT with LoRA, 2 epochs) under ``torchrun --nproc_per_node 2`` (gloo on
    CPU); asserts it succeeded and returns its stdout and the runs it recorded."""
    import json
    import os
    import shutil
    import socket
    import subprocess
    import sys

    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    with socket.socket() as probe:  # a free port: the default one may still be held by the previous run
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.run(
        [torchrun, "--nproc_per_node", "2", "--master-port", str(port), "-m", "headzoo.cli", "compare", "cb",
         "--backbone", str(backbone),
         "--limit", str(limit), "--seeds", "1", "--epochs", "2", "--strategies", "ft,eh-ft", "--methods", "lora",
         "--batch-size", str(batch), "--max-length", "48", "--data-dir", str(data_dir), "--out", str(out),
         "--no-progress", *extra],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [json.loads(line)["result"] for line in (out / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["strategy"] for r in runs) == ["eh-ft", "ft"]
    for r in runs:
        assert r["settings"]["world_size"] == 2 and r["machine"]["world_size"] == 2
        assert r["steps_per_epoch"] == limit // (batch * 2)  # the global batch is 2 x batch
    assert proc.stdout.count("run(s) trained") == 1  # only rank 0 reports
    return proc.stdout, runs
