"""Tests for provider.webhook_state: Terraform state <-> Humanitec API models."""

from __future__ import annotations

from typing import Any

import pytest

from provider.api import WebhookResponse, WebhookUpdateResponse, webhook_request_body
from provider.plugin import cty
from provider.plugin.diagnostics import DiagnosticError, Diagnostics, MapKey, Severity
from provider.plugin.resource import State
from provider.webhook_state import (
    decode_secret_names,
    encode_secret_names,
    matches,
    request_from_state,
    state_from_response,
)

TRIGGER: dict[str, cty.Value] = {"scope": "environment", "type": "created"}


def state(**changes: cty.Value) -> State:
    base: State = {
        "id": "hook",
        "app_id": "app",
        "url": "https://example.com/hook",
        "disabled": False,
        "headers": None,
        "payload": None,
        "triggers": [dict(TRIGGER)],
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("planned", "body"),
    [
        (
            state(),
            {
                "disabled": False,
                "headers": {},
                "id": "hook",
                "payload": None,
                "triggers": [TRIGGER],
                "url": "https://example.com/hook",
            },
        ),
        (
            state(
                disabled=True,
                headers={"X-Token": "t"},
                payload={"app": "${app_id}"},
                triggers=[TRIGGER, {"scope": "deployment", "type": "finished"}],
            ),
            {
                "disabled": True,
                "headers": {"X-Token": "t"},
                "id": "hook",
                "payload": {"app": "${app_id}"},
                "triggers": [TRIGGER, {"scope": "deployment", "type": "finished"}],
                "url": "https://example.com/hook",
            },
        ),
        (
            state(headers={}, payload={}, triggers=[]),
            {
                "disabled": False,
                "headers": {},
                "id": "hook",
                "payload": {},
                "triggers": [],
                "url": "https://example.com/hook",
            },
        ),
    ],
    ids=["minimal-payload-null-headers-empty", "everything-set", "empty-maps-and-triggers"],
)
def test_request_from_state_builds_the_full_body(planned: State, body: dict[str, Any]) -> None:
    assert webhook_request_body(request_from_state(planned)) == body


@pytest.mark.parametrize(
    "planned",
    [
        state(id=cty.UNKNOWN),
        state(headers={"X-Token": cty.UNKNOWN}),
        state(triggers=[{"scope": "environment", "type": cty.UNKNOWN}]),
        state(payload=cty.UNKNOWN),
    ],
    ids=["id", "header-value", "trigger-type", "payload"],
)
def test_request_from_state_refuses_unknown_values(planned: State) -> None:
    with pytest.raises(DiagnosticError) as caught:
        request_from_state(planned)
    assert caught.value.diagnostic.severity is Severity.ERROR
    assert caught.value.diagnostic.summary == "Unknown Value At Apply"


def response(**fields: Any) -> WebhookResponse:
    return WebhookResponse.model_validate(
        {"id": "hook", "url": "https://example.com/hook", "triggers": [TRIGGER], **fields}
    )


def update_response(**fields: Any) -> WebhookUpdateResponse:
    return WebhookUpdateResponse.model_validate({"url": "https://example.com/hook", **fields})


def test_state_from_response_maps_every_field() -> None:
    diags = Diagnostics()
    answer = response(
        id="from-api",
        url="https://example.com/hook",
        disabled=True,
        headers={"X-Token": "t"},
        payload={"k": "v"},
        triggers=[TRIGGER, {"scope": "deployment", "type": "started"}],
        created_at="2024-01-01T00:00:00Z",
    )
    reference = state(id="from-api", app_id="my-app", secret_headers_wo_version=2)
    assert state_from_response(answer, reference, diags) == {
        "id": "from-api",
        "app_id": "my-app",
        "url": "https://example.com/hook",
        "disabled": True,
        "headers": {"X-Token": "t"},
        "payload": {"k": "v"},
        "triggers": [TRIGGER, {"scope": "deployment", "type": "started"}],
        "secret_headers_wo": None,
        "secret_headers_wo_version": 2,
    }
    assert list(diags) == []


def test_an_answer_about_another_webhook_is_refused() -> None:
    with pytest.raises(DiagnosticError) as raised:
        state_from_response(response(id="victim"), state(id="mine"), Diagnostics())
    assert raised.value.diagnostic.path == ("id",)


def test_secret_header_names_are_kept_out_of_headers_whatever_their_case() -> None:
    answer = response(headers={"Authorization": "s3cret", "X-Plain": "p"})
    new = state_from_response(answer, state(), Diagnostics(), frozenset({"authorization"}))
    assert new["headers"] == {"X-Plain": "p"}


@pytest.mark.parametrize(
    "private", [b"", b"garbage", b"[]", b'{"secret_headers": 3}', b'{"secret_headers": [1]}']
)
def test_unreadable_private_state_means_no_secret_names(private: bytes) -> None:
    assert decode_secret_names(private) == frozenset()


def test_secret_names_round_trip_through_private_state() -> None:
    assert decode_secret_names(encode_secret_names({"B", "A"})) == {"A", "B"}


def test_request_merges_secret_headers() -> None:
    request = request_from_state(state(headers={"X": "1"}), {"Authorization": "s"})
    assert request.headers == {"X": "1", "Authorization": "s"}
    assert matches(response(headers={"X": "1", "Authorization": "s"}), request)
    assert not matches(response(headers={"X": "1"}), request)


def test_update_response_without_id_takes_the_reference_id() -> None:
    diags = Diagnostics()
    new = state_from_response(update_response(disabled=False), state(id="kept"), diags)
    assert new["id"] == "kept"
    assert list(diags) == []


@pytest.mark.parametrize(
    ("answer", "disabled", "triggers"),
    [
        (update_response(disabled=None, triggers=None), False, []),
        (update_response(triggers=[TRIGGER]), False, [TRIGGER]),
        (response(disabled=None), False, [TRIGGER]),
        (response(disabled=True, triggers=[]), True, []),
    ],
    ids=["update-nulls", "update-disabled-absent", "create-disabled-null", "create-empty"],
)
def test_null_disabled_is_false_and_null_triggers_empty(
    answer: WebhookResponse | WebhookUpdateResponse, disabled: bool, triggers: list[Any]
) -> None:
    new = state_from_response(answer, state(), Diagnostics())
    assert (new["disabled"], new["triggers"]) == (disabled, triggers)


@pytest.mark.parametrize(
    ("held", "answered", "expected"),
    [
        ({}, None, {}),
        (None, {}, None),
        ({}, {}, {}),
        (None, None, None),
        ({"a": "1"}, {}, None),
        ({"a": "1"}, {"a": "2"}, {"a": "2"}),
        (None, {"a": "1"}, {"a": "1"}),
        (cty.UNKNOWN, None, None),
    ],
    ids=[
        "held-empty-answer-null",
        "held-null-answer-empty",
        "both-empty",
        "both-null",
        "held-values-answer-empty",
        "answer-wins",
        "answer-fills-null",
        "held-unknown-answer-null",
    ],
)
def test_empty_payload_answer_keeps_the_held_form(
    held: cty.Value, answered: dict[str, Any] | None, expected: object
) -> None:
    diags = Diagnostics()
    new = state_from_response(response(payload=answered), state(payload=held), diags)
    assert new["payload"] == expected
    assert list(diags) == []


@pytest.mark.parametrize("held", [None, {}, {"a": "1"}, cty.UNKNOWN], ids=str)
@pytest.mark.parametrize("answered", [None, {}], ids=["null", "empty"])
def test_empty_headers_answer_is_the_default_empty_map(
    held: cty.Value, answered: dict[str, Any] | None
) -> None:
    """An import holds null headers; it must read {} as a create does, or the plan shows a diff."""
    new = state_from_response(response(headers=answered), state(headers=held), Diagnostics())
    assert new["headers"] == {}


@pytest.mark.parametrize("name", ["headers", "payload"])
@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "1"), (True, "true"), (None, "null"), ({"x": [1, "y"]}, '{"x": [1, "y"]}')],
    ids=["number", "bool", "null", "object"],
)
def test_non_string_value_is_kept_as_json_drift_with_a_warning(
    name: str, value: Any, text: str
) -> None:
    diags = Diagnostics()
    answer = response(**{name: {"k": value, "ok": "fine"}})
    new = state_from_response(answer, state(), diags)
    assert new[name] == {"k": text, "ok": "fine"}
    [diagnostic] = diags
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.WARNING,
        "Non-String Value In Humanitec",
        (name, MapKey("k")),
    )
    if name == "headers":  # often secret: the value never appears in a diagnostic
        assert text not in diagnostic.detail or text == "null"
        assert type(value).__name__ in diagnostic.detail
    else:
        assert text in diagnostic.detail
