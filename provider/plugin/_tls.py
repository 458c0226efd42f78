"""Mutual-TLS terminator in front of grpcio, on the standard ``ssl`` module (OpenSSL).

Used only when ``HUMANITEC_PROVIDER_SERVER=grpcio`` asks for grpcio; the native server
(:mod:`._native`) terminates TLS itself.

go-plugin's AutoMTLS client presents an ECDSA P-521 certificate. grpcio's BoringSSL does not offer
``ecdsa_secp521r1_sha512`` in its CertificateRequest, so Terraform would send no certificate and
the handshake would fail. OpenSSL does offer it, so TLS ends here and the plaintext HTTP/2 bytes are
piped to grpcio listening on a unix socket inside a private 0700 directory::

    Terraform --TLS 1.2+/h2, client cert required--> 127.0.0.1:port --plain--> unix:backend (grpcio)

The proxy runs an asyncio loop in one daemon thread; grpc already imports asyncio and ssl, so this
module adds no import time to a launch. Bytes are piped by protocol callbacks, not streams: an
RPC is a handful of small HTTP/2 frames each way, so the cost per chunk is what counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from provider.plugin._certificate import ServerCertificate
from provider.plugin._tls_context import describe_error, server_context

__all__ = ["MutualTLSProxy"]

logger = logging.getLogger("provider.plugin.tls")

_HANDSHAKE_TIMEOUT = 10.0  # an idle or stalled client is dropped after this
_CLOSE_TIMEOUT = 2.0  # wait this long for a peer's close_notify, then abort
_START_TIMEOUT = 10.0


class MutualTLSProxy:
    """Accept TLS on 127.0.0.1 from the holder of one client certificate; pipe bytes to ``backend``.

    Only ``client_certificate_pem`` (Terraform's ``PLUGIN_CLIENT_CERT``) is trusted. A connection
    that fails the handshake (no certificate, another certificate, not TLS at all) is dropped before
    the backend is dialled, and logged at debug level without details of the peer's certificate.
    ``workdir`` must be an existing private directory; the key is written there (0600) only for as
    long as OpenSSL needs to read it.
    """

    def __init__(
        self,
        *,
        server_certificate: ServerCertificate,
        client_certificate_pem: str,
        backend: str,
        workdir: Path,
    ) -> None:
        self._server_certificate = server_certificate
        self._client_certificate_pem = client_certificate_pem
        self._backend = backend
        self._workdir = workdir
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    def start(self) -> tuple[str, int]:
        """Listen on an ephemeral port of 127.0.0.1 and return ``(host, port)``.

        Raises ``ValueError`` or ``ssl.SSLError`` when ``client_certificate_pem`` holds no
        certificate, and ``OSError`` when the key file cannot be written or the port bound.
        """
        if self._thread is not None:
            raise RuntimeError("MutualTLSProxy.start() called twice")
        context = server_context(
            self._server_certificate, self._client_certificate_pem, self._workdir
        )
        started: Future[tuple[str, int]] = Future()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(context, started)), name="tls-proxy", daemon=True
        )
        self._thread.start()
        return started.result(timeout=_START_TIMEOUT)

    def close(self) -> None:
        """Stop listening, drop every connection, and end the thread. Safe to call twice."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has already finished
            loop.call_soon_threadsafe(stopping.set)
        thread.join(_START_TIMEOUT)
        self._loop = self._stopping = None

    async def _serve(self, context: ssl.SSLContext, started: Future[tuple[str, int]]) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(_log_loop_exception)
            self._stopping = asyncio.Event()
            server = await loop.create_server(
                lambda: _Accepted(lambda transport: self._accept(transport, context)),
                "127.0.0.1",
                0,
            )
        except BaseException as exc:
            started.set_exception(exc)
            raise
        self._loop = loop
        host, port = server.sockets[0].getsockname()[:2]
        started.set_result((host, port))
        logger.debug("listening on %s:%d, backend %s", host, port, self._backend)
        try:
            await self._stopping.wait()
        finally:
            # Not server.wait_closed(): from Python 3.12 on it waits for every connection to end.
            server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            logger.debug("stopped")

    def _accept(self, transport: asyncio.Transport, context: ssl.SSLContext) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(transport, context))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _handle(self, raw: asyncio.Transport, context: ssl.SSLContext) -> None:
        number = next(self._ids)
        loop = asyncio.get_running_loop()
        client = _Pipe()
        try:
            if self._stopping is None or self._stopping.is_set():
                raise ConnectionAbortedError("the proxy is stopping")
            # Without TCP_NODELAY every RPC stalls ~40 ms (Nagle + delayed ACK); asyncio sets it
            # only on some listeners, so set it here whatever the loop did.
            sock = raw.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = await loop.start_tls(
                raw, client, context, server_side=True, ssl_handshake_timeout=_HANDSHAKE_TIMEOUT
            )
        except BaseException as exc:
            # Any TLS layer is torn down already, and our protocol never sees connection_lost.
            raw.abort()
            if not isinstance(exc, Exception):
                raise
            logger.debug("connection %d: handshake failed: %s", number, describe_error(exc))
            return
        assert tls is not None
        client.connection_made(tls)
        ssl_object = tls.get_extra_info("ssl_object")
        nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        logger.debug(
            "connection %d: %s, alpn %s, TCP_NODELAY=%d",
            *(number, ssl_object.version(), ssl_object.selected_alpn_protocol(), nodelay),
            extra={"tcp_nodelay": nodelay},
        )
        pipes = [client]
        try:
            try:
                _, backend = await loop.create_unix_connection(_Pipe, self._backend)
            except OSError as exc:
                logger.debug("connection %d: backend unreachable: %s", number, describe_error(exc))
                return
            pipes.append(backend)
            client.link(backend)
            backend.link(client)
            await asyncio.wait(
                [asyncio.ensure_future(p.ended) for p in pipes],
                return_when=asyncio.FIRST_COMPLETED,
            )
            outcome = next((p.ended.result() for p in pipes if p.ended.done()), "end of stream")
            logger.debug("connection %d: closing (%s)", number, outcome)
        finally:
            await _close(pipes)


class _Accepted(asyncio.Protocol):
    """A freshly accepted TCP connection: reading stays off until ``start_tls`` takes over,
    so not a byte of the ClientHello can reach a protocol that would drop it."""

    def __init__(self, accept: Callable[[asyncio.Transport], None]) -> None:
        self._accept = accept

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        self._accept(transport)


class _Pipe(asyncio.Protocol):
    """One side of a connection: what it receives is written straight to the other side.

    Protocol callbacks rather than streams: each chunk costs one event-loop callback and one
    write, with no reader task, future or drain in between. Back-pressure is the transports'
    own: when one side's write buffer fills, the other side stops reading until it drains.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.ended: asyncio.Future[str] = loop.create_future()  # EOF or connection lost
        self.lost: asyncio.Future[None] = loop.create_future()  # the transport is closed
        self._peer: _Pipe | None = None
        self._pending: list[bytes] = []
        self._peer_must_pause = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def link(self, peer: _Pipe) -> None:
        """Start forwarding to ``peer``, first what arrived before it existed."""
        self._peer = peer
        assert peer.transport is not None
        if self._pending:
            peer.transport.write(b"".join(self._pending))
            self._pending.clear()
        if self._peer_must_pause:
            peer.transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        peer = self._peer
        if peer is not None and peer.transport is not None:
            peer.transport.write(data)
        else:
            self._pending.append(data)

    def eof_received(self) -> bool:
        self._end("end of stream")
        return False  # close this side; the handler closes the other

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(describe_error(exc) if exc is not None else "end of stream")
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        # Our transport is full: stop reading what would be written to it.
        if self._peer is not None and self._peer.transport is not None:
            self._peer.transport.pause_reading()
        else:
            self._peer_must_pause = True

    def resume_writing(self) -> None:
        self._peer_must_pause = False
        if self._peer is not None and self._peer.transport is not None:
            self._peer.transport.resume_reading()

    def _end(self, outcome: str) -> None:
        if not self.ended.done():
            self.ended.set_result(outcome)


async def _close(pipes: list[_Pipe]) -> None:
    # close() first and synchronously, so that cancellation cannot skip it; then give TLS a
    # moment for close_notify (unless the proxy is stopping), and abort whatever is left.
    transports = [p.transport for p in pipes if p.transport is not None]
    for transport in transports:
        transport.close()
    task = asyncio.current_task()
    try:
        if task is not None and not task.cancelling():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(p.lost for p in pipes)), _CLOSE_TIMEOUT)
    finally:
        for transport in transports:
            transport.abort()


def _log_loop_exception(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    detail = describe_error(exc) if exc is not None else ""
    logger.debug("event loop: %s %s", context.get("message"), detail)
