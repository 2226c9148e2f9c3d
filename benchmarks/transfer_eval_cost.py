"""What the transfer benchmark's evaluations during stage 2 cost: ``auto`` with them and without them.

The transfer runs evaluate at each epoch boundary on a one-example-per-class validation split, and those
evaluations stay in their timed totals; SetFit evaluates nothing. This times ``finetune(head="auto")`` on one
k-shot sample (``--set``, ``--k``, ``--seed``) at the transfer budget, ``--repeats`` times each, with the
evaluations at every epoch and with one evaluation at the end only (``eval_strategy="no"``), and prints
stage 2's seconds.

    HF_HUB_OFFLINE=1 python -m benchmarks.transfer_eval_cost --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common.heldout import SETS, load_set, offline_session, sample_task
from benchmarks.common.records import ROOT
from benchmarks.common.transfer_plan import budget_steps, stage2_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--set", default="reviews", choices=SETS)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    offline_session("transfer_eval_cost", argv)

    import dataclasses

    from headzoo import finetune

    info = load_set(args.set, args.data_dir)
    task, sample, _ = sample_task(args.set, info, args.k, args.seed)
    steps = budget_steps(len(sample))
    settings = stage2_settings(len(sample), steps, args.seed)
    for _ in range(args.repeats):
        for label, strategy in (("every epoch", "epoch"), ("end only", "no")):
            result = finetune(task, "minilm", head="auto", label_map=info["label_map"] or None,
                              settings=dataclasses.replace(settings, eval_strategy=strategy),
                              output_dir=Path(tempfile.mkdtemp(prefix="eval-cost-")), save_checkpoints=False)
            print(f"{args.set} k={args.k} seed {args.seed}, evaluations {label}: {len(result.history)} "
                  f"evaluation(s), stage 2 {result.stage2_seconds:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
