"""headzoo.frozen: probes and imprints fitted on frozen sentence embeddings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from headzoo.errors import DataError
from headzoo.frozen import encode, fit_probe, set_head
from headzoo.sentence_model import SentenceEmbeddingForSequenceClassification


def separable(n: int = 40, d: int = 6, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, d)) * 0.1
    x[np.arange(n), y] += 1.0
    return x, y


def test_a_probe_separates_separable_classes() -> None:
    x, y = separable()
    weight, bias = fit_probe(x, y, num_labels=3)
    assert weight.shape == (3, 6) and bias.shape == (3,)
    assert ((x @ weight.T + bias).argmax(1) == y).all()


def test_a_two_class_probe_gives_the_same_decisions_as_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = separable(classes=2, seed=1)
    x += np.random.default_rng(2).normal(size=x.shape)  # not separable: decisions can differ
    weight, bias = fit_probe(x, y, num_labels=2)
    reference = LogisticRegression(max_iter=2000).fit(x, y)
    np.testing.assert_array_equal((x @ weight.T + bias).argmax(1), reference.predict(x))
    np.testing.assert_allclose(weight[1] - weight[0], reference.coef_[0])


def test_a_class_without_rows_is_never_predicted_over_the_others() -> None:
    x, y = separable(classes=2)
    weight, bias = fit_probe(x, y, num_labels=3)
    assert (weight[2] == 0).all()
    assert ((x @ weight.T + bias).argmax(1) != 2).all()


def test_multi_label_and_regression_probes() -> None:
    x, y = separable(classes=3)
    rows = np.eye(3)[y]
    rows[:, 2] = 1.0  # a label every row has
    weight, bias = fit_probe(x, rows, num_labels=3, problem_type="multi_label_classification")
    predicted = (x @ weight.T + bias) > 0
    np.testing.assert_array_equal(predicted, rows > 0.5)
    scores = x @ np.array([1.0, 2.0, 0, 0, 0, 0]) + 0.5
    weight, bias = fit_probe(x, scores, num_labels=1, problem_type="regression", c=1e6)
    np.testing.assert_allclose(x @ weight.T + bias, scores.reshape(-1, 1), atol=1e-3)


@pytest.mark.parametrize(("x", "y", "quoted"), [
    (np.zeros((0, 3)), [], "shape (0, 3)"),
    (np.zeros((3, 2)), [0, 1], "3 embeddings but 2 labels"),
    (np.zeros((3, 2)), [1, 1, 1], "only class [1]"),
])
def test_bad_probe_input_is_a_data_error(x, y, quoted: str) -> None:
    with pytest.raises(DataError) as info:
        fit_probe(x, y, num_labels=2)
    assert quoted in str(info.value)


@pytest.fixture
def tiny_st(tmp_path: Path, tiny_backbone: Path) -> Path:
    folder = tmp_path / "tiny-st"
    shutil.copytree(tiny_backbone, folder)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    return folder


def test_encode_keeps_the_order_and_matches_one_batch(tiny_st: Path) -> None:
    from transformers import AutoTokenizer

    model = SentenceEmbeddingForSequenceClassification.from_backbone(str(tiny_st), num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(tiny_st)
    texts = ["a much longer text than the others is here", "short", "a middle one", "x"]
    vectors = encode(model.train(), tokenizer, texts, batch_size=2)
    assert model.training  # restored
    model.eval()
    for text, vector in zip(texts, vectors, strict=True):
        with torch.no_grad():
            alone = model.embed(**tokenizer([text], return_tensors="pt"))[0]
        torch.testing.assert_close(vector, alone, rtol=1e-5, atol=1e-5)
    with pytest.raises(DataError, match="no texts"):
        encode(model, tokenizer, [])


def test_set_head_gives_the_fitted_logits(tiny_st: Path) -> None:
    from transformers import AutoTokenizer

    model = SentenceEmbeddingForSequenceClassification.from_backbone(str(tiny_st), num_labels=2).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_st)
    texts = ["the film was good", "it is not", "she was a bad one", "good good"]
    x = encode(model, tokenizer, texts)
    weight, bias = fit_probe(x, [1, 0, 0, 1], num_labels=2)
    set_head(model, weight, bias)
    with torch.no_grad():
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    np.testing.assert_allclose(logits.numpy(), x.numpy() @ weight.T + bias, rtol=1e-4, atol=1e-4)
    with pytest.raises(DataError, match="does not fit"):
        set_head(model, np.zeros((3, 32)), np.zeros(3))
