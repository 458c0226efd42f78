"""A new, isolated interpreter importing ``provider`` from this checkout: import-cost checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["fresh_python"]

ROOT = Path(__file__).resolve().parents[1]


def fresh_python(*lines: str) -> str:
    """What ``lines`` print in a new ``python -I``, importing ``provider`` from this checkout
    (``-I`` ignores PYTHONPATH and the working directory, so it would otherwise be whichever
    copy the interpreter has installed)."""
    script = "\n".join([f"import sys; sys.path.insert(0, {str(ROOT)!r})", *lines])
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
