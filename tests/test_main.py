"""``python -m headzoo`` runs the command line."""

from __future__ import annotations

import os
import subprocess
import sys


def test_python_m_headzoo_help_exits_0() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "headzoo", "--help"], capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert "Usage: headzoo" in out.stdout
