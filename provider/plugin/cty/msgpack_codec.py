"""The msgpack codec: Terraform's wire format for values (``DynamicValue.msgpack``).

Imported only when a value is first encoded or decoded, so that launches that only
serve the schema never load msgpack.
"""

from __future__ import annotations

import msgpack

from .compiled import to_value, to_wire
from .types import UNKNOWN, CtyError, CtyType, Unknown, Value

__all__ = ["decode_msgpack", "encode_msgpack"]


def encode_msgpack(value: object, t: CtyType) -> bytes:
    """Encode ``value`` of type ``t`` exactly as go-cty would (except set order).

    Raises CtyError (with the path) if the value does not conform to the type.
    """
    wire = to_wire(value, t, False)
    try:
        data: bytes = msgpack.packb(wire, use_bin_type=True)
    except (ValueError, TypeError, OverflowError) as e:  # e.g. lone surrogates in a string
        raise CtyError(f"cannot encode as msgpack: {e}") from None
    return data


def _ext_to_unknown(_code: int, _data: bytes) -> Unknown:
    # Any ext code is an unknown (0 plain, 12 refined); refinements are ignored.
    return UNKNOWN


def decode_msgpack(data: bytes, t: CtyType) -> Value:
    """Decode msgpack ``data`` as type ``t``; empty data is null. Raises only CtyError."""
    if not data:
        return None
    try:
        wire = msgpack.unpackb(data, raw=False, ext_hook=_ext_to_unknown)
    except Exception as e:  # msgpack raises assorted ValueError/TypeError subclasses
        raise CtyError(f"malformed msgpack: {type(e).__name__}: {e}".rstrip(": ")) from None
    return to_value(wire, t, False)
