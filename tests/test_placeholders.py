"""Tests for provider.placeholders: payload placeholders checked against the event catalogue."""

from __future__ import annotations

import pytest

from provider import events
from provider.messages import did_you_mean
from provider.placeholders import KNOWN_PLACEHOLDERS, check_triggers_provide
from provider.plugin import cty
from provider.plugin.diagnostics import Diagnostic, Diagnostics, MapKey, Severity
from provider.plugin.resource import ValidateRequest
from provider.webhook import WebhookResource

PATH = ("payload",)
ALL_PLACEHOLDERS = ", ".join("${" + name + "}" for name in events.VARIABLE_NAMES)


def trigger(scope: cty.Value, type_: cty.Value) -> dict[str, cty.Value]:
    return {"scope": scope, "type": type_}


def unknown_names(payload: cty.Value) -> list[Diagnostic]:
    diags = Diagnostics()
    KNOWN_PLACEHOLDERS.validate(payload, PATH, diags)
    return list(diags)


def coverage(payload: cty.Value, triggers: cty.Value) -> list[Diagnostic]:
    diags = Diagnostics()
    check_triggers_provide(payload, triggers, diags)
    return list(diags)


def every_placeholder_of(event: events.Event) -> dict[str, cty.Value]:
    return {name: "${" + name + "}" for name in event.variable_names()}


# --- placeholders no event provides ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "guess"),
    [
        ("${app_idd}", "app_idd", "app_id"),
        ("deploy ${deploy_idd} now", "deploy_idd", "deploy_id"),
        ("${ app_id }", " app_id ", "app_id"),
        ("${APP_ID}", "APP_ID", "app_id"),
        ("${triggerd_at}", "triggerd_at", "triggered_at"),
        ("${stauts}", "stauts", "status"),
    ],
    ids=["typo", "inside-text", "spaces", "upper-case", "missing-letter", "swapped-letters"],
)
def test_unknown_placeholder_is_a_warning_with_did_you_mean(
    text: str, name: str, guess: str
) -> None:
    [diagnostic] = unknown_names({"ok": "${app_id}", "bad": text})
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.WARNING,
        "Unknown Payload Placeholder",
        ("payload", MapKey("bad")),
    )
    assert diagnostic.detail == (
        f"No Humanitec event provides ${{{name}}}, so the receiver gets it as written. "
        f"Did you mean ${{{guess}}}? Placeholders are {ALL_PLACEHOLDERS}; write them as "
        "$${name} in HCL."
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [("${}", "${}"), ("${version}", "${version}"), ("${a\nb}", "${a\\nb}")],
    ids=["empty-name", "far-from-any", "newline-escaped"],
)
def test_unknown_placeholder_without_a_close_name_has_no_suggestion(text: str, shown: str) -> None:
    [diagnostic] = unknown_names({"k": text})
    assert diagnostic.summary == "Unknown Payload Placeholder"
    assert diagnostic.detail.startswith(f"No Humanitec event provides {shown}, so")
    assert "Did you mean" not in diagnostic.detail


def test_a_long_unknown_name_is_cut_short_in_the_message() -> None:
    [diagnostic] = unknown_names({"k": "${" + "x" * 100_000 + "}"})
    assert len(diagnostic.detail) < 1_000
    assert "${" + "x" * 60 + "...}" in diagnostic.detail


def test_one_warning_per_unknown_name_and_key() -> None:
    diagnostics = unknown_names({"a": "${nope} ${nope} ${nah}", "b": "${nope}"})
    assert [(d.path, d.detail.split(",")[0]) for d in diagnostics] == [
        (("payload", MapKey("a")), "No Humanitec event provides ${nope}"),
        (("payload", MapKey("a")), "No Humanitec event provides ${nah}"),
        (("payload", MapKey("b")), "No Humanitec event provides ${nope}"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {name: "${" + name + "}" for name in events.VARIABLE_NAMES},
        {"all": " ".join("${" + name + "}" for name in events.VARIABLE_NAMES)},
        {"price": "$5", "share": "100%", "dollars": "$$", "percent": "%{x}", "brace": "${"},
        {"shell": "$HOME and $(date)", "escaped": "$${app_id}", "json": '{"a": 1}'},
        {"late": cty.UNKNOWN, "null": None},
        cty.UNKNOWN,
        None,
        {},
    ],
    ids=[
        "every-variable",
        "every-variable-in-one-value",
        "literal-dollar-and-percent",
        "other-literals",
        "unknown-and-null-values",
        "unknown-map",
        "null",
        "empty",
    ],
)
def test_documented_placeholders_literals_and_unknowns_pass(payload: cty.Value) -> None:
    assert unknown_names(payload) == []


# --- placeholders some triggers do not provide -------------------------------------------------


@pytest.mark.parametrize("event", events.EVENTS, ids=lambda e: e.name)
def test_every_placeholder_of_a_trigger_passes(event: events.Event) -> None:
    payload = every_placeholder_of(event)
    assert coverage(payload, [trigger(event.scope, event.type)]) == []
    assert unknown_names(payload) == []


def test_common_placeholders_pass_with_every_trigger() -> None:
    payload: dict[str, cty.Value] = {v.name: "${" + v.name + "}" for v in events.COMMON_VARIABLES}
    every: list[cty.Value] = [trigger(e.scope, e.type) for e in events.EVENTS]
    assert coverage(payload, every) == []


def test_placeholder_no_selected_trigger_provides_names_the_trigger() -> None:
    # The seed's mistake: ${deploy_id} and ${status} on environment/created.
    payload: dict[str, cty.Value] = {
        "deployment": "${deploy_id}",
        "status": "${status}",
        "env": "${env_id}",
    }
    diagnostics = coverage(payload, [trigger("environment", "created")])
    assert [(d.severity, d.summary, d.path) for d in diagnostics] == [
        (Severity.WARNING, "Placeholder Not Provided By Trigger", ("payload", MapKey(key)))
        for key in ("deployment", "status")
    ]
    assert diagnostics[0].detail == (
        "${deploy_id} is not provided by the trigger environment/created, whose calls leave "
        "it unfilled; only deployment/started and deployment/finished provide it. Use it in "
        "a webhook whose triggers all provide it, or make one webhook per kind of event."
    )


def test_placeholder_only_some_triggers_provide_names_the_others() -> None:
    triggers: list[cty.Value] = [
        trigger("deployment", "finished"),
        trigger("environment", "deleted"),
        trigger("environment", "created"),
    ]
    [diagnostic] = coverage({"who": "${name} by ${triggered_by}"}, triggers)
    assert diagnostic.path == ("payload", MapKey("who"))
    assert diagnostic.detail.startswith(
        "${name} is not provided by the trigger deployment/finished, whose calls leave it "
        "unfilled; only environment/created and environment/deleted provide it."
    )
    [both] = coverage({"d": "${comment}"}, [*triggers, trigger("deployment", "started")])
    assert both.detail.startswith(
        "${comment} is not provided by the triggers environment/created and "
        "environment/deleted, whose calls"
    )


@pytest.mark.parametrize(
    ("payload", "triggers"),
    [
        (cty.UNKNOWN, [trigger("environment", "created")]),
        ({"d": cty.UNKNOWN}, [trigger("environment", "created")]),
        ({"d": "${deploy_id}"}, cty.UNKNOWN),
        ({"d": "${deploy_id}"}, [trigger("environment", cty.UNKNOWN)]),
        (
            {"d": "${deploy_id}"},
            [trigger(cty.UNKNOWN, cty.UNKNOWN), trigger("deployment", "started")],
        ),
        ({"d": "${deploy_id}"}, [trigger("environment", "finish")]),
        ({"d": "${deploy_idd}"}, [trigger("environment", "created")]),
        ({"d": "${deploy_id}"}, []),
        ({"d": None}, [trigger("environment", "created")]),
        (None, [trigger("environment", "created")]),
    ],
    ids=[
        "unknown-payload",
        "unknown-value",
        "unknown-triggers",
        "unknown-type",
        "unknown-trigger-beside-a-provider",
        "unknown-event-is-an-error-elsewhere",
        "no-event-provides-it-is-reported-elsewhere",
        "no-triggers-is-reported-elsewhere",
        "null-value",
        "null-payload",
    ],
)
def test_coverage_is_not_judged_on_unknowns_or_others_mistakes(
    payload: cty.Value, triggers: cty.Value
) -> None:
    assert coverage(payload, triggers) == []


def test_the_resource_validates_coverage_and_leaves_the_rest_to_the_schema() -> None:
    config: dict[str, cty.Value] = {
        "payload": {"deployment": "${deploy_id}", "typo": "${app_idd}"},
        "triggers": [trigger("environment", "created")],
        "headers": None,
        "secret_headers_wo": None,
    }
    resource = WebhookResource(provider=None)  # type: ignore[arg-type]  # validate needs none
    diagnostics = list(resource.validate(ValidateRequest(config)).diagnostics)
    assert [(d.summary, d.path) for d in diagnostics] == [
        ("Placeholder Not Provided By Trigger", ("payload", MapKey("deployment")))
    ]


# --- did you mean -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("finish", ("started", "finished"), "finished"),
        ("Finished", ("started", "finished"), "finished"),
        (" app_id ", ("app_id", "env_id"), "app_id"),
        ("app_idd", events.VARIABLE_NAMES, "app_id"),
        ("envirnment", ("environment", "deployment"), "environment"),
        ("zzz", ("environment", "deployment"), None),
        ("", ("a",), None),
        ("x", (), None),
        ("finished" + "x" * 100, ("finished",), None),
    ],
)
def test_did_you_mean(word: str, choices: tuple[str, ...], expected: str | None) -> None:
    assert did_you_mean(word, choices) == expected
