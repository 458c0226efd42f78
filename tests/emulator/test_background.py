"""Background: jobs off the request path, waiting for them, and stopping them."""

from __future__ import annotations

import threading

import pytest

from provider.emulator.background import Background


def test_wait_idle_counts_jobs_started_by_jobs() -> None:
    background = Background()
    done: list[str] = []
    release = threading.Event()

    def parent() -> None:
        release.wait(5)
        background.run(lambda: done.append("child"), name="child")
        done.append("parent")

    background.run(parent, name="parent")
    assert not background.wait_idle(0.05)  # the parent is still waiting
    release.set()
    assert background.wait_idle(5)
    assert sorted(done) == ["child", "parent"]


def test_close_cancels_jobs_still_waiting_to_run() -> None:
    background = Background()
    ran: list[str] = []
    background.later(60, lambda: ran.append("late"), name="late")
    background.close(timeout=5)
    assert background.wait_idle(0)
    assert ran == []
    background.run(lambda: ran.append("after close"), name="after")
    assert ran == []


def test_a_failing_job_is_logged_and_leaves_the_rest_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background()

    def boom() -> None:
        raise RuntimeError("bug")

    background.run(boom, name="boom")
    background.later(0, lambda: None, name="fine")
    assert background.wait_idle(5)
    assert any("boom" in r.getMessage() for r in caplog.records)
