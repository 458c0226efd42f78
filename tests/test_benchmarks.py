"""The benchmark suite's instruments: the launch wrapper and the request counter.

Their figures go into the README, so what they count is checked here with real processes
and real HTTP; the timings themselves are never asserted.
"""

from __future__ import annotations

import http.client
import subprocess
from pathlib import Path

import pytest

from benchmarks.counting import RequestCounter, path_kind
from benchmarks.launches import LOG_VARIABLE, read_launches, wrap_launcher
from provider.emulator.app import create_app
from provider.emulator.server import BackgroundServer
from provider.emulator.store import WebhookStore

C_OR_PYTHON = pytest.mark.parametrize("use_c", [True, False], ids=["c", "python"])


@C_OR_PYTHON
def test_wrapper_is_transparent_and_records_each_launch(use_c: bool, tmp_path: Path) -> None:
    launcher = tmp_path / "terraform-provider-humanitec_v0.1.0"
    # Like the real launcher, it finds itself through $0 (which must be the real file).
    launcher.write_text('#!/bin/sh\necho "$0 $*"; cat; echo oops >&2; exit 3\n')
    launcher.chmod(0o755)
    log = tmp_path / "launches.log"

    wrap_launcher(launcher, use_c=use_c)
    runs = [
        subprocess.run(
            [str(launcher), "a", "b c"],
            input=b"stdin\n",
            capture_output=True,
            env={LOG_VARIABLE: str(log), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        for _ in range(2)
    ]

    for run in runs:
        assert run.returncode == 3
        assert run.stdout == f"{launcher}.real a b c\nstdin\n".encode()
        assert run.stderr == b"oops\n"
    launches = read_launches(log)
    assert len(launches) == 2
    assert all(la.exit_code == 3 and la.max_rss_kib > 0 and la.wall > 0 for la in launches)
    assert launches[0].pid != launches[1].pid


@C_OR_PYTHON
def test_wrapper_without_a_log_variable_writes_nothing(use_c: bool, tmp_path: Path) -> None:
    launcher = tmp_path / "launcher"
    launcher.write_text("#!/bin/sh\nexit 0\n")
    launcher.chmod(0o755)
    wrap_launcher(launcher, use_c=use_c)

    assert subprocess.run([str(launcher)], env={}, check=False).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["launcher", "launcher.real"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/orgs/o/apps/a", "app"),
        ("/orgs/o/apps/a/webhooks", "webhooks"),
        ("/orgs/o/apps/a/webhooks/w", "webhook"),
        ("/orgs/o/apps", "other"),
        ("/orgs/o/events", "other"),
    ],
)
def test_paths_are_told_apart(path: str, kind: str) -> None:
    assert path_kind(path) == kind


def test_counter_counts_every_request_by_method_and_kind() -> None:
    store = WebhookStore()
    store.ensure_app("o", "a")
    counter = RequestCounter(create_app(store, "t"))
    with BackgroundServer(counter) as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for method, path in [
            ("GET", "/orgs/o/apps/a"),
            ("GET", "/orgs/o/apps/a/webhooks/missing"),
            ("GET", "/orgs/o/apps/a/webhooks/missing"),
            ("DELETE", "/orgs/o/apps/a/webhooks/missing"),
        ]:
            connection.request(method, path, headers={"Authorization": "Bearer t"})
            connection.getresponse().read()
        connection.close()

        assert counter.take() == {"DELETE webhook": 1, "GET app": 1, "GET webhook": 2}
        assert counter.take() == {}
