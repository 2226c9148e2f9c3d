"""Turn command-line text into the values the library takes (lists, rates, seeds, tasks, training arguments).

Each parser raises :class:`~headzoo.errors.ConfigError` with the flag and an example of the right form;
the library checks the values themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError
from ..tasks import DEFAULT_LABEL_SEPARATOR


def split(value: str) -> list[str]:
    """The items of a comma-separated list, stripped; an empty list is a :class:`ConfigError`.

    Example:
        >>> split("ft, lp-ft")
        ['ft', 'lp-ft']
    """
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise ConfigError(f"expected a comma-separated list, got {value!r}")
    return items


def parse_rates(value: str | None) -> dict[str, float] | None:
    """``--stage1-lr ia3=0.09,probe=0.1`` as a dict (the library checks methods and ranges).

    Example:
        >>> parse_rates("ia3=0.09,probe=0.1")
        {'ia3': 0.09, 'probe': 0.1}
    """
    if value is None:
        return None
    rates: dict[str, float] = {}
    for item in split(value):
        method, _, rate = item.partition("=")
        try:
            rates[method.strip()] = float(rate)  # no "=": float("") fails too
        except ValueError:
            raise ConfigError(f"--stage1-lr takes method=rate pairs like 'ia3=0.09,probe=0.1', got {item!r}") from None
    return rates


def parse_seeds(value: str) -> list[int]:
    """``--seeds``: comma-separated seeds, or one count ``n`` meaning ``0..n-1``.

    Example:
        >>> parse_seeds("3"), parse_seeds("4,7")
        ([0, 1, 2], [4, 7])
    """
    items = split(value)
    try:
        numbers = [int(v) for v in items]
    except ValueError:
        raise ConfigError(f"--seeds must be integers like '0,1,2' or a count like '5', got {value!r}") from None
    if any(n < 0 for n in numbers):
        raise ConfigError(f"--seeds must not be negative, got {value!r}")
    if len(numbers) == 1:
        if not 1 <= numbers[0] <= 100:
            raise ConfigError(f"--seeds as a count must be between 1 and 100, got {value!r}")
        return list(range(numbers[0]))
    return numbers


def parse_modules(value: str | None) -> list[str] | None:
    """``--target-modules query,value`` as a list (None when not given).

    Example:
        >>> parse_modules("query, value")
        ['query', 'value']
    """
    if value is None:
        return None
    modules = [t.strip() for t in value.split(",") if t.strip()]
    if not modules:
        raise ConfigError(f"--target-modules takes comma-separated module names, got {value!r}; "
                          "e.g. --target-modules query,value")
    return modules


def training_args(bf16: bool, fp16: bool, accumulation: int | None, report_to: str | None,
                  workers: int | None, extra: list[str] | None) -> dict[str, object]:
    """The ``TrainingArguments`` fields the user set on the command line (the library checks them).

    Example:
        >>> training_args(True, False, 2, None, None, ["optim=adafactor"])
        {'optim': 'adafactor', 'bf16': True, 'gradient_accumulation_steps': 2}
    """
    args: dict[str, object] = {}
    for item in extra or []:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--training-arg takes KEY=VALUE, got {item!r}; e.g. --training-arg optim=adafactor")
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        args[name.strip()] = value
    if bf16:
        args["bf16"] = True
    if fp16:
        args["fp16"] = True
    if accumulation is not None:
        args["gradient_accumulation_steps"] = accumulation
    if report_to is not None:
        args["report_to"] = split(report_to)
    if workers is not None:
        args["dataloader_num_workers"] = workers
    return args


def task_arg(task: str | None, data_file: Path | None, text_columns: list[str] | None, label_column: str | None,
             validation_file: Path | None, *, label_columns: str | None = None, multi_label: bool = False,
             label_separator: str = DEFAULT_LABEL_SEPARATOR) -> object:
    """A built-in task name, or ``(TaskSpec, DatasetDict)`` of a custom data file.

    Example:
        >>> task_arg("rte", None, None, None, None)
        'rte'
    """
    if data_file is None:
        if text_columns or label_column or validation_file or label_columns or multi_label:
            raise ConfigError("--text-column, --label-column, --label-columns, --multi-label and --validation-file "
                              "need --data-file PATH")
        return task
    from ..tasks import MULTI_LABEL, custom_task

    columns = None if label_columns is None else [c.strip() for c in label_columns.split(",") if c.strip()]
    if not text_columns or (not label_column and not columns):
        raise ConfigError("a custom task needs --text-column (once or twice) and --label-column "
                          "(or --label-columns a,b,c: one 0/1 column per label)")
    if label_column and columns is not None:
        raise ConfigError(f"pass --label-column ({label_column!r}) or --label-columns ({label_columns!r}), not both")
    return custom_task(str(data_file), text_columns, label_column, label_columns=columns, name=task,
                       validation=str(validation_file) if validation_file else None,
                       problem_type=MULTI_LABEL if multi_label else None, label_separator=label_separator)
