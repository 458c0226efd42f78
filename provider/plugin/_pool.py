"""Threads for the RPCs that wait on the Humanitec API: a bare queue of jobs.

The native server posts each answer back through its connection's wake-up socket, so no
one waits on a job's result: ThreadPoolExecutor's futures, the semaphore that tracks its
idle threads and its shutdown locks are pure cost, about 20 µs of CPU a job here (an ad
hoc timeit of submit and run), on every refresh, create, update and delete.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

__all__ = ["Pool"]

logger = logging.getLogger("provider.plugin.server")

Job = Callable[[], object]


class Pool:
    """Up to ``max_workers`` threads, started as jobs find none idle; thread-safe."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job that no queued job is promised to
        self._started = 0  # threads
        self._max = max_workers
        self._name = name
        self._stopped = False

    def submit(self, job: Job) -> None:
        """Run ``job`` on a pool thread, soon; nothing once shut down. A job that raises is
        logged: it must answer its call itself."""
        with self._lock:
            if self._stopped:
                return
            if self._idle:
                self._idle -= 1  # a waiting thread takes this job
            elif self._started < self._max:
                name = f"{self._name}_{self._started}"
                threading.Thread(target=self._work, name=name, daemon=True).start()  # for this job
                self._started += 1
            # else every thread is busy: the job waits for the first to finish
        self._jobs.put(job)

    def shutdown(self) -> None:
        """Drop the jobs not started; each thread exits after the one it runs, if any."""
        with self._lock:
            self._stopped = True
            threads = self._started
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        for _ in range(threads):
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # the job's own failure handling failed: keep the thread
                logger.exception("a pool job failed")
            with self._lock:
                self._idle += 1
