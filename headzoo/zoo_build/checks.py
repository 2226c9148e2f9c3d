"""The two checks of a zoo head on its task's validation split (dev), read only to report them.

(a) zero-shot: the head on the plain backbone, with no fine-tuning, scores above the task's majority
    class (for a correlation, above 0: what a constant prediction gets) beyond noise: the lower end of a
    95 % bootstrap interval of its dev figure (:func:`headzoo.tasks.metric_interval`) is above it. This is
    the check that decides whether a head ships.
(b) as a start (optional, reported only): fine-tuning from the head against fine-tuning from a random
    head at the same short stage-2 budget (same seed, data and steps).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..evaluate import head_outputs
from ..head import Head
from ..tasks import compute_metrics, metric_interval
from .context import BuildContext
from .data import ZooTask

__all__ = ["check_head", "zero_shot_baseline"]

#: Main metrics that are correlations: a constant prediction scores 0 on them.
CORRELATIONS = ("matthews_correlation", "pearson", "spearmanr", "combined_score")


def zero_shot_baseline(spec: Any, validation: Any) -> tuple[str, float]:
    """What check (a) must beat: ``(what, score)``: the majority class's main metric, or 0 for a correlation.

    Example:
        >>> import datasets
        >>> from headzoo.tasks import get_task
        >>> zero_shot_baseline(get_task("rte"), datasets.Dataset.from_dict({"label": [0, 0, 1]}))
        ('the majority class (entailment)', 0.6666666666666666)
    """
    if spec.main_metric in CORRELATIONS:
        return "a constant prediction (0)", 0.0
    labels = list(validation["label"][:])
    top = max(set(labels), key=labels.count)
    score = compute_metrics(spec, [top] * len(labels), labels)[spec.main_metric]
    return f"the majority class ({spec.labels[top]})", float(score)


def zero_shot_check(head: Head, task: ZooTask, ctx: BuildContext) -> dict[str, Any]:
    """Check (a): the head's metrics on the plain backbone over dev, their 95 % interval, the baseline, and
    whether the interval's lower end is above the baseline.

    Example:
        >>> zero_shot_check(head, task, ctx)["passes"]  # doctest: +SKIP
        True
    """
    from ..train import prepare_data
    from ..train.runtime import quiet_progress

    spec = task.spec
    with quiet_progress(ctx.progress):
        data = prepare_data((spec, task.stage1_data), ctx.ref, data_dir=None, limit=None,
                            max_length=ctx.plan.max_length, seed=ctx.plan.seed, feature=head.config.feature)
    baseline_name, baseline = zero_shot_baseline(spec, task.stage1_data["validation"])
    outputs, labels = head_outputs(head, data)
    zero_shot = {k: float(v) for k, v in compute_metrics(spec, outputs, labels).items()}
    low, high = metric_interval(spec, outputs, labels, seed=ctx.plan.seed)
    return {"metrics": zero_shot, "interval": [low, high], "baseline": baseline, "baseline_name": baseline_name,
            "passes": low > baseline}


def as_start_check(head: Head, method: str, task: ZooTask, ctx: BuildContext) -> dict[str, Any]:
    """Check (b): stage 2 from the head against stage 2 from a random head (kept in ``ctx.book["random"]``).

    Example:
        >>> as_start_check(head, "lora", task, ctx)["passes"]  # doctest: +SKIP
        False
    """
    from ..train import FinetuneSettings, finetune, settings_hash

    spec, plan, check_data = task.spec, ctx.plan, task.check_data
    steps_per_epoch = max(1, -(-check_data["train"].num_rows // plan.batch_size))
    epochs = max(1.0, plan.check_min_steps / steps_per_epoch)
    cfg = FinetuneSettings(epochs=epochs, learning_rate=plan.check_learning_rate, batch_size=plan.batch_size,
                           max_length=plan.max_length, seed=plan.seed, protocol="zoo")
    feature = head.config.feature
    keyed = {"cfg": asdict(cfg), "data": task.sizes, "backbone": ctx.ref.id, "feature": feature}
    random_key = f"{spec.name}:{settings_hash(keyed)}"
    random_final = ctx.book["random"].get(random_key)
    if not isinstance(random_final, dict):
        ft = finetune((spec, check_data), ctx.ref, strategy="ft", settings=cfg, feature=feature,
                      output_dir=ctx.scratch / "ft" / spec.name, callbacks=ctx.callbacks, progress=ctx.progress,
                      save_checkpoints=False)
        random_final = dict(ft.final)
        ctx.book["random"][random_key] = random_final
    eh = finetune((spec, check_data), ctx.ref, strategy="eh-ft", head=head, method=method, settings=cfg,
                  output_dir=ctx.scratch / "eh" / spec.name / method, callbacks=ctx.callbacks,
                  progress=ctx.progress, save_checkpoints=False)
    from_head = dict(eh.final)
    score_random = random_final.get(spec.main_metric)
    score_head = from_head.get(spec.main_metric)
    passes = isinstance(score_head, float) and isinstance(score_random, float) and score_head > score_random
    return {"from_head": from_head, "from_random_head": random_final, "passes": passes,
            "epochs": round(epochs, 4), "steps": round(epochs * steps_per_epoch),
            "train_examples": check_data["train"].num_rows}


def check_head(head: Head, method: str, task: ZooTask, ctx: BuildContext) -> dict[str, Any]:
    """Run check (a), and (b) where the build asks for it; return them as the build record keeps them, and note
    them in the head's record.

    The head's ``training["zoo_build"]["checks"]`` gets the main metric of each, rounded, and (a)'s interval.

    Returns:
        ``{"zero_shot": ..., "as_start": ...}`` (``as_start`` None without check (b)), each with ``passes``.

    Example:
        >>> checks = check_head(head, "probe", task, ctx)  # doctest: +SKIP
        >>> checks["zero_shot"]["passes"]  # doctest: +SKIP
        True
    """
    spec = task.spec
    zero_shot = zero_shot_check(head, task, ctx)
    as_start = as_start_check(head, method, task, ctx) if ctx.start_check else None
    score_head = as_start["from_head"].get(spec.main_metric) if as_start else None
    score_random = as_start["from_random_head"].get(spec.main_metric) if as_start else None
    head.config.training["zoo_build"]["checks"] = {
        "zero_shot": round(zero_shot["metrics"][spec.main_metric], 4),
        "interval": [round(v, 4) for v in zero_shot["interval"]], "baseline": round(zero_shot["baseline"], 4),
        "as_start": None if score_head is None else round(score_head, 4),
        "random_start": None if score_random is None else round(score_random, 4),
        "metric": spec.main_metric, "split": "validation"}
    return {"zero_shot": zero_shot, "as_start": as_start}
