"""The native gRPC server with real sockets: mutual TLS as Terraform does it, calls from our
frame-level client and from grpcio's own client."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provider.plugin._certificate import ServerCertificate
from provider.plugin._native import NativeServer
from provider.plugin._pool import EAGER, GROW_AFTER
from provider.plugin._tls_context import server_context
from tests.goplugin import Identity, make_identity
from tests.h2client import DATA, END_STREAM, HEADERS, Client, Frame, grpc_message, split
from tests.plugin.test_tls import assert_refused, connect

TIMEOUT = 5.0
ECHO = "/test.Echo/Reverse"
SLOW = "/test.Echo/Slow"
POOLED_ECHO = "/test.Echo/PooledReverse"
COUNT = "/test.Echo/Count"


class Handlers:
    """An echo, a call that waits for ``release`` (in the pool), and a counting stream."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.slow_started = threading.Event()
        self.slow_calls: list[bytes] = []  # appended from pool threads: atomic

    def reverse(self, raw: bytes, _context: Any) -> bytes:
        return raw[::-1]

    def slow(self, raw: bytes, _context: Any) -> bytes:
        self.slow_calls.append(raw)
        self.slow_started.set()
        self.release.wait(TIMEOUT)
        return b"slow " + raw

    def count(self, raw: bytes, _context: Any) -> Iterator[bytes]:
        for n in range(int(raw)):
            yield str(n).encode()
        if raw == b"3":
            raise RuntimeError("boom after three")


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


def make_server(handlers: Handlers, max_workers: int = 1) -> NativeServer:
    return NativeServer(
        {ECHO: handlers.reverse, SLOW: handlers.slow, POOLED_ECHO: handlers.reverse},
        {COUNT: handlers.count},
        inline=lambda path, _request: path == ECHO,
        # One thread by default: a call that kept its pool thread would hold up every later one.
        max_workers=max_workers,
        max_message_bytes=1 << 20,
    )


@pytest.fixture
def tls_server(
    handlers: Handlers, server_certificate: ServerCertificate, terraform: Identity, workdir: Path
) -> Iterator[tuple[str, int]]:
    server = make_server(handlers)
    context = server_context(server_certificate, terraform.cert_pem.decode(), workdir)
    yield server.listen_tls(context)
    handlers.release.set()
    server.stop()


@pytest.fixture
def unix_server(handlers: Handlers, workdir: Path) -> Iterator[str]:
    server = make_server(handlers)
    path = str(workdir / "grpc.sock")
    server.listen_unix(path)
    yield path
    handlers.release.set()
    server.stop()


def unix_client(path: str) -> socket.socket:
    """A client socket connected to ``path``, whose waits end after ``TIMEOUT``."""
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.settimeout(TIMEOUT)
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def read_answers(sock: socket.socket, streams: int) -> dict[int, list[Frame]]:
    """HEADERS and DATA frames per stream until ``streams`` streams have ended."""
    buffer, answers, ended = b"", dict[int, list[Frame]](), 0
    while ended < streams:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        frames, buffer = split(buffer + chunk)
        for f in frames:
            if f.kind in (HEADERS, DATA) and f.stream_id:
                answers.setdefault(f.stream_id, []).append(f)
                ended += bool(f.flags & END_STREAM)
    assert not buffer, "a partial frame after the last answer"
    return answers


@pytest.mark.parametrize(
    ("version", "expected"),
    [(ssl.TLSVersion.MAXIMUM_SUPPORTED, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")],
    ids=["tls1.3", "tls1.2"],
)
def test_terraforms_p521_certificate_gets_an_answer_over_h2(
    version: ssl.TLSVersion,
    expected: str,
    tls_server: tuple[str, int],
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
) -> None:
    with connect(tls_server, server_certificate, terraform, tmp_path, version=version) as tls:
        assert tls.version() == expected
        assert tls.selected_alpn_protocol() == "h2"
        client = Client()
        tls.sendall(client.preface() + client.call(1, ECHO, b"terraform"))
        answer = read_answers(tls, 1)[1]
    assert [f.kind for f in answer] == [HEADERS, DATA, HEADERS]
    assert answer[1].payload == grpc_message(b"mrofarret")
    assert client.headers(answer[0])[":status"] == "200"
    assert client.headers(answer[2]) == {"grpc-status": "0"}


def test_other_or_missing_client_certificates_are_refused(
    tls_server: tuple[str, int], server_certificate: ServerCertificate, tmp_path: Path
) -> None:
    assert_refused(tls_server, server_certificate, None, tmp_path)
    assert_refused(tls_server, server_certificate, make_identity(ec.SECP521R1()), tmp_path)


def test_an_idle_or_plain_client_blocks_nobody(
    tls_server: tuple[str, int],
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
) -> None:
    with socket.create_connection(tls_server, timeout=TIMEOUT):  # never says hello
        with socket.create_connection(tls_server, timeout=TIMEOUT) as plain:
            plain.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            # The server may drop it (not TLS) before we half-close: ENOTCONN or a reset.
            with contextlib.suppress(OSError):
                plain.shutdown(socket.SHUT_WR)
                while plain.recv(1024):
                    pass
        with connect(tls_server, server_certificate, terraform, tmp_path) as tls:
            client = Client()
            tls.sendall(client.preface() + client.call(1, ECHO, b"ab"))
            assert read_answers(tls, 1)[1][1].payload == grpc_message(b"ba")


def test_a_call_waiting_in_the_pool_holds_up_no_inline_call(
    unix_server: str, handlers: Handlers
) -> None:
    client = Client()
    with unix_client(unix_server) as sock:
        sock.sendall(client.preface() + client.call(1, SLOW, b"a"))
        assert handlers.slow_started.wait(TIMEOUT)
        sock.sendall(client.call(3, ECHO, b"xy"))
        first = read_answers(sock, 1)
        assert list(first) == [3]  # answered while stream 1 still waits
        handlers.release.set()
        second = read_answers(sock, 1)
    assert second[1][1].payload == grpc_message(b"slow a")


def test_a_pooled_call_behind_busy_threads_gets_a_thread_of_its_own(
    handlers: Handlers, workdir: Path
) -> None:
    server = make_server(handlers, max_workers=EAGER + 1)
    path = str(workdir / "grpc.sock")
    server.listen_unix(path)
    client = Client()
    try:
        with unix_client(path) as sock:
            slow = [client.call(1 + 2 * n, SLOW, b"s") for n in range(EAGER)]
            sock.sendall(client.preface() + b"".join(slow))
            deadline = time.monotonic() + TIMEOUT
            while len(handlers.slow_calls) < EAGER:  # every eager thread is busy
                assert time.monotonic() < deadline
                time.sleep(0.005)
            stream = 1 + 2 * EAGER
            started = time.monotonic()
            sock.sendall(client.call(stream, POOLED_ECHO, b"xy"))
            answered = read_answers(sock, 1)
            waited = time.monotonic() - started
            assert list(answered) == [stream]  # while the slow calls still wait
            assert answered[stream][1].payload == grpc_message(b"yx")
            assert waited >= GROW_AFTER  # it waited for a thread, then one started for it
            handlers.release.set()
            assert sorted(read_answers(sock, EAGER)) == [1 + 2 * n for n in range(EAGER)]
    finally:
        handlers.release.set()
        server.stop()


def test_grpcios_client_calls_unary_and_streaming_methods(unix_server: str) -> None:
    with grpc.insecure_channel(f"unix:{unix_server}") as channel:
        reverse = channel.unary_unary(ECHO, None, None)
        assert reverse(b"grpcio", timeout=TIMEOUT) == b"oicprg"
        big = bytes(range(256)) * 1000  # several frames and window updates each way
        assert reverse(big, timeout=TIMEOUT) == big[::-1]
        count = channel.unary_stream(COUNT, None, None)
        assert list(count(b"5", timeout=TIMEOUT)) == [b"0", b"1", b"2", b"3", b"4"]
        with pytest.raises(grpc.RpcError) as failed:
            list(count(b"3", timeout=TIMEOUT))
        assert failed.value.code() == grpc.StatusCode.UNKNOWN
        with pytest.raises(grpc.RpcError) as missing:
            channel.unary_unary("/test.Echo/Missing", None, None)(b"", timeout=TIMEOUT)
        assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_a_client_that_leaves_mid_call_harms_nobody(unix_server: str, handlers: Handlers) -> None:
    client = Client()
    with unix_client(unix_server) as sock:
        sock.sendall(client.preface() + client.call(1, SLOW, b"gone"))
        assert handlers.slow_started.wait(TIMEOUT)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):  # until the server has closed its end
            pass
    handlers.release.set()  # its answer now has nowhere to go
    with grpc.insecure_channel(f"unix:{unix_server}") as channel:
        assert channel.unary_unary(ECHO, None, None)(b"12", timeout=TIMEOUT) == b"21"
        # The pool's one thread is free again: the late answer did not keep it.
        assert channel.unary_unary(SLOW, None, None)(b"next", timeout=TIMEOUT) == b"slow next"


def test_stop_drops_connections_and_stops_listening(handlers: Handlers, workdir: Path) -> None:
    server = make_server(handlers)
    path = str(workdir / "grpc.sock")
    server.listen_unix(path)
    with unix_client(path) as sock:
        server.stop()
        server.stop()  # idempotent
        with contextlib.suppress(ConnectionError):
            while sock.recv(65536):  # our SETTINGS may come first; then the end
                pass
    with socket.socket(socket.AF_UNIX) as late, pytest.raises(ConnectionRefusedError):
        late.connect(path)


def test_stop_while_a_connections_thread_is_being_started(
    handlers: Handlers, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starting = threading.Event()

    class LateStart(threading.Thread):
        def start(self) -> None:
            if self.name.startswith("conn-"):
                starting.set()
                time.sleep(0.2)  # the accepting thread, descheduled just before start()
            super().start()

    monkeypatch.setattr(threading, "Thread", LateStart)
    server = make_server(handlers)
    path = str(workdir / "grpc.sock")
    server.listen_unix(path)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        assert starting.wait(TIMEOUT)
        server.stop()  # joined a thread not yet started: RuntimeError


def test_stop_drops_a_client_that_never_finishes_its_tls_handshake(
    handlers: Handlers, server_certificate: ServerCertificate, terraform: Identity, workdir: Path
) -> None:
    server = make_server(handlers)
    address = server.listen_tls(
        server_context(server_certificate, terraform.cert_pem.decode(), workdir)
    )
    with socket.create_connection(address, timeout=TIMEOUT) as idle:
        time.sleep(0.1)  # its thread now waits for a ClientHello
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2.0  # not the 10 s handshake timeout
        assert idle.recv(1) == b""


def test_connections_leave_no_file_descriptors_behind(
    tls_server: tuple[str, int],
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
) -> None:
    def open_descriptors(at_most: int) -> int:
        """The process's descriptors, once the connection threads have closed theirs."""
        deadline = time.monotonic() + TIMEOUT
        while (count := len(os.listdir("/proc/self/fd"))) > at_most:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return count

    baseline = open_descriptors(10**6)
    for n in range(200):
        if n % 4 == 0:  # a call and its answer
            with connect(tls_server, server_certificate, terraform, tmp_path) as tls:
                client = Client()
                tls.sendall(client.preface() + client.call(1, ECHO, b"ab"))
                read_answers(tls, 1)
        elif n % 4 == 1:  # gone before its hello
            socket.create_connection(tls_server, timeout=TIMEOUT).close()
        elif n % 4 == 2:  # not TLS at all
            with socket.create_connection(tls_server, timeout=TIMEOUT) as plain:
                plain.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        else:  # TLS, then bytes that are not HTTP/2
            with connect(tls_server, server_certificate, terraform, tmp_path) as tls:
                tls.sendall(b"GET / HTTP/1.1\r\n\r\n")
    assert open_descriptors(baseline) <= baseline


def test_logs_name_the_tls_version_and_no_certificate_material(
    tls_server: tuple[str, int],
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider.plugin.server")
    assert_refused(tls_server, server_certificate, make_identity(ec.SECP521R1()), tmp_path)
    with connect(tls_server, server_certificate, terraform, tmp_path) as tls:
        client = Client()
        tls.sendall(client.preface() + client.call(1, ECHO, b"x"))
        read_answers(tls, 1)
    messages = [r.getMessage() for r in caplog.records]
    assert any("handshake failed" in m for m in messages)
    assert [m for m in messages if "TLSv1.3, alpn h2" in m], messages  # the accepted client
    assert [r.tcp_nodelay for r in caplog.records if hasattr(r, "tcp_nodelay")] == [1]
    assert "BEGIN" not in caplog.text
    assert "HashiCorp" not in caplog.text


class FlakyListener:
    """accept() fails as an exhausted process's would, then hands over a connection, then
    fails as a listener that stop() shut down."""

    def __init__(self, sock: socket.socket) -> None:
        self.outcomes: list[socket.socket | OSError] = [
            OSError(errno.EMFILE, "Too many open files"),
            OSError(errno.ECONNABORTED, "Software caused connection abort"),
            sock,
            OSError(errno.EINVAL, "Invalid argument"),
        ]

    def accept(self) -> tuple[socket.socket, str]:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, OSError):
            raise outcome
        return outcome, ""


def test_a_failed_accept_leaves_the_server_accepting(handlers: Handlers) -> None:
    server = make_server(handlers)
    ours, theirs = socket.socketpair()
    listener = FlakyListener(ours)
    accepting = threading.Thread(target=server._accept_forever, args=(listener, None))
    accepting.start()
    accepting.join(TIMEOUT)
    try:
        assert not accepting.is_alive()  # it returned on EINVAL, as after stop()
        assert listener.outcomes == []
        client = Client()
        theirs.settimeout(TIMEOUT)
        theirs.sendall(client.preface() + client.call(1, ECHO, b"ok"))
        assert read_answers(theirs, 1)[1][1].payload == grpc_message(b"ko")
    finally:
        theirs.close()
        server.stop()
