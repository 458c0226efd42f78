"""The mutual-TLS terminator, with real sockets: a unix backend behind, TLS clients in front."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provider.plugin._certificate import ServerCertificate
from provider.plugin._tls import MutualTLSProxy
from tests.goplugin import Identity, make_identity

TIMEOUT = 5.0
Address = tuple[str, int]


class EchoBackend(socketserver.ThreadingUnixStreamServer):
    """Plain unix echo server that remembers what reached it."""

    daemon_threads = True
    request_queue_size = 128  # the default of 5 refuses concurrent clients' backend connections

    def __init__(self, path: Path) -> None:
        self.received: list[bytes] = []
        self.connections = 0
        super().__init__(str(path), EchoHandler)


class EchoHandler(socketserver.BaseRequestHandler):
    server: EchoBackend

    def handle(self) -> None:
        self.server.connections += 1
        self.request.settimeout(TIMEOUT)
        while data := self.request.recv(65536):
            self.server.received.append(data)
            self.request.sendall(data)


@pytest.fixture
def backend(workdir: Path) -> Iterator[EchoBackend]:
    server = EchoBackend(workdir / "backend.sock")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT)


def start_proxy(
    server_certificate: ServerCertificate, trusted: Identity, backend: str, workdir: Path
) -> tuple[MutualTLSProxy, Address]:
    proxy = MutualTLSProxy(
        server_certificate=server_certificate,
        client_certificate_pem=trusted.cert_pem.decode(),
        backend=backend,
        workdir=workdir,
    )
    return proxy, proxy.start()


@pytest.fixture
def proxy(
    server_certificate: ServerCertificate, terraform: Identity, backend: EchoBackend, workdir: Path
) -> Iterator[Address]:
    proxy, address = start_proxy(
        server_certificate, terraform, str(workdir / "backend.sock"), workdir
    )
    yield address
    proxy.close()


def connect(
    address: Address,
    server_certificate: ServerCertificate,
    client: Identity | None,
    tmp: Path,
    *,
    version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> ssl.SSLSocket:
    """A TLS client that trusts only the DER handed out in the handshake line, like go-plugin."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and "localhost"
    context.maximum_version = version
    context.load_verify_locations(cadata=server_certificate.der)
    context.set_alpn_protocols(["h2"])
    if client is not None:
        identity_file = tmp / "client.pem"
        identity_file.write_bytes(client.cert_pem + client.key_pem)
        context.load_cert_chain(identity_file)
        identity_file.unlink()
    raw = socket.create_connection(address, timeout=TIMEOUT)
    try:
        return context.wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise


def round_trip(tls: socket.socket, payload: bytes) -> bytes:
    tls.sendall(payload)
    received = b""
    while len(received) < len(payload) and (chunk := tls.recv(65536)):
        received += chunk
    return received


def assert_refused(
    address: Address, server_certificate: ServerCertificate, client: Identity | None, tmp: Path
) -> None:
    """The proxy must end the connection (alert or close) promptly; a timeout is a failure."""
    try:
        with connect(address, server_certificate, client, tmp) as tls:
            # TLS 1.3: the client finishes first; the server's verdict arrives with the next read.
            tls.sendall(b"should never reach the backend")
            data = tls.recv(1024)
    except TimeoutError:
        pytest.fail("the proxy neither refused nor answered the connection")
    except (ssl.SSLError, ConnectionError):
        return
    assert data == b""


@pytest.mark.parametrize(
    ("version", "expected"),
    [(ssl.TLSVersion.MAXIMUM_SUPPORTED, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")],
    ids=["tls1.3", "tls1.2"],
)
def test_terraform_certificate_completes_tls_with_h2_and_round_trips(
    version: ssl.TLSVersion,
    expected: str,
    proxy: Address,
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
) -> None:
    with connect(proxy, server_certificate, terraform, tmp_path, version=version) as tls:
        assert tls.version() == expected
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.getpeercert(binary_form=True) == server_certificate.der
        assert round_trip(tls, b"ping") == b"ping"
        payload = bytes(range(256)) * 4096  # 1 MiB, several TLS records and pipe chunks
        assert round_trip(tls, payload) == payload


def test_client_without_certificate_is_refused(
    proxy: Address, server_certificate: ServerCertificate, backend: EchoBackend, tmp_path: Path
) -> None:
    assert_refused(proxy, server_certificate, None, tmp_path)

    assert backend.connections == 0
    assert backend.received == []


def test_client_with_another_p521_certificate_is_refused(
    proxy: Address, server_certificate: ServerCertificate, backend: EchoBackend, tmp_path: Path
) -> None:
    impostor = make_identity(ec.SECP521R1())

    assert_refused(proxy, server_certificate, impostor, tmp_path)

    assert backend.connections == 0
    assert backend.received == []


@pytest.mark.parametrize(
    "garbage",
    [b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b""],
    ids=["http1", "cleartext-h2-preface", "connect-and-close"],
)
def test_plain_tcp_client_is_dropped_and_the_next_client_is_served(
    garbage: bytes,
    proxy: Address,
    server_certificate: ServerCertificate,
    terraform: Identity,
    backend: EchoBackend,
    tmp_path: Path,
) -> None:
    with socket.create_connection(proxy, timeout=TIMEOUT) as plain:
        plain.sendall(garbage)
        plain.shutdown(socket.SHUT_WR)
        try:
            while plain.recv(1024):  # perhaps an alert, then EOF; a timeout fails the test
                pass
        except ConnectionResetError:
            pass

    with connect(proxy, server_certificate, terraform, tmp_path) as tls:
        assert round_trip(tls, b"still serving") == b"still serving"
    assert backend.received == [b"still serving"]


def test_many_concurrent_clients_are_piped_independently(
    proxy: Address, server_certificate: ServerCertificate, terraform: Identity, tmp_path: Path
) -> None:
    def one_client(n: int) -> bytes:
        workdir = tmp_path / str(n)
        workdir.mkdir()
        with connect(proxy, server_certificate, terraform, workdir) as tls:
            return round_trip(tls, f"client {n} ".encode() * 1000)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one_client, range(32), timeout=TIMEOUT * 4))

    assert results == [f"client {n} ".encode() * 1000 for n in range(32)]


def test_key_material_is_removed_from_workdir_after_start(
    server_certificate: ServerCertificate, terraform: Identity, workdir: Path
) -> None:
    proxy, _ = start_proxy(server_certificate, terraform, str(workdir / "absent.sock"), workdir)
    try:
        assert list(workdir.iterdir()) == []
    finally:
        proxy.close()


def test_accepted_sockets_have_tcp_nodelay(
    proxy: Address,
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider.plugin.tls")

    with connect(proxy, server_certificate, terraform, tmp_path) as tls:
        assert round_trip(tls, b"x") == b"x"

    # The proxy reads the option back from the accepted socket with getsockopt() and logs it.
    values = [r.tcp_nodelay for r in caplog.records if hasattr(r, "tcp_nodelay")]
    assert values
    assert all(values)


def test_logs_do_not_contain_certificate_material(
    proxy: Address,
    server_certificate: ServerCertificate,
    terraform: Identity,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider.plugin.tls")
    impostor = make_identity(ec.SECP521R1())

    assert_refused(proxy, server_certificate, impostor, tmp_path)
    with connect(proxy, server_certificate, terraform, tmp_path) as tls:
        round_trip(tls, b"x")

    assert any("handshake failed" in r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name.startswith("provider"))
    text = caplog.text
    assert "BEGIN" not in text
    assert "HashiCorp" not in text


def test_close_drops_open_connections_and_stops_listening(
    server_certificate: ServerCertificate,
    terraform: Identity,
    backend: EchoBackend,
    workdir: Path,
    tmp_path: Path,
) -> None:
    proxy, address = start_proxy(
        server_certificate, terraform, str(workdir / "backend.sock"), workdir
    )
    with connect(address, server_certificate, terraform, tmp_path) as tls:
        assert round_trip(tls, b"x") == b"x"
        proxy.close()
        proxy.close()  # idempotent
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            assert tls.recv(1) == b""

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=TIMEOUT).close()


def test_idle_client_blocks_nobody_and_is_dropped_on_close(
    server_certificate: ServerCertificate,
    terraform: Identity,
    backend: EchoBackend,
    workdir: Path,
    tmp_path: Path,
) -> None:
    proxy, address = start_proxy(
        server_certificate, terraform, str(workdir / "backend.sock"), workdir
    )
    with socket.create_connection(address, timeout=TIMEOUT) as idle:  # never sends a ClientHello
        with connect(address, server_certificate, terraform, tmp_path) as tls:
            assert round_trip(tls, b"x") == b"x"
        proxy.close()
        with contextlib.suppress(ConnectionResetError):
            assert idle.recv(1) == b""


def test_unreachable_backend_closes_the_client(
    server_certificate: ServerCertificate,
    terraform: Identity,
    workdir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider.plugin.tls")
    proxy, address = start_proxy(
        server_certificate, terraform, str(workdir / "absent.sock"), workdir
    )
    try:
        with (
            connect(address, server_certificate, terraform, tmp_path) as tls,
            contextlib.suppress(ssl.SSLError, ConnectionError),
        ):
            assert round_trip(tls, b"x") == b""
    finally:
        proxy.close()
    assert any("backend unreachable" in r.getMessage() for r in caplog.records)


def test_start_fails_without_a_client_certificate(
    server_certificate: ServerCertificate, workdir: Path
) -> None:
    proxy = MutualTLSProxy(
        server_certificate=server_certificate,
        client_certificate_pem="not a certificate",
        backend=str(workdir / "backend.sock"),
        workdir=workdir,
    )
    with pytest.raises(ssl.SSLError):
        proxy.start()
    assert list(workdir.iterdir()) == []


def test_grpc_call_through_the_proxy(
    server_certificate: ServerCertificate, workdir: Path, tmp_path: Path
) -> None:
    # grpcio's client cannot present P-521 (the very reason for the proxy), so here the trusted
    # client certificate is P-256; the TLS path is otherwise the one Terraform takes.
    client = make_identity(ec.SECP256R1())
    socket_path = workdir / "grpc.sock"
    executor = ThreadPoolExecutor(max_workers=2)
    server = grpc.server(executor)

    def reverse_bytes(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request[::-1]

    echo = grpc.unary_unary_rpc_method_handler(reverse_bytes)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.Echo", {"Reverse": echo}),)
    )
    server.add_insecure_port(f"unix:{socket_path}")
    server.start()
    proxy, (host, port) = start_proxy(server_certificate, client, str(socket_path), workdir)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=server_certificate.cert_pem,
        private_key=client.key_pem,
        certificate_chain=client.cert_pem,
    )
    options = [("grpc.ssl_target_name_override", "localhost"), ("grpc.enable_http_proxy", 0)]
    try:
        with grpc.secure_channel(f"{host}:{port}", credentials, options) as channel:
            reverse = channel.unary_unary(
                "/test.Echo/Reverse", request_serializer=None, response_deserializer=None
            )
            assert reverse(b"terraform", timeout=TIMEOUT) == b"mrofarret"
            assert reverse(b"x" * 100_000, timeout=TIMEOUT) == b"x" * 100_000
    finally:
        proxy.close()
        server.stop(None).wait(TIMEOUT)
        executor.shutdown()
