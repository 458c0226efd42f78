"""The fault proxy itself, driven with httpx against the emulator (no Terraform)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import TOKEN
from .faultproxy import (
    Fault,
    FaultProxy,
    Rule,
    Seen,
    echo_request,
    empty_204,
    refusing_port,
    set_fields,
)


def hook(webhook_id: str) -> dict[str, Any]:
    return {
        "id": webhook_id,
        "url": "https://example.com/hook",
        "headers": {"X-Secret": "hdr-value"},
        "triggers": [{"scope": "environment", "type": "created"}],
    }


@pytest.fixture
def via_proxy(proxy: FaultProxy, org: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{proxy.url}/orgs/{org}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,
        timeout=5,
    ) as client:
        yield client


@pytest.fixture
def hooks(app_id: str) -> str:
    return f"/apps/{app_id}/webhooks"


def test_without_rules_requests_pass_unchanged(
    proxy: FaultProxy, via_proxy: httpx.Client, api: httpx.Client, hooks: str
) -> None:
    created = via_proxy.post(hooks, json=hook("plain"))
    assert created.status_code == 201, created.text
    assert via_proxy.get(f"{hooks}/plain").json() == api.get(f"{hooks}/plain").json()
    assert via_proxy.delete(f"{hooks}/plain").status_code == 204
    assert via_proxy.get(f"{hooks}/plain?x=1").status_code == 404
    assert [(s.method, s.path.rsplit("/", 1)[1], s.fault) for s in proxy.log] == [
        ("POST", "webhooks", None),
        ("GET", "plain", None),
        ("DELETE", "plain", None),
        ("GET", "plain", None),  # the query is not part of the logged path
    ]
    assert proxy.counts() == {}


@pytest.mark.parametrize(
    ("fault", "status"), [(Fault.UNAVAILABLE, 503), (Fault.THROTTLE, 429)], ids=["503", "429"]
)
def test_refusals_answer_without_forwarding(
    proxy: FaultProxy,
    via_proxy: httpx.Client,
    api: httpx.Client,
    hooks: str,
    fault: Fault,
    status: int,
) -> None:
    proxy.rules = [Rule(fault, method="POST")]
    answer = via_proxy.post(hooks, json=hook("refused"))
    assert answer.status_code == status
    assert answer.json()["message"].endswith("(injected)")
    assert answer.headers.get("Retry-After") == ("1" if status == 429 else None)
    assert api.get(f"{hooks}/refused").status_code == 404
    assert proxy.counts() == {fault.value: 1}


def test_commit_then_500_applies_the_request(
    proxy: FaultProxy, via_proxy: httpx.Client, api: httpx.Client, hooks: str
) -> None:
    proxy.rules = [Rule(Fault.COMMIT_THEN_500, method="POST")]
    assert via_proxy.post(hooks, json=hook("committed")).status_code == 500
    assert api.get(f"{hooks}/committed").status_code == 200


def test_lost_answer_applies_the_request_and_drops_the_connection(
    proxy: FaultProxy, via_proxy: httpx.Client, api: httpx.Client, hooks: str
) -> None:
    proxy.rules = [Rule(Fault.LOSE_ANSWER, method="POST")]
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        via_proxy.post(hooks, json=hook("lost"))
    assert api.get(f"{hooks}/lost").status_code == 200


def test_rewrites_change_the_answer_not_the_api(
    proxy: FaultProxy, via_proxy: httpx.Client, api: httpx.Client, hooks: str
) -> None:
    assert api.post(hooks, json=hook("r1")).status_code == 201
    proxy.rules = [
        Rule(Fault.REWRITE, method="GET", rewrite=set_fields(id="victim", url=None)),
        Rule(Fault.REWRITE, method="DELETE", rewrite=empty_204()),
        Rule(Fault.REWRITE, method="PATCH", rewrite=echo_request(400)),
    ]
    body = via_proxy.get(f"{hooks}/r1").json()
    assert (body["id"], body["url"], body["headers"]) == ("victim", None, {"X-Secret": "hdr-value"})

    echoed = via_proxy.patch(f"{hooks}/r1", json={"url": "https://example.com/new"})
    assert echoed.status_code == 400
    assert "https://example.com/new" in echoed.json()["message"]
    assert TOKEN in echoed.json()["message"]
    assert api.get(f"{hooks}/r1").json()["url"] == "https://example.com/new"  # forwarded

    deleted = via_proxy.delete(f"{hooks}/r1")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert proxy.counts() == {"rewrite": 3}


def test_trickle_sends_one_byte_at_a_time_and_never_ends_the_headers(
    proxy: FaultProxy, org: str, app_id: str
) -> None:
    proxy.rules = [Rule(Fault.TRICKLE)]
    host, port = proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET /orgs/{org}/apps/{app_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        reads = 0
        give_up = time.monotonic() + 1.5
        while time.monotonic() < give_up:
            chunk = sock.recv(100)
            assert len(chunk) == 1
            received += chunk
            reads += 1
    assert received.startswith(b"HTTP/1.")
    assert b"\r\n\r\n" not in received
    assert 4 <= reads <= 9  # ~ one byte per 0.2 s


def test_hang_never_answers(proxy: FaultProxy, via_proxy: httpx.Client, hooks: str) -> None:
    proxy.rules = [Rule(Fault.HANG)]
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        via_proxy.get(hooks, timeout=0.5)
    assert time.monotonic() - started < 3


def test_refuse_closes_without_forwarding(
    proxy: FaultProxy, via_proxy: httpx.Client, api: httpx.Client, hooks: str
) -> None:
    proxy.rules = [Rule(Fault.REFUSE, method="POST")]
    with pytest.raises(httpx.RemoteProtocolError):
        via_proxy.post(hooks, json=hook("closed"))
    assert api.get(f"{hooks}/closed").status_code == 404


def test_a_refusing_port_refuses_connections() -> None:
    with refusing_port() as sock, pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{sock.getsockname()[1]}/", trust_env=False)


def test_times_limits_a_rule_and_first_match_wins(
    proxy: FaultProxy, via_proxy: httpx.Client, hooks: str
) -> None:
    proxy.rules = [
        Rule(Fault.UNAVAILABLE, method="GET", path=r".*/webhooks", times=2),
        Rule(Fault.THROTTLE, method="GET"),
    ]
    statuses = [via_proxy.get(hooks).status_code for _ in range(3)]
    assert statuses == [503, 503, 429]
    assert proxy.rules[0].times == 0
    assert proxy.counts() == {"429": 1, "503": 2}


def test_the_seed_makes_faults_reproducible(
    proxy: FaultProxy, via_proxy: httpx.Client, hooks: str
) -> None:
    def run() -> list[Seen]:
        proxy.reset()
        proxy.rules = [Rule(Fault.UNAVAILABLE, probability=0.5)]
        for _ in range(40):
            via_proxy.get(hooks)
        return proxy.log

    first, second = run(), run()
    assert first == second
    assert 8 <= sum(seen.fault is Fault.UNAVAILABLE for seen in first) <= 32


def test_rewrite_rules_need_a_rewrite_function() -> None:
    with pytest.raises(ValueError, match="rewrite"):
        Rule(Fault.REWRITE)
    with pytest.raises(ValueError, match="rewrite"):
        Rule(Fault.UNAVAILABLE, rewrite=empty_204())
