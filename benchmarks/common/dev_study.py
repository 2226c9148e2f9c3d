"""Fine-tuning variants of FT and ``auto`` on the transfer samples, scored on a dev split of the training pool.

A study of this kind (the stage-2 learning rate, the default budget's floor) runs, for each (set, k, seed),
every start of :data:`STARTS` at every value of one setting, and keeps one record per group:
``<out>/runs/<set>/k<k>-seed<seed>.json``, rewritten after each run and reused while its settings hash is
unchanged (the study resumes). The held-out test split of the transfer benchmark is never read.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .heldout import SETS, draw_group, predict, scores
from .pages import write_page
from .records import machine_info, resume_record, settings_hash, write_record

#: The starts every variant runs: FT's random head and ``auto`` (``finetune``'s default start).
STARTS = ("ft", "auto")
PAGE = "README.md"

#: ``measure(start, value, task, dev, scratch)``: fine-tune one run, return its figures.
Measure = Callable[[str, Any, Any, list[tuple[str, int]], Path], dict[str, Any]]


@dataclass(frozen=True)
class Group:
    """One (set, k, seed) of a study, with the set's data (:func:`~benchmarks.common.heldout.load_set`)."""

    name: str
    k: int
    seed: int
    info: dict[str, Any]
    dev_size: int


@dataclass(frozen=True)
class Variants:
    """The setting a study varies: its record ``field``, its ``values`` (numbers or names), how one run is
    measured, and the ``starts`` each value runs from (default :data:`STARTS`)."""

    field: str
    values: list[Any]
    measure: Measure
    starts: tuple[str, ...] = STARTS


def value_text(value: float | str) -> str:
    """A varied value as keys and logs spell it: a number in ``g`` format, a name as it is.

    >>> value_text(5e-5), value_text(30), value_text("2x")
    ('5e-05', '30', '2x')
    """
    return value if isinstance(value, str) else f"{value:g}"


def run_key(start: str, value: float | str) -> str:
    """A run's key in its record.

    >>> run_key("auto", 1e-4), run_key("auto", "default")
    ('auto@0.0001', 'auto@default')
    """
    return f"{start}@{value_text(value)}"


def finetune_on_dev(task: Any, dev: list[tuple[str, int]], **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    """``finetune(task, "minilm", **kwargs)`` scored on ``dev``: the result and its figures (dev accuracy and
    macro-F1, stage-2 steps, seconds from the start of fine-tuning to the end of the dev pass)."""
    from headzoo import finetune
    from headzoo.backbone import load_tokenizer, resolve_backbone

    began = time.perf_counter()
    result = finetune(task, "minilm", save_checkpoints=False, **kwargs)
    pred = predict(result.model, load_tokenizer(resolve_backbone("minilm")), [t for t, _ in dev])
    got = scores([y for _, y in dev], pred, task[0].num_labels)
    return result, {"dev_accuracy": got["accuracy"], "dev_macro_f1": got["macro_f1"],
                    "stage2_steps": result.stage2_steps, "seconds": round(time.perf_counter() - began, 2)}


def run_variants(group: Group, out: Path, settings: dict[str, Any], variants: Variants, command: str) -> Path:
    """Every (start, value) of one group not yet in its record (``variants.starts``); returns the record's path.

    ``settings`` is what the record's hash covers; a run's key is :func:`run_key` of its start and value. The
    record is rewritten after each run, so an interrupted group resumes.
    """
    name, k, seed, info = group.name, group.k, group.seed, group.info
    key = settings_hash(settings)
    path = out / "runs" / name / f"k{k}-seed{seed}.json"
    record = resume_record(path, key)
    task, sample, dev = draw_group(name, info, k, seed, group.dev_size)
    if not record:
        record = {**settings, "settings_hash": key, "labels": info["labels"], "label_map": info["label_map"],
                  "train_examples": len(sample), "dev_examples": len(dev), "runs": {},
                  "machine": machine_info(), "command": command}
    for value in variants.values:
        for start in variants.starts:
            if run_key(start, value) in record["runs"]:
                continue
            scratch = Path(tempfile.mkdtemp(prefix=f"{out.name}-"))
            print(f"{name} k={k} seed={seed}: {start}, {variants.field} {value_text(value)}", flush=True)
            measured = variants.measure(start, value, task, dev, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            record["runs"][run_key(start, value)] = {"start": start, variants.field: value, **measured}
            print(f"    dev accuracy {measured['dev_accuracy']:.4f} ({measured['seconds']:.0f} s)", flush=True)
            write_record(path, record)
    return path


def set_order(name: str) -> int:
    """Where a set sorts on a page: the transfer benchmark's order, unknown sets last."""
    return SETS.index(name) if name in SETS else 99


def load_records(out: Path) -> list[dict[str, Any]]:
    """Every record under ``out/runs``, sorted by set, k and seed."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "runs").glob("*/*.json"))]
    return sorted(records, key=lambda r: (set_order(r["set"]), r["k"], r["seed"]))


def differences(records: list[dict[str, Any]], base: str, other: str) -> list[float]:
    """``other`` minus ``base`` dev accuracy in points (both run keys), per record that has both.

    >>> rec = {"runs": {"auto@none": {"dev_accuracy": 0.5}, "auto@default": {"dev_accuracy": 0.6}}}
    >>> [round(d, 6) for d in differences([rec, {"runs": {}}], "auto@none", "auto@default")]
    [10.0]
    """
    out = []
    for r in records:
        a, b = r["runs"].get(base), r["runs"].get(other)
        if a and b:
            out.append(100 * (b["dev_accuracy"] - a["dev_accuracy"]))
    return out


def paired(records: list[dict[str, Any]], value: float) -> list[float]:
    """``auto`` minus FT dev accuracy in points, per record that has both at ``value``.

    >>> rec = {"runs": {"ft@5e-05": {"dev_accuracy": 0.5}, "auto@5e-05": {"dev_accuracy": 0.6}}}
    >>> [round(d, 6) for d in paired([rec], 5e-5)]
    [10.0]
    """
    return differences(records, run_key("ft", value), run_key("auto", value))


def accuracies(records: list[dict[str, Any]], start: str, value: float | str) -> list[float]:
    """Dev accuracy in percent of ``start`` at ``value``, per record that has it."""
    key = run_key(start, value)
    return [100 * r["runs"][key]["dev_accuracy"] for r in records if key in r["runs"]]


def write_report(out: Path, render: Callable[[list[dict[str, Any]]], str]) -> Path:
    """Write ``out/README.md`` with ``render`` of the records under ``out/runs``; returns its path."""
    return write_page(out / PAGE, render(load_records(out)))
