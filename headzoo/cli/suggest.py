"""The ``suggest`` command: rank the heads that could start a fine-tuning run on your data."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ConfigError
from ..suggest import suggest_heads
from . import options
from .options import defaults_of
from .output import bars
from .parse import task_arg

#: The library's defaults, which the options below show and pass on.
SUGGEST = defaults_of(suggest_heads)

commands = typer.Typer()


@commands.command()
def suggest(
    task: Annotated[str | None, typer.Argument(help="A built-in task, or a name for --data-file "
                                               "(default: the file's name).")] = None,
    backbone: options.Backbone = options.BACKBONE,
    label_map: Annotated[str | None, typer.Option(
        "--label-map", help="Your label = a head's label, for labels named differently, comma-separated: "
        "neg=negative,pos=positive.")] = None,
    sample: Annotated[int, typer.Option(min=4, help="Training examples to score the heads on (stratified; half "
                                        "imprints the rows a head lacks, half scores).")]
    = SUGGEST.sample,
    hub: Annotated[bool, typer.Option("--hub", help="Also rank the heads a Hub search finds for the backbone "
                                      "(pulled into the Hugging Face cache).")] = False,
    seed: Annotated[int, typer.Option(min=0)] = SUGGEST.seed,
    max_length: Annotated[int, typer.Option(min=2)] = SUGGEST.max_length,
    batch_size: Annotated[int, typer.Option(min=1)] = SUGGEST.batch_size,
    data_dir: options.DataDir = None,
    data_file: options.DataFile = None,
    text_column: options.TextColumn = None,
    label_column: options.LabelColumn = None,
    feature: options.Feature = None,
    no_progress: options.NoProgress = False,
) -> None:
    """Rank every head of the backbone (user zoo, shipped zoo, --hub) and an imprint on a sample of your data.

    Example: headzoo suggest --data-file f.csv --text-column text --label-column label
    """
    from ..labels import parse_label_map
    from ..suggest import format_suggestions

    if task is None and data_file is None:
        raise ConfigError("headzoo suggest needs your data: --data-file PATH --text-column TEXT --label-column "
                          "LABEL (or a built-in task name)")
    with bars(no_progress):
        ranked = suggest_heads(
            task_arg(task, data_file, text_column, label_column, None),  # type: ignore[arg-type]
            backbone, label_map=parse_label_map(label_map) if label_map is not None else None, sample=sample,
            seed=seed, hub=hub, data_dir=data_dir, max_length=max_length, batch_size=batch_size, feature=feature,
        )
    typer.echo(format_suggestions(ranked))
    typer.echo(f"`headzoo finetune ... --from auto` starts from {ranked[0].name}")
