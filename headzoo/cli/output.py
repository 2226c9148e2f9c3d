"""What the command line prints: JSON, metrics, and progress (bars on stderr, one line per evaluation)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator

import typer


def echo_json(data: object) -> None:
    """Print ``data`` as indented JSON (non-ASCII kept)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def fmt_metric(name: str, value: object) -> str:
    """``name=value``, a float with 4 significant digits.

    Example:
        >>> fmt_metric("accuracy", 0.912345)
        'accuracy=0.9123'
    """
    return f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"


def progress_callbacks(quiet: bool) -> list[object]:
    """A tqdm progress bar per training stage, on stderr, and one line per evaluation (none when ``quiet``)."""
    if quiet:
        return []
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def __init__(self) -> None:
            self.bar = None

        def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.bar = tqdm(total=state.max_steps, desc="training", unit="step", file=sys.stderr, leave=False)

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # type: ignore[no-untyped-def]
            shown = {k.removeprefix("eval_"): v for k, v in (metrics or {}).items()
                     if isinstance(v, float) and k != "epoch"
                     and not k.endswith(("_runtime", "_per_second", "loss"))}
            text = ", ".join(f"{k}={v:.4f}" for k, v in sorted(shown.items()))
            (self.bar.write if self.bar is not None else typer.echo)(f"  epoch {state.epoch or 0:.2f}: {text}")

        def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return [Progress()]


@contextlib.contextmanager
def bars(no_progress: bool) -> Iterator[None]:
    """Within the block, no download or upload bars (datasets, transformers, huggingface_hub) when ``no_progress``.

    Example:
        >>> with bars(False):
        ...     pass
    """
    if not no_progress:
        yield
        return
    from ..train.runtime import quiet_progress

    with quiet_progress(False):
        yield
