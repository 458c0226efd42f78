"""Tests for provider.plugin.planning: cty equality, declared plan behaviour, consistency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from provider.plugin import cty
from provider.plugin.diagnostics import SET_ELEMENT, AttributePath, Diagnostics, MapKey
from provider.plugin.planning import (
    apply_inconsistencies,
    plan_resource,
    plan_violations,
    replacement_paths,
    validate_config,
    values_equal,
)
from provider.plugin.resource import State
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


S, SET_S, LIST_S, MAP_S, N = (
    cty.STRING,
    cty.Set(cty.STRING),
    cty.List(cty.STRING),
    cty.Map(cty.STRING),
    cty.NUMBER,
)
EQUALITY: dict[str, tuple[cty.Value, cty.Value, cty.CtyType, bool]] = {
    "set-ignores-order": (["a", "b"], ["b", "a"], SET_S, True),
    "set-members-differ": (["a"], ["a", "b"], SET_S, False),
    "set-of-objects-ignores-order": (
        [trigger("x"), trigger("y")],
        [trigger("y"), trigger("x")],
        cty.Set(SCOPE_TYPE),
        True,
    ),
    "set-of-objects-differ": ([trigger("x")], [trigger("x", "gone")], cty.Set(SCOPE_TYPE), False),
    "list-order-matters": (["a", "b"], ["b", "a"], LIST_S, False),
    "list-same": (["a", "b"], ["a", "b"], LIST_S, True),
    "list-length": (["a"], ["a", "a"], LIST_S, False),
    "tuple-int-vs-float": (["a", 1], ["a", 1.0], cty.Tuple([S, N]), True),
    "map-same": ({"k": "v"}, {"k": "v"}, MAP_S, True),
    "map-value-differs": ({"k": "v"}, {"k": "w"}, MAP_S, False),
    "map-keys-differ": ({"k": "v"}, {"k": "v", "l": "v"}, MAP_S, False),
    "object-missing-is-null": ({"scope": "a", "type": None}, {"scope": "a"}, SCOPE_TYPE, True),
    "object-attribute-differs": ({"scope": "a"}, {"scope": "b"}, SCOPE_TYPE, False),
    "int-vs-float": (1, 1.0, N, True),
    "int-vs-decimal": (1, Decimal("1"), N, True),
    "float-vs-decimal": (0.5, Decimal("0.5"), N, True),
    "inexact-decimal-vs-float": (Decimal("0.1"), 0.1, N, False),
    "numbers-differ": (1, 2, N, False),
    "bool-is-not-number": (True, 1, cty.BOOL, False),
    "null-null": (None, None, S, True),
    "null-vs-empty": (None, "", S, False),
    "null-vs-unknown": (None, cty.UNKNOWN, S, False),
    "unknown-unknown": (cty.UNKNOWN, cty.UNKNOWN, S, True),
    "list-vs-map": (["a"], {"a": "a"}, SET_S, False),
}


@pytest.mark.parametrize(("a", "b", "t", "equal"), EQUALITY.values(), ids=EQUALITY.keys())
def test_values_equal_as_cty_sees_it(
    a: cty.Value, b: cty.Value, t: cty.CtyType, equal: bool
) -> None:
    assert values_equal(a, b, t) is equal
    assert values_equal(b, a, t) is equal


def planned(uid: cty.Value, disabled: cty.Value, id_: str = "a") -> dict[str, cty.Value]:
    return {"id": id_, "uid": uid, "disabled": disabled}


PLANS: dict[str, tuple[State | None, State, State, State]] = {
    "create-plans-default-and-unknown-computed": (
        None,
        planned(None, None),
        {"id": "a"},
        planned(cty.UNKNOWN, False),
    ),
    "create-keeps-configured": (
        None,
        planned(None, True),
        {"id": "a", "disabled": True},
        planned(cty.UNKNOWN, True),
    ),
    "update-plans-default-when-config-null": (
        state(disabled=True),
        planned("u-1", True),
        {"id": "a"},
        planned("u-1", False),
    ),
    "update-keeps-prior-computed": (
        state(),
        planned("u-1", True, "b"),
        {"id": "b", "disabled": True},
        planned("u-1", True, "b"),
    ),
}


@pytest.mark.parametrize(
    ("prior", "proposed", "config", "expected"), PLANS.values(), ids=PLANS.keys()
)
def test_plan_resource_applies_declared_behaviour(
    prior: State | None, proposed: State, config: State, expected: State
) -> None:
    before = dict(proposed)
    assert plan_resource(SCHEMA, prior, proposed, config) == expected
    assert proposed == before  # the proposal itself is left alone


REORDERED: cty.Value = [trigger("deployment"), trigger("environment")]
REPLACEMENTS: dict[str, tuple[State, list[AttributePath]]] = {
    "nothing": (state(), []),
    "in-place-changes": (state(name="y", headers={}, uid="u-2"), []),
    "id": (state(id="b"), [("id",)]),
    "id-unknown": (state(id=cty.UNKNOWN), [("id",)]),
    "set-reordered": (state(triggers=REORDERED), []),
    "both": (state(id="b", triggers=[trigger("application")]), [("id",), ("triggers",)]),
}


@pytest.mark.parametrize(("new", "paths"), REPLACEMENTS.values(), ids=REPLACEMENTS.keys())
def test_replacement_paths_are_changed_requires_replace_attributes(
    new: State, paths: list[AttributePath]
) -> None:
    assert replacement_paths(SCHEMA, state(), new) == paths


VIOLATIONS: dict[str, tuple[State, State, list[AttributePath]]] = {
    "same": (state(), state(), []),
    "configured-value-changed": (state(name="x"), state(name="y"), [("name",)]),
    "null-config-may-be-planned": (state(name=None), state(name="y"), []),
    "default-planned": (state(disabled=None), state(disabled=False), []),
    "set-reordered": (state(), state(triggers=REORDERED), []),
    "map-emptied": (state(headers={"k": "v"}), state(headers={}), [("headers",)]),
    "unknown-config-resolved": (state(uid=cty.UNKNOWN), state(uid="u-1"), [("uid",)]),
}


@pytest.mark.parametrize(("config", "new", "paths"), VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_plan_violations_are_configured_values_planned_otherwise(
    config: State, new: State, paths: list[AttributePath]
) -> None:
    assert plan_violations(SCHEMA, config, new) == paths


DIFFERENT = "was planned with a different value"
STILL_UNKNOWN = "is still unknown after apply"
PARTLY_KNOWN = state(headers={"k": cty.UNKNOWN})
INCONSISTENCIES: dict[str, tuple[cty.Value, cty.Value, list[tuple[AttributePath, str]]]] = {
    "same": (state(), state(), []),
    "known-value-changed": (state(), state(name="y"), [(("name",), DIFFERENT)]),
    "known-value-nulled": (state(), state(name=None), [(("name",), DIFFERENT)]),
    "unknown-left": (state(uid=cty.UNKNOWN), state(uid=cty.UNKNOWN), [(("uid",), STILL_UNKNOWN)]),
    "unknown-resolved": (state(uid=cty.UNKNOWN), state(uid="anything"), []),
    "unknown-resolved-to-null": (state(uid=cty.UNKNOWN), state(uid=None), []),
    "set-reordered": (state(), state(triggers=REORDERED), []),
    "set-changed": (state(), state(triggers=[trigger("x")]), [(("triggers",), DIFFERENT)]),
    "partly-known-map-resolved": (PARTLY_KNOWN, state(headers={"k": "v", "l": "w"}), []),
    "partly-known-map-unknown": (PARTLY_KNOWN, PARTLY_KNOWN, [(("headers",), STILL_UNKNOWN)]),
    "whole-state-unknown": (state(), cty.UNKNOWN, [((), STILL_UNKNOWN)]),
    "whole-plan-unknown": (cty.UNKNOWN, state(), []),
}


@pytest.mark.parametrize(
    ("plan", "new", "expected"), INCONSISTENCIES.values(), ids=INCONSISTENCIES.keys()
)
def test_apply_inconsistencies_point_at_the_attribute(
    plan: cty.Value, new: cty.Value, expected: list[tuple[AttributePath, str]]
) -> None:
    assert list(apply_inconsistencies(plan, new, OBJECT)) == expected


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


VALIDATIONS: dict[str, tuple[State, list[tuple[AttributePath, str]]]] = {
    "top-level": ({"url": "u"}, [(("url",), "'u'")]),
    "null-and-unknown-skipped": ({"url": None, "set": None, "list": cty.UNKNOWN}, []),
    "unknown-string-skipped": ({"url": cty.UNKNOWN}, []),
    "set-elements-have-no-key": (
        {"set": [{"name": "a"}, {"name": "b"}]},
        [(("set", SET_ELEMENT, "name"), "'a'"), (("set", SET_ELEMENT, "name"), "'b'")],
    ),
    "unknown-inside-set-skipped": (
        {"set": [{"name": None}, {"name": cty.UNKNOWN}, cty.UNKNOWN]},
        [],
    ),
    "list-elements-have-an-index": (
        {"list": [{"name": "a"}, {"name": "b"}]},
        [(("list", 0, "name"), "'a'"), (("list", 1, "name"), "'b'")],
    ),
    "map-elements-have-a-key": (
        {"map": {"k": {"name": "a"}}},
        [(("map", MapKey("k"), "name"), "'a'")],
    ),
    "single-object": ({"single": {"name": "a"}}, [(("single", "name"), "'a'")]),
    "attribute-validator-sees-whole-set": (
        {"whole": [{"name": "a"}]},
        [(("whole",), "[{'name': 'a'}]"), (("whole", SET_ELEMENT, "name"), "'a'")],
    ),
}


@pytest.mark.parametrize(("config", "reported"), VALIDATIONS.values(), ids=VALIDATIONS.keys())
def test_validate_config_runs_on_known_values_with_paths(
    config: dict[str, cty.Value], reported: list[tuple[AttributePath, str]]
) -> None:
    diags = Diagnostics()
    validate_config(NESTED_SCHEMA, config, diags)
    assert [(d.path, d.summary) for d in diags] == reported


NULLS_SCHEMA = Schema(
    {
        "id": string("ID.", required=True),
        "set": nested_set("Set.", TRIGGER, optional=True),
        "list": Attribute("List.", nested=NestedObject(TRIGGER, Nesting.LIST), optional=True),
        "map": Attribute("Map.", nested=NestedObject(TRIGGER, Nesting.MAP), optional=True),
        "single": Attribute("One.", nested=NestedObject(TRIGGER, Nesting.SINGLE), optional=True),
        "headers": map_of_strings("Headers.", optional=True),
        "tags": Attribute("Tags.", type=cty.List(cty.STRING), optional=True),
        "names": Attribute("Names.", type=cty.Set(cty.STRING), optional=True),
        "groups": Attribute("Groups.", type=cty.Map(cty.List(cty.STRING)), optional=True),
        "loose": map_of_strings("Loose.", optional=True, allow_null_elements=True),
    }
)
MISSING, NULL_ELEMENT = "Missing Required Attribute", "Invalid Null Element"
NULLS: dict[str, tuple[State, list[tuple[AttributePath, str, str]]]] = {
    "all-set": ({"id": "a", "set": [trigger("s")], "headers": {"X": "v"}}, []),
    "required-top-level": ({"id": None}, [(("id",), MISSING, "id is required")]),
    "required-in-set-element": (
        {"id": "a", "set": [trigger(None), trigger("s")]},
        [(("set", SET_ELEMENT, "scope"), MISSING, "set[*].scope is required")],
    ),
    "required-in-list-element": (
        {"id": "a", "list": [trigger("s"), trigger("s", None)]},
        [(("list", 1, "type"), MISSING, "list[1].type is required")],
    ),
    "required-in-map-element": (
        {"id": "a", "map": {"k": trigger(None)}},
        [(("map", MapKey("k"), "scope"), MISSING, 'map["k"].scope is required')],
    ),
    "required-in-single-object": (
        {"id": "a", "single": trigger(None)},
        [(("single", "scope"), MISSING, "single.scope is required")],
    ),
    "null-object-in-set": (
        {"id": "a", "set": [None]},
        [(("set", SET_ELEMENT), NULL_ELEMENT, "set contains a null element")],
    ),
    "null-object-in-map": (
        {"id": "a", "map": {"k": None}},
        [(("map", MapKey("k")), NULL_ELEMENT, 'map["k"] is null')],
    ),
    "null-map-value": (
        {"id": "a", "headers": {"X": None, "Y": "v"}},
        [(("headers", MapKey("X")), NULL_ELEMENT, 'headers["X"] is null')],
    ),
    "null-list-element": (
        {"id": "a", "tags": ["a", None]},
        [(("tags", 1), NULL_ELEMENT, "tags[1] is null")],
    ),
    "null-set-element": (
        {"id": "a", "names": [None]},
        [(("names", SET_ELEMENT), NULL_ELEMENT, "names contains a null element")],
    ),
    "null-deep-element": (
        {"id": "a", "groups": {"g": ["a", None]}},
        [(("groups", MapKey("g"), 1), NULL_ELEMENT, 'groups["g"][1] is null')],
    ),
    "allowed-null-element": ({"id": "a", "loose": {"X": None}}, []),
    "optional-nulls": ({"id": "a", "set": None, "headers": None, "single": None}, []),
    "unknowns-pass": (
        {
            "id": cty.UNKNOWN,
            "set": [trigger(cty.UNKNOWN), cty.UNKNOWN],
            "headers": {"X": cty.UNKNOWN},
            "tags": cty.UNKNOWN,
            "single": cty.UNKNOWN,
        },
        [],
    ),
}


@pytest.mark.parametrize(("config", "expected"), NULLS.values(), ids=NULLS.keys())
def test_validate_config_reports_forbidden_nulls_with_paths(
    config: State, expected: list[tuple[AttributePath, str, str]]
) -> None:
    diags = Diagnostics()
    validate_config(NULLS_SCHEMA, config, diags)
    assert [(d.path, d.summary) for d in diags] == [(p, s) for p, s, _ in expected]
    for diagnostic, (_, _, detail) in zip(diags, expected, strict=True):
        assert detail in diagnostic.detail
        assert diagnostic.severity.name == "ERROR"


def test_a_schema_builds_its_types_once() -> None:
    # Every RPC on a resource decodes with these types: rebuilding them per call cost ~4% of a
    # plan (issue 8). They must still be the types the attributes declare.
    assert SCHEMA.object_type() is SCHEMA.object_type()
    assert SCHEMA.object_type() == cty.Object({n: a.cty_type for n, a in SCHEMA.attributes.items()})
    assert SCHEMA.attributes["triggers"].cty_type is SCHEMA.attributes["triggers"].cty_type
    assert SCHEMA.attributes["triggers"].cty_type == cty.Set(SCOPE_TYPE)
