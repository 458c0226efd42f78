"""cty, Terraform's type system, as it travels on the wire.

Modules import one way: :mod:`.types` (the type and value model), then :mod:`.wire`
(numbers, strings and the value walkers), then the codecs :mod:`.msgpack_codec` and
:mod:`.json_codec`. This package re-exports the public API; see :mod:`.types` for how cty
values map to Python.
"""

from __future__ import annotations

from .types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    UNKNOWN,
    CtyError,
    CtyType,
    DynamicValue,
    List,
    Map,
    Object,
    Primitive,
    Set,
    Tuple,
    Unknown,
    Value,
    is_wholly_known,
    type_from_json,
    type_json,
)

__all__ = [
    "BOOL",
    "DYNAMIC",
    "NUMBER",
    "STRING",
    "UNKNOWN",
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
    "decode_json",
    "decode_msgpack",
    "encode_json",
    "encode_msgpack",
    "is_wholly_known",
    "type_from_json",
    "type_json",
]


# ---------------------------------------------------------------------------------------------
# The codecs load only when first used: the schema, which every provider launch serves
# first, needs the types but never msgpack.


def encode_msgpack(value: object, t: CtyType) -> bytes:
    """Encode ``value`` of type ``t`` exactly as go-cty would (except set order).

    Raises CtyError (with the path) if the value does not conform to the type.
    """
    from .msgpack_codec import encode_msgpack as encode

    return encode(value, t)


def decode_msgpack(data: bytes, t: CtyType) -> Value:
    """Decode msgpack ``data`` as type ``t``; empty data is null. Raises only CtyError."""
    from .msgpack_codec import decode_msgpack as decode

    return decode(data, t)


# ---------------------------------------------------------------------------------------------
# JSON (stored raw state), imported only when first used.


def encode_json(value: object, t: CtyType) -> bytes:
    """Terraform's JSON value form, compact UTF-8; unknowns and infinities raise CtyError."""
    from .json_codec import encode_json as encode

    return encode(value, t)


def decode_json(data: bytes | str, t: CtyType, *, ignore_unknown_attributes: bool = False) -> Value:
    """Decode Terraform's JSON value form; a missing object attribute is null. Blank is null.

    With ``ignore_unknown_attributes``, top-level attributes ``t`` lacks are dropped.
    """
    from .json_codec import decode_json as decode

    return decode(data, t, ignore_unknown_attributes=ignore_unknown_attributes)
