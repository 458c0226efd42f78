"""httpx exceptions as ``TransportError``: what happened, where, and whether it was sent.

h11 quotes the bytes it refuses: a request header value (``Illegal header value b'Bearer
<token>\\n'``) or a response line, which a proxy or echo endpoint may have copied from our
request. So protocol errors get a fixed message and are not chained (tracebacks would print
the original); only exceptions whose text comes from the OS or TLS (connection refused, DNS,
certificate) are quoted and chained.

Whether the request was sent follows from the phase that failed: httpcore raises
``ConnectError``/``ConnectTimeout`` before writing a byte (refused, DNS, TLS handshake), and
h11 refuses an invalid header before producing any; every later failure may have
happened after the server read the request.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

import httpx

from provider.api.errors import TransportError

__all__ = ["INVALID_HEADER_MESSAGE", "request_sent", "transport_error"]

INVALID_HEADER_MESSAGE = (
    "the request was not sent: a header value is not valid HTTP "
    "(check the API token for stray whitespace or control characters)"
)

_QUOTED = (httpx.NetworkError, httpx.ProxyError, httpx.UnsupportedProtocol, httpx.DecodingError)
"""Exceptions whose text is an OS, TLS, proxy-status or codec message, never request data."""

_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
"""Failures that happen before the first byte of the request is written."""

_PHASES: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: "connecting",
    httpx.PoolTimeout: "waiting for a free connection",
    httpx.WriteTimeout: "sending the request",
    httpx.ReadTimeout: "waiting for the answer",
}


def request_sent(error: httpx.HTTPError) -> bool:
    """Whether the server may have received the request that failed with ``error``."""
    return not isinstance(error, _NOT_SENT)


def transport_error(
    where: str, error: httpx.HTTPError, *, timeout: float, cancelled: bool = False
) -> TransportError:
    """The ``TransportError`` to raise for ``error``; raise it outside the ``except`` block.

    ``where`` is ``"METHOD scheme://host:port/path"``. Raising outside the ``except`` block
    keeps ``error`` out of ``__context__`` for the unquoted kinds.
    """
    sent = request_sent(error)
    if cancelled:
        phase = "while waiting for the answer" if sent else "before the request was sent"
        return TransportError(f"{where}: cancelled {phase}", request_sent=sent, cancelled=True)
    message, chained = _describe(error, timeout)
    if not sent:
        message += " (nothing was sent)"
    failure = TransportError(f"{where}: {message}", request_sent=sent)
    if chained:
        failure.__cause__ = error
    return failure


def _describe(error: httpx.HTTPError, timeout: float) -> tuple[str, bool]:
    """The reason, and whether ``error`` may be chained (its text holds no request data)."""
    if isinstance(error, httpx.TimeoutException):
        phase = next((p for kind, p in _PHASES.items() if isinstance(error, kind)), "waiting")
        return f"timed out while {phase} (budget {timeout:g} s for the whole call)", True
    if isinstance(error, httpx.LocalProtocolError):
        return INVALID_HEADER_MESSAGE, False
    if isinstance(error, httpx.RemoteProtocolError):
        # "Server disconnected without sending a response." is kept whole; h11's
        # "illegal header line: b'...'" loses the quoted bytes after the colon.
        reason = str(error).split(":", 1)[0].strip() or type(error).__name__
        return f"invalid HTTP response: {reason}", False
    if isinstance(error, _QUOTED):
        reason = _os_reason(error) or str(error) or type(error).__name__
        if isinstance(error, httpx.ReadError | httpx.WriteError):
            reason = f"connection lost: {reason}"
        return reason, True
    return type(error).__name__, False


def _os_reason(error: BaseException) -> str | None:
    """A plain reason for the OS or TLS failure under ``error``, if there is one."""
    for link in _chain(error):
        if isinstance(link, socket.gaierror):
            return f"DNS lookup failed ({link.strerror or link})"
        if isinstance(link, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed ({link.verify_message or link})"
        if isinstance(link, ssl.SSLError):
            what = "TLS handshake failed" if isinstance(error, httpx.ConnectError) else "TLS error"
            return f"{what} ({link.strerror or link})"
        if isinstance(link, OSError) and link.errno == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(link, OSError) and link.errno == errno.ECONNRESET:
            return "connection reset by the server"
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
