"""An httpcore network backend whose every socket wait ends at the request's deadline.

httpx timeouts bound each socket operation, not the request: a server that trickles its
status line one byte per second resets the read timeout with every byte and holds the call
for ever. Here every connect, TLS handshake, read and write waits in slices of at most
``SLICE`` seconds, and between slices checks the calling thread's deadline and the client's
cancel flag, so a request ends at its deadline, or within ``SLICE`` of ``cancel()``, whatever
the server does. No helper thread is involved, so none is left behind.

The deadline belongs to the thread that makes the request (``DeadlineBackend.budget``): one
client serves many threads, and a pooled connection may serve a request of another thread.

Exceeding either raises httpcore's own timeout for the phase (``ConnectTimeout`` before the
request is written, ``WriteTimeout``/``ReadTimeout`` after), so httpx maps it as usual and
the phase still tells whether anything was sent. Limits: the DNS look-up
(``getaddrinfo``) cannot be interrupted, and TLS inside a TLS proxy tunnel is not supported.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = ["SLICE", "DeadlineBackend", "install"]

SLICE = 0.25
"""The longest single socket wait: how late a deadline or a cancel may be noticed."""

_Timeout = type[httpcore.ConnectTimeout | httpcore.ReadTimeout | httpcore.WriteTimeout]
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class DeadlineBackend(httpcore.NetworkBackend):
    """Opens sockets whose waits honour the thread's ``budget`` and ``cancelled``."""

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled
        self._local = threading.local()

    @contextlib.contextmanager
    def budget(self, deadline: float) -> Iterator[None]:
        """Bound every socket wait of this thread by ``deadline`` (a ``time.monotonic``)."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = deadline
        try:
            yield
        finally:
            self._local.deadline = previous

    def clock(self, timeout: float | None, kind: _Timeout) -> _Clock:
        """The waits left to one operation bounded by ``timeout`` and the thread's deadline."""
        limit: float | None = getattr(self._local, "deadline", None)
        if timeout is not None:
            end = time.monotonic() + timeout
            limit = end if limit is None else min(limit, end)
        return _Clock(limit, self.cancelled, kind)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        clock = self.clock(timeout, httpcore.ConnectTimeout)
        clock.next_wait()
        try:
            addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        for index, (family, kind, proto, _, address) in enumerate(addresses, 1):
            sock = socket.socket(family, kind, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if local_address is not None:
                    sock.bind((local_address, 0))
                _connect(sock, address, clock)
            except OSError as error:
                sock.close()
                if index == len(addresses):
                    # Raised inside the except block: httpcore re-raises "from None", which
                    # drops __cause__ but keeps __context__, where _failures finds the errno.
                    raise httpcore.ConnectError(str(error)) from error
                continue
            except BaseException:
                sock.close()
                raise
            return DeadlineStream(sock, self)
        raise httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not supported")

    def sleep(self, seconds: float) -> None:
        self.cancelled.wait(seconds)


class DeadlineStream(httpcore.NetworkStream):
    """A connected (plain or TLS) socket whose waits are sliced by ``DeadlineBackend``."""

    def __init__(self, sock: socket.socket, backend: DeadlineBackend) -> None:
        self._sock = sock
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        clock = self._backend.clock(timeout, httpcore.ReadTimeout)
        while True:
            self._sock.settimeout(clock.next_wait())
            try:
                return self._sock.recv(max_bytes)
            except TimeoutError:
                continue  # nothing was consumed: waiting again loses no byte
            except OSError as error:
                raise httpcore.ReadError(str(error) or type(error).__name__) from error

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        clock = self._backend.clock(timeout, httpcore.WriteTimeout)
        while buffer:
            self._sock.settimeout(clock.next_wait())
            try:
                sent = self._sock.send(buffer)
            except TimeoutError:
                continue  # TLS wants the same buffer again, which is what we pass
            except OSError as error:
                raise httpcore.WriteError(str(error) or type(error).__name__) from error
            buffer = buffer[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clock = self._backend.clock(timeout, httpcore.ConnectTimeout)
        if isinstance(self._sock, ssl.SSLSocket):
            self._sock.close()
            raise httpcore.ConnectError("TLS inside a TLS proxy tunnel is not supported")
        try:
            # From here the SSLSocket owns the file descriptor: close it, not self._sock.
            tls = ssl_context.wrap_socket(
                self._sock, server_hostname=server_hostname, do_handshake_on_connect=False
            )
        except OSError as error:
            self._sock.close()
            raise httpcore.ConnectError(str(error)) from error
        try:
            while True:
                tls.settimeout(clock.next_wait())
                try:
                    tls.do_handshake()
                except TimeoutError:
                    continue  # OpenSSL keeps the handshake state; the next call resumes it
                except OSError as error:
                    raise httpcore.ConnectError(str(error)) from error
                return DeadlineStream(tls, self._backend)
        except BaseException:
            tls.close()
            raise

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock  # has selected_alpn_protocol(), all httpcore asks of it
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _is_readable(self._sock)
        return None


class _Clock:
    """The waits one socket operation has left."""

    def __init__(self, limit: float | None, cancelled: threading.Event, kind: _Timeout) -> None:
        self._limit = limit
        self._cancelled = cancelled
        self._kind = kind

    def next_wait(self) -> float:
        """Seconds to wait next; raises ``kind`` once cancelled or out of time."""
        if self._cancelled.is_set():
            raise self._kind("cancelled")
        if self._limit is None:
            return SLICE
        left = self._limit - time.monotonic()
        if left <= 0:
            raise self._kind("deadline exceeded")
        return min(SLICE, left)


def install(client: httpx.Client, backend: DeadlineBackend) -> None:
    """Make every ``HTTPTransport`` of ``client`` (env proxies included) use ``backend``.

    httpx offers no public hook for the network backend; a changed internal raises here,
    at construction, rather than silently dropping the deadline.
    """
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if isinstance(transport, httpx.HTTPTransport):
            pool = getattr(transport, "_pool", None)
            if not hasattr(pool, "_network_backend"):
                raise RuntimeError("unsupported httpx version: cannot set the network backend")
            pool._network_backend = backend  # type: ignore[union-attr]


def _connect(sock: socket.socket, address: Any, clock: _Clock) -> None:
    """``sock.connect(address)`` in slices, so a black-holed host cannot outlive the clock."""
    sock.setblocking(False)
    status = sock.connect_ex(address)
    if status in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_WRITE)
            while not selector.select(clock.next_wait()):
                pass
        status = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if status:
        raise OSError(status, os.strerror(status))


def _is_readable(sock: socket.socket) -> bool:
    # An idle pooled connection that is readable has been closed by the server.
    fd = sock.fileno()
    if fd == -1:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)
