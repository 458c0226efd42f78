"""Rendering a payload from an occurrence, and the events list read from the catalogue."""

from __future__ import annotations

import re

import pytest

from provider import events as catalogue
from provider.api.models import JsonObject
from provider.emulator.events import Occurrence, event_responses, render, rfc3339_nanoseconds

VALUES = {
    "event": "deployment.finished",
    "triggered_at": "2024-03-22T08:49:23.436635385Z",
    "triggered_by": "user-1",
    "org_id": "org",
    "app_id": "app",
    "env_id": "dev",
    "status": "succeeded",
}


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        ({"s": "${status}"}, {"s": "succeeded"}),
        ({"s": "${app_id}/${env_id}: ${status}!"}, {"s": "app/dev: succeeded!"}),
        ({"x": "${app_idd}"}, {"x": "${app_idd}"}),
        ({"x": "${ app_id }"}, {"x": "${ app_id }"}),
        ({"x": "${name}"}, {"x": ""}),
        ({"x": "$${app_id}"}, {"x": "$app"}),
        ({"x": "$app_id %{app_id} {app_id}"}, {"x": "$app_id %{app_id} {app_id}"}),
        ({"${status}": "key"}, {"${status}": "key"}),
        (
            {"n": 3, "b": True, "z": None, "l": ["${env_id}", 1], "o": {"d": "${org_id}"}},
            {"n": 3, "b": True, "z": None, "l": ["dev", 1], "o": {"d": "org"}},
        ),
    ],
    ids=[
        "one",
        "several-in-text",
        "unknown-stays",
        "spaces-are-another-name",
        "known-but-not-provided-is-empty",
        "dollar-before",
        "no-braces-no-placeholder",
        "keys-left-alone",
        "nested-and-non-strings",
    ],
)
def test_render_fills_known_placeholders(payload: JsonObject, body: JsonObject) -> None:
    assert render(payload, VALUES) == body


@pytest.mark.parametrize("payload", [None, {}], ids=["null", "empty"])
def test_without_a_payload_the_body_is_the_six_common_variables(payload: JsonObject | None) -> None:
    assert render(payload, VALUES) == {
        name: VALUES[name]
        for name in ("event", "triggered_at", "triggered_by", "org_id", "app_id", "env_id")
    }


def test_occurrence_carries_every_variable_of_its_event() -> None:
    occurrence = Occurrence.of(
        "environment",
        "created",
        triggered_at="t",
        triggered_by="u",
        org_id="o",
        app_id="a",
        env_id="e",
        name="E",
        type="development",
    )
    assert occurrence.values["event"] == "environment.created"
    assert set(occurrence.values) == set(catalogue.variables_of("environment", "created"))
    assert occurrence.matches("environment", "created")
    assert not occurrence.matches("environment", "deleted")


@pytest.mark.parametrize(
    ("scope", "type_", "specific"),
    [
        ("environment", "renamed", {"name": "n", "type": "t"}),
        ("environment", "created", {"name": "n"}),
        ("environment", "created", {"name": "n", "type": "t", "status": "s"}),
    ],
    ids=["unknown-event", "missing-variable", "extra-variable"],
)
def test_occurrence_refuses_what_the_catalogue_does_not_say(
    scope: str, type_: str, specific: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match=r"catalogue|provides"):
        Occurrence.of(
            scope,
            type_,
            triggered_at="t",
            triggered_by="u",
            org_id="o",
            app_id="a",
            env_id="e",
            **specific,
        )


@pytest.mark.parametrize(
    ("epoch_ns", "text"),
    [
        (1_711_097_363_436_635_385, "2024-03-22T08:49:23.436635385Z"),
        (0, "1970-01-01T00:00:00.000000000Z"),
        (1_000_000_001, "1970-01-01T00:00:01.000000001Z"),
    ],
    ids=["documented-example", "epoch", "one-nanosecond"],
)
def test_rfc3339_nanoseconds(epoch_ns: int, text: str) -> None:
    assert rfc3339_nanoseconds(epoch_ns) == text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", text)


def test_event_responses_are_the_catalogue_in_order() -> None:
    listed = [(e.scope, e.type, tuple(e.properties)) for e in event_responses()]
    assert listed == [(e.scope, e.type, e.variable_names()) for e in catalogue.EVENTS]
