"""HTTP/1.1 to the API's one origin on keep-alive connections, without httpcore and h11.

Every call goes to one scheme, host and port, one request at a time per connection, with
a small JSON body. A general client pays per request for what these calls never use (URL
models, a pool's state machine, h11's event objects): about two thirds of the client's CPU
per call (``python -m benchmarks.api_cost``). Here the request is written in one piece and
the answer parsed in place, as strictly as h11 parses it: a status line and header lines of
the RFC 9112 grammar, one framing (chunked, one ``Content-Length``, or the connection's
end), gzip or deflate decoded. Anything else is a ``RemoteProtocolError`` whose text quotes
nothing the server sent.

The sockets are ``_deadline``'s, so the call's deadline and ``cancel()`` hold at every wait.
Failures are raised as httpx's exceptions, in the phase httpx names them: ``ConnectError`` or
``ConnectTimeout`` before a byte is written, so ``_failures`` and ``retry`` read them alike.
Only the client's own direct transport is replaced (``direct_origin``): an environment
proxy or a caller's transport keeps httpx's path.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
import zlib
from dataclasses import dataclass

import httpcore
import httpx

from provider.api._deadline import DeadlineBackend

__all__ = ["KEEPALIVE_EXPIRY", "MAX_HEAD", "Answer", "BodyTooLargeError", "Origin", "direct_origin"]

MAX_HEAD = 100 * 1024
"""The longest status line and headers, or chunk trailers: httpcore's limit for h11."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default): servers drop idle ones too."""
MAX_IDLE = 20
"""Idle connections kept (httpx's default); Terraform's parallelism is 10."""
_READ = 65536
_MAX_CHUNK_LINE = 1024

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [\t\x20-\x7e\x80-\xff]*)?")
_HEADER_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")
_HEAD_END = re.compile(rb"\n\r?\n")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?\r?")
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_TARGET = re.compile(r"[-!$%&'()*+,./0-9:;=?@A-Z_a-z~]+")
"""A path (and query) in its percent-encoded form: nothing to escape, no fragment."""

_HTTPCORE_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
}
"""What ``_deadline``'s sockets raise, as httpx's transport maps it."""


class BodyTooLargeError(Exception):
    """The answer's body, as sent or decoded, is longer than the caller's limit."""


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    headers: list[tuple[bytes, bytes]]
    """Names lower-cased, values as sent."""
    content: bytes

    def header(self, name: bytes) -> str | None:
        """A header's values joined with ``", "`` as ``httpx.Headers.get`` joins them."""
        values = [value for key, value in self.headers if key == name]
        if not values:
            return None
        joined = b", ".join(values)
        try:
            return joined.decode("utf-8")
        except UnicodeDecodeError:
            return joined.decode("latin-1")


class _Connection:
    __slots__ = ("buffer", "idle_since", "stream")

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.idle_since = 0.0

    def fill(self) -> bool:
        """Read more into ``buffer``; ``False`` at the end of the stream."""
        data = self.stream.read(_READ)
        self.buffer += data
        return bool(data)


class Origin:
    """Keep-alive HTTP/1.1 connections to one ``scheme://host:port``; shared by threads."""

    def __init__(
        self,
        backend: DeadlineBackend,
        url: httpx.URL,
        headers: list[tuple[bytes, bytes]],
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._backend = backend
        self._host = url.host
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._prefix = url.raw_path.decode("ascii")
        if url.scheme == "https" and ssl_context is None:
            raise ValueError("an https origin needs an SSL context")
        if ssl_context is not None:
            ssl_context.set_alpn_protocols(["http/1.1"])  # as httpcore sets it
        self._ssl_context = ssl_context
        fixed = [(b"Host", url.netloc), *headers]
        for name, value in fixed:
            _check_header(name, value)
        self._head_fields = b"".join(b"%s: %s\r\n" % field for field in fixed)
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close the idle connections; those in use close when their call ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.stream.close()

    def exchange(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        content: bytes | None,
        limit: int,
    ) -> Answer:
        """Send ``method`` to the prefix plus ``path``; the answer, its body at most ``limit``.

        Raises httpx's exceptions (see the module docstring) or ``BodyTooLargeError``.
        """
        target = self._prefix + path
        if not _TARGET.fullmatch(target):
            raise httpx.LocalProtocolError("the request path is not a percent-encoded path")
        head = bytearray(b"%s %s HTTP/1.1\r\n" % (method.encode("ascii"), target.encode()))
        head += self._head_fields
        for name, value in headers.items():
            field = (name.encode("ascii"), value.encode("utf-8"))
            _check_header(*field)
            head += b"%s: %s\r\n" % field
        if content is not None:
            head += b"Content-Length: %d\r\n" % len(content)
        head += b"\r\n"
        if content:
            head += content
        try:
            connection = self._acquire()
            try:
                connection.stream.write(bytes(head))
                answer, reusable = _read_answer(connection, method, limit)
            except BaseException:
                connection.stream.close()
                raise
        except httpcore.NetworkError as error:
            raise _HTTPCORE_ERRORS.get(type(error), httpx.NetworkError)(str(error)) from error
        except httpcore.TimeoutException as error:
            raise _HTTPCORE_ERRORS.get(type(error), httpx.TimeoutException)(str(error)) from error
        if reusable:
            self._release(connection)
        else:
            connection.stream.close()
        return answer

    def _acquire(self) -> _Connection:
        now = time.monotonic()
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("Cannot send a request, as the client has been closed.")
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            # An idle connection that is readable has been closed (or spoken on) by the server.
            fresh = now - connection.idle_since < KEEPALIVE_EXPIRY
            if fresh and not connection.stream.get_extra_info("is_readable"):
                return connection
            connection.stream.close()
        stream = self._backend.connect_tcp(self._host, self._port)
        if self._ssl_context is not None:
            stream = stream.start_tls(self._ssl_context, server_hostname=self._host)
        return _Connection(stream)

    def _release(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.stream.close()


def direct_origin(
    http: httpx.Client, backend: DeadlineBackend, *, own_transport: bool
) -> Origin | None:
    """An ``Origin`` for ``http``'s base URL, or ``None`` where httpx's path must stay.

    Only when ``http`` talks to the base URL through a transport the client built itself
    (``own_transport``: not a caller's, whose settings this module would ignore) and no
    environment proxy applies. The request headers are ``http``'s defaults, with the
    ``Accept-Encoding`` of the two codings decoded here.
    """
    transport = http._transport_for_url(http.base_url)
    if not own_transport or transport is not http._transport:
        return None
    if type(transport) is not httpx.HTTPTransport:
        return None
    pool = transport._pool
    if type(pool) is not httpcore.ConnectionPool:
        return None
    url = http.base_url
    headers = [
        (name, b"gzip, deflate" if name.lower() == b"accept-encoding" else value)
        for name, value in http.headers.raw
        if name.lower() not in (b"host", b"content-length")
    ]
    ssl_context = pool._ssl_context if url.scheme == "https" else None
    return Origin(backend, url, headers, ssl_context)


def _check_header(name: bytes, value: bytes) -> None:
    # h11's check: httpx would refuse to send these, and so do we (LocalProtocolError).
    if not re.fullmatch(_TOKEN, name) or not _FIELD_VALUE.fullmatch(value):
        raise httpx.LocalProtocolError("Illegal header name or value")


def _read_answer(connection: _Connection, method: str, limit: int) -> tuple[Answer, bool]:
    """The final answer on ``connection`` and whether the connection may serve another."""
    while True:
        version, status, headers = _read_head(connection)
        if status == 101:
            raise httpx.RemoteProtocolError("unexpected 101 Switching Protocols")
        if status >= 200:
            break
        # 1xx: informational, the final answer follows (httpcore skips them too).
    fields: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        fields.setdefault(name, []).append(value)
    reusable = version == 1 and b"close" not in _tokens(fields.get(b"connection"))
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif b"transfer-encoding" in fields:
        if _tokens(fields[b"transfer-encoding"]) != [b"chunked"]:
            raise httpx.RemoteProtocolError("unsupported Transfer-Encoding")
        body = _read_chunked(connection, limit)
    elif b"content-length" in fields:
        lengths = set(_tokens(fields[b"content-length"]))
        length = lengths.pop() if len(lengths) == 1 else b""
        if not length.isdigit() or len(length) > 19:
            raise httpx.RemoteProtocolError("invalid Content-Length")
        body = _read_exactly(connection, int(length), limit)
    else:
        body, reusable = _read_to_end(connection, limit), False
    if connection.buffer:  # bytes past the answer: not a connection to trust again
        reusable = False
    encodings = _tokens(fields.get(b"content-encoding"))
    if encodings:
        body = _decode(body, encodings, limit)
    return Answer(status, headers, body), reusable


def _read_head(connection: _Connection) -> tuple[int, int, list[tuple[bytes, bytes]]]:
    """HTTP minor version, status and headers (names lower-cased) of the next answer."""
    buffer = connection.buffer
    searched = 0
    while True:
        end = _HEAD_END.search(buffer, max(0, searched - 3))
        if end is not None:
            break
        if len(buffer) > MAX_HEAD:
            raise httpx.RemoteProtocolError("response head too large")
        searched = len(buffer)
        if not connection.fill():
            if buffer:
                raise httpx.RemoteProtocolError("peer closed connection in the response head")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if end.start() > MAX_HEAD:
        raise httpx.RemoteProtocolError("response head too large")
    lines = bytes(buffer[: end.start()]).split(b"\n")
    del buffer[: end.end()]
    status_line = _STATUS_LINE.fullmatch(lines[0].removesuffix(b"\r"))
    if status_line is None or status_line[2] < b"100":
        raise httpx.RemoteProtocolError("illegal status line")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        field = _HEADER_LINE.fullmatch(line.removesuffix(b"\r"))
        if field is None:  # obsolete line folding included: refused, as h11 may not join it
            raise httpx.RemoteProtocolError("illegal header line")
        headers.append((field[1].lower(), field[2]))
    return int(status_line[1]), int(status_line[2]), headers


def _tokens(values: list[bytes] | None) -> list[bytes]:
    """The comma-separated, lower-cased tokens of a header's values."""
    if not values:
        return []
    return [token for value in values for t in value.split(b",") if (token := t.strip().lower())]


def _read_exactly(connection: _Connection, length: int, limit: int) -> bytes:
    if length > limit:
        raise BodyTooLargeError
    while len(connection.buffer) < length:
        if not connection.fill():
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            )
    body = bytes(connection.buffer[:length])
    del connection.buffer[:length]
    return body


def _read_line(connection: _Connection, most: int) -> bytes:
    """The next line, without its line end; at most ``most`` bytes long."""
    while (end := connection.buffer.find(b"\n")) < 0:
        if len(connection.buffer) > most:
            raise httpx.RemoteProtocolError("chunked body line too long")
        if not connection.fill():
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            )
    if end > most:
        raise httpx.RemoteProtocolError("chunked body line too long")
    line = bytes(connection.buffer[:end])
    del connection.buffer[: end + 1]
    return line


def _read_line_end(connection: _Connection) -> None:
    """Consume the ``CRLF`` (or bare ``LF``) that must follow a chunk's data."""
    buffer = connection.buffer
    while len(buffer) < 2 and buffer[:1] != b"\n":
        if not connection.fill():
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            )
    if buffer[:1] == b"\n":
        del buffer[:1]
    elif buffer[:2] == b"\r\n":
        del buffer[:2]
    else:
        raise httpx.RemoteProtocolError("chunk not followed by a line end")


def _read_chunked(connection: _Connection, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        header = _CHUNK_SIZE.fullmatch(_read_line(connection, _MAX_CHUNK_LINE))
        if header is None:
            raise httpx.RemoteProtocolError("illegal chunk header")
        length = int(header[1], 16)
        if length == 0:
            break
        size += length
        if size > limit:
            raise BodyTooLargeError
        parts.append(_read_exactly(connection, length, limit))
        _read_line_end(connection)
    trailers = 0
    while (line := _read_line(connection, MAX_HEAD)) not in (b"", b"\r"):
        trailers += len(line)
        if trailers > MAX_HEAD or not _HEADER_LINE.fullmatch(line.removesuffix(b"\r")):
            raise httpx.RemoteProtocolError("illegal trailer line")
    return b"".join(parts)


def _read_to_end(connection: _Connection, limit: int) -> bytes:
    while len(connection.buffer) <= limit:
        if not connection.fill():
            break
    else:
        raise BodyTooLargeError
    body = bytes(connection.buffer)
    connection.buffer.clear()
    return body


def _decode(body: bytes, encodings: list[bytes], limit: int) -> bytes:
    """``body`` with its gzip and deflate codings undone, last applied first; others are
    left alone, as httpx leaves them. Bounded: a small bomb cannot exceed ``limit``."""
    for encoding in reversed(encodings):
        if encoding in (b"gzip", b"x-gzip"):
            body = _inflate(body, zlib.MAX_WBITS | 16, limit)
        elif encoding == b"deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, limit)
            except httpx.DecodingError:  # some servers send raw deflate, as httpx tolerates
                body = _inflate(body, -zlib.MAX_WBITS, limit)
    return body


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(data, limit + 1)
        if len(out) > limit or decompressor.unconsumed_tail:
            raise BodyTooLargeError
        out += decompressor.flush()
    except zlib.error as error:
        raise httpx.DecodingError(f"the response body is not valid {_name(wbits)}") from error
    if len(out) > limit:
        raise BodyTooLargeError
    return out


def _name(wbits: int) -> str:
    return "gzip" if wbits > zlib.MAX_WBITS else "deflate"
