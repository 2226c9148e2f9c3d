"""The one stratified, seeded sampler: subsets of tasks, held-out splits, demo samples.

Every subset headzoo draws goes through :func:`sample_indices`, so a ``limit``,
a validation split cut from train and the demo's samples keep the class
proportions of their source (largest remainder per class) and depend only on
the seed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError

if TYPE_CHECKING:
    import datasets

__all__ = ["check_limit", "limit_dataset", "sample_indices"]


def _allocate(counts: Mapping[Hashable, int], k: int, cap: Mapping[Hashable, int]) -> dict[Hashable, int]:
    """Split ``k`` over groups proportionally to ``counts`` (largest remainder, deterministic)."""
    total = sum(counts.values())
    exact = {g: k * c / total for g, c in counts.items()}
    quota = {g: min(math.floor(e), cap[g]) for g, e in exact.items()}
    order = sorted(counts, key=lambda g: (-(exact[g] - math.floor(exact[g])), -counts[g], str(g)))
    left = k - sum(quota.values())
    while left > 0:
        grown = False
        for g in order:
            if left > 0 and quota[g] < cap[g]:
                quota[g] += 1
                left -= 1
                grown = True
        if not grown:
            break
    return quota


def sample_indices(
    labels: Sequence[Hashable] | None, n: int, k: int, seed: int, *, leave_per_class: int = 0
) -> list[int]:
    """Pick ``k`` of the indices ``0..n-1``, stratified by ``labels`` when given; returned sorted.

    With ``labels``, each class gets its share of ``k`` by largest remainder
    (so every class count is within 1 of ``k * share``), and its members are
    drawn by a seeded permutation. Without (regression), ``k`` indices are
    drawn uniformly. The same arguments always give the same indices.

    Args:
        labels: One hashable label per index, or None for a plain random draw.
        n: Number of indices to draw from (``len(labels)`` when labels are given).
        k: How many to pick, ``0 <= k <= n``.
        seed: Seed of ``numpy.random.default_rng``.
        leave_per_class: Leave at least this many of every class unpicked (a
            split that must keep each class on both sides uses 1); fewer than
            ``k`` come back when that leaves too few.

    Raises:
        ConfigError: ``k`` is outside ``0..n`` or ``labels`` does not have ``n`` entries.

    Example:
        >>> sample_indices(["a", "a", "a", "a", "b", "b"], 6, 3, seed=0)  # 2 of class a, 1 of b
        [0, 2, 5]
    """
    if isinstance(k, bool) or not 0 <= k <= n:
        raise ConfigError(f"cannot pick {k!r} of {n} examples; pick between 0 and {n}")
    if labels is not None and len(labels) != n:
        raise ConfigError(f"got {len(labels)} labels for {n} examples; they must match")
    rng = np.random.default_rng(seed)
    if labels is None:
        return sorted(int(i) for i in rng.choice(n, size=k, replace=False))
    groups: dict[Hashable, list[int]] = {}
    for i, y in enumerate(labels):
        groups.setdefault(y, []).append(i)
    counts = {g: len(v) for g, v in groups.items()}
    quota = _allocate(counts, k, cap={g: c - leave_per_class for g, c in counts.items()})
    chosen: list[int] = []
    for g in sorted(groups, key=str):
        members = np.asarray(groups[g])
        chosen.extend(int(i) for i in members[rng.permutation(len(members))[: quota[g]]])
    return sorted(chosen)


def check_limit(limit: int | None) -> None:
    """Raise unless ``limit`` is None or a positive int (the ``limit`` of :func:`limit_dataset`).

    Raises:
        ConfigError: ``limit`` is a bool, a float, zero or negative; the message quotes it.

    Example:
        >>> check_limit(100)
        >>> check_limit(0)
        Traceback (most recent call last):
        ...
        headzoo.errors.ConfigError: limit must be a positive integer or None, got 0
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer or None, got {limit!r}")


def limit_dataset(
    ds: datasets.Dataset, limit: int | None, seed: int = 0, *, stratify: bool = True
) -> datasets.Dataset:
    """Keep at most ``limit`` rows of ``ds``: a seeded subset, stratified by its ``label`` column, in file order.

    ``limit=None`` or a dataset no larger than ``limit`` comes back as it is.
    Pass ``stratify=False`` for regression (a plain seeded draw).
    :func:`headzoo.tasks.load_task` uses it for its ``limit``; use it for the
    ``limit`` of any task (custom ones too), so the same ``(limit, seed)``
    gives the same subset everywhere.

    Raises:
        ConfigError: ``limit`` is not None or a positive int.

    Example:
        >>> import datasets
        >>> ds = datasets.Dataset.from_dict({"text_a": list("abcdef"), "label": [0, 0, 0, 0, 1, 1]})
        >>> limit_dataset(ds, 3, seed=0)["text_a"][:]
        ['a', 'c', 'f']
    """
    check_limit(limit)
    if limit is None or len(ds) <= limit:
        return ds
    labels = ds["label"][:] if stratify else None  # [:] -> list (fast; a Column iterates slowly)
    return ds.select(sample_indices(labels, len(ds), limit, seed))
