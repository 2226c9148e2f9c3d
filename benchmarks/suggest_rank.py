"""Does suggest's order predict which start fine-tunes best? Measured on training data only.

For each set of the transfer benchmark that has zoo heads sharing a label (``tweets``, ``reviews``; no shipped
head shares a label with ``debates``), each ``k`` and seed, the seed's k-shot sample is drawn as
the transfer benchmark draws it and ``suggest_heads`` ranks every candidate on it (a fresh, empty user
zoo: the shipped heads and ``imprint``). Then every candidate is fine-tuned on the sample at the transfer
budget (``T = max(30, 3 epochs)`` steps of 16, protocol ``zoo``, as the transfer ``zoo`` start) and scored on a
**dev split of the training pool**: ``--dev`` examples per set, drawn stratified with the seed from the pool
examples outside the sample. The held-out test split of the transfer benchmark is never read here.

The page (``results/suggest_rank/README.md``) gives, per criterion suggest could sort by (:data:`CRITERIA`:
the order it had when the record was made (the record's ``suggest_order``), zero-shot macro-F1, zero-shot
accuracy, the number of rows from the head, rows then macro-F1 (the order it has now), the zero-shot
cross-entropy of the start's logits (the loss stage 2 begins at), and rows then cross-entropy), the Spearman
rank correlation between the criterion and the stage-2 dev accuracy over the candidates, per set, k and seed,
their mean, and how far the criterion's top candidate falls below the best candidate after fine-tuning (regret).

One JSON record per (set, k, seed) under ``results/suggest_rank/runs/``, written after every candidate, so the
benchmark resumes where it stopped (a record is reused when its settings hash matches).

    HF_HUB_OFFLINE=1 python -m benchmarks.suggest_rank --data-dir ../shared/data
    python -m benchmarks.suggest_rank --report            # the page from the records only
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import transfer_plan
from benchmarks.common.dev_study import finetune_on_dev
from benchmarks.common.heldout import DEV_SIZE, MAX_LENGTH, draw_group, groups, offline_session, plan_parser
from benchmarks.common.pages import machine_line, write_page
from benchmarks.common.records import ROOT, machine_info, resume_record, settings_hash, write_record

OUT = ROOT / "results" / "suggest_rank"
RECORD_VERSION = 1
SETS = ("tweets", "reviews")
KS = (8, 32, 128)
SEEDS = (0, 1, 2)
#: suggest's order (``headzoo.suggest.rank_suggestions``), written into each new record as ``suggest_order``.
SUGGEST_ORDER = "rows from the head, then zero-shot macro-F1"
#: What suggest could sort the candidates by (higher first). ``rank`` is suggest's order when the record was
#: made (the record's ``suggest_order``).
CRITERIA = {
    "suggest's rank in the record": lambda c: -float(c["rank"]),
    "zero-shot macro-F1": lambda c: float(c["macro_f1"]),
    "zero-shot accuracy": lambda c: float(c["accuracy"]),
    "rows from the head": lambda c: float(c["rows_from_head"]),
    "rows from the head, then macro-F1": lambda c: float(c["rows_from_head"]) + float(c["macro_f1"]) / 2,
    "lower zero-shot cross-entropy": lambda c: None if c.get("cross_entropy") is None else -float(c["cross_entropy"]),
    "rows from the head, then lower cross-entropy": lambda c: None if c.get("cross_entropy") is None else (
        float(c["rows_from_head"]) + 1 / (1 + float(c["cross_entropy"]))),
}
PAGE = "README.md"










def settings_of(name: str, k: int, seed: int, steps: int, dev: int) -> dict[str, Any]:
    """What a record's hash covers."""
    return {"record_version": RECORD_VERSION, "set": name, "k": k, "seed": seed, "budget_steps": steps,
            "batch_size": transfer_plan.BATCH, "learning_rate": transfer_plan.LEARNING_RATE,
            "max_length": MAX_LENGTH, "dev_size": dev}




def finetune_candidate(candidate: Any, task: Any, dev: list[tuple[str, int]], seed: int, steps: int,
                       scratch: Path) -> dict[str, Any]:
    """Stage 2 from one suggestion (a zoo head with its label map, or ``imprint``), scored on ``dev``."""
    from headzoo.suggest import IMPRINT_CANDIDATE

    settings = transfer_plan.stage2_settings(task[1]["train"].num_rows, steps, seed)
    kwargs: dict[str, Any] = {"strategy": "eh-ft", "settings": settings, "output_dir": scratch}
    if candidate.origin == IMPRINT_CANDIDATE:
        kwargs["method"] = "imprint"
    else:
        kwargs.update(head=candidate.head_path, label_map=candidate.label_map or None)
    return finetune_on_dev(task, dev, **kwargs)[1]


def run(name: str, k: int, seed: int, info: dict[str, Any], out: Path, dev_size: int, command: str) -> Path:
    """Rank and fine-tune every candidate of one (set, k, seed); returns the record's path."""
    from headzoo import suggest_heads

    steps = transfer_plan.budget_steps(k * len(info["labels"]))
    settings = settings_of(name, k, seed, steps, dev_size)
    key = settings_hash(settings)
    path = out / "runs" / name / f"k{k}-seed{seed}.json"
    record = resume_record(path, key)
    task, sample, dev = draw_group(name, info, k, seed, dev_size)
    ranked = suggest_heads(task, "minilm", label_map=info["label_map"] or None, seed=seed)
    if not record:
        record = {**settings, "settings_hash": key, "labels": info["labels"], "label_map": info["label_map"],
                  "train_examples": len(sample), "dev_examples": len(dev), "suggest_order": SUGGEST_ORDER,
                  "candidates": {},
                  "machine": machine_info(), "command": command}
    elif backfill_cross_entropy(record, ranked):
        write_record(path, record)
    for candidate in ranked:
        if candidate.name in record["candidates"]:
            continue
        scratch = Path(tempfile.mkdtemp(prefix="suggest-rank-"))
        print(f"{name} k={k} seed={seed}: {candidate.name} (rank {candidate.rank} of {len(ranked)})", flush=True)
        measured = finetune_candidate(candidate, task, dev, seed, steps, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        fields = candidate.to_dict()
        record["candidates"][candidate.name] = {
            **{f: fields[f] for f in ("rank", "source", "origin", "accuracy", "macro_f1", "rows_from_head",
                                      "label_fit", "cross_entropy")}, **measured}
        print(f"    dev accuracy {measured['dev_accuracy']:.4f}", flush=True)
        write_record(path, record)
    return path


def backfill_cross_entropy(record: dict[str, Any], ranked: list[Any]) -> bool:
    """Copy each fresh suggestion's zero-shot cross-entropy into the record's candidate of that name.

    Only where the candidate has none yet and the fresh ranking gives it the recorded zero-shot accuracy and
    macro-F1 (the same sample, heads and scoring); the record's ``cross_entropy_backfilled`` counts them.
    Returns whether the record changed.

    Example:
        >>> from types import SimpleNamespace as S
        >>> rec = {"candidates": {"h": {"accuracy": 0.5, "macro_f1": 0.4}}}
        >>> backfill_cross_entropy(rec, [S(name="h", accuracy=0.5, macro_f1=0.4, cross_entropy=0.9)])
        True
        >>> rec["candidates"]["h"]["cross_entropy"], rec["cross_entropy_backfilled"]
        (0.9, 1)
    """
    changed = 0
    for s in ranked:
        c = record["candidates"].get(s.name)
        if c is None or c.get("cross_entropy") is not None or s.cross_entropy is None:
            continue
        if abs(c["accuracy"] - s.accuracy) < 1e-9 and abs(c["macro_f1"] - s.macro_f1) < 1e-9:
            c["cross_entropy"] = s.cross_entropy
            changed += 1
    if changed:
        record["cross_entropy_backfilled"] = record.get("cross_entropy_backfilled", 0) + changed
    return bool(changed)


# --------------------------------------------------------------------------- the page


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (ties averaged); None when either side is constant or has fewer than 3 values.

    Example:
        >>> spearman([1, 2, 3], [10, 20, 30])
        1.0
    """
    from scipy.stats import spearmanr

    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return float(spearmanr(xs, ys).statistic)


def group_figures(record: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Per criterion: rho against stage-2 dev accuracy, and the regret of its top pick (points of accuracy).

    The top pick of a criterion is its highest candidate; on a tie, the one suggest ranks first.
    A criterion that some candidate lacks (a record made before its field was recorded) has neither.
    """
    cands = list(record["candidates"].values())
    dev = [float(c["dev_accuracy"]) for c in cands]
    best = max(dev)
    out: dict[str, dict[str, float | None]] = {}
    for label, key in CRITERIA.items():
        values = [key(c) for c in cands]
        if any(v is None for v in values):
            out[label] = {"rho": None, "regret": None}
            continue
        top = max(range(len(cands)), key=lambda i: (values[i], -float(cands[i]["rank"])))
        out[label] = {"rho": spearman(values, dev), "regret": 100 * (best - dev[top])}
    return out


def _mean(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:+.2f} (1 group)"
    return f"{statistics.mean(values):+.2f} ± {statistics.stdev(values):.2f} ({len(values)} groups)"


def _distinct(figures: list[tuple[dict[str, Any], dict[str, dict[str, float | None]]]], label: str) -> str:
    """Whether a criterion's mean rho is above 0 by more than 2 standard errors over the groups."""
    rhos = [f[label]["rho"] for _, f in figures if f[label]["rho"] is not None]
    if len(rhos) < 2:
        return "too few groups to tell it from no correlation"
    se = statistics.stdev(rhos) / len(rhos) ** 0.5
    mean = statistics.mean(rhos)
    if mean > 2 * se:
        return f"above 0 by more than 2 standard errors ({mean:+.2f} > 2 × {se:.2f})"
    return f"not above 0 by 2 standard errors ({mean:+.2f}, SE {se:.2f}): no criterion is shown to predict the result"


def candidate_means(records: list[dict[str, Any]]) -> list[str]:
    """Per set: each candidate's dev accuracy after fine-tuning, mean ± std over seeds, one column per k.

    Example:
        >>> rec = {"set": "s", "k": 8, "seed": 0, "candidates": {"h": {"rank": 1, "dev_accuracy": 0.5}}}
        >>> candidate_means([rec])[-1]
        '| `h` | 50.0 (1) |'
    """
    lines: list[str] = []
    for name in sorted({r["set"] for r in records}):
        mine = [r for r in records if r["set"] == name]
        ks = sorted({int(r["k"]) for r in mine})
        accuracy: dict[str, dict[int, list[float]]] = {}
        for r in mine:
            for cand, c in r["candidates"].items():
                accuracy.setdefault(cand, {}).setdefault(int(r["k"]), []).append(100 * float(c["dev_accuracy"]))

        def shown(values: list[float]) -> str:
            if len(values) < 2:
                return f"{values[0]:.1f} (1)"
            return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f} ({len(values)})"

        order = sorted(accuracy, key=lambda c: -statistics.mean(v for vs in accuracy[c].values() for v in vs))
        lines += [f"Dev accuracy (%) after fine-tuning from each candidate, {name}: mean ± std over seeds (seeds):", "",
                  "| candidate | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
        lines += [f"| `{c}` | " + " | ".join(shown(accuracy[c][k]) if k in accuracy[c] else "—" for k in ks) + " |"
                  for c in order]
        lines.append("")
    return lines[:-1]


def _rhos_regrets(figures: list[tuple[dict[str, Any], dict[str, dict[str, float | None]]]],
                  label: str) -> tuple[list[float], list[float]]:
    """A criterion's rho (where defined) and regret over the groups of ``figures``."""
    rhos = [float(f[label]["rho"]) for _, f in figures if f[label]["rho"] is not None]
    regrets = [float(f[label]["regret"]) for _, f in figures if f[label]["regret"] is not None]
    return rhos, regrets


def best_criterion(figures: list[tuple[dict[str, Any], dict[str, dict[str, float | None]]]]) -> tuple[float, str]:
    """The criterion of highest mean rho over ``figures`` (on a tie the lower mean regret, then the earlier one).

    Returns its mean rho (``-inf`` where no group defines one) and its label.
    """
    ranked = []
    for index, label in enumerate(CRITERIA):
        rhos, regrets = _rhos_regrets(figures, label)
        ranked.append((statistics.mean(rhos) if rhos else float("-inf"),
                       -statistics.mean(regrets) if regrets else float("-inf"), -index, label))
    rho, _, _, label = max(ranked)
    return rho, label


def render(records: list[dict[str, Any]]) -> str:
    """The page: one table of criteria over every (set, k, seed), then each group's candidates."""
    lines = ["<!-- Generated by `python -m benchmarks.suggest_rank --report` from runs/*/*.json. "
             "Do not edit by hand. -->", "",
             "# Does suggest's order predict the best start? (training data only)", "",
             "**Generated file: do not edit by hand.** [`benchmarks/suggest_rank.py`](../../benchmarks/suggest_rank.py)"
             " fine-tunes MiniLM from every candidate `suggest` lists for a k-shot sample (the transfer benchmark's "
             "samples, budget and settings) and scores each on a dev split drawn from the training pool, outside the "
             "sample; the held-out test splits are never read. Per criterion: Spearman's ρ between the criterion and "
             "the stage-2 dev accuracy over the candidates (mean ± sample std over groups of set, k and seed), and "
             "the regret: how many points of dev accuracy the criterion's top candidate falls below the best "
             "candidate.", ""]
    records = sorted(records, key=lambda r: (r["set"], int(r["k"]), int(r["seed"])))
    figures = [(r, group_figures(r)) for r in records if len(r["candidates"]) >= 2]
    if not figures:
        return "\n".join([*lines, "No records yet: `HF_HUB_OFFLINE=1 python -m benchmarks.suggest_rank "
                          "--data-dir ../shared/data`.", ""])
    commands = sorted({r["command"] for r in records})
    ks = sorted({int(r["k"]) for r, _ in figures})
    by_k = {k: [(r, f) for r, f in figures if int(r["k"]) == k] for k in ks}
    lines += [f"Command(s): {', '.join(f'`{c}`' for c in commands)}.", "",
              "| criterion | mean ρ | mean regret (points) | "
              + " | ".join(f"k={k} mean ρ | k={k} mean regret" for k in ks) + " |",
              "|---|---|---|" + "---|---|" * len(ks)]
    for label in CRITERIA:
        rhos, regrets = _rhos_regrets(figures, label)
        per_k = " | ".join(" | ".join(_mean(v) for v in _rhos_regrets(by_k[k], label)) for k in ks)
        lines.append(f"| {label} | {_mean(rhos)} | {_mean(regrets)} | {per_k} |")
    best_rho, best = best_criterion(figures)
    lines += ["", f"Highest mean ρ: **{best}** ({best_rho:+.2f}); {_distinct(figures, best)}.", ""]
    backfilled = sum(int(r.get("cross_entropy_backfilled", 0)) for r in records)
    if backfilled:
        lines += [f"The zero-shot cross-entropy of {backfilled} candidates (in "
                  f"{sum(1 for r in records if r.get('cross_entropy_backfilled'))} records made before suggest "
                  "reported it) comes from a later ranking of the same sample, kept only where that ranking "
                  "reproduced the recorded zero-shot accuracy and macro-F1.", ""]
    if len(ks) > 1:
        for k in ks:
            top = best_criterion(by_k[k])[1]
            lines.append(f"- k={k}: highest mean ρ **{top}**; {_distinct(by_k[k], top)}.")
        lines.append("")
    names = list(CRITERIA)
    lines += ["Per group: ρ of each criterion (in the order of the table above), the order suggest had when the "
              "record was made, its top candidate and the candidate best after fine-tuning, with their dev "
              "accuracy.", "",
              "| group | " + " | ".join(f"ρ {i + 1}" for i in range(len(names)))
              + " | suggest's order | suggest's top | best after FT |", "|---|" + "---|" * (len(names) + 3)]
    for record, fig in figures:
        cands = record["candidates"]
        first = min(cands, key=lambda n: cands[n]["rank"])
        winner = max(cands, key=lambda n: (cands[n]["dev_accuracy"], -cands[n]["rank"]))
        rho_cells = " | ".join("—" if fig[c]["rho"] is None else f"{fig[c]['rho']:+.2f}" for c in names)
        lines.append(f"| {record['set']} k={record['k']} seed {record['seed']} | {rho_cells} | "
                     f"{record.get('suggest_order', 'not recorded')} | `{first}` "
                     f"{100 * cands[first]['dev_accuracy']:.1f} % | `{winner}` "
                     f"{100 * cands[winner]['dev_accuracy']:.1f} % |")
    lines += ["", *candidate_means(records), ""]
    for record, _ in figures:
        lines += [f"## {record['set']}, k={record['k']}, seed {record['seed']}", "",
                  f"{record['train_examples']} training examples, {record['dev_examples']} dev examples from the pool, "
                  f"{record['budget_steps']} stage-2 steps.", "",
                  "| suggest rank | candidate | zero-shot macro-F1 % | zero-shot accuracy % | "
                  "zero-shot cross-entropy | rows from head | dev accuracy after FT % | dev macro-F1 after FT % |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, c in sorted(record["candidates"].items(), key=lambda kv: kv[1]["rank"]):
            ce = "—" if c.get("cross_entropy") is None else f"{c['cross_entropy']:.2f}"
            lines.append(f"| {c['rank']} | `{name}` | {100 * c['macro_f1']:.1f} | {100 * c['accuracy']:.1f} | {ce} | "
                         f"{c['rows_from_head']} | {100 * c['dev_accuracy']:.1f} | {100 * c['dev_macro_f1']:.1f} |")
        lines.append("")
    machines = sorted({machine_line(r["machine"]) for r in records})
    lines += [f"Machine(s): {'; '.join(machines)}.", ""]
    return "\n".join(lines)


def load_records(out: Path) -> list[dict[str, Any]]:
    """The records under ``<out>/runs`` of this :data:`RECORD_VERSION`, in path order."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "runs").glob("*/*.json"))]
    return [r for r in records if r.get("record_version") == RECORD_VERSION]


def write_report(out: Path) -> Path:
    """Write ``<out>/README.md`` from the records under ``<out>/runs``; returns its path."""
    return write_page(out / PAGE, render(load_records(out)))


def main(argv: list[str] | None = None) -> int:
    parser = plan_parser(__doc__, SETS, KS, SEEDS)
    parser.add_argument("--dev", type=int, default=DEV_SIZE, help="dev examples drawn from the pool")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the records (default results/suggest_rank)")
    parser.add_argument("--report", action="store_true", help="only write the page from the records")
    args = parser.parse_args(argv)
    if not args.report:
        command = offline_session("suggest_rank", argv)
        for name, k, seed, info in groups(args.sets, args.k, args.seeds, args.data_dir):
            run(name, k, seed, info, args.out, args.dev, command)
    print(write_report(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
