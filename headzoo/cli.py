"""The ``headzoo`` command line: a thin typer layer, one library call per command.

Errors are printed on one line (``error: ...``) with a non-zero exit status
and no traceback; ``headzoo --debug COMMAND`` shows the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Annotated

import typer
from typer.exceptions import TyperException

from .errors import HeadzooError

app = typer.Typer(
    name="headzoo",
    help=(
        "Pretrained classification heads as a shareable artifact.\n\n"
        "Train a head with a parameter-efficient method (EH-FT, Yang et al. 2022), share it as a "
        "few-kilobyte head.safetensors, and fine-tune from it instead of a random head."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks and debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print results and errors.")] = False,
) -> None:
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "urllib3", "filelock", "fsspec", "datasets", "transformers"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def show(
    head: Annotated[str, typer.Argument(help="A head directory, a Hub repo id, or a task name (with --backbone).")],
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Backbone id, for a task name.")] = None,
    method: Annotated[str | None, typer.Option(help="Stage-1 method, for a task name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole head_config.json.")] = False,
) -> None:
    """Print a head's config: task, backbone, labels, tensors and how it was trained.

    Example: headzoo show rte --backbone minilm
    """
    from .zoo import resolve_head

    h = resolve_head(head, backbone, method=method)
    c = h.config
    if as_json:
        _echo_json(c.to_dict())
        return
    typer.echo(f"task:        {c.task}")
    typer.echo(f"backbone:    {c.backbone}" + (f" @ {c.backbone_revision}" if c.backbone_revision else ""))
    typer.echo(f"fingerprint: {c.backbone_fingerprint}")
    typer.echo(f"model:       {c.architecture} ({c.model_type}, hidden {c.hidden_size})")
    typer.echo(f"labels:      {', '.join(c.labels)}" + (f"  [{c.problem_type}]" if c.problem_type else ""))
    typer.echo(f"method:      {c.method or 'none'}")
    typer.echo(f"tensors:     {', '.join(f'{k} {v}' for k, v in sorted(c.tensors.items()))} ({h.num_bytes} bytes)")
    if c.metrics:
        typer.echo("metrics:     " + ", ".join(_fmt_metric(k, v) for k, v in sorted(c.metrics.items())))
    if c.training:
        typer.echo("training:    " + ", ".join(f"{k}={v}" for k, v in c.training.items()))


@app.command("list")
def list_cmd(
    task: Annotated[str | None, typer.Option(help="Only heads of this task.")] = None,
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Only heads for this backbone.")] = None,
    method: Annotated[str | None, typer.Option(help="Only heads of this stage-1 method.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the heads in the local zoo ($HEADZOO_HOME, default ~/.cache/headzoo)."""
    from .zoo import list_heads, zoo_home

    entries = list_heads(task=task, backbone=backbone, method=method)
    if as_json:
        _echo_json([
            {"task": e.task, "backbone": e.backbone, "method": e.method, "path": str(e.path),
             "metrics": e.config.metrics}
            for e in entries
        ])
        return
    if not entries:
        typer.echo(f"no heads in the zoo at {zoo_home()} (train one with `headzoo train TASK`)")
        return
    for e in entries:
        metrics = ", ".join(_fmt_metric(k, v) for k, v in sorted(e.config.metrics.items())[:2])
        typer.echo(f"{e.task:12} {e.method:8} {e.backbone}  {metrics}  {e.path}")


@app.command()
def push(
    head: Annotated[str, typer.Argument(help="A head directory, or a task name (with --backbone) from the local zoo.")],
    repo_id: Annotated[str | None, typer.Option("--repo-id", "-r", help="Target repo 'namespace/name'. "
                                                "Default: NAMESPACE/headzoo-TASK-BACKBONE-METHOD.")] = None,
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Backbone id, for a task name.")] = None,
    method: Annotated[str | None, typer.Option(help="Stage-1 method, for a task name.")] = None,
    namespace: Annotated[str | None, typer.Option(help="User or organisation for the default repo id "
                                                  "(default: $HEADZOO_NAMESPACE, else your user).")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    revision: Annotated[str | None, typer.Option(help="Branch to push to (created if missing).")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
) -> None:
    """Upload a head (head.safetensors, head_config.json, model card; nothing else) to the Hub.

    Uses `hf auth login` or HF_TOKEN. Re-running an interrupted push completes it, with no duplicate commit.

    Example: headzoo push rte --backbone minilm --method lora --namespace me
    """
    from .hub import push_head
    from .zoo import resolve_head

    source = head
    if backbone is not None or not os.path.exists(head):
        source = resolve_head(head, backbone, method=method)  # type: ignore[assignment]
    url = push_head(source, repo_id, private=private, revision=revision, commit_message=message,
                    namespace=namespace)
    typer.echo(url)


@app.command()
def pull(
    repo_id: Annotated[str, typer.Argument(help="The head's repo on the Hub, 'namespace/name'.")],
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a different head at the same zoo place.")]
    = False,
) -> None:
    """Download a head (only its files, never a backbone) and add it to the local zoo.

    Files go to the Hugging Face cache, so a later pull works offline (HF_HUB_OFFLINE=1).

    Example: headzoo pull headzoo/headzoo-rte-all-MiniLM-L6-v2-lora
    """
    from .head import read_config
    from .hub import pull_head
    from .zoo import zoo_path

    path = pull_head(repo_id, revision=revision, to_zoo=True, overwrite=overwrite)
    c = read_config(path)
    typer.echo(f"{repo_id}: {c.task} head for {c.backbone} ({c.method or 'none'}) -> "
               f"{zoo_path(c.task, c.backbone, c.method)}")


@app.command()
def search(
    task: Annotated[str | None, typer.Option(help="Only heads of this task.")] = None,
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Only heads for this backbone.")] = None,
    method: Annotated[str | None, typer.Option(help="Only heads of this stage-1 method.")] = None,
    author: Annotated[str | None, typer.Option(help="Only heads of this user or organisation.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find heads on the Hub by their tags (task, backbone, method), with their headline metrics.

    Example: headzoo search --task rte --backbone minilm
    """
    from dataclasses import asdict

    from .hub import search_heads

    found = search_heads(task=task, backbone=backbone, method=method, author=author, limit=limit)
    if as_json:
        _echo_json([asdict(h) for h in found])
        return
    if not found:
        typer.echo("no heads found on the Hub for that search")
        return
    for h in found:
        metrics = ", ".join(_fmt_metric(k, v) for k, v in sorted(h.metrics.items()))
        typer.echo(f"{h.repo_id}  task={h.task} method={h.method} backbone={h.backbone}  {metrics}")


def _fmt_metric(name: str, value: object) -> str:
    return f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``headzoo`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("HEADZOO_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="headzoo", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except HeadzooError as exc:
        if debug:
            raise
        typer.echo(f"error: {_one_line(exc)}", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("interrupted", err=True)
        return 130
    except TyperException as exc:
        if exc.format_message().strip():
            typer.echo(f"error: {_one_line(exc.format_message())} (see `headzoo --help`)", err=True)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        typer.echo("interrupted: finished work was kept; run the same command again to continue", err=True)
        return 130
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for the traceback)",
            err=True,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
