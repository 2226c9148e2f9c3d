"""The head-scale study: its committed page is what its renderer makes of its committed records."""

from __future__ import annotations

import json

from benchmarks import sentence_head_scale as study


def test_the_committed_page_is_what_the_renderer_makes_of_the_records() -> None:
    path = study.OUT / "records.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(study.KS) * len(study.SEEDS) * len(study.VARIANTS)
    page = (study.OUT / "README.md").read_text(encoding="utf-8")
    assert study.render(records) == page, "run: python -m benchmarks.sentence_head_scale --report"


def test_the_answer_pairs_seeds_and_leaves_out_unpaired_ones() -> None:
    def record(k: int, variant: str, seed: int, accuracy: float) -> dict:
        return {"k": k, "variant": variant, "seed": seed, "accuracy": accuracy, "start_accuracy": 0.5,
                "seconds": 1.0, "machine": {"platform": "Linux", "cpu": "Fake CPU", "cpu_count": 2}}

    records = [record(8, "s1", s, 0.60) for s in study.SEEDS] + [record(8, "s20", s, 0.70 + s / 100)
                                                                 for s in study.SEEDS]
    page = study.render(records)
    assert "- k=8: s20 − s1: +11.0 ± 0.6 SE, better" in page
    assert "probe_s20 − s20" not in page  # no probe runs: nothing to pair
    assert page.index("**Answer**") < page.index("## k = 8")
