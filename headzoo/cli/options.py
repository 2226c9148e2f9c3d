"""The command line's shared options, declared once.

Every option that more than one command takes, and every option that sets a field of a settings
dataclass, is an ``Annotated`` type here. Their help comes from the field's ``metadata["help"]`` and
their defaults from the dataclass (or from the library function's signature), through
:func:`help_of` and :func:`default_of`, so the command line types no copy of them.

Example:
    >>> default_of(FinetuneSettings, "min_steps") == FinetuneSettings().min_steps
    True
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import typer

from ..train import FinetuneSettings, Stage1Settings

#: The backbone every command uses by default (the alias of the embedded all-MiniLM-L6-v2).
BACKBONE = "minilm"


def default_of(owner: Any, name: str) -> Any:
    """The default of field ``name`` of a dataclass, or of parameter ``name`` of a function.

    Args:
        owner: a dataclass (its field's ``default`` or ``default_factory()``) or a function.
        name: the field or parameter name.

    Returns:
        The default value.

    Example:
        >>> default_of(Stage1Settings, "method")
        'lora'
    """
    if dataclasses.is_dataclass(owner):
        found = {f.name: f for f in dataclasses.fields(owner)}[name]
        if found.default is not dataclasses.MISSING:
            return found.default
        return found.default_factory()  # type: ignore[misc]
    return inspect.signature(owner).parameters[name].default


def defaults_of(func: Any) -> SimpleNamespace:
    """The parameter defaults of the library function ``func``, as attributes (``defaults_of(f).seed``).

    Example:
        >>> defaults_of(lambda task, seed=0: None).seed
        0
    """
    return SimpleNamespace(**{name: p.default for name, p in inspect.signature(func).parameters.items()
                              if p.default is not inspect.Parameter.empty})


def help_of(owner: type, name: str) -> str:
    """The ``metadata["help"]`` of field ``name`` of the dataclass ``owner``.

    Example:
        >>> help_of(FinetuneSettings, "batch_size")
        'Training examples per step and device (both stages).'
    """
    return {f.name: f for f in dataclasses.fields(owner)}[name].metadata["help"]


# --------------------------------------------------------------------------- every command

Debug = Annotated[bool, typer.Option("--debug", help="Show full tracebacks and debug logs.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only print results and errors.")]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No progress bars.")]

# --------------------------------------------------------------------------- heads: show, list, push, search

HeadBackbone = Annotated[str | None, typer.Option("--backbone", "-b", help="Backbone id, for a task name.")]
HeadMethod = Annotated[str | None, typer.Option(help="Stage-1 method, for a task name.")]
TaskFilter = Annotated[str | None, typer.Option("--task", help="Only heads of this task.")]
BackboneFilter = Annotated[str | None, typer.Option("--backbone", "-b", help="Only heads for this backbone.")]
MethodFilter = Annotated[str | None, typer.Option("--method", help="Only heads of this stage-1 method.")]

# --------------------------------------------------------------------------- the data of a run

TaskArg = Annotated[str, typer.Argument(help="A built-in task (see `headzoo tasks`), or a name for --data-file.")]
Backbone = Annotated[str, typer.Option("--backbone", "-b", help="Backbone: Hub id, alias or local folder "
                                       "(default: the embedded all-MiniLM-L6-v2).")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", envvar="HEADZOO_DATA_DIR",
                                              help="Folder of the original GLUE/SuperGLUE files (offline); "
                                              "default: the datasets Hub.")]
DataFile = Annotated[Path | None, typer.Option("--data-file", help="A custom task: CSV, TSV, JSON or JSONL file "
                                               "(or a datasets Hub id).")]
TextColumn = Annotated[list[str] | None, typer.Option("--text-column", help="Text column of --data-file "
                                                      "(give it twice for sentence pairs).")]
LabelColumn = Annotated[str | None, typer.Option("--label-column", help="Label column of --data-file.")]
LabelColumns = Annotated[str | None, typer.Option(
    "--label-columns", help="Several labels per example: comma-separated 0/1 columns of --data-file, one per "
    "label, e.g. toxic,obscene,insult (instead of --label-column).")]
MultiLabel = Annotated[bool, typer.Option(
    "--multi-label", help="Several labels per example: each --label-column cell lists them, as a JSON list or, "
    "in CSV/TSV, separated by --label-separator ('sports|politics'; empty: none). JSON lists are found "
    "without this flag.")]
LabelSeparator = Annotated[str, typer.Option("--label-separator", help="What separates the labels of one CSV/TSV "
                                             "cell with --multi-label.")]
ValidationFile = Annotated[Path | None, typer.Option("--validation-file", help="Held-out file for --data-file "
                                                     "(default: a stratified 10% split of it).")]
Limit = Annotated[int | None, typer.Option(min=1, help="Use at most this many examples per split.")]
Feature = Annotated[str | None, typer.Option(
    "--feature", help="What the head reads: sentence-embedding (the sentence embedding the backbone declares, "
    "as sentence-transformers computes it), sequence-classification (the model's own head path) or auto "
    "(what the backbone declares). Default: auto.")]

# --------------------------------------------------------------------------- stage 1 (train)

#: Stage-1 defaults (``Stage1Settings``); a command's parameter default reads them, e.g. ``STAGE1.epochs``.
STAGE1 = Stage1Settings()
Stage1Method = Annotated[str, typer.Option("--method", "-m", help=help_of(Stage1Settings, "method"))]
Stage1LearningRate = Annotated[float | None, typer.Option("--lr", help=help_of(Stage1Settings, "learning_rate"))]
Stage1Epochs = Annotated[float, typer.Option(help=help_of(Stage1Settings, "epochs"))]
Stage1MaxSteps = Annotated[int | None, typer.Option(min=1, help=help_of(Stage1Settings, "max_steps"))]
Stage1BatchSize = Annotated[int, typer.Option(min=1, help=help_of(Stage1Settings, "batch_size"))]
Stage1MaxLength = Annotated[int, typer.Option(min=2, help=help_of(Stage1Settings, "max_length"))]
Stage1Seed = Annotated[int, typer.Option(min=0, help=help_of(Stage1Settings, "seed"))]
_TARGETS = help_of(Stage1Settings, "target_modules")
TargetModules = Annotated[str | None, typer.Option(
    "--target-modules", help=f"Comma-separated {_TARGETS[0].lower()}{_TARGETS[1:]}")]
Preset = Annotated[str, typer.Option(help=help_of(FinetuneSettings, "preset"))]

# --------------------------------------------------------------------------- stage 2 (finetune, compare)

#: Stage-2 defaults (``FinetuneSettings``); a command's parameter default reads them, e.g. ``STAGE2.epochs``.
STAGE2 = FinetuneSettings()
Epochs = Annotated[float, typer.Option(help=help_of(FinetuneSettings, "epochs"))]
LearningRate = Annotated[float, typer.Option("--lr", help=help_of(FinetuneSettings, "learning_rate"))]
Protocol = Annotated[str, typer.Option(help=help_of(FinetuneSettings, "protocol"))]
DataOrder = Annotated[str, typer.Option(help=help_of(FinetuneSettings, "data_order"))]
EvalStrategy = Annotated[str, typer.Option("--eval-strategy", help=help_of(FinetuneSettings, "eval_strategy"))]
EvalSteps = Annotated[float, typer.Option("--eval-steps", help=help_of(FinetuneSettings, "eval_steps"))]
MinSteps = Annotated[int, typer.Option("--min-steps", min=0, help=help_of(FinetuneSettings, "min_steps"))]
BatchSize = Annotated[int, typer.Option(min=1, help=help_of(FinetuneSettings, "batch_size"))]
MaxLength = Annotated[int, typer.Option(min=2, help=help_of(FinetuneSettings, "max_length"))]
Seed = Annotated[int, typer.Option(min=0, help=help_of(FinetuneSettings, "seed"))]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint.")]

# --------------------------------------------------------------------------- transformers.TrainingArguments

Bf16 = Annotated[bool, typer.Option("--bf16", help="Mixed precision in bfloat16 (TrainingArguments.bf16).")]
Fp16 = Annotated[bool, typer.Option("--fp16", help="Mixed precision in float16 (TrainingArguments.fp16; "
                                    "needs a GPU).")]
Accumulation = Annotated[int | None, typer.Option(
    "--gradient-accumulation-steps", min=1,
    help="Micro-batches of --batch-size per optimizer step (the budget is counted in optimizer steps).")]
ReportTo = Annotated[str | None, typer.Option(
    "--report-to", help="Comma-separated trackers for the Trainer's logs, e.g. tensorboard, wandb, mlflow "
    "(default none).")]
Workers = Annotated[int | None, typer.Option("--dataloader-num-workers", min=0,
                                             help="Processes that load batches (default 0).")]
TrainingArg = Annotated[list[str] | None, typer.Option(
    "--training-arg", help="Any other transformers.TrainingArguments field as KEY=VALUE (repeatable), e.g. "
    "--training-arg optim=adafactor; the value is read as JSON when it parses, else as text.")]
