"""Retries of HumanitecClient against a scripted real HTTP server, with recorded waits."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from typing import Any, Protocol

import pytest

from provider.api import ApiError, Conflict, TransportError, WebhookRequest
from provider.api.retry import DEFAULT_MAX_RETRIES
from tests.api.conftest import APP, ClientFactory
from tests.api.scripted import Reply, ScriptedApp

HOOK = {
    "id": "h",
    "disabled": False,
    "headers": {},
    "payload": None,
    "triggers": [],
    "url": "https://example.com",
}
UPDATED = {k: v for k, v in HOOK.items() if k != "id"}
REQUEST = WebhookRequest(id="h", url="https://example.com")

ATTEMPTS = DEFAULT_MAX_RETRIES + 1
"""A call that fails to the end, with the default retries."""


class Call(Protocol):
    def __call__(self, method: str, **options: Any) -> object: ...


SUCCESS = {
    "GET": Reply(200, HOOK),
    "POST": Reply(201, HOOK),
    "PATCH": Reply(200, UPDATED),
    "DELETE": Reply(204, content_type=""),
}


@pytest.fixture
def client_call(scripted_url: str, make_client: ClientFactory) -> Call:
    def call(method: str, **options: Any) -> object:
        client = make_client(scripted_url, **options)
        if method == "GET":
            return client.get_webhook(APP, "h")
        if method == "POST":
            return client.create_webhook(APP, REQUEST)
        if method == "PATCH":
            return client.update_webhook(APP, "h", REQUEST)
        client.delete_webhook(APP, "h")
        return None

    return call


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_429_with_retry_after_is_retried_for_every_method(
    method: str, scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(
        Reply(429, {"error": "API-429", "message": "slow down"}, headers={"Retry-After": "2"}),
        SUCCESS[method],
    )
    client_call(method)
    assert [r.method for r in scripted.received] == [method, method]
    assert sleeps == [2.0]  # random() == 0.5 means zero jitter


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_gateway_errors_are_retried_for_idempotent_methods(
    method: str, status: int, scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(status, body=b"bad gateway", content_type="text/plain"), SUCCESS[method])
    client_call(method)
    assert len(scripted.received) == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] < 0.25


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_server_errors_are_retried_for_post_and_patch(
    method: str, status: int, scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    # A create is idempotent by its id (the caller looks up a 409) and an update sends
    # the full body, so a second attempt cannot do harm.
    scripted.script(Reply(status, body=b"unavailable", content_type="text/plain"), SUCCESS[method])
    client_call(method)
    assert [r.method for r in scripted.received] == [method, method]
    assert scripted.received[0].body == scripted.received[1].body
    assert len(sleeps) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_server_errors_to_the_end_say_an_earlier_attempt_may_have_applied(
    method: str, scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(*[Reply(503, body=b"down", content_type="text/plain")] * ATTEMPTS)
    with pytest.raises(ApiError) as caught:
        client_call(method)
    assert type(caught.value) is ApiError
    assert (caught.value.status_code, caught.value.attempts) == (503, ATTEMPTS)
    assert caught.value.earlier_attempt_may_have_applied is True
    assert len(scripted.received) == ATTEMPTS


def test_a_conflict_after_a_server_error_may_be_our_own_create(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(
        Reply(503, body=b"committed, then the gateway failed", content_type="text/plain"),
        Reply(409, {"error": "API-409", "message": "exists"}),
    )
    with pytest.raises(Conflict) as caught:
        client_call("POST")
    assert caught.value.attempts == 2
    assert caught.value.earlier_attempt_may_have_applied is True


def test_a_first_attempt_conflict_is_not_ours(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(409, {"error": "API-409", "message": "exists"}))
    with pytest.raises(Conflict) as caught:
        client_call("POST")
    assert (caught.value.attempts, caught.value.earlier_attempt_may_have_applied) == (1, False)
    assert sleeps == []


def test_a_conflict_after_a_retry_says_how_many_attempts_were_made(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(
        Reply(429, {"error": "API-429", "message": "later"}, headers={"Retry-After": "1"}),
        Reply(409, {"error": "API-409", "message": "exists"}),
    )
    with pytest.raises(Conflict) as caught:
        client_call("POST")
    assert caught.value.attempts == 2
    # 429 says the first attempt was not processed: the conflict is someone else's.
    assert caught.value.earlier_attempt_may_have_applied is False
    assert len(scripted.received) == 2


def test_retry_after_on_any_error_status_is_retried_even_for_post(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(503, body=b"", headers={"Retry-After": "1"}), SUCCESS["POST"])
    client_call("POST")
    assert sleeps == [1.0]


def test_a_success_with_retry_after_is_final(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(201, HOOK, headers={"Retry-After": "1"}), SUCCESS["POST"])
    client_call("POST")
    assert len(scripted.received) == 1
    assert sleeps == []


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_is_respected(
    max_retries: int, scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(*[Reply(503, body=b"", content_type="text/plain")] * 10)
    with pytest.raises(ApiError) as caught:
        client_call("GET", max_retries=max_retries)
    assert caught.value.status_code == 503
    assert caught.value.attempts == max_retries + 1
    assert len(scripted.received) == max_retries + 1
    assert len(sleeps) == max_retries


def test_backoff_is_full_jitter_exponential(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(*[Reply(502, body=b"", content_type="text/plain")] * 3, SUCCESS["GET"])
    client_call("GET", random=lambda: 0.999)
    assert sleeps == pytest.approx([0.25 * 0.999, 0.5 * 0.999, 1.0 * 0.999])


def test_retry_after_as_http_date(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    scripted.script(Reply(429, {}, headers={"Retry-After": when}), SUCCESS["GET"])
    client_call("GET")
    assert len(sleeps) == 1
    assert 28 <= sleeps[0] <= 30


@pytest.mark.parametrize(("random_value", "low", "high"), [(0.0, 2.0, 2.0), (0.999999, 3.99, 4.0)])
def test_retry_after_jitter_is_up_to_a_third(
    random_value: float,
    low: float,
    high: float,
    scripted: ScriptedApp,
    client_call: Call,
    sleeps: list[float],
) -> None:
    scripted.script(Reply(429, {}, headers={"Retry-After": "3"}), SUCCESS["GET"])
    client_call("GET", random=lambda: random_value)
    assert low <= sleeps[0] <= high


def test_hostile_retry_after_is_capped(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(429, {}, headers={"Retry-After": "86400"}), SUCCESS["GET"])
    client_call("GET", timeout=120.0)
    assert sleeps == [60.0]


def test_malformed_retry_after_falls_back_to_backoff(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(429, {}, headers={"Retry-After": "soon"}), SUCCESS["GET"])
    client_call("GET")
    assert sleeps == [0.125]


def test_a_wait_beyond_the_time_budget_gives_up_with_the_last_response(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(
        Reply(429, {"error": "API-429", "message": "later"}, headers={"Retry-After": "30"}),
        SUCCESS["GET"],
    )
    with pytest.raises(ApiError) as caught:
        client_call("GET", timeout=5.0)
    assert (caught.value.status_code, caught.value.attempts) == (429, 1)
    assert sleeps == []


def test_a_slow_response_times_out_within_the_budget(
    scripted: ScriptedApp, client_call: Call, sleeps: list[float]
) -> None:
    scripted.script(Reply(200, HOOK, delay=0.5), SUCCESS["GET"])
    started = time.monotonic()
    with pytest.raises(TransportError, match="timed out"):
        client_call("GET", timeout=0.2)
    assert time.monotonic() - started < 0.45
    assert sleeps == []  # the budget is spent: no retry


class CancelledError(Exception):
    """Not a HumanitecError: it must come out unchanged too."""


@pytest.mark.parametrize(
    "error", [TransportError("cancelled by Terraform"), CancelledError("stop")], ids=type
)
def test_a_raising_sleep_ends_the_call_with_its_error(
    error: Exception, scripted: ScriptedApp, client_call: Call
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        raise error

    scripted.script(*[Reply(503, body=b"", content_type="text/plain")] * ATTEMPTS)
    with pytest.raises(type(error)) as caught:
        client_call("GET", sleep=sleep)
    assert caught.value is error
    assert len(waits) == 1
    assert len(scripted.received) == 1  # no attempt after the cancelled wait


def test_stopping_during_a_long_retry_after_wait_ends_get_webhook_promptly(
    scripted: ScriptedApp, client_call: Call
) -> None:
    # What the provider passes: a wait that StopProvider interrupts.
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise TransportError("cancelled by Terraform")

    scripted.script(Reply(429, {}, headers={"Retry-After": "30"}), SUCCESS["GET"])
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(TransportError, match=r"^cancelled by Terraform$"):
            client_call("GET", sleep=sleep, timeout=120.0)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    assert len(scripted.received) == 1
