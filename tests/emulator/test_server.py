"""EmulatorServer: a real server on a free loopback port, cleanly stopped."""

from __future__ import annotations

import socket

import httpx
import pytest

from provider.emulator import EmulatorServer, WebhookStore


def test_serves_its_store_at_its_url() -> None:
    store = WebhookStore()
    with EmulatorServer(token="t", apps=[("o", "a")], store=store) as server:
        assert server.store is store
        assert server.url.startswith("http://127.0.0.1:")
        response = httpx.get(
            f"{server.url}/orgs/o/apps/a", headers={"Authorization": "Bearer t"}, trust_env=False
        )
        assert response.json()["id"] == "a"


def test_stop_closes_the_port_and_is_idempotent() -> None:
    server = EmulatorServer(token="t")
    with server:
        port = int(server.url.rsplit(":", 1)[1])
    server.stop()
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
