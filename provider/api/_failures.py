"""httpx exceptions as ``TransportError`` messages that cannot carry secrets.

h11 quotes the bytes it refuses: a request header value (``Illegal header value b'Bearer
<token>\\n'``) or a response line, which a proxy or echo endpoint may have copied from our
request. So protocol errors get a fixed message and are not chained (tracebacks would print
the original); only exceptions whose text comes from the OS or TLS (connection refused, DNS,
certificate) are quoted and chained.
"""

from __future__ import annotations

import httpx

from provider.api.errors import TransportError

__all__ = ["INVALID_HEADER_MESSAGE", "transport_error"]

INVALID_HEADER_MESSAGE = (
    "the request was not sent: a header value is not valid HTTP "
    "(check the API token for stray whitespace or control characters)"
)

_QUOTED = (httpx.NetworkError, httpx.ProxyError, httpx.UnsupportedProtocol, httpx.DecodingError)
"""Exceptions whose text is an OS, TLS, proxy-status or codec message, never request data."""


def transport_error(
    method: str, path: str, error: httpx.HTTPError, timeout: float
) -> TransportError:
    """The ``TransportError`` to raise for ``error``; raise it outside the ``except`` block.

    Raising it there keeps ``error`` out of ``__context__`` for the unquoted kinds.
    """
    where = f"{method} {path}"
    if isinstance(error, httpx.TimeoutException):
        return _caused_by(TransportError(f"{where}: timed out (budget {timeout:g} s)"), error)
    if isinstance(error, httpx.LocalProtocolError):
        return TransportError(f"{where}: {INVALID_HEADER_MESSAGE}")
    if isinstance(error, httpx.RemoteProtocolError):
        # "Server disconnected without sending a response." is kept whole; h11's
        # "illegal header line: b'...'" loses the quoted bytes after the colon.
        reason = str(error).split(":", 1)[0].strip() or type(error).__name__
        return TransportError(f"{where}: invalid HTTP response: {reason}")
    if isinstance(error, _QUOTED):
        reason = str(error) or type(error).__name__
        return _caused_by(TransportError(f"{where}: {reason}"), error)
    return TransportError(f"{where}: {type(error).__name__}")


def _caused_by(error: TransportError, cause: BaseException) -> TransportError:
    error.__cause__ = cause
    return error
