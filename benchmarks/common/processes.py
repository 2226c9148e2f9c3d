"""Timed runs in fresh processes: a study's ``--child`` entry, spawned with ``python -m benchmarks.<study>``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .records import ROOT


def spawn_child(study: str, spec: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """Run ``python -m benchmarks.<study> --child <spec as JSON>`` offline with its own zoo; return its result.

    The child prints its result as one ``RESULT <json>`` line; a failed child stops the study with its stderr.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "BENCH_TMP": str(tmp / spec["stage"]),
           "HEADZOO_HOME": str(tmp / "zoo"), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{study}", "--child", json.dumps(spec)],
                          capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"stage {spec['stage']} on {spec['task']} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])
