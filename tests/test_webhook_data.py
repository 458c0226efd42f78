"""The webhook data sources against real HTTP: the emulator, and a scripted server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from provider.api import EventBaseRequest, HumanitecClient, WebhookRequest
from provider.emulator import BackgroundServer, EmulatorServer
from provider.plugin.diagnostics import DiagnosticError, Diagnostics, MapKey, Severity
from provider.plugin.resource import DataReadRequest, State
from provider.plugin.schema import Attribute
from provider.webhook_data import (
    WEBHOOK_SCHEMA,
    WEBHOOKS_SCHEMA,
    WebhookDataSource,
    WebhooksDataSource,
)
from tests.api.scripted import Reply, ScriptedApp
from tests.test_webhook import Source, client_for

TOKEN = "webhook-test-token"
ORG = "org"
APP = "app"
EMPTY_APP = "empty-app"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(token=TOKEN, apps=[(ORG, APP), (ORG, EMPTY_APP)]) as server:
        yield server


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[HumanitecClient]:
    with client_for(emulator.url) as client:
        yield client


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[tuple[str, ScriptedApp]]:
    app = ScriptedApp()
    with BackgroundServer(app) as server:
        yield server.url, app


@pytest.fixture
def scripted(scripted_server: tuple[str, ScriptedApp]) -> Iterator[tuple[Source, ScriptedApp]]:
    url, app = scripted_server
    app.script()
    with client_for(url) as client:
        yield Source(client), app


def create(client: HumanitecClient, **fields: Any) -> str:
    """A new webhook in APP through the API; returns its (unique) id."""
    webhook_id = f"hook-{uuid.uuid4().hex[:8]}"
    request = WebhookRequest(
        id=webhook_id,
        url="https://example.com/hook",
        triggers=[EventBaseRequest(scope="deployment", type="started")],
        **fields,
    )
    client.create_webhook(APP, request)
    return webhook_id


def read_one(source: Source, app_id: str, webhook_id: str, diags: Diagnostics) -> Any:
    config: State = {name: None for name in WEBHOOK_SCHEMA.attributes}
    config.update(app_id=app_id, id=webhook_id)
    response = WebhookDataSource(source).read(DataReadRequest(config))
    diags.extend(response.diagnostics)
    return response.state


def read_all(source: Source, app_id: str, diags: Diagnostics) -> Any:
    config: State = {"app_id": app_id, "webhooks": None}
    response = WebhooksDataSource(source).read(DataReadRequest(config))
    diags.extend(response.diagnostics)
    return response.state


def errors(diags: Diagnostics) -> list[tuple[str, str]]:
    return [(d.summary, d.detail) for d in diags if d.severity == Severity.ERROR]


def test_one_webhook_shows_what_humanitec_holds(client: HumanitecClient) -> None:
    webhook_id = create(client, payload={"app": "${app_id}"}, disabled=True)
    diags = Diagnostics()
    assert read_one(Source(client), APP, webhook_id, diags) == {
        "id": webhook_id,
        "app_id": APP,
        "url": "https://example.com/hook",
        "disabled": True,
        "headers": {},  # none held: {} as the resource shows it
        "payload": {"app": "${app_id}"},
        "triggers": [{"scope": "deployment", "type": "started"}],
    }
    assert list(diags) == []


def test_a_missing_webhook_is_an_error_naming_id_and_application(client: HumanitecClient) -> None:
    diags = Diagnostics()
    assert read_one(Source(client), APP, "no-such-hook", diags) is None
    [(summary, detail)] = errors(diags)
    assert summary == "Webhook Not Found"
    assert "'no-such-hook'" in detail
    assert f"{APP!r}" in detail


@pytest.mark.parametrize("which", ["one", "all"])
def test_a_missing_application_is_an_error_naming_it(client: HumanitecClient, which: str) -> None:
    diags = Diagnostics()
    if which == "one":
        assert read_one(Source(client), "no-such-app", "hook", diags) is None
    else:
        assert read_all(Source(client), "no-such-app", diags) is None
    [(summary, detail)] = errors(diags)
    assert summary == "Application Not Found"
    assert "'no-such-app'" in detail


def test_all_webhooks_of_an_application_sorted_by_id(client: HumanitecClient) -> None:
    ids = sorted(create(client, headers={"X-N": str(n)}) for n in range(3))
    diags = Diagnostics()
    state = read_all(Source(client), APP, diags)
    assert list(diags) == []
    listed = [w for w in state["webhooks"] if w["id"] in ids]
    assert [w["id"] for w in listed] == ids
    assert all(w["payload"] is None and w["url"] for w in listed)
    assert {w["headers"]["X-N"] for w in listed} == {"0", "1", "2"}


def test_an_application_without_webhooks_lists_none(client: HumanitecClient) -> None:
    diags = Diagnostics()
    assert read_all(Source(client), EMPTY_APP, diags) == {"app_id": EMPTY_APP, "webhooks": []}
    assert list(diags) == []


def test_non_string_values_are_json_text_with_a_warning_at_their_path(
    scripted: tuple[Source, ScriptedApp],
) -> None:
    source, app = scripted
    hook = {"id": "h", "url": "https://x.example", "triggers": [], "headers": {"X-N": 5}}
    app.script(Reply(200, [hook]))
    diags = Diagnostics()
    state = read_all(source, APP, diags)
    assert state["webhooks"][0]["headers"] == {"X-N": "5"}
    [warning] = diags
    assert warning.severity == Severity.WARNING
    assert warning.path == ("webhooks", 0, "headers", MapKey("X-N"))
    assert "apply" not in warning.detail  # a data source applies nothing


def test_an_answer_about_another_webhook_is_refused(scripted: tuple[Source, ScriptedApp]) -> None:
    source, app = scripted
    app.script(Reply(200, {"id": "stranger", "url": "https://x.example", "triggers": []}))
    with pytest.raises(DiagnosticError, match="stranger"):
        read_one(source, APP, "mine", Diagnostics())


def test_api_errors_are_reported(scripted: tuple[Source, ScriptedApp]) -> None:
    source, app = scripted
    app.script(Reply(403, {"error": "API-403", "message": "forbidden"}))
    diags = Diagnostics()
    assert read_all(source, APP, diags) is None
    assert [s for s, _ in errors(diags)] == ["Humanitec API Error"]


def sensitive(attributes: Mapping[str, Attribute]) -> list[str]:
    found = [name for name, a in attributes.items() if a.sensitive]
    for a in attributes.values():
        if a.nested is not None:
            found += sensitive(a.nested.attributes)
    return found


def test_no_attribute_is_sensitive_so_outputs_need_no_sensitive_flag() -> None:
    assert sensitive(WEBHOOK_SCHEMA.attributes) == []
    assert sensitive(WEBHOOKS_SCHEMA.attributes) == []
