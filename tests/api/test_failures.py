"""httpx exceptions become TransportErrors that quote only what cannot hold a secret and
say whether the request was sent."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx
import pytest

from provider.api._failures import INVALID_HEADER_MESSAGE, request_sent, transport_error

SECRET = "s3cr3t"
WHERE = "GET http://h:80/p"


def caused_by(error: httpx.HTTPError, cause: BaseException) -> httpx.HTTPError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "expected", "chained"),
    [
        (
            httpx.ReadTimeout(SECRET),
            f"{WHERE}: timed out while waiting for the answer (budget 60 s for the whole call)",
            True,
        ),
        (
            httpx.ConnectTimeout(SECRET),
            f"{WHERE}: timed out while connecting (budget 60 s for the whole call)"
            " (nothing was sent)",
            True,
        ),
        (
            httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}\\n'"),
            f"{WHERE}: {INVALID_HEADER_MESSAGE} (nothing was sent)",
            False,
        ),
        (
            httpx.RemoteProtocolError(f"illegal header line: bytearray(b'X {SECRET}')"),
            f"{WHERE}: invalid HTTP response: illegal header line",
            False,
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            f"{WHERE}: invalid HTTP response: Server disconnected without sending a response.",
            False,
        ),
        (
            caused_by(httpx.ConnectError("x"), ConnectionRefusedError(errno.ECONNREFUSED, "r")),
            f"{WHERE}: connection refused (nothing was sent)",
            True,
        ),
        (
            caused_by(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")),
            f"{WHERE}: DNS lookup failed (Name or service not known) (nothing was sent)",
            True,
        ),
        (
            caused_by(httpx.ConnectError("x"), ssl.SSLError(1, "[SSL] wrong version")),
            f"{WHERE}: TLS handshake failed ([SSL] wrong version) (nothing was sent)",
            True,
        ),
        (
            caused_by(httpx.ReadError("x"), ConnectionResetError(errno.ECONNRESET, "reset")),
            f"{WHERE}: connection lost: connection reset by the server",
            True,
        ),
        (
            httpx.ProxyError("407 Proxy Authentication Required"),
            f"{WHERE}: 407 Proxy Authentication Required (nothing was sent)",
            True,
        ),
        (httpx.ConnectError(""), f"{WHERE}: ConnectError (nothing was sent)", True),
        (httpx.TooManyRedirects(SECRET), f"{WHERE}: TooManyRedirects", False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_transport_error_messages(error: httpx.HTTPError, expected: str, chained: bool) -> None:
    mapped = transport_error(WHERE, error, timeout=60.0)
    assert str(mapped) == expected
    assert SECRET not in str(mapped)
    assert (mapped.__cause__ is error) is chained
    assert mapped.__context__ is None
    assert mapped.request_sent is request_sent(error)
    assert mapped.cancelled is False


@pytest.mark.parametrize(
    ("error", "sent"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("syn"), False),
        (httpx.PoolTimeout("busy"), False),
        (httpx.LocalProtocolError("bad header"), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.WriteTimeout("slow"), True),
        (httpx.ReadError("reset"), True),
        (httpx.RemoteProtocolError("eof"), True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_request_sent_follows_the_failed_phase(error: httpx.HTTPError, sent: bool) -> None:
    assert request_sent(error) is sent


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectTimeout("cancelled"), "cancelled before the request was sent"),
        (httpx.ReadTimeout("cancelled"), "cancelled while waiting for the answer"),
    ],
)
def test_a_cancelled_failure_says_so_and_when(error: httpx.HTTPError, expected: str) -> None:
    mapped = transport_error(WHERE, error, timeout=60.0, cancelled=True)
    assert str(mapped) == f"{WHERE}: {expected}"
    assert mapped.cancelled is True
    assert mapped.request_sent is request_sent(error)
