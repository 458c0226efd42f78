"""The token never reaches an error, its cause chain or a log, whatever quotes it."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from provider.api import ApiError, HumanitecClient, TransportError
from provider.api._failures import INVALID_HEADER_MESSAGE
from tests.api.conftest import APP, TOKEN, ClientFactory
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
    # The constructor now refuses such a token; this reproduces what h11 saw before.
    client._http.headers["Authorization"] = f"Bearer {TOKEN}\n"
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
