"""GenerateResourceConfig: a state reduced to the configuration a person would write.

Terraform 1.14+ asks for it when it writes configuration for imported or
listed objects (``-generate-config-out``). Without it Terraform guesses from
the state and writes every value it finds, ``disabled = false`` and
``headers = {}`` included. Terraform itself leaves out computed attributes
that are null here and escapes ``${`` in strings as ``$${``.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import cty
from .schema import Attribute, Nesting

__all__ = ["config_from_state"]


def config_from_state(
    attributes: Mapping[str, Attribute], state: Mapping[str, cty.Value] | None
) -> dict[str, cty.Value] | None:
    """``state`` without what a configuration never sets: computed-only, write-only
    and deprecated values, and values equal to their declared default."""
    if state is None:
        return None
    return {name: _configured(a, state.get(name)) for name, a in attributes.items()}


def _configured(attribute: Attribute, value: cty.Value) -> cty.Value:
    if attribute.write_only or attribute.deprecation or value is None:
        return None
    if attribute.computed and not attribute.optional:
        return None
    if attribute.default is not None and value == attribute.default:
        return None
    nested = attribute.nested
    if nested is None:
        return value
    if nested.nesting is Nesting.SINGLE:
        return config_from_state(nested.attributes, _as_object(value))
    if nested.nesting is Nesting.MAP and isinstance(value, dict):
        return {k: config_from_state(nested.attributes, _as_object(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [config_from_state(nested.attributes, _as_object(v)) for v in value]
    return value


def _as_object(value: cty.Value) -> Mapping[str, cty.Value] | None:
    return value if isinstance(value, dict) else None
