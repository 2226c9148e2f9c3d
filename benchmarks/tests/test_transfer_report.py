"""benchmarks/transfer_report.py: the transfer benchmark's page, from fake records with known numbers (no training).

The study is imported from the ``benchmarks`` package, the plan from ``benchmarks.common.transfer_plan``.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from benchmarks import transfer_report
from benchmarks.common import heldout, transfer_plan

#: set -> k -> start -> accuracies of seeds 0, 1, 2
ACCURACY: dict[str, dict[int, dict[str, list[float]]]] = {
    "tweets": {
        8: {"ft": [0.50, 0.52, 0.54], "imprint": [0.70, 0.72, 0.74], "zoo": [0.60, 0.61, 0.62],
            "setfit": [0.66, 0.68, 0.70]},
        32: {"ft": [0.60, 0.64, 0.68], "imprint": [0.63, 0.65, 0.67], "zoo": [0.80, 0.81, 0.82],
             "setfit": [0.70, 0.72, 0.74]},
    },
    "debates": {
        8: {"ft": [0.55, 0.56, 0.57], "imprint": [0.58, 0.59, 0.60], "zoo": [0.50, 0.52, 0.54],
            "setfit": [0.60, 0.61, 0.62]},
        32: {"ft": [0.60, 0.61, 0.62], "imprint": [0.62, 0.63, 0.64], "setfit": [0.63, 0.64, 0.65]},
    },
}
#: (set, k) -> suggest's top candidate per seed for the zoo runs; debates k=32's zoo runs are skipped
TOP = {("tweets", 8): ["imprint"] * 3, ("tweets", 32): ["sst2/probe (shipped)"] * 3,
       ("debates", 8): ["imprint", "sst2/lora (shipped)", "sst2/lora (shipped)"]}
SECONDS = {"ft": 10.0, "imprint": 12.0, "zoo": 20.0, "setfit": 40.0}
SUGGEST = 3.0


def _record(name: str, k: int, start: str, seed: int, **extra: Any) -> dict[str, Any]:
    """A record as transfer.py writes it (the fields the page reads)."""
    record: dict[str, Any] = {
        **transfer_plan.run_settings(name, k, start, seed, transfer_plan.budget_steps(2 * k)), "settings_hash": "fake",
        "labels": ["a", "b"], "train_examples": 2 * k, "test_examples": 300, "source": f"fake {name}",
        "label_map": {},
        "machine": {"platform": "Linux x86_64", "cpu": "Fake CPU", "cpu_count": 2, "torch": "2.0",
                    "torch_threads": 2, "transformers": "4.0", "python": "3.11", "accelerator": None},
        "command": "HF_HUB_OFFLINE=1 python benchmarks/transfer.py --sets tweets,debates",
    }
    return {**record, **extra}


def _scored(name: str, k: int, start: str, seed: int, accuracy: float) -> dict[str, Any]:
    seconds = {"total": SECONDS[start], "predict": 1.0}
    extra: dict[str, Any] = {}
    if start != "setfit":
        seconds.update(suggest=SUGGEST if start == "zoo" else 0.0, stage1=0.0, stage2=5.0)
        extra["steps"] = {"stage1": 0, "stage2": 30}
    if start == "zoo":
        head = "sst2/lora" if name == "debates" else "sst2/probe"
        suggestion = {"source": head, "label_fit": f"1 of 2 rows from {head}", "accuracy": 0.6, "macro_f1": 0.5}
        extra.update(suggest_top=TOP[(name, k)][seed], suggestion=suggestion, ranking=[suggestion])
    return _record(name, k, start, seed, accuracy=accuracy, macro_f1=accuracy - 0.05, seconds=seconds, **extra)


def _write(root: Path, record: dict[str, Any]) -> None:
    path = transfer_plan.record_path(root, record["set"], record["k"], record["start"], record["seed"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Records of 2 sets, k 8 and 32, 3 seeds; one of another record_version; debates k=32's zoo skipped.

    Their zoo picks are taken as current (some have imprint on top while the run took a head, which suggest's
    order no longer gives): these tests are of the page's arithmetic; stale picks have a test of their own.
    """
    monkeypatch.setattr(transfer_plan, "zoo_pick_is_current", lambda record: True)
    for name, by_k in ACCURACY.items():
        for k, by_start in by_k.items():
            for start, values in by_start.items():
                for seed, value in enumerate(values):
                    _write(tmp_path, _scored(name, k, start, seed, value))
    for seed in range(3):
        _write(tmp_path, _record("debates", 32, "zoo", seed, skipped="no zoo head shares a label with the set",
                                 seconds={"total": 2.0}))
    _write(tmp_path, {**_scored("tweets", 8, "ft", 3, 0.99), "record_version": transfer_plan.RECORD_VERSION + 1})
    _write(tmp_path, {**_scored("tweets", 8, "ft", 4, 0.99), "learning_rate": 1e-3})  # settings of the past
    return tmp_path


@pytest.fixture
def three_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan: the 2 sets of the fake records and their 3 seeds (k=128 stays planned, with no records)."""
    monkeypatch.setattr(heldout, "SETS", ("tweets", "debates"))
    monkeypatch.setattr(transfer_plan, "SEEDS", (0, 1, 2))


def _row(page: str, name: str, label: str) -> list[str]:
    """The cells of one row of a set's table."""
    section = page.split(f"\n## {name}\n")[1].split("\n## ")[0]
    lines = [ln for ln in section.splitlines() if ln.startswith(f"| {label} |")]
    assert len(lines) == 1, (name, label, lines)
    return [c.strip() for c in lines[0].strip("|").split("|")]


def _pct(values: list[float]) -> str:
    return f"{100 * statistics.fmean(values):.1f} ± {100 * statistics.stdev(values):.1f}"


def _page(results: Path) -> str:
    assert transfer_report.main(["--results", str(results)]) == 0
    page = results / "README.md"
    assert page.is_file()
    return page.read_text(encoding="utf-8")


@pytest.mark.usefixtures("three_seeds")
def test_page_numbers_verdicts_auto_and_plots(results: Path) -> None:
    page = _page(results)
    assert "do not edit by hand" in page.lower()
    assert "`HF_HUB_OFFLINE=1 python benchmarks/transfer.py --sets tweets,debates`" in page
    assert "Fake CPU" in page
    # 2 sets x 2 of 3 k x 4 of 9 starts x 3 seeds have records (the zoo's skipped ones count as done)
    # 13 starts on these sets (14, less the zero-shot sst2-zs, planned on the reviews only), no SetFit or FT 10x
    # at k=128
    assert f"Status: 48 of {2 * 3 * (3 * 13 - 2)} planned runs done." in page

    ft = _row(page, "tweets", "FT")
    values = ACCURACY["tweets"][8]["ft"]
    assert _pct(values) == "52.0 ± 2.0"
    assert ft[1] == f"{_pct(values)} (3)"  # the other-version and other-settings records (0.99) are not in it
    assert ft[2] == _pct([v - 0.05 for v in values])
    assert ft[3] == "10.0" and ft[4] == "baseline"
    assert "1 record(s) of record_version 2" in page
    assert "1 record(s) whose settings differ from what transfer.py runs now in learning_rate" in page

    imprint = _row(page, "tweets", "imprint → FT")
    assert imprint[1] == "72.0 ± 2.0 (3)"
    assert imprint[4] == "better (+20.0)"  # 20 points, SE sqrt(4/3 + 4/3) = 1.6
    se = math.sqrt(4.0**2 / 3 + 2.0**2 / 3)  # k=32: a 1-point difference against an SE of 2.6
    assert 1.0 < 2 * se and imprint[8] == "tie (+1.0)"

    auto = _row(page, "tweets", "auto (`--from auto`)")
    assert auto[1] == imprint[1]  # suggest's top is imprint at k=8: auto takes the imprint runs
    assert auto[3] == f"{SECONDS['imprint'] + SUGGEST:.1f}"  # imprint's time plus suggest's
    assert auto[5] == _row(page, "tweets", "zoo head → FT")[5] == "81.0 ± 1.0 (3)"  # a head at k=32: the zoo runs
    mixed = [ACCURACY["debates"][8]["imprint"][0], *ACCURACY["debates"][8]["zoo"][1:]]
    assert _row(page, "debates", "auto (`--from auto`)")[1] == f"{_pct(mixed)} (3)"
    skipped = _row(page, "debates", "zoo head → FT")
    assert skipped[5] == "skipped (3)"
    no_head = _row(page, "debates", "auto (`--from auto`)")  # no head shares a label: imprint's runs
    assert no_head[5] == "63.0 ± 1.0 (3)" and no_head[7] == "12.0 (no suggest)"

    assert "took `sst2/probe` in 3 of 3 seeds (1 of 2 rows from sst2/probe)" in page
    tweets = page.split("\n## tweets\n")[1].split("\n## ")[0]
    # auto 72.0 ± 2.0 against SetFit 68.0 ± 2.0 at k=8 (SE 1.6); the zoo runs' 81.0 ± 1.0 against 72.0 ± 2.0 at k=32
    assert "- k=8: auto is as accurate or better and no slower (+4.0 points, better at 2 SE; 15.0 s vs 40.0 s)." \
        in tweets
    assert "- k=32: auto is as accurate or better and no slower (+9.0 points, better at 2 SE; 20.0 s vs 40.0 s)." \
        in tweets

    which = page.split("## Which start to use")[1].split("\n## ")[0]
    gain8 = statistics.fmean([72.0 - 52.0, 59.0 - 56.0])
    assert f"- With 8 examples per class: start from **imprint** (+{gain8:.1f} points over FT on average over 2 " \
           f"sets, {SECONDS['imprint']:.1f} s)." in which
    # k=32: the zoo row is out (debates' zoo runs are skipped); auto = the zoo runs on tweets, imprint's on debates
    gain32 = statistics.fmean([81.0, 63.0]) - statistics.fmean([64.0, 61.0])
    assert f"- With 32 examples per class: start from **auto** (+{gain32:.1f} points over FT on average over 2 sets, " \
           "16.0 s). Not in the comparison (incomplete cells): ft3x, ft10x, lp-ft, eh-ft, zoo, auto3x, frozen, " \
           "auto-se, ft-se, imprint-se." in which
    assert "- k=8: tweets not run; debates not run." in which
    assert "- With 128 examples per class: no recommendation yet" in which

    not_run = page.split("## Not run")[1]
    # no SetFit, FT 10x at k=128; no sst2-zs off the reviews
    assert "- tweets k=128: ft, ft3x, lp-ft, eh-ft, imprint, zoo, auto3x, frozen, auto-se, ft-se, imprint-se\n" \
        in not_run
    assert "- debates k=8: ft3x, ft10x, lp-ft, eh-ft" in not_run

    for name in ("tweets", "debates"):
        assert f"![{name}: accuracy against k](plots/{name}.png)" in page
        assert (results / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cells_with_fewer_seeds_than_planned_are_incomplete(results: Path) -> None:
    page = _page(results)  # the real plan: 5 seeds and 3 sets
    assert _row(page, "tweets", "FT")[1] == "52.0 ± 2.0 (3 of 5, incomplete)"
    assert ("- With 8 examples per class: no recommendation yet (FT's cells are not complete on all 3 sets); so far, "
            "on incomplete cells of tweets, debates, **imprint** leads (+11.5 points over FT, 12.0 s).") in page
    assert "- With 128 examples per class: no recommendation yet (FT's cells are not complete on all 3 sets).\n" \
        in page
    assert "- reviews k=8: ft, ft3x" in page
    assert "- tweets k=8: ft, imprint, zoo, setfit (seeds 3, 4 missing)" in page
    assert "\n## reviews\n\nNo records yet.\n" in page


def test_verdict_rule() -> None:
    def cell(mean: float, std: float | None, n: int) -> Any:
        return transfer_report.Stats(n, mean, std, None, None, None, 0, list(range(n)))

    assert transfer_report.compare(cell(80.0, 1.0, 3), cell(70.0, 1.0, 3)) == ("better", 10.0)
    assert transfer_report.compare(cell(60.0, 1.0, 3), cell(70.0, 1.0, 3)) == ("worse", -10.0)
    assert transfer_report.compare(cell(71.0, 3.0, 3), cell(70.0, 3.0, 3)) == ("tie", 1.0)
    assert transfer_report.compare(cell(90.0, None, 1), cell(70.0, 1.0, 3)) == ("n/a", 20.0)


def test_recommendation_names_the_best_start_at_the_budget_and_what_more_cost_buys() -> None:
    grid = {}
    for name in ("a", "b"):
        grid[(name, 32, "ft")] = _outcomes(FIVE["low"], 10.0)
        grid[(name, 32, transfer_report.AUTO)] = _outcomes(FIVE["mid"], 12.0)
        grid[(name, 32, "setfit")] = _outcomes(FIVE["high"], 300.0)
    line = transfer_report.recommendation(grid, ["a", "b"], 32)
    assert line.startswith("- With 32 examples per class: start from **auto** (+10.0 points over FT on average "
                           "over 2 sets, 12.0 s); more accurate at more cost: **setfit** (+20.0 points")
    grid[("a", 32, "setfit")] = grid[("b", 32, "setfit")] = _outcomes(FIVE["high"], 5.0)
    assert "; more accurate, and no slower: **setfit**" in transfer_report.recommendation(grid, ["a", "b"], 32)
    grid[("a", 32, "setfit")] = grid[("b", 32, "setfit")] = _outcomes(FIVE["low"], 300.0)
    assert "more cost" not in transfer_report.recommendation(grid, ["a", "b"], 32)


def test_paired_verdict_leaves_out_the_luck_of_the_sample() -> None:
    base = [0.50, 0.60, 0.70, 0.55, 0.65]  # samples of very different luck
    row = [b + d for b, d in zip(base, [0.02, 0.01, 0.02, 0.015, 0.01], strict=True)]
    unpaired = transfer_report.compare(transfer_report.stats(_outcomes(row, 1.0)),
                                       transfer_report.stats(_outcomes(base, 1.0)))
    assert unpaired[0] == "tie"
    got = transfer_report.paired(_outcomes(row, 1.0), _outcomes(base, 1.0))
    assert (got.n, got.ahead, got.verdict) == (5, 5, "better")
    assert got.diff == pytest.approx(1.5) and got.se == pytest.approx(0.2236, abs=1e-3)
    # only common seeds count; one seed is too few for a verdict
    assert transfer_report.paired(_outcomes(row, 1.0)[:1], _outcomes(base, 1.0)).verdict == "n/a"
    assert transfer_report.paired(_outcomes(row, 1.0), _outcomes(base, 1.0)[3:]).n == 2


def test_seeds_to_show_is_the_smallest_n_whose_two_se_rule_passes_at_the_observed_spread() -> None:
    tie = transfer_report.Paired(5, 3, 2.0, 1.5, "tie")
    n = transfer_report.seeds_to_show(tie)
    sd = 1.5 * math.sqrt(5)
    assert 2.0 > 2 * sd / math.sqrt(n) and not 2.0 > 2 * sd / math.sqrt(n - 1)
    assert transfer_report.seeds_to_show(transfer_report.Paired(5, 1, -1.0, 1.0, "tie")) is None  # behind FT
    assert transfer_report.seeds_to_show(transfer_report.Paired(1, 1, 1.0, None, "n/a")) is None
    # the target's line names it for a tie that is ahead on the mean, and says it is no plan
    base = [0.50, 0.60, 0.70, 0.55, 0.65]
    grid = {("a", 8, "ft"): _outcomes(base, 10.0), ("a", 8, "eh-ft"): _outcomes(base, 30.0),
            ("a", 8, transfer_report.AUTO): _outcomes([b + d for b, d in zip(
                base, [0.04, -0.02, 0.03, 0.0, 0.01], strict=True)], 12.0)}
    lines = transfer_report.target_default(grid, ["a"], [8])
    pair = transfer_report.paired(grid[("a", 8, transfer_report.AUTO)], grid[("a", 8, "ft")])
    assert pair.verdict == "tie"
    assert f"would need {transfer_report.seeds_to_show(pair)} seeds to show at 2 SE" in lines[1]
    assert "optional stopping" in lines[0]


def test_start_at_more_budget_compares_auto_and_ft_at_3x_seed_by_seed() -> None:
    grid = {("a", 128, "ft3x"): _outcomes([0.50, 0.60, 0.70, 0.55, 0.65], 80.0),
            ("a", 128, "auto3x"): _outcomes([0.52, 0.61, 0.72, 0.565, 0.66], 90.0),
            ("b", 128, "ft3x"): _outcomes(FIVE["mid"], 80.0)}
    lines = transfer_report.start_at_more_budget(grid, ["a", "b"], [128])
    assert lines[-1] == ("- k=128: a better (+1.5 ± 0.2 SE, ahead in 5 of 5 seeds; unpaired tie; 61.5 ± 7.8 % in "
                         "90.0 s); b not run.")
    grid[("b", 128, "auto3x")] = _outcomes(FIVE["mid"][:1], 90.0)
    assert "b n/a (1 common seed)" in transfer_report.start_at_more_budget(grid, ["a", "b"], [128])[-1]


def _outcomes(accuracies: list[float], seconds: float) -> list[Any]:
    return [transfer_report.Outcome(seed, acc, acc - 0.05, seconds) for seed, acc in enumerate(accuracies)]


FIVE = {"low": [0.50, 0.51, 0.52, 0.53, 0.54], "mid": [0.60, 0.61, 0.62, 0.63, 0.64],
        "high": [0.70, 0.71, 0.72, 0.73, 0.74]}


def test_target_default_needs_better_than_ft_and_not_worse_than_eh_ft_in_every_cell() -> None:
    grid = {}
    for name in ("a", "b"):
        grid[(name, 8, "ft")] = _outcomes(FIVE["low"], 10.0)
        grid[(name, 8, "eh-ft")] = _outcomes(FIVE["mid"], 30.0)
        grid[(name, 8, transfer_report.AUTO)] = _outcomes(FIVE["mid"] if name == "a" else FIVE["low"], 12.0)
    lines = transfer_report.target_default(grid, ["a", "b"], [8])
    assert "**not met** in 1 of 2 cells (b k=8)" in lines[0]
    assert ("  - a k=8: vs FT better (+10.0; paired by seed: better, ahead in 5 of 5 seeds, +10.0 ± 0.0 SE); "
            "vs EH-FT tie (+0.0, 12.0 s vs 30.0 s)") in lines
    assert "better than FT at 2 SE in 1 of 2 cells" in lines[0]
    grid[("b", 8, transfer_report.AUTO)] = _outcomes(FIVE["high"], 12.0)
    assert "**met** in every cell" in transfer_report.target_default(grid, ["a", "b"], [8])[0]
    grid[("b", 8, transfer_report.AUTO)] = _outcomes(FIVE["high"][:3], 12.0)  # 3 of 5 seeds
    assert "not met so far" not in transfer_report.target_default(grid, ["a", "b"], [8])[0]
    assert "not decided yet" in transfer_report.target_default(grid, ["a", "b"], [8])[0]


def test_target_default_says_where_no_start_beats_ft_at_the_budget_or_at_all() -> None:
    grid = {}
    for name in ("a", "b", "c"):
        grid[(name, 8, "ft")] = _outcomes(FIVE["low"], 10.0)
        grid[(name, 8, "eh-ft")] = _outcomes(FIVE["low"], 30.0)
        grid[(name, 8, transfer_report.AUTO)] = _outcomes(FIVE["low"], 12.0)  # ties FT: the target fails everywhere
    grid[("a", 8, "imprint")] = _outcomes(FIVE["high"], 12.0)  # a start at the budget that beats FT
    grid[("b", 8, "ft10x")] = _outcomes(FIVE["mid"], 90.0)  # only more steps beat FT
    grid[("c", 8, "ft10x")] = _outcomes(FIVE["low"], 90.0)  # nothing does
    grid[("c", 8, "setfit")] = _outcomes(FIVE["mid"][:1], 40.0)  # one seed: not a complete cell, not counted
    last = transfer_report.target_default(grid, ["a", "b", "c"], [8])[-1]
    assert last.startswith("  Where target 1 is not met, the rows better than FT at 2 SE (unpaired): ")
    assert "a k=8: at the budget imprint → FT; beyond it none" in last
    assert "b k=8: at the budget none; beyond it FT 10× budget" in last
    assert "c k=8: at the budget none; beyond it none" in last
    assert "In 2 of 3 of these cells no start at the stage-2 budget is better than FT, and in 1 (c k=8) no row" in last
    for name in ("a", "b", "c"):
        grid[(name, 8, transfer_report.AUTO)] = _outcomes(FIVE["high"], 12.0)
    assert not transfer_report.target_default(grid, ["a", "b", "c"], [8])[-1].startswith("  Where")


def test_target_setfit_counts_sets_not_worse_and_no_slower_and_names_the_catch_up_budget() -> None:
    grid = {}
    for name, auto, seconds in (("a", "high", 10.0), ("b", "low", 10.0), ("c", "high", 99.0)):
        for k in transfer_report.SETFIT_KS:
            grid[(name, k, transfer_report.AUTO)] = _outcomes(FIVE[auto], seconds)
            grid[(name, k, "setfit")] = _outcomes(FIVE["high"], 50.0)
    grid[("b", 8, "ft3x")] = _outcomes(FIVE["mid"], 30.0)
    grid[("b", 8, "ft10x")] = _outcomes(FIVE["high"], 90.0)
    lines = transfer_report.target_setfit(grid, ["a", "b", "c"])
    assert lines[1].startswith("  - k=8: **not met** (1 of 3 sets: a)")
    assert ("b (less accurate: -20.0 points, worse at 2 SE; FT 10× budget is not worse at 2 SE: 72.0 ± 1.6 % "
            "against SetFit's 72.0 %, in 90.0 s)" in lines[1])
    assert "c (as accurate, +0.0 points, but slower: 99.0 s vs 50.0 s)" in lines[1]
    assert "b (less accurate: -20.0 points, worse at 2 SE; more budget not run yet)" in lines[2]
    grid[("b", 8, "auto3x")] = _outcomes(FIVE["high"], 40.0)  # the default start at 3x comes first
    assert "b (less accurate: -20.0 points, worse at 2 SE; auto, 3× budget is not worse at 2 SE: 72.0 ± 1.6 % " \
        "against SetFit's 72.0 %, in 40.0 s)" in transfer_report.target_setfit(grid, ["a", "b", "c"])[1]
    grid[("b", 8, "auto3x")] = grid[("b", 8, "ft10x")] = _outcomes(FIVE["low"], 40.0)
    assert "no longer budget measured reaches it (tried: auto, 3× budget, FT 3× budget, FT 10× budget)" in \
        transfer_report.target_setfit(grid, ["a", "b", "c"])[1]
    grid[("c", 32, transfer_report.AUTO)] = _outcomes(FIVE["high"], 10.0)
    assert transfer_report.target_setfit(grid, ["a", "b", "c"])[2].startswith("  - k=32: **met** (2 of 3 sets: a, c)")


def test_a_zoo_record_suggests_order_would_not_pick_is_ignored_and_counted(tmp_path: Path) -> None:
    head = {"rank": 2, "source": "sst2/probe", "origin": "shipped", "label_fit": "2 of 2 rows", "accuracy": 0.6,
            "macro_f1": 0.5, "rows_from_head": 2, "examples": 16, "repo_id": None}
    imprint = {**head, "rank": 1, "source": "imprint", "origin": "imprint", "macro_f1": 0.7, "rows_from_head": 0}
    old = _scored("tweets", 8, "zoo", 0, 0.6)
    old.update(suggest_top="imprint", suggestion=head, ranking=[imprint, head])  # imprint on top: the old order
    _write(tmp_path, old)
    current = _scored("tweets", 8, "zoo", 1, 0.6)
    current.update(suggest_top="sst2/probe (shipped)", suggestion=head, ranking=[head, {**imprint, "rank": 2}])
    _write(tmp_path, current)
    records = transfer_report.load_records(tmp_path)
    assert list(records.runs) == [("tweets", 8, "zoo", 1)]
    assert records.stale == {"suggest's order": 1}


def test_the_committed_page_is_what_the_generator_makes_of_the_committed_records() -> None:
    """results/transfer/README.md is regenerated after every change of the records or the page's code."""
    results = transfer_plan.OUT
    records = transfer_report.load_records(results)
    plots = {name: f"{transfer_report.PLOTS}/{name}.png" for name in transfer_report.sets_of(records)
             if (results / transfer_report.PLOTS / f"{name}.png").is_file()}
    page = (results / transfer_report.PAGE).read_text(encoding="utf-8")
    assert transfer_report.render(records, plots, results) == page, "run: python -m benchmarks.transfer_report"


def test_the_floor_section_holds_the_starts_against_the_frozen_embedding() -> None:
    def cell(values: list[float]) -> list[transfer_report.Outcome]:
        return [transfer_report.Outcome(seed, v, v, 2.0) for seed, v in enumerate(values)]

    grid = {("tweets", 8, "frozen"): cell([0.60, 0.62, 0.61]),
            ("tweets", 8, "auto"): cell([0.50, 0.52, 0.51]),
            ("tweets", 8, "ft"): cell([0.61, 0.60, 0.63]),
            ("tweets", 8, "setfit"): cell([0.70, 0.71, 0.72])}
    lines = transfer_report.floor_section(grid, ["tweets"], [8])
    assert lines[0].startswith("## The floor")
    line = next(ln for ln in lines if ln.startswith("- k=8"))
    assert "tweets 61.0 ± 1.0 in 2.0 s" in line
    assert "auto worse (-10.0)" in line and "SetFit better (+10.0)" in line and "FT tie" in line
    assert transfer_report.floor_section({}, ["tweets"], [8]) == []
