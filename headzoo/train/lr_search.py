"""Choosing stage-1 settings on a held-out split of the *training* data, never on dev.

The paper's stage-1 learning rates were tuned for RoBERTa-large over 20-400
epochs; on short budgets they leave the head where it started. This module
tries a small grid of learning rates and stage-1 lengths per PET method:
each candidate trains on the rest of the training split and is scored on a
stratified held-out part of it (``holdout``, 20% by default). The task's
validation split is never read, so it stays a clean test set.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..backbone import BackboneRef
from ..errors import ConfigError, DataError
from ..pet import METHODS
from .args import PRESETS, Stage1Settings, check_choice, check_float
from .context import RunOptions
from .data import TaskData, prepare_data, steps_per_epoch
from .records import clean_json
from .runtime import quiet_progress
from .stage1_run import Stage1Job, train_stage1

logger = logging.getLogger("headzoo.train")

#: Default learning-rate grid: the paper's rate for the method times these factors.
LR_FACTORS: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0)
#: Default stage-1 lengths tried, in epochs of the search's training part.
LENGTHS: tuple[float, ...] = (0.5, 1.0)


@dataclass
class SearchResult:
    """The trials of a stage-1 search and the chosen settings.

    ``trials`` holds one dict per candidate: ``learning_rate``, ``epochs``,
    ``steps``, ``score`` (the task's main metric on the held-out part of
    train), ``metrics`` and ``wall_seconds``. ``best`` is the trial with the
    highest score; ties (common when several candidates still predict the majority
    class) go to the lower held-out loss, then the shorter, then the lower-rate one.
    """

    task: str
    backbone: str
    method: str
    main_metric: str
    holdout: float
    seed: int
    search_train_size: int
    holdout_size: int
    trials: list[dict[str, Any]] = field(default_factory=list)

    @property
    def best(self) -> dict[str, Any]:
        """The trial with the highest held-out score (ties as the class docstring says)."""
        scored = [t for t in self.trials if t["score"] is not None]
        if not scored:
            raise DataError(f"no {self.method} trial produced a {self.main_metric} score on the held-out split")
        def key(t: dict[str, Any]) -> tuple[float, float, float, float]:
            loss = t["metrics"].get("loss")
            return (t["score"], -loss if isinstance(loss, (int, float)) else -math.inf, -t["epochs"],
                    -t["learning_rate"])

        return max(scored, key=key)

    def chosen(self) -> dict[str, float]:
        """The chosen stage-1 settings: ``{"learning_rate": ..., "epochs": ...}``."""
        return {"learning_rate": self.best["learning_rate"], "epochs": self.best["epochs"]}

    def summary(self) -> str:
        """One line for head_config.json and the card: what was searched and what won."""
        lrs = sorted({t["learning_rate"] for t in self.trials})
        lengths = sorted({t["epochs"] for t in self.trials})
        best = self.best
        return (f"lr {best['learning_rate']:g} and {best['epochs']:g} epoch(s) chosen from lr "
                f"{{{', '.join(f'{x:g}' for x in lrs)}}} x epochs {{{', '.join(f'{x:g}' for x in lengths)}}} by "
                f"{self.main_metric} {best['score']:.4f} on a held-out {self.holdout:.0%} of train "
                f"({self.holdout_size} examples, seed {self.seed}); dev not used")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the search, with its best trial."""
        return clean_json({**asdict(self), "best": self.best if self.trials else None})


def _split(data: TaskData, holdout: float, seed: int) -> TaskData:
    from ..tasks import sample_indices

    n = len(data.train)
    k = max(1, round(holdout * n))
    if n - k < 1:
        raise DataError(f"task {data.spec.name!r} has {n} training example(s): too few to hold {holdout:.0%} out; "
                        "lower holdout or use more data")
    labels = list(data.train["label"]) if data.spec.problem_type == "single_label_classification" else None
    held = set(sample_indices(labels, n, k, seed))
    rest = [i for i in range(n) if i not in held]
    info = {**data.info, "eval_split": f"held-out {holdout:.0%} of train (seed {seed})", "train_size": len(rest),
            "eval_size": len(held)}
    return replace(data, train=data.train.select(rest), validation=data.train.select(sorted(held)), info=info)


def search_stage1(
    task: Any,
    backbone: str | BackboneRef = "minilm",
    method: str = "lora",
    *,
    learning_rates: Sequence[float] | None = None,
    lengths: Sequence[float] = LENGTHS,
    holdout: float = 0.2,
    seed: int = 0,
    settings: Stage1Settings | dict[str, Any] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    callbacks: Sequence[Any] | None = None,
    progress: bool = False,
    model: Any = None,
) -> SearchResult:
    """Pick a stage-1 learning rate and length for ``method`` on a held-out split of train.

    Args:
        task: a task name, a ``TaskSpec`` or a ``custom_task`` pair.
        backbone: a backbone id, path or alias.
        method: one of :data:`headzoo.pet.METHODS`.
        learning_rates: candidate rates; default: the paper's rate for the method times
            :data:`LR_FACTORS`.
        lengths: candidate stage-1 lengths in epochs (of the search's training part).
        holdout: fraction of the training split held out for scoring (stratified for
            single-label classification).
        seed: seed of the split and of every trial.
        settings: other stage-1 settings (batch size, LoRA rank, ...); its ``learning_rate`` and
            ``epochs`` are what is searched and are ignored.
        data_dir, limit: as in :func:`headzoo.train.pretrain_head`.
        output_dir: scratch folder for the trials' checkpoints (default: a temp folder).
        callbacks, progress, model: as in :func:`headzoo.train.pretrain_head`.

    Returns:
        A :class:`SearchResult`; ``result.chosen()`` gives the settings to train with.

    Example:
        >>> from headzoo.train import search_stage1
        >>> res = search_stage1("sst2", "minilm", "lora", limit=1000, data_dir="data")  # doctest: +SKIP
        >>> res.chosen()  # doctest: +SKIP
        {'learning_rate': 0.005, 'epochs': 1.0}
    """
    import tempfile

    check_choice("method", method, METHODS)
    check_float("holdout", holdout, low=0, high=0.9, low_open=True)
    rates = list(learning_rates) if learning_rates is not None else [
        PRESETS["paper"][method] * f for f in LR_FACTORS
    ]
    if not rates or not lengths:
        raise ConfigError(f"the search needs at least one learning rate and one length, got {rates!r} and "
                          f"{list(lengths)!r}")
    for lr in rates:
        check_float("learning_rate", lr, low=0, low_open=True)
    for length in lengths:
        check_float("epochs", length, low=0, low_open=True)
    base = Stage1Settings.from_any(settings, method=method, seed=seed)
    with quiet_progress(progress):
        data = _split(prepare_data(task, backbone, data_dir=data_dir, limit=limit, max_length=base.max_length,
                                   seed=seed, model=model),
                      holdout, seed)
        per_epoch = steps_per_epoch(len(data.train), base.batch_size)
        result = SearchResult(task=data.spec.name, backbone=data.backbone.id, method=method,
                              main_metric=data.spec.main_metric, holdout=holdout, seed=seed,
                              search_train_size=len(data.train), holdout_size=len(data.validation))
        scratch = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="headzoo-search-"))
        for length in lengths:
            steps = max(1, round(length * per_epoch))
            for lr in rates:
                cfg = replace(base, learning_rate=float(lr), epochs=float(length), max_steps=steps)
                start = time.perf_counter()
                trial = train_stage1(data, Stage1Job(cfg, preset="headzoo", steps=steps),
                                     output_dir=scratch / f"{method}-lr{lr:g}-ep{length:g}",
                                     options=RunOptions(callbacks=callbacks, progress=progress))
                metrics = trial.info["metrics"]
                result.trials.append(clean_json({
                    "learning_rate": float(lr), "epochs": float(length), "steps": steps,
                    "score": metrics.get(data.spec.main_metric), "metrics": metrics,
                    "wall_seconds": round(time.perf_counter() - start, 3),
                }))
                logger.info("search %s lr %g, %g epoch(s): %s %s", method, lr, length, data.spec.main_metric,
                            metrics.get(data.spec.main_metric))
        if output_dir is None:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
    return result


__all__ = ["LENGTHS", "LR_FACTORS", "SearchResult", "search_stage1"]
