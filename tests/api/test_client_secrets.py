"""The token never reaches an error, its cause chain or a log, whatever quotes it."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from provider.api import ApiError, BadRequest, HumanitecClient, TransportError, WebhookRequest
from provider.api._failures import INVALID_HEADER_MESSAGE
from tests.api.conftest import APP, TOKEN, ClientFactory
from tests.api.rawserver import Handler, RawServer, read_request
from tests.api.scripted import Reply, ScriptedApp


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception reachable through ``__cause__``/``__context__``."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


def assert_token_absent(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    for link in chain(error):
        assert TOKEN not in str(link)
        assert TOKEN not in repr(link.args)
    # Only our loggers: the provider routes "provider.*" to Terraform, nothing else.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("provider")]
    assert ours  # the attempt was logged
    assert not [message for message in ours if TOKEN in message]


def with_bad_auth_header(client: HumanitecClient) -> HumanitecClient:
    # The constructor now refuses such a token; this reproduces what h11 saw before, on
    # httpx's path (the direct path checks its fixed headers once: tests/api/test_http11.py).
    sender = client._sender
    sender._direct = None
    sender._headers = [
        (name, f"Bearer {TOKEN}\n" if name.lower() == "authorization" else value)
        for name, value in sender._headers
    ]
    return client


def test_an_invalid_header_is_reported_without_its_value_and_not_retried(
    scripted: ScriptedApp,
    scripted_url: str,
    make_client: ClientFactory,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider")
    client = with_bad_auth_header(make_client(scripted_url))
    with pytest.raises(TransportError) as caught:
        client.get_webhook(APP, "h")
    assert str(caught.value) == (
        f"GET {scripted_url}/orgs/test-org/apps/{APP}/webhooks/h: {INVALID_HEADER_MESSAGE}"
        " (nothing was sent)"
    )
    assert caught.value.request_sent is False
    assert_token_absent(caught.value, caplog)
    assert scripted.received == []  # h11 refused before sending
    assert sleeps == []  # and the same request would be refused again


@pytest.fixture
def echo_url() -> Iterator[str]:
    """A raw server answering with our Authorization header as a malformed header line."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                request = b""
                while b"\r\n\r\n" not in request and (data := conn.recv(65536)):
                    request += data
                lines = request.split(b"\r\n")
                auth = next((line for line in lines if line.lower().startswith(b"auth")), b"")
                conn.sendall(b"HTTP/1.1 200 OK\r\nEcho " + auth + b"\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


def test_a_response_quoting_our_headers_is_not_quoted_back(
    echo_url: str, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider")
    with pytest.raises(TransportError, match="invalid HTTP response: illegal header line") as c:
        make_client(echo_url, max_retries=0).get_webhook(APP, "h")
    assert_token_absent(c.value, caplog)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, body=f"you sent Authorization: Bearer {TOKEN}".encode(), content_type="text"),
        Reply(
            400,
            {"error": "API-X", "message": f"bad {TOKEN}", "details": {"echo": [f"Bearer {TOKEN}"]}},
        ),
        Reply(400, body=b"x" * 495 + TOKEN.encode(), content_type="text/plain"),
    ],
    ids=["text", "json", "cut-by-truncation"],
)
def test_error_bodies_echoing_the_token_are_redacted(
    reply: Reply,
    scripted: ScriptedApp,
    scripted_url: str,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider")
    scripted.script(reply)
    with pytest.raises(ApiError) as caught:
        make_client(scripted_url).delete_webhook(APP, "h")
    error = caught.value
    assert_token_absent(error, caplog)
    assert TOKEN[:6] not in error.body
    assert TOKEN not in str(error.details)
    assert "[REDA" in error.body  # the marker may itself be cut


HEADER_SECRET = "hdr-" + 'v4lue/with"quote'
EXTRA_SECRET = "merged-from-write-only"
CLIENT_SECRET = "known-to-the-client"


def echo_in_error(content_type: str, status: bytes) -> Handler:
    """Answers every request with an error body that quotes the request body back."""

    def handle(conn: socket.socket, _index: int, _stop: threading.Event) -> None:
        request = read_request(conn)
        body = request.partition(b"\r\n\r\n")[2].decode()
        if content_type == "application/json":
            echoed = {
                "error": "API-422",
                "message": f"invalid webhook: {body}",
                "details": {"request": json.loads(body), body: "as a key"},
            }
            content = json.dumps(echoed).encode()
        else:
            content = f"bad request {body}".encode()
        head = f"HTTP/1.1 {status.decode()}\r\nContent-Type: {content_type}\r\n"
        conn.sendall(f"{head}Content-Length: {len(content)}\r\n\r\n".encode() + content)

    return handle


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize("status", [b"400 Bad Request", b"422 Unprocessable Entity"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_error_bodies_echoing_the_request_redact_every_secret(
    content_type: str,
    status: bytes,
    method: str,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider")
    request = WebhookRequest(
        id="h",
        url="https://example.com",
        headers={"X-Token": HEADER_SECRET, "X-Nested": {"list": ["nested-secret-1"]}},
        payload={"extra": EXTRA_SECRET, "client": CLIENT_SECRET, "plain": "visible-value"},
    )
    with RawServer(echo_in_error(content_type, status)) as server:
        client = make_client(server.url)
        client.add_secrets([CLIENT_SECRET, ""])
        send = (
            (lambda: client.create_webhook(APP, request, secrets=[EXTRA_SECRET]))
            if method == "POST"
            else (lambda: client.update_webhook(APP, "h", request, secrets=[EXTRA_SECRET]))
        )
        with pytest.raises(BadRequest) as caught:
            send()
    error = caught.value
    everything = f"{error} {error.message} {error.body} {error.code} {error.details}"
    for secret in (TOKEN, HEADER_SECRET, "nested-secret-1", EXTRA_SECRET, CLIENT_SECRET):
        assert secret not in everything
        assert json.dumps(secret)[1:-1] not in everything
        assert json.dumps(json.dumps(secret))[1:-1] not in everything
        assert not [r for r in caplog.records if secret in r.getMessage()]
    assert "[REDACTED]" in error.body
    # Only secrets go: the rest of the echo stays readable for the user.
    assert "visible-value" in error.body
    assert "X-Token" in error.body
    if content_type == "application/json":
        assert error.details is not None
        assert error.details["request"]["headers"]["X-Token"] == "[REDACTED]"  # type: ignore[call-overload, index]


def test_secrets_of_one_call_are_not_needed_by_another(
    make_client: ClientFactory,
) -> None:
    # Per-call secrets apply to their call; client secrets to every call.
    with RawServer(echo_in_error("text/plain", b"400 Bad Request")) as server:
        client = make_client(server.url)
        request = WebhookRequest(id="h", url="https://example.com", payload={"p": EXTRA_SECRET})
        with pytest.raises(BadRequest) as first:
            client.create_webhook(APP, request, secrets=[EXTRA_SECRET])
        with pytest.raises(BadRequest) as second:
            client.create_webhook(APP, request)
    assert EXTRA_SECRET not in first.value.body
    assert EXTRA_SECRET in second.value.body  # not a header and not declared secret
