"""Pages: writing a generated page, the machine a run ran on in words, and the figures of the plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .records import atomic_write


def write_page(path: Path, text: str) -> Path:
    """Write a generated page atomically (its folder made first); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, text)


def machine_line(machine: Mapping[str, Any]) -> str:
    """A run record's machine in one line (platform, CPU, accelerator, versions, then any other field).

    Example:
        >>> machine_line({"platform": "Linux", "cpu": "x", "cpu_count": 2, "torch": "2", "extra": 1})[:36]
        'Linux, x, 2 CPU cores, accelerator n'
    """
    known = ("platform", "cpu", "cpu_count", "accelerator", "torch", "torch_threads", "transformers", "python")
    parts = [f"{machine.get('platform')}", f"{machine.get('cpu')}", f"{machine.get('cpu_count')} CPU cores",
             f"accelerator {machine.get('accelerator') or 'none'}",
             f"torch {machine.get('torch')} ({machine.get('torch_threads')} threads)",
             f"transformers {machine.get('transformers')}", f"Python {machine.get('python')}"]
    parts += [f"{key} {value}" for key, value in sorted(machine.items()) if key not in known]
    return ", ".join(parts)


def machine_label(machine: Mapping[str, Any] | None) -> str:
    """A short name for where a run ran: the accelerator, else the CPU with its cores and torch threads.

    Example:
        >>> machine_label({"accelerator": "H200", "torch": "2.13"})
        'H200 (torch 2.13)'
    """
    if not machine:
        return "machine not recorded"
    if machine.get("accelerator"):
        return f"{machine['accelerator']} (torch {machine.get('torch')})"
    return (f"{machine.get('cpu')} CPU, {machine.get('cpu_count')} cores, {machine.get('torch_threads')} torch "
            f"thread(s) (torch {machine.get('torch')})")


def machine_versions(machine: Mapping[str, Any], peft_version: str, *, accelerator: bool) -> str:
    """The machine and the library versions a timing page names (with the accelerator when ``accelerator``).

    Example:
        >>> m = {"platform": "Linux", "cpu_count": 2, "cpu": "x", "python": "3.11", "torch": "2",
        ...      "torch_threads": 2, "transformers": "5", "accelerator": None}
        >>> machine_versions(m, "0.1", accelerator=False)
        'Linux, 2 CPU core(s) (x), Python 3.11, torch 2 (2 threads), transformers 5, peft 0.1'
    """
    device = f"{machine.get('accelerator') or 'no accelerator'}, " if accelerator else ""
    return (f"{machine['platform']}, {machine['cpu_count']} CPU core(s) ({machine['cpu']}), {device}Python "
            f"{machine['python']}, torch {machine['torch']} ({machine['torch_threads']} threads), transformers "
            f"{machine['transformers']}, peft {peft_version}")


def machine_short(machine: Mapping[str, Any]) -> str:
    """Platform, cores, CPU and torch threads, as the stage-1 search pages name them.

    Example:
        >>> machine_short({"platform": "Linux", "cpu_count": 2, "cpu": "x", "torch": "2", "torch_threads": 1})
        'Linux, 2 core(s) (x), torch 2 (1 threads)'
    """
    return (f"{machine['platform']}, {machine['cpu_count']} core(s) ({machine['cpu']}), torch "
            f"{machine['torch']} ({machine['torch_threads']} threads)")


def figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot, no global state, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig
