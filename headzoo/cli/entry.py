"""The console script's entry point, and the one place that turns errors into one line and an exit status.

Errors are printed on one line (``error: ...``) with a non-zero exit status and no traceback;
``headzoo --debug COMMAND`` (or ``HEADZOO_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.exceptions import TyperException

from ..errors import HeadzooError
from .app import app

#: What Ctrl-C kept, and how to go on, per command (exit status 130).
INTERRUPT_HINTS = {
    "train": "the zoo holds no half-written head; re-run the same command with --resume to continue from the "
             "last checkpoint",
    "finetune": "re-run the same command with --resume to continue from the last checkpoint",
    "compare": "finished runs are kept in runs.jsonl; re-run the same command to continue",
}


def one_line(exc: object) -> str:
    """The text of ``exc`` on one line (runs of whitespace, newlines included, become one space)."""
    return " ".join(str(exc).split())


def interrupted(args: list[str]) -> int:
    """One line for Ctrl-C: what was kept and how to go on; exit status 130."""
    command = next((a for a in args if not a.startswith("-")), "")
    hint = INTERRUPT_HINTS.get(command, "nothing was left half-written; run the command again")
    typer.echo(f"error: interrupted; {hint}", err=True)
    return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``headzoo`` console script; returns the exit status.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success; 1 for an error, 2 for a usage error, 130 for Ctrl-C (each with one ``error:`` line).

    Example:
        >>> main(["tasks", "--bogus"])  # doctest: +SKIP
        2
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("HEADZOO_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="headzoo", standalone_mode=False)
        if result == 130:  # typer turns Ctrl-C inside a command into exit code 130, silently
            return interrupted(args)
        return result if isinstance(result, int) else 0
    except HeadzooError as exc:
        if debug:
            raise
        typer.echo(f"error: {one_line(exc)}", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return interrupted(args)
    except TyperException as exc:
        if exc.format_message().strip():
            typer.echo(f"error: {one_line(exc.format_message())} (see `headzoo --help`)", err=True)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        return interrupted(args)
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {one_line(exc)} (rerun with --debug for the traceback)",
            err=True,
        )
        return 1
