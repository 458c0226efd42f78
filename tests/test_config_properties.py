"""Property tests: any configuration yields diagnostics, never an exception.

Terraform decodes configuration against the schema, but a provider also
sees nulls and unknowns anywhere inside it, and the validators are called
with whatever a future schema change routes to them. So values here are
arbitrary: nulls, unknowns, wrong types, control characters, and huge sizes
(1 MB strings, 10k-entry maps and sets).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provider.placeholders import KNOWN_PLACEHOLDERS, check_triggers_provide
from provider.plugin import cty
from provider.plugin.convert import to_proto_diagnostics
from provider.plugin.diagnostics import AttributePath, Diagnostics, MapKey, Severity
from provider.plugin.planning import validate_config
from provider.plugin.schema import Validator
from provider.validators import (
    HEADER_NAMES,
    HEADER_VALUES,
    HTTPS_URL,
    KNOWN_TRIGGERS,
    NOT_EMPTY,
    PATH_SAFE_ID,
    SOME_TRIGGERS,
)
from provider.webhook import SCHEMA

# Huge values are slow to generate on a loaded 2-core machine: that is not a failure.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALIDATORS: list[Validator] = [
    HTTPS_URL,
    HEADER_NAMES,
    HEADER_VALUES,
    NOT_EMPTY,
    PATH_SAFE_ID,
    KNOWN_TRIGGERS,
    SOME_TRIGGERS,
    KNOWN_PLACEHOLDERS,
]

MEGABYTE = 1 << 20
HUGE: list[cty.Value] = [
    "x" * MEGABYTE,
    "https://" + "a" * MEGABYTE,
    "/" * MEGABYTE,
    "\x00" * MEGABYTE,
    {f"X-{i}": "v" for i in range(10_000)},
    {f"bad key {i}": None for i in range(10_000)},
    [{"scope": f"s{i}", "type": None} for i in range(10_000)],
    ["x"] * 10_000,
]

TEXT = st.text(st.characters(codec=None), max_size=40) | st.sampled_from(
    [
        "",
        " ",
        "/",
        "app/hook",
        "https://example.com/a",
        "https://[::1",
        "https://e.com:99999",
        "\x00",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.just(cty.UNKNOWN),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    TEXT,
    st.sampled_from(HUGE),
)
ANYTHING = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def shaped_like(t: cty.CtyType) -> st.SearchStrategy[cty.Value]:
    """Values of type ``t`` with nulls and unknowns inside, sometimes of another type."""
    if isinstance(t, cty.List | cty.Set):
        typed: st.SearchStrategy[Any] = st.lists(shaped_like(t.element), max_size=4)
    elif isinstance(t, cty.Map):
        typed = st.dictionaries(TEXT, shaped_like(t.element), max_size=4)
    elif isinstance(t, cty.Object):
        typed = st.fixed_dictionaries({k: shaped_like(a) for k, a in t.attributes.items()})
    elif t == cty.STRING:
        typed = TEXT
    else:
        typed = st.booleans()
    return st.one_of(typed, typed, st.none(), st.just(cty.UNKNOWN), ANYTHING)


CONFIGS = st.fixed_dictionaries(
    {name: shaped_like(a.cty_type) for name, a in SCHEMA.attributes.items()}
) | st.dictionaries(TEXT, ANYTHING, max_size=4)


def assert_reportable(diags: Diagnostics, root: AttributePath = ()) -> None:
    """Each diagnostic is well formed, under ``root``, and encodes for the wire."""
    for d in diags:
        assert d.severity in (Severity.ERROR, Severity.WARNING)
        assert d.summary
        assert d.path is None or d.path[: len(root)] == root
    assert len(to_proto_diagnostics(diags)) == len(diags)


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda v: type(v).__name__)
@PROPERTY
@given(value=ANYTHING)
def test_validators_report_anything_as_diagnostics(validator: Validator, value: cty.Value) -> None:
    diags = Diagnostics()
    validator.validate(value, ("attribute",), diags)
    assert_reportable(diags, ("attribute",))


@PROPERTY
@given(config=CONFIGS)
def test_validate_config_reports_anything_as_diagnostics(config: dict[str, cty.Value]) -> None:
    diags = Diagnostics()
    validate_config(SCHEMA, config, diags)
    assert_reportable(diags)
    for d in diags:
        assert d.path is None or d.path[0] in SCHEMA.attributes


@PROPERTY
@given(config=CONFIGS)
def test_trigger_coverage_reports_anything_as_diagnostics(config: dict[str, cty.Value]) -> None:
    diags = Diagnostics()
    check_triggers_provide(config.get("payload"), config.get("triggers"), diags)
    assert_reportable(diags, ("payload",))


@PROPERTY
@given(config=CONFIGS)
def test_every_null_header_or_payload_value_is_an_error_at_its_key(
    config: dict[str, cty.Value],
) -> None:
    diags = Diagnostics()
    validate_config(SCHEMA, config, diags)
    errors = {d.path for d in diags if d.severity is Severity.ERROR}
    for name in ("headers", "payload"):
        value = config.get(name)
        if isinstance(value, dict):
            for key, element in value.items():
                if element is None:
                    assert (name, MapKey(key)) in errors


@pytest.mark.parametrize("value", HUGE, ids=lambda v: f"{type(v).__name__}-{len(v)}")
@pytest.mark.parametrize("name", list(SCHEMA.attributes))
def test_huge_values_in_any_attribute_are_diagnostics(name: str, value: cty.Value) -> None:
    diags = Diagnostics()
    validate_config(SCHEMA, {name: value}, diags)
    assert_reportable(diags)
    # Messages quote a value, never a megabyte of it.
    assert all(len(d.detail) < 2_000 for d in diags)
