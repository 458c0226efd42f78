"""Deliveries over real HTTP(S) on loopback: schemes, retries, refusals, timeouts, the log."""

from __future__ import annotations

import dataclasses
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from provider.emulator import DeliverySettings, EmulatorServer
from provider.emulator.delivery_log import MASK
from provider.emulator.receiver import Receiver, ThrowawayCA
from tests.emulator.conftest import TOKEN
from tests.emulator.test_app import assert_error

TIMEOUT = 1.0
SETTINGS = DeliverySettings(attempts=3, timeout=TIMEOUT, backoff=0.01, max_backoff=0.05)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[ThrowawayCA, Path]:
    authority = ThrowawayCA()
    return authority, authority.write(tmp_path_factory.mktemp("ca") / "ca.pem")


@pytest.fixture(scope="module")
def receiver(ca: tuple[ThrowawayCA, Path]) -> Iterator[Receiver]:
    with Receiver(*ca[0].issue()) as server:
        yield server


@pytest.fixture(scope="module")
def plain() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def emulator_with(ca_file: Path, *, allow_http: bool = False) -> EmulatorServer:
    settings = dataclasses.replace(SETTINGS, ca_file=ca_file, allow_http=allow_http)
    return EmulatorServer(token=TOKEN, delivery=settings, deploy_duration=0.05)


@pytest.fixture(scope="module")
def emulator(ca: tuple[ThrowawayCA, Path]) -> Iterator[EmulatorServer]:
    with emulator_with(ca[1]) as server:
        yield server


@pytest.fixture(scope="module")
def http(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers=AUTH, trust_env=False) as client:
        yield client


@pytest.fixture
def org(emulator: EmulatorServer) -> str:
    org_id = f"org-{uuid.uuid4().hex[:10]}"
    emulator.store.ensure_app(org_id, "app")
    return org_id


def add_hook(http: httpx.Client, org: str, hook_id: str, url: str, **fields: Any) -> None:
    body = {
        "id": hook_id,
        "url": url,
        "triggers": [{"scope": "environment", "type": "created"}],
        **fields,
    }
    response = http.post(f"/orgs/{org}/apps/app/webhooks", json=body)
    assert response.status_code == 201, response.text


def create_env(http: httpx.Client, org: str) -> None:
    response = http.post(f"/orgs/{org}/apps/app/envs", json={"id": "dev", "name": "Dev"})
    assert response.status_code == 201, response.text


def attempts(http: httpx.Client, org: str) -> list[dict[str, Any]]:
    """The org's delivery attempts, once everything under way is done."""
    log = http.get("/_emulator/deliveries", params={"wait": 20})
    assert log.status_code == 200, log.text
    return [entry for entry in log.json() if entry["org_id"] == org]


def outcomes(entries: list[dict[str, Any]]) -> list[tuple[int, str, int | None]]:
    return [(e["attempt"], e["outcome"], e["status_code"]) for e in entries]


def test_a_url_without_scheme_means_https(http: httpx.Client, org: str, receiver: Receiver) -> None:
    add_hook(http, org, "h", receiver.url.removeprefix("https://") + f"/{org}")
    create_env(http, org)
    (entry,) = attempts(http, org)
    assert (entry["url"], entry["outcome"]) == (f"{receiver.url}/{org}", "delivered")
    assert len(receiver.received(f"/{org}")) == 1


def test_http_is_refused_without_allow_http(http: httpx.Client, org: str, plain: Receiver) -> None:
    add_hook(http, org, "h", f"{plain.url}/{org}")
    create_env(http, org)
    (entry,) = attempts(http, org)
    assert entry["outcome"] == "refused"
    assert "--allow-http" in entry["error"]
    assert plain.received(f"/{org}") == []


def test_allow_http_permits_loopback_only(ca: tuple[ThrowawayCA, Path], plain: Receiver) -> None:
    with (
        emulator_with(ca[1], allow_http=True) as emulator,
        httpx.Client(base_url=emulator.url, headers=AUTH, trust_env=False) as http,
    ):
        emulator.store.ensure_app("o", "app")
        add_hook(http, "o", "local", f"{plain.url}/allowed")
        add_hook(http, "o", "remote", "http://example.invalid/hook")
        create_env(http, "o")
        entries = {e["webhook_id"]: e for e in attempts(http, "o")}
    assert entries["local"]["outcome"] == "delivered"
    assert len(plain.received("/allowed")) == 1
    assert entries["remote"]["outcome"] == "refused"
    assert "loopback" in entries["remote"]["error"]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([503], [(1, "retrying", 503), (2, "delivered", 200)]),
        ([429, 502], [(1, "retrying", 429), (2, "retrying", 502), (3, "delivered", 200)]),
        ([500, 500, 500], [(1, "retrying", 500), (2, "retrying", 500), (3, "gave up", 500)]),
        ([404], [(1, "rejected", 404)]),
        ([301], [(1, "rejected", 301)]),
    ],
    ids=["503-then-ok", "429-502-then-ok", "500-gives-up", "404-not-retried", "3xx-not-followed"],
)
def test_retries_connection_errors_429_and_5xx_only(
    http: httpx.Client,
    org: str,
    receiver: Receiver,
    answers: list[int],
    expected: list[tuple[int, str, int]],
) -> None:
    receiver.answer(f"/{org}", *answers)
    add_hook(http, org, "h", f"{receiver.url}/{org}")
    create_env(http, org)
    assert outcomes(attempts(http, org)) == expected
    assert len(receiver.received(f"/{org}")) == len(expected)


def test_connection_refused_is_retried_then_given_up(http: httpx.Client, org: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        add_hook(http, org, "h", f"https://127.0.0.1:{port}/")
        create_env(http, org)
        entries = attempts(http, org)
    assert outcomes(entries) == [(1, "retrying", None), (2, "retrying", None), (3, "gave up", None)]
    assert all("ConnectError" in e["error"] for e in entries)


def test_a_hanging_receiver_delays_neither_the_api_nor_other_receivers(
    http: httpx.Client, org: str, receiver: Receiver
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts into the backlog, never answers the TLS handshake
        port = silent.getsockname()[1]
        add_hook(http, org, "hangs", f"https://127.0.0.1:{port}/")
        add_hook(http, org, "answers", f"{receiver.url}/{org}")
        create_env(http, org)
        # The API has answered; the hanging attempt cannot be logged before its timeout.
        early = http.get("/_emulator/deliveries").json()
        assert [e for e in early if e["webhook_id"] == "hangs" and e["org_id"] == org] == []
        entries = attempts(http, org)
    assert (entries[0]["webhook_id"], entries[0]["outcome"]) == ("answers", "delivered")
    hung = [e for e in entries if e["webhook_id"] == "hangs"]
    assert [e["outcome"] for e in hung] == ["retrying", "retrying", "gave up"]
    assert all("Timeout" in e["error"] for e in hung)
    assert all(e["duration_ms"] >= TIMEOUT * 1000 * 0.9 for e in hung)


def test_an_untrusted_certificate_is_refused_once_and_logged(
    http: httpx.Client, org: str, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = ThrowawayCA("a CA the emulator was not given")
    with Receiver(*stranger.issue()) as untrusted:
        add_hook(http, org, "h", f"{untrusted.url}/x")
        create_env(http, org)
        (entry,) = attempts(http, org)
        assert untrusted.received() == []
    assert entry["outcome"] == "refused"
    assert "CERTIFICATE_VERIFY_FAILED" in entry["error"]
    assert any("refused" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_a_certificate_for_another_host_is_refused(
    http: httpx.Client, org: str, ca: tuple[ThrowawayCA, Path]
) -> None:
    with Receiver(*ca[0].issue(hosts=("other.example",))) as misnamed:
        add_hook(http, org, "h", f"{misnamed.url}/x")
        create_env(http, org)
        (entry,) = attempts(http, org)
        assert misnamed.received() == []
    assert entry["outcome"] == "refused"


def test_headers_are_sent_and_masked_in_the_log(
    http: httpx.Client, org: str, receiver: Receiver
) -> None:
    headers = {"Authorization": "Bearer s3cr3t", "X-Count": 3, "Content-Type": "text/plain"}
    add_hook(http, org, "h", f"{receiver.url}/{org}", headers=headers)
    create_env(http, org)
    (entry,) = attempts(http, org)
    (got,) = receiver.received(f"/{org}")
    assert got.headers["authorization"] == "Bearer s3cr3t"
    assert got.headers["x-count"] == "3"  # a non-string header value goes as JSON text
    assert got.headers["content-type"] == "application/json"
    assert entry["headers"] == dict.fromkeys(headers, MASK)
    assert "s3cr3t" not in json.dumps(entry)
    assert entry["body"] == got.json()


@pytest.mark.parametrize("wait", ["soon", "-1", "61", "nan"])
def test_a_bad_wait_is_400(http: httpx.Client, wait: str) -> None:
    assert_error(http.get("/_emulator/deliveries", params={"wait": wait}), 400)


def test_the_log_needs_the_token(emulator: EmulatorServer) -> None:
    response = httpx.get(f"{emulator.url}/_emulator/deliveries", trust_env=False)
    assert response.status_code == 401


def test_a_header_value_that_would_inject_headers_is_never_sent(
    http: httpx.Client, org: str, receiver: Receiver
) -> None:
    add_hook(http, org, "h", f"{receiver.url}/{org}", headers={"X-Bad": "a\r\nInjected: 1"})
    create_env(http, org)
    assert outcomes(attempts(http, org)) == [(1, "rejected", None)]
    assert receiver.received(f"/{org}") == []
