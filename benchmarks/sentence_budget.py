"""The default stage-2 budget on the sentence-embedding kind, re-decided on training data only.

``finetune(task, "minilm")`` now trains a sentence-embedding head by default (MiniLM declares that feature), from
``head="auto"`` (suggest's top zoo head, or an imprint). Its stage-2 budget (``FinetuneSettings``: 3 epochs with a
floor of 30 optimizer steps of 32, learning rate 5e-5, protocol ``auto``) was chosen on the other kind. This study
asks, on that kind and from that start only, whether at k = 8 and k = 32 examples per class:

- ``none``: no fine-tuning at all, a logistic regression on the frozen sentence embeddings of the sample
  (``headzoo.frozen.encode`` + ``fit_probe``, as the transfer benchmark's ``frozen`` start), does as well;
- ``default``: ``finetune(task, "minilm", feature="sentence-embedding", seed=seed)`` with every setting at its
  default (no checkpoints saved; no ``label_map``, as a user who does not map their labels: ``auto`` takes a
  shipped head where the set's label names match one, the tweets', and imprints the set's own labels where
  none does, the reviews' ``rotten``/``fresh`` and the debates'; the page names the head of every row);
- ``half``: half the budget, ``epochs`` and ``min_steps`` both halved (1.5 and 15: on these samples the floor
  decides, so 15 steps instead of 30);
- ``2x``: the same with twice the budget, ``epochs`` and ``min_steps`` both doubled (6 and 60).

The stage-2 learning rate is one rate for the head and the backbone: neither ``FinetuneSettings`` nor the
``TrainingArguments`` it passes through (``training_args``) has a separate head learning rate. Record version 1
(``results/sentence_budget/imprint_start``: 2 seeds, from an imprint, before the zoo shipped sentence heads) also
ran the default budget at learning rate 1e-4 and found no difference at either k; version 2 starts where a user
starts now, from the zoo head ``auto`` takes, and varies the steps.

For each set of the transfer benchmark, seed and ``k``, the seed's k-shot sample is drawn as the transfer benchmark
draws it and every variant is scored on a **dev split of the training pool** (``--dev`` examples outside the sample,
:func:`benchmarks.common.heldout.dev_split`); the transfer test split is never read. Groups run seed by seed (every
set and k of seed 0 first), so that an interrupted study still pairs every cell.

Records: ``results/sentence_budget/runs/<set>/k<k>-seed<seed>.json``, rewritten after each run and reused while
their settings hash is unchanged (the study resumes; ``--seeds 0,1,2`` extends it).

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python -m benchmarks.sentence_budget --data-dir ../shared/data
    python -m benchmarks.sentence_budget --report            # the page from the records only
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common.dev_study import Group, Variants, accuracies, finetune_on_dev, run_key, run_variants, set_order
from benchmarks.common.dev_study import differences as study_differences
from benchmarks.common.dev_study import write_report as write_study_report
from benchmarks.common.heldout import DEV_SIZE, load_set, offline_session, plan_parser, predict, scores
from benchmarks.common.pages import machine_line
from benchmarks.common.records import ROOT
from benchmarks.common.stats import diff_verdict, mean_std_text, paired_verdict

OUT = ROOT / "results" / "sentence_budget"
RECORD_VERSION = 2
FEATURE = "sentence-embedding"
START = "auto"
SETS = ("tweets", "reviews", "debates")
KS = (8, 32)
SEEDS = (0, 1, 2)
#: The variants, cheapest first (the order a group runs them in).
VARIANTS = ("none", "half", "default", "2x")
#: The comparisons of the page's first screen: (label, baseline, challenger).
QUESTIONS = (
    ("fine-tuning (default) vs no fine-tuning (frozen LR)", "none", "default"),
    ("half the steps vs default", "default", "half"),
    ("2x steps vs default", "default", "2x"),
)


def variant_kwargs(variant: str) -> dict[str, Any]:
    """The ``finetune`` settings a fine-tuning variant adds to the defaults (``none`` fine-tunes nothing).

    >>> variant_kwargs("default"), variant_kwargs("half")
    ({}, {'epochs': 1.5, 'min_steps': 15})
    >>> variant_kwargs("2x")
    {'epochs': 6, 'min_steps': 60}
    """
    from headzoo import FinetuneSettings

    defaults = FinetuneSettings()
    if variant == "default":
        return {}
    if variant == "2x":
        return {"epochs": 2 * defaults.epochs, "min_steps": 2 * defaults.min_steps}
    if variant == "half":
        return {"epochs": defaults.epochs / 2, "min_steps": defaults.min_steps // 2}
    raise ValueError(f"no finetune settings for variant {variant!r}")


def settings_of(name: str, k: int, seed: int, dev: int) -> dict[str, Any]:
    """What a record's hash covers: the group and ``finetune``'s defaults it ran at (the variants are keys)."""
    from headzoo import FinetuneSettings

    d = FinetuneSettings()
    return {"record_version": RECORD_VERSION, "set": name, "k": k, "seed": seed, "dev_size": dev, "feature": FEATURE,
            "start": START, "epochs": d.epochs, "min_steps": d.min_steps, "batch_size": d.batch_size,
            "learning_rate": d.learning_rate, "protocol": d.protocol, "eval_strategy": d.eval_strategy,
            "eval_steps": d.eval_steps, "max_length": d.max_length}


def frozen_on_dev(task: Any, dev: list[tuple[str, int]], seed: int) -> dict[str, Any]:
    """No fine-tuning: a logistic regression on the frozen sentence embeddings of the sample, scored on ``dev``
    (seconds from loading the model to the last dev prediction)."""
    from headzoo.backbone import load_sentence_classifier, load_tokenizer, resolve_backbone
    from headzoo.frozen import encode, fit_probe, set_head

    spec, data = task
    began = time.perf_counter()
    ref = resolve_backbone("minilm")
    model = load_sentence_classifier(ref, num_labels=spec.num_labels)
    tokenizer = load_tokenizer(ref)
    set_head(model, *fit_probe(encode(model, tokenizer, data["train"]["text_a"]), data["train"]["label"],
                               spec.num_labels, seed=seed))
    got = scores([y for _, y in dev], predict(model, tokenizer, [t for t, _ in dev]), spec.num_labels)
    return {"dev_accuracy": got["accuracy"], "dev_macro_f1": got["macro_f1"], "stage2_steps": 0, "budget_steps": 0,
            "seconds": round(time.perf_counter() - began, 2)}


def measure(variant: str, task: Any, dev: list[tuple[str, int]], seed: int, scratch: Path) -> dict[str, Any]:
    """One variant of one group, scored on ``dev``."""
    if variant == "none":
        return frozen_on_dev(task, dev, seed)
    kwargs: dict[str, Any] = {"feature": FEATURE, "seed": seed, "output_dir": scratch, **variant_kwargs(variant)}
    result, figures = finetune_on_dev(task, dev, **kwargs)
    return {**figures, "budget_steps": result.budget_steps, "stage1_steps": result.stage1_steps,
            "protocol": result.protocol, "learning_rate": result.settings.get("learning_rate"),
            "head": (result.stage1 or {}).get("source"), "suggested": (result.stage1 or {}).get("suggested")}


def run(group: Group, out: Path, variants: list[str], command: str) -> Path:
    """Every variant of one (set, k, seed) from ``auto``; returns the record's path."""
    seed = group.seed
    plan = Variants("variant", variants,
                    lambda start, variant, task, dev, scratch: measure(variant, task, dev, seed, scratch),
                    starts=(START,))
    return run_variants(group, out, settings_of(group.name, group.k, seed, group.dev_size), plan, command)


def plan(sets: list[str], ks: list[int], seeds: list[int]) -> list[tuple[int, str, int]]:
    """The groups in the order they run, ``(seed, set, k)``: seed by seed, so that a cut run pairs every cell.

    >>> plan(["tweets", "reviews"], [8, 32], [0, 1])[:3]
    [(0, 'tweets', 8), (0, 'tweets', 32), (0, 'reviews', 8)]
    """
    return [(seed, name, k) for seed in seeds for name in sets for k in ks]


def groups(sets: list[str], ks: list[int], seeds: list[int], data_dir: Path, dev: int) -> Iterator[Group]:
    """The :class:`Group` of each planned (seed, set, k), each set loaded once."""
    loaded: dict[str, dict[str, Any]] = {}
    for seed, name, k in plan(sets, ks, seeds):
        if name not in loaded:
            loaded[name] = load_set(name, data_dir)
        yield Group(name, k, seed, loaded[name], dev)


# --------------------------------------------------------------------------- the page


def variant_run(record: dict[str, Any], variant: str) -> dict[str, Any] | None:
    """The run of ``variant`` in a record, or None."""
    return record["runs"].get(run_key(START, variant))


def head_taken(run: dict[str, Any]) -> str:
    """Which head ``auto`` started a run from: the head its suggestion line names, else what the head's source
    says (``auto`` either imprints, ``trained``, or takes a zoo head, ``given``).

    >>> head_taken({"suggested": "--from auto took sst2/lora (shipped), suggestion 1 (...)", "head": "given"})
    'sst2/lora'
    >>> head_taken({"head": "trained"}), head_taken({"head": "given"}), head_taken({})
    ('imprint', 'a zoo head', '—')
    """
    if match := re.search(r"\btook (\S+)", run.get("suggested") or ""):
        return match.group(1).rstrip(",")
    return {"trained": "imprint", "given": "a zoo head"}.get(run.get("head") or "", "—")


def differences(records: list[dict[str, Any]], base: str, other: str) -> list[float]:
    """``other`` minus ``base`` dev accuracy in points (variants of the ``auto`` start), per record with both.

    >>> rec = {"runs": {"auto@none": {"dev_accuracy": 0.5}, "auto@default": {"dev_accuracy": 0.6}}}
    >>> [round(d, 6) for d in differences([rec, {"runs": {}}], "none", "default")]
    [10.0]
    """
    return study_differences(records, run_key(START, base), run_key(START, other))


def seconds_steps(records: list[dict[str, Any]], variant: str) -> str:
    """Mean wall seconds of ``variant``'s runs and the range of their stage-2 steps.

    >>> rec = {"runs": {"auto@2x": {"seconds": 40.0, "stage2_steps": 60}}}
    >>> seconds_steps([rec, rec], "2x")
    '40 s, 60 steps'
    """
    runs = [run for r in records if (run := variant_run(r, variant))]
    if not runs:
        return "—"
    low, high = min(x["stage2_steps"] for x in runs), max(x["stage2_steps"] for x in runs)
    steps = f"{low}" if low == high else f"{low}-{high}"
    return f"{sum(x['seconds'] for x in runs) / len(runs):.0f} s, {steps} steps"


def decide(verdicts: dict[tuple[int, str], str], ks: list[int]) -> str:
    """The decision the verdicts (by ``(k, challenger)``) give under the 2-SE rule.

    Per k: fine-tune unless no fine-tuning beats it (``default`` "worse" than ``none``); twice or half the steps
    only where that beats the default; otherwise the default stays (a tie with a cheaper variant is reported on
    the page, not taken: it shows no difference, not that there is none). A k with no verdict (fewer
    than two pairs for every question) is said to be unmeasured.

    >>> decide({(8, "default"): "tie", (8, "2x"): "tie", (8, "half"): "tie"}, [8])
    'keep the default budget at every k: nothing beats it beyond 2 SE'
    >>> decide({(8, "default"): "worse", (8, "2x"): "tie", (8, "half"): "better"}, [8, 32])
    'k = 8: do not fine-tune (the frozen LR beats the default beyond 2 SE); halve the steps; k = 32: \
not measured (fewer than 2 pairs)'
    """
    parts, changed, unmeasured = [], False, False
    for k in ks:
        if all(verdicts.get((k, v), "n/a") == "n/a" for v in VARIANTS[1:]):
            unmeasured = True
            parts.append(f"k = {k}: not measured (fewer than 2 pairs)")
            continue
        said = []
        if verdicts.get((k, "default")) == "worse":
            said.append("do not fine-tune (the frozen LR beats the default beyond 2 SE)")
        if verdicts.get((k, "2x")) == "better":
            said.append("double the steps")
        if verdicts.get((k, "half")) == "better":
            said.append("halve the steps")
        changed = changed or bool(said)
        parts.append(f"k = {k}: " + ("; ".join(said) if said else "keep the default"))
    if not changed and not unmeasured:
        return "keep the default budget at every k: nothing beats it beyond 2 SE"
    return "; ".join(parts)


def missing(records: list[dict[str, Any]], sets: list[str], ks: list[int], seeds: list[int]) -> list[str]:
    """The planned (set, k, seed) cells with no record or a run short, as the page lists them.

    >>> missing([{"set": "tweets", "k": 8, "seed": 0, "runs": {"auto@none": {}}}], ["tweets"], [8], [0, 1])
    ['tweets k=8 seed 0 (half, default, 2x)', 'tweets k=8 seed 1 (no record)']
    """
    have = {(r["set"], r["k"], r["seed"]): r for r in records}
    out = []
    for seed, name, k in sorted(plan(sets, ks, seeds), key=lambda c: (set_order(c[1]), c[2], c[0])):
        r = have.get((name, k, seed))
        if r is None:
            out.append(f"{name} k={k} seed {seed} (no record)")
        elif short := [v for v in VARIANTS if variant_run(r, v) is None]:
            out.append(f"{name} k={k} seed {seed} ({', '.join(short)})")
    return out


def first_screen(records: list[dict[str, Any]], ks: list[int]) -> tuple[list[str], str]:
    """The answer table (one row per k and question) and the decision line."""
    rows, verdicts = [], {}
    for k in ks:
        at_k = [r for r in records if r["k"] == k]
        for label, base, other in QUESTIONS:
            diffs = differences(at_k, base, other)
            verdicts[(k, other)] = paired_verdict(diffs)
            rows.append(f"| {k} | {label} | {diff_verdict(diffs)} | {len(diffs)} | "
                        f"{seconds_steps(at_k, base)} | {seconds_steps(at_k, other)} |")
    return rows, decide(verdicts, ks)


def render(records: list[dict[str, Any]], plan_sets: list[str] | None = None, plan_ks: list[int] | None = None,
           plan_seeds: list[int] | None = None) -> str:
    """The page (Markdown) of these records; cells of the plan (default: the study's) without a run are listed."""
    ks = sorted({r["k"] for r in records} | set(plan_ks or KS))
    seeds = sorted({r["seed"] for r in records} | set(plan_seeds or SEEDS))
    sets = sorted({r["set"] for r in records} | set(plan_sets or SETS), key=set_order)
    rows, decision = first_screen(records, ks)
    commands = sorted({r["command"] for r in records})
    absent = missing(records, sets, ks, seeds)
    n_pairs = len({(r["set"], r["seed"]) for r in records})
    lines = [
        "<!-- Generated by `python -m benchmarks.sentence_budget --report` from runs/**/*.json. "
        "Do not edit by hand. -->",
        "",
        "# The default stage-2 budget on sentence-embedding heads (MiniLM, start `auto`)",
        "",
        "| k | question | challenger − baseline (dev accuracy, points, paired) | pairs | baseline: mean time, "
        "steps | challenger: mean time, steps |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"**What the 2-SE rule alone says (accuracy, not time):** {decision}. This is little evidence: "
        f"{len(seeds)} seed(s) x {len(sets)} sets gives at most "
        f"{len(seeds) * len(sets)} pairs per k, and a tie means only that no difference was shown. What the "
        "default became, with the time each choice costs, is in "
        "[docs/benchmarks.md](../../docs/benchmarks.md#the-stage-2-budget-on-the-new-kind).",
        "",
        ("**Incomplete:** " + "; ".join(absent) + ".") if absent else "Every planned cell has all its runs.",
        "",
        "**Generated file: do not edit by hand.** "
        "[`benchmarks/sentence_budget.py`](../../benchmarks/sentence_budget.py) runs, on "
        "each k-shot sample of the transfer benchmark's sets, `finetune(task, \"minilm\", "
        "feature=\"sentence-embedding\", seed=seed)` from its default start (`auto`) with its defaults "
        "(`default`: 3 epochs, floor 30 steps of 32, learning rate 5e-5, protocol `auto`), with `epochs` and "
        "`min_steps` halved (`half`) and doubled (`2x`), and no fine-tuning at all (`none`: a logistic "
        "regression on the frozen sentence embeddings of the sample), and scores each on a dev split of the "
        "**training pool** (never the transfer "
        "test split). Differences are paired by (set, seed), ± their standard error, \"better\"/\"worse\" beyond "
        "2 SE; times are mean wall seconds per run (loading, suggest, training, the dev pass).",
        "",
        f"{len(records)} groups (set, k, seed) over {n_pairs} (set, seed) pairs.",
        "",
        ("Command(s): " + "; ".join(f"`{c}`" for c in commands)) if commands else (
            "No records yet: `HF_HUB_OFFLINE=1 python -m benchmarks.sentence_budget --data-dir ../shared/data`."),
        "",
        "Machine(s): " + "; ".join(sorted({machine_line(r["machine"]) for r in records})),
        "",
        "## Per set and k",
        "",
        "Dev accuracy in percent, mean ± sample std over seeds (n); the auto start's head in the last column.",
        "",
        "| set | k | " + " | ".join(VARIANTS) + " | auto's head(s) |",
        "|---|---|" + "---|" * len(VARIANTS) + "---|",
    ]
    for name in sets:
        for k in ks:
            cell = [r for r in records if (r["set"], r["k"]) == (name, k)]
            if not cell:
                continue
            heads = sorted({head_taken(run) for r in cell for v in VARIANTS[1:] if (run := variant_run(r, v))})
            lines.append(f"| {name} | {k} | " + " | ".join(mean_std_text(accuracies(cell, START, v)) for v in VARIANTS)
                         + f" | {', '.join(heads) or '—'} |")
    return "\n".join(lines) + "\n"


def write_report(out: Path, sets: list[str] | None = None, ks: list[int] | None = None,
                 seeds: list[int] | None = None) -> Path:
    """Write ``out/README.md`` from the records under ``out/runs``; returns its path."""
    return write_study_report(out, lambda records: render(records, sets, ks, seeds))


def main(argv: list[str] | None = None) -> int:
    parser = plan_parser(__doc__, SETS, KS, SEEDS)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, of " + ", ".join(VARIANTS))
    parser.add_argument("--dev", type=int, default=DEV_SIZE, help="dev examples drawn from the pool")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the records (default results/sentence_budget)")
    parser.add_argument("--report", action="store_true", help="only write the page from the records")
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    ks = [int(k) for k in args.k.split(",") if k]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    variants = [v for v in args.variants.split(",") if v]
    if unknown := [v for v in variants if v not in VARIANTS]:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if not args.report:
        command = offline_session("sentence_budget", argv)
        for group in groups(sets, ks, seeds, args.data_dir, args.dev):
            run(group, args.out, variants, command)
            write_report(args.out, sets, ks, seeds)
    print(write_report(args.out, sets, ks, seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
