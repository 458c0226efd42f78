"""HumanitecClient against the emulator and a scripted server, over real loopback HTTP."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable

import pytest

import provider
from provider.api import (
    ApiError,
    BadRequest,
    Conflict,
    EventBaseRequest,
    Forbidden,
    HumanitecClient,
    NotFound,
    TransportError,
    Unauthorized,
    WebhookRequest,
    WebhookResponse,
)
from provider.api.retry import DEFAULT_MAX_RETRIES
from provider.emulator import EmulatorServer
from tests.api.conftest import APP, ORG, TOKEN, ClientFactory
from tests.api.scripted import Reply, ScriptedApp

TRIGGER = EventBaseRequest(scope="environment", type="created")
HOOK_JSON = {
    "id": "my-hook",
    "disabled": False,
    "headers": {},
    "payload": None,
    "triggers": [{"scope": "environment", "type": "created"}],
    "url": "https://example.com",
}

ATTEMPTS = DEFAULT_MAX_RETRIES + 1
"""A call that fails to the end, with the default retries."""


def new_id() -> str:
    return f"hook-{uuid.uuid4().hex[:12]}"


def basic_request(hook_id: str, **fields: object) -> WebhookRequest:
    values: dict[str, object] = {
        "id": hook_id,
        "disabled": False,
        "headers": {},
        "triggers": [TRIGGER],
        "url": "https://example.com",
    }
    values.update(fields)
    return WebhookRequest.model_validate(values)


def test_crud_round_trip(client: HumanitecClient) -> None:
    hook_id = new_id()
    created = client.create_webhook(APP, basic_request(hook_id, payload={"app": "${app_id}"}))
    assert created.id == hook_id
    assert created.headers == {}
    assert created.payload == {"app": "${app_id}"}
    assert created.created_by
    assert created.created_at

    assert client.get_webhook(APP, hook_id) == created
    assert created in client.list_webhooks(APP)

    updated = client.update_webhook(
        APP, hook_id, basic_request(hook_id, url="https://example2.com", disabled=True)
    )
    assert (updated.url, updated.disabled, updated.payload) == ("https://example2.com", True, None)
    assert client.get_webhook(APP, hook_id).url == "https://example2.com"

    client.delete_webhook(APP, hook_id)
    with pytest.raises(NotFound):
        client.get_webhook(APP, hook_id)
    with pytest.raises(NotFound):
        client.delete_webhook(APP, hook_id)


def test_null_and_empty_maps_come_back_as_sent(client: HumanitecClient) -> None:
    hook_id = new_id()
    client.create_webhook(APP, basic_request(hook_id))
    hook = client.get_webhook(APP, hook_id)
    assert hook.headers == {}
    assert hook.payload is None


def test_non_string_map_values_are_not_coerced(client: HumanitecClient) -> None:
    hook_id = new_id()
    payload = {"n": 1, "b": True, "nested": {"x": [1, None]}}
    created = client.create_webhook(APP, basic_request(hook_id, payload=payload))
    assert created.payload == payload


def test_create_sends_the_go_provider_body(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(201, HOOK_JSON))
    make_client(scripted_url).create_webhook(APP, basic_request("my-hook"))
    (request,) = scripted.received
    assert request.method == "POST"
    assert request.raw_path == f"/orgs/{ORG}/apps/{APP}/webhooks"
    assert request.json() == {
        "disabled": False,
        "headers": {},
        "id": "my-hook",
        "payload": None,
        "triggers": [{"scope": "environment", "type": "created"}],
        "url": "https://example.com",
    }


def test_update_sends_the_full_body(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, {k: v for k, v in HOOK_JSON.items() if k != "id"}))
    make_client(scripted_url).update_webhook(APP, "my-hook", basic_request("my-hook"))
    (request,) = scripted.received
    assert request.method == "PATCH"
    assert set(request.json()) == {"disabled", "headers", "id", "payload", "triggers", "url"}
    assert request.json()["payload"] is None


def test_request_headers(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(201, HOOK_JSON), Reply(200, HOOK_JSON), Reply(204, content_type=""))
    client = make_client(scripted_url, app_version="test")
    client.create_webhook(APP, basic_request("my-hook"))
    client.get_webhook(APP, "my-hook")
    client.delete_webhook(APP, "my-hook")
    post, get, delete = scripted.received
    for request in (post, get, delete):
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["humanitec-user-agent"] == (
            "app terraform-provider-humanitec/test; sdk humanitec-go-autogen/latest"
        )
        assert request.headers["accept"] == "application/json"
    assert post.headers["content-type"] == "application/json"
    assert "content-type" not in get.headers
    assert "content-type" not in delete.headers


def test_user_agent_defaults_to_the_package_version(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, []))
    make_client(scripted_url).list_webhooks(APP)
    agent = scripted.received[0].headers["humanitec-user-agent"]
    version = provider.__version__
    assert agent == f"app terraform-provider-humanitec/{version}; sdk humanitec-go-autogen/latest"


def test_api_prefix_path_is_kept(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, []))
    make_client(scripted_url + "/api/v1").list_webhooks(APP)
    assert scripted.received[0].raw_path == f"/api/v1/orgs/{ORG}/apps/{APP}/webhooks"


ODD_IDS = ["a/b", "a?b=c", "a#b", "a b", "..", ".", "100%", "%2F", "ü-hook", "a;b,c"]


@pytest.mark.parametrize("odd_id", ODD_IDS)
def test_odd_ids_are_one_escaped_path_segment(
    odd_id: str, scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, HOOK_JSON))
    make_client(scripted_url, org_id="o/rg").get_webhook("a?pp", odd_id)
    prefix, _, last = scripted.received[0].raw_path.rpartition("/")
    assert prefix == "/orgs/o%2Frg/apps/a%3Fpp/webhooks"
    assert last not in ("", ".", "..")
    assert "/" not in last
    assert "?" not in last
    assert "#" not in last


@pytest.mark.parametrize("odd_id", ODD_IDS)
def test_odd_ids_round_trip_through_the_emulator(odd_id: str, client: HumanitecClient) -> None:
    hook_id = f"{odd_id}-{uuid.uuid4().hex[:6]}" if odd_id not in (".", "..") else odd_id
    client.create_webhook("other-app", basic_request(hook_id))
    assert client.get_webhook("other-app", hook_id).id == hook_id
    client.delete_webhook("other-app", hook_id)


@pytest.mark.parametrize("missing", ["app_id", "webhook_id"])
def test_empty_ids_are_rejected_before_sending(client: HumanitecClient, missing: str) -> None:
    ids = {"app_id": APP, "webhook_id": "x", missing: ""}
    with pytest.raises(ValueError, match=missing):
        client.get_webhook(ids["app_id"], ids["webhook_id"])


@pytest.mark.parametrize(
    ("prefix", "org", "token"),
    [
        ("ftp://x/", ORG, TOKEN),
        ("not a url", ORG, TOKEN),
        ("http://x/", "", TOKEN),
        ("http://x/", ORG, ""),
    ],
    ids=["scheme", "no-host", "empty-org", "empty-token"],
)
def test_bad_configuration_raises_value_error(prefix: str, org: str, token: str) -> None:
    with pytest.raises(ValueError, match=r"api_prefix|org_id|token"):
        HumanitecClient(prefix, org, token)


def test_duplicate_id_raises_conflict(client: HumanitecClient) -> None:
    hook_id = new_id()
    client.create_webhook(APP, basic_request(hook_id))
    with pytest.raises(Conflict) as caught:
        client.create_webhook("other-app", basic_request(hook_id))
    error = caught.value
    assert (error.status_code, error.code) == (409, "API-409")
    assert error.message == f'Webhook with id "{hook_id}" already exists'
    assert str(error) == f'HTTP 409 (API-409): Webhook with id "{hook_id}" already exists'


def test_unknown_app_raises_not_found(client: HumanitecClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.list_webhooks("no-such-app")
    assert caught.value.status_code == 404


def test_invalid_body_raises_bad_request(client: HumanitecClient) -> None:
    with pytest.raises(BadRequest) as caught:
        client.create_webhook(APP, WebhookRequest(id=new_id()))
    assert caught.value.message == "url is required"


def test_wrong_token_raises_unauthorized(
    emulator: EmulatorServer, make_client: ClientFactory
) -> None:
    with pytest.raises(Unauthorized) as caught:
        make_client(emulator.url, token="wrong").list_webhooks(APP)
    assert str(caught.value) == "HTTP 401 (API-000): Could not validate token."


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(400, BadRequest), (403, Forbidden), (422, BadRequest), (500, ApiError), (200, ApiError)],
)
def test_unexpected_status_maps_to_api_error_subclass(
    status: int,
    error_class: type[ApiError],
    scripted: ScriptedApp,
    scripted_url: str,
    make_client: ClientFactory,
) -> None:
    scripted.script(Reply(status, {"error": "API-X", "message": "nope", "details": {"k": 1}}))
    with pytest.raises(error_class) as caught:
        make_client(scripted_url, max_retries=0).delete_webhook(APP, "x")
    assert type(caught.value) is error_class
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        status,
        "API-X",
        "nope",
    )
    assert caught.value.details == {"k": 1}


def test_non_json_error_body_is_kept_raw(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(
        Reply(418, body=b"<html>\n teapot \n</html>" + b"x" * 1000, content_type="text/html")
    )
    with pytest.raises(ApiError) as caught:
        make_client(scripted_url).get_webhook(APP, "x")
    error = caught.value
    assert error.code is None
    assert str(error).startswith("HTTP 418: <html> teapot </html>xxx")
    assert "\n" not in str(error)
    assert len(error.body) < 600


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, body=b"<html>ok</html>", content_type="text/html"),
        Reply(200, body=b"{not json", content_type="application/json"),
        Reply(200, {"id": "x"}),
        Reply(200, {**HOOK_JSON, "headers": ["not", "an", "object"]}),
        Reply(200, body=b'{"id": "x"}', content_type=""),
    ],
    ids=["html", "broken-json", "missing-fields", "wrong-type", "no-content-type"],
)
def test_unusable_success_body_raises_transport_error(
    reply: Reply, scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(reply)
    with pytest.raises(TransportError, match=r"GET .*webhooks/x"):
        make_client(scripted_url).get_webhook(APP, "x")


def test_decoding_errors_do_not_quote_the_body(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(
        Reply(200, {**HOOK_JSON, "headers": {"Authorization": "Bearer leaked"}, "triggers": "bad"})
    )
    with pytest.raises(TransportError) as caught:
        make_client(scripted_url).get_webhook(APP, "x")
    assert "leaked" not in str(caught.value)
    assert "triggers" in str(caught.value)


def test_unknown_response_fields_are_ignored(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, {**HOOK_JSON, "new_field": {"x": 1}, "payload": None}))
    hook = make_client(scripted_url).get_webhook(APP, "x")
    assert hook == WebhookResponse.model_validate(HOOK_JSON)


def free_port() -> int:
    with socket.socket() as sock:  # a port that was just free
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_connection_refused_is_retried_and_says_nothing_was_sent(
    method: str, make_client: ClientFactory, sleeps: list[float]
) -> None:
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}")
    calls: dict[str, Callable[[], object]] = {
        "GET": lambda: client.get_webhook(APP, "x"),
        "POST": lambda: client.create_webhook(APP, basic_request("x")),
        "PATCH": lambda: client.update_webhook(APP, "x", basic_request("x")),
        "DELETE": lambda: client.delete_webhook(APP, "x"),
    }
    with pytest.raises(TransportError) as caught:
        calls[method]()
    error = caught.value
    assert not isinstance(error, ApiError)
    path = f"/orgs/{ORG}/apps/{APP}/webhooks" + ("" if method == "POST" else "/x")
    assert str(error) == (
        f"{method} http://127.0.0.1:{port}{path}: connection refused (nothing was sent)"
    )
    assert (error.request_sent, error.earlier_attempt_may_have_applied) == (False, False)
    assert error.may_have_applied is False
    assert error.attempts == ATTEMPTS
    assert len(sleeps) == DEFAULT_MAX_RETRIES  # nothing was sent: every method is retried


def test_transport_errors_name_the_api_prefix_path(
    make_client: ClientFactory, sleeps: list[float]
) -> None:
    port = free_port()
    with pytest.raises(TransportError, match=rf"^GET http://127\.0\.0\.1:{port}/api/v1/orgs/"):
        make_client(f"http://127.0.0.1:{port}/api/v1", max_retries=0).list_applications()


def test_client_is_usable_from_many_threads(client: HumanitecClient) -> None:
    hook_ids = [new_id() for _ in range(16)]
    errors: list[BaseException] = []

    def create_and_read(hook_id: str) -> None:
        try:
            client.create_webhook(APP, basic_request(hook_id))
            assert client.get_webhook(APP, hook_id).id == hook_id
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create_and_read, args=(h,)) for h in hook_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_secrets_never_reach_logs_or_repr(
    emulator: EmulatorServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_header = "header-secret-" + uuid.uuid4().hex
    client = make_client(emulator.url)
    hook_id = new_id()
    client.create_webhook(APP, basic_request(hook_id, headers={"X-Auth": secret_header}))
    client.get_webhook(APP, hook_id)
    with pytest.raises(Conflict):
        client.create_webhook(APP, basic_request(hook_id, headers={"X-Auth": secret_header}))
    with pytest.raises(Unauthorized):
        make_client(emulator.url, token="wrong-" + TOKEN).get_webhook(APP, hook_id)

    assert any(r.name == "provider.api" for r in caplog.records)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in logged
    assert secret_header not in logged
    assert TOKEN not in repr(client)
    assert repr(client) == f"HumanitecClient(api_prefix='{emulator.url}/', org_id='{ORG}')"


def test_debug_log_names_method_path_status_and_attempt(
    client: HumanitecClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="provider.api")
    client.list_webhooks(APP)
    (record,) = [r for r in caplog.records if r.name == "provider.api"]
    assert record.getMessage().startswith(f"GET orgs/{ORG}/apps/{APP}/webhooks -> 200 (attempt 1, ")
