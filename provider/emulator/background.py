"""Work the emulator does off the request path: deliveries, and deployments finishing later.

Each job runs on a daemon thread of its own, so the API answers at once and a receiver
that hangs delays nobody else. :meth:`Background.wait_idle` lets a test (or
``GET /_emulator/deliveries?wait=…``) wait until everything caused so far is done;
:meth:`Background.close` cuts short the waits (backoff, deploy duration) and joins.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Background"]

_log = logging.getLogger(__name__)


class Background:
    """Runs jobs on threads and knows when none is left. Thread-safe."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._threads: set[threading.Thread] = set()
        self.stopping = threading.Event()
        """Set by :meth:`close`; jobs wait on it instead of sleeping, to stop promptly."""

    def run(self, job: Callable[[], None], *, name: str) -> None:
        """Start ``job`` on a thread of its own; nothing once closing."""
        with self._changed:
            if self.stopping.is_set():
                return
            thread = threading.Thread(target=self._run, args=(job,), name=name, daemon=True)
            self._threads.add(thread)
        thread.start()

    def later(self, delay: float, job: Callable[[], None], *, name: str) -> None:
        """Run ``job`` after ``delay`` seconds, unless closing first."""

        def wait_then_run() -> None:
            if not self.stopping.wait(delay):
                job()

        self.run(wait_then_run, name=name)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is left (jobs started by jobs included); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._threads, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop waiting jobs and join them all, for at most ``timeout`` seconds in total."""
        self.stopping.set()
        give_up = time.monotonic() + timeout
        with self._changed:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, give_up - time.monotonic()))

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # a bug in one job must not take the emulator down
            _log.exception("background job %s failed", threading.current_thread().name)
        finally:
            with self._changed:
                self._threads.discard(threading.current_thread())
                self._changed.notify_all()
