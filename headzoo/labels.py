"""Matching a head's labels to a model's: by name, through an explicit map, or by position.

The rules (:func:`match_labels`):

- Labels match **by name, ignoring case and surrounding whitespace**: a model
  whose labels are ``Positive`` / ``Negative`` takes an SST-2 head's
  ``negative`` / ``positive`` rows, each to its own output.
- ``label_map`` renames, in one direction: **model label -> head label**
  (``{"neg": "negative", "pos": "positive"}``; CLI ``--label-map neg=negative,pos=positive``).
  A model label the map does not name still matches by name.
- **Partial overlap is allowed**: the matched rows are copied, the model's other
  outputs keep their own initialisation (or are imprinted from data, see
  :mod:`headzoo.imprint`), and head labels the model lacks are left out.
  :attr:`LabelMatch.report` says so in one line:
  ``"2 of 3 rows from sst2/lora (negative, positive); new: neutral"``.
- Transformers' default names (``LABEL_0``...) carry no meaning: with the same
  number of outputs on both sides the rows go by position (and a model with
  default names takes the head's); with different numbers they cannot be matched.
- Regression heads (one output) go to regression models only, and back.

Refusals are :class:`~headzoo.errors.LabelMismatchError` naming the labels of
both sides: a map that names a label its side does not have, two model labels
that would take the same head row, no overlap at all. Nothing here touches a
model; :meth:`headzoo.Head.apply` checks first and changes nothing when refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, LabelMismatchError

__all__ = ["LabelMatch", "check_label_map", "is_generic", "match_labels", "normalize_label", "parse_label_map"]


def normalize_label(name: Any) -> str:
    """The form labels are compared in: surrounding whitespace stripped, case folded.

    Example:
        >>> normalize_label("  Positive ")
        'positive'
    """
    return str(name).strip().casefold()


def is_generic(labels: Sequence[str]) -> bool:
    """True when ``labels`` are transformers' default names ``LABEL_0, LABEL_1...`` in order.

    Example:
        >>> is_generic(["LABEL_0", "LABEL_1"]), is_generic(["neg", "pos"])
        (True, False)
    """
    return all(str(label) == f"LABEL_{i}" for i, label in enumerate(labels))


def check_label_map(label_map: Any) -> dict[str, str]:
    """``label_map`` as a plain ``{model label: head label}`` dict of stripped strings ({} for None).

    Raises:
        ConfigError: not a mapping, or a key or value that is not a non-empty string.
        LabelMismatchError: two keys that are the same label (ignoring case and space) mapped differently.

    Example:
        >>> check_label_map({" neg ": "negative"})
        {'neg': 'negative'}
    """
    if label_map is None:
        return {}
    if not isinstance(label_map, Mapping):
        raise ConfigError(f"label_map must be a dict of model label -> head label, got {label_map!r}; "
                          "for example {'neg': 'negative', 'pos': 'positive'}")
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in label_map.items():
        for side, item in (("model label", key), ("head label", value)):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"label_map entry {key!r}: {value!r} has a {side} that is not a non-empty "
                                  f"string ({item!r}); name labels as text, e.g. {{'neg': 'negative'}}")
        norm = normalize_label(key)
        if norm in seen and normalize_label(seen[norm]) != normalize_label(value):
            raise LabelMismatchError(f"label_map maps the model label {key.strip()!r} twice "
                                     f"(to {seen[norm]!r} and {value.strip()!r}): keep one")
        seen[norm] = value.strip()
        out[key.strip()] = value.strip()
    return out



def rename_head_labels(id2label: Mapping[int, str], label_map: Mapping[str, str] | None) -> dict[int, str]:
    """A head's ``id2label`` with each head label that ``label_map`` names renamed to the model label mapped to it.

    What a model built for the head gets as its labels, so that the map then matches it.

    Raises:
        LabelMismatchError: two model labels mapped to one head label.
        ConfigError: ``label_map`` is not a dict of strings.

    Example:
        >>> rename_head_labels({0: "negative", 1: "positive"}, {"neg": "negative"})
        {0: 'neg', 1: 'positive'}
    """
    back: dict[str, str] = {}
    for mine, theirs in check_label_map(label_map).items():
        key = normalize_label(theirs)
        if key in back:
            raise LabelMismatchError(
                f"label_map maps {back[key]!r} and {mine!r} both to the head label {theirs!r} "
                f"(head labels {sorted(id2label.values())}): map at most one label to each head label"
            )
        back[key] = mine
    return {i: back.get(normalize_label(label), label) for i, label in id2label.items()}

def parse_label_map(text: str) -> dict[str, str]:
    """The CLI form ``"neg=negative,pos=positive"`` (model label = head label) as a dict.

    Raises:
        ConfigError: an item without ``=`` or with an empty side, or a model label given twice.

    Example:
        >>> parse_label_map("neg=negative, pos=positive")
        {'neg': 'negative', 'pos': 'positive'}
    """
    out: dict[str, str] = {}
    items = [item for item in str(text).split(",") if item.strip()]
    if not items:
        raise ConfigError(f"--label-map takes YOURS=HEAD pairs like 'neg=negative,pos=positive', got {text!r}")
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"--label-map takes YOURS=HEAD pairs like 'neg=negative,pos=positive' "
                              f"(your label = the head's label), got {item.strip()!r}")
        if key.strip() in out:
            raise ConfigError(f"--label-map names {key.strip()!r} twice in {text!r}: keep one")
        out[key.strip()] = value.strip()
    return check_label_map(out)


@dataclass(frozen=True)
class LabelMatch:
    """How a head's output rows go to a model's outputs (what :func:`match_labels` decided).

    Attributes:
        source: the head, as the report names it (``"sst2/lora"``).
        model_labels: the model's labels in output order.
        head_labels: the head's labels in output order.
        rows: for each model output, the head row it takes, or None (a new row).
        label_map: the map that was applied (model label -> head label).
        by_position: the rows went by position (default ``LABEL_i`` names, or regression).
        take_head_names: the model has default names and takes the head's.
        regression: a one-output regression head.

    Example:
        >>> m = match_labels(["negative", "neutral", "positive"], ["negative", "positive"], source="sst2/lora")
        >>> m.rows, m.new
        ((0, None, 1), ['neutral'])
        >>> m.report
        '2 of 3 rows from sst2/lora (negative, positive); new: neutral'
    """

    source: str
    model_labels: tuple[str, ...]
    head_labels: tuple[str, ...]
    rows: tuple[int | None, ...]
    label_map: dict[str, str] = field(default_factory=dict)
    by_position: bool = False
    take_head_names: bool = False
    regression: bool = False

    @property
    def matched(self) -> list[str]:
        """Model labels (in output order) that take a head row."""
        return [label for label, row in zip(self.model_labels, self.rows, strict=True) if row is not None]

    @property
    def new(self) -> list[str]:
        """Model labels (in output order) that no head row covers."""
        return [label for label, row in zip(self.model_labels, self.rows, strict=True) if row is None]

    @property
    def new_rows(self) -> list[int]:
        """Model output indices that no head row covers."""
        return [i for i, row in enumerate(self.rows) if row is None]

    @property
    def unused(self) -> list[str]:
        """Head labels (in head order) that no model output takes."""
        taken = {row for row in self.rows if row is not None}
        return [label for j, label in enumerate(self.head_labels) if j not in taken]

    @property
    def is_identity(self) -> bool:
        """Every head row goes to the output of the same index: the output layer is copied unchanged."""
        return len(self.rows) == len(self.head_labels) and list(self.rows) == list(range(len(self.rows)))

    @property
    def exact(self) -> bool:
        """Same labels, same order, same spelling (or by position): nothing worth reporting."""
        return self.is_identity and (self.by_position or list(self.model_labels) == list(self.head_labels))

    @property
    def permutation(self) -> list[int] | None:
        """``rows`` as a list when every model output takes a head row and the order differs, else None."""
        if self.new or self.is_identity:
            return None
        return [int(row) for row in self.rows if row is not None]

    def summary(self, notes: Mapping[str, str] | None = None) -> str:
        """The one-line report; ``notes`` add a remark in parentheses to new labels (``"imprinted"``).

        Example:
            >>> m = match_labels(["neg", "pos", "meh"], ["negative", "positive"],
            ...                  {"neg": "negative", "pos": "positive"}, source="sst2/lora")
            >>> m.summary({"meh": "imprinted from 12 examples"})
            '2 of 3 rows from sst2/lora (neg=negative, pos=positive); new: meh (imprinted from 12 examples)'
        """
        notes = dict(notes or {})
        items = []
        for label, row in zip(self.model_labels, self.rows, strict=True):
            if row is None:
                continue
            head_label = self.head_labels[row]
            if self.regression:
                items.append("regression")
            elif self.take_head_names:
                items.append(head_label)
            elif self.by_position or normalize_label(label) == normalize_label(head_label):
                items.append(label)
            else:
                items.append(f"{label}={head_label}")
        line = f"{len(items)} of {len(self.rows)} rows from {self.source} ({', '.join(items)})"
        if self.by_position and not self.regression:
            line += " by position"
        if self.new:
            line += "; new: " + ", ".join(f"{label} ({notes[label]})" if label in notes else label
                                          for label in self.new)
        if self.unused:
            line += "; not used: " + ", ".join(self.unused)
        return line

    @property
    def report(self) -> str:
        """The one-line report, e.g. ``"2 of 3 rows from sst2/lora (negative, positive); new: neutral"``."""
        return self.summary()


def _index(labels: Sequence[str], whose: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, label in enumerate(labels):
        key = normalize_label(label)
        if key in index:
            raise LabelMismatchError(
                f"{whose} labels {labels[index[key]]!r} and {label!r} differ only in case or surrounding space, "
                f"so they cannot be matched by name ({list(labels)}): give them names that differ"
            )
        index[key] = i
    return index


def match_labels(
    model_labels: Sequence[str],
    head_labels: Sequence[str],
    label_map: Mapping[str, str] | None = None,
    *,
    source: str = "the head",
    model_regression: bool = False,
    head_regression: bool = False,
) -> LabelMatch:
    """Decide which head row each model output takes (see the module docstring for the rules).

    Args:
        model_labels: the model's labels in output order (``config.id2label``).
        head_labels: the head's labels in output order.
        label_map: renames, model label -> head label; names compare ignoring case and space.
        source: how the report names the head (``"sst2/lora"``).
        model_regression: the model is a one-output regression model.
        head_regression: the head is a one-output regression head.

    Returns:
        The :class:`LabelMatch`; its ``report`` is the one line to show.

    Raises:
        LabelMismatchError: regression against classification; a map naming labels its side lacks; two model
            labels on one head row; no label in common. The message names both sides' labels.
        ConfigError: ``label_map`` is not a dict of strings.

    Example:
        >>> match_labels(["Positive", "Negative"], ["negative", "positive"]).rows
        (1, 0)
        >>> match_labels(["pos", "neg"], ["negative", "positive"], {"neg": "negative", "pos": "positive"}).rows
        (1, 0)
    """
    model_labels = tuple(str(label) for label in model_labels)
    head_labels = tuple(str(label) for label in head_labels)
    mapping = check_label_map(label_map)
    shown_model, shown_head = sorted(model_labels), sorted(head_labels)
    if model_regression or head_regression:
        if model_regression != head_regression:
            kind = "a regression head" if head_regression else f"a classification head with labels {shown_head}"
            other = "a regression model (one output)" if model_regression else \
                f"a classification model with labels {shown_model}"
            raise LabelMismatchError(
                f"{source} is {kind} and cannot go into {other}: regression heads go to regression tasks only; "
                "start from a head of the same kind"
            )
        if mapping:
            raise LabelMismatchError(f"{source} is a regression head: it has no labels to map; drop label_map "
                                     f"(got {mapping!r})")
        return LabelMatch(source, model_labels, head_labels, (0,), by_position=True, regression=True)
    if not mapping and len(model_labels) == len(head_labels) and (is_generic(model_labels) or is_generic(head_labels)):
        return LabelMatch(source, model_labels, head_labels, tuple(range(len(model_labels))), by_position=True,
                          take_head_names=is_generic(model_labels) and not is_generic(head_labels))
    if not mapping and (is_generic(model_labels) or is_generic(head_labels)):
        whose = "the model's" if is_generic(model_labels) else f"{source}'s"
        raise LabelMismatchError(
            f"{whose} labels are transformers' default names, so {source}'s labels {shown_head} and the model's "
            f"{shown_model} cannot be matched: build the model with id2label naming its labels, or pass "
            "label_map={'model label': 'head label'} (CLI --label-map yours=head)"
        )
    head_index = _index(head_labels, f"{source}'s")
    model_index = _index(model_labels, "the model's")
    norm_map = {normalize_label(k): normalize_label(v) for k, v in mapping.items()}
    bad_keys = [k for k in mapping if normalize_label(k) not in model_index]
    bad_values = [v for v in mapping.values() if normalize_label(v) not in head_index]
    if bad_keys or bad_values:
        problems = []
        if bad_keys:
            problems.append(f"{bad_keys} not among the model's labels {shown_model}")
        if bad_values:
            problems.append(f"{bad_values} not among {source}'s labels {shown_head}")
        flipped = all(normalize_label(k) in head_index for k in mapping) and all(
            normalize_label(v) in model_index for v in mapping.values())
        hint = (" (the map goes model label -> head label: did you mean "
                + ",".join(f"{v}={k}" for k, v in mapping.items()) + "?)") if flipped else ""
        raise LabelMismatchError(f"label_map names {' and '.join(problems)}{hint}: map each of the model's labels "
                                 "to one of the head's, e.g. {'neg': 'negative'} (CLI --label-map neg=negative)")
    rows: list[int | None] = []
    taken: dict[int, str] = {}
    for label in model_labels:
        key = normalize_label(label)
        row = head_index.get(norm_map.get(key, key))
        if row is not None and row in taken:
            raise LabelMismatchError(
                f"the model's labels {taken[row]!r} and {label!r} would both take {source}'s row "
                f"{head_labels[row]!r} (model labels {shown_model}, head labels {shown_head}, label_map {mapping!r}): "
                "map at most one model label to each head label"
            )
        if row is not None:
            taken[row] = label
        rows.append(row)
    if not taken:
        after = f" (after label_map {mapping!r})" if mapping else ""
        raise LabelMismatchError(
            f"{source}'s labels {shown_head} and the model's labels {shown_model} have no label in common{after}: "
            "pass label_map={'model label': 'head label'} (CLI --label-map yours=head) for labels named "
            "differently, or train a head for these labels"
        )
    return LabelMatch(source, model_labels, head_labels, tuple(rows), label_map=mapping)
