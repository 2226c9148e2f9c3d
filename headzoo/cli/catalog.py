"""Commands that look at what is here: ``show`` a head, ``list`` the zoos, the built-in ``tasks``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ConfigError
from ..naming import SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION
from ..pooling import Pooling
from . import options
from .output import bars, echo_json, fmt_metric
from .parse import split

commands = typer.Typer()

#: How `headzoo list` names a head's feature in its column.
FEATURE_SHORT = {SENTENCE_EMBEDDING: "sentence", SEQUENCE_CLASSIFICATION: "seq-cls"}


@commands.command()
def show(
    head: Annotated[str, typer.Argument(help="A head directory, a Hub repo id, or a task name (with --backbone).")],
    backbone: options.HeadBackbone = None,
    method: options.HeadMethod = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole head_config.json.")] = False,
    labels: Annotated[str | None, typer.Option(
        "--labels", help="Your labels, comma-separated: also show which of the head's rows they would take, "
        "e.g. --labels negative,neutral,positive.")] = None,
    label_map: Annotated[str | None, typer.Option(
        "--label-map", help="With --labels: your label = the head's label, e.g. neg=negative,pos=positive.")] = None,
    no_progress: options.NoProgress = False,
) -> None:
    """Print a head's config: task, backbone, labels, tensors and how it was trained.

    Example: headzoo show rte --backbone minilm

    Example: headzoo show sst2 --backbone minilm --labels neg,neutral,pos --label-map neg=negative,pos=positive
    """
    from ..labels import match_labels, parse_label_map
    from ..loading import resolve_head

    if label_map is not None and labels is None:
        raise ConfigError("--label-map needs --labels: give your labels, e.g. --labels neg,pos "
                          "--label-map neg=negative,pos=positive")
    with bars(no_progress):
        h = resolve_head(head, backbone, method=method)
    c = h.config
    rows = None
    if labels is not None:
        rows = match_labels(split(labels), c.labels, parse_label_map(label_map) if label_map else None,
                            source=h.source, head_regression=c.problem_type == "regression" or c.num_labels == 1
                            ).report
    if as_json:
        echo_json({**c.to_dict(), **({"label_match": rows} if rows else {})})
        return
    typer.echo(f"task:        {c.task}")
    typer.echo(f"backbone:    {c.backbone}" + (f" @ {c.backbone_revision}" if c.backbone_revision else ""))
    typer.echo(f"fingerprint: {c.backbone_fingerprint}")
    typer.echo(f"model:       {c.architecture} ({c.model_type}, hidden {c.hidden_size})")
    typer.echo(f"labels:      {', '.join(c.labels)}" + (f"  [{c.problem_type}]" if c.problem_type else ""))
    typer.echo(f"method:      {c.method or 'none'}")
    typer.echo(f"feature:     {c.feature}" + (f" ({Pooling.from_dict(c.pooling).describe()})" if c.pooling else ""))
    typer.echo(f"tensors:     {', '.join(f'{k} {v}' for k, v in sorted(c.tensors.items()))} ({h.num_bytes} bytes)")
    if c.metrics:
        typer.echo("metrics:     " + ", ".join(fmt_metric(k, v) for k, v in sorted(c.metrics.items())))
    if c.training:
        typer.echo("training:    " + ", ".join(f"{k}={v}" for k, v in c.training.items()))
    if rows:
        typer.echo(f"your labels: {rows}")


@commands.command("list")
def list_cmd(
    task: options.TaskFilter = None,
    backbone: options.BackboneFilter = None,
    method: options.MethodFilter = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (each head with its \"source\").")] = False,
    source: Annotated[str, typer.Option(help="Which zoo: user ($HEADZOO_HOME), shipped (inside headzoo) or all.")]
    = "all",
    no_progress: options.NoProgress = False,  # accepted everywhere; nothing here draws a bar
) -> None:
    """List the heads of your zoo ($HEADZOO_HOME, default ~/.cache/headzoo) and of the zoo shipped with headzoo.

    The second column says where each head comes from: user or shipped. A head in your zoo
    wins over a shipped head of the same task, backbone and method.

    Example: headzoo list --backbone minilm
    """
    from ..zoo import list_heads, zoo_home

    entries = list_heads(task=task, backbone=backbone, method=method, source=source)
    if as_json:
        echo_json([
            {"task": e.task, "backbone": e.backbone, "method": e.method, "source": e.source, "path": str(e.path),
             "metrics": e.config.metrics}
            for e in entries
        ])
        return
    if source != "shipped" and not any(e.source == "user" for e in entries):
        typer.echo(f"no heads in your zoo at {zoo_home()} (train one with `headzoo train TASK`)")
    for e in entries:
        metrics = ", ".join(fmt_metric(k, v) for k, v in sorted(e.config.metrics.items())[:2])
        kind = FEATURE_SHORT[e.config.feature]
        typer.echo(f"{e.task:12} {e.source:8} {e.method:8} {kind:9} {e.backbone}  {metrics}  {e.path}")


@commands.command()
def tasks(
    no_progress: options.NoProgress = False,  # accepted everywhere; nothing here draws a bar
) -> None:
    """List the built-in tasks with their inputs, labels and metrics."""
    from ..tasks import get_task, list_tasks

    for name in list_tasks():
        t = get_task(name)
        labels = "regression (1 output)" if t.is_regression else ", ".join(t.labels)
        inputs = "pair" if t.is_pair else "single"
        typer.echo(f"{name:6} {t.benchmark:9} {inputs:6}  labels: {labels}")
        typer.echo(f"{'':24}metrics: {', '.join(t.metrics)} (main: {t.main_metric})")
