"""WebhookListResource against the emulator, and a scripted server for failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provider.api import EventBaseRequest, HumanitecClient, WebhookRequest
from provider.emulator import BackgroundServer, EmulatorServer
from provider.plugin.resource import ListRequest, ListResult
from provider.webhook_list import WebhookListResource
from tests.api.scripted import Reply, ScriptedApp

from .test_webhook import APP, ORG, TOKEN, Source, client_for


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(token=TOKEN, apps=[(ORG, APP)]) as server:
        yield server


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[HumanitecClient]:
    with client_for(emulator.url) as client:
        for webhook_id in ("one", "two", "three"):
            client.create_webhook(APP, request(webhook_id))
        yield client
        for webhook_id in ("one", "two", "three"):
            client.delete_webhook(APP, webhook_id)


def request(webhook_id: str) -> WebhookRequest:
    return WebhookRequest(
        id=webhook_id,
        url=f"https://example.com/{webhook_id}",
        payload={"deploy": "${deploy_id}"},
        triggers=[EventBaseRequest(scope="deployment", type="finished")],
    )


def listed(client: HumanitecClient, app_id: str = APP, limit: int = 100) -> list[ListResult]:
    lister = WebhookListResource(Source(client))
    return list(lister.list(ListRequest({"app_id": app_id}, True, limit)))


def test_lists_each_webhook_as_an_import_would_read_it(client: HumanitecClient) -> None:
    results = listed(client)
    assert [r.display_name for r in results] == [f"{APP}/one", f"{APP}/two", f"{APP}/three"]
    assert all(list(r.diagnostics) == [] for r in results)
    assert results[0].state == {
        "id": "one",
        "app_id": APP,
        "url": "https://example.com/one",
        "disabled": False,
        "headers": {},
        "payload": {"deploy": "${deploy_id}"},
        "triggers": [{"scope": "deployment", "type": "finished"}],
        "secret_headers_wo": None,
        "secret_headers_wo_version": None,
    }


def test_stops_at_the_limit(client: HumanitecClient) -> None:
    assert [r.display_name for r in listed(client, limit=2)] == [f"{APP}/one", f"{APP}/two"]


def test_missing_application_is_one_error_result(client: HumanitecClient) -> None:
    (result,) = listed(client, app_id="no-such-app")
    assert result.state is None
    assert [d.summary for d in result.diagnostics] == ["Application Not Found"]


def test_api_failure_is_one_error_result() -> None:
    app = ScriptedApp()
    app.script(Reply(500, {"message": "down"}))
    with BackgroundServer(app) as server, client_for(server.url) as client:
        (result,) = listed(client)
    assert result.state is None
    assert [d.summary for d in result.diagnostics] == ["Humanitec API Error"]
