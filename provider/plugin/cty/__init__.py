"""cty, Terraform's type system, as it travels on the wire.

Modules import one way: :mod:`.types` (the type and value model), then :mod:`.wire`
(numbers, strings and the value walkers), then :mod:`.compiled` (those walkers built once
per type for common values), then the codecs :mod:`.msgpack_codec` and :mod:`.json_codec`.
This package re-exports the public API; see :mod:`.types` for how cty values map to Python.
"""

from __future__ import annotations

from collections.abc import Callable

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
# first, needs the types but never msgpack. Once loaded, their functions are kept here
# rather than imported again in every call.

_Encode = Callable[[object, CtyType], bytes]
_Decode = Callable[[bytes, CtyType], Value]
_msgpack: tuple[_Encode, _Decode] | None = None
_json: tuple[_Encode, Callable[..., Value]] | None = None


def encode_msgpack(value: object, t: CtyType) -> bytes:
    """Encode ``value`` of type ``t`` exactly as go-cty would (except set order).

    Raises CtyError (with the path) if the value does not conform to the type.
    """
    return (_msgpack or _load_msgpack())[0](value, t)


def decode_msgpack(data: bytes, t: CtyType) -> Value:
    """Decode msgpack ``data`` as type ``t``; empty data is null. Raises only CtyError."""
    return (_msgpack or _load_msgpack())[1](data, t)


def _load_msgpack() -> tuple[_Encode, _Decode]:
    global _msgpack
    from .msgpack_codec import decode_msgpack, encode_msgpack

    _msgpack = (encode_msgpack, decode_msgpack)
    return _msgpack


# ---------------------------------------------------------------------------------------------
# JSON (stored raw state), loaded only when first used.


def encode_json(value: object, t: CtyType) -> bytes:
    """Terraform's JSON value form, compact UTF-8; unknowns and infinities raise CtyError."""
    return (_json or _load_json())[0](value, t)


def decode_json(data: bytes | str, t: CtyType, *, ignore_unknown_attributes: bool = False) -> Value:
    """Decode Terraform's JSON value form; a missing object attribute is null. Blank is null.

    With ``ignore_unknown_attributes``, top-level attributes ``t`` lacks are dropped.
    """
    decode = (_json or _load_json())[1]
    return decode(data, t, ignore_unknown_attributes=ignore_unknown_attributes)


def _load_json() -> tuple[_Encode, Callable[..., Value]]:
    global _json
    from .json_codec import decode_json, encode_json

    _json = (encode_json, decode_json)
    return _json
