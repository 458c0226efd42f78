from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from provider.api import HumanitecClient
from provider.emulator import BackgroundServer, EmulatorServer
from tests.api.scripted import ScriptedApp

TOKEN = "s3cr3t-token-value"
ORG = "test-org"
APP = "test-app"

ClientFactory = Callable[..., HumanitecClient]


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx honours proxy variables; a proxy must not sit between tests and loopback servers.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(token=TOKEN, apps=[(ORG, APP), (ORG, "other-app")]) as server:
        yield server


@pytest.fixture(scope="session")
def _scripted_server() -> Iterator[tuple[BackgroundServer, ScriptedApp]]:
    app = ScriptedApp()
    with BackgroundServer(app) as server:
        yield server, app


@pytest.fixture
def scripted(_scripted_server: tuple[BackgroundServer, ScriptedApp]) -> ScriptedApp:
    app = _scripted_server[1]
    app.script()
    return app


@pytest.fixture
def scripted_url(_scripted_server: tuple[BackgroundServer, ScriptedApp]) -> str:
    return _scripted_server[0].url


@pytest.fixture
def sleeps() -> list[float]:
    """The retry waits a client asked for (it never really sleeps)."""
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[ClientFactory]:
    """Builds clients that record their waits instead of sleeping; closes them afterwards."""
    clients: list[HumanitecClient] = []

    def make(url: str, **options: Any) -> HumanitecClient:
        options.setdefault("sleep", sleeps.append)
        options.setdefault("random", lambda: 0.5)
        options.setdefault("verify_tls", False)  # loopback is plain HTTP; saves the CA load
        client = HumanitecClient(
            url, options.pop("org_id", ORG), options.pop("token", TOKEN), **options
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(emulator: EmulatorServer, make_client: ClientFactory) -> HumanitecClient:
    return make_client(emulator.url)
