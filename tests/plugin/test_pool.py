"""The API-calling RPCs' pool: concurrent up to its size, lazy, and quiet after shutdown."""

from __future__ import annotations

import functools
import threading
import time

import pytest

from provider.plugin._pool import Pool

TIMEOUT = 10.0


def test_jobs_run_at_once_up_to_the_pool_size_then_wait_their_turn() -> None:
    pool = Pool(3, "t")
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
