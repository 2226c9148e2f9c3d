"""headzoo suggest: ranking the heads of a backbone on a sample of your data (issue 17 item 3)."""

from __future__ import annotations

import csv
import dataclasses
import random
from pathlib import Path

import pytest

from headzoo import ConfigError, DataError, Head, LabelMismatchError, list_heads, pretrain_head, suggest_heads
from headzoo.cli import main
from headzoo.suggest import IMPRINT_CANDIDATE, format_suggestions
from headzoo.tasks import custom_task
from headzoo.zoo import zoo_path

WORDS = {"pos": "good fine nice great ", "neg": "bad awful poor sad ", "meh": "the a is it of "}


def _write(path: Path, labels: list[str], n: int = 90, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for i in range(n):
            label = labels[i % len(labels)]
            writer.writerow([WORDS[label] * rng.randint(1, 3) + str(i), label])
    return path


@pytest.fixture
def three(tmp_path: Path) -> Path:
    return _write(tmp_path / "three.csv", ["pos", "neg", "meh"])


@pytest.fixture
def zoo_heads(tmp_path: Path, tiny_backbone: Path) -> dict[str, Head]:
    """In the user zoo: 'senti' (negative/positive, imprinted on its own data), 'flipped' (the same rows with
    the names swapped), 'topics' (no label in common) and a regression head."""
    backbone = str(tiny_backbone)
    two = tmp_path / "senti.csv"
    with open(two, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for i in range(60):
            label = "positive" if i % 2 else "negative"
            writer.writerow([WORDS["pos" if i % 2 else "neg"] * (1 + i % 3) + str(i), label])
    senti = pretrain_head(custom_task(two, "text", "label", name="senti"), backbone, "imprint")
    cfg = senti.config
    flipped = Head(senti.tensors, dataclasses.replace(cfg, task="flipped", id2label={0: "positive", 1: "negative"}))
    flipped.save(zoo_path("flipped", backbone, "imprint"))
    topics = Head(senti.tensors, dataclasses.replace(cfg, task="topics", id2label={0: "sports", 1: "politics"}))
    topics.save(zoo_path("topics", backbone, "imprint"))
    weight = senti.tensors["classifier.weight"][:1]
    bias = senti.tensors["classifier.bias"][:1]
    reg = Head({"classifier.weight": weight, "classifier.bias": bias},
               dataclasses.replace(cfg, task="score", num_labels=1, id2label={0: "LABEL_0"}, problem_type="regression",
                                   tensors={"classifier.weight": list(weight.shape), "classifier.bias": [1]}))
    reg.save(zoo_path("score", backbone, "imprint"))
    return {"senti": senti, "flipped": flipped}


LABEL_MAP = {"neg": "negative", "pos": "positive"}


def test_ranks_heads_and_reports_label_fit(three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head]) -> None:
    ranked = suggest_heads(custom_task(three, "text", "label"), str(tiny_backbone), label_map=LABEL_MAP, sample=60)
    names = [s.source for s in ranked]
    assert sorted(names) == sorted(["senti/imprint", "flipped/imprint", IMPRINT_CANDIDATE])
    assert names.index("senti/imprint") < names.index("flipped/imprint")
    assert [s.rank for s in ranked] == [1, 2, 3]
    by = {s.source: s for s in ranked}
    senti = by["senti/imprint"]
    assert senti.label_fit == "2 of 3 rows from senti/imprint (neg=negative, pos=positive); new: meh"
    assert senti.rows_from_head == 2 and senti.origin == "user" and senti.head_path is not None
    assert senti.label_map == LABEL_MAP and senti.label_match is not None
    assert by[IMPRINT_CANDIDATE].head_path is None and by[IMPRINT_CANDIDATE].rows_from_head == 0
    keys = [(-s.rows_from_head, -s.macro_f1) for s in ranked]  # label coverage first, then macro-F1
    assert keys == sorted(keys)
    assert all(0 <= s.accuracy <= 1 and 0 <= s.macro_f1 <= 1 and s.examples == 30 for s in ranked)
    # the loss stage 2 would begin at: finite, and higher for the head whose names are swapped
    assert all(s.cross_entropy is not None and 0 <= s.cross_entropy < float("inf") for s in ranked)
    assert senti.cross_entropy < by["flipped/imprint"].cross_entropy
    assert senti.to_dict()["cross_entropy"] == senti.cross_entropy
    assert {line.split(" (")[0] for line in ranked.skipped} == {"topics/imprint", "score/imprint"}
    table = format_suggestions(ranked)
    assert "senti/imprint (user)" in table and "macro-F1" in table


def test_candidates_label_fits_are_in_the_ranking_not_the_log(three: Path, tiny_backbone: Path,
                                                              zoo_heads: dict[str, Head],
                                                              caplog: pytest.LogCaptureFixture) -> None:
    import logging

    head_log = logging.getLogger("headzoo.head")
    level = head_log.level
    with caplog.at_level(logging.INFO):
        ranked = suggest_heads(custom_task(three, "text", "label"), str(tiny_backbone), label_map=LABEL_MAP,
                               sample=60)
    fits = {s.label_fit for s in ranked if s.head_path is not None}
    assert "2 of 3 rows from senti/imprint (neg=negative, pos=positive); new: meh" in fits
    logged = [r.getMessage() for r in caplog.records if r.name == "headzoo.head"]
    assert not [m for m in logged if m in fits], logged
    assert any(r.name == "headzoo.suggest" and "candidate(s) ranked" in r.getMessage() for r in caplog.records)
    assert head_log.level == level  # the shared logger is left as it was: loading a head alone still reports
    from headzoo.backbone import load_classifier, resolve_backbone

    spec, _ = custom_task(three, "text", "label")
    model = load_classifier(resolve_backbone(str(tiny_backbone)), num_labels=3, id2label=dict(spec.id2label),
                            label2id=dict(spec.label2id))
    with caplog.at_level(logging.INFO):
        zoo_heads["senti"].apply(model, label_map=LABEL_MAP)
    assert any(r.name == "headzoo.head" and "new: meh" in r.getMessage() for r in caplog.records)


def test_the_backbone_runs_once_over_the_sample(three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers.models.bert import modeling_bert

    seen: list[int] = []
    real = modeling_bert.BertModel.forward

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        ids = kwargs.get("input_ids", args[0] if args else None)
        seen.append(int(ids.shape[0]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(modeling_bert.BertModel, "forward", counting)
    ranked = suggest_heads(custom_task(three, "text", "label"), str(tiny_backbone), label_map=LABEL_MAP, sample=40,
                           batch_size=8)
    assert len(ranked) == 3
    assert sum(seen) == 40  # every example once, however many heads were scored
    assert len(seen) == 5  # halves A and B batched together: 40 examples in batches of 8


def test_writes_nothing_and_model_unchanged(three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head],
                                            zoo_dir: Path) -> None:
    from headzoo.backbone import load_classifier, resolve_backbone

    spec, data = custom_task(three, "text", "label")
    model = load_classifier(resolve_backbone(str(tiny_backbone)), num_labels=3, id2label=dict(spec.id2label),
                            label2id=dict(spec.label2id))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    files = sorted(p for p in zoo_dir.rglob("*") if p.is_file())
    ranked = suggest_heads((spec, data), model=model, sample=30)
    assert ranked[0].rank == 1
    assert all(v.equal(before[k]) for k, v in model.state_dict().items())
    assert "forward" not in vars(model.bert)
    assert sorted(p for p in zoo_dir.rglob("*") if p.is_file()) == files


def _one_class_train(three: Path) -> tuple:
    spec, data = custom_task(three, "text", "label")
    data["train"] = data["train"].filter(lambda row: row["label"] == 0)
    return spec, data


def _empty_text(three: Path) -> tuple:
    spec, data = custom_task(three, "text", "label")
    data["train"] = data["train"].map(lambda row, i: {"text_a": "  " if i == 3 else row["text_a"]}, with_indices=True)
    return spec, data


#: Bad inputs to suggest: each a one-line HeadzooError, nothing changed (rows of docs/reliability.md).
REFUSED = {
    "one class in the training data": (_one_class_train, {}, DataError, "at least two classes"),
    "an empty text": (_empty_text, {}, DataError, "empty text"),
    "a label_map naming a label you do not have": (
        lambda p: custom_task(p, "text", "label"), {"label_map": {"nope": "negative"}}, LabelMismatchError,
        "not among your labels"),
    "a label_map naming a label no head has": (
        lambda p: custom_task(p, "text", "label"), {"label_map": {"neg": "nope"}}, LabelMismatchError,
        "no candidate head"),
    "a sample too small": (lambda p: custom_task(p, "text", "label"), {"sample": 2}, ConfigError, "sample"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_inputs_are_one_line_errors(case: str, three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head],
                                        zoo_dir: Path) -> None:
    make, kwargs, error, words = REFUSED[case]
    files = sorted(p for p in zoo_dir.rglob("*") if p.is_file())
    with pytest.raises(error, match=words) as info:
        suggest_heads(make(three), str(tiny_backbone), sample=kwargs.pop("sample", 60), **kwargs)
    assert "\n" not in str(info.value)
    assert sorted(p for p in zoo_dir.rglob("*") if p.is_file()) == files


#: `headzoo suggest` command lines that must end in one `error:` line (rows of docs/reliability.md).
CLI_REFUSED = {
    "a file with one class": ("one", []),
    "a file with an empty text": ("empty", []),
    "an unknown label in --label-map": ("three", ["--label-map", "zzz=negative"]),
    "no data at all": (None, []),
}


@pytest.mark.parametrize("case", sorted(CLI_REFUSED))
def test_cli_refusals_are_one_line(case: str, tmp_path: Path, three: Path, tiny_backbone: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    files = {"three": three, "one": tmp_path / "one.csv", "empty": tmp_path / "empty.csv"}
    files["one"].write_text("text,label\ngood,pos\nfine,pos\nnice,pos\ngreat,pos\n", encoding="utf-8")
    files["empty"].write_text("text,label\ngood,pos\n,neg\nfine,pos\nbad,neg\n", encoding="utf-8")
    name, extra = CLI_REFUSED[case]
    argv = ["suggest"] if name is None else ["suggest", "--backbone", str(tiny_backbone), "--text-column", "text",
                                             "--label-column", "label", "--data-file", str(files[name]), *extra]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)


def test_cli_prints_the_table(three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head],
                              capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["suggest", "--backbone", str(tiny_backbone), "--data-file", str(three), "--text-column", "text",
            "--label-column", "label", "--label-map", "neg=negative,pos=positive", "--sample", "60"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "rank" in out and "senti/imprint (user)" in out and "imprint" in out
    assert "2 of 3 rows from senti/imprint (neg=negative, pos=positive); new: meh" in out


def test_finetune_from_auto_end_to_end(three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["finetune", "mine", "--backbone", str(tiny_backbone), "--data-file", str(three), "--text-column", "text",
            "--label-column", "label", "--from", "auto", "--label-map", "neg=negative,pos=positive",
            "--epochs", "1", "--batch-size", "16", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    took = [line for line in out.splitlines() if line.startswith("--from auto took ")]
    assert len(took) == 1 and "suggestion 1" in took[0]
    top = suggest_heads(custom_task(three, "text", "label", name="mine"), str(tiny_backbone), label_map=LABEL_MAP)[0]
    assert top.name in took[0]


def test_finetune_auto_imprints_when_no_head_fits(three: Path, tiny_backbone: Path) -> None:
    from headzoo import finetune

    assert list_heads(source="user") == []
    result = finetune(custom_task(three, "text", "label"), str(tiny_backbone), strategy="eh-ft", head="auto",
                      epochs=1, batch_size=16)
    assert result.method == "imprint"
    assert result.stage1["suggested"].startswith("--from auto took imprint")
    with pytest.raises(ConfigError, match="eh-ft"):
        finetune(custom_task(three, "text", "label"), str(tiny_backbone), strategy="ft", head="auto", epochs=1)


def test_finetune_starts_from_auto_by_default(three: Path, tiny_backbone: Path, zoo_heads: dict[str, Head],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """No strategy, method or head: the top suggestion (here the user's zoo head), never a random head."""
    from headzoo import finetune

    task = custom_task(three, "text", "label", name="mine")
    result = finetune(task, str(tiny_backbone), label_map=LABEL_MAP, epochs=1, batch_size=16)
    top = suggest_heads(task, str(tiny_backbone), label_map=LABEL_MAP)[0]
    assert result.strategy == "eh-ft"
    assert result.stage1["suggested"].startswith(f"--from auto took {top.name}")
    argv = ["finetune", "mine", "--backbone", str(tiny_backbone), "--data-file", str(three), "--text-column", "text",
            "--label-column", "label", "--label-map", "neg=negative,pos=positive", "--epochs", "1",
            "--batch-size", "16", "--no-progress"]
    assert main(argv) == 0
    assert f"--from auto took {top.name}" in capsys.readouterr().out
    explicit = finetune(task, str(tiny_backbone), strategy="ft", epochs=1, batch_size=16)
    assert explicit.strategy == "ft" and not (explicit.stage1 or {}).get("suggested")


def test_finetune_default_on_regression_is_the_papers_eh_ft(tiny_backbone: Path, tmp_path: Path) -> None:
    """suggest ranks single-label classification heads only: a regression task's default is EH-FT with LoRA."""
    from headzoo import finetune

    path = tmp_path / "scores.csv"
    path.write_text("text,score\n" + "".join(f"text number {i},{i % 5 / 4}\n" for i in range(40)), encoding="utf-8")
    result = finetune(custom_task(path, "text", "score", problem_type="regression"), str(tiny_backbone), epochs=1,
                      batch_size=16)
    assert (result.strategy, result.method) == ("eh-ft", "lora")
    assert not (result.stage1 or {}).get("suggested")


SENTIMENT_TASKS = {"sst2", "vader_tweet_sentiment", "vader_product_review_sentiment",
                   "vader_news_editorial_sentiment"}


def test_minilm_ranks_a_sentiment_head_first_on_a_sentiment_csv(tmp_path: Path, minilm_path: Path, data_dir: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`headzoo suggest` on a sentiment CSV (SST-2's dev sentences, labelled Positive/Negative) puts a sentiment
    head first among every shipped head, above an imprint of the same data. The zoo build reads that split
    only for its checks, never to train."""
    shipped = [e for e in list_heads(backbone="minilm", source="shipped") if e.task in SENTIMENT_TASKS]
    assert shipped, "the shipped zoo has no sentiment head for MiniLM (headzoo zoo build)"
    path = tmp_path / "reviews.csv"
    with open(data_dir / "glue" / "SST-2" / "dev.tsv", encoding="utf-8") as src, \
            open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "sentiment"])
        for line in list(src)[1:]:
            text, label = line.rstrip("\n").split("\t")
            writer.writerow([text, "Positive" if label == "1" else "Negative"])
    assert main(["suggest", "--data-file", str(path), "--text-column", "text", "--label-column", "sentiment"]) == 0
    first = capsys.readouterr().out.splitlines()[1].split()
    assert first[0] == "1" and first[1].split("/")[0] in SENTIMENT_TASKS, first
    ranked = suggest_heads(custom_task(path, "text", "sentiment"), "minilm")
    assert ranked[0].source.split("/")[0] in SENTIMENT_TASKS
    assert ranked[0].label_fit.startswith("2 of 2 rows from ")
    assert ranked[0].macro_f1 > next(s.macro_f1 for s in ranked if s.origin == "imprint")
    others = [line for line in ranked.skipped if line.split("/")[0] not in SENTIMENT_TASKS]
    assert len(others) >= 10  # every other shipped head was looked at: no label in common, or regression


def test_rank_suggestions_puts_label_coverage_first_then_macro_f1() -> None:
    from headzoo.suggest import Suggestion, rank_suggestions

    imprint = Suggestion(0, "imprint", "imprint", "", 0.90, 0.900, 0, 1000)
    one_row = Suggestion(0, "cb/probe", "shipped", "", 0.55, 0.470, 1, 100)
    close = Suggestion(0, "sst2/probe", "shipped", "", 0.55, 0.460, 2, 100)
    far = Suggestion(0, "rte/lora", "shipped", "", 0.40, 0.300, 2, 100)
    assert [s.source for s in rank_suggestions([imprint, one_row, far, close])] == [
        "sst2/probe", "rte/lora", "cb/probe", "imprint"]
    assert [s.source for s in rank_suggestions([imprint])] == ["imprint"]  # no head shares a label
    assert rank_suggestions([]) == []
