"""What ranking every head costs, against one plain forward pass over the same sample (issue 17 item 3).

The physical limit: ``suggest_heads`` runs the backbone once over the sample and scores every
candidate head from the cached backbone output, so ranking them all should cost at most 1.2x a
single forward pass. This times, on MiniLM and a sample of 256 training examples of a real set:

- ``plain``: one forward pass of the classifier over the sample (length-sorted batches of 64,
  eval, ``torch.inference_mode``), the cheapest way to look at the sample at all;
- ``suggest``: the whole ``suggest_heads`` call, minus building the model (``Ranking.seconds["model"]``:
  loading the backbone, which a user pays once for any use of it).

Both are repeated, interleaved, and the medians compared. The data are read once, outside the timings.
``--feature sentence-embedding`` times the other kind of head (the classifier on the checkpoint's declared
sentence embedding, and the heads of that kind); ``--zoo DIR`` takes the heads of a zoo folder instead of the
shipped zoo (until the shipped zoo holds heads of that kind: ``benchmarks/predict_speed.py --stand-in-zoo DIR``
writes one). With ``--out X.md`` the rows also go to ``X.json``.
On a machine shared with other jobs, wall times between two calls vary a lot; the ``in-call`` ratio
is measured inside each ``suggest_heads`` call: (its time minus the model) over its own backbone pass,
which is the same work as ``plain``, so the load of the moment cancels out.

    HF_HUB_OFFLINE=1 python -m benchmarks.bench_suggest --repeats 5 --out results/bench_suggest.md
    HF_HUB_OFFLINE=1 python -m benchmarks.bench_suggest --repeats 5 --feature sentence-embedding \
        --zoo /tmp/stand-in-zoo --out results/bench_suggest_sentence.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common.records import machine_info
from headzoo import list_heads, resolve_backbone, suggest_heads
from headzoo.backbone import load_classifier, load_tokenizer
from headzoo.demo import demo_task
from headzoo.tasks import load_task, sample_indices

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def datasets_to_time(sample: int) -> dict[str, Any]:
    """The sets: SST-2 train (2 labels, heads match fully) and the demo's tweets (3 labels, partial matches)."""
    import datasets

    out: dict[str, Any] = {}
    if (DATA_DIR / "glue" / "SST-2").is_dir():
        from headzoo.tasks import get_task

        spec = get_task("sst2")
        raw = load_task(spec, DATA_DIR)
        keep = sample_indices(list(raw["train"]["label"]), raw["train"].num_rows, 4 * sample, 0)
        out["sst2 train (2 labels)"] = (spec, datasets.DatasetDict({"train": raw["train"].select(keep),
                                                                    "validation": raw["validation"]}))
    out["demo tweets (3 labels)"] = demo_task(4 * sample, 100)
    return out


def plain_pass(model: Any, tokenizer: Any, texts: list[str], batch_size: int = 64) -> float:
    """Seconds of one forward pass over ``texts`` (tokenised beforehand, length-sorted batches)."""
    from transformers import DataCollatorWithPadding

    enc = tokenizer(texts, truncation=True, max_length=128)
    order = sorted(range(len(texts)), key=lambda j: len(enc["input_ids"][j]))
    collate = DataCollatorWithPadding(tokenizer)
    batches = [collate([{k: enc[k][j] for k in enc} for j in order[s:s + batch_size]])
               for s in range(0, len(order), batch_size)]
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            model(**batch)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample", type=int, default=256)
    parser.add_argument("--feature", choices=("sequence-classification", "sentence-embedding"),
                        default="sequence-classification", help="the kind of model and heads to time")
    parser.add_argument("--zoo", type=Path, default=None, help="a zoo folder (holding heads/) instead of the shipped")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    command = "HF_HUB_OFFLINE=1 python -m benchmarks.bench_suggest " + shlex.join(sys.argv[1:] if argv is None
                                                                                   else argv)
    if args.zoo is not None:
        os.environ["HEADZOO_SHIPPED_ZOO"] = str(args.zoo)

    ref = resolve_backbone("minilm")
    tokenizer = load_tokenizer(ref)
    shipped = [e for e in list_heads(backbone="minilm", source="shipped") if e.config.feature == args.feature]
    rows = []
    for name, task in datasets_to_time(args.sample).items():
        spec, data = task
        model = load_classifier(ref, feature=args.feature, num_labels=spec.num_labels,
                                id2label=dict(spec.id2label), label2id=dict(spec.label2id)).eval()
        labels = list(data["train"]["label"])
        texts = [data["train"][i]["text_a"] for i in sample_indices(labels, len(labels), args.sample, 0)]
        suggest_heads(task, model=model, sample=args.sample)  # warm-up: first-call costs of torch and the heads
        plain, ranked_s, detail, in_call = [], [], [], []
        for _ in range(args.repeats):
            plain.append(plain_pass(model, tokenizer, texts))
            ranked = suggest_heads(task, model=model, sample=args.sample)
            ranked_s.append(ranked.seconds["total"] - ranked.seconds["model"])
            detail.append(ranked.seconds)
            in_call.append((ranked.seconds["total"] - ranked.seconds["model"]) / ranked.seconds["backbone_pass"])
        p, s = statistics.median(plain), statistics.median(ranked_s)
        rows.append({"data": name, "candidates": len(ranked), "not_candidates": len(ranked.skipped),
                     "plain_s": round(p, 3), "suggest_s": round(s, 3), "ratio": round(s / p, 3),
                     "in_call_ratio": round(statistics.median(in_call), 3),
                     "plain_all": [round(x, 3) for x in plain], "suggest_all": [round(x, 3) for x in ranked_s],
                     "last_breakdown": detail[-1], "top": ranked[0].name})
        print(json.dumps(rows[-1]))
    info = machine_info()
    lines = [
        "# suggest: ranking every head vs one forward pass",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: `{json.dumps(info, sort_keys=True)}`",
        "",
        f"MiniLM (all-MiniLM-L6-v2), the {args.feature} kind of model and heads, a stratified sample of "
        f"{args.sample} training examples, {len(shipped)} heads of that kind in "
        f"{'the shipped zoo' if args.zoo is None else f'the zoo folder `{args.zoo}`'} (plus any in the user's "
        "zoo); medians of the repeats, interleaved. `plain`: one forward pass over "
        "the sample; `suggest`: `suggest_heads` minus building the model; `in-call`: the same over the backbone pass "
        "inside each call (robust to the machine's load of the moment). Target: at most 1.2.",
        "",
        "| data | candidates | not candidates | plain (s) | suggest (s) | ratio | in-call ratio | top |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['data']} | {r['candidates']} | {r['not_candidates']} | {r['plain_s']:.2f} | "
                     f"{r['suggest_s']:.2f} | {r['ratio']:.2f} | **{r['in_call_ratio']:.2f}** | {r['top']} |")
    lines += ["", "Every repeat, and where the last `suggest` call spent its time (seconds):", ""]
    for r in rows:
        lines.append(f"- {r['data']}: plain {r['plain_all']}, suggest {r['suggest_all']}; "
                     f"last call {r['last_breakdown']}")
    lines += ["", f"Load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.", ""]
    text = "\n".join(lines) + "\n"
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        record = {"command": command, "machine": info, "feature": args.feature, "sample": args.sample,
                  "repeats": args.repeats, "zoo": str(args.zoo) if args.zoo else "shipped", "rows": rows}
        args.out.with_suffix(".json").write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
