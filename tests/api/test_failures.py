"""httpx exceptions become TransportErrors that quote only what cannot hold a secret."""

from __future__ import annotations

import httpx
import pytest

from provider.api._failures import INVALID_HEADER_MESSAGE, transport_error

SECRET = "s3cr3t"


@pytest.mark.parametrize(
    ("error", "expected", "chained"),
    [
        (httpx.ReadTimeout(SECRET), "GET p: timed out (budget 60 s)", True),
        (
            httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}\\n'"),
            f"GET p: {INVALID_HEADER_MESSAGE}",
            False,
        ),
        (
            httpx.RemoteProtocolError(f"illegal header line: bytearray(b'X {SECRET}')"),
            "GET p: invalid HTTP response: illegal header line",
            False,
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            "GET p: invalid HTTP response: Server disconnected without sending a response.",
            False,
        ),
        (httpx.ConnectError("[Errno 111] Connection refused"), None, True),
        (httpx.ProxyError("407 Proxy Authentication Required"), None, True),
        (httpx.ConnectError(""), "GET p: ConnectError", True),
        (httpx.TooManyRedirects(SECRET), "GET p: TooManyRedirects", False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_transport_error_messages(
    error: httpx.HTTPError, expected: str | None, chained: bool
) -> None:
    mapped = transport_error("GET", "p", error, 60.0)
    assert str(mapped) == (expected or f"GET p: {error}")
    assert SECRET not in str(mapped)
    assert (mapped.__cause__ is error) is chained
    assert mapped.__context__ is None
