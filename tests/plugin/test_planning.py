"""Tests for provider.plugin.planning: cty equality, declared plan behaviour, consistency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from provider.plugin import cty
from provider.plugin.diagnostics import AttributePath, Diagnostics, MapKey
from provider.plugin.planning import (
    apply_inconsistencies,
    plan_resource,
    plan_violations,
    replacement_paths,
    validate_config,
    values_equal,
)
from provider.plugin.schema import (
    Attribute,
    NestedObject,
    Nesting,
    Schema,
    boolean,
    map_of_strings,
    nested_set,
    string,
)

TRIGGER = {"scope": string("Scope.", required=True), "type": string("Type.", required=True)}
SCHEMA = Schema(
    {
        "id": string("ID.", required=True, requires_replace=True),
        "name": string("Name.", optional=True),
        "uid": string("Server-side ID.", computed=True),
        "disabled": boolean("Disabled?", optional=True, computed=True, default=False),
        "headers": map_of_strings("Headers.", optional=True),
        "triggers": nested_set("Triggers.", TRIGGER, optional=True, requires_replace=True),
    }
)
OBJECT = SCHEMA.object_type()
SCOPE_TYPE = cty.Object({"scope": cty.STRING, "type": cty.STRING})


def trigger(scope: cty.Value, type_: cty.Value = "created") -> dict[str, cty.Value]:
    return {"scope": scope, "type": type_}


def state(**changes: cty.Value) -> dict[str, cty.Value]:
    base: dict[str, cty.Value] = {
        "id": "a",
        "name": "x",
        "uid": "u-1",
        "disabled": False,
        "headers": {"k": "v"},
        "triggers": [trigger("environment"), trigger("deployment")],
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("a", "b", "t", "equal"),
    [
        (["a", "b"], ["b", "a"], cty.Set(cty.STRING), True),
        (["a"], ["a", "b"], cty.Set(cty.STRING), False),
        ([trigger("x"), trigger("y")], [trigger("y"), trigger("x")], cty.Set(SCOPE_TYPE), True),
        ([trigger("x")], [trigger("x", "deleted")], cty.Set(SCOPE_TYPE), False),
        (["a", "b"], ["b", "a"], cty.List(cty.STRING), False),
        (["a", "b"], ["a", "b"], cty.List(cty.STRING), True),
        (["a"], ["a", "a"], cty.List(cty.STRING), False),
        (["a", 1], ["a", 1.0], cty.Tuple([cty.STRING, cty.NUMBER]), True),
        ({"k": "v"}, {"k": "v"}, cty.Map(cty.STRING), True),
        ({"k": "v"}, {"k": "w"}, cty.Map(cty.STRING), False),
        ({"k": "v"}, {"k": "v", "l": "v"}, cty.Map(cty.STRING), False),
        ({"s": "a", "t": None}, {"s": "a"}, cty.Object({"s": cty.STRING, "t": cty.STRING}), True),
        ({"scope": "a", "type": "b"}, {"scope": "a", "type": "c"}, SCOPE_TYPE, False),
        (1, 1.0, cty.NUMBER, True),
        (1, Decimal("1"), cty.NUMBER, True),
        (0.5, Decimal("0.5"), cty.NUMBER, True),
        (Decimal("0.1"), 0.1, cty.NUMBER, False),
        (1, 2, cty.NUMBER, False),
        (True, 1, cty.BOOL, False),
        ("1", "1", cty.STRING, True),
        (None, None, cty.STRING, True),
        (None, "", cty.STRING, False),
        (None, cty.UNKNOWN, cty.STRING, False),
        (cty.UNKNOWN, cty.UNKNOWN, cty.STRING, True),
        (["a"], {"a": "a"}, cty.Set(cty.STRING), False),
    ],
    ids=[
        "set-ignores-order",
        "set-members-differ",
        "set-of-objects-ignores-order",
        "set-of-objects-differ",
        "list-order-matters",
        "list-same",
        "list-length",
        "tuple-int-vs-float",
        "map-same",
        "map-value-differs",
        "map-keys-differ",
        "object-missing-is-null",
        "object-attribute-differs",
        "int-vs-float",
        "int-vs-decimal",
        "float-vs-decimal",
        "inexact-decimal-vs-float",
        "numbers-differ",
        "bool-is-not-number",
        "strings-same",
        "null-null",
        "null-vs-empty",
        "null-vs-unknown",
        "unknown-unknown",
        "list-vs-dict",
    ],
)
def test_values_equal_as_cty_sees_it(
    a: cty.Value, b: cty.Value, t: cty.CtyType, equal: bool
) -> None:
    assert values_equal(a, b, t) is equal
    assert values_equal(b, a, t) is equal


@pytest.mark.parametrize(
    ("prior", "proposed", "config", "expected"),
    [
        (
            None,
            {"id": "a", "uid": None, "disabled": None},
            {"id": "a"},
            {"id": "a", "uid": cty.UNKNOWN, "disabled": False},
        ),
        (
            None,
            {"id": "a", "uid": None, "disabled": True},
            {"id": "a", "disabled": True},
            {"id": "a", "uid": cty.UNKNOWN, "disabled": True},
        ),
        (
            state(disabled=True),
            {"id": "a", "uid": "u-1", "disabled": True},
            {"id": "a"},
            {"id": "a", "uid": "u-1", "disabled": False},
        ),
        (
            state(),
            {"id": "b", "uid": "u-1", "disabled": True},
            {"id": "b", "disabled": True},
            {"id": "b", "uid": "u-1", "disabled": True},
        ),
    ],
    ids=[
        "create-plans-default-and-unknown-computed",
        "create-keeps-configured",
        "update-plans-default-when-config-null",
        "update-keeps-prior-computed",
    ],
)
def test_plan_resource_applies_declared_behaviour(
    prior: dict[str, cty.Value] | None,
    proposed: dict[str, cty.Value],
    config: dict[str, cty.Value],
    expected: dict[str, cty.Value],
) -> None:
    assert plan_resource(SCHEMA, prior, proposed, config) == expected
    assert "disabled" in proposed  # the proposal itself is left alone


@pytest.mark.parametrize(
    ("planned", "paths"),
    [
        (state(), []),
        (state(name="y", headers={}, uid="u-2"), []),
        (state(id="b"), [("id",)]),
        (state(id=cty.UNKNOWN), [("id",)]),
        (state(triggers=[trigger("deployment"), trigger("environment")]), []),
        (state(id="b", triggers=[trigger("application")]), [("id",), ("triggers",)]),
    ],
    ids=["nothing", "in-place-changes", "id", "id-unknown", "set-reordered", "both"],
)
def test_replacement_paths_are_changed_requires_replace_attributes(
    planned: dict[str, cty.Value], paths: list[AttributePath]
) -> None:
    assert replacement_paths(SCHEMA, state(), planned) == paths


@pytest.mark.parametrize(
    ("config", "planned", "paths"),
    [
        (state(), state(), []),
        (state(name="x"), state(name="y"), [("name",)]),
        (state(name=None), state(name="y"), []),
        (state(disabled=None), state(disabled=False), []),
        (state(), state(triggers=[trigger("deployment"), trigger("environment")]), []),
        (state(headers={"k": "v"}), state(headers={}), [("headers",)]),
        (state(uid=cty.UNKNOWN), state(uid="u-1"), [("uid",)]),
    ],
    ids=[
        "same",
        "configured-value-changed",
        "null-config-may-be-planned",
        "default-planned",
        "set-reordered",
        "map-emptied",
        "unknown-config-resolved",
    ],
)
def test_plan_violations_are_configured_values_planned_otherwise(
    config: dict[str, cty.Value], planned: dict[str, cty.Value], paths: list[AttributePath]
) -> None:
    assert plan_violations(SCHEMA, config, planned) == paths


DIFFERENT = "was planned with a different value"
STILL_UNKNOWN = "is still unknown after apply"


@pytest.mark.parametrize(
    ("planned", "new", "expected"),
    [
        (state(), state(), []),
        (state(), state(name="y"), [(("name",), DIFFERENT)]),
        (state(), state(name=None), [(("name",), DIFFERENT)]),
        (state(uid=cty.UNKNOWN), state(uid=cty.UNKNOWN), [(("uid",), STILL_UNKNOWN)]),
        (state(uid=cty.UNKNOWN), state(uid="anything"), []),
        (state(uid=cty.UNKNOWN), state(uid=None), []),
        (state(), state(triggers=[trigger("deployment"), trigger("environment")]), []),
        (state(), state(triggers=[trigger("environment")]), [(("triggers",), DIFFERENT)]),
        (state(headers={"k": cty.UNKNOWN}), state(headers={"k": "v", "l": "w"}), []),
        (
            state(headers={"k": cty.UNKNOWN}),
            state(headers={"k": cty.UNKNOWN}),
            [(("headers",), STILL_UNKNOWN)],
        ),
        (state(), cty.UNKNOWN, [((), STILL_UNKNOWN)]),
        (cty.UNKNOWN, state(), []),
    ],
    ids=[
        "same",
        "known-value-changed",
        "known-value-nulled",
        "unknown-left",
        "unknown-resolved",
        "unknown-resolved-to-null",
        "set-reordered",
        "set-changed",
        "partly-known-map-resolved",
        "partly-known-map-still-unknown",
        "whole-state-unknown",
        "whole-plan-unknown",
    ],
)
def test_apply_inconsistencies_point_at_the_attribute(
    planned: cty.Value, new: cty.Value, expected: list[tuple[AttributePath, str]]
) -> None:
    assert list(apply_inconsistencies(planned, new, OBJECT)) == expected


class ReportsPath:
    """A validator that reports every value it sees, so the test can see where it ran."""

    description = "reports every value"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        diags.error(repr(value), "", path)


REPORT = (ReportsPath(),)
NAME = {"name": string("Name.", optional=True, validators=REPORT)}
NESTED_SCHEMA = Schema(
    {
        "url": string("URL.", optional=True, validators=REPORT),
        "set": nested_set("Set.", NAME, optional=True),
        "list": Attribute("List.", nested=NestedObject(NAME, Nesting.LIST), optional=True),
        "map": Attribute("Map.", nested=NestedObject(NAME, Nesting.MAP), optional=True),
        "single": Attribute("One.", nested=NestedObject(NAME, Nesting.SINGLE), optional=True),
        "whole": nested_set("Whole.", NAME, optional=True, validators=REPORT),
    }
)


@pytest.mark.parametrize(
    ("config", "reported"),
    [
        ({"url": "u"}, [(("url",), "'u'")]),
        ({"url": None, "set": None, "list": cty.UNKNOWN, "map": None}, []),
        ({"url": cty.UNKNOWN}, []),
        (
            {"set": [{"name": "a"}, {"name": "b"}]},
            [(("set", "name"), "'a'"), (("set", "name"), "'b'")],
        ),
        ({"set": [{"name": None}, {"name": cty.UNKNOWN}, cty.UNKNOWN]}, []),
        (
            {"list": [{"name": "a"}, {"name": "b"}]},
            [(("list", 0, "name"), "'a'"), (("list", 1, "name"), "'b'")],
        ),
        ({"map": {"k": {"name": "a"}}}, [(("map", MapKey("k"), "name"), "'a'")]),
        ({"single": {"name": "a"}}, [(("single", "name"), "'a'")]),
        ({"whole": [{"name": "a"}]}, [(("whole",), "[{'name': 'a'}]"), (("whole", "name"), "'a'")]),
    ],
    ids=[
        "top-level",
        "null-and-unknown-skipped",
        "unknown-string-skipped",
        "set-elements-point-at-the-set",
        "unknown-inside-set-skipped",
        "list-elements-have-an-index",
        "map-elements-have-a-key",
        "single-object",
        "attribute-validator-sees-whole-set",
    ],
)
def test_validate_config_runs_on_known_values_with_paths(
    config: dict[str, cty.Value], reported: list[tuple[AttributePath, str]]
) -> None:
    diags = Diagnostics()
    validate_config(NESTED_SCHEMA, config, diags)
    assert [(d.path, d.summary) for d in diags] == reported
