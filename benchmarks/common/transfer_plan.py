"""The transfer benchmark's plan: its starts, sizes, budget and run settings (its study and its report read them).

The stage-2 budget, the same for every start: ``T = max(30, round(3 * n / 16))`` steps of 16 examples
(``n`` = the sample's size), learning rate 5e-5, protocol ``zoo``, an evaluation at every epoch boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .heldout import MAX_LENGTH, TEST_SIZE
from .records import ROOT

if TYPE_CHECKING:
    from headzoo import FinetuneSettings

OUT = ROOT / "results" / "transfer"
RECORD_VERSION = 1
STARTS = ("ft", "ft3x", "ft10x", "lp-ft", "eh-ft", "imprint", "zoo", "auto3x", "setfit", "frozen",
          "auto-se", "ft-se", "imprint-se", "sst2-zs")
#: Starts that train nothing on the sample and run only on some sets: ``sst2-zs`` is the shipped SST-2 head
#: (sentence-embedding kind) on the test split as it is, through the set's label map, where the set's labels
#: map onto the head's.
ZERO_SHOT_SETS = {"sst2-zs": ("reviews",)}
#: Starts on the sentence-embedding feature (the backbone's declared mean pooling, normalised): ``auto-se`` is
#: ``finetune(head="auto")`` as a user runs it now, ``ft-se`` a random head, ``imprint-se`` the sample's
#: class means. Every other headzoo start reads the sequence-classification feature, as it was recorded.
SENTENCE_STARTS = ("auto-se", "ft-se", "imprint-se")
#: Starts that fine-tune nothing: ``frozen`` is a logistic regression on the backbone's declared sentence
#: embedding (mean pooling, normalised), the floor any start must clear.
NO_FINETUNING = ("frozen", "sst2-zs")
#: Starts given a multiple of the stage-2 budget; every other start (SetFit aside) gets the budget itself.
BUDGET_FACTOR = {"ft3x": 3, "ft10x": 10, "auto3x": 3}
#: Starts whose head costs the user no optimizer step: a shipped head's steps were paid when the zoo was built,
#: an imprint makes none. Their records say 0 stage-1 steps, whatever the head's card recorded.
NO_STAGE1_STEPS = ("zoo", "imprint", "auto3x", "auto-se", "imprint-se")
KS = (8, 32, 128)
SEEDS = (0, 1, 2, 3, 4)
BATCH = 16
LEARNING_RATE = 5e-5
MIN_STEPS = 30
SETFIT_VERSION = "1.2.0"
#: SetFit runs up to this k: its contrastive pairs grow with the square of the sample.
SETFIT_MAX_K = 32
#: FT at 10x the budget runs up to this k (at k = 128 FT at 3x is ahead of every 1x start on every set).
FT10X_MAX_K = 32


def budget_steps(n: int) -> int:
    """The stage-2 budget of a sample of ``n`` examples: 3 epochs of 16, at least 30 steps."""
    return max(MIN_STEPS, round(3 * n / BATCH))


def stage2_settings(n_train: int, steps: int, seed: int) -> FinetuneSettings:
    """The benchmark's stage-2 ``FinetuneSettings``: ``steps`` steps of ``BATCH`` on ``n_train`` examples.

    >>> stage2_settings(64, 30, 0).epochs
    7.5
    """
    from headzoo import FinetuneSettings

    return FinetuneSettings(epochs=steps / -(-n_train // BATCH), learning_rate=LEARNING_RATE, batch_size=BATCH,
                            max_length=MAX_LENGTH, seed=seed, protocol="zoo",
                            eval_strategy="epoch")  # the evaluations its records were timed with


def zoo_pick_is_current(record: dict[str, Any]) -> bool:
    """Whether suggest's order now (``rank_suggestions``) picks, from a zoo record's ranking, what the run took.

    A zoo run made before suggest's order changed took another head (or auto another start): it runs again.
    Records without a ranking (other starts, or a skipped zoo run with ``imprint`` alone) are current.
    """
    from headzoo.suggest import IMPRINT_CANDIDATE, Suggestion, rank_suggestions

    if record.get("start") != "zoo" or not record.get("ranking"):
        return True
    fields = ("rank", "source", "origin", "label_fit", "accuracy", "macro_f1", "rows_from_head", "examples")
    ranked = rank_suggestions([Suggestion(**{f: c[f] for f in fields}, repo_id=c.get("repo_id"))
                               for c in sorted(record["ranking"], key=lambda c: c["rank"])])
    heads = [s for s in ranked if s.origin != IMPRINT_CANDIDATE]
    if "accuracy" not in record:
        return not heads
    return (ranked[0].name == record.get("suggest_top")
            and bool(heads) and heads[0].source == (record.get("suggestion") or {}).get("source"))


def record_path(out: Path, set_name: str, k: int, start: str, seed: int) -> Path:
    """Where one run's record goes."""
    return out / "runs" / set_name / f"k{k}" / f"{start}-seed{seed}.json"


def run_settings(set_name: str, k: int, start: str, seed: int, steps: int) -> dict[str, Any]:
    """What a run's hash covers."""
    factor = BUDGET_FACTOR.get(start, 1)
    return {"record_version": RECORD_VERSION, "set": set_name, "k": k, "start": start, "seed": seed,
            "budget_steps": steps,
            "stage2_steps": factor * steps if start not in ("setfit", *NO_FINETUNING) else None,
            "batch_size": BATCH, "learning_rate": LEARNING_RATE, "max_length": MAX_LENGTH,
            "test_size": 300 if set_name == "debates" else TEST_SIZE,
            **({"setfit": SETFIT_VERSION} if start == "setfit" else {}),
            **({"feature": "sentence-embedding"} if start in (*SENTENCE_STARTS, *ZERO_SHOT_SETS) else {})}


def planned_on(set_name: str, start: str) -> bool:
    """Whether the benchmark runs ``start`` on ``set_name`` (a zero-shot start only where its labels fit).

    >>> planned_on("reviews", "sst2-zs"), planned_on("debates", "sst2-zs"), planned_on("debates", "ft")
    (True, False, True)
    """
    return set_name in ZERO_SHOT_SETS.get(start, (set_name,))


def planned(k: int, start: str) -> bool:
    """Whether the benchmark runs ``start`` at ``k``: SetFit up to ``SETFIT_MAX_K``, FT 10x up to ``FT10X_MAX_K``.

    >>> planned(128, "setfit"), planned(128, "ft10x"), planned(128, "auto3x")
    (False, False, True)
    """
    limit = {"setfit": SETFIT_MAX_K, "ft10x": FT10X_MAX_K}.get(start)
    return limit is None or k <= limit
