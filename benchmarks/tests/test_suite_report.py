"""benchmarks/suite.py (plan, dry run, a tiny real run) and benchmarks/report.py (the generated results page).

The studies are imported from the ``benchmarks`` package, their plan from ``benchmarks.common.suite_plan``;
``tiny_backbone`` and ``data_dir`` come from tests/conftest.py (through this folder's conftest.py). The report
tests write fake run records (``FinetuneResult(...).to_dict()``, as compare stores them) into a temporary
results root and check the numbers on the page.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_order, bench_speed, lr_search, report, suite
from benchmarks.common import pages, suite_plan
from benchmarks.common.records import machine_info
from headzoo.train import RECORD_VERSION, FinetuneResult, run_key

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")


def _record(task: str, strategy: str, method: str | None, seed: int, protocol: str, final: float,
            best: float | None = None, epochs: float | None = None, wall: float = 100.0) -> dict[str, Any]:
    """A runs.jsonl line for one run with the suite's settings (``epochs`` overrides them)."""
    grid = suite_plan.build_plan([task], [protocol], results=Path("unused"))[0]
    settings = suite_plan.expected_settings(grid, strategy, method, seed, suite_plan.BACKBONE_ID)
    settings["data"] = {"dataset": "aps/super_glue", "dataset_config": task, "dataset_name": task,
                        "eval_split": "validation", "train_size": grid.train_size, "eval_size": grid.eval_size,
                        "data_limit": None}
    settings["world_size"] = 1
    settings["head"] = f"sha256:{method}0123456789" if protocol == "zoo" and strategy != "ft" else None
    if epochs is not None:
        settings["epochs"] = epochs
    s1 = 0 if strategy == "ft" else grid.stage1_steps
    stage1 = None if strategy == "ft" else {
        "source": "given" if protocol == "zoo" else "trained", "method": method, "steps": s1,
        "learning_rate": settings["stage1"]["learning_rate"], "metrics": {"accuracy": 0.5}, "wall_seconds": 12.0,
    }
    best = final if best is None else best
    result = FinetuneResult(
        task=task, backbone=suite_plan.BACKBONE_ID, strategy=strategy, method=method, seed=seed, protocol=protocol,
        main_metric="accuracy", final={"accuracy": final, "loss": 0.5}, best={"accuracy": best, "loss": 0.4},
        best_epoch=grid.epochs, best_step=grid.budget_steps,
        history=[{"epoch": grid.epochs, "step": grid.budget_steps, "stage": 2, "accuracy": final}],
        stage1=stage1, steps_per_epoch=grid.steps_per_epoch, budget_steps=grid.budget_steps, stage1_steps=s1,
        stage2_steps=grid.budget_steps - (s1 if protocol == "matched" else 0),
        stage1_seconds=12.0 if stage1 and protocol == "matched" else 0.0, stage2_seconds=wall,
        examples_per_second=20.0, settings=settings, settings_hash=f"h{seed}{strategy}{method}{protocol}{epochs}",
    )
    key = run_key(strategy, method, seed, result.settings_hash)
    return {"key": key, "strategy": strategy, "method": method, "seed": seed, "settings_hash": result.settings_hash,
            "record_version": RECORD_VERSION, "result": result.to_dict()}


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for entry in records:
            f.write(json.dumps(entry) + "\n")


FT = [0.70, 0.72, 0.68, 0.71, 0.69]  # mean 70.00, std sqrt(2.5) = 1.58


def _row(page: str, label: str, protocol: str) -> str:
    """The CB table's line of (label, protocol)."""
    section = page.split("## CB:")[1].split("\n## ")[0]
    lines = [ln for ln in section.splitlines() if ln.startswith(f"| {label} | {protocol}")]
    assert len(lines) == 1, (label, protocol, lines)
    return lines[0]


@pytest.fixture
def cb_results(tmp_path: Path) -> Path:
    """A results root with a partial CB grid (matched in results/cb as the suite writes it, zoo in cb/zoo)."""
    root = tmp_path / "results"
    matched = [_record("cb", "ft", None, s, "matched", v, best=v + 0.01) for s, v in enumerate(FT)]
    matched += [_record("cb", "eh-ft", "lora", s, "matched", v + 0.10) for s, v in enumerate(FT)]
    matched += [_record("cb", "eh-ft", "bitfit", s, "matched", v - 0.10) for s, v in enumerate(FT)]
    matched += [_record("cb", "lp-ft", "probe", s, "matched", v)
                for s, v in enumerate([0.70, 0.71, 0.69, 0.72, 0.68])]
    matched += [_record("cb", "eh-ft", "prefix", 0, "matched", 0.75)]
    matched += [_record("cb", "ft", None, 0, "matched", 0.40, epochs=3.0)]  # other settings: listed apart
    _write(root / "cb" / "runs.jsonl", matched)
    zoo = [_record("cb", "eh-ft", "lora", s, "zoo", v) for s, v in enumerate([0.74, 0.76])]
    zoo += [_record("cb", "ft", None, 0, "zoo", 0.99)]  # FT seed 0 again under zoo: counted once (matched first)
    _write(root / "cb" / "zoo" / "runs.jsonl", zoo)
    return root


def test_report_numbers_verdicts_and_plots(cb_results: Path) -> None:
    page_path = report.write_report(cb_results)
    page = page_path.read_text(encoding="utf-8")
    assert page_path == cb_results / "README.md"
    assert "do not edit by hand" in page.lower()

    std = statistics.stdev([100 * v for v in FT])
    assert f"{std:.2f}" == "1.58"
    assert "| 5/5 (0, 1, 2, 3, 4) | 70.00 ± 1.58 | 71.00 ± 1.58 | — | baseline |" in _row(page, "FT", "both")
    se = math.sqrt(std**2 / 5 + std**2 / 5)
    lora = _row(page, "EH-FT (lora)", "matched")
    assert f"| 80.00 ± 1.58 | 80.00 ± 1.58 | +10.00 (SE {se:.2f}) | beats FT | +9.00 |" in lora
    assert "| 8 + 72 |" in lora
    assert "| -10.00 (SE 1.00) | below FT |" in _row(page, "EH-FT (bitfit)", "matched")
    assert "| 70.00 ± 1.58 |" in _row(page, "LP-FT", "matched")
    assert "| +0.00 (SE 1.00) | ties |" in _row(page, "LP-FT", "matched")
    assert "| 75.00 (1 seed) |" in _row(page, "EH-FT (prefix)", "matched")
    assert "| too few seeds |" in _row(page, "EH-FT (prefix)", "matched")
    assert "| 0/5 | not run yet |" in _row(page, "EH-FT (ia3)", "matched")
    zoo_lora = _row(page, "EH-FT (lora)", "zoo")
    zoo_se = math.sqrt(statistics.stdev([74.0, 76.0]) ** 2 / 2 + std**2 / 5)
    assert "| 2/5 (0, 1) | 75.00 ± 1.41 |" in zoo_lora and f"+5.00 (SE {zoo_se:.2f}) | beats FT |" in zoo_lora
    assert "| 8 + 80 | 12 (once) |" in zoo_lora  # the zoo head: 8 steps, made once in 12 s

    overview = page.split("## Overview")[1].split("\n## ")[0]
    assert "| FT | both (no stage 1) | 70.00 | not run yet |" in overview
    assert "| EH-FT (prefix) | matched | 75.00 (1/5) |" in overview
    assert "(0 of 7)" in overview  # no task complete: no average
    assert "| paper: EH-FT(BitFit) | RoBERTa-large, matched | 99.12 | 94.75 | 88.10 | 91.00 | 75.20 | 68.78 | 92.25 |" \
        in overview

    for name in ("COPA", "RTE", "MRPC", "WiC", "CoLA", "STS-B"):
        section = page.split(f"## {name}:")[1].split("\n## ")[0]
        assert "**Not run yet**" in section
        assert "python -m benchmarks.suite --tasks" in section
    other = page.split("## Other records")[1].split("\n## ")[0]
    assert "| cb | ft | matched | 0 | 3.0 | 250 | 40.00 |" in other
    assert "| cb | ft | zoo | 0 |" in other and "99.00" not in page.split("## Other records")[0]
    assert "Settings, from the records:" in page and "stage-2 lr 5e-05" in page
    assert "Report generated on" in page

    for name in ("cb.png", "overview.png"):
        data = (cb_results / "plots" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert not (cb_results / "plots" / "copa.png").exists()
    assert page == report.write_report(cb_results).read_text(encoding="utf-8")  # same records, same page


def test_report_average_over_complete_tasks(tmp_path: Path) -> None:
    root = tmp_path / "results"
    records = []
    offsets = {("lp-ft", "probe"): 0.01, ("eh-ft", "lora"): 0.02, ("eh-ft", "bitfit"): 0.03,
               ("eh-ft", "prefix"): -0.01, ("eh-ft", "ia3"): 0.0}
    for seed, value in enumerate(FT):
        records.append(_record("cb", "ft", None, seed, "matched", value))
        for protocol in suite_plan.PROTOCOLS:
            records += [_record("cb", s, m, seed, protocol, value + off) for (s, m), off in offsets.items()]
    _write(root / "cb" / "runs.jsonl", records)
    page = report.write_report(root).read_text(encoding="utf-8")
    overview = page.split("## Overview")[1].split("\n## ")[0]
    assert "(1 of 7: cb)" in overview
    assert "| FT | both (no stage 1) | 70.00 | not run yet | not run yet | not run yet | not run yet | not run yet " \
           "| not run yet | 70.00 | — |" in overview
    assert "| EH-FT (bitfit) | zoo | 73.00 |" in overview and "| 73.00 | +3.00 |" in overview
    assert "55 of 55 planned runs finished (complete)." in page


def test_overview_median_difference_is_not_moved_by_one_far_task(tmp_path: Path) -> None:
    root = tmp_path / "results"
    lora_offset = {"cb": 0.01, "copa": 0.02, "rte": 0.30}  # one task far ahead of FT
    for task, offset in lora_offset.items():
        records = []
        for seed, value in enumerate(FT):
            records.append(_record(task, "ft", None, seed, "matched", value))
            for protocol in suite_plan.PROTOCOLS:
                records += [_record(task, s, m, seed, protocol, value) for s, m in
                            [("lp-ft", "probe"), ("eh-ft", "bitfit"), ("eh-ft", "prefix"), ("eh-ft", "ia3")]]
                records.append(_record(task, "eh-ft", "lora", seed, protocol, value + offset))
        _write(root / task / "runs.jsonl", records)
    overview = report.write_report(root).read_text(encoding="utf-8").split("## Overview")[1].split("\n## ")[0]
    assert "(3 of 7: cb, copa, rte)" in overview
    lora = next(ln for ln in overview.splitlines() if ln.startswith("| EH-FT (lora) | zoo |"))
    assert lora.endswith("| 81.00 | +11.00 | +2.00 |"), lora  # mean of +1, +2, +30; median +2
    lp_ft = next(ln for ln in overview.splitlines() if ln.startswith("| LP-FT | zoo |"))
    assert lp_ft.endswith("| +0.00 | +0.00 |"), lp_ft
    assert "| paper: EH-FT(BitFit) | RoBERTa-large, matched |" in overview


def test_verdict_rule() -> None:
    def row(values: list[float]) -> Any:
        r = report.Row("eh-ft", "lora", "matched", planned=len(values))
        r.runs = [report.Run(f"k{i}", "f", {"task": "cb", "seed": i, "main_metric": "accuracy",
                                            "final": {"accuracy": v}, "best": {"accuracy": v}})
                  for i, v in enumerate(values)]
        return r

    ft = row([0.70, 0.72])
    assert report.compare_to_ft(row([0.80, 0.82]), ft).verdict == "beats FT"
    assert report.compare_to_ft(row([0.70, 0.73]), ft).verdict == "ties"
    assert report.compare_to_ft(row([0.60, 0.62]), ft).verdict == "below FT"
    assert report.compare_to_ft(row([0.90]), ft).verdict == "too few seeds"
    assert report.compare_to_ft(row([]), ft).verdict == "not run yet"
    assert report.compare_to_ft(row([0.9, 0.9]), row([])).verdict == "no FT runs yet"


def test_plan_budgets_follow_the_paper() -> None:
    grids = {g.task: g for g in suite_plan.build_plan(list(suite_plan.TASKS), ["matched"], results=Path("r"))}
    assert len(grids) == 7
    assert {t: g.epochs for t, g in grids.items()} == {
        "cb": 10.0, "copa": 10.0, "rte": 1.5, "mrpc": 1.5, "wic": 1.0, "cola": 0.5, "stsb": 0.5}
    assert {t: len(g.seeds) for t, g in grids.items()} == {
        "cb": 5, "copa": 5, "rte": 5, "mrpc": 5, "wic": 5, "cola": 5, "stsb": 5}
    assert grids["cb"].out_dir == Path("r/cb")  # the CB grid that predates the suite
    assert (grids["cb"].budget_steps, grids["cb"].stage1_steps) == (80, 8)
    assert len(grids["rte"].runs()) == 6 * 5
    zoo = suite_plan.build_plan(["rte"], ["zoo"], results=Path("r"))[0]
    assert zoo.out_dir == Path("r/rte/zoo") and len(zoo.runs()) == 5 * 5  # no FT under zoo


def test_dry_run_prints_the_plan_without_training(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import headzoo.train

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("--dry-run must not train")

    # the suite looks compare up on headzoo.train when it runs; nothing else it could call may train either
    for name in ("compare", "finetune", "pretrain_head"):
        monkeypatch.setattr(headzoo.train, name, no_training)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "results"
    here, gpu = _record("cb", "ft", None, 0, "matched", 0.7, wall=600.0), _record("cb", "ft", None, 2, "matched", 0.7,
                                                                               wall=6.0)
    here["result"]["machine"] = machine_info()
    gpu["result"]["machine"] = {**machine_info(), "accelerator": "NVIDIA H200"}
    _write(root / "cb" / "runs.jsonl", [here, _record("cb", "ft", None, 1, "matched", 0.7, epochs=3.0), gpu])
    assert suite.main(["--dry-run", "--results", str(root), "--tasks", "cb,rte"]) == 0
    out = capsys.readouterr().out
    lines = {tuple(ln.split()[:2]): ln.split() for ln in out.splitlines() if ln.split()[:1] in (["cb"], ["rte"])}
    assert lines[("cb", "matched")][6:10] == ["5", "30", "2", "28"]  # seeds, runs, done, todo
    # 28 runs x the 600 s of the run made on this kind of machine; the GPU's 6 s says nothing of a CPU's time
    assert lines[("cb", "matched")][10] == "4h40m"
    assert lines[("cb", "zoo")][6:10] == ["5", "25", "0", "25"]
    assert lines[("rte", "matched")][2:6] == ["1.5", "2490", "117", "12"]
    assert "total: 110 runs, 2 done, 108 to do" in out
    assert "rte/zoo: shared heads compare pretrains first (12 steps each): probe, lora, bitfit, prefix, ia3" in out
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == ["cb/runs.jsonl"]


@pytest.fixture
def one_thread() -> Any:
    """Tiny models gain nothing from threads; one thread avoids oversubscription on busy machines."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny_args(protocol: str, backbone: Path, data_dir: Path, root: Path) -> list[str]:
    return ["--tasks", "cb", "--protocols", protocol, "--seeds", "2", "--epochs", "2", "--train-limit", "16",
            "--methods", "lora", "--backbone", str(backbone), "--data-dir", str(data_dir), "--results", str(root),
            "--max-runs", "1"]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.usefixtures("one_thread")
def test_suite_runs_stops_and_resumes_matched(tiny_backbone: Path, data_dir: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "results"
    args = _tiny_args("matched", tiny_backbone, data_dir, root)
    assert suite.main(args) == 0
    runs = _lines(root / "cb" / "runs.jsonl")  # (cb, matched) keeps the pre-suite CB folder
    assert len(runs) == 1  # --max-runs 1: stopped after one run
    first = runs[0]["result"]
    assert (first["protocol"], first["strategy"], first["seed"]) == ("matched", "ft", 0)
    assert first["settings"]["data"]["train_size"] == 16 and first["settings"]["data"]["eval_size"] == 56
    assert (root / "README.md").is_file() and "cb/runs.jsonl` (1)" in (root / "README.md").read_text()

    assert suite.main(args) == 0  # resumes: one more run, the first one reused
    runs = _lines(root / "cb" / "runs.jsonl")
    assert [(r["strategy"], r["method"], r["seed"]) for r in runs] == [("ft", None, 0), ("lp-ft", "probe", 0)]
    assert runs[0]["result"] == first
    assert runs[1]["result"]["stage1_steps"] + runs[1]["result"]["stage2_steps"] == first["budget_steps"] == 2


@pytest.mark.usefixtures("one_thread")
def test_suite_zoo_shares_one_head_per_method(tiny_backbone: Path, data_dir: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "results"
    args = _tiny_args("zoo", tiny_backbone, data_dir, root)
    assert suite.main(args) == 0
    runs = _lines(root / "cb" / "zoo" / "runs.jsonl")
    assert len(runs) == 1
    first = runs[0]["result"]
    assert (first["protocol"], first["strategy"], first["seed"]) == ("zoo", "lp-ft", 0)  # no FT under zoo
    assert first["stage1"]["source"] == "given" and first["stage2_steps"] == first["budget_steps"] == 2
    assert first["settings"]["head"].startswith("sha256:") and first["settings"]["stage1"]["max_steps"] == 1
    heads = sorted(p.parent.name for p in (root / "cb" / "zoo" / "heads").glob("*/stage1.json"))
    assert heads == ["lora", "probe"]  # pretrained once by compare, before the first run

    args[args.index("--max-runs") + 1] = "3"
    assert suite.main(args) == 0  # the rest of the grid: seed 1 reuses the same heads
    runs = _lines(root / "cb" / "zoo" / "runs.jsonl")
    assert [(r["strategy"], r["seed"]) for r in runs] == [("lp-ft", 0), ("eh-ft", 0), ("lp-ft", 1), ("eh-ft", 1)]
    assert runs[0]["result"] == first
    assert len({r["result"]["settings"]["head"] for r in runs if r["method"] == "lora"}) == 1


def test_parallel_children_get_one_grid_each_and_no_report() -> None:
    grid = suite_plan.build_plan(["rte"], ["zoo"], results=Path("r"))[0]
    argv = ["--jobs", "14", "--tasks=cb,rte", "--protocols", "matched,zoo", "--time-budget", "7", "--grace=1.5",
            "--no-report", "--seeds", "2"]
    assert suite._child_argv(argv, grid) == ["--time-budget", "7", "--seeds", "2", "--tasks", "rte",
                                             "--protocols", "zoo", "--no-report"]


def test_parallel_runs_every_grid_in_its_own_process_and_stops_stragglers(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """run_parallel with a stand-in suite.py: each grid gets one process and one log; one that hangs is stopped."""
    fake = tmp_path / "suite.py"
    fake.write_text("import sys, time\nargs = sys.argv[1:]\ntask = args[args.index('--tasks') + 1]\n"
                    "print('grid', task, args[args.index('--protocols') + 1], flush=True)\n"
                    "if task == 'copa':\n    time.sleep(600)\n")
    monkeypatch.setattr(suite, "child_command",
                        lambda argv, grid: [sys.executable, str(fake), *suite._child_argv(argv, grid)])
    grids = suite_plan.build_plan(["cb", "copa"], ["zoo"], results=tmp_path)
    messages: list[str] = []
    codes = suite.run_parallel(grids, argv=["--jobs", "2"], jobs=2, results=tmp_path, time_budget_s=1.0,
                               grace_s=2.0, log=messages.append)
    assert codes["cb-zoo"] == 0 and codes["copa-zoo"] != 0  # the sleeper was stopped after budget + grace
    assert (tmp_path / "logs" / "cb-zoo.log").read_text().strip() == "grid cb zoo"
    assert (tmp_path / "logs" / "copa-zoo.log").read_text().strip() == "grid copa zoo"
    assert any("copa-zoo: still running" in m for m in messages), messages


def test_report_names_machines_and_counts_verdicts(tmp_path: Path) -> None:
    gpu = {"accelerator": "NVIDIA H200", "torch": "2.11.0+cu130"}
    cpu = {"accelerator": None, "cpu": "AMD EPYC", "cpu_count": 2, "torch_threads": 1, "torch": "2.13.0+cpu"}
    assert pages.machine_label(gpu) == "NVIDIA H200 (torch 2.11.0+cu130)"
    assert pages.machine_label(cpu) == "AMD EPYC CPU, 2 cores, 1 torch thread(s) (torch 2.13.0+cpu)"
    assert pages.machine_label(None) == "machine not recorded"
    root = tmp_path / "results"
    records = []
    for seed, value in enumerate(FT):
        ft = _record("cb", "ft", None, seed, "matched", value)
        ft["result"]["machine"] = cpu
        records.append(ft)
        for protocol in suite_plan.PROTOCOLS:
            for (s, m), off in {("lp-ft", "probe"): 0.0, ("eh-ft", "lora"): 0.2, ("eh-ft", "bitfit"): -0.2,
                                ("eh-ft", "prefix"): 0.0, ("eh-ft", "ia3"): 0.0}.items():
                rec = _record("cb", s, m, seed, protocol, value + off + 0.001 * seed)
                rec["result"]["machine"] = gpu
                records.append(rec)
    _write(root / "cb" / "runs.jsonl", records)
    page = report.write_report(root).read_text(encoding="utf-8")
    tally = page.split("Verdicts against FT")[1].split("\n\n")[1]
    rest = "6 (COPA, RTE, MRPC, WiC, CoLA, STS-B)"  # no runs there: no verdict
    assert f"| EH-FT (lora) | matched | 1 (CB) | 0 | 0 | {rest} |" in tally, tally
    assert f"| EH-FT (bitfit) | zoo | 0 | 0 | 1 (CB) | {rest} |" in tally
    assert f"| EH-FT (prefix) | zoo | 0 | 1 | 0 | {rest} |" in tally
    assert "ran on NVIDIA H200 (torch 2.11.0+cu130) (50 runs); AMD EPYC CPU, 2 cores, 1 torch thread(s) " \
           "(torch 2.13.0+cpu) (5 runs)" in page


def test_other_records_say_how_they_differ_from_the_plan(tmp_path: Path) -> None:
    root = tmp_path / "results"
    old_probe = _record("cb", "lp-ft", "probe", 0, "matched", 0.70)
    del old_probe["result"]["settings"]["stage1"]["backbone_dropout"]  # a record from before the setting existed
    short = _record("cb", "ft", None, 1, "matched", 0.60, epochs=3.0)
    ft_copy = _record("cb", "ft", None, 0, "zoo", 0.66)  # FT seed 0 again, under the other protocol
    _write(root / "cb" / "runs.jsonl", [old_probe, short, _record("cb", "ft", None, 0, "matched", 0.65), ft_copy])
    outside = _record("cb", "ft", None, 0, "matched", 0.80)
    outside["result"]["task"] = "sst2"  # a task the suite does not plan
    _write(root / "sst2" / "runs.jsonl", [outside])
    page = report.write_report(root).read_text(encoding="utf-8")
    other = page.split("## Other records")[1]
    assert "| cb | lp-ft (probe) | matched | 0 | 10.0 | 250 | 70.00 | stage1.backbone_dropout (absent) |" in other
    assert "| cb | ft | matched | 1 | 3.0 | 250 | 60.00 | epochs |" in other
    assert "| cb | ft | zoo | 0 | 10.0 | 250 | 66.00 | none (an FT seed already counted) |" in other
    assert "| sst2 | ft | matched | 0 | 10.0 | 250 | 80.00 | not a suite task / protocol |" in other


def test_records_with_unread_stage1_fields_match_the_plan(tmp_path: Path) -> None:
    """A run recorded when every stage-1 field was listed (lora_dropout 0.1 for BitFit) still counts;
    an old LoRA run, whose lora_dropout did change, is named as differing."""
    grid = suite_plan.build_plan(["cb"], ["matched"], results=tmp_path)[0]
    bitfit = _record("cb", "eh-ft", "bitfit", 0, "matched", 0.7)["result"]
    bitfit["settings"]["stage1"].update(lora_r=8, lora_alpha=16, lora_dropout=0.1, prefix_length=17)
    assert suite_plan.settings_differences(grid, bitfit, suite_plan.BACKBONE_ID) == []
    lora = _record("cb", "eh-ft", "lora", 0, "matched", 0.7)["result"]
    lora["settings"]["stage1"]["lora_dropout"] = 0.1
    assert suite_plan.settings_differences(grid, lora, suite_plan.BACKBONE_ID) == ["stage1.lora_dropout"]


def test_parallel_suite_exits_1_when_a_grid_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "suite.py"
    fake.write_text("import sys\nargs = sys.argv[1:]\nsys.exit(3 if args[args.index('--tasks') + 1] == 'cb' else 0)\n")
    monkeypatch.setattr(suite, "child_command",
                        lambda argv, grid: [sys.executable, str(fake), *suite._child_argv(argv, grid)])
    argv = ["--jobs", "2", "--tasks", "cb,copa", "--protocols", "zoo", "--no-report", "--results", str(tmp_path)]
    assert suite.main(argv) == 1
    fake.write_text("import sys\nsys.exit(0)\n")
    assert suite.main(argv) == 0


def _speed(stage: str, eps: float, repeat: int, task: str = "rte") -> dict[str, Any]:
    return {"stage": stage, "task": task, "steps": 20, "examples": 640, "seconds": round(640 / eps, 3),
            "examples_per_second": eps, "peak_rss_mb": 1000.0 + repeat, "trainable_parameters": 10, "repeat": repeat}


def test_speed_report_takes_medians_over_rounds_and_ratios_within_them() -> None:
    """--repeats: a goal is the median of the per-round ratios, not a ratio of medians; one slow round is outvoted."""
    results = [_speed("ft", 20.0, 0), _speed("lora", 26.0, 0),   # 1.30x
               _speed("ft", 10.0, 1), _speed("lora", 12.0, 1),   # 1.20x: the machine was slow for both
               _speed("ft", 21.0, 2), _speed("lora", 27.3, 2)]   # 1.30x
    args = argparse.Namespace(tasks=["rte"], epochs=1.0, n_train=640, batch_size=32, max_length=128, e2e_epochs=0)
    text, verdicts = bench_speed.report(results, args, "cmd")
    assert verdicts == [("rte", "stage-1 LoRA vs headzoo FT", 1.3, 1.25, True)]
    assert "| lora | 26.00 | - | 1.30x | 10 | 1002 | 24.6 | 26.00, 12.00, 27.30 |" in text
    assert "| stage-1 LoRA vs headzoo FT | 1.30x | ≥ 1.25x | yes | 1.30x, 1.20x, 1.30x |" in text
    assert "nan" not in text
    one_round, _ = bench_speed.report(results[:2], args, "cmd")
    assert "per round" not in one_round and "| lora | 26.00 | - | 1.30x | 10 | 1000 | 24.6 |" in one_round


def _search_json(task: str, scores: dict[tuple[float, float], float | None], method: str = "lora") -> dict[str, Any]:
    trials = [{"learning_rate": lr, "epochs": ep, "steps": 10, "score": s, "metrics": {}, "wall_seconds": 1.0}
              for (lr, ep), s in scores.items()]
    machine = {"cpu_count": 2, "cpu": "test CPU", "torch": "x", "torch_threads": 1}
    return {"command": f"lr_search --tasks {task}", "machine": machine,
            "results": [{"task": task, "method": method, "holdout": 0.2, "seed": 0, "trials": trials}]}


def test_lr_search_summary_means_over_tasks_and_ranks_the_preset(tmp_path: Path) -> None:
    from headzoo.train import PRESETS

    p = PRESETS["headzoo"]["lora"]
    (tmp_path / "a.json").write_text(json.dumps(_search_json("a", {(p, 1.0): 0.8, (3 * p, 1.0): 0.7,
                                                                   (p / 3, 1.0): 0.5})))
    (tmp_path / "b.json").write_text(json.dumps(_search_json("b", {(p, 1.0): 0.6, (3 * p, 1.0): 0.9,
                                                                   (p / 3, 1.0): None})))
    text = lr_search._summary(tmp_path)
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| 0.")}
    assert rows[f"{3 * p:g}"].endswith("| 70.0 | 90.0 | **80.0** | 1 |")
    assert rows[f"{p:g}"].endswith("| 80.0 | 60.0 | 70.0 | 2 |")
    # a task without a score leaves the mean out instead of averaging fewer tasks
    assert rows[f"{p / 3:g}"].endswith("| 50.0 | – | – | – |")
    assert f"| lora | {3 * p:g} (1 ep) | 80.0 | {p:g} (1 ep) | 70.0 | 2 of 2 |" in text


def test_lr_search_summary_without_results_says_what_to_run(tmp_path: Path) -> None:
    from headzoo.errors import HeadzooError

    with pytest.raises(HeadzooError, match="run the search with --out"):
        lr_search._summary(tmp_path)


def test_length_grouped_order_puts_long_batches_first_and_short_ones_last() -> None:
    import random

    rng = random.Random(0)
    lengths = [rng.randint(10, 128) for _ in range(640)]
    r = bench_order.order_tokens(lengths, k=4, n_draws=20, batch_size=32)
    assert r["first"] > r["all"] > r["last"]
    # equal lengths: no batch costs more than another
    flat = bench_order.order_tokens([50] * 640, k=4, n_draws=3, batch_size=32)
    assert flat["first"] == flat["last"] == flat["all"] == 50 * 32


def test_suite_runs_at_compares_defaults_and_a_pin_moves_only_its_method(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """No pins: the suite's runs are compare's defaults; a pinned rate or order changes only what it names."""
    from headzoo.train import PRESETS, FinetuneSettings

    assert suite_plan.STAGE1_LEARNING_RATES == {}
    defaults = FinetuneSettings()  # compare's stage-2 defaults (compare(settings=...) or its keyword arguments)
    assert suite_plan.DATA_ORDER == defaults.data_order == "continue"
    plan = suite_plan.stage2_settings(suite_plan.build_plan(["cb"], ["matched"], results=tmp_path)[0])
    assert {f: getattr(plan, f) for f in ("learning_rate", "batch_size", "max_length", "stage1_fraction", "preset")} \
        == {f: getattr(defaults, f) for f in ("learning_rate", "batch_size", "max_length", "stage1_fraction", "preset")}
    matched, zoo = suite_plan.build_plan(["cb"], ["matched", "zoo"], results=tmp_path)
    ia3 = suite_plan.expected_settings(matched, "eh-ft", "ia3", 0, suite_plan.BACKBONE_ID)
    assert ia3["data_order"] == "continue"
    assert ia3["stage1"]["learning_rate"] == PRESETS["headzoo"]["ia3"]
    assert "data_order" not in suite_plan.expected_settings(zoo, "eh-ft", "ia3", 0, suite_plan.BACKBONE_ID)
    assert "data_order" not in suite_plan.expected_settings(matched, "ft", None, 0, suite_plan.BACKBONE_ID)

    monkeypatch.setattr(suite_plan, "STAGE1_LEARNING_RATES", {"ia3": 0.03})
    monkeypatch.setattr(suite_plan, "DATA_ORDER", "restart")
    pinned = suite_plan.expected_settings(matched, "eh-ft", "ia3", 0, suite_plan.BACKBONE_ID)
    assert pinned["stage1"]["learning_rate"] == 0.03 and pinned["data_order"] == "restart"
    lora = suite_plan.expected_settings(zoo, "eh-ft", "lora", 0, suite_plan.BACKBONE_ID)
    assert lora["stage1"]["learning_rate"] == PRESETS["headzoo"]["lora"] and "data_order" not in lora
    monkeypatch.undo()

    run = _record("cb", "eh-ft", "ia3", 0, "matched", 0.7)["result"]
    assert suite_plan.settings_differences(matched, run, suite_plan.BACKBONE_ID) == []
    run["settings"]["data_order"] = "restart"
    assert suite_plan.settings_differences(matched, run, suite_plan.BACKBONE_ID) == ["data_order"]
    ft = _record("cb", "ft", None, 0, "matched", 0.7)["result"]
    ft["settings"]["data_order"] = "continue"
    assert suite_plan.settings_differences(matched, ft, suite_plan.BACKBONE_ID) == ["data_order"]


def test_changed_settings_are_compared_seed_for_seed_with_the_current_runs(tmp_path: Path) -> None:
    root = tmp_path / "results"
    current = [_record("cb", "eh-ft", "ia3", s, "zoo", v) for s, v in enumerate([0.70, 0.72, 0.74])]
    old = []
    for seed, value in enumerate([0.66, 0.70]):  # seeds 0 and 1 only: seed 2 has no pair
        rec = _record("cb", "eh-ft", "ia3", seed, "zoo", value)
        rec["result"]["settings"]["stage1"]["learning_rate"] = 0.03
        rec["key"] += "-old"
        old.append(rec)
    unpaired = _record("cb", "eh-ft", "prefix", 0, "zoo", 0.5)  # no current prefix run to pair with
    unpaired["result"]["settings"]["stage1"]["learning_rate"] = 0.03
    short = _record("cb", "eh-ft", "ia3", 0, "zoo", 0.1, epochs=3.0)  # another budget: not comparable
    short["result"]["settings"]["stage1"]["learning_rate"] = 0.03
    _write(root / "cb" / "zoo" / "runs.jsonl", [*current, *old, unpaired, short])
    records = report.load_records(root)
    changes = report.setting_changes(report.build_views(records, root))
    assert [(c.differs_in, c.strategy, c.method, c.protocol) for c in changes] == [
        ("stage1.learning_rate", "eh-ft", "ia3", "zoo")]
    assert changes[0].pairs == {"cb": [(0.66, 0.70), (0.70, 0.72)]}
    assert changes[0].delta("cb") == pytest.approx(3.0) and changes[0].delta("rte") is None
    page = report.write_report(root).read_text(encoding="utf-8")
    section = page.split("## What the changed settings did")[1].split("\n## ")[0]
    assert "| stage1.learning_rate | EH-FT (ia3) | zoo | +3.00 | – | – | – | – | – | – | +3.00 | 1 / 0 / 0 | 2 |" \
        in section, section
    # without superseded runs there is no section
    plain = tmp_path / "plain"
    _write(plain / "cb" / "zoo" / "runs.jsonl", current)
    assert "## What the changed settings did" not in report.write_report(plain).read_text(encoding="utf-8")


def test_records_of_another_version_are_superseded_and_records_without_one_are_version_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite and the page count a run as done as compare does: by the line's record_version (absent = 1)."""
    from headzoo.train import read_runs
    from headzoo.train.grid import current_keys

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "results"
    current = _record("cb", "ft", None, 0, "matched", 0.70)
    old = _record("cb", "ft", None, 1, "matched", 0.72)  # written before the field existed, like the committed runs
    del old["record_version"], old["result"]["record_version"]
    newer = _record("cb", "ft", None, 2, "matched", 0.68)
    newer["record_version"] = newer["result"]["record_version"] = RECORD_VERSION + 1
    line_only = _record("cb", "ft", None, 3, "matched", 0.71)  # compare decides by the line's version
    line_only["record_version"] = RECORD_VERSION + 1
    _write(root / "cb" / "runs.jsonl", [current, old, newer, line_only])

    grid = suite_plan.build_plan(["cb"], ["matched"], results=root)[0]
    assert sorted(suite_plan.finished_runs(grid, suite_plan.BACKBONE_ID)) == [("ft", None, 0), ("ft", None, 1)]
    kept = set(current_keys(read_runs(root / "cb" / "runs.jsonl")).values())
    assert kept == {current["key"], old["key"]}  # compare reuses the same two and runs the others again
    later = f"record_version {RECORD_VERSION + 1}"
    assert suite_plan.settings_differences(grid, newer["result"], suite_plan.BACKBONE_ID) == [later]
    assert suite_plan.settings_differences(grid, line_only["result"], suite_plan.BACKBONE_ID,
                                      version=RECORD_VERSION + 1) == [later]
    assert suite_plan.settings_differences(grid, old["result"], suite_plan.BACKBONE_ID, version=1) == []
    assert suite_plan.version_differences({"record_version": "2"}) == ["record_version -1"]  # not an int: not current

    assert suite.main(["--dry-run", "--results", str(root), "--tasks", "cb", "--protocols", "matched"]) == 0
    row = next(ln.split() for ln in capsys.readouterr().out.splitlines() if ln.startswith("cb "))
    assert row[7:10] == ["30", "2", "28"]  # runs, done, todo

    page = report.write_report(root).read_text(encoding="utf-8")
    assert "| 2/5 (0, 1) | 71.00 ± 1.41 |" in _row(page, "FT", "both")
    other = page.split("## Other records")[1]
    assert f"| cb | ft | matched | 2 | 10.0 | 250 | 68.00 | {later} |" in other
    assert f"| cb | ft | matched | 3 | 10.0 | 250 | 71.00 | {later} |" in other
    assert "## What the changed settings did" not in page  # a superseded version is not a changed setting


def test_e2e_components_split_the_difference_into_saving_and_set_up() -> None:
    def run(seconds: float, trace: dict[str, Any]) -> dict[str, Any]:
        return {"seconds": seconds, "trace": trace}

    ft = run(100.0, {"headzoo-stage2-ft": {"train_s": 80.0, "padded_tokens": 100_000, "eval_s": 15.0}})
    eh = run(99.5, {"headzoo-stage1-lora": {"train_s": 6.0, "padded_tokens": 10_000, "eval_s": 0.0},
                    "headzoo-stage2-eh-ft": {"train_s": 72.0, "padded_tokens": 90_000, "eval_s": 15.0}})
    parts = bench_speed._e2e_components([{"e2e-ft": ft, "e2e-eh-ft": eh}])
    assert parts is not None
    assert parts["s1_vs_s2"] == pytest.approx(0.75)  # 0.6 ms against 0.8 ms per token
    assert parts["saving"] == pytest.approx(2.0)  # 10,000 tokens x 0.2 ms
    assert parts["setup"] == pytest.approx(6.5 - 5.0)  # "other" time: 99.5 - 93 against 100 - 95
    assert parts["estimate"] == pytest.approx(1 - (2.0 - 1.5) / 100)
    assert parts["s2_vs_ft"] == pytest.approx(1.0) and parts["eval"] == pytest.approx(0.0)
    assert bench_speed._e2e_components([{"e2e-ft": {"seconds": 1.0}, "e2e-eh-ft": eh}]) is None  # untraced


def test_sign_test_is_two_sided_and_symmetric() -> None:
    assert bench_speed._sign_test(11, 15) == pytest.approx(2 * 1941 / 2**15)
    assert bench_speed._sign_test(4, 15) == bench_speed._sign_test(11, 15)
    assert bench_speed._sign_test(3, 6) == 1.0 and bench_speed._sign_test(0, 0) == 1.0


def test_median_interval_uses_binomial_order_statistics() -> None:
    assert bench_speed._median_interval([1.0] * 5) is None  # 5 pairs: P(all on one side) = 1/16 > 5%
    assert bench_speed._median_interval([float(x) for x in range(6, 0, -1)]) == (1.0, 6.0)  # sorted first
    assert bench_speed._median_interval([float(x) for x in range(1, 16)]) == (4.0, 12.0)  # the textbook n = 15
    assert bench_speed._median_interval([float(x) for x in range(1, 21)]) == (6.0, 15.0)


def test_e2e_summary_counts_faster_pairs_and_states_the_interval() -> None:
    import argparse

    def run(stage: str, repeat: int, seconds: float) -> dict[str, Any]:
        return {"task": "mrpc", "stage": stage, "repeat": repeat, "seconds": seconds, "seed": repeat,
                "stage1_steps": 4 if stage == "e2e-eh-ft" else 0, "stage1_seconds": 1.0, "stage2_steps": 36,
                "stage2_seconds": 50.0, "final": 0.68, "peak_rss_mb": 2000.0, "data_order": "continue"}

    args = argparse.Namespace(e2e_epochs=2.0, n_train=640)
    results = []
    for i in range(6):
        results += [run("e2e-ft", i, 100.0), run("e2e-eh-ft", i, 97.0 + 0.1 * i)]
    verdicts: list[Any] = []
    text = "\n".join(bench_speed._e2e_lines("mrpc", results, args, verdicts))
    assert "EH-FT was faster in 6 of 6 pairs (two-sided sign test p = 0.03)" in text
    assert "at least 95%: 0.9700 to 0.9750 (below 1: EH-FT is faster)" in text
    (task, name, ratio, goal, met), = verdicts
    assert name == "EH-FT(LoRA) wall ≤ FT wall (matched)"
    assert (task, goal, met) == ("mrpc", 1.0, True) and ratio == pytest.approx(0.9725, abs=1e-3)
    few = "\n".join(bench_speed._e2e_lines("mrpc", results[:10], args, []))
    assert "5 pairs are too few for a 95% interval of the median (6 at least)" in few
