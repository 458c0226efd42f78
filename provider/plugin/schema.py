"""Declare a schema once; derive the wire schema, the cty type and plan behaviour.

A resource declares its attributes with the small vocabulary below. Behaviour
that Terraform users expect from an attribute (a default, "changing this
replaces the resource", validation) is declared on the attribute, and the
servicer applies it generically, so a resource's code only holds what is
specific to it::

    SCHEMA = Schema(
        description="A webhook.",
        attributes={
            "id": string("The ID.", required=True, requires_replace=True),
            "disabled": boolean("Disabled?", optional=True, computed=True, default=False),
        },
    )
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple, Protocol, TypedDict, Unpack

from . import cty
from .diagnostics import AttributePath, Diagnostics

__all__ = [
    "Attribute",
    "Behaviour",
    "IdentityAttribute",
    "IdentitySchema",
    "NestedObject",
    "Nesting",
    "Schema",
    "Validator",
    "boolean",
    "map_of_strings",
    "nested_list",
    "nested_set",
    "number",
    "string",
]


class Validator(Protocol):
    """A check on one attribute's known, non-null configured value."""

    @property
    def description(self) -> str: ...

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None: ...


class Nesting(enum.IntEnum):
    """Values match ``tfplugin6.Schema.Object.NestingMode``."""

    SINGLE = 1
    LIST = 2
    SET = 3
    MAP = 4


@dataclass(frozen=True)
class NestedObject:
    """The object type of a nested attribute, e.g. each element of a set."""

    attributes: Mapping[str, Attribute]
    nesting: Nesting

    def object_type(self) -> cty.Object:
        return self._object_type

    @cached_property
    def _object_type(self) -> cty.Object:
        # cty types are immutable, so one instance serves every call.
        return cty.Object({name: a.cty_type for name, a in self.attributes.items()})


@dataclass(frozen=True)
class Attribute:
    """One attribute: its type (or nested object) and declared behaviour.

    ``default`` is planned whenever the configuration leaves the attribute
    null, so it needs ``computed=True``. ``requires_replace`` makes a change
    of value plan a replacement. ``deprecation`` non-empty marks it deprecated.
    ``write_only`` (Terraform 1.11+) values reach plan and apply in the
    configuration but never the state or plan output: the servicer keeps them null.
    A null element in a list, set or map is a configuration error unless
    ``allow_null_elements``: most APIs have no way to say "null" there.
    """

    description: str
    type: cty.CtyType | None = None
    nested: NestedObject | None = None
    required: bool = False
    optional: bool = False
    computed: bool = False
    sensitive: bool = False
    deprecation: str = ""
    default: cty.Value = None
    requires_replace: bool = False
    write_only: bool = False
    allow_null_elements: bool = False
    validators: tuple[Validator, ...] = field(default=())

    def __post_init__(self) -> None:
        if (self.type is None) == (self.nested is None):
            raise ValueError("an attribute has exactly one of type or nested")
        if self.required and (self.optional or self.computed):
            raise ValueError("a required attribute is neither optional nor computed")
        if not (self.required or self.optional or self.computed):
            raise ValueError("an attribute is required, optional or computed")
        if self.default is not None and not self.computed:
            raise ValueError("an attribute with a default must be computed")
        if self.write_only and (self.computed or self.requires_replace):
            raise ValueError("a write-only attribute is neither computed nor requires_replace")
        # Nothing in a configuration can set what a computed-only attribute holds, so a
        # nested "required" would be a lie in the schema Terraform and the docs read.
        if (
            self.nested is not None
            and self.computed
            and not self.optional
            and not all(a.computed and not a.optional for a in self.nested.attributes.values())
        ):
            raise ValueError("a computed-only nested attribute has computed-only attributes")

    @cached_property
    def cty_type(self) -> cty.CtyType:
        if self.type is not None:
            return self.type
        assert self.nested is not None
        obj = self.nested.object_type()
        return {
            Nesting.SINGLE: obj,
            Nesting.LIST: cty.List(obj),
            Nesting.SET: cty.Set(obj),
            Nesting.MAP: cty.Map(obj),
        }[self.nested.nesting]


class IdentityAttribute(NamedTuple):
    """One attribute of a resource identity; it names a state attribute of the same type."""

    description: str
    required_for_import: bool = True
    """Else optional for import, in an ``import`` block's ``identity``."""


class IdentitySchema(NamedTuple):
    """Which state attributes identify the remote object (Terraform 1.12+).

    Terraform stores the identity beside the state, imports by it
    (``import { identity = {...} }``) and lists by it (``terraform query``).
    The servicer derives it from the state wherever Terraform wants one, so
    a resource only declares it. ``version`` is bumped when the attributes
    change; identity of an existing object never changes. NamedTuples rather
    than dataclasses: every provider launch imports this module.
    """

    attributes: Mapping[str, IdentityAttribute]
    version: int = 0

    def of(self, state: Mapping[str, cty.Value]) -> dict[str, cty.Value]:
        """The identity of the object ``state`` describes (may hold unknowns in a plan)."""
        return {name: state.get(name) for name in self.attributes}


@dataclass(frozen=True)
class Schema:
    """A provider's or resource's schema: its attributes, version and identity."""

    attributes: Mapping[str, Attribute]
    description: str = ""
    version: int = 0
    identity: IdentitySchema | None = None

    def __post_init__(self) -> None:
        for name in self.identity.attributes if self.identity else ():
            attribute = self.attributes.get(name)
            if attribute is None or attribute.write_only or attribute.sensitive:
                raise ValueError(f"identity attribute {name!r} is not a plain state attribute")

    def object_type(self) -> cty.Object:
        """The state's object type; built once, since every RPC on a resource decodes with it."""
        return self._object_type

    @cached_property
    def _object_type(self) -> cty.Object:
        return cty.Object({name: a.cty_type for name, a in self.attributes.items()})

    def identity_type(self) -> cty.Object:
        """The identity's object type: its attributes' types in the state."""
        return self._identity_type

    @cached_property
    def _identity_type(self) -> cty.Object:
        names = self.identity.attributes if self.identity else {}
        return cty.Object({name: self.attributes[name].cty_type for name in names})

    @cached_property
    def write_only(self) -> tuple[str, ...]:
        """Names of the write-only attributes, which state and plans always hold as null."""
        return tuple(name for name, a in self.attributes.items() if a.write_only)


class Behaviour(TypedDict, total=False):
    """The keyword arguments the constructors below pass on to :class:`Attribute`."""

    required: bool
    optional: bool
    computed: bool
    sensitive: bool
    deprecation: str
    default: cty.Value
    requires_replace: bool
    write_only: bool
    allow_null_elements: bool
    validators: tuple[Validator, ...]


def string(description: str, **behaviour: Unpack[Behaviour]) -> Attribute:
    """A string attribute."""
    return Attribute(description, type=cty.STRING, **behaviour)


def boolean(description: str, **behaviour: Unpack[Behaviour]) -> Attribute:
    """A bool attribute."""
    return Attribute(description, type=cty.BOOL, **behaviour)


def number(description: str, **behaviour: Unpack[Behaviour]) -> Attribute:
    """A number attribute."""
    return Attribute(description, type=cty.NUMBER, **behaviour)


def map_of_strings(description: str, **behaviour: Unpack[Behaviour]) -> Attribute:
    """A map of strings attribute."""
    return Attribute(description, type=cty.Map(cty.STRING), **behaviour)


def nested_set(
    description: str, attributes: Mapping[str, Attribute], **behaviour: Unpack[Behaviour]
) -> Attribute:
    """A set of objects, written in HCL as ``name = [{ ... }, ...]``."""
    nested = NestedObject(attributes, Nesting.SET)
    return Attribute(description, nested=nested, **behaviour)


def nested_list(
    description: str, attributes: Mapping[str, Attribute], **behaviour: Unpack[Behaviour]
) -> Attribute:
    """A list of objects, e.g. a data source's computed ``webhooks``."""
    nested = NestedObject(attributes, Nesting.LIST)
    return Attribute(description, nested=nested, **behaviour)
