"""The whole-call deadline and cancel(), against real loopback servers that misbehave."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from provider.api import HumanitecClient, TransportError, WebhookRequest
from provider.api.retry import DEFAULT_MAX_RETRIES
from tests.api.conftest import APP, ClientFactory
from tests.api.rawserver import RawServer, read_request
from tests.api.scripted import Reply, ScriptedApp

SLACK = 1.0
"""A deadline may be noticed one socket slice (0.25 s) late, plus scheduling on a busy host."""

REQUEST = WebhookRequest(id="h", url="https://example.com")
HOOK = b'{"id": "h", "triggers": []}'

ATTEMPTS = DEFAULT_MAX_RETRIES + 1
"""A call that fails to the end, with the default retries."""


GIVE_UP = 5.0
"""The servers hang up after this long, so a broken deadline fails a test, not hangs it."""


def trickle(data: bytes) -> Callable[[socket.socket, int, threading.Event], None]:
    """Read the request, then send ``data`` one byte per 0.1 s, then stall until stopped."""

    def handle(conn: socket.socket, _index: int, stop: threading.Event) -> None:
        read_request(conn)
        give_up = time.monotonic() + GIVE_UP
        for byte in data:
            if stop.wait(0.1) or time.monotonic() > give_up:
                return
            conn.sendall(bytes([byte]))
        stop.wait(give_up - time.monotonic())

    return handle


def endless_header_lines() -> bytes:
    return b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(100_000))


def answer(status: bytes, body: bytes = HOOK) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )


def timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        call()
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize(
    "server_sends",
    [b"", endless_header_lines(), answer(b"200 OK", b"{" + b" " * 10_000 + b"}")],
    ids=["never-answers", "trickled-headers", "trickled-body"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_call_ends_at_its_deadline_whatever_the_server_does(
    server_sends: bytes, method: str, make_client: ClientFactory, sleeps: list[float]
) -> None:
    with RawServer(trickle(server_sends)) as server:
        client = make_client(server.url, timeout=1.0)
        call = (
            (lambda: client.get_webhook(APP, "h"))
            if method == "GET"
            else (lambda: client.create_webhook(APP, REQUEST))
        )
        error, elapsed = timed(call)
    assert isinstance(error, TransportError)
    assert 1.0 <= elapsed < 1.0 + SLACK
    assert "timed out while waiting for the answer (budget 1 s for the whole call)" in str(error)
    assert str(error).startswith(f"{method} {server.url}/orgs/")
    assert error.request_sent is True  # the server read it: the outcome is unknown
    assert error.cancelled is False
    assert sleeps == []  # the budget is spent: no retry
    assert server.connections == 1


def test_a_trickle_that_outlasts_one_attempt_cannot_outlast_the_retries(
    make_client: ClientFactory,
) -> None:
    # Each attempt is cut at the deadline, which is shared by all attempts.
    with RawServer(trickle(endless_header_lines())) as server:
        client = make_client(server.url, timeout=0.8, sleep=None)
        error, elapsed = timed(lambda: client.list_webhooks(APP))
    assert elapsed < 0.8 + SLACK
    assert isinstance(error, TransportError)
    assert error.attempts == 1


def test_cancel_ends_a_request_in_flight_within_a_second(make_client: ClientFactory) -> None:
    with RawServer(trickle(endless_header_lines())) as server:
        client = make_client(server.url, timeout=120.0)
        timer = threading.Timer(0.3, client.cancel)
        timer.start()
        try:
            error, elapsed = timed(lambda: client.create_webhook(APP, REQUEST))
        finally:
            timer.cancel()
    assert isinstance(error, TransportError)
    assert elapsed < 0.3 + SLACK
    assert str(error) == (
        f"POST {server.url}/orgs/test-org/apps/{APP}/webhooks: cancelled while waiting for "
        "the answer"
    )
    assert (error.cancelled, error.request_sent, error.attempts) == (True, True, 1)
    assert client.cancelled is True


def test_cancel_ends_many_threads_in_flight(make_client: ClientFactory) -> None:
    errors: list[BaseException] = []
    with RawServer(trickle(b"")) as server:
        client = make_client(server.url, timeout=120.0)

        def call() -> None:
            try:
                client.get_webhook(APP, "h")
            except TransportError as error:
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        client.cancel()
        for thread in threads:
            thread.join(timeout=5)
        elapsed = time.monotonic() - started
    assert elapsed < SLACK
    assert len(errors) == 8
    assert all(isinstance(e, TransportError) and e.cancelled for e in errors)


def test_cancel_ends_a_long_retry_wait_and_reports_what_was_sent(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    # sleep=None is the client's own wait, the one cancel() cuts short.
    scripted.script(Reply(503, body=b"", content_type="text/plain", headers={"Retry-After": "30"}))
    client = make_client(scripted_url, sleep=None, timeout=120.0)
    timer = threading.Timer(0.2, client.cancel)
    timer.start()
    try:
        error, elapsed = timed(lambda: client.create_webhook(APP, REQUEST))
    finally:
        timer.cancel()
    assert isinstance(error, TransportError)
    assert elapsed < 0.2 + SLACK
    assert str(error).endswith(": cancelled before the request was sent")
    # The 503 attempt may have created the webhook; the cancelled one sent nothing.
    assert (error.request_sent, error.earlier_attempt_may_have_applied) == (False, True)
    assert (error.attempts, error.cancelled) == (1, True)
    assert len(scripted.received) == 1


def test_a_cancelled_client_sends_nothing_more(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    client = make_client(scripted_url)
    client.cancel()
    client.cancel()  # idempotent
    error, elapsed = timed(lambda: client.delete_webhook(APP, "h"))
    assert isinstance(error, TransportError)
    assert elapsed < 0.1
    assert (error.cancelled, error.request_sent, error.attempts) == (True, False, 0)
    assert error.may_have_applied is False
    assert scripted.received == []


def test_an_injected_sleep_that_cancels_gets_the_facts_filled_in(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    stop_error = TransportError("cancelled: Terraform asked the provider to stop")

    def sleep(_seconds: float) -> None:
        raise stop_error

    scripted.script(Reply(502, body=b"", content_type="text/plain"))
    with pytest.raises(TransportError) as caught:
        make_client(scripted_url, sleep=sleep).update_webhook(APP, "h", REQUEST)
    assert caught.value is stop_error
    assert (stop_error.request_sent, stop_error.earlier_attempt_may_have_applied) == (False, True)


def hang_up_first(conn: socket.socket, index: int, _stop: threading.Event) -> None:
    """The first connection reads the request and hangs up: an answer lost on the way."""
    read_request(conn)
    if index > 1:
        conn.sendall(answer(b"201 Created"))


def test_a_post_whose_answer_was_lost_is_retried(
    make_client: ClientFactory, sleeps: list[float]
) -> None:
    with RawServer(hang_up_first) as server:
        hook = make_client(server.url).create_webhook(APP, REQUEST)
    assert hook.id == "h"
    assert server.connections == 2
    assert len(sleeps) == 1


def always_hang_up(conn: socket.socket, _index: int, _stop: threading.Event) -> None:
    read_request(conn)


def test_a_post_whose_answers_were_all_lost_may_have_applied(
    make_client: ClientFactory, sleeps: list[float]
) -> None:
    with RawServer(always_hang_up) as server:
        client = make_client(server.url)
        with pytest.raises(TransportError) as caught:
            client.create_webhook(APP, REQUEST)
    error = caught.value
    assert "invalid HTTP response: Server disconnected without sending a response" in str(error)
    assert "nothing was sent" not in str(error)
    assert (error.request_sent, error.earlier_attempt_may_have_applied) == (True, True)
    assert error.attempts == ATTEMPTS
    assert server.connections == ATTEMPTS


def not_tls(conn: socket.socket, _index: int, _stop: threading.Event) -> None:
    conn.recv(65536)  # the ClientHello
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def test_a_failed_tls_handshake_sent_nothing_and_is_retried_even_for_post(
    make_client: ClientFactory, sleeps: list[float]
) -> None:
    with RawServer(not_tls) as server:
        client = make_client(f"https://127.0.0.1:{server.port}", verify_tls=False)
        with pytest.raises(TransportError) as caught:
            client.create_webhook(APP, REQUEST)
    error = caught.value
    assert str(error).startswith(
        f"POST https://127.0.0.1:{server.port}/orgs/test-org/apps/{APP}/webhooks: "
        "TLS handshake failed"
    )
    assert str(error).endswith("(nothing was sent)")
    assert "unknown" not in str(error)
    assert (error.request_sent, error.may_have_applied, error.attempts) == (False, False, ATTEMPTS)
    assert len(sleeps) == DEFAULT_MAX_RETRIES


def stall_tls_handshake(conn: socket.socket, _index: int, stop: threading.Event) -> None:
    conn.recv(65536)
    stop.wait(GIVE_UP)


def test_a_stalled_tls_handshake_ends_at_the_deadline(make_client: ClientFactory) -> None:
    with RawServer(stall_tls_handshake) as server:
        client = make_client(f"https://127.0.0.1:{server.port}", verify_tls=False, timeout=0.8)
        error, elapsed = timed(lambda: client.list_applications())
    assert isinstance(error, TransportError)
    assert elapsed < 0.8 + SLACK
    assert "timed out while connecting" in str(error)
    assert error.request_sent is False


def test_a_client_built_for_a_remote_host_also_gets_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Non-loopback hosts go through httpx's own transports (and env proxies): the backend
    # must be installed there too. The trickling server plays the proxy.
    with RawServer(trickle(endless_header_lines())) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        client = HumanitecClient("http://api.humanitec.invalid/", "o", "t", timeout=0.8)
        try:
            error, elapsed = timed(lambda: client.list_applications())
        finally:
            client.close()
    assert elapsed < 0.8 + SLACK
    assert "timed out" in str(error)
