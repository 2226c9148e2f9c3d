"""The ``zoo`` command group: ``zoo build`` a whole zoo of heads, ``zoo publish`` one to the Hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import ZooBudget, build_zoo
from ..errors import ConfigError
from . import options
from .options import default_of, defaults_of, help_of
from .output import bars, progress_callbacks

#: The library's defaults, which the options below show and pass on.
BUILD = defaults_of(build_zoo)

commands = typer.Typer(help="Build a whole zoo of heads, or publish one to the Hub.", no_args_is_help=True)


def budget_option(name: str) -> typer.models.OptionInfo:
    """An option for the ``ZooBudget`` field ``name``: its help and default (unset: the budget's own)."""
    return typer.Option(min=1, help=f"{help_of(ZooBudget, name).rstrip('.')} (default {default_of(ZooBudget, name)}).")


@commands.command("build")
def zoo_build(
    backbone: options.Backbone = BUILD.backbone,
    tasks: Annotated[str, typer.Option(help="'all' (the built-in tasks with training data, sms_spam and "
                                       "chat_topics), or names like rte,cb,sms_spam,trec_question_type.")]
    = BUILD.tasks,
    methods: Annotated[str, typer.Option(help="Comma-separated stage-1 methods.")]
    = ",".join(BUILD.methods),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The zoo folder (heads go to OUT/heads/...); "
                                             "default: your zoo ($HEADZOO_HOME).")] = None,
    record: Annotated[Path | None, typer.Option(help="The build record (JSON) with every head's checks; "
                                                "default OUT/zoo_build.json.")] = None,
    data_dir: options.DataDir = None,
    feature: options.Feature = None,
    no_checks: Annotated[bool, typer.Option("--no-checks", help="Write every head without the zero-shot check "
                                            "on the validation split.")] = False,
    start_check: Annotated[bool, typer.Option("--start-check", help="Also fine-tune from each head against a random "
                                              "head (check (b); minutes per head; reported, not a condition to "
                                              "ship).")] = False,
    stage1_steps: Annotated[int | None, budget_option("stage1_steps")] = None,
    train_examples: Annotated[int | None, budget_option("train_examples")] = None,
    closed_form_examples: Annotated[int | None, budget_option("closed_form_examples")] = None,
    check_examples: Annotated[int | None, budget_option("check_examples")] = None,
    check_min_steps: Annotated[int | None, budget_option("check_min_steps")] = None,
    no_progress: options.NoProgress = False,
) -> None:
    """Train, check and write one head per task and method under one fixed budget; resumable.

    A head ships where its zero-shot score on the validation split is above the majority class beyond noise
    (the lower end of a 95% bootstrap interval). Heads already built with the same settings are skipped.
    Under torchrun / accelerate launch every process trains and only rank 0 writes. See docs/zoo.md for
    the budget and the checks.

    Example: headzoo zoo build --backbone minilm --tasks sst2,sms_spam --methods probe,imprint --out my-zoo
    """
    from ..train import is_main_process

    main_process = is_main_process()
    budget = {"stage1_steps": stage1_steps, "train_examples": train_examples,
              "closed_form_examples": closed_form_examples, "check_examples": check_examples,
              "check_min_steps": check_min_steps}
    paths = build_zoo(
        backbone, tasks, methods, out, data_dir=data_dir, record=record, feature=feature, checks=not no_checks,
        start_check=start_check,
        budget={k: v for k, v in budget.items() if v is not None},
        callbacks=progress_callbacks(no_progress),
        on_head=lambda h: main_process and typer.echo(f"{h.task}/{h.method}: {h.status}", err=True),
    )
    if main_process:
        for path in paths:
            typer.echo(str(path))


@commands.command("publish")
def zoo_publish(
    namespace: Annotated[str, typer.Option(help="The Hub user or organisation to push to.")],
    zoo: Annotated[Path | None, typer.Option(help="The zoo folder (holding heads/); default: your zoo. "
                                             "--shipped publishes the zoo shipped with headzoo.")] = None,
    shipped: Annotated[bool, typer.Option("--shipped", help="Publish the zoo shipped with headzoo.")] = False,
    private: Annotated[bool, typer.Option("--private", help="Create the repos private.")] = False,
    no_progress: options.NoProgress = False,
) -> None:
    """Push every head of a zoo to NAMESPACE on the Hub (one repo per head, named by the naming rule).

    Re-running it makes no new commits for heads already there.

    Example: headzoo zoo publish --namespace my-org --zoo my-zoo
    """
    from .. import publish_zoo, shipped_zoo_root

    if shipped and zoo is not None:
        raise ConfigError("give --zoo DIR or --shipped, not both")
    root = shipped_zoo_root() if shipped else zoo
    with bars(no_progress):
        urls = publish_zoo(namespace, root, private=private)
    for url in urls:
        typer.echo(url)
