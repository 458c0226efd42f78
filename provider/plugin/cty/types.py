"""cty types and values: the model the codecs (msgpack, JSON) read and write.

Pure functions; stdlib and ``msgpack`` only. Mapping between cty and Python:

    cty type            CtyType              Python value (decoded form)
    string              STRING               str
    number              NUMBER               int if integral, else float if exactly a float64,
                                             else Decimal (+/-inf is a float)
    bool                BOOL                 bool
    list(T), set(T)     List(T), Set(T)      list (set order carries no meaning)
    tuple([T, ...])     Tuple([T, ...])      list
    map(T)              Map(T)               dict[str, Value]
    object({...})       Object({...})        dict[str, Value] holding every attribute
    dynamic             DYNAMIC              DynamicValue(type, value)
    null (any type)                          None
    unknown (any type)                       UNKNOWN

What callers can rely on when decoding: objects hold every attribute (None for null), in sorted
order; sets come back as lists in wire order; strings are as sent (Terraform sends NFC). A
dynamic value is None/UNKNOWN when untyped, else DynamicValue, whose ``value`` may itself be
None/UNKNOWN (Terraform sends typed nulls and unknowns, e.g. an unknown string). Every malformed
input raises CtyError, never a msgpack/JSON/Unicode exception.

Encoders also accept tuples for sequences, sets for Set, any Mapping for map/object (an object
attribute missing from the mapping is written as null), and int, float or Decimal for a number;
strings are NFC-normalised as cty does.

This module imports no codec: the schema, which every provider launch serves first, needs
the types but never msgpack.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import ClassVar, Final, TypeAlias

__all__ = [
    "BOOL",
    "DYNAMIC",
    "NUMBER",
    "STRING",
    "UNKNOWN",
    "Collection",
    "CtyError",
    "CtyType",
    "DynamicValue",
    "List",
    "Map",
    "Object",
    "Primitive",
    "Set",
    "Tuple",
    "Unknown",
    "Value",
    "is_wholly_known",
    "type_from_json",
    "type_from_object",
    "type_json",
]


class CtyError(ValueError):
    """A value, type or payload that does not fit; ``path`` leads to the offending part."""

    def __init__(self, reason: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: tuple[str | int, ...] = ()
        self._shown: list[str] = []
        for step in reversed(path):
            self._within(step)

    def _within(self, step: str | int, *, key: bool = False) -> CtyError:
        """Prefix one step: an attribute name, an element index, or (``key``) a map key."""
        self.path = (step, *self.path)
        shown = (
            f"[{json.dumps(step)}]" if key else f".{step}" if isinstance(step, str) else f"[{step}]"
        )
        self._shown.insert(0, shown)
        return self

    def __str__(self) -> str:
        return f"{''.join(self._shown)}: {self.reason}" if self._shown else self.reason


# ---------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True, slots=True)
class CtyType:
    """Base of all cty types; every type is immutable, hashable and compares by structure."""


@dataclass(frozen=True, slots=True, repr=False)
class Primitive(CtyType):
    """``string``, ``number``, ``bool`` or the ``dynamic`` pseudo-type; use the singletons."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in ("string", "number", "bool", "dynamic"):
            raise CtyError(f"unknown primitive type {self.name!r}")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.name.upper()


STRING: Final = Primitive("string")
NUMBER: Final = Primitive("number")
BOOL: Final = Primitive("bool")
DYNAMIC: Final = Primitive("dynamic")
_PRIMITIVES: Final = {t.name: t for t in (STRING, NUMBER, BOOL, DYNAMIC)}


@dataclass(frozen=True, slots=True)
class Collection(CtyType):
    element: CtyType

    def __post_init__(self) -> None:
        if not isinstance(self.element, CtyType):
            raise CtyError(f"element type must be a CtyType, got {self.element!r}")

    def __str__(self) -> str:
        return f"{type(self).__name__.lower()} of {self.element}"


class List(Collection):
    """``list(element)``."""

    __slots__ = ()


class Set(Collection):
    """``set(element)``; decoded sets are plain lists whose order carries no meaning."""

    __slots__ = ()


class Map(Collection):
    """``map(element)``, keyed by strings."""

    __slots__ = ()


@dataclass(frozen=True, slots=True, init=False, repr=False)
class Object(CtyType):
    """``object({name: type})``; ``optional`` only affects :func:`type_json`, not the wire."""

    items: tuple[tuple[str, CtyType], ...]
    optional: frozenset[str]
    _attrs: Mapping[str, CtyType] = field(compare=False, hash=False)

    def __init__(self, attributes: Mapping[str, CtyType], optional: Iterable[str] = ()) -> None:
        items = tuple(sorted(attributes.items(), key=lambda kv: kv[0]))
        opt = frozenset(optional)
        for name, at in items:
            if not isinstance(name, str) or not isinstance(at, CtyType):
                raise CtyError(f"bad object attribute {name!r}: {at!r}")
        if not opt.issubset(attributes):
            raise CtyError(
                f"optional attributes not in the object: {sorted(opt - attributes.keys())}"
            )
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "optional", opt)
        object.__setattr__(self, "_attrs", MappingProxyType(dict(items)))

    @property
    def attributes(self) -> Mapping[str, CtyType]:
        """Read-only view of attribute name to type, in sorted order."""
        return self._attrs

    def __str__(self) -> str:
        return "object"

    def __repr__(self) -> str:
        opt = f", optional={sorted(self.optional)!r}" if self.optional else ""
        return f"Object({dict(self.items)!r}{opt})"


@dataclass(frozen=True, slots=True, init=False)
class Tuple(CtyType):
    """``tuple([type, ...])``; values are lists of exactly ``len(elements)`` items."""

    elements: tuple[CtyType, ...]

    def __init__(self, elements: Sequence[CtyType]) -> None:
        if not all(isinstance(e, CtyType) for e in elements):
            raise CtyError(f"tuple element types must be CtyType, got {elements!r}")
        object.__setattr__(self, "elements", tuple(elements))

    def __str__(self) -> str:
        return f"tuple of {len(self.elements)} elements"


def type_json(t: CtyType) -> bytes:
    """cty's JSON type description (compact, keys sorted), as in ``Schema.Attribute.type``."""
    return _type_json(t)


@lru_cache(maxsize=1024)
def _type_json(t: CtyType) -> bytes:
    text = json.dumps(_type_obj(t), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.encode()


def _type_obj(t: CtyType) -> object:
    if isinstance(t, Primitive):
        return t.name
    if isinstance(t, Collection):
        return [type(t).__name__.lower(), _type_obj(t.element)]
    if isinstance(t, Object):
        attrs = {name: _type_obj(at) for name, at in t.items}
        return ["object", attrs, sorted(t.optional)] if t.optional else ["object", attrs]
    if isinstance(t, Tuple):
        return ["tuple", [_type_obj(e) for e in t.elements]]
    raise CtyError(f"not a cty type: {t!r}")


def type_from_json(data: bytes | str | object) -> CtyType:
    """Parse a JSON type description (bytes, text, or already-parsed JSON); inverse of type_json."""
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            return _type_from_text(bytes(data))
        if isinstance(data, str):
            return _type_from_text(data)
        return type_from_object(data)
    except RecursionError:
        raise CtyError("type description is nested too deeply") from None


@lru_cache(maxsize=256)
def _type_from_text(text: bytes | str) -> CtyType:
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise CtyError(f"invalid type description: {e}") from None
    return type_from_object(obj)


_COLLECTIONS: Final[dict[str, type[Collection]]] = {"list": List, "set": Set, "map": Map}


def type_from_object(obj: object) -> CtyType:
    if isinstance(obj, str) and obj in _PRIMITIVES:
        return _PRIMITIVES[obj]
    if isinstance(obj, list) and obj and isinstance(obj[0], str):
        kind, args = obj[0], obj[1:]
        if kind in _COLLECTIONS and len(args) == 1:
            return _COLLECTIONS[kind](type_from_object(args[0]))
        if kind == "tuple" and len(args) == 1 and isinstance(args[0], list):
            return Tuple([type_from_object(e) for e in args[0]])
        if kind == "object" and len(args) in (1, 2) and isinstance(args[0], dict):
            opt = args[1] if len(args) == 2 else []
            if isinstance(opt, list) and all(isinstance(o, str) for o in opt):
                return Object({k: type_from_object(v) for k, v in args[0].items()}, opt)
    raise CtyError(f"invalid type description: {repr(obj)[:60]}")


# ---------------------------------------------------------------------------------------------
# Values


class Unknown:
    """Type of :data:`UNKNOWN`, a value Terraform only learns at apply. Falsy, copy-stable."""

    __slots__ = ()
    _instance: ClassVar[Unknown | None] = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()


@dataclass(frozen=True, slots=True)
class DynamicValue:
    """A value of ``dynamic`` type together with its concrete type (never DYNAMIC).

    Decoding yields ``value`` None or UNKNOWN here when Terraform sent a *typed* null or unknown.
    """

    type: CtyType
    value: Value


Value: TypeAlias = (
    "Unknown | str | int | float | Decimal | bool | list[Value] | dict[str, Value]"
    " | DynamicValue | None"
)


_KNOWN_LEAVES: Final = frozenset({str, bool, int, float, Decimal, type(None)})


def is_wholly_known(value: object) -> bool:
    """True unless UNKNOWN appears anywhere inside ``value`` (including in DynamicValues)."""
    # Decoded values are plain dicts, lists and leaves: those first, since the isinstance
    # checks against the Mapping ABC below cost several times more, on every call.
    if type(value) in _KNOWN_LEAVES:
        return True
    if isinstance(value, dict):
        return all(map(is_wholly_known, value.values()))
    if isinstance(value, list):
        return all(map(is_wholly_known, value))
    if value is UNKNOWN:
        return False
    if isinstance(value, DynamicValue):
        return is_wholly_known(value.value)
    if isinstance(value, Mapping):
        return all(map(is_wholly_known, value.values()))
    if isinstance(value, tuple | set | frozenset):
        return all(map(is_wholly_known, value))
    return True
