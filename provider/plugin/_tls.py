"""Mutual-TLS terminator in front of grpcio, on the standard ``ssl`` module (OpenSSL).

go-plugin's AutoMTLS client presents an ECDSA P-521 certificate. grpcio's BoringSSL does not offer
``ecdsa_secp521r1_sha512`` in its CertificateRequest, so Terraform would send no certificate and
the handshake would fail. OpenSSL does offer it, so TLS ends here and the plaintext HTTP/2 bytes are
piped to grpcio listening on a unix socket inside a private 0700 directory::

    Terraform --TLS 1.2+/h2, client cert required--> 127.0.0.1:port --plain--> unix:backend (grpcio)

The proxy runs an asyncio loop in one daemon thread; grpc already imports asyncio and ssl, so this
module adds no import time to a launch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
import ssl
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from provider.plugin._certificate import ServerCertificate

__all__ = ["MutualTLSProxy"]

logger = logging.getLogger("provider.plugin.tls")

_HANDSHAKE_TIMEOUT = 10.0  # an idle or stalled client is dropped after this
_CLOSE_TIMEOUT = 2.0  # wait this long for a peer's close_notify, then abort
_START_TIMEOUT = 10.0
_CHUNK = 256 * 1024


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
        context = self._ssl_context()
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

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=self._client_certificate_pem)
        context.set_alpn_protocols(["h2"])  # Terraform >= 1.15 refuses a connection without it
        context.num_tickets = 0  # nobody resumes sessions: don't pay for tickets on each connection
        context.options |= ssl.OP_NO_TICKET
        # OpenSSL reads keys only from files: 0600, O_EXCL, in the private workdir, gone at once.
        path = self._workdir / f"server-{secrets.token_hex(8)}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(self._server_certificate.cert_pem + self._server_certificate.key_pem)
            context.load_cert_chain(path)
        finally:
            path.unlink()
        return context

    async def _serve(self, context: ssl.SSLContext, started: Future[tuple[str, int]]) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(_log_loop_exception)
            self._stopping = asyncio.Event()
            server = await asyncio.start_server(
                lambda reader, writer: self._handle(reader, writer, context), "127.0.0.1", 0
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

    async def _handle(
        self,
        client_reader: asyncio.StreamReader,
        client: asyncio.StreamWriter,
        context: ssl.SSLContext,
    ) -> None:
        number = next(self._ids)
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        raw = client.get_extra_info("socket")
        try:
            if self._stopping is None or self._stopping.is_set():
                raise ConnectionAbortedError("the proxy is stopping")
            # Without TCP_NODELAY every RPC stalls ~40 ms (Nagle + delayed ACK). asyncio sets it
            # only if the listener was made with proto=IPPROTO_TCP (the spike's sock= was not).
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await client.start_tls(context, ssl_handshake_timeout=_HANDSHAKE_TIMEOUT)
        except BaseException as exc:
            # Any TLS layer is torn down already, and our stream never sees connection_lost.
            client.transport.abort()
            if not isinstance(exc, Exception):
                raise
            logger.debug("connection %d: handshake failed: %s", number, _describe(exc))
            return
        tls = client.get_extra_info("ssl_object")
        nodelay = raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        logger.debug(
            "connection %d: %s, alpn %s, TCP_NODELAY=%d",
            *(number, tls.version(), tls.selected_alpn_protocol(), nodelay),
            extra={"tcp_nodelay": nodelay},
        )
        writers = [client]
        try:
            try:
                backend_reader, backend = await asyncio.open_unix_connection(self._backend)
            except OSError as exc:
                logger.debug("connection %d: backend unreachable: %s", number, _describe(exc))
                return
            writers.append(backend)
            outcome = await _pipe((client_reader, backend), (backend_reader, client))
            logger.debug("connection %d: closing (%s)", number, outcome)
        finally:
            await _close(writers)


async def _pipe(*directions: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> str:
    """Copy each reader to its writer until one direction ends; say why it ended."""
    pumps = [asyncio.create_task(_pump(reader, writer)) for reader, writer in directions]
    try:
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pump in pumps:
            pump.cancel()
        outcomes = await asyncio.gather(*pumps, return_exceptions=True)
    errors = [_describe(o) for o in outcomes if isinstance(o, Exception)]
    return errors[0] if errors else "end of stream"


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(_CHUNK):
        writer.write(data)
        await writer.drain()


async def _close(writers: list[asyncio.StreamWriter]) -> None:
    # close() first and synchronously, so that cancellation cannot skip it; then give TLS a
    # moment for close_notify (unless the proxy is stopping), and abort whatever is left.
    for writer in writers:
        writer.close()
    task = asyncio.current_task()
    try:
        if task is not None and not task.cancelling():
            waiting = asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting, _CLOSE_TIMEOUT)
    finally:
        for writer in writers:
            writer.transport.abort()


def _describe(exc: BaseException) -> str:
    """The exception's class and OpenSSL reason: enough to debug, nothing from the peer."""
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return f"{type(exc).__name__}({reason})" if reason else type(exc).__name__


def _log_loop_exception(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    detail = _describe(exc) if exc is not None else ""
    logger.debug("event loop: %s %s", context.get("message"), detail)
