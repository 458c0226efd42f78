"""Serve a Provider to Terraform: go-plugin handshake, mutual TLS, lifecycle.

Launched by Terraform (3-5 times per command), the process:

1. picks protocol 6 from ``PLUGIN_PROTOCOL_VERSIONS`` (a set, in any order);
2. serves gRPC with mutual TLS on an ephemeral port of 127.0.0.1 with the stdlib ``ssl``
   module, requiring and verifying Terraform's client certificate (``PLUGIN_CLIENT_CERT``,
   ECDSA P-521): by default on the native server (:mod:`._native`, HTTP/2 in
   :mod:`._h2`), which answers an RPC for a third of grpcio's CPU and spares a launch
   ``import grpc``; with ``HUMANITEC_PROVIDER_SERVER=grpcio``, on grpcio listening on a unix
   socket in a private 0700 directory behind a TLS terminator (:mod:`._tls`), since
   grpcio's BoringSSL cannot verify a P-521 client certificate;
3. prints the handshake line ``1|6|tcp|127.0.0.1:PORT|grpc|<cert>`` and
   flushes it (stdout is a pipe: unflushed, Terraform waits 60 s);
4. exits at once on ``GRPCController.Shutdown`` (else Terraform waits 2 s
   before SIGKILL), or when Terraform itself is gone.

Without ``PLUGIN_CLIENT_CERT`` (Terraform with ``TF_DISABLE_PLUGIN_TLS``) it serves plaintext
on a unix socket in that private directory.

SIGINT is ignored: on Ctrl-C Terraform signals the whole process group and
then drives cancellation through ``StopProvider``; dying mid-apply would
orphan a webhook that Terraform never records.

``serve_debug`` runs one long-lived plaintext server for ``TF_REATTACH_PROVIDERS``,
which stops on the same triggers, and on SIGINT and SIGTERM.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._proto import grpc_controller_pb2
from .cookie import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, launched_by_terraform
from .log import configure_logging
from .resource import Provider
from .rpc import StreamHandler, UnaryHandler
from .servicer import ProviderServicer

if TYPE_CHECKING:
    import grpc

    from ._certificate import ServerCertificate
    from ._native import NativeServer

__all__ = [
    "MAGIC_COOKIE_KEY",
    "MAGIC_COOKIE_VALUE",
    "HandshakeError",
    "grpc_server",
    "handshake_line",
    "launched_by_terraform",
    "negotiate_protocol",
    "serve",
    "serve_debug",
]

logger = logging.getLogger("provider.plugin")

CORE_PROTOCOL_VERSION = 1
PROTOCOL_VERSION = 6
MAX_WORKERS = 64  # >= Terraform's -parallelism; the executor default is 6 on 2 cores
MAX_MESSAGE_BYTES = 256 << 20  # as terraform-plugin-go; grpcio's default is 4 MiB
_DIR_PREFIX = "terraform-provider-humanitec-"
_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
_DEBUG_GRACE_SECONDS = 1.0
# "grpcio": serve with grpcio behind the TLS terminator instead of the native server.
SERVER_VARIABLE = "HUMANITEC_PROVIDER_SERVER"
_PROVIDER = "/tfplugin6.Provider/"
_SHUTDOWN = "/plugin.GRPCController/Shutdown"


class HandshakeError(Exception):
    """Terraform and this provider cannot agree on how to talk."""


def negotiate_protocol(environ: Mapping[str, str] = os.environ) -> int:
    """Pick protocol 6 from the versions Terraform offers (order means nothing)."""
    offered = {v.strip() for v in environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",")}
    offered.discard("")
    if not offered or str(PROTOCOL_VERSION) in offered:
        return PROTOCOL_VERSION
    raise HandshakeError(
        f"Terraform offered plugin protocol versions {', '.join(sorted(offered))}, but this "
        f"provider speaks only version {PROTOCOL_VERSION}: use Terraform 1.0 or newer."
    )


def handshake_line(network: str, address: str, certificate_der: bytes | None) -> str:
    """go-plugin's handshake line; the certificate is unpadded standard base64 (Go's Raw)."""
    cert = base64.b64encode(certificate_der).decode().rstrip("=") if certificate_der else ""
    return f"{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{address}|grpc|{cert}\n"


def serve(make_provider: Callable[[], Provider], environ: Mapping[str, str] = os.environ) -> None:
    """Serve until Terraform shuts us down; never returns."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()
    parent = os.getppid()
    try:
        negotiate_protocol(environ)
    except HandshakeError as exc:
        sys.stderr.write(f"terraform-provider-humanitec: {exc}\n")
        sys.exit(1)
    workdir = _private_dir()
    shutdown = threading.Event()
    try:
        # Keep ``stop`` referenced: it holds the server, and a collected grpc.Server stops.
        stop, line = _start(make_provider(), environ, workdir, shutdown)
        sys.stdout.write(line)
        sys.stdout.flush()
        _wait_for_shutdown(shutdown, parent)
        del stop
    except BaseException:
        logger.exception("provider server failed")
        _exit(workdir, 1)
    # No graceful drain: Terraform waits for this exit before it moves on.
    _exit(workdir, 0)


def serve_debug(make_provider: Callable[[], Provider], provider_address: str) -> NoReturn:
    """Serve in plaintext for TF_REATTACH_PROVIDERS; never returns.

    Stops as ``serve`` does (``GRPCController.Shutdown``, or the parent
    process exits) and on SIGINT or SIGTERM, giving in-flight calls a second.
    """
    # Block the stop signals before any thread exists, so that every thread
    # inherits the mask and only _stop_on_signals receives them. A Python
    # handler runs in the main thread only, and only wakes a blocking wait
    # when the kernel happened to deliver the signal to the main thread:
    # delivered to a gRPC thread, a handler setting an Event woke nothing.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    configure_logging()
    parent = os.getppid()
    workdir = _private_dir()
    shutdown = threading.Event()
    try:
        _stop_on_signals(shutdown)
        socket_path = workdir / "grpc.sock"
        stop = _start_plaintext(make_provider(), os.environ, socket_path, shutdown)
        reattach = {
            provider_address: {
                "Protocol": "grpc",
                "ProtocolVersion": PROTOCOL_VERSION,
                "Pid": os.getpid(),
                "Test": True,  # protocol 6 reattach needs it; Terraform then never kills us
                "Addr": {"Network": "unix", "String": str(socket_path)},
            }
        }
        sys.stdout.write(
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS "
            "environment variable with the following:\n\n"
            f"\tTF_REATTACH_PROVIDERS='{json.dumps(reattach, separators=(',', ':'))}'\n\n"
            "Stop the provider with Ctrl-C.\n"
        )
        sys.stdout.flush()
        _wait_for_shutdown(shutdown, parent)
        stop()
    except BaseException:
        logger.exception("provider server failed")
        _exit(workdir, 1)
    _exit(workdir, 0)


def _stop_on_signals(shutdown: threading.Event) -> None:
    """Turn a (blocked) SIGINT or SIGTERM into a shutdown, whichever thread it was sent to."""

    def wait() -> None:
        signum = signal.sigwait(_STOP_SIGNALS)
        logger.info("received %s; stopping", signal.Signals(signum).name)
        shutdown.set()

    threading.Thread(target=wait, name="stop-signals", daemon=True).start()


def _wait_for_shutdown(shutdown: threading.Event, parent: int) -> None:
    """Until Shutdown (or a stop signal) sets ``shutdown``, or the parent process is gone.

    The wait is bounded so the parent check runs; the Event still wakes it at once.
    """
    while not shutdown.wait(0.5):
        if os.getppid() != parent:
            logger.warning("the process that started the provider is gone; exiting")
            return


def _exit(workdir: Path, status: int) -> NoReturn:
    shutil.rmtree(workdir, ignore_errors=True)
    # os._exit: interpreter teardown would join the RPC worker threads, and
    # one stuck in a request would hold the exit hostage.
    os._exit(status)


def _start(
    provider: Provider, environ: Mapping[str, str], workdir: Path, shutdown: threading.Event
) -> tuple[Callable[[], object], str]:
    """Start serving; return what stops the server, and the handshake line."""
    client_cert = environ.get("PLUGIN_CLIENT_CERT", "")
    socket_path = workdir / "grpc.sock"
    if not client_cert:  # Terraform runs with TF_DISABLE_PLUGIN_TLS: plaintext and no cert
        stop = _start_plaintext(provider, environ, socket_path, shutdown)
        return stop, handshake_line("unix", str(socket_path), None)
    from ._certificate import make_server_certificate
    from ._tls_context import server_context

    certificate = make_server_certificate()
    if _wants_grpcio(environ):
        server = _start_grpc(provider, f"unix:{socket_path}", shutdown)
        line = _start_tls(certificate, client_cert, socket_path, workdir)
        return lambda: server.stop(None), line
    native = _native_server(provider, shutdown)
    host, port = native.listen_tls(server_context(certificate, client_cert, workdir))
    return native.stop, handshake_line("tcp", f"{host}:{port}", certificate.der)


def _start_plaintext(
    provider: Provider, environ: Mapping[str, str], socket_path: Path, shutdown: threading.Event
) -> Callable[[], object]:
    """Serve plaintext on a unix socket; return what stops the server (with a short grace)."""
    if _wants_grpcio(environ):
        server = _start_grpc(provider, f"unix:{socket_path}", shutdown)
        return lambda: server.stop(grace=_DEBUG_GRACE_SECONDS).wait(_DEBUG_GRACE_SECONDS + 1)
    native = _native_server(provider, shutdown)
    native.listen_unix(str(socket_path))
    return native.stop


def _wants_grpcio(environ: Mapping[str, str]) -> bool:
    return environ.get(SERVER_VARIABLE, "") == "grpcio"


def _routes(
    servicer: ProviderServicer, shutdown: threading.Event
) -> tuple[dict[str, UnaryHandler], dict[str, StreamHandler]]:
    """Every method either server serves, by gRPC path: unary, then server-streaming."""
    unary = {_PROVIDER + name: h for name, h in servicer.handlers().items()}
    unary[_SHUTDOWN] = _shutdown_handler(shutdown)
    streaming = {_PROVIDER + name: h for name, h in servicer.stream_handlers().items()}
    return unary, streaming


def _native_server(provider: Provider, shutdown: threading.Event) -> NativeServer:
    from ._native import NativeServer

    servicer = ProviderServicer(provider)
    unary, streaming = _routes(servicer, shutdown)

    def inline(path: str, request: bytes) -> bool:
        if path.startswith(_PROVIDER):
            return servicer.runs_inline(path.removeprefix(_PROVIDER), request)
        return path == _SHUTDOWN

    return NativeServer(
        unary,
        streaming,
        inline=inline,
        max_workers=MAX_WORKERS,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )


def grpc_server() -> grpc.Server:
    """A grpcio server as this provider sets one up (its pool, message limits), not started."""
    import grpc

    return grpc.server(
        ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="rpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
        maximum_concurrent_rpcs=None,
    )


def _start_grpc(provider: Provider, address: str, shutdown: threading.Event) -> grpc.Server:
    import grpc

    unary, streaming = _routes(ProviderServicer(provider), shutdown)
    services: dict[str, dict[str, grpc.RpcMethodHandler[bytes, bytes]]] = {}
    for routes, wrap in (
        (unary, grpc.unary_unary_rpc_method_handler),
        (streaming, grpc.unary_stream_rpc_method_handler),
    ):
        for path, handler in routes.items():
            service, method = path.removeprefix("/").split("/")
            services.setdefault(service, {})[method] = wrap(handler)
    server = grpc_server()
    server.add_generic_rpc_handlers(
        tuple(grpc.method_handlers_generic_handler(s, m) for s, m in services.items())
    )
    server.add_insecure_port(address)
    server.start()
    return server


def _shutdown_handler(shutdown: threading.Event) -> UnaryHandler:
    def handle(_raw: bytes, _context: Any) -> bytes:
        shutdown.set()
        return grpc_controller_pb2.Empty().SerializeToString()

    return handle


def _start_tls(
    certificate: ServerCertificate, client_cert_pem: str, backend: Path, workdir: Path
) -> str:
    from ._tls import MutualTLSProxy

    proxy = MutualTLSProxy(
        server_certificate=certificate,
        client_certificate_pem=client_cert_pem,
        backend=str(backend),
        workdir=workdir,
    )
    host, port = proxy.start()
    return handshake_line("tcp", f"{host}:{port}", certificate.der)


def _private_dir() -> Path:
    """A fresh 0700 directory for our sockets; also sweeps ones left by killed runs."""
    tmp = Path(tempfile.gettempdir())
    for stale in tmp.glob(f"{_DIR_PREFIX}*"):
        pid = stale.name.removeprefix(_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
