"""Write ``results/transfer/README.md`` and ``results/transfer/plots/<set>.png`` from the transfer benchmark's records.

Nothing on the page is typed by hand: every number, verdict and recommendation comes from the JSON records that
``benchmarks/transfer.py`` writes, one per run, under ``<results>/runs/<set>/k<k>/<start>-seed<seed>.json``. The
plan (sets, k, seeds, starts) is the constants of ``transfer.py``; cells with fewer seeds than planned are marked
incomplete, planned cells without a record are listed under "Not run". Records of another
``transfer_plan.RECORD_VERSION``, or whose settings are not those ``transfer_plan.run_settings`` gives now (the
benchmark runs them again), are ignored and counted. The row ``auto`` is derived, not run: what
``finetune --from auto`` does is ``imprint`` where suggest's top candidate is ``imprint`` and ``zoo`` otherwise.

Example:
    python -m benchmarks.transfer_report                          # results/transfer -> its README.md + plots/
    python -m benchmarks.transfer_report --results /tmp/tsmoke    # another folder of records
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import heldout, transfer_plan
from benchmarks.common.pages import machine_line, write_page
from benchmarks.common.stats import VERDICT_SE, mean_std, se_verdict

PAGE = "README.md"
PLOTS = "plots"
#: The derived row: what ``finetune --from auto`` would have given (from the zoo and imprint records).
AUTO = "auto"
#: The rows of every set's table, in order: the planned starts with ``auto`` after ``zoo``.
ROWS: tuple[str, ...] = tuple(s for start in transfer_plan.STARTS
                              for s in ((start, AUTO) if start == "zoo" else (start,)))
#: The default start now: ``finetune(head="auto")`` as a user runs it, on the sentence-embedding feature.
DEFAULT = "auto-se"
LABELS = {"ft": "FT", "ft3x": "FT 3× budget", "ft10x": "FT 10× budget", "lp-ft": "LP-FT", "eh-ft": "EH-FT (LoRA)",
          "imprint": "imprint → FT", "zoo": "zoo head → FT", AUTO: "auto (`--from auto`)",
          "auto3x": "auto, 3× budget", "setfit": "SetFit",
          "frozen": "frozen embedding + logistic regression (no fine-tuning)",
          DEFAULT: "auto, sentence embedding (the default)", "ft-se": "FT, sentence embedding",
          "imprint-se": "imprint → FT, sentence embedding", "sst2-zs": "shipped SST-2 head, zero-shot (no training)"}
#: The rows that read the backbone's declared sentence embedding (mean pooling, normalised); the others read
#: BERT's pooled CLS token (the sequence-classification feature), as they were recorded.
SENTENCE_ROWS = ("frozen", *transfer_plan.SENTENCE_STARTS, *transfer_plan.ZERO_SHOT_SETS)
BENCHMARK = Path(__file__).resolve().parent / "transfer.py"


# --------------------------------------------------------------------------- records


@dataclass
class Records:
    """The current-version records found under a results folder, keyed by (set, k, start, seed)."""

    runs: dict[tuple[str, int, str, int], dict[str, Any]]
    #: record_version -> how many records of that (other) version were ignored
    other_versions: Counter[Any] = field(default_factory=Counter)
    #: the settings in which ignored records differ from what transfer.py runs now -> how many
    stale: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)


def load_records(results: Path) -> Records:
    """Read every ``runs/*/k*/*.json`` under ``results`` (sorted paths; the first record of a key wins)."""
    records = Records({})
    for path in sorted((results / "runs").glob("*/k*/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            key = (str(data["set"]), int(data["k"]), str(data["start"]), int(data["seed"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            records.unreadable.append(f"{path.relative_to(results).as_posix()}: {exc!s}")
            continue
        if data.get("record_version") != transfer_plan.RECORD_VERSION:
            records.other_versions[data.get("record_version")] += 1
            continue
        differs = stale_settings(data)
        if differs:
            records.stale[", ".join(differs)] += 1
            continue
        records.runs.setdefault(key, data)
    return records


def stale_settings(record: dict[str, Any]) -> list[str]:
    """The settings in which a record differs from what ``transfer.py`` would run now (it runs such records again).

    The settings are ``transfer_plan.run_settings`` for the record's set, k, start and seed, with the budget of its
    sample (k × the number of labels), and for a zoo record whether suggest's order now would pick what it took
    (``transfer_plan.zoo_pick_is_current``); an empty list for a current record.
    """
    n = int(record["k"]) * len(record.get("labels") or [])
    expected = transfer_plan.run_settings(str(record["set"]), int(record["k"]), str(record["start"]),
                                     int(record["seed"]), transfer_plan.budget_steps(n))
    differs = [key for key, value in expected.items() if record.get(key) != value]
    return differs if transfer_plan.zoo_pick_is_current(record) else [*differs, "suggest's order"]


@dataclass
class Outcome:
    """One seed of one row: a run's record, or for ``auto`` the record it takes."""

    seed: int
    accuracy: float | None
    macro_f1: float | None
    seconds: float | None
    skipped: str | None = None
    #: for ``auto``: the start whose figures it takes (``"imprint"`` or ``"zoo"``)
    taken: str | None = None
    #: for ``auto``: its time lacks suggest's (a skipped zoo record does not record it)
    partial_time: bool = False


def _total_seconds(record: dict[str, Any]) -> float | None:
    value = (record.get("seconds") or {}).get("total")
    return float(value) if isinstance(value, (int, float)) else None


def outcome(record: dict[str, Any]) -> Outcome:
    """A run's figures (a skipped run has none)."""
    seed = int(record["seed"])
    if "accuracy" not in record:
        return Outcome(seed, None, None, None, skipped=str(record.get("skipped") or "no accuracy in the record"))
    return Outcome(seed, float(record["accuracy"]), float(record["macro_f1"]), _total_seconds(record))


def auto_outcome(zoo: dict[str, Any] | None, imprint: dict[str, Any] | None) -> Outcome | None:
    """What ``--from auto`` gives for one seed: imprint's figures where suggest's top is imprint, else zoo's.

    The time of the imprint case adds suggest's seconds (from the zoo record) to imprint's total. A zoo record
    skipped because no zoo head shares a label means suggest ranked imprint alone: auto takes imprint, but that
    record has no suggest time, so the time is imprint's only (``partial_time``). None without the records needed.
    """
    if zoo is None:
        return None
    seed = int(zoo["seed"])
    top = zoo.get("suggest_top") if "accuracy" in zoo else "imprint"
    if top != "imprint":
        return Outcome(seed, float(zoo["accuracy"]), float(zoo["macro_f1"]), _total_seconds(zoo), taken="zoo")
    if imprint is None or "accuracy" not in imprint:
        return None
    base = _total_seconds(imprint)
    suggest = (zoo.get("seconds") or {}).get("suggest")
    seconds = None if base is None else base + (float(suggest) if isinstance(suggest, (int, float)) else 0.0)
    return Outcome(seed, float(imprint["accuracy"]), float(imprint["macro_f1"]), seconds, taken="imprint",
                   partial_time="accuracy" not in zoo)


def cells(records: Records) -> dict[tuple[str, int, str], list[Outcome]]:
    """Every (set, k, row) with its outcomes, sorted by seed; ``auto`` derived per seed."""
    out: dict[tuple[str, int, str], list[Outcome]] = {}
    for (name, k, start, _seed), record in sorted(records.runs.items()):
        out.setdefault((name, k, start), []).append(outcome(record))
    for (name, k, start, seed), record in sorted(records.runs.items()):
        if start != "zoo":
            continue
        derived = auto_outcome(record, records.runs.get((name, k, "imprint", seed)))
        if derived is not None:
            out.setdefault((name, k, AUTO), []).append(derived)
    return out


def sets_of(records: Records) -> list[str]:
    """The planned sets, then any other set found in the records."""
    found = {key[0] for key in records.runs}
    return [*heldout.SETS, *sorted(found - set(heldout.SETS))]


def ks_of(records: Records) -> list[int]:
    """The planned k values, then any other k found in the records."""
    found = {key[1] for key in records.runs}
    return [*transfer_plan.KS, *sorted(found - set(transfer_plan.KS))]


# --------------------------------------------------------------------------- statistics


@dataclass
class Stats:
    """Mean and sample std of one cell (accuracy and macro-F1 in percent), its mean wall time and its seeds."""

    n: int
    accuracy: float | None
    accuracy_std: float | None
    macro_f1: float | None
    macro_f1_std: float | None
    seconds: float | None
    skipped: int
    seeds: list[int]
    partial_time: bool = False

    @property
    def complete(self) -> bool:
        """Every planned seed has figures."""
        return set(transfer_plan.SEEDS) <= set(self.seeds)


def stats(outcomes: Iterable[Outcome]) -> Stats:
    """The cell's statistics over the outcomes with figures (skipped runs only counted)."""
    items = list(outcomes)
    scored = [o for o in items if o.accuracy is not None and o.macro_f1 is not None]
    acc, acc_std = mean_std([100 * o.accuracy for o in scored if o.accuracy is not None])
    f1, f1_std = mean_std([100 * o.macro_f1 for o in scored if o.macro_f1 is not None])
    times = [o.seconds for o in scored if o.seconds is not None]
    return Stats(len(scored), acc, acc_std, f1, f1_std, statistics.fmean(times) if times else None,
                 sum(o.skipped is not None for o in items), sorted(o.seed for o in scored),
                 any(o.partial_time for o in scored))


def compare(row: Stats, base: Stats) -> tuple[str, float | None]:
    """Verdict of ``row`` against ``base`` on accuracy, and the difference of means in points.

    "better" / "worse" when the difference exceeds :data:`VERDICT_SE` × sqrt(s1²/n1 + s2²/n2), else "tie";
    "n/a" with fewer than 2 seeds on either side.

    Example:
        >>> compare(Stats(3, 80.0, 1.0, 0, 0, 1, 0, []), Stats(3, 70.0, 1.0, 0, 0, 1, 0, []))
        ('better', 10.0)
    """
    if row.accuracy is None or base.accuracy is None:
        return "n/a", None
    diff = row.accuracy - base.accuracy
    if row.n < 2 or base.n < 2 or row.accuracy_std is None or base.accuracy_std is None:
        return "n/a", diff
    return se_verdict(diff, math.sqrt(row.accuracy_std**2 / row.n + base.accuracy_std**2 / base.n)), diff


@dataclass
class Paired:
    """``row`` against ``base`` seed by seed (both runs of a seed train on the same k-shot sample)."""

    n: int
    ahead: int
    diff: float | None
    se: float | None
    verdict: str


def paired(row: Sequence[Outcome], base: Sequence[Outcome]) -> Paired:
    """Accuracy differences (points) over the seeds both cells have: mean, standard error and a 2-SE verdict.

    A seed draws the k-shot sample every start of it trains on, so the paired difference leaves out how lucky the
    sample was, which the unpaired :func:`compare` counts in the spread of both cells. "n/a" with fewer than 2
    common seeds.

    Example:
        >>> a = [Outcome(s, v, v, 1.0) for s, v in enumerate([0.62, 0.70, 0.66])]
        >>> b = [Outcome(s, v, v, 1.0) for s, v in enumerate([0.60, 0.67, 0.65])]
        >>> p = paired(a, b); (p.n, p.ahead, round(p.diff, 1), p.verdict)
        (3, 3, 2.0, 'better')
    """
    base_by_seed = {o.seed: o.accuracy for o in base if o.accuracy is not None}
    diffs = [100 * (o.accuracy - base_by_seed[o.seed]) for o in row
             if o.accuracy is not None and o.seed in base_by_seed]
    ahead = sum(d > 0 for d in diffs)
    if len(diffs) < 2:
        return Paired(len(diffs), ahead, statistics.fmean(diffs) if diffs else None, None, "n/a")
    diff, se = statistics.fmean(diffs), statistics.stdev(diffs) / math.sqrt(len(diffs))
    return Paired(len(diffs), ahead, diff, se, se_verdict(diff, se))


def seeds_to_show(pair: Paired) -> int | None:
    """How many seeds a paired difference as large as ``pair``'s, at its spread, needs to pass the 2-SE rule.

    With n seeds the rule asks ``diff > 2 × sd / sqrt(n)``, so ``n > (2 × sd / diff)²``, sd being the sample std
    of the per-seed differences. A power estimate from the same runs, not a plan: adding seeds until a cell
    turns "better" would be optional stopping. None when the difference is not positive or has no spread.

    Example:
        >>> seeds_to_show(Paired(5, 4, 2.0, 1.5, "tie"))  # sd 3.35: n > (2 × 3.35 / 2)² = 11.25
        12
    """
    if pair.diff is None or pair.se is None or pair.diff <= 0 or pair.se == 0:
        return None
    sd = pair.se * math.sqrt(pair.n)
    return math.floor((VERDICT_SE * sd / pair.diff) ** 2) + 1


# --------------------------------------------------------------------------- formatting


def _pct(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.1f}" + (f" ± {std:.1f}" if std is not None else "")


def _signed(value: float) -> str:
    text = f"{value:+.1f}"
    return "+0.0" if text == "-0.0" else text


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def accuracy_cell(cell: Stats) -> str:
    """``mean ± std (n)``; an incomplete cell says ``(n of planned)``; a skipped-only cell says so."""
    if cell.n == 0:
        return f"skipped ({cell.skipped})" if cell.skipped else "—"
    count = f"{cell.n}" if cell.complete else f"{cell.n} of {len(transfer_plan.SEEDS)}, incomplete"
    return f"{_pct(cell.accuracy, cell.accuracy_std)} ({count})" + (f", {cell.skipped} skipped" if cell.skipped else "")


def verdict_cell(row: str, cell: Stats, ft: Stats) -> str:
    """The verdict against FT at the same k, with the difference in points."""
    if row == "ft":
        return "baseline"
    if cell.n == 0:
        return "—"
    verdict, diff = compare(cell, ft)
    return verdict if diff is None else f"{verdict} ({_signed(diff)})"


# --------------------------------------------------------------------------- sections


def recommendation(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], k: int) -> str:
    """One line: the start at the stage-2 budget with the highest mean accuracy over the sets at ``k`` among complete
    rows, and the row at any budget (:data:`OTHER_BUDGET`) where one of those is more accurate still."""
    everywhere = [r for r in ROWS if all(transfer_plan.planned_on(s, r) for s in sets)]
    rows = [r for r in everywhere if all(stats(grid.get((s, k, r), [])).complete for s in sets)]
    if "ft" not in rows:
        return _provisional(grid, sets, k)
    def figures(row: str) -> str:
        gain = _over_sets(grid, sets, k, row, "accuracy") - _over_sets(grid, sets, k, "ft", "accuracy")
        return f"{_signed(gain)} points over FT on average over {len(sets)} sets, " \
               f"{_seconds(_over_sets(grid, sets, k, row, 'seconds'))} s"

    best = leader(grid, sets, k, [r for r in rows if r not in OTHER_BUDGET])
    line = f"- With {k} examples per class: start from **{best}** ({figures(best)})"
    anything = leader(grid, sets, k, rows)
    if anything != best:
        dearer = _over_sets(grid, sets, k, anything, "seconds") > _over_sets(grid, sets, k, best, "seconds")
        how = " at more cost" if dearer else ", and no slower"
        line += f"; more accurate{how}: **{anything}** ({figures(anything)})"
    line += zero_shot_clause(grid, sets, k, best)
    incomplete = [r for r in everywhere if r not in rows and transfer_plan.planned(k, r)]
    tail = f" Not in the comparison (incomplete cells): {', '.join(incomplete)}." if incomplete else ""
    return f"{line}.{tail}"


#: Rows that are not a start at the stage-2 budget: FT given more steps, the peer with its own schedule, and the
#: rows that fine-tune nothing (the frozen floor, a shipped head zero-shot).
OTHER_BUDGET = ("ft3x", "ft10x", "auto3x", "setfit", "frozen", *transfer_plan.ZERO_SHOT_SETS)


def zero_shot_clause(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], k: int, best: str) -> str:
    """Where a zero-shot row (planned on some sets only, so outside the average over the sets) is complete and more
    accurate than ``best`` on one of its sets at ``k``: a clause naming it, else ``""``."""
    parts = []
    for row, where in transfer_plan.ZERO_SHOT_SETS.items():
        for name in (s for s in sets if s in where):
            zs, start = _cell(grid, name, k, row), _cell(grid, name, k, best)
            if zs.complete and start.complete and (zs.accuracy or 0.0) > (start.accuracy or 0.0):
                parts.append(f"on {name}, more accurate with no training: **{row}** "
                             f"({_pct(zs.accuracy, None)} % against {_pct(start.accuracy, None)} % for {best}, "
                             f"{_seconds(zs.seconds)} s)")
    return "".join(f"; {p}" for p in parts)


def leader(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], k: int, rows: Sequence[str]) -> str:
    """The row of highest mean accuracy over ``sets`` at ``k``; FT wins a tie (a start must beat it)."""
    return max(rows, key=lambda r: (_over_sets(grid, sets, k, r, "accuracy"), r == "ft"))


def _over_sets(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], k: int, row: str,
               what: str) -> float:
    values = [getattr(stats(grid.get((s, k, row), [])), what) for s in sets]
    return statistics.fmean(v for v in values if v is not None) if any(v is not None for v in values) else math.nan


def _provisional(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], k: int) -> str:
    """The line while FT's cells are incomplete: no recommendation; the leader so far where FT has runs."""
    line = f"- With {k} examples per class: no recommendation yet (FT's cells are not complete on all {len(sets)} sets)"
    seen = [s for s in sets if stats(grid.get((s, k, "ft"), [])).n]
    rows = [r for r in ROWS if seen and all(stats(grid.get((s, k, r), [])).n for s in seen)]
    if not rows:
        return line + "."
    best = leader(grid, seen, k, rows)
    gain = _over_sets(grid, seen, k, best, "accuracy") - _over_sets(grid, seen, k, "ft", "accuracy")
    return line + (f"; so far, on incomplete cells of {', '.join(seen)}, **{best}** leads ({_signed(gain)} points "
                   f"over FT, {_seconds(_over_sets(grid, seen, k, best, 'seconds'))} s).")


#: The rows the floor is held against, in the order the floor lines name them, with the names the lines give them.
FLOOR_RIVALS = {DEFAULT: DEFAULT, AUTO: "auto", "ft": "FT", "setfit": "SetFit"}


def floor_section(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], ks: Sequence[int]
                  ) -> list[str]:
    """The first screen's floor: a logistic regression on the frozen sentence embedding, against the starts.

    Per k and set: the floor's accuracy and time, and the default (``auto-se``), ``auto``, FT and SetFit against it,
    paired by seed at 2 SE (a row without records there is left out).
    """
    if not any(_cell(grid, name, k, "frozen").n for name in sets for k in ks):
        return []
    lines = ["## The floor: a frozen sentence embedding and a logistic regression", "",
             "No fine-tuning: the backbone's declared sentence embedding (mean pooling, normalised; what "
             "`SentenceTransformer.encode` gives), one pass over the k-shot sample and a logistic regression "
             "(scikit-learn, C = 1), then the test split. Any start must clear it. Each line: the floor's accuracy "
             f"and mean wall time, then each row minus the floor, paired by seed at {VERDICT_SE:g} SE "
             f"(**better** / **worse** / **tie**): `{DEFAULT}` is the default, `finetune(head=\"auto\")` on that "
             "same sentence embedding; `auto` and FT read the model's own classification path, BERT's pooled CLS "
             "token, as they were recorded; SetFit fine-tunes the sentence embedding contrastively.", ""]
    for k in ks:
        parts = []
        for name in sets:
            floor = _cell(grid, name, k, "frozen")
            if not floor.n:
                continue
            against = []
            for rival, short in FLOOR_RIVALS.items():
                pair = paired(grid.get((name, k, rival), []), grid.get((name, k, "frozen"), []))
                if pair.diff is None:
                    continue
                against.append(f"{short} {pair.verdict} ({_signed(pair.diff)})")
            parts.append(f"{name} {_pct(floor.accuracy, floor.accuracy_std)} in {_seconds(floor.seconds)} s: "
                         + ", ".join(against))
        lines.append(f"- k={k}: " + "; ".join(parts) + ".")
    return [*lines, ""]


# --------------------------------------------------------------------------- the default's targets (issue 31)

#: Against SetFit: the default's mean wall time over the sets at most this share of SetFit's, per k.
SETFIT_TIME_SHARE = {8: 1.0, 32: 0.25}
#: Against SetFit: the sets (of 3) on which the default must not be less accurate (paired by seed, 2 SE).
SETFIT_SETS_NEEDED = 2
#: Against the recorded FT: the cells (of 9) in which the default must be better (paired by seed, 2 SE); worse in none.
FT_CELLS_NEEDED = 6
#: Zero-shot: the row, the set and k where it is held against the default, and the most points it may trail by.
ZERO_SHOT_TARGET = ("sst2-zs", "reviews", 32, 5.0)
MET, NOT_MET, NOT_MEASURED = "met", "not met", "not measured yet"


@dataclass
class Target:
    """One target's state (:data:`MET`, :data:`NOT_MET` or :data:`NOT_MEASURED`) and its figures in words."""

    name: str
    state: str
    figures: str

    def line(self) -> str:
        """The target's bullet: its name, its state (bold when decided) and its figures."""
        state = self.state if self.state == NOT_MEASURED else f"**{self.state}**"
        return f"- {self.name}: {state}. {self.figures}"


def target_state(failed: bool, complete: bool, passed: bool) -> str:
    """Not met once the complete cells already fail a target; else not measured while a cell it needs lacks seeds.

    Example:
        >>> target_state(True, False, False), target_state(False, False, True), target_state(False, True, True)
        ('not met', 'not measured yet', 'met')
    """
    if failed:
        return NOT_MET
    if not complete:
        return NOT_MEASURED
    return MET if passed else NOT_MET


def paired_cell(grid: dict[tuple[str, int, str], list[Outcome]], name: str, k: int, row: str,
                base: str) -> tuple[Paired, bool]:
    """``row`` against ``base`` paired by seed at (``name``, ``k``), and whether both cells have every planned seed."""
    pair = paired(grid.get((name, k, row), []), grid.get((name, k, base), []))
    return pair, _cell(grid, name, k, row).complete and _cell(grid, name, k, base).complete


def pair_text(pair: Paired, complete: bool) -> str:
    """A paired comparison in words: ``tie (+0.4 ± 1.0 SE)``; "not run" without a common seed."""
    if pair.diff is None:
        return "not run"
    if pair.se is None:
        return f"n/a ({_signed(pair.diff)}, {pair.n} common seed)"
    return (f"{pair.verdict} ({_signed(pair.diff)} ± {pair.se:.1f} SE)"
            + ("" if complete else f", {pair.n} of {len(transfer_plan.SEEDS)} seeds"))


def _names(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


def _open_text(open_cells: Sequence[str], total: int) -> str:
    if not open_cells:
        return ""
    if len(open_cells) == total:
        return f"; not measured yet: none of the {total} cells has all its seeds on both sides"
    return f"; not measured yet: {_names(open_cells)}"


def target_setfit_se(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], k: int) -> Target:
    """Against SetFit at ``k``: not less accurate on at least 2 of the sets, and no more than a share of its time.

    Accuracy is paired by seed at 2 SE per set; the time is the mean over the sets of each cell's mean wall seconds
    (each set weighs the same), the default's over SetFit's.
    """
    pairs = {name: paired_cell(grid, name, k, DEFAULT, "setfit") for name in sets}
    not_worse = [n for n, (p, c) in pairs.items() if c and p.verdict in ("better", "tie")]
    worse = [n for n, (p, c) in pairs.items() if c and p.verdict == "worse"]
    complete = all(c for _, c in pairs.values())
    need = min(SETFIT_SETS_NEEDED, len(sets))
    share = SETFIT_TIME_SHARE.get(k, 1.0)
    both = [n for n in sets if all(_cell(grid, n, k, row).seconds is not None for row in (DEFAULT, "setfit"))]
    mine, theirs = (_over_sets(grid, both, k, row, "seconds") for row in (DEFAULT, "setfit"))
    timed = bool(both)
    fast = timed and mine <= share * theirs
    state = target_state(len(sets) - len(worse) < need or (complete and not fast), complete,
                         len(not_worse) >= need and fast)
    limit = "SetFit's" if share == 1 else f"1/{round(1 / share)} of SetFit's"
    if timed:
        ratio = f" ({mine / theirs:.2f} of SetFit's)" if theirs > 0 else ""
        time = (f"{_seconds(mine)} s against SetFit's {_seconds(theirs)} s{ratio}"
                + ("" if complete else f", so far, over {_names(both)}"))
    else:
        time = "not measured yet"
    return Target(f"**Against SetFit, k = {k}** (not less accurate on at least {need} of {len(sets)} sets; mean wall "
                  f"time at most {limit})", state,
                  f"Not less accurate on {len(not_worse)} of {len(sets)} sets ("
                  + "; ".join(f"{n} {pair_text(*pc)}" for n, pc in pairs.items()) + "); mean wall time (the mean "
                  f"over the sets of each cell's mean, each set weighing the same): {time}.")


def target_cells_se(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], ks: Sequence[int],
                    base: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """The (set, k) cells of the default against ``base``, paired by seed: better, worse, tie, and incomplete."""
    better: list[str] = []
    worse: list[str] = []
    tie: list[str] = []
    open_cells: list[str] = []
    for k in ks:
        for name in sets:
            pair, complete = paired_cell(grid, name, k, DEFAULT, base)
            where = f"{name} k={k}"
            if not complete:
                open_cells.append(where)
            elif pair.verdict in ("better", "worse", "tie"):
                {"better": better, "worse": worse, "tie": tie}[pair.verdict].append(
                    f"{where} ({_signed(pair.diff or 0.0)} ± {pair.se or 0.0:.1f} SE)")
    return better, worse, tie, open_cells


def target_frozen_se(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str],
                     ks: Sequence[int]) -> Target:
    """Against the frozen-embedding floor: not worse, paired by seed at 2 SE, in any (set, k) cell."""
    better, worse, tie, open_cells = target_cells_se(grid, sets, ks, "frozen")
    total = len(sets) * len(ks)
    state = target_state(bool(worse), not open_cells, not worse)
    text = f"Worse in {len(worse)} of {total} cells ({_names(worse)}); tie in {len(tie)}, better in {len(better)}"
    text += _open_text(open_cells, total)
    return Target(f"**Against the frozen-embedding floor** (`frozen`; not worse in any of the {total} (set, k) cells)",
                  state, text + ".")


def target_ft_se(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], ks: Sequence[int]) -> Target:
    """Against the recorded FT: better, paired by seed at 2 SE, in at least 6 of the 9 cells, and worse in none."""
    better, worse, tie, open_cells = target_cells_se(grid, sets, ks, "ft")
    total = len(sets) * len(ks)
    need = min(FT_CELLS_NEEDED, total)
    state = target_state(bool(worse) or len(better) + len(open_cells) < need, not open_cells, len(better) >= need)
    text = (f"Better in {len(better)} of {total} cells; worse in {len(worse)} ({_names(worse)}); tie in {len(tie)}"
            + (f" ({_names(tie)})" if tie else ""))
    text += _open_text(open_cells, total)
    return Target(f"**Against today's FT** (the recorded `ft` rows, on BERT's pooled CLS token; better in at least "
                  f"{need} of {total} cells and worse in none)", state, text + ".")


def target_zero_shot_se(grid: dict[tuple[str, int, str], list[Outcome]]) -> Target:
    """Zero-shot: the shipped head on the set's test split within some points (accuracy) of the default at k."""
    row, name, k, points = ZERO_SHOT_TARGET
    zs, default = _cell(grid, name, k, row), _cell(grid, name, k, DEFAULT)
    title = (f"**Zero-shot** (`{row}`, the shipped SST-2 head on the {name}' test split with no training, within "
             f"{points:g} points of the default's accuracy at k = {k} on the {name})")
    if zs.accuracy is None or default.accuracy is None:
        missing = [label for label, cell in ((f"`{row}`", zs), ("the default", default)) if cell.accuracy is None]
        return Target(title, NOT_MEASURED, f"No record of {' or '.join(missing)} on the {name} at k = {k}.")
    gap = default.accuracy - zs.accuracy
    behind = f"{gap:.1f} points behind" if gap > 0 else f"{-gap:.1f} points ahead"
    complete = zs.complete and default.complete
    counts = "" if complete else f" ({zs.n} and {default.n} of {len(transfer_plan.SEEDS)} seeds)"
    return Target(title, target_state(False, complete, gap <= points),
                  f"{_pct(zs.accuracy, None)} % in {_seconds(zs.seconds)} s against the default's "
                  f"{_pct(default.accuracy, default.accuracy_std)} % in {_seconds(default.seconds)} s{counts}: "
                  f"{behind}.")


def default_table(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], ks: Sequence[int]) -> list[str]:
    """One row per (set, k): the default's accuracy and time; its paired verdicts against FT, the floor, SetFit."""
    lines = ["| set | k | the default: accuracy % (n) | wall s | vs FT | vs the frozen floor | vs SetFit |",
             "|---|---|---|---|---|---|---|"]
    for name in sets:
        for k in ks:
            cell = _cell(grid, name, k, DEFAULT)
            versus = [pair_text(*paired_cell(grid, name, k, DEFAULT, base)) if transfer_plan.planned(k, base)
                      else "not planned" for base in ("ft", "frozen", "setfit")]
            lines.append(f"| {name} | {k} | {accuracy_cell(cell)} | {_seconds(cell.seconds)} | "
                         + " | ".join(versus) + " |")
    return lines


def targets_section(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str],
                    ks: Sequence[int]) -> list[str]:
    """The first screen's verdicts on the default (``auto-se``) against issue 31's targets, from the cells."""
    targets = [*(target_setfit_se(grid, sets, k) for k in SETFIT_KS), target_frozen_se(grid, sets, ks),
               target_ft_se(grid, sets, ks), target_zero_shot_se(grid)]
    count = Counter(t.state for t in targets)
    summary = ", ".join(f"{count[s]} {s}" for s in (MET, NOT_MET, NOT_MEASURED) if count[s])
    return ["## The sentence-embedding default against its targets", "",
            "`finetune(head=\"auto\")` (and `headzoo finetune` without `--strategy`, `--method` or `--from`) now "
            f"reads the sentence-embedding feature: the row **{LABELS[DEFAULT]}** (`{DEFAULT}`), run as a user "
            f"runs it. Issue 31's targets for it, computed from the cells: *paired by seed*, each seed's accuracy "
            "difference (both runs train on that seed's k-shot sample), its mean ± standard error over the seeds, "
            f"**better** / **worse** beyond {VERDICT_SE:g} SE, else **tie**. A target is *not measured yet* while a "
            f"cell it needs has fewer than the {len(transfer_plan.SEEDS)} planned seeds, unless the complete "
            "cells already fail it.", "",
            f"{len(targets)} targets: {summary}.", "",
            *(t.line() for t in targets), "", *default_table(grid, sets, ks), ""]


def which_start(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str], ks: Sequence[int]) -> list[str]:
    """The first screen: per k, the start with the best mean accuracy over the sets, computed from the cells."""
    lines = ["## Which start to use", "",
             f"Highest mean test accuracy averaged over the sets ({', '.join(sets)}), among the rows whose cells "
             f"have all {len(transfer_plan.SEEDS)} planned seeds on every set: first among the starts at the stage-2 "
             "budget, then among every row (FT at 3x and 10x the budget, `auto` at 3x, SetFit, the frozen floor) "
             "where one of those is ahead, and on a set where a shipped head runs zero-shot (no training; not on "
             "every set, so outside the average) that head where it is ahead of the start named; the gain is over "
             "FT at the same k, the time the mean wall time of a run (the whole job: loading, suggest, training, "
             "prediction).", ""]
    lines += [recommendation(grid, sets, k) for k in ks]
    lines += ["", *start_at_more_budget(grid, sets, ks)]
    lines += ["", "Before the sentence-embedding feature, `headzoo finetune` without `--strategy`, `--method` or "
              "`--from` started from **auto** on the sequence-classification feature (the row `auto`): the zoo head "
              "`suggest` ranks first, or an imprint when that ranks first. Against the targets set for it (the "
              "default's own are in the section above):", ""]
    lines += target_default(grid, sets, ks)
    lines += target_setfit(grid, sets)
    return [*lines, ""]


def start_at_more_budget(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str],
                         ks: Sequence[int]) -> list[str]:
    """Whether a good start still counts with more steps: ``auto3x`` against ``ft3x``, per k and set, paired by seed."""
    lines = ["Does the start still count at 3 times the budget? `auto` against FT, both at 3x the budget, paired by "
             f"seed at {VERDICT_SE:g} SE (in brackets: the difference ± SE, the seeds where `auto` is ahead, the "
             "unpaired verdict, and `auto`'s accuracy and time at 3x):", ""]
    for k in ks:
        parts = []
        for name in sets:
            row, base = grid.get((name, k, "auto3x"), []), grid.get((name, k, "ft3x"), [])
            pair = paired(row, base)
            if pair.diff is None or pair.se is None:
                parts.append(f"{name} not run" if not row or not base else f"{name} n/a ({pair.n} common seed)")
                continue
            cell = _cell(grid, name, k, "auto3x")
            parts.append(f"{name} {pair.verdict} ({_signed(pair.diff)} ± {pair.se:.1f} SE, ahead in {pair.ahead} of "
                         f"{pair.n} seeds; unpaired {compare(cell, _cell(grid, name, k, 'ft3x'))[0]}; "
                         f"{_pct(cell.accuracy, cell.accuracy_std)} % in {_seconds(cell.seconds)} s"
                         + ("" if cell.complete else ", incomplete") + ")")
        lines.append(f"- k={k}: " + "; ".join(parts) + ".")
    return lines


#: The peer's comparison covers these k (SetFit runs up to transfer_plan.SETFIT_MAX_K).
SETFIT_KS = (8, 32)
#: The rows at more than 1× the budget, in the order tried for "the budget at which it would be": the default
#: start given more steps first, then FT.
MORE_BUDGET = ("auto3x", "ft3x", "ft10x")


def _cell(grid: dict[tuple[str, int, str], list[Outcome]], name: str, k: int, row: str) -> Stats:
    return stats(grid.get((name, k, row), []))


def target_default(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str],
                   ks: Sequence[int]) -> list[str]:
    """Target 1: ``auto`` beats FT at equal budget on every set and k, and is never worse than EH-FT at its cost."""
    lines: list[str] = []
    failed: list[tuple[str, int]] = []
    failed_so_far: list[str] = []
    open_cells: list[str] = []
    paired_better: list[str] = []
    powered: list[tuple[int, int]] = []  # (seeds needed, seeds run)
    for k in ks:
        for name in sets:
            auto, ft, eh = (_cell(grid, name, k, r) for r in (AUTO, "ft", "eh-ft"))
            if auto.n == 0 or ft.n == 0:
                open_cells.append(f"{name} k={k}")
                continue
            v_ft, d_ft = compare(auto, ft)
            v_eh, d_eh = compare(auto, eh)
            cost = ("" if auto.seconds is None or eh.seconds is None else
                    f", {_seconds(auto.seconds)} s vs {_seconds(eh.seconds)} s")
            eh_text = "EH-FT not run" if d_eh is None else f"vs EH-FT {v_eh} ({_signed(d_eh)}{cost})"
            pair = paired(grid.get((name, k, AUTO), []), grid.get((name, k, "ft"), []))
            if pair.verdict == "better":
                paired_better.append(f"{name} k={k}")
            pair_text = ("" if pair.diff is None or pair.se is None else
                         f"; paired by seed: {pair.verdict}, ahead in {pair.ahead} of {pair.n} seeds, "
                         f"{_signed(pair.diff)} ± {pair.se:.1f} SE")
            needed = seeds_to_show(pair)
            if pair.verdict != "better" and needed is not None:
                pair_text += f", would need {needed} seeds to show at {VERDICT_SE:g} SE"
                powered.append((needed, pair.n))
            lines.append(f"- {name} k={k}: vs FT {v_ft} ({_signed(d_ft or 0.0)}{pair_text}); {eh_text}"
                         + ("" if auto.complete and ft.complete and eh.complete else "; incomplete cells"))
            complete = auto.complete and ft.complete and eh.complete
            if not complete:
                open_cells.append(f"{name} k={k}")
            if v_ft != "better" or v_eh == "worse" or (auto.seconds or 0) > (eh.seconds or math.inf):
                if complete:
                    failed.append((name, k))
                else:
                    failed_so_far.append(f"{name} k={k}")
    parts = []
    if failed:
        parts.append(f"**not met** in {len(failed)} of {len(ks) * len(sets)} cells "
                     f"({', '.join(f'{name} k={k}' for name, k in failed)})")
    if failed_so_far:
        parts.append(f"not met so far in {len(failed_so_far)} cells without all seeds ({', '.join(failed_so_far)})")
    if not parts:
        parts.append(f"not decided yet (cells without all seeds: {', '.join(open_cells)})" if open_cells
                     else "**met** in every cell")
    verdict = "; ".join(parts)
    head = ("- **Target 1**: `auto` (the default before the sentence-embedding feature) beats FT at equal budget "
            "on every set at every k, and is "
            f"never worse than EH-FT at no more time: {verdict}.")
    if lines:
        head += (" Compared seed by seed (the same k-shot sample for both starts), `auto` is better than FT at "
                 f"{VERDICT_SE:g} SE in {len(paired_better)} of {len(lines)} cells; the verdict above is the page's "
                 "unpaired rule.")
    if powered:
        head += (f" Where `auto` is ahead of FT on the mean but not at {VERDICT_SE:g} SE paired, \"would need N "
                 "seeds\" is how many seeds a difference that large, at the spread of its per-seed differences, "
                 f"needs to pass the rule ({min(powered)[0]} to {max(powered)[0]} here, against "
                 f"{'/'.join(str(n) for n in sorted({n for _, n in powered}))} run): a power estimate from these "
                 "runs, not a plan, since adding seeds until a cell passes would be optional stopping.")
    reach = reachable(grid, failed)
    return [head, *["  " + line for line in lines], *(["  " + reach] if reach else [])]


def rows_beating_ft(grid: dict[tuple[str, int, str], list[Outcome]], name: str, k: int,
                    rows: Sequence[str]) -> list[str]:
    """The ``rows`` with all their seeds whose accuracy is better than FT's at ``k`` on ``name`` (unpaired, 2 SE)."""
    ft = _cell(grid, name, k, "ft")
    return [r for r in rows if r != "ft" and _cell(grid, name, k, r).complete
            and compare(_cell(grid, name, k, r), ft)[0] == "better"]


def reachable(grid: dict[tuple[str, int, str], list[Outcome]], failed: Sequence[tuple[str, int]]) -> str:
    """For target 1's failed cells (set, k): which rows beat FT there at all, at the budget or beyond it.

    A cell where no start at the budget separates from FT is one the target asks of no start measured here.
    """
    if not failed:
        return ""
    at_budget = [r for r in ROWS if r not in OTHER_BUDGET]
    parts, none_at_budget, none_at_all = [], [], []
    for name, k in failed:
        cell = f"{name} k={k}"
        same = rows_beating_ft(grid, name, k, at_budget)
        more = rows_beating_ft(grid, name, k, OTHER_BUDGET)
        if not same:
            none_at_budget.append(cell)
        if not same and not more:
            none_at_all.append(cell)
        shown = ", ".join(LABELS[r] for r in same) or "none"
        beyond = ", ".join(LABELS[r] for r in more) or "none"
        parts.append(f"{cell}: at the budget {shown}; beyond it {beyond}")
    line = (f"Where target 1 is not met, the rows better than FT at {VERDICT_SE:g} SE (unpaired): "
            + "; ".join(parts) + ". ")
    line += (f"In {len(none_at_budget)} of {len(failed)} of these cells no start at the stage-2 budget is better "
             "than FT")
    line += (f", and in {len(none_at_all)} ({', '.join(none_at_all)}) no row at all, more steps and SetFit "
             "included: there every difference to FT is within the spread between the k-shot samples of the seeds."
             if none_at_all else ".")
    return line


def target_setfit(grid: dict[tuple[str, int, str], list[Outcome]], sets: Sequence[str]) -> list[str]:
    """Target 2: at k = 8 and 32, ``auto`` not worse than SetFit (2 SE) at no more time on at least 2 of 3 sets."""
    lines = []
    for k in SETFIT_KS:
        good, decided, notes, partial = [], 0, [], []
        for name in sets:
            auto, setfit = _cell(grid, name, k, AUTO), _cell(grid, name, k, "setfit")
            verdict, diff = compare(auto, setfit)
            if verdict == "n/a":
                continue
            if not (auto.complete and setfit.complete):
                partial.append(name)
            decided += 1
            fast = auto.seconds is not None and setfit.seconds is not None and auto.seconds <= setfit.seconds
            if verdict != "worse" and fast:
                good.append(name)
                continue
            if verdict == "worse":
                notes.append(f"{name} (less accurate: {_signed(diff or 0.0)} points, worse at {VERDICT_SE:g} SE; "
                             f"{catch_up(grid, name, k, setfit)})")
            else:
                notes.append(f"{name} (as accurate, {_signed(diff or 0.0)} points, but slower: "
                             f"{_seconds(auto.seconds)} s vs {_seconds(setfit.seconds)} s)")
        need = 2 if len(sets) >= 3 else len(sets)
        count = f"{len(good)} of {len(sets)} sets" + (f": {', '.join(good)}" if good else "")
        if len(good) >= need:
            state = f"**met** ({count})"
        elif decided < len(sets):
            state = f"not decided yet ({decided} of {len(sets)} sets have 2 or more seeds on both sides)"
        else:
            state = f"**not met** ({count})"
        tail = f"; where not: {'; '.join(notes)}" if notes else ""
        if partial:
            tail += f"; cells without all seeds: {', '.join(partial)}"
        lines.append(f"  - k={k}: {state}{tail}.")
    return ["- **Target 2**: at k = 8 and 32 `auto` is not less accurate than SetFit (2 SE) and no slower, on at "
            "least 2 of 3 sets:", *lines]


def catch_up(grid: dict[tuple[str, int, str], list[Outcome]], name: str, k: int, setfit: Stats) -> str:
    """The first row of :data:`MORE_BUDGET` measured here that is not worse than SetFit on accuracy, or that none is."""
    tried = []
    for row in MORE_BUDGET:
        cell = _cell(grid, name, k, row)
        if cell.n == 0:
            continue
        verdict, _ = compare(cell, setfit)
        tried.append(row)
        if verdict in ("tie", "better"):
            return (f"{LABELS[row]} is not worse at {VERDICT_SE:g} SE: {_pct(cell.accuracy, cell.accuracy_std)} % "
                    f"against SetFit's {_pct(setfit.accuracy, None)} %, in {_seconds(cell.seconds)} s")
    if not tried:
        return "more budget not run yet"
    return f"no longer budget measured reaches it (tried: {', '.join(LABELS[r] for r in tried)})"


def set_table(grid: dict[tuple[str, int, str], list[Outcome]], name: str, ks: Sequence[int]) -> list[str]:
    """One row per start planned on the set (or with records there), four columns per k."""
    head = ["start"]
    for k in ks:
        head += [f"k={k} accuracy % (n)", f"k={k} macro-F1 %", f"k={k} wall s", f"k={k} vs FT"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in ROWS:
        if not transfer_plan.planned_on(name, row) and not any((name, k, row) in grid for k in ks):
            continue  # a zero-shot row on a set whose labels it lacks
        cols = [LABELS.get(row, row)]
        for k in ks:
            cell, ft = stats(grid.get((name, k, row), [])), stats(grid.get((name, k, "ft"), []))
            time = _seconds(cell.seconds) + (" (no suggest)" if cell.partial_time else "")
            cols += [accuracy_cell(cell), _pct(cell.macro_f1, cell.macro_f1_std), time,
                     verdict_cell(row, cell, ft)]
        lines.append("| " + " | ".join(cols) + " |")
    return lines


def auto_vs_setfit(grid: dict[tuple[str, int, str], list[Outcome]], name: str, k: int) -> str:
    """One line: auto against SetFit at ``k`` on accuracy (2-SE rule) and mean wall time."""
    auto, setfit = stats(grid.get((name, k, AUTO), [])), stats(grid.get((name, k, "setfit"), []))
    if auto.n == 0 or setfit.n == 0:
        return f"- k={k}: not comparable yet ({auto.n} auto, {setfit.n} SetFit seeds)."
    verdict, diff = compare(auto, setfit)
    assert diff is not None
    accuracy = {"better": "as accurate or better", "tie": "as accurate or better", "worse": "less accurate",
                "n/a": "not comparable on accuracy yet (fewer than 2 seeds)"}[verdict]
    if auto.seconds is None or setfit.seconds is None:
        speed = "of unknown speed"
    else:
        speed = "no slower" if auto.seconds <= setfit.seconds else "slower"
    incomplete = "" if auto.complete and setfit.complete else "; incomplete cells"
    rule = "" if verdict == "n/a" else f", {verdict} at {VERDICT_SE:g} SE"
    return (f"- k={k}: auto is {accuracy} and {speed} ({_signed(diff)} points{rule}; "
            f"{_seconds(auto.seconds)} s vs {_seconds(setfit.seconds)} s{incomplete}).")


def zoo_lines(records: Records, name: str, ks: Sequence[int]) -> list[str]:
    """Which head suggest took for the zoo start, per k: the most common one and its label fit."""
    lines = []
    for k in ks:
        zoo = [r for (s, kk, start, _), r in sorted(records.runs.items()) if (s, kk, start) == (name, k, "zoo")]
        if not zoo:
            continue
        skipped = [r for r in zoo if "accuracy" not in r]
        heads = [r["suggestion"] for r in zoo if "accuracy" in r and isinstance(r.get("suggestion"), dict)]
        tops = Counter(str(r.get("suggest_top")) for r in zoo if "accuracy" in r)
        parts = []
        if heads:
            source, count = Counter(str(h.get("source")) for h in heads).most_common(1)[0]
            fit = Counter(str(h.get("label_fit")) for h in heads if str(h.get("source")) == source).most_common(1)[0][0]
            parts.append(f"the zoo start took `{source}` in {count} of {len(heads)} seeds ({fit})")
        if tops:
            parts.append(f"suggest's top candidate was imprint in {tops.get('imprint', 0)} of {sum(tops.values())} "
                         "(auto takes the imprint run there)")
        if skipped:
            why = Counter(str(r.get("skipped")) for r in skipped).most_common(1)[0][0]
            parts.append(f"{len(skipped)} skipped ({why}; auto takes the imprint run)")
        lines.append(f"- k={k}: " + "; ".join(parts) + ".")
    return lines


def _set_facts(records: Records, name: str) -> str:
    record = next((r for (s, *_), r in sorted(records.runs.items()) if s == name), None)
    if record is None:
        return "No records yet."
    label_map = record.get("label_map") or {}
    mapped = f"; label map {', '.join(f'{a}={b}' for a, b in label_map.items())}" if label_map else ""
    return (f"Labels {', '.join(map(str, record.get('labels') or []))}{mapped}; {record.get('test_examples')} test "
            f"examples. Source: {record.get('source')}.")


def set_section(records: Records, grid: dict[tuple[str, int, str], list[Outcome]], name: str, ks: Sequence[int],
                plot: str | None) -> list[str]:
    """A set's heading, facts, table, auto-vs-SetFit lines, zoo head lines and plot."""
    if not any(key[0] == name for key in records.runs):
        return [f"## {name}", "", "No records yet.", ""]
    lines = [f"## {name}", "", _set_facts(records, name), "", *set_table(grid, name, ks), ""]
    vs = [auto_vs_setfit(grid, name, k) for k in ks if k in (8, 32)]
    if vs:
        lines += ["Auto against SetFit (accuracy: the 2-SE rule; time: mean wall seconds):", "", *vs, ""]
    zoo = zoo_lines(records, name, ks)
    if zoo:
        lines += ["Which head suggest took:", "", *zoo, ""]
    if plot:
        lines += [f"![{name}: accuracy against k]({plot})", ""]
    return lines


def planned_keys() -> list[tuple[str, int, str, int]]:
    """Every planned run."""
    return [(s, k, start, seed) for s in heldout.SETS for k in transfer_plan.KS for start in transfer_plan.STARTS
            for seed in transfer_plan.SEEDS if transfer_plan.planned(k, start) and transfer_plan.planned_on(s, start)]


def not_run(records: Records) -> list[str]:
    """Planned cells without any record, and planned cells with some seeds missing."""
    missing: dict[tuple[str, int], list[str]] = {}
    partial: dict[tuple[str, int, tuple[int, ...]], list[str]] = {}
    for name in heldout.SETS:
        for k in transfer_plan.KS:
            for start in (st for st in transfer_plan.STARTS
                          if transfer_plan.planned(k, st) and transfer_plan.planned_on(name, st)):
                seeds = [seed for seed in transfer_plan.SEEDS if (name, k, start, seed) not in records.runs]
                if len(seeds) == len(transfer_plan.SEEDS):
                    missing.setdefault((name, k), []).append(start)
                elif seeds:
                    partial.setdefault((name, k, tuple(seeds)), []).append(start)
    lines = ["## Not run", ""]
    if missing:
        lines += ["Planned cells without any record:", ""]
        lines += [f"- {name} k={k}: {', '.join(starts)}" for (name, k), starts in missing.items()]
    else:
        lines.append("Every planned cell has at least one record.")
    if partial:
        lines += ["", "Planned cells with some seeds missing:", ""]
        for (name, k, seeds), starts in partial.items():
            which = ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))
            lines.append(f"- {name} k={k}: {', '.join(starts)} ({which} missing)")
    lines += ["", f"Not in the plan: FT at 10x the budget above k = {transfer_plan.FT10X_MAX_K} "
              "(at k = 128 FT at 3x is "
              "already ahead of every start at the budget on every set); the rows over each set's whole training "
              "pool (3 epochs of 3,000 tweets are about 560 steps per run, against 72 at k=128; with every start, "
              "10x FT and 5 seeds that is about a day of this 2-core CPU). They are left for an accelerator; see "
              "docs/benchmarks.md."]
    return [*lines, ""]


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def header(records: Records, page_dir: Path) -> list[str]:
    """The generated-file note, what the benchmark is, the commands, the machines and the progress."""
    link = Path(os.path.relpath(BENCHMARK, page_dir.resolve())).as_posix()
    plan = planned_keys()
    done = sum(key in records.runs for key in plan)
    extra = len(set(records.runs) - set(plan))
    commands = Counter(str(r.get("command")) for r in records.runs.values() if r.get("command"))
    machines = Counter(json.dumps(r.get("machine"), sort_keys=True) for r in records.runs.values() if r.get("machine"))
    lines = [
        "<!-- Generated by `python -m benchmarks.transfer_report` from runs/**/*.json. Do not edit by hand. -->",
        "",
        "# Transfer benchmark: which start to fine-tune MiniLM from, on a few labelled examples",
        "",
        f"**Generated file: do not edit by hand.** [`benchmarks/transfer.py`]({link}) trains MiniLM on k examples "
        f"per class ({', '.join(map(str, transfer_plan.KS))}) of {len(heldout.SETS)} labelled sets that no shipped zoo "
        f"head was trained on ({', '.join(heldout.SETS)}), {len(transfer_plan.SEEDS)} seeds (each its own k-shot "
        f"sample), from each start: FT from a random head (at 1, 3 and 10 times the budget; 10 times up to "
        f"k = {transfer_plan.FT10X_MAX_K}), LP-FT, EH-FT (LoRA stage 1), imprinted rows, the zoo head suggest ranks "
        f"highest (rows a head lacks imprinted), `finetune --from auto` at 3 times the budget, and "
        f"SetFit {transfer_plan.SETFIT_VERSION} with its default head (k <= {transfer_plan.SETFIT_MAX_K}), and the "
        f"floor: a logistic regression on the frozen sentence embedding, no fine-tuning; on that sentence embedding "
        f"too, `finetune(head=\"auto\")` as a user runs it now (`{DEFAULT}`, the default), FT from a random head and "
        f"imprinted rows, and on the "
        f"{' and '.join(s for where in transfer_plan.ZERO_SHOT_SETS.values() for s in where)} the shipped SST-2 head "
        "zero-shot (no training; the same figure at every k and seed); the other headzoo rows read BERT's pooled "
        "CLS token, as they were recorded; "
        f"`auto` is derived from the zoo and imprint runs. Stage 2 gets the same budget for every start "
        f"(max({transfer_plan.MIN_STEPS}, 3 epochs) steps of {transfer_plan.BATCH}, "
        f"learning rate {transfer_plan.LEARNING_RATE:g}); "
        "the figures are test accuracy and macro-F1 in percent (mean ± sample std over seeds) from one prediction "
        "pass over each set's held-out split; wall time is the whole run, the headzoo starts' evaluations at each "
        "epoch on a one-example-per-class validation split included (SetFit evaluates nothing; the cost is "
        "measured by `python -m benchmarks.transfer_eval_cost`). `python -m benchmarks.transfer_report` "
        "writes this page from the records.",
        "",
        f"Status: {done} of {len(plan)} planned runs done"
        + (f"; {extra} record(s) outside the plan are shown too" if extra else "") + ".",
        "",
        "Command(s) that produced the runs:",
        "",
    ]
    lines += [f"- `{c}` ({_runs(n)})" for c, n in sorted(commands.items())] or ["- none yet"]
    lines += ["", "Machine(s) of the runs:", ""]
    lines += [f"- {machine_line(json.loads(m))} ({_runs(n)})" for m, n in sorted(machines.items())] or ["- none yet"]
    notes = []
    if records.other_versions:
        notes.append("ignored " + ", ".join(f"{n} record(s) of record_version {v}"
                                            for v, n in sorted(records.other_versions.items(), key=str))
                     + f" (this page reads version {transfer_plan.RECORD_VERSION}; the benchmark runs them again)")
    if records.stale:
        notes.append("ignored " + ", ".join(f"{n} record(s) whose settings differ from what transfer.py runs now "
                                            f"in {keys}" for keys, n in sorted(records.stale.items()))
                     + " (the benchmark runs them again)")
    if records.unreadable:
        notes.append("unreadable: " + "; ".join(records.unreadable))
    if notes:
        lines += ["", "Note: " + "; ".join(notes) + "."]
    return [*lines, ""]


# --------------------------------------------------------------------------- plots


def plot_set(grid: dict[tuple[str, int, str], list[Outcome]], name: str, ks: Sequence[int], path: Path) -> bool:
    """Accuracy against k (log2 axis), one line per row with figures, mean ± std; False when nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    drawn = [(row, [(k, stats(grid.get((name, k, row), []))) for k in ks]) for row in ROWS]
    drawn = [(row, [(k, c) for k, c in points if c.n]) for row, points in drawn]
    drawn = [(row, points) for row, points in drawn if points]
    if not drawn:
        return False
    fig = Figure(figsize=(7.0, 4.4), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    for i, (row, points) in enumerate(drawn):
        shift = 2 ** ((i - (len(drawn) - 1) / 2) * 0.03)  # a small offset on the log axis: error bars apart
        label = LABELS.get(row, row).replace("`", "")
        ax.errorbar([k * shift for k, _ in points], [c.accuracy for _, c in points],
                    yerr=[c.accuracy_std or 0.0 for _, c in points], marker="o", capsize=3, label=label,
                    linestyle="--" if row == AUTO else ":" if row in SENTENCE_ROWS else "-",
                    color=f"C{ROWS.index(row) % 10}")
    ax.set_xscale("log", base=2)
    ax.set_xlim(min(ks) / 1.3, max(ks) * 1.3)
    ax.set_xticks(list(ks))
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("k (training examples per class)")
    ax.set_ylabel("test accuracy % (mean ± std over seeds)")
    ax.set_title(f"{name}: accuracy against k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return True


# --------------------------------------------------------------------------- the page


def render(records: Records, plots: dict[str, str], page_dir: Path) -> str:
    """The whole page (``page_dir``: where it goes, for the link to the benchmark)."""
    grid = cells(records)
    sets, ks = sets_of(records), ks_of(records)
    lines = header(records, page_dir)
    lines += floor_section(grid, list(heldout.SETS), list(transfer_plan.KS))
    lines += targets_section(grid, list(heldout.SETS), list(transfer_plan.KS))
    lines += which_start(grid, list(heldout.SETS), list(transfer_plan.KS))
    lines += ["## How to read the tables", "",
              "- One row per start, four columns per k: accuracy mean ± std over seeds (n = seeds with figures; "
              "*incomplete* = fewer than planned), macro-F1 mean ± std, mean wall seconds of a run, and the verdict "
              f"against FT at the same k: **better** / **worse** when the difference of mean accuracy (in brackets, "
              f"points) exceeds {VERDICT_SE:g} × √(s²/n + s_FT²/n_FT), else **tie**; **n/a** with fewer than 2 seeds "
              "on either side.",
              "- *Paired by seed* (target 1's lines): every start of a seed trains on that seed's k-shot sample, so "
              "the difference per seed leaves out the luck of the sample; its mean ± standard error over the common "
              f"seeds gives the same {VERDICT_SE:g}-SE verdict.",
              "- **auto** is not run apart: per seed it takes the imprint run where suggest's top candidate is "
              "imprint (its time: imprint's plus suggest's from the zoo run), else the zoo run.",
              "- Rows marked *sentence embedding* (and the frozen floor, and the shipped head zero-shot) read the "
              "backbone's declared sentence embedding (mean pooling, normalised); the others read BERT's pooled CLS "
              f"token, as they were recorded. `{DEFAULT}` runs `finetune(head=\"auto\")` itself, suggest included "
              "in its time; the zero-shot row trains nothing and runs only where the head's labels map onto the "
              "set's (dotted lines in the plots: the sentence-embedding rows).",
              ""]
    for name in sets:
        lines += set_section(records, grid, name, ks, plots.get(name))
    lines += not_run(records)
    return "\n".join(lines)


def write_report(results: Path) -> Path:
    """Read ``results/runs/**.json``, write ``results/README.md`` and ``results/plots/<set>.png``; the page's path."""
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    records = load_records(results)
    grid = cells(records)
    ks = ks_of(records)
    plots: dict[str, str] = {}
    for name in sets_of(records):
        if plot_set(grid, name, ks, results / PLOTS / f"{name}.png"):
            plots[name] = f"{PLOTS}/{name}.png"
    for stale in (results / PLOTS).glob("*.png"):
        if f"{PLOTS}/{stale.name}" not in plots.values():
            stale.unlink()
    page = results / PAGE
    text = render(records, plots, results)
    return write_page(page, text)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the page; prints its path."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transfer_report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=transfer_plan.OUT,
                        help="folder of the records (default results/transfer); the page is <results>/README.md")
    args = parser.parse_args(argv)
    print(write_report(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
