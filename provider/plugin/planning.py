"""Schema-driven plan behaviour and Terraform's consistency rules.

Terraform rejects a provider that plans a value other than the configured one,
or that applies a value other than the known planned one, with terse errors
("Provider produced invalid plan", "inconsistent result after apply"). These
functions apply the declared behaviour of a schema and find such violations
first, so the servicer can report them with the attribute path.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from . import cty
from .diagnostics import AttributePath, Diagnostics, MapKey
from .schema import Attribute, Nesting, Schema

__all__ = [
    "apply_inconsistencies",
    "plan_resource",
    "plan_violations",
    "replacement_paths",
    "validate_config",
    "values_equal",
    "without_write_only",
]


def values_equal(a: cty.Value, b: cty.Value, t: cty.CtyType) -> bool:
    """Equality as cty sees it: sets ignore order, numbers compare by value."""
    if a is None or b is None or isinstance(a, cty.Unknown) or isinstance(b, cty.Unknown):
        return a is b
    if isinstance(t, cty.Set | cty.List | cty.Tuple):
        if not (isinstance(a, list) and isinstance(b, list)):
            return False
        if isinstance(t, cty.Set):
            return _same_members(a, b, t.element) and _same_members(b, a, t.element)
        types = t.elements if isinstance(t, cty.Tuple) else [t.element] * len(a)
        return len(a) == len(b) == len(types) and all(
            values_equal(x, y, et) for x, y, et in zip(a, b, types, strict=True)
        )
    if isinstance(t, cty.Map | cty.Object):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return False
        if isinstance(t, cty.Map):
            return a.keys() == b.keys() and all(values_equal(a[k], b[k], t.element) for k in a)
        return all(values_equal(a.get(k), b.get(k), at) for k, at in t.attributes.items())
    if t == cty.BOOL or t == cty.STRING:
        return type(a) is type(b) and a == b
    return a == b


def _same_members(a: list[cty.Value], b: list[cty.Value], element: cty.CtyType) -> bool:
    return all(any(values_equal(x, y, element) for y in b) for x in a)


def plan_resource(
    schema: Schema, prior: cty.Value, proposed: dict[str, cty.Value], config: dict[str, cty.Value]
) -> dict[str, cty.Value]:
    """Terraform's proposed new state, with declared defaults and unknown computeds.

    Terraform already copies prior values of computed attributes the
    configuration leaves null; what remains is to plan the declared default
    (create and update alike) or, on create, "known after apply".
    """
    planned = without_write_only(schema, proposed)
    for name, attribute in schema.attributes.items():
        if not attribute.computed or config.get(name) is not None:
            continue
        if attribute.default is not None:
            # A copy: the declared default (e.g. {}) is shared by every plan.
            planned[name] = copy.deepcopy(attribute.default)
        elif prior is None:
            planned[name] = cty.UNKNOWN
    return planned


def without_write_only(schema: Schema, state: dict[str, cty.Value]) -> dict[str, cty.Value]:
    """A copy of ``state`` with every write-only attribute null, as Terraform requires."""
    return {**state, **dict.fromkeys(schema.write_only)}


def replacement_paths(
    schema: Schema, prior: dict[str, cty.Value], planned: dict[str, cty.Value]
) -> list[AttributePath]:
    """Attributes declared ``requires_replace`` whose value changes."""
    return [
        (name,)
        for name, attribute in schema.attributes.items()
        if attribute.requires_replace
        and not values_equal(prior.get(name), planned.get(name), attribute.cty_type)
    ]


def plan_violations(
    schema: Schema, config: dict[str, cty.Value], planned: dict[str, cty.Value]
) -> list[AttributePath]:
    """Configured (non-null) attributes whose planned value differs from the config.

    Write-only attributes are planned null whatever the configuration says.
    """
    return [
        (name,)
        for name, attribute in schema.attributes.items()
        if config.get(name) is not None
        and not attribute.write_only
        and not values_equal(config.get(name), planned.get(name), attribute.cty_type)
    ]


def apply_inconsistencies(
    planned: cty.Value, new: cty.Value, t: cty.CtyType, path: AttributePath = ()
) -> Iterator[tuple[AttributePath, str]]:
    """Where a new state breaks the plan: a known planned value changed, or unknowns remain."""
    if isinstance(new, cty.Unknown):
        yield path, "is still unknown after apply"
        return
    if isinstance(planned, cty.Unknown):
        return
    if isinstance(t, cty.Object) and isinstance(planned, dict) and isinstance(new, dict):
        for name, attribute_type in t.attributes.items():
            yield from apply_inconsistencies(
                planned.get(name), new.get(name), attribute_type, (*path, name)
            )
        return
    if not cty.is_wholly_known(planned):
        # A partly known collection: only its remaining unknowns are checked.
        if not cty.is_wholly_known(new):
            yield path, "is still unknown after apply"
        return
    if not values_equal(planned, new, t):
        yield path, "was planned with a different value"


def validate_config(schema: Schema, config: dict[str, cty.Value], diags: Diagnostics) -> None:
    """Run every declared validator on the known, non-null values it applies to."""
    for name, attribute in schema.attributes.items():
        _validate_value(attribute, config.get(name), (name,), diags)


def _validate_value(
    attribute: Attribute, value: cty.Value, path: AttributePath, diags: Diagnostics
) -> None:
    if value is None or isinstance(value, cty.Unknown):
        return
    for validator in attribute.validators:
        validator.validate(value, path, diags)
    nested = attribute.nested
    if nested is None:
        return
    elements: list[tuple[AttributePath, cty.Value]]
    if isinstance(value, list) and nested.nesting is Nesting.LIST:
        elements = [((*path, i), v) for i, v in enumerate(value)]
    elif isinstance(value, list):
        # Terraform cannot point into a set element, so point at the set.
        elements = [(path, v) for v in value]
    elif isinstance(value, dict) and nested.nesting is Nesting.MAP:
        elements = [((*path, MapKey(k)), v) for k, v in value.items()]
    else:
        elements = [(path, value)]
    for element_path, element in elements:
        if not isinstance(element, dict):
            continue
        for name, child in nested.attributes.items():
            _validate_value(child, element.get(name), (*element_path, name), diags)
