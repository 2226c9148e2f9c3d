"""headzoo.predict, Head.predict and `headzoo predict`: heads as classifiers on texts or on embeddings.

Unit tests run on a tiny BERT that declares a sentence embedding (sentence-transformers' modules.json);
the agreement with the real sentence-transformers library runs on the embedded all-MiniLM-L6-v2.
"""

from __future__ import annotations

import dataclasses
import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import headzoo
from headzoo import Head, HeadzooError, predict, save_to_zoo
from headzoo.backbone import load_classifier, load_sentence_classifier, load_tokenizer, resolve_backbone
from headzoo.cli import main
from headzoo.errors import BackboneMismatchError, ConfigError, DataError, HeadKindError
from headzoo.frozen import encode
from headzoo.naming import SENTENCE_EMBEDDING
from headzoo.predictions import REGRESSION, embedding_probabilities
from headzoo.tasks import dataset_task

from .tiny_task import one_thread, tiny_backbone_fixture, tiny_st_fixture  # noqa: F401

TEXTS = ["good fine nice", "bad awful poor", "table chair door", "great", "sad sad sad, really sad."]


def toy_task(multi: bool = False, name: str = "toy"):
    from datasets import Dataset

    words = {"pos": "good fine nice great", "neg": "bad awful poor sad", "neu": "table chair door"}
    rows = [{"text": f"{words[label]} {i}", "label": label}
            for i, label in enumerate(("pos", "neg", "neu")[i % 3] for i in range(36))]
    if multi:
        data = Dataset.from_list([{"text": r["text"], "labels": [r["label"]] + (["odd"] if i % 2 else [])}
                                  for i, r in enumerate(rows)])
        return dataset_task(data, name=name, text_columns="text", label_column="labels", validation_fraction=0.25)
    return dataset_task(Dataset.from_list(rows), "text", "label", name=name, validation_fraction=0.25)


def probe(backbone: Path | str, multi: bool = False, name: str = "toy") -> Head:
    return headzoo.pretrain_head(toy_task(multi, name), str(backbone), method="probe", feature=SENTENCE_EMBEDDING,
                                 save=False)


@pytest.fixture(scope="module")
def sentence_head(tiny_st: Path) -> Head:
    return probe(tiny_st)


@pytest.fixture(scope="module")
def multi_head(tiny_st: Path) -> Head:
    return probe(tiny_st, multi=True, name="toymulti")


@pytest.fixture(scope="module")
def sequence_head(tiny_st: Path) -> tuple[Head, Any]:
    """A sequence-classification head (the model's own path) on the same tiny checkpoint, and its model."""
    torch.manual_seed(3)
    labels = {0: "x", 1: "y"}
    model = load_classifier(resolve_backbone(str(tiny_st)), num_labels=2, id2label=labels,
                            label2id={v: k for k, v in labels.items()})
    return Head.from_model(model, task="seqtoy", backbone=str(tiny_st), method="lora"), model.eval()


def tiny_embeddings(tiny_st: Path, texts: list[str]) -> torch.Tensor:
    ref = resolve_backbone(str(tiny_st))
    return encode(load_sentence_classifier(ref, num_labels=1), load_tokenizer(ref), texts)


def regression_head(head: Head) -> Head:
    c = head.config
    tensors = {"classifier.weight": head.tensors["classifier.weight"][:1].clone(),
               "classifier.bias": head.tensors["classifier.bias"][:1].clone()}
    config = dataclasses.replace(c, task="score", num_labels=1, id2label={0: "score"}, problem_type="regression",
                                 tensors={k: list(v.shape) for k, v in tensors.items()}, output_layer=None)
    return Head(tensors, config)


# ------------------------------------------------------------------ texts and embeddings agree


def test_texts_and_their_embeddings_give_the_same_predictions(tiny_st: Path, sentence_head: Head) -> None:
    on_texts = predict(sentence_head, TEXTS)
    vectors = tiny_embeddings(tiny_st, TEXTS)
    for given in (vectors, vectors.numpy(), vectors.numpy().astype(np.float64), vectors.half()):
        on_vectors = predict(sentence_head, embeddings=given)
        assert on_vectors["toy"].predicted == on_texts["toy"].predicted
        np.testing.assert_allclose(on_vectors["toy"].probabilities, on_texts["toy"].probabilities,
                                   atol=1e-2 if given.dtype == torch.float16 else 1e-6)
    p = on_texts["toy"]
    assert p.probabilities.dtype == np.float32 and p.probabilities.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(p.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert p.labels == sentence_head.config.labels and p.kind == "single-label"
    assert p.predicted == [p.labels[i] for i in p.probabilities.argmax(axis=1)]


def test_logits_are_the_heads_matrix_product(tiny_st: Path, sentence_head: Head) -> None:
    x = tiny_embeddings(tiny_st, TEXTS).double()
    w = sentence_head.tensors["classifier.weight"].double()
    b = sentence_head.tensors["classifier.bias"].double()
    expected = torch.softmax(sentence_head.config.head_scale * (x @ w.T + b), dim=1).numpy()
    np.testing.assert_allclose(predict(sentence_head, embeddings=x)["toy"].probabilities, expected, atol=1e-5)
    np.testing.assert_allclose(sentence_head.predict(TEXTS)["toy"].probabilities, expected, atol=1e-5)


def test_many_sentence_heads_share_one_backbone_pass(tiny_st: Path, sentence_head: Head, multi_head: Head,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import headzoo.frozen

    calls: list[int] = []
    real = headzoo.frozen.encode

    def counting(model, tokenizer, texts, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real(model, tokenizer, texts, *args, **kwargs)

    monkeypatch.setattr(headzoo.frozen, "encode", counting)
    preds = predict([sentence_head, multi_head, regression_head(sentence_head)], TEXTS)
    assert calls == [len(TEXTS)]
    assert preds.names == ["toy", "toymulti", "score"]
    multi = preds["toymulti"]
    assert multi.kind == "multi-label" and all(isinstance(v, list) for v in multi.predicted)
    assert multi.predicted == [[label for label, p in zip(multi.labels, row, strict=True) if p > 0.5]
                               for row in multi.probabilities]
    assert np.all((multi.probabilities >= 0) & (multi.probabilities <= 1))
    assert preds["score"].kind == REGRESSION and all(isinstance(v, float) for v in preds["score"].predicted)
    calls.clear()
    chunked = predict([sentence_head, multi_head], TEXTS, chunk_size=2)  # texts in chunks: a pass per chunk
    assert calls == [2, 2, 1]
    for name in ("toy", "toymulti"):
        np.testing.assert_allclose(chunked[name].probabilities, preds[name].probabilities, atol=1e-6)


def test_chunks_give_the_same_result_in_bounded_memory(sentence_head: Head) -> None:
    rng = np.random.default_rng(0)
    small = rng.standard_normal((1000, 32)).astype(np.float32)
    whole = embedding_probabilities([sentence_head], small, chunk_size=10_000)[0]
    np.testing.assert_allclose(embedding_probabilities([sentence_head], small, chunk_size=7)[0], whole, atol=1e-6)
    rows = 400_000
    big = np.tile(small.astype(np.float64), (rows // 1000, 1))  # 102 MB of float64 input
    tracemalloc.start()
    try:
        out = predict(sentence_head, embeddings=big, chunk_size=2048)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result = rows * 3 * 4  # float32 probabilities: what the answer itself holds
    assert peak < result + 8 * 2**20, f"peak {peak / 2**20:.1f} MiB for {result / 2**20:.1f} MiB of results"
    np.testing.assert_allclose(out["toy"].probabilities[-1000:], whole, atol=1e-6)


def test_heads_side_by_side_in_blocks_equal_each_head_alone(sentence_head: Head, multi_head: Head,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import headzoo.predictions as predictions

    heads = [sentence_head, multi_head, regression_head(sentence_head)]
    x = np.random.default_rng(1).standard_normal((50, 32)).astype(np.float32)
    expected = []
    for head in heads:
        scale = np.float32(head.config.head_scale)
        w = head.tensors["classifier.weight"].numpy() * scale
        b = head.tensors["classifier.bias"].numpy() * scale
        expected.append(predictions.probabilities_of(x @ w.T + b, predictions.head_kind(head.config)))
    width = sum(h.config.num_labels for h in heads)
    monkeypatch.setattr(predictions, "LOGIT_BLOCK", 3 * width)  # blocks of 3 rows, across chunks of 7
    for chunk in (7, 1000):
        got = embedding_probabilities(heads, x, chunk_size=chunk)
        for head, mine, alone in zip(heads, got, expected, strict=True):
            assert mine.dtype == np.float32 and mine.flags.c_contiguous and mine.shape == (50, head.config.num_labels)
            np.testing.assert_allclose(mine, alone, atol=1e-6)
    weight, bias, columns = predictions.stacked_heads(heads)
    assert weight.shape == (32, width) and bias.shape == (width,)
    assert columns == [(0, 3), (3, 3 + multi_head.config.num_labels), (width - 1, width)]


def test_sequence_classification_heads_run_their_own_model(tiny_st: Path, sentence_head: Head,
                                                           sequence_head: tuple[Head, Any]) -> None:
    head, model = sequence_head
    tokenizer = load_tokenizer(resolve_backbone(str(tiny_st)))
    with torch.no_grad():
        expected = [torch.softmax(model(**tokenizer([t], return_tensors="pt")).logits, -1)[0].numpy() for t in TEXTS]
    preds = predict([head, sentence_head], TEXTS)  # one checkpoint: the fingerprints agree
    np.testing.assert_allclose(preds["seqtoy"].probabilities, np.stack(expected), atol=1e-5)
    np.testing.assert_allclose(preds["toy"].probabilities, predict(sentence_head, TEXTS)["toy"].probabilities)
    with pytest.raises(HeadKindError, match="pass texts instead") as info:
        predict([sentence_head, head], embeddings=np.zeros((2, 32), np.float32))
    assert "\n" not in str(info.value) and "seqtoy" in str(info.value)


def test_heads_by_name_from_the_zoo_and_a_folder(tiny_st: Path, sentence_head: Head, multi_head: Head,
                                                 tmp_path: Path) -> None:
    save_to_zoo(sentence_head)
    folder = multi_head.save(tmp_path / "multi")
    preds = headzoo.predict(["toy", str(folder)], TEXTS[:2], backbone=str(tiny_st))
    assert preds.names == ["toy", "toymulti"]
    assert preds["toy"].predicted == sentence_head.predict(TEXTS[:2])["toy"].predicted
    rows = preds.to_rows()
    assert [r["text"] for r in rows] == TEXTS[:2] and set(rows[0]) >= {"toy", "toymulti", "toy:neg"}
    assert "toy" in preds.table() and len(preds.table().splitlines()) == 3
    one = predict([sentence_head, multi_head], TEXTS[0]).table().splitlines()  # one text: a row per head
    assert one[0].split() == ["head", "prediction", "probability"] and len(one) == 3
    assert predict([sentence_head, sentence_head], TEXTS[:1]).names == ["toy/probe", "toy/probe#2"]


# ------------------------------------------------------------------ bad input: one typed line, nothing written

GOOD = np.zeros((3, 32), np.float32)


def _nan(row: int) -> np.ndarray:
    bad = np.ones((5, 32), np.float32)
    bad[row, 4] = np.nan
    return bad


BAD_EMBEDDINGS: list[tuple[Any, type[Exception], str]] = [
    (np.zeros((3, 768), np.float32), BackboneMismatchError, "768 wide but head toy/probe reads the 32-wide"),
    (np.zeros((3, 32), np.int64), DataError, "dtype int64"),
    (torch.zeros((3, 32), dtype=torch.int32), DataError, "dtype torch.int32"),
    (np.zeros((3, 32), bool), DataError, "dtype bool"),
    (np.zeros((3, 32), object), DataError, "dtype object"),
    (np.zeros((3, 32), np.complex64), DataError, "dtype complex64"),
    ([[1.0, 2.0], [3.0]], DataError, "numpy cannot read"),
    (_nan(3), DataError, "row 3 holds NaN"),
    (np.full((2, 32), np.inf, np.float32), DataError, "row 0 holds inf"),
    (torch.tensor(_nan(4)), DataError, "row 4 holds NaN"),
    (np.zeros((0, 32), np.float32), DataError, "no embeddings to predict"),
    (np.zeros(32, np.float32), DataError, "must be 2-D (rows, width), got shape (32,) (one vector?"),
    (np.zeros((2, 3, 32), np.float32), DataError, "got shape (2, 3, 32)"),
]


@pytest.mark.parametrize(("embeddings", "error", "says"), BAD_EMBEDDINGS,
                         ids=[s[:30] for _, _, s in BAD_EMBEDDINGS])
def test_bad_embeddings_are_one_line_errors(sentence_head: Head, zoo_dir: Path, embeddings: Any,
                                            error: type[Exception], says: str) -> None:
    before = {k: v.clone() for k, v in sentence_head.tensors.items()}
    with pytest.raises(error) as info:
        predict(sentence_head, embeddings=embeddings, chunk_size=2)
    assert says in str(info.value) and "\n" not in str(info.value) and isinstance(info.value, HeadzooError)
    assert not zoo_dir.exists() and all(torch.equal(before[k], v) for k, v in sentence_head.tensors.items())


def test_the_width_error_names_the_backbone(sentence_head: Head) -> None:
    with pytest.raises(BackboneMismatchError, match=r"32-wide sentence embedding of '/.*tiny-st'"):
        sentence_head.predict(embeddings=np.zeros((1, 384), np.float32))


BAD_CALLS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"texts": TEXTS, "embeddings": GOOD}, ConfigError, "both texts and embeddings"),
    ({}, ConfigError, "neither texts and embeddings"),
    ({"texts": []}, DataError, "no texts to predict"),
    ({"texts": ["fine", "  "]}, DataError, "text 1 is blank"),
    ({"texts": ["fine", 3]}, DataError, "text 1 is a int"),
    ({"texts": TEXTS, "batch_size": 0}, ConfigError, "batch_size must be a positive integer"),
    ({"embeddings": GOOD, "chunk_size": -1}, ConfigError, "chunk_size must be a positive integer"),
    ({"embeddings": GOOD, "backbone": "minilm"}, BackboneMismatchError, "not the given 'minilm'"),
]


@pytest.mark.parametrize(("kwargs", "error", "says"), BAD_CALLS, ids=[s[:30] for _, _, s in BAD_CALLS])
def test_bad_calls_are_one_line_errors(sentence_head: Head, zoo_dir: Path, kwargs: dict[str, Any],
                                       error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says.replace("(", r"\(")) as info:
        predict(sentence_head, **kwargs)
    assert "\n" not in str(info.value) and not zoo_dir.exists()


def test_heads_of_two_backbones_are_refused(tiny_st: Path, tiny_backbone: Path, sentence_head: Head) -> None:
    other = dataclasses.replace(sentence_head.config, task="other", backbone="org/another",
                                backbone_fingerprint="sha256:0000000000000000")
    with pytest.raises(BackboneMismatchError, match="head other/probe is for backbone 'org/another' but head "
                                                    "toy/probe is for"):
        predict([sentence_head, Head(sentence_head.tensors, other)], embeddings=GOOD)
    with pytest.raises(ConfigError, match="no heads to predict"):
        predict([], embeddings=GOOD)


# ------------------------------------------------------------------ the command line

def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def head_dirs(sentence_head: Head, multi_head: Head, tmp_path: Path) -> list[str]:
    return [str(sentence_head.save(tmp_path / "toy")), str(multi_head.save(tmp_path / "multi"))]


def test_cli_prints_one_row_per_head_for_one_text(head_dirs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["predict", *head_dirs, "--text", TEXTS[0], "--no-progress"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["head", "prediction", "probability"]
    assert [line.split()[0] for line in lines[1:]] == ["toy", "toymulti"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_cli_writes_a_file_with_a_column_per_head(head_dirs: list[str], sentence_head: Head, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"review": t, "id": i}) + "\n" for i, t in enumerate(TEXTS)))
    out_file = tmp_path / f"out{suffix}"
    code, out, err = _run(["predict", *head_dirs, "--file", str(source), "--text-column", "review",
                           "--output", str(out_file)], capsys)
    assert code == 0, err
    assert f"wrote {len(TEXTS)} row(s) with 2 head(s) (toy, toymulti)" in out
    expected = sentence_head.predict(TEXTS)["toy"].predicted
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in out_file.read_text().splitlines()]
        assert [r["toy"] for r in rows] == expected and all(isinstance(r["toymulti"], list) for r in rows)
    else:
        import csv

        with out_file.open(newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ","))
        assert [r["toy"] for r in rows] == expected and [r["text"] for r in rows] == TEXTS
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.jsonl", out_file.name, "toy", "multi"])


#: (file contents or None for no file, extra arguments, what the one error line says)
CLI_REFUSED: list[tuple[str | None, list[str], str]] = [
    (None, [], "no file at"),
    ("text,label\n", [], "has no rows of texts"),
    ("", [], "is empty: give a file with a header row"),
    ("body,label\nfine,a\n", [], "has no text column 'text' (line 2 has ['body', 'label'])"),
    ("text,label\nfine,a\n,b\n", [], "line 3: the text column 'text' is empty"),
    ("text,label\n" + "fine,a\n" * 5, ["--max-rows", "4"], "has more than 4 rows: raise the limit with --max-rows"),
    ("text,label\n" + "fine,a\n" * 5, ["--max-file-mb", "0.00001"], "over the limit of 1e-05 MiB: raise it with "
                                                                    "--max-file-mb"),
    ("text,label\nfine,a\n", ["--output", "{tmp}/out.xlsx"], "has suffix '.xlsx', which headzoo predict does not"),
    ("text,label\nfine,a\n", ["--output", "{tmp}/no/dir/out.csv"], "does not exist; create it first"),
    ("text,label\nfine,a\n", ["--text", "also this"], "give texts with --text (repeatable) or a file with --file"),
]


@pytest.mark.parametrize(("content", "extra", "says"), CLI_REFUSED, ids=[s[:30] for _, _, s in CLI_REFUSED])
def test_cli_refusals_are_one_line_and_write_nothing(head_dirs: list[str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str], content: str | None,
                                                     extra: list[str], says: str) -> None:
    source = tmp_path / "in.csv"
    if content is not None:
        source.write_text(content)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    output = [] if "--output" in extra else ["--output", str(tmp_path / "out.csv")]
    args = ["predict", *head_dirs, "--file", str(source), *[a.format(tmp=tmp_path) for a in extra], *output]
    code, out, err = _run(args, capsys)
    assert code == 1 and not out
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and says in errors[0], err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_cli_refuses_too_many_texts(head_dirs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["predict", head_dirs[0], "--text", "a", "--text", "b", "--max-rows", "1"], capsys)
    assert code == 1 and "2 texts is more than the limit of 1 rows: raise it with --max-rows" in err


# ------------------------------------------------------------------ the real sentence-transformers


SENTENCES = ["A wonderful, heartfelt film.", "The plot was dull and the acting worse.", "ok",
             "Win a FREE cruise!!! Reply now to claim your prize " * 40,  # past the 256-token limit
             "Der Film war großartig.", "🙂 fine by me"]


@pytest.fixture(scope="module")
def minilm_head(minilm_path: Path) -> Head:
    return probe("minilm")


@pytest.fixture(scope="module")
def st_model(minilm_path: Path) -> Any:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    return sentence_transformers.SentenceTransformer(str(minilm_path), device="cpu")


def test_minilm_embeddings_agree_with_sentence_transformers(minilm_path: Path, st_model: Any) -> None:
    ref = resolve_backbone("minilm")
    ours = encode(load_sentence_classifier(ref, num_labels=1), load_tokenizer(ref), SENTENCES).numpy()
    theirs = st_model.encode(SENTENCES)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=1e-4)


def test_minilm_predictions_on_texts_equal_those_on_sentence_transformers_vectors(minilm_head: Head,
                                                                                   st_model: Any) -> None:
    on_texts = headzoo.predict(minilm_head, SENTENCES)["toy"]
    for vectors in (st_model.encode(SENTENCES), st_model.encode(SENTENCES, convert_to_tensor=True)):
        on_vectors = headzoo.predict([minilm_head], embeddings=vectors, backbone="minilm")["toy"]
        assert on_vectors.predicted == on_texts.predicted
        np.testing.assert_allclose(on_vectors.probabilities, on_texts.probabilities, atol=1e-5)
    with pytest.raises(BackboneMismatchError, match="reads the 384-wide sentence embedding of "
                                                    "'sentence-transformers/all-MiniLM-L6-v2'"):
        headzoo.predict(minilm_head, embeddings=np.zeros((2, 768), np.float32))


DOC = Path(__file__).resolve().parents[1] / "docs" / "vectors.md"


def test_the_vectors_page_example_runs(minilm_path: Path) -> None:
    """The page's example, as written, on the shipped heads (an empty user zoo)."""
    import re

    pytest.importorskip("sentence_transformers")
    block = re.search(r"<!-- tested: vectors -->\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block, "docs/vectors.md has no tested python block"
    code = block.group(1).replace('"sentence-transformers/all-MiniLM-L6-v2"', repr(str(minilm_path)))
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    rows = namespace["rows"]
    assert len(rows) == len(namespace["texts"])
    assert rows[0]["sst2"] == "positive" and rows[0]["sms_spam"] == "ham" and rows[1]["sms_spam"] == "spam"
    assert rows[2]["stackoverflow_topic"] == "wordpress"
