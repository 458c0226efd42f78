"""Threads for the RPCs that wait on the Humanitec API: a bare queue of jobs, and only as
many threads as keep up with it.

The native server posts each answer back through its connection's wake-up socket, so no
one waits on a job's result: ThreadPoolExecutor's futures, the semaphore that tracks its
idle threads and its shutdown locks are pure cost, about 20 µs of CPU a job here (an ad
hoc timeit of submit and run), on every refresh, create, update and delete.

Why threads start late: ten threads that each get their answer within a millisecond (a fast
API, the emulator) spend their CPU handing the GIL to one another, not waiting on the network.
In ``plan`` at N=1000 against the emulator, two threads cost 14% less of the provider's CPU
than ten and finished no later (an ad hoc A/B, the two interleaved, three runs each). So the
first ``eager`` threads start at once, as jobs find none idle, and each further one only once
a job has waited ``grow_after`` for a thread: a slow API still gets every thread it can use,
25 ms later, and a stalled call holds up the calls behind it no longer than that. With a
3 ms wait, the noise of a busy host started most of the ten anyway. Whoever waits for I/O
beside the pool (the server's connection threads) calls :meth:`Pool.grow` as often as
it last said.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable

__all__ = ["EAGER", "GROW_AFTER", "Pool"]

logger = logging.getLogger("provider.plugin.server")

Job = Callable[[], object]

EAGER = 2
"""Threads started as soon as a job finds none idle."""
GROW_AFTER = 0.025
"""Seconds a job waits for a busy thread before another thread starts for it."""


class Pool:
    """Up to ``max_workers`` threads, started as jobs find none idle (see the module
    docstring for when); thread-safe."""

    def __init__(
        self,
        max_workers: int,
        name: str,
        *,
        eager: int = EAGER,
        grow_after: float = GROW_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job that no queued job is promised to
        self._waiting: collections.deque[float] = collections.deque()  # unpromised jobs' times
        self._started = 0  # threads
        self._max = max_workers
        self._eager = min(eager, max_workers)
        self._grow_after = grow_after
        self._clock = clock
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
            elif self._started < self._eager:
                self._start()  # for this job
            else:  # the first thread to finish takes it, or one that grow() starts
                self._waiting.append(self._clock())
            self._jobs.put(job)

    def grow(self) -> float | None:
        """Start a thread for each job that has waited ``grow_after``, up to the limit; the
        seconds until the next call may start one, ``None`` while none can."""
        with self._lock:
            due = self._clock() - self._grow_after
            while self._waiting and self._waiting[0] <= due and self._started < self._max:
                self._waiting.popleft()
                self._start()
            if not self._waiting or self._started >= self._max:
                return None
            return self._waiting[0] - due

    def shutdown(self) -> None:
        """Drop the jobs not started; each thread exits after the one it runs, if any."""
        with self._lock:
            self._stopped = True
            self._waiting.clear()
            threads = self._started
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        for _ in range(threads):
            self._jobs.put(None)

    def _start(self) -> None:
        name = f"{self._name}_{self._started}"
        threading.Thread(target=self._work, name=name, daemon=True).start()
        self._started += 1

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
                if self._waiting:
                    self._waiting.popleft()  # this thread takes the longest-waiting job
                else:
                    self._idle += 1
