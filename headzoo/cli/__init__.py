"""The ``headzoo`` command line: a thin typer layer, one library call per command.

One module per group of commands (:mod:`.catalog`: show, list, tasks; :mod:`.hub`: push, pull,
search; :mod:`.predict`; :mod:`.suggest`; :mod:`.training`: train, finetune, compare; :mod:`.demo`; :mod:`.zoo`:
zoo build, zoo publish), assembled in :mod:`.app`. Shared options are declared once in
:mod:`.options`, with their defaults and help from the settings dataclasses. :func:`main`
(:mod:`.entry`) turns every error into one line and an exit status.
"""

from __future__ import annotations

from .app import app
from .entry import main

__all__ = ["app", "main"]
