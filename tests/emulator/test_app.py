"""Every route and status of the emulator, over real HTTP (uvicorn on a thread)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pydantic
import pytest

from provider.api import ApplicationResponse, HumanitecErrorResponse, WebhookResponse
from provider.emulator import EmulatorServer
from tests.emulator.conftest import TOKEN, USER

GO_BODY = {
    "disabled": False,
    "headers": {},
    "id": "my-hook",
    "payload": None,
    "triggers": [{"scope": "environment", "type": "created"}],
    "url": "https://example.com",
}


def hooks(org: str, app: str = "app") -> str:
    return f"/orgs/{org}/apps/{app}/webhooks"


def create(http: httpx.Client, org: str, body: dict[str, Any], app: str = "app") -> httpx.Response:
    return http.post(hooks(org, app), json=body)


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = HumanitecErrorResponse.model_validate_json(response.content)
    assert error.error == f"API-{status}"
    if message is not None:
        assert error.message == message


def test_create_returns_201_and_the_webhook(http: httpx.Client, org: str) -> None:
    response = create(
        http, org, {**GO_BODY, "headers": {"X-Key": "v"}, "payload": {"a": "${app_id}"}}
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "id": "my-hook",
        "disabled": False,
        "headers": {"X-Key": "v"},
        "payload": {"a": "${app_id}"},
        "triggers": [{"scope": "environment", "type": "created"}],
        "url": "https://example.com",
        "created_at": "2020-06-22T09:37:23.523Z",
        "created_by": USER,
    }
    WebhookResponse.model_validate_json(response.content)


def test_get_and_list_echo_exactly_what_was_sent(http: httpx.Client, org: str) -> None:
    created = create(http, org, GO_BODY).json()
    assert http.get(f"{hooks(org)}/my-hook").json() == created
    assert created["payload"] is None
    assert created["headers"] == {}


def test_absent_fields_get_defaults_on_create(http: httpx.Client, org: str) -> None:
    body = create(http, org, {"id": "h", "url": "https://x"}).json()
    assert (body["disabled"], body["headers"], body["payload"], body["triggers"]) == (
        False,
        {},
        None,
        [],
    )


def test_explicit_nulls_are_stored_as_null(http: httpx.Client, org: str) -> None:
    body = create(
        http, org, {"id": "h", "url": "https://x", "disabled": None, "headers": None}
    ).json()
    assert (body["disabled"], body["headers"]) == (None, None)


def test_list_returns_the_apps_webhooks_in_creation_order(http: httpx.Client, org: str) -> None:
    assert http.get(hooks(org)).json() == []
    for hook_id in ("b", "a", "c"):
        create(http, org, {**GO_BODY, "id": hook_id})
    create(http, org, {**GO_BODY, "id": "elsewhere"}, app="other")
    response = http.get(hooks(org))
    assert response.status_code == 200
    assert [hook["id"] for hook in response.json()] == ["b", "a", "c"]


def test_duplicate_id_is_409(http: httpx.Client, org: str) -> None:
    create(http, org, GO_BODY)
    assert_error(create(http, org, GO_BODY), 409, 'Webhook with id "my-hook" already exists')


def test_duplicate_id_in_another_app_of_the_org_is_409(http: httpx.Client, org: str) -> None:
    create(http, org, GO_BODY)
    assert_error(create(http, org, GO_BODY, app="other"), 409)


def test_same_id_in_another_org_is_fine(
    http: httpx.Client, org: str, emulator: EmulatorServer
) -> None:
    create(http, org, GO_BODY)
    emulator.store.ensure_app(org + "-2", "app")
    assert create(http, org + "-2", GO_BODY).status_code == 201


def test_concurrent_creates_of_one_id_make_exactly_one(http: httpx.Client, org: str) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(12)

    def attempt() -> None:
        barrier.wait()
        statuses.append(create(http, org, GO_BODY).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 11


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/orgs/{org}/apps/nope/webhooks", None),
        ("POST", "/orgs/{org}/apps/nope/webhooks", GO_BODY),
        ("GET", "/orgs/{org}/apps/nope/webhooks/my-hook", None),
        ("PATCH", "/orgs/{org}/apps/nope/webhooks/my-hook", GO_BODY),
        ("DELETE", "/orgs/{org}/apps/nope/webhooks/my-hook", None),
        ("GET", "/orgs/{org}/apps/nope", None),
    ],
    ids=["list", "create", "get", "patch", "delete", "get-app"],
)
def test_unknown_app_is_404(
    http: httpx.Client, org: str, method: str, path: str, body: Any
) -> None:
    response = http.request(method, path.format(org=org), json=body)
    assert_error(response, 404, 'Application with id "nope" not found')


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_webhook_is_404(http: httpx.Client, org: str, method: str) -> None:
    create(http, org, GO_BODY, app="other")  # exists, but in another app
    body = GO_BODY if method == "PATCH" else None
    response = http.request(method, f"{hooks(org)}/my-hook", json=body)
    assert_error(response, 404, 'Webhook with id "my-hook" not found')


MALFORMED_CREATES = [
    ("not-json", b"{nope", "Request body is not valid JSON"),
    ("empty", b"", "Request body is not valid JSON"),
    ("nan", b'{"id": "h", "url": "u", "payload": {"x": NaN}}', "Request body is not valid JSON"),
    ("array", b"[]", "Request body must be a JSON object"),
    ("string", b'"hook"', "Request body must be a JSON object"),
    ("id-missing", b'{"url": "u"}', "id is required"),
    ("id-empty", b'{"id": "", "url": "u"}', "id is required"),
    (
        "id-number",
        b'{"id": 1, "url": "u"}',
        "Invalid request body: id: Input should be a valid string",
    ),
    ("url-missing", b'{"id": "h"}', "url is required"),
    ("url-null", b'{"id": "h", "url": null}', "url is required"),
    ("url-number", b'{"id": "h", "url": 5}', None),
    ("disabled-string", b'{"id": "h", "url": "u", "disabled": "true"}', None),
    ("disabled-number", b'{"id": "h", "url": "u", "disabled": 0}', None),
    ("headers-list", b'{"id": "h", "url": "u", "headers": ["a"]}', None),
    ("payload-string", b'{"id": "h", "url": "u", "payload": "x"}', None),
    ("triggers-object", b'{"id": "h", "url": "u", "triggers": {}}', None),
    ("trigger-string", b'{"id": "h", "url": "u", "triggers": ["environment"]}', None),
    (
        "trigger-no-scope",
        b'{"id": "h", "url": "u", "triggers": [{"type": "created"}]}',
        "triggers[0].scope is required",
    ),
    (
        "trigger-no-type",
        b'{"id": "h", "url": "u", "triggers": [{"scope": "e"}]}',
        "triggers[0].type is required",
    ),
    (
        "trigger-scope-number",
        b'{"id": "h", "url": "u", "triggers": [{"scope": 1, "type": "t"}]}',
        "Invalid request body: triggers[0].scope: Input should be a valid string",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"),
    [case[1:] for case in MALFORMED_CREATES],
    ids=[case[0] for case in MALFORMED_CREATES],
)
def test_malformed_create_is_400(
    http: httpx.Client, org: str, content: bytes, message: str | None
) -> None:
    response = http.post(hooks(org), content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400)
    if message is not None:
        assert response.json()["message"].startswith(message)
    assert http.get(hooks(org)).json() == []


@pytest.mark.parametrize(
    "content",
    [
        b"nope",
        b"[1]",
        b'{"disabled": "yes"}',
        b'{"id": "other"}',
        b'{"triggers": [{"scope": "x"}]}',
    ],
    ids=["not-json", "array", "wrong-type", "id-mismatch", "incomplete-trigger"],
)
def test_malformed_patch_is_400_and_changes_nothing(
    http: httpx.Client, org: str, content: bytes
) -> None:
    before = create(http, org, GO_BODY).json()
    response = http.patch(f"{hooks(org)}/my-hook", content=content)
    assert_error(response, 400)
    assert http.get(f"{hooks(org)}/my-hook").json() == before


def test_body_over_one_mebibyte_is_413(http: httpx.Client, org: str) -> None:
    response = http.post(hooks(org), json={**GO_BODY, "payload": {"x": "y" * 1_100_000}})
    assert_error(response, 413)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Token {TOKEN}", TOKEN, f"Bearer {TOKEN}x", "Bearer"],
    ids=["missing", "wrong-token", "wrong-scheme", "no-scheme", "token-prefix", "empty"],
)
@pytest.mark.parametrize("path", ["/orgs/o/apps/app/webhooks", "/orgs/o/events", "/no/such/route"])
def test_without_the_right_token_everything_is_401(
    anonymous: httpx.Client, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = anonymous.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "API-000", "message": "Could not validate token."}
    assert TOKEN not in response.text


def test_bearer_scheme_is_case_insensitive(anonymous: httpx.Client, org: str) -> None:
    response = anonymous.get(hooks(org), headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


def test_patch_changes_exactly_the_fields_present(http: httpx.Client, org: str) -> None:
    create(http, org, {**GO_BODY, "headers": {"h": "1"}, "payload": {"p": "1"}})
    response = http.patch(f"{hooks(org)}/my-hook", json={"url": "https://new", "disabled": True})
    assert response.status_code == 200
    assert response.json() == {
        "disabled": True,
        "headers": {"h": "1"},
        "payload": {"p": "1"},
        "triggers": [{"scope": "environment", "type": "created"}],
        "url": "https://new",
    }
    stored = http.get(f"{hooks(org)}/my-hook").json()
    assert stored["created_at"] == "2020-06-22T09:37:23.523Z"
    assert stored["url"] == "https://new"


def test_patch_with_payload_null_clears_it(http: httpx.Client, org: str) -> None:
    create(http, org, {**GO_BODY, "payload": {"p": "1"}})
    response = http.patch(f"{hooks(org)}/my-hook", json={**GO_BODY, "payload": None})
    assert response.json()["payload"] is None
    assert http.get(f"{hooks(org)}/my-hook").json()["payload"] is None


def test_patch_with_the_full_go_body_round_trips(http: httpx.Client, org: str) -> None:
    created = create(http, org, GO_BODY).json()
    updated = http.patch(f"{hooks(org)}/my-hook", json=GO_BODY).json()
    assert updated == {
        k: v for k, v in created.items() if k not in ("id", "created_at", "created_by")
    }


def test_patch_with_null_triggers_stores_an_empty_list(http: httpx.Client, org: str) -> None:
    create(http, org, GO_BODY)
    assert http.patch(f"{hooks(org)}/my-hook", json={"triggers": None}).json()["triggers"] == []


def test_delete_is_204_then_the_webhook_is_gone(http: httpx.Client, org: str) -> None:
    create(http, org, GO_BODY)
    response = http.delete(f"{hooks(org)}/my-hook")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(http.get(f"{hooks(org)}/my-hook"), 404)
    assert_error(http.delete(f"{hooks(org)}/my-hook"), 404)
    assert create(http, org, GO_BODY).status_code == 201  # the id is free again


def test_ids_with_slashes_and_question_marks_stay_one_segment(http: httpx.Client, org: str) -> None:
    odd = "a/b?c=d e"
    assert create(http, org, {**GO_BODY, "id": odd}).status_code == 201
    response = http.get(f"{hooks(org)}/a%2Fb%3Fc%3Dd%20e")
    assert response.json()["id"] == odd
    assert_error(http.get(f"{hooks(org)}/a/b"), 404)


def test_create_application(http: httpx.Client, emulator: EmulatorServer) -> None:
    response = http.post("/orgs/new-org/apps", json={"id": "shop", "name": "Shop"})
    assert response.status_code == 201
    assert response.json() == {
        "org_id": "new-org",
        "id": "shop",
        "name": "Shop",
        "created_at": "2020-06-22T09:37:23.523Z",
        "created_by": USER,
    }
    assert http.get("/orgs/new-org/apps/shop").json() == response.json()
    assert http.get("/orgs/new-org/apps/shop/webhooks").json() == []
    assert_error(http.post("/orgs/new-org/apps", json={"id": "shop"}), 409)


def test_application_name_defaults_to_its_id(http: httpx.Client, org: str) -> None:
    assert http.post(f"/orgs/{org}/apps", json={"id": "x"}).json()["name"] == "x"


@pytest.mark.parametrize(
    "content",
    [b"nope", b"[]", b"{}", b'{"id": ""}', b'{"id": 7}', b'{"id": "a", "name": 1}'],
    ids=["not-json", "array", "id-missing", "id-empty", "id-number", "name-number"],
)
def test_malformed_application_is_400(http: httpx.Client, org: str, content: bytes) -> None:
    assert_error(http.post(f"/orgs/{org}/apps", content=content), 400)


def test_events_lists_the_four_triggers_and_their_variables(http: httpx.Client) -> None:
    response = http.get("/orgs/any-org/events")
    assert response.status_code == 200
    events = {(e["scope"], e["type"]): set(e["properties"]) for e in response.json()}
    common = {"event", "triggered_at", "triggered_by", "org_id", "app_id", "env_id"}
    deployment = common | {"deploy_id", "delta_id", "set_id", "comment", "status"}
    assert events == {
        ("environment", "created"): common | {"name", "type"},
        ("environment", "deleted"): common | {"name", "type"},
        ("deployment", "started"): deployment,
        ("deployment", "finished"): deployment,
    }


def test_unknown_route_and_method_answer_json_errors(http: httpx.Client, org: str) -> None:
    assert_error(http.get("/nope"), 404)
    assert_error(http.get(f"{hooks(org)}/"), 404)
    response = http.put(f"{hooks(org)}/my-hook", json=GO_BODY)
    assert_error(response, 405)
    assert set(response.headers["allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}


def test_list_applications_returns_the_orgs_apps(http: httpx.Client, org: str) -> None:
    assert http.post(f"/orgs/{org}/apps", json={"id": "third", "name": "Third"}).status_code == 201
    response = http.get(f"/orgs/{org}/apps")
    assert response.status_code == 200
    apps = pydantic.TypeAdapter(list[ApplicationResponse]).validate_json(response.content)
    assert [(a.id, a.name, a.org_id) for a in apps] == [
        ("app", "app", org),
        ("other", "other", org),
        ("third", "Third", org),
    ]
    assert response.json()[2] == http.get(f"/orgs/{org}/apps/third").json()


def test_list_applications_of_an_unknown_org_is_empty(http: httpx.Client) -> None:
    assert http.get("/orgs/no-such-org/apps").json() == []


def test_list_applications_needs_the_token(anonymous: httpx.Client, org: str) -> None:
    response = anonymous.get(f"/orgs/{org}/apps")
    assert response.status_code == 401
    assert response.json() == {"error": "API-000", "message": "Could not validate token."}
