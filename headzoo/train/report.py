"""The report of a :func:`~headzoo.train.compare` grid: a Markdown table and a PNG plot (no training here)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .records import atomic_write


def label(strategy: str, method: str | None) -> str:
    """A strategy's name in tables: ``"FT"``, ``"LP-FT"``, ``"EH-FT (lora)"``.

    Example:
        >>> label("eh-ft", "lora"), label("lp-ft", "probe")
        ('EH-FT (lora)', 'LP-FT')
    """
    if strategy == "eh-ft":
        return f"EH-FT ({method})"
    return strategy.upper()


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def compare_markdown(task: str, backbone: str, main: str, summary: Sequence[Mapping[str, Any]],
                     runs: Sequence[Any], meta: Mapping[str, Any]) -> str:
    """The ``results.md`` text of a grid: settings, one row per strategy, one row per run.

    Example:
        >>> print(compare_markdown("cb", "minilm", "accuracy", result.summary, result.runs, meta))  # doctest: +SKIP
    """
    lines = [
        f"# headzoo compare: {task} on {backbone}",
        "",
        f"Protocol `{meta['protocol']}`, budget {meta['epochs']} epoch(s) = {meta['budget_steps']} steps of "
        f"{meta['batch_size']}, stage-2 lr {meta['learning_rate']:g}, stage-1 fraction {meta['stage1_fraction']:g}, "
        f"preset `{meta['preset']}`"
        + "".join(f", {m} stage-1 lr {r:g}" for m, r in (meta.get("stage1_learning_rates") or {}).items())
        + (f", data order `{meta['data_order']}`" if meta["protocol"] == "matched" else "")
        + (f", evaluation `{meta['eval_strategy']}`" if meta.get("eval_strategy") else "")
        + f", seeds {', '.join(str(s) for s in meta['seeds'])}. "
        f"Validation {main} ×100 (mean ± sample std over seeds).",
        "",
        f"| strategy | final {main} | best {main} | per seed (final) | steps (stage 1 + 2) | wall s / run |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary:
        per_seed = " ".join(_pct(v) for v in row["per_seed"].values())
        lines.append(
            f"| {row['label']} | {_pct(row['mean'])} ± {_pct(row['std'])} | {_pct(row['best_mean'])} ± "
            f"{_pct(row['best_std'])} | {per_seed} | {row['stage1_steps']} + {row['stage2_steps']} | "
            f"{row['wall_seconds_mean']:.1f} |"
        )
    lines += ["", "## Runs", "", f"| strategy | seed | final {main} | best {main} (epoch) | stage-1 {main} | wall s |",
              "|---|---|---|---|---|---|"]
    for run in runs:
        stage1_metric = run.stage1.get("metrics", {}).get(main) if run.stage1 else None
        lines.append(
            f"| {label(run.strategy, run.method)} | {run.seed} | {_pct(run.final_main)} | "
            f"{_pct(run.best_main)} ({run.best_epoch:g}) | {_pct(stage1_metric)} | {run.wall_seconds:.1f} |"
        )
    return "\n".join(lines) + "\n"


def compare_plot(path: str | os.PathLike[str], task: str, main: str, summary: Sequence[Mapping[str, Any]]) -> Path:
    """Write the grid's plot (per-seed points, mean ± std per strategy) as a PNG; return its path.

    Example:
        >>> compare_plot("results.png", "cb", "accuracy", result.summary)  # doctest: +SKIP
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(4.0, 1.6 * len(summary) + 1.5), 3.6), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, row in enumerate(summary):
        values = [100 * v for v in row["per_seed"].values() if v is not None]
        if values:
            offsets = [(j - (len(values) - 1) / 2) * 0.08 for j in range(len(values))]
            ax.scatter([i + o for o in offsets], values, s=18, color="tab:gray", alpha=0.8, zorder=2,
                       label="per seed" if i == 0 else None)
        if row["mean"] is not None:
            ax.errorbar([i], [100 * row["mean"]], yerr=[100 * (row["std"] or 0.0)], fmt="D", color="tab:blue",
                        capsize=4, zorder=3, label="mean ± std" if i == 0 else None)
    ax.set_xlim(-0.6, len(summary) - 0.4)
    ax.set_xticks(range(len(summary)))
    ax.set_xticklabels([row["label"] for row in summary], rotation=15)
    ax.set_ylabel(f"validation {main} (×100)")
    ax.set_title(f"{task}: final {main} per strategy")
    ax.grid(axis="y", alpha=0.3)
    if summary:
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return atomic_write(path, buffer.getvalue())
