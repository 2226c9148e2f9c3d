"""Where a run runs: process rank, world size, accelerators, the machine record, quiet progress bars."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any


def is_main_process() -> bool:
    """True in the process that writes files and reports (rank 0 under ``torchrun`` / ``accelerate launch``).

    Example:
        >>> is_main_process()
        True
    """
    return int(os.environ.get("RANK", "0")) == 0


def world_size() -> int:
    """The number of training processes (``WORLD_SIZE``; 1 outside a launcher).

    Example:
        >>> world_size()
        1
    """
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def machine_info() -> dict[str, Any]:
    """Where a run ran, for the record (never hashed: the same settings give the same run anywhere).

    Example:
        >>> sorted(machine_info())[:3]
        ['accelerator', 'cpu', 'cpu_count']
    """
    import platform

    import torch
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    accelerator = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"platform": f"{platform.system()} {platform.machine()}", "cpu": cpu, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "accelerator": accelerator, "world_size": world_size(),
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__}


def has_accelerator() -> bool:
    """True when torch sees a CUDA, MPS or XPU device.

    Example:
        >>> isinstance(has_accelerator(), bool)
        True
    """
    import torch

    if torch.cuda.is_available():
        return True
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return True
    xpu = getattr(torch, "xpu", None)
    return bool(xpu is not None and xpu.is_available())


@contextlib.contextmanager
def quiet_progress(progress: bool) -> Iterator[None]:
    """Silence the progress bars of datasets, transformers and huggingface_hub unless ``progress``.

    Example:
        >>> with quiet_progress(False):
        ...     pass
    """
    if progress:
        yield
        return
    import datasets
    from transformers.utils import logging as hf_logging

    datasets_on = datasets.is_progress_bar_enabled()
    transformers_on = hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if datasets_on:
            datasets.enable_progress_bars()
        if transformers_on:
            hf_logging.enable_progress_bar()
