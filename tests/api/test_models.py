"""The shared models: strict, tolerant of new fields, and the Go provider's body shape."""

from __future__ import annotations

import pydantic
import pytest

from provider.api import (
    EventBaseRequest,
    HumanitecErrorResponse,
    WebhookRequest,
    WebhookResponse,
    WebhookUpdateResponse,
    webhook_request_body,
)


def test_body_has_all_six_keys_and_null_payload_when_unset() -> None:
    request = WebhookRequest(
        id="my-hook",
        disabled=False,
        headers={},
        triggers=[EventBaseRequest(scope="environment", type="created")],
        url="https://example.com",
    )
    assert webhook_request_body(request) == {
        "disabled": False,
        "headers": {},
        "id": "my-hook",
        "payload": None,
        "triggers": [{"scope": "environment", "type": "created"}],
        "url": "https://example.com",
    }


def test_unset_trigger_fields_are_omitted_like_go_omitempty() -> None:
    body = webhook_request_body(WebhookRequest(triggers=[EventBaseRequest(scope="environment")]))
    assert body["triggers"] == [{"scope": "environment"}]
    assert set(body) == {"disabled", "headers", "id", "payload", "triggers", "url"}


def test_map_values_are_any_json_and_never_coerced() -> None:
    request = WebhookRequest.model_validate(
        {"headers": {"a": 1, "b": None}, "payload": {"c": [True, {"d": 1.5}]}}
    )
    assert request.headers == {"a": 1, "b": None}
    assert webhook_request_body(request)["payload"] == {"c": [True, {"d": 1.5}]}


@pytest.mark.parametrize(
    "data",
    [
        {"disabled": "true"},
        {"disabled": 1},
        {"id": 5},
        {"url": ["x"]},
        {"headers": []},
        {"triggers": {}},
    ],
    ids=["bool-string", "bool-int", "id-int", "url-list", "headers-list", "triggers-object"],
)
def test_request_validation_is_strict(data: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        WebhookRequest.model_validate(data)


def test_fields_set_distinguishes_null_from_absent() -> None:
    request = WebhookRequest.model_validate_json('{"payload": null}')
    assert request.model_fields_set == {"payload"}


def test_response_tolerates_unknown_fields_and_missing_nullable_ones() -> None:
    hook = WebhookResponse.model_validate_json('{"id": "h", "triggers": [], "brand_new": 1}')
    assert (hook.headers, hook.payload, hook.disabled, hook.url) == (None, None, None, None)


def test_response_keeps_null_and_empty_maps_apart() -> None:
    hook = WebhookResponse.model_validate_json(
        '{"id": "h", "triggers": [], "headers": {}, "payload": null}'
    )
    assert hook.headers == {}
    assert hook.payload is None


@pytest.mark.parametrize(
    "data", ['{"triggers": []}', '{"id": "h"}', '{"id": "h", "triggers": [{"scope": "x"}]}']
)
def test_response_requires_id_and_complete_triggers(data: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        WebhookResponse.model_validate_json(data)


def test_update_response_allows_null_triggers_and_has_no_id() -> None:
    reply = WebhookUpdateResponse.model_validate_json('{"triggers": null, "id": "ignored"}')
    assert reply.triggers is None
    assert not hasattr(reply, "id")


def test_error_response_details_are_optional() -> None:
    error = HumanitecErrorResponse.model_validate_json('{"error": "API-000", "message": "m"}')
    assert error.details is None
