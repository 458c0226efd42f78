"""The API-calling RPCs' pool: concurrent up to its size, lazy, late beyond its eager threads,
and quiet after shutdown."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import pytest

from provider.plugin._pool import Pool

TIMEOUT = 10.0


def test_jobs_run_at_once_up_to_the_pool_size_then_wait_their_turn() -> None:
    pool = Pool(3, "t", eager=3)
    release = threading.Event()
    started: list[int] = []
    lock = threading.Lock()

    def job(n: int) -> None:
        with lock:
            started.append(n)
        release.wait(TIMEOUT)

    for n in range(5):
        pool.submit(functools.partial(job, n))
    deadline = time.monotonic() + TIMEOUT
    while len(started) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # a fourth job would have started by now, were a thread free
    assert sorted(started) == [0, 1, 2]
    release.set()
    while len(started) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(started) == [0, 1, 2, 3, 4]
    pool.shutdown()


def test_threads_start_only_as_jobs_find_none_idle() -> None:
    pool = Pool(10, "lazy")
    for _ in range(20):  # one after another: the first thread takes them all
        done = threading.Event()
        pool.submit(done.set)
        assert done.wait(TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while pool._idle != 1:  # the thread counts itself idle again just after the job
            assert time.monotonic() < deadline
            time.sleep(0.001)
    names = [t.name for t in threading.enumerate() if t.name.startswith("lazy_")]
    assert names == ["lazy_0"]
    pool.shutdown()


def test_a_job_that_raises_is_logged_and_the_thread_serves_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = Pool(1, "raising")

    def fail() -> None:
        raise RuntimeError("boom")

    pool.submit(fail)
    done = threading.Event()
    pool.submit(done.set)
    assert done.wait(TIMEOUT)
    assert "a pool job failed" in caplog.text
    pool.shutdown()


def test_shutdown_drops_waiting_jobs_refuses_new_ones_and_ends_the_threads() -> None:
    pool = Pool(1, "stopping")
    release, ran = threading.Event(), threading.Event()
    pool.submit(lambda: release.wait(TIMEOUT))
    pool.submit(ran.set)  # waits behind the first
    pool.shutdown()
    pool.submit(ran.set)
    release.set()
    deadline = time.monotonic() + TIMEOUT
    while any(t.name == "stopping_0" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the thread did not end"
        time.sleep(0.01)
    assert not ran.is_set()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_beyond_the_eager_threads_a_job_waits_grow_after_then_gets_a_thread_of_its_own() -> None:
    clock = FakeClock()
    pool = Pool(4, "late", eager=2, grow_after=0.025, clock=clock)
    release = threading.Event()
    running: list[int] = []

    def job(n: int) -> None:
        running.append(n)
        release.wait(TIMEOUT)

    assert pool.grow() is None  # nothing waits
    for n in range(5):
        pool.submit(functools.partial(job, n))
    wait_until(lambda: len(running) == 2)
    assert pool.grow() == pytest.approx(0.025)
    clock.now += 0.010
    assert pool.grow() == pytest.approx(0.015)  # not yet due: no thread starts
    time.sleep(0.05)
    assert sorted(running) == [0, 1]
    clock.now += 0.015
    # All three are due, but the pool may start only two more threads; the third job waits
    # for a thread to finish, and no call of grow() can help it.
    assert pool.grow() is None
    wait_until(lambda: len(running) == 4)
    release.set()
    wait_until(lambda: len(running) == 5)
    names = sorted(t.name for t in threading.enumerate() if t.name.startswith("late_"))
    assert names == ["late_0", "late_1", "late_2", "late_3"]
    pool.shutdown()


def test_a_thread_that_finishes_takes_the_waiting_job_and_none_starts_for_it() -> None:
    clock = FakeClock()
    pool = Pool(4, "reuse", eager=1, grow_after=0.025, clock=clock)
    first_done, second_ran = threading.Event(), threading.Event()
    release = threading.Event()

    def first() -> None:
        release.wait(TIMEOUT)
        first_done.set()

    pool.submit(first)
    pool.submit(second_ran.set)  # waits: the one eager thread is busy
    assert pool.grow() is not None
    release.set()
    assert second_ran.wait(TIMEOUT)
    clock.now += 1.0
    assert pool.grow() is None  # the finished thread took it: nothing left to grow for
    assert [t.name for t in threading.enumerate() if t.name.startswith("reuse_")] == ["reuse_0"]
    pool.shutdown()


def test_shutdown_forgets_waiting_jobs() -> None:
    clock = FakeClock()
    pool = Pool(2, "forget", eager=1, clock=clock)
    release, ran = threading.Event(), threading.Event()
    pool.submit(lambda: release.wait(TIMEOUT))
    pool.submit(ran.set)
    pool.shutdown()
    clock.now += 1.0
    assert pool.grow() is None
    release.set()
    time.sleep(0.05)
    assert not ran.is_set()
    assert not any(t.name == "forget_1" for t in threading.enumerate())
