"""Commands that talk to the Hugging Face Hub: ``push``, ``pull`` and ``search`` heads."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from . import options
from .output import bars, echo_json, fmt_metric

commands = typer.Typer()


@commands.command()
def push(
    head: Annotated[str, typer.Argument(help="A head directory, or a task name (with --backbone) from the local zoo.")],
    repo_id: Annotated[str | None, typer.Option("--repo-id", "-r", help="Target repo 'namespace/name'. "
                                                "Default: NAMESPACE/headzoo-TASK-BACKBONE-METHOD.")] = None,
    backbone: options.HeadBackbone = None,
    method: options.HeadMethod = None,
    namespace: Annotated[str | None, typer.Option(help="User or organisation for the default repo id "
                                                  "(default: $HEADZOO_NAMESPACE, else your user).")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    revision: Annotated[str | None, typer.Option(help="Branch to push to (created if missing).")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
    no_progress: options.NoProgress = False,
) -> None:
    """Upload a head (head.safetensors, head_config.json, model card; nothing else) to the Hub.

    Uses `hf auth login` or HF_TOKEN. Re-running an interrupted push completes it, with no duplicate commit.

    Example: headzoo push rte --backbone minilm --method lora --namespace me
    """
    from ..hub import push_head
    from ..loading import resolve_head

    source = head
    with bars(no_progress):
        if backbone is not None or not os.path.exists(head):
            source = resolve_head(head, backbone, method=method)  # type: ignore[assignment]
        url = push_head(source, repo_id, private=private, revision=revision, commit_message=message,
                        namespace=namespace)
    typer.echo(url)


@commands.command()
def pull(
    repo_id: Annotated[str, typer.Argument(help="The head's repo on the Hub, 'namespace/name'.")],
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a different head at the same zoo place.")]
    = False,
    no_progress: options.NoProgress = False,
) -> None:
    """Download a head (only its files, never a backbone) and add it to the local zoo.

    Files go to the Hugging Face cache, so a later pull works offline (HF_HUB_OFFLINE=1).

    Example: headzoo pull headzoo/headzoo-rte-all-MiniLM-L6-v2-lora
    """
    from ..head_config import read_config
    from ..hub import pull_head

    with bars(no_progress):
        path = pull_head(repo_id, revision=revision, to_zoo=True, overwrite=overwrite)
    c = read_config(path)
    typer.echo(f"{repo_id}: {c.task} head for {c.backbone} ({c.method or 'none'}) -> {path}")


@commands.command()
def search(
    task: options.TaskFilter = None,
    backbone: options.BackboneFilter = None,
    method: options.MethodFilter = None,
    author: Annotated[str | None, typer.Option(help="Only heads of this user or organisation.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_progress: options.NoProgress = False,  # accepted everywhere; a search draws no bar
) -> None:
    """Find heads on the Hub by their tags (task, backbone, method), with their headline metrics.

    Example: headzoo search --task rte --backbone minilm
    """
    from dataclasses import asdict

    from ..hub import search_heads

    found = search_heads(task=task, backbone=backbone, method=method, author=author, limit=limit)
    if as_json:
        echo_json([asdict(h) for h in found])
        return
    if not found:
        typer.echo("no heads found on the Hub for that search")
        return
    for h in found:
        metrics = ", ".join(fmt_metric(k, v) for k, v in sorted(h.metrics.items()))
        typer.echo(f"{h.repo_id}  task={h.task} method={h.method} backbone={h.backbone}  {metrics}")
