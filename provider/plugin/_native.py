"""A gRPC server on the standard library's sockets and ``ssl``, with :mod:`._h2` for HTTP/2.

Why not grpcio: Terraform sends three or four RPCs per resource and command, and grpcio's server
costs 300-400 µs of CPU per RPC on this project's machine before our handler runs (its C core
and Python layer hand each call between threads), plus 75-135 µs for the TLS terminator it needs
in front of it (BoringSSL cannot verify Terraform's P-521 client certificate); this server
costs 60-115 µs (``python -m benchmarks.rpc_cost``). Here one thread per connection reads,
decodes and answers, so a call that only computes costs one ``select``, one ``recv`` and one
``send``. Not importing grpc also shortens a cold start and lowers a process's peak memory
(``make bench``: 1.43x to 0.96x ``import grpc``, 60 to 44 MiB).

Threads: one accepts; each connection has one that owns its socket (OpenSSL objects must not be
shared between threads) and does the TLS handshake, so a client that stalls there stalls nobody
else. RPCs that ``inline`` names (pure computation) run on that thread; the others, which may wait
on the Humanitec API, run in a pool and post their answers back through a wake-up socket, so a
slow request never holds up the calls behind it (for longer than the pool takes to start
another thread, ``_pool.py``), nor ``StopProvider``.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import functools
import itertools
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ._h2 import Call, Connection, PeerProtocolError, Status
from ._pool import Pool
from ._tls_context import describe_error

if TYPE_CHECKING:  # rpc's types, without importing protobuf here
    from .rpc import StreamHandler, UnaryHandler

__all__ = ["NativeServer"]

logger = logging.getLogger("provider.plugin.server")

_HANDSHAKE_TIMEOUT = 10.0  # an idle or stalled client is dropped after this
_CHUNK = 256 * 1024
_ACCEPT_RETRY_SECONDS = 0.05  # after a failed accept() that leaves the listener usable


class NativeServer:
    """Serve ``unary`` and ``streaming`` handlers (keyed by ``/package.Service/Method``).

    ``inline(path, request)`` says whether a unary call only computes, so that it is answered
    on the connection's thread; any other runs in the pool.
    """

    def __init__(
        self,
        unary: Mapping[str, UnaryHandler],
        streaming: Mapping[str, StreamHandler],
        *,
        inline: Callable[[str, bytes], bool],
        max_workers: int,
        max_message_bytes: int,
    ) -> None:
        self._unary = dict(unary)
        self._streaming = dict(streaming)
        self._inline = inline
        self._max_message = max_message_bytes
        self.pool = Pool(max_workers, "rpc")  # for _Served, which tends its growth
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = False
        self._listeners: list[socket.socket] = []
        self._connections: dict[int, _Served] = {}

    def listen_tls(self, context: ssl.SSLContext) -> tuple[str, int]:
        """Accept TLS on an ephemeral port of 127.0.0.1; return ``(host, port)``."""
        listener = self._listen(socket.AF_INET, ("127.0.0.1", 0), context)
        host, port = listener.getsockname()[:2]
        logger.debug("listening on %s:%d (TLS)", host, port)
        return host, port

    def listen_unix(self, path: str) -> None:
        """Accept plaintext connections on a unix socket (Terraform without plugin TLS, or
        reattach); ``path`` must lie in a private directory."""
        self._listen(socket.AF_UNIX, path, None)
        logger.debug("listening on %s", path)

    def stop(self) -> None:
        """Stop accepting, drop every connection, and end the threads. Safe to call twice."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            listeners, served = list(self._listeners), list(self._connections.values())
        for listener in listeners:  # wakes the thread blocked in accept()
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
        for connection in served:
            connection.abort()
        for connection in served:
            if connection.thread is not None:
                connection.thread.join(_HANDSHAKE_TIMEOUT)
        for listener in listeners:
            listener.close()
        self.pool.shutdown()

    def _listen(
        self, family: int, address: tuple[str, int] | str, context: ssl.SSLContext | None
    ) -> socket.socket:
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind(address)
            listener.listen(16)
        except BaseException:
            listener.close()
            raise
        with self._lock:
            self._listeners.append(listener)
        threading.Thread(
            target=self._accept_forever, args=(listener, context), name="accept", daemon=True
        ).start()
        return listener

    def _accept_forever(self, listener: socket.socket, context: ssl.SSLContext | None) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError as exc:
                if self._stopping or exc.errno in (errno.EBADF, errno.EINVAL):
                    return  # stop() shut the listener down
                # Out of descriptors, or a connection that died before we took it: the
                # listener is fine, and Terraform may connect again.
                logger.debug("accept failed: %s", describe_error(exc))
                time.sleep(_ACCEPT_RETRY_SECONDS)
                continue
            with self._lock:
                if self._stopping:
                    sock.close()
                    return
                number = next(self._ids)
                served = self._connections[number] = _Served(
                    number, sock, context, self, self._max_message
                )
                # Started under the lock: stop() joins every thread it finds, and joining
                # one not yet started raises.
                served.thread = threading.Thread(
                    target=self._run, args=(served,), name=f"conn-{number}", daemon=True
                )
                served.thread.start()

    def _run(self, served: _Served) -> None:
        try:
            served.run()
        except Exception as exc:  # a connection's failure must not reach the thread excepthook
            logger.debug("connection %d: failed: %s", served.number, describe_error(exc))
        finally:
            served.close()
            with self._lock:
                self._connections.pop(served.number, None)

    # -- calls, for _Served ---------------------------------------------------------------------

    def dispatch(self, call: Call, served: _Served) -> None:
        """Answer now (inline, or an error) or from the pool; on the connection's thread."""
        conn = served.h2
        if call.error is not None:
            conn.fail(call.stream_id, *call.error)
            return
        unary = self._unary.get(call.path)
        if unary is not None:
            if self._inline(call.path, call.message):
                _unary_answer(unary, call)(conn)
            else:
                self.pool.submit(lambda: served.post(_unary_answer(unary, call)))
            return
        streaming = self._streaming.get(call.path)
        if streaming is not None:
            self.pool.submit(functools.partial(self._stream_in_pool, streaming, call, served))
            return
        conn.fail(call.stream_id, Status.UNIMPLEMENTED, f"unknown method {call.path}")

    @staticmethod
    def _stream_in_pool(handler: StreamHandler, call: Call, served: _Served) -> None:
        sid = call.stream_id
        served.post(lambda conn: conn.start_response(sid))
        try:
            for message in handler(call.message, None):
                served.post(
                    functools.partial(Connection.send_message, stream_id=sid, message=message)
                )
        except Exception as exc:
            logger.exception("%s failed", call.path)
            detail = describe_error(exc)
            served.post(lambda conn: conn.finish(call.stream_id, Status.UNKNOWN, detail))
            return
        served.post(lambda conn: conn.finish(call.stream_id, Status.OK))


def _unary_answer(handler: UnaryHandler, call: Call) -> Callable[[Connection], None]:
    """Run ``handler`` on ``call``; what then answers it on the connection."""
    try:
        answer = handler(call.message, None)
    except Exception as exc:  # our handlers catch everything; this is the last line
        logger.exception("%s failed", call.path)
        detail = describe_error(exc)
        return lambda conn: conn.fail(call.stream_id, Status.UNKNOWN, detail)
    return lambda conn: conn.respond(call.stream_id, answer)


class _Served:
    """One client connection and the thread that owns its socket."""

    def __init__(
        self,
        number: int,
        sock: socket.socket,
        context: ssl.SSLContext | None,
        server: NativeServer,
        max_message_bytes: int,
    ) -> None:
        self.number = number
        self.thread: threading.Thread | None = None
        self.h2 = Connection(max_message_bytes=max_message_bytes)
        self._sock: socket.socket = sock
        self._context = context
        self._server = server
        self._posted: collections.deque[Callable[[Connection], object]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._aborted = False
        self._closing = threading.Lock()
        self._closed = False

    def post(self, action: Callable[[Connection], object]) -> None:
        """From a pool thread: run ``action`` on the connection's thread, soon."""
        self._posted.append(action)
        self._wake()

    def _wake(self) -> None:
        with self._closing:  # once closed, the descriptor number may be another socket's
            if self._closed:
                return
            with contextlib.suppress(BlockingIOError, OSError):  # full: a wake-up is pending
                self._wake_w.send(b"\0")

    def abort(self) -> None:
        """From another thread: make the connection's blocking calls return at once."""
        self._aborted = True
        with self._closing:  # once closed, the descriptor number may be another socket's
            if self._closed:
                return
            with contextlib.suppress(OSError):  # the socket's shutdown, under OpenSSL's back:
                # an SSLSocket's own would drop its SSL object while our thread uses it
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            with contextlib.suppress(BlockingIOError, OSError):
                self._wake_w.send(b"\0")

    def close(self) -> None:
        with self._closing:
            self._closed = True
            for sock in (self._sock, self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    sock.close()

    def run(self) -> None:
        if self._context is not None and not self._handshake(self._context):
            return
        outcome = self._serve()
        logger.debug("connection %d: closing (%s)", self.number, outcome)

    def _handshake(self, context: ssl.SSLContext) -> bool:
        raw = self._sock
        try:
            # Without TCP_NODELAY every RPC stalls ~40 ms (Nagle + delayed ACK).
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            raw.settimeout(_HANDSHAKE_TIMEOUT)
            # wrap_socket takes raw's descriptor: hand abort() the socket that now owns it
            # before the handshake waits, else a stalled client holds stop() for the timeout.
            tls = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            self._sock = tls
            if self._aborted:
                return False
            tls.do_handshake()
        except (OSError, ValueError) as exc:
            logger.debug("connection %d: handshake failed: %s", self.number, describe_error(exc))
            return False
        nodelay = tls.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        logger.debug(
            "connection %d: %s, alpn %s, TCP_NODELAY=%d",
            *(self.number, tls.version(), tls.selected_alpn_protocol(), nodelay),
            extra={"tcp_nodelay": nodelay},
        )
        return not self._aborted

    def _serve(self) -> str:
        sock, conn, pool = self._sock, self.h2, self._server.pool
        sock.setblocking(False)
        out = bytearray(conn.data_to_send())
        # One buffer for every read: recv(n) allocates n bytes and shrinks them, and glibc
        # serves 256 KiB with mmap, mremap and munmap (py-spy --native of a server under
        # benchmarks.rpc_cost: a fifth of a small RPC's server CPU).
        received = memoryview(bytearray(_CHUNK))
        pending_tls = isinstance(sock, ssl.SSLSocket)
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                readable = False
                if pending_tls and sock.pending():  # type: ignore[attr-defined]
                    readable = True  # OpenSSL holds decrypted bytes the socket no longer shows
                else:
                    # A job waiting for a thread: wake when one is due for it.
                    for key, mask in selector.select(pool.grow()):
                        if key.fileobj is self._wake_r:
                            with contextlib.suppress(BlockingIOError):
                                self._wake_r.recv(4096)
                        elif mask & selectors.EVENT_READ:
                            readable = True
                if self._aborted:
                    return "stopped"
                while self._posted:
                    self._posted.popleft()(conn)
                if readable:
                    try:
                        size: int | None = sock.recv_into(received)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                        size = None
                    except (ssl.SSLError, OSError) as exc:
                        return describe_error(exc)
                    if size == 0:
                        return "end of stream"
                    if size:
                        try:
                            for call in conn.receive(received[:size]):
                                self._server.dispatch(call, self)
                        except PeerProtocolError as exc:
                            out += conn.data_to_send()
                            self._send_rest(sock, out)
                            return f"protocol error: {exc}"
                out += conn.data_to_send()
                try:
                    _send(sock, out)
                except (ssl.SSLError, OSError) as exc:
                    return describe_error(exc)
                if conn.closed and not conn.active_streams and not out:
                    return "client went away"
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0)
                if selector.get_key(sock).events != events:
                    selector.modify(sock, events)

    @staticmethod
    def _send_rest(sock: socket.socket, out: bytearray) -> None:
        """Best effort before closing (a GOAWAY): a little blocking, then give up."""
        with contextlib.suppress(OSError):
            sock.settimeout(1.0)
            sock.sendall(out)


def _send(sock: socket.socket, out: bytearray) -> None:
    while out:
        try:
            sent = sock.send(out)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            return
        del out[:sent]
