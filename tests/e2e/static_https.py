"""A static HTTPS file server on loopback, with a throwaway CA: a network mirror as hosted."""

from __future__ import annotations

import functools
import ssl
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from provider.emulator.receiver import ThrowawayCA


def write_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) for 127.0.0.1, signed by a CA made just now."""
    ca = ThrowawayCA("throwaway test CA")
    cert_pem, key_pem = ca.issue(("127.0.0.1",))
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    ca.write(paths[0])
    paths[1].write_bytes(cert_pem)
    paths[2].write_bytes(key_pem)
    return paths


class _QuietHandler(SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        self.requested.append(self.path)


class StaticHttpsServer:
    """Serves ``root`` read-only at ``url`` until the ``with`` block ends; records paths."""

    def __init__(self, root: Path, cert: Path, key: Path) -> None:
        self.requested: list[str] = []
        handler = type("Handler", (_QuietHandler,), {"requested": self.requested})
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
