"""What every head of one zoo build shares: the backbone, the budget, the folders, the record and the run flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backbone import BackboneRef
from .budget import ZooBudget

__all__ = ["BuildContext"]


@dataclass(frozen=True)
class BuildContext:
    """One zoo build's settings, passed to the build of each head and to its checks.

    Attributes:
        ref: the backbone.
        plan: the budget.
        root: the zoo folder (heads go to ``<root>/heads/...``).
        book: the build record being written (``heads`` and the check (b) ``random`` starts), updated in place.
        scratch: a folder for the Trainer runs' outputs, removed after the build.
        feature: the feature every head of the build reads (``sentence-embedding`` or ``sequence-classification``).
        checks: run check (a) (and (b) with ``start_check``) and leave out the heads that fail (a).
        start_check: also run check (b) (reported, not a condition to ship).
        main: this process writes files (rank 0).
        callbacks: passed to the Trainer runs.
        progress: show progress bars.
    """

    ref: BackboneRef
    plan: ZooBudget
    root: Path
    book: dict[str, Any]
    scratch: Path
    feature: str
    checks: bool = True
    start_check: bool = False
    main: bool = True
    callbacks: Sequence[Any] | None = None
    progress: bool = False
