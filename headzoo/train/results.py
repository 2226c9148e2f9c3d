"""What a stage-2 run (:class:`FinetuneResult`) and a grid (:class:`CompareResult`) return."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import DataError
from .records import RECORD_VERSION, dumps_json, record_version


@dataclass
class FinetuneResult:
    """What one :func:`~headzoo.train.finetune` run measured. Everything but ``model`` is JSON-ready (:meth:`to_dict`).

    Attributes:
        task, backbone, strategy, method, seed, protocol: what ran.
        main_metric: the task's main metric (``"accuracy"``...).
        final: validation metrics at the end of stage 2 (non-finite values are None).
        best: validation metrics of the best evaluation (by the main metric).
        best_epoch: the epoch (counted over the whole budget, stage 1 included) of ``best``.
        best_step: the global step (stage 1 included) of ``best``.
        history: one entry per evaluation: ``{"epoch", "step", "stage", <metrics>}``.
        stage1: how the head was made (``source``: ``"trained"`` / ``"given"`` / ``"zoo"``),
            its steps, learning rate, metrics, seconds; None for FT.
        steps_per_epoch: optimizer steps per epoch of the training data.
        budget_steps: FT's budget ``T``.
        stage1_steps, stage2_steps: steps charged to each stage.
        stage1_seconds, stage2_seconds: wall seconds of each stage (evaluation included).
        examples_per_second: training examples per second over both stages (evaluation excluded).
        settings: every hyperparameter; settings_hash: its hash (seed, strategy, method included).
        output_dir: where checkpoints and ``result.json`` went.
        machine: where it ran (platform, CPU, threads, accelerator, versions); not part of the hash.
        record_version: the :data:`~headzoo.train.records.RECORD_VERSION` the run was made with.
        model: the fine-tuned model (in memory only, not serialised).

    Example:
        >>> r = FinetuneResult.from_dict(stored)  # doctest: +SKIP
        >>> r.final_main, r.total_steps  # doctest: +SKIP
        (0.71, 80)
    """

    task: str
    backbone: str
    strategy: str
    method: str | None
    seed: int
    protocol: str
    main_metric: str
    final: dict[str, float | None]
    best: dict[str, float | None]
    best_epoch: float
    best_step: int
    history: list[dict[str, Any]]
    stage1: dict[str, Any] | None
    steps_per_epoch: int
    budget_steps: int
    stage1_steps: int
    stage2_steps: int
    stage1_seconds: float
    stage2_seconds: float
    examples_per_second: float | None
    settings: dict[str, Any]
    settings_hash: str
    output_dir: str | None = None
    machine: dict[str, Any] | None = None
    record_version: int = RECORD_VERSION
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def total_steps(self) -> int:
        """Stage-1 plus stage-2 steps."""
        return self.stage1_steps + self.stage2_steps

    @property
    def wall_seconds(self) -> float:
        """Stage-1 plus stage-2 wall seconds."""
        return self.stage1_seconds + self.stage2_seconds

    @property
    def final_main(self) -> float | None:
        """The main metric at the end."""
        return self.final.get(self.main_metric)

    @property
    def best_main(self) -> float | None:
        """The main metric of the best evaluation."""
        return self.best.get(self.main_metric)

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (without ``model``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        data["total_steps"] = self.total_steps
        data["wall_seconds"] = self.wall_seconds
        return json.loads(dumps_json(data))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FinetuneResult:
        """Rebuild a result from :meth:`to_dict` output (a record without ``record_version`` is version 1)."""
        optional = ("output_dir", "machine", "record_version")
        names = {f.name for f in fields(cls)} - {"model"}
        missing = sorted(n for n in names if n not in data and n not in optional)
        if missing:
            raise DataError(f"a stored run lacks field(s) {missing}; delete it to run it again")
        values = {k: data[k] for k in names if k in data}
        values["record_version"] = record_version(data)
        return cls(**values)


@dataclass
class CompareResult:
    """The outcome of :func:`~headzoo.train.compare`.

    Attributes:
        task, backbone: what was compared.
        out_dir: the output folder; files: file name (``"results.md"``...) -> path, for
            runs.jsonl, results.json, results.md and results.png (the files this call wrote).
        runs: every run of the grid (reused ones included), in grid order.
        summary: one row per (strategy, method): mean / std / per-seed values of the main metric.
        ran: runs trained by this call; reused: runs taken from ``runs.jsonl``.
        markdown: the table written to ``results.md``.

    Example:
        >>> res = compare("cb", seeds=(0, 1), out_dir="cb-grid")  # doctest: +SKIP
        >>> print(res.markdown)  # doctest: +SKIP
    """

    task: str
    backbone: str
    out_dir: str
    main_metric: str
    runs: list[FinetuneResult]
    summary: list[dict[str, Any]]
    files: dict[str, str]
    ran: int
    reused: int
    markdown: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (runs without their models; the table is in ``results.md``)."""
        return {
            "task": self.task,
            "backbone": self.backbone,
            "out_dir": self.out_dir,
            "main_metric": self.main_metric,
            "summary": self.summary,
            "runs": [r.to_dict() for r in self.runs],
            "files": self.files,
            "ran": self.ran,
            "reused": self.reused,
        }
