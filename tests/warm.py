"""Find and stop the warm processes a test started (their pids are in their lock files)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

__all__ = ["alive", "stop_warm_processes", "warm_pids"]


def warm_pids(directory: Path) -> list[int]:
    """Pids written in the lock files under ``directory`` (a stopped server empties its own)."""
    pids = []
    for lock in directory.rglob("*.lock"):
        with contextlib.suppress(OSError):
            text = lock.read_text(encoding="ascii").strip()
            if text.isdigit():
                pids.append(int(text))
    return pids


def alive(pid: int) -> bool:
    """Running (a zombie is dead: its parent just has not reaped it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def stop_warm_processes(directory: Path, timeout: float = 10.0) -> None:
    """SIGTERM each warm process under ``directory``; SIGKILL what is left after ``timeout``."""
    pids = [pid for pid in warm_pids(directory) if alive(pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
