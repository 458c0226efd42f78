"""Peak memory of the provider processes Terraform launches, read from ``/proc`` (Linux).

Terraform starts the provider several times per command and the processes are short-lived,
so a background thread polls: a process counts when its command line names the provider and
its environment holds ``marker`` (set in the workspace's environment; Terraform passes its
environment on), which keeps other tests' providers, e.g. under pytest-xdist, out.
``VmHWM`` is the kernel's own high-water mark of the resident set, so a poll only has to
see each process once near its end; the last value read before exit counts.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["ProviderMemory"]

PROVIDER_NAMES = (b"terraform-provider-humanitec", b"/launch.py")
"""In a provider's command line: the launcher's name for the moment it runs under ``sh``,
then the installation's ``launch.py`` that it ``exec``-s Python on (provider/install.py)."""


class ProviderMemory:
    """Watches provider processes while in its ``with`` block.

    After it: ``peak_kib`` (largest ``VmHWM`` of any one process) and ``processes`` (how
    many were seen).
    """

    def __init__(self, marker: str, *, interval: float = 0.05) -> None:
        self._marker = marker.encode()
        self._interval = interval
        self._verdicts: dict[int, bool] = {}
        self._peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="provider memory", daemon=True)

    @property
    def peak_kib(self) -> int:
        return max(self._peaks.values(), default=0)

    @property
    def processes(self) -> int:
        return len(self._peaks)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            self._poll()
            if self._stop.wait(self._interval):
                return

    def _poll(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                if not self._is_provider(pid):
                    continue
                status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
            except OSError:  # gone, or not ours
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
                    self._peaks[pid] = max(peak, self._peaks.get(pid, 0))

    def _is_provider(self, pid: int) -> bool:
        verdict = self._verdicts.get(pid)
        if verdict is None:
            # Not cached until the command line names the provider: a process just forked
            # shows its parent's command line until it execs.
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if not any(name in cmdline for name in PROVIDER_NAMES):
                return False
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            verdict = self._verdicts[pid] = self._marker in environ
        return verdict
