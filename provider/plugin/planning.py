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
from .diagnostics import SET_ELEMENT, AttributePath, Diagnostics, MapKey, SetElement, format_path
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
    """Equality as cty sees it, of two values of ``t``: sets ignore order, numbers compare
    by value."""
    if t is cty.STRING or t is cty.BOOL:  # the commonest; a null or unknown is only itself
        return type(a) is type(b) and a == b
    if a == b:  # equal as Python values (in C), so equal as cty: numbers by value, lists in
        return True  # order, sets as lists, objects key by key; UNKNOWN is a singleton
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
    if planned == new and cty.is_wholly_known(new):
        # The common case, the apply kept the plan, without a walk per attribute: equal
        # Python values are equal cty values (``values_equal`` only adds leeway for sets,
        # number forms and the like), and a wholly known new state leaves no unknown.
        return
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
    """Report nulls the schema forbids, then run declared validators on known values.

    Terraform itself lets ``null`` through inside nested objects and
    collections (``triggers = [{ scope = null }]``, ``headers = { X = null }``),
    so required nested attributes and collection elements are checked here.
    Unknown values pass: Terraform validates again once they are known.
    """
    for name, attribute in schema.attributes.items():
        _validate_value(attribute, config.get(name), (name,), diags)


def _validate_value(
    attribute: Attribute, value: cty.Value, path: AttributePath, diags: Diagnostics
) -> None:
    if value is None:
        if attribute.required:
            diags.error(
                "Missing Required Attribute",
                f"{format_path(path)} is required, so it cannot be null: set a value.",
                path,
            )
        return
    if isinstance(value, cty.Unknown):
        return
    for validator in attribute.validators:
        validator.validate(value, path, diags)
    nested = attribute.nested
    if nested is None:
        if not attribute.allow_null_elements:
            _report_null_elements(value, attribute.cty_type, path, diags)
        return
    for element_path, element in _nested_elements(value, nested.nesting, path):
        if element is None:
            if not attribute.allow_null_elements:
                _null_element(element_path, diags)
        elif isinstance(element, dict):
            for name, child in nested.attributes.items():
                _validate_value(child, element.get(name), (*element_path, name), diags)


def _nested_elements(
    value: cty.Value, nesting: Nesting, path: AttributePath
) -> list[tuple[AttributePath, cty.Value]]:
    if nesting is Nesting.SINGLE:
        return [(path, value)]
    return _elements(value, nesting is Nesting.SET, path)


def _elements(
    value: cty.Value, is_set: bool, path: AttributePath
) -> list[tuple[AttributePath, cty.Value]]:
    """A collection's elements with their paths; anything else (a wrong type) has none."""
    if isinstance(value, dict):
        return [((*path, MapKey(k)), v) for k, v in value.items()]
    if isinstance(value, list) and is_set:
        return [((*path, SET_ELEMENT), v) for v in value]
    if isinstance(value, list):
        return [((*path, i), v) for i, v in enumerate(value)]
    return []


def _report_null_elements(
    value: cty.Value, t: cty.CtyType, path: AttributePath, diags: Diagnostics
) -> None:
    if not isinstance(t, cty.List | cty.Set | cty.Map):
        return
    for element_path, element in _elements(value, isinstance(t, cty.Set), path):
        if element is None:
            _null_element(element_path, diags)
        else:
            _report_null_elements(element, t.element, element_path, diags)


def _null_element(path: AttributePath, diags: Diagnostics) -> None:
    if isinstance(path[-1], SetElement):
        where = f"{format_path(path[:-1])} contains a null element"
    else:
        where = f"{format_path(path)} is null"
    diags.error("Invalid Null Element", f"{where}: set a value, or remove the element.", path)
