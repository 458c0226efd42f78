"""Tests for provider.plugin.diagnostics and the tfplugin6 converters in provider.plugin.convert."""

from __future__ import annotations

import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.convert import (
    from_proto_dynamic_value,
    to_proto_diagnostics,
    to_proto_dynamic_value,
    to_proto_schema,
)
from provider.plugin.diagnostics import (
    SET_ELEMENT,
    AttributePath,
    Diagnostic,
    DiagnosticError,
    Diagnostics,
    MapKey,
    Severity,
    format_path,
)
from provider.plugin.schema import Schema, boolean, map_of_strings, nested_set, string


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("url",), "url"),
        (("triggers", 0, "scope"), "triggers[0].scope"),
        (("headers", MapKey("X-Token")), 'headers["X-Token"]'),
        (("a", "b", "c"), "a.b.c"),
        ((0,), "[0]"),
        (("m", MapKey("k"), 2, "x"), 'm["k"][2].x'),
        (("triggers", SET_ELEMENT, "scope"), "triggers[*].scope"),
    ],
    ids=["empty", "attribute", "list-index", "map-key", "nested", "index-first", "mixed", "set"],
)
def test_format_path_reads_like_terraform(path: AttributePath, text: str) -> None:
    assert format_path(path) == text


@pytest.mark.parametrize(
    ("severities", "has_errors"),
    [
        ([], False),
        ([Severity.WARNING], False),
        ([Severity.WARNING, Severity.ERROR], True),
        ([Severity.ERROR], True),
    ],
    ids=["none", "warning-only", "warning-and-error", "error-only"],
)
def test_has_errors_only_for_errors(severities: list[Severity], has_errors: bool) -> None:
    diags = Diagnostics()
    for severity in severities:
        (diags.error if severity is Severity.ERROR else diags.warning)("S", "d")
    assert diags.has_errors is has_errors
    assert len(diags) == len(severities)


def test_diagnostics_keep_order_and_extend() -> None:
    diags = Diagnostics()
    diags.warning("First", "one", ("a",))
    other = Diagnostics()
    other.error("Second")
    diags.extend(other)
    diags.extend([Diagnostic(Severity.WARNING, "Third")])
    assert list(diags) == [
        Diagnostic(Severity.WARNING, "First", "one", ("a",)),
        Diagnostic(Severity.ERROR, "Second", "", None),
        Diagnostic(Severity.WARNING, "Third", "", None),
    ]


def test_diagnostic_error_carries_one_error() -> None:
    error = DiagnosticError("Bad Thing", "Fix it.", ("url",))
    assert error.diagnostic == Diagnostic(Severity.ERROR, "Bad Thing", "Fix it.", ("url",))
    assert str(error) == "Bad Thing: Fix it."
    assert str(DiagnosticError("Bad Thing")) == "Bad Thing"


def test_to_proto_diagnostics_keeps_severity_and_text() -> None:
    error, warning = to_proto_diagnostics(
        [
            Diagnostic(Severity.ERROR, "Err", "error detail"),
            Diagnostic(Severity.WARNING, "Warn", "warning detail", ()),
        ]
    )
    assert (error.severity, error.summary, error.detail) == (
        pb.Diagnostic.ERROR,
        "Err",
        "error detail",
    )
    assert (warning.severity, warning.summary) == (pb.Diagnostic.WARNING, "Warn")
    assert pb.Diagnostic.ERROR == 1
    assert pb.Diagnostic.WARNING == 2
    assert not error.HasField("attribute")
    assert not warning.HasField("attribute")


def step_tuple(step: pb.AttributePath.Step) -> tuple[str, object]:
    kind = step.WhichOneof("selector")
    assert kind is not None
    return kind, getattr(step, kind)


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        (("url",), [("attribute_name", "url")]),
        (
            ("triggers", 3, "scope"),
            [("attribute_name", "triggers"), ("element_key_int", 3), ("attribute_name", "scope")],
        ),
        (
            ("headers", MapKey("X-Token")),
            [("attribute_name", "headers"), ("element_key_string", "X-Token")],
        ),
        ((MapKey("0"),), [("element_key_string", "0")]),
        (("triggers", SET_ELEMENT, "scope"), [("attribute_name", "triggers")]),
    ],
    ids=["attribute", "list-index", "map-key", "string-key-that-looks-like-int", "stops-at-set"],
)
def test_to_proto_diagnostics_attribute_path_steps(
    path: AttributePath, steps: list[tuple[str, object]]
) -> None:
    [message] = to_proto_diagnostics([Diagnostic(Severity.ERROR, "S", "d", path)])
    assert [step_tuple(s) for s in message.attribute.steps] == steps


def test_to_proto_diagnostics_repairs_invalid_utf8() -> None:
    [message] = to_proto_diagnostics(
        [Diagnostic(Severity.ERROR, "Bad \udcff Summary", "API said \ud800.", ("k",))]
    )
    assert (message.summary, message.detail) == ("Bad ? Summary", "API said ?.")
    wire = pb.Diagnostic.FromString(message.SerializeToString())
    assert wire.summary == "Bad ? Summary"


def test_to_proto_diagnostics_repairs_invalid_utf8_in_the_path() -> None:
    """A map key with a lone surrogate (found by the config fuzzer) must not crash encoding."""
    [message] = to_proto_diagnostics(
        [Diagnostic(Severity.ERROR, "S", "d", ("secret_headers_wo", MapKey("\ud800")))]
    )
    wire = pb.Diagnostic.FromString(message.SerializeToString())
    assert [step_tuple(s) for s in wire.attribute.steps] == [
        ("attribute_name", "secret_headers_wo"),
        ("element_key_string", "?"),
    ]


def test_to_proto_diagnostics_keeps_valid_unicode() -> None:
    [message] = to_proto_diagnostics([Diagnostic(Severity.WARNING, "Café ✓", "日本")])
    assert (message.summary, message.detail) == ("Café ✓", "日本")


SCHEMA = Schema(
    version=2,
    description="A webhook.",
    attributes={
        "id": string("The ID.", required=True),
        "token": string("Secret.", optional=True, sensitive=True),
        "host": string("Old.", optional=True, deprecation="Use api_prefix."),
        "disabled": boolean("Off?", optional=True, computed=True, default=False),
        "headers": map_of_strings("Headers.", optional=True),
        "triggers": nested_set(
            "Triggers.",
            {"scope": string("Scope.", required=True), "type": string("Type.", required=True)},
            optional=True,
        ),
    },
)


def test_to_proto_schema_describes_every_attribute() -> None:
    message = to_proto_schema(SCHEMA)
    assert message.version == 2
    assert message.block.description == "A webhook."
    assert message.block.description_kind == pb.MARKDOWN
    attributes = {a.name: a for a in message.block.attributes}
    assert list(attributes) == ["id", "token", "host", "disabled", "headers", "triggers"]
    assert {name: a.type for name, a in attributes.items()} == {
        "id": b'"string"',
        "token": b'"string"',
        "host": b'"string"',
        "disabled": b'"bool"',
        "headers": b'["map","string"]',
        "triggers": b"",
    }
    flags = {
        name: (a.required, a.optional, a.computed, a.sensitive, a.deprecated)
        for name, a in attributes.items()
    }
    assert flags["id"] == (True, False, False, False, False)
    assert flags["token"] == (False, True, False, True, False)
    assert flags["host"] == (False, True, False, False, True)
    assert flags["disabled"] == (False, True, True, False, False)
    assert attributes["host"].deprecation_message == "Use api_prefix."
    assert attributes["id"].deprecation_message == ""
    assert attributes["id"].description == "The ID."
    assert not attributes["id"].HasField("nested_type")


def test_to_proto_schema_nested_set_is_a_nested_type() -> None:
    triggers = next(a for a in to_proto_schema(SCHEMA).block.attributes if a.name == "triggers")
    assert triggers.HasField("nested_type")
    assert triggers.nested_type.nesting == pb.Schema.Object.SET
    assert [(a.name, a.type, a.required) for a in triggers.nested_type.attributes] == [
        ("scope", b'"string"', True),
        ("type", b'"string"', True),
    ]


def test_to_proto_schema_survives_the_wire() -> None:
    message = to_proto_schema(SCHEMA)
    assert pb.Schema.FromString(message.SerializeToString()) == message


VALUE_TYPE = SCHEMA.object_type()
VALUE: dict[str, cty.Value] = {
    "disabled": True,
    "headers": {"X-Token": "t"},
    "host": None,
    "id": "hook",
    "token": cty.UNKNOWN,
    "triggers": [{"scope": "environment", "type": "created"}],
}


@pytest.mark.parametrize(
    "value",
    [VALUE, None, cty.UNKNOWN, {**VALUE, "triggers": [], "headers": {}}],
    ids=["object", "null", "unknown", "empty-collections"],
)
def test_dynamic_value_round_trips_as_msgpack(value: cty.Value) -> None:
    message = to_proto_dynamic_value(value, VALUE_TYPE)
    assert message.msgpack
    assert message.json == b""
    assert from_proto_dynamic_value(message, VALUE_TYPE) == value


def test_dynamic_value_from_json_state() -> None:
    text = cty.encode_json({**VALUE, "token": "s"}, VALUE_TYPE)
    value = from_proto_dynamic_value(pb.DynamicValue(json=text), VALUE_TYPE)
    assert value == {**VALUE, "token": "s"}


def test_empty_dynamic_value_is_null() -> None:
    assert from_proto_dynamic_value(pb.DynamicValue(), VALUE_TYPE) is None
