"""Run an ASGI app under uvicorn: in the foreground (the CLI) or on a background thread.

The listening socket is bound *before* uvicorn starts, so the real port of ``port=0`` is
known at once and connections made before uvicorn is ready simply wait in the backlog.

>>> with EmulatorServer(token="t", apps=[("my-org", "my-app")]) as emulator:
...     client = HumanitecClient(emulator.url, "my-org", "t")
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from provider.emulator.app import DEFAULT_USER_ID, create_app
from provider.emulator.controls import DEFAULT_DEPLOY_DURATION
from provider.emulator.delivery import DeliverySettings, Dispatcher
from provider.emulator.store import WebhookStore

__all__ = ["BackgroundServer", "EmulatorServer", "bind_socket", "make_server", "url_for"]

STARTUP_TIMEOUT = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0 picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # IPPROTO_TCP, and without it every keep-alive response stalls 40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def url_for(sock: socket.socket) -> str:
    """``http://host:port`` for a bound socket, IPv6 hosts in brackets."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(app: ASGIApp, *, access_log: bool = False) -> uvicorn.Server:
    """A uvicorn server that leaves logging configuration alone (no dictConfig).

    httptools and uvloop, not h11 and asyncio's loop: 0.19 ms of CPU per GET instead of
    0.42 (``bench.py``'s emulator row, runs of 3 December 09:02 and 11:57), and the emulator
    runs on the same two cores as the Terraform and provider processes it serves.
    """
    config = uvicorn.Config(
        app,
        http="httptools",
        loop="uvloop",
        lifespan="off",
        log_config=None,
        access_log=access_log,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


class BackgroundServer:
    """Serves an ASGI app on a background thread; a context manager.

    ``url`` is valid from construction. ``stop()`` (or leaving the ``with`` block) waits
    for uvicorn to finish, so no socket or thread outlives it.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = bind_socket(host, port)
        self.url = url_for(self._socket)
        self._server = make_server(app)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"uvicorn {self.url}",
            daemon=True,
        )

    def start(self) -> None:
        """Start serving; returns once uvicorn accepts connections."""
        self._thread.start()
        give_up = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > give_up:
                self.stop()
                raise RuntimeError(f"server at {self.url} failed to start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread; idempotent."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class EmulatorServer(BackgroundServer):
    """The Humanitec emulator on ``127.0.0.1:<free port>``, for tests and the demo.

    Attributes: ``url`` (the API prefix to give the provider), ``store`` (inspect or seed
    it directly), ``token``, ``dispatcher`` (its ``log`` holds every delivery attempt,
    its ``background.wait_idle()`` waits for the deliveries under way). ``delivery``
    and ``deploy_duration`` shape deliveries and deployments (tests shorten them).
    """

    def __init__(
        self,
        *,
        token: str,
        apps: Iterable[tuple[str, str]] = (),
        store: WebhookStore | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        user_id: str = DEFAULT_USER_ID,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        delivery: DeliverySettings | None = None,
        deploy_duration: float = DEFAULT_DEPLOY_DURATION,
    ) -> None:
        self.store = WebhookStore() if store is None else store
        self.token = token
        for org_id, app_id in apps:
            self.store.ensure_app(org_id, app_id)
        self.dispatcher = Dispatcher(self.store, delivery)
        app = create_app(
            self.store,
            token,
            user_id=user_id,
            clock=clock,
            dispatcher=self.dispatcher,
            deploy_duration=deploy_duration,
        )
        super().__init__(app, host=host, port=port)

    def stop(self) -> None:
        """Stop serving, then stop the deliveries and deployments still under way."""
        super().stop()
        self.dispatcher.background.close()
