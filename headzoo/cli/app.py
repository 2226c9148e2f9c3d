"""The ``headzoo`` typer app: the root options, and every command group assembled in help order."""

from __future__ import annotations

import logging
import sys
import warnings

import typer

from . import catalog, demo, hub, options, predict, suggest, training, zoo

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

#: The modules of top-level commands, in the order ``headzoo --help`` lists them.
GROUPS = (catalog, hub, predict, suggest, training, demo)
for group in GROUPS:
    app.registered_commands.extend(group.commands.registered_commands)
app.add_typer(zoo.commands, name="zoo")


@app.callback()
def root(debug: options.Debug = False, quiet: options.Quiet = False) -> None:
    """Set up logging on stderr: debug logs with ``--debug``, warnings only with ``--quiet``."""
    if not debug:
        warnings.filterwarnings("ignore", category=FutureWarning)
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "urllib3", "filelock", "fsspec", "datasets", "transformers"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
