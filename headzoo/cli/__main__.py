"""``python -m headzoo.cli`` (as torchrun and ``accelerate launch -m`` run it): the ``headzoo`` command line."""

from __future__ import annotations

from .entry import main

if __name__ == "__main__":
    raise SystemExit(main())
