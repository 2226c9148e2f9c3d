"""Statistics the pages print: mean ± std, the 2-SE verdicts and paired differences."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

#: A difference is "better" or "worse" beyond this many standard errors, else a "tie".
VERDICT_SE = 2.0


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (None when undefined).

    Example:
        >>> mean_std([1.0, 3.0])
        (2.0, 1.4142135623730951)
    """
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def mean_std_text(values: Sequence[float]) -> str:
    """``mean ± std (n)`` with one decimal, or the one value, or a dash.

    Example:
        >>> mean_std_text([1.0, 3.0])
        '2.0 ± 1.4 (2)'
    """
    mean, std = mean_std(values)
    if mean is None:
        return "—"
    return f"{mean:.1f}" + ("" if std is None else f" ± {std:.1f}") + f" ({len(values)})"


def se_verdict(diff: float, se: float) -> str:
    """"better" / "worse" when ``diff`` is beyond :data:`VERDICT_SE` standard errors ``se``, else "tie".

    Example:
        >>> se_verdict(3.0, 1.0), se_verdict(-1.0, 1.0)
        ('better', 'tie')
    """
    return "better" if diff > VERDICT_SE * se else "worse" if diff < -VERDICT_SE * se else "tie"


def paired_verdict(diffs: Sequence[float]) -> str:
    """The 2-SE verdict of paired differences: "better", "worse", "tie", or "n/a" under two pairs.

    Example:
        >>> paired_verdict([4.0, 5.0, 6.0]), paired_verdict([1.0]), paired_verdict([-1.0, 1.0])
        ('better', 'n/a', 'tie')
    """
    if len(diffs) < 2:
        return "n/a"
    return se_verdict(statistics.mean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5)


def diff_verdict(diffs: Sequence[float]) -> str:
    """Mean paired difference ± its standard error and the 2-SE verdict.

    Example:
        >>> diff_verdict([4.0, 5.0, 6.0])
        '+5.0 ± 0.6 SE, better'
        >>> diff_verdict([1.0])
        '+1.0 (1 seed), n/a'
    """
    if len(diffs) < 2:
        return f"{diffs[0]:+.1f} (1 seed), n/a" if diffs else "—"
    mean, se = statistics.mean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5
    return f"{mean:+.1f} ± {se:.1f} SE, {paired_verdict(diffs)}"


def paired_differences(pairs: Sequence[tuple[float, float]], scale: float = 100.0) -> list[float]:
    """``scale * (b - a)`` for each ``(a, b)`` pair (points, with the default scale, of fractions).

    Example:
        >>> [round(d, 6) for d in paired_differences([(0.5, 0.6), (0.4, 0.4)])]
        [10.0, 0.0]
    """
    return [scale * (b - a) for a, b in pairs]
