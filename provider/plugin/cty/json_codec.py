"""Terraform's JSON value encoding (stored raw state, e.g. ``UpgradeResourceState.raw_state``).

Re-exported by the package; the walkers it shares with msgpack live in :mod:`.wire`.
Differences from msgpack: no unknowns, no infinities, numbers are JSON numbers of any precision,
a dynamic value is ``{"type": <type JSON>, "value": <value>}``, and decoding tolerates missing
object attributes (older state) while still rejecting wrong types and unknown attributes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring as _quote  # json.dumps(s, ensure_ascii=False)

from .compiled import to_value, to_wire
from .types import CtyError, CtyType, Object, Value
from .wire import MAX_DIGITS, RawJSON, normalize_decimal

__all__ = ["decode_json", "encode_json"]


def _json_float(text: str) -> int | float | Decimal:
    return normalize_decimal(Decimal(text))


def _json_int(text: str) -> int | float | Decimal:
    return int(text) if len(text) < MAX_DIGITS else normalize_decimal(Decimal(text))


def _json_constant(text: str) -> object:
    raise CtyError(f"{text} is not a valid JSON number")


# One decoder for every call: json.loads with hooks builds a new one each time.
_DECODER = json.JSONDecoder(
    parse_float=_json_float, parse_int=_json_int, parse_constant=_json_constant
)


def _dump_json(v: object) -> str:
    if isinstance(v, str):
        return v if isinstance(v, RawJSON) else _quote(v)
    if v is None or v is True or v is False:
        return "null" if v is None else "true" if v else "false"
    if isinstance(v, list):
        return "[" + ",".join(map(_dump_json, v)) + "]"
    assert isinstance(v, dict), v
    return "{" + ",".join(f"{_quote(k)}:{_dump_json(item)}" for k, item in v.items()) + "}"


def encode_json(value: object, t: CtyType) -> bytes:
    """Encode as Terraform's JSON value form (compact UTF-8). Unknowns and infinities raise."""
    try:
        return _dump_json(to_wire(value, t, True)).encode()
    except (UnicodeEncodeError, RecursionError) as e:
        raise CtyError(f"cannot encode as JSON: {e}") from None


def decode_json(data: bytes | str, t: CtyType, *, ignore_unknown_attributes: bool = False) -> Value:
    """Decode Terraform's JSON value form as ``t``; missing object attributes become null.

    Blank data is null. Numbers follow the same int/float/Decimal rule as msgpack.
    ``ignore_unknown_attributes`` drops top-level attributes ``t`` does not declare, as
    Terraform's own state upgrade does for attributes a schema no longer has.
    """
    if not data.strip():
        return None
    try:
        if not isinstance(data, str):  # as json.loads reads bytes: UTF-8, -16 or -32
            data = data.decode(json.detect_encoding(data), "surrogatepass")
        wire = _DECODER.decode(data)
    except CtyError:
        raise
    except (ValueError, RecursionError) as e:
        raise CtyError(f"malformed JSON: {e}") from None
    if ignore_unknown_attributes and isinstance(t, Object) and isinstance(wire, dict):
        wire = {k: v for k, v in wire.items() if k in t.attributes}
    return to_value(wire, t, True)
