"""The ``predict`` command: heads as classifiers on texts given on the command line or in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..predict_io import MAX_FILE_MB, MAX_ROWS, run_predict
from . import options
from .output import bars

commands = typer.Typer()


@commands.command()
def predict(
    heads: Annotated[list[str], typer.Argument(help="Heads: task names (found in your zoo, the shipped zoo, then "
                                               "the Hub), head folders or Hub repo ids, all of one backbone.")],
    text: Annotated[list[str] | None, typer.Option("--text", help="A text to classify (repeatable).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A CSV, TSV or JSONL file of texts (.txt: one text "
                                              "per line), instead of --text.")] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="The column of --file that holds the texts.")]
    = "text",
    backbone: options.HeadBackbone = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the predictions as CSV, TSV or JSONL "
                                                "(by the suffix) instead of printing a table.")] = None,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Refuse more texts than this.")] = MAX_ROWS,
    max_file_mb: Annotated[float, typer.Option("--max-file-mb", min=0, help="Refuse a --file larger than this "
                                               "many MiB.")] = MAX_FILE_MB,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per forward pass.")] = 64,
    no_progress: options.NoProgress = False,
) -> None:
    """Classify texts with one or many heads: a table (one row per head for one --text, else one row per text
    and a column per head), or a CSV / TSV / JSONL file with --output.

    Sentence-embedding heads share one backbone pass, whatever their number; sequence-classification heads one each.
    """
    with bars(no_progress):
        typer.echo(run_predict(heads, texts=text, file=file, text_column=text_column, backbone=backbone,
                               output=output, max_rows=max_rows, max_file_mb=max_file_mb, batch_size=batch_size))
