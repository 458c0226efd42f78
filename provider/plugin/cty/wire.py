"""The wire rules shared by the msgpack and JSON codecs: numbers, strings, and the walkers
that turn a cty value into the plain structure a codec writes, and back.

Every malformed input raises CtyError; the codecs add only their own framing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Final, TypeVar, cast

import msgpack

from .types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    UNKNOWN,
    Collection,
    CtyError,
    CtyType,
    DynamicValue,
    Map,
    Object,
    Primitive,
    Set,
    Tuple,
    Value,
    type_from_json,
    type_from_object,
    type_json,
)

__all__ = [
    "MAX_DIGITS",
    "UNKNOWN_EXT",
    "RawJSON",
    "as_str",
    "decode_value",
    "encode_value",
    "guard",
    "kind",
    "mismatch",
    "nfc",
    "normalize_decimal",
    "number_in",
    "number_out",
]


# ---------------------------------------------------------------------------------------------
# Numbers and strings

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# Stay under Python's int<->str digit limit (4300) and avoid materialising absurd exponents.
MAX_DIGITS: Final = 4000
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def normalize_decimal(d: Decimal) -> int | float | Decimal:
    """The documented number form: int if integral, else float if exact, else Decimal."""
    if not d.is_finite():
        if d.is_nan():
            raise CtyError("NaN is not a number")
        return math.inf if d > 0 else -math.inf
    if d.adjusted() < MAX_DIGITS and d == d.to_integral_value():
        return int(d)
    f = float(d)
    return f if math.isfinite(f) and Decimal(f) == d else d


def number_in(v: object, js: bool) -> int | float | Decimal:
    """A decoded wire number; msgpack may carry int, uint, float or a decimal string."""
    if isinstance(v, bool):
        raise mismatch(NUMBER, v)
    if isinstance(v, int | Decimal):  # JSON parse hooks already normalised Decimals
        return v
    if isinstance(v, float):
        if math.isnan(v):
            raise CtyError("NaN is not a number")
        return int(v) if v.is_integer() else v
    if not js and isinstance(v, str | bytes):
        text = as_str(v)
        if _NUMBER_TEXT.fullmatch(text):
            return normalize_decimal(Decimal(text))
        raise CtyError(f"invalid number {_short(text)}")
    raise mismatch(NUMBER, v)


def _decimal_text(d: Decimal) -> str:
    """Plain decimal text as cty writes it (``Text('f', -1)``), scientific only if absurd."""
    if abs(d.adjusted()) >= MAX_DIGITS:
        return str(d)
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_out(v: object, js: bool) -> object:
    """cty's msgpack rule: int if exactly int64, else float64 if exact, else a decimal string."""
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        raise mismatch(NUMBER, v)
    if (isinstance(v, Decimal) and v.is_nan()) or (isinstance(v, float) and math.isnan(v)):
        raise CtyError("NaN is not a number")
    if js:  # JSON numbers have arbitrary precision but no infinities
        if isinstance(v, float) and math.isfinite(v):
            return RawJSON(repr(v))
        if isinstance(v, float) or (isinstance(v, Decimal) and v.is_infinite()):
            raise CtyError("infinity cannot be encoded as JSON")
        return RawJSON(_decimal_text(Decimal(v)))
    if isinstance(v, int):
        if _INT64_MIN <= v <= _INT64_MAX:
            return v
        d = Decimal(v)
    elif isinstance(v, float):
        return int(v) if v.is_integer() and _INT64_MIN <= v <= _INT64_MAX else v
    else:
        if v.is_infinite():
            return float(v)
        if _INT64_MIN <= v <= _INT64_MAX and v == v.to_integral_value():
            return int(v)
        d = v
    f = float(d)
    return f if math.isfinite(f) and Decimal(f) == d else _decimal_text(d)


def as_str(v: object) -> str:
    if type(v) is str:
        return v
    if isinstance(v, bytes):  # go-cty's decoder reads msgpack bin as a string too
        try:
            return v.decode()
        except UnicodeDecodeError:
            raise CtyError("string is not valid UTF-8") from None
    raise mismatch(STRING, v)


def nfc(s: str) -> str:
    # cty normalises every string to NFC, so this keeps our bytes identical to go-cty's.
    return (
        s if s.isascii() or unicodedata.is_normalized("NFC", s) else unicodedata.normalize("NFC", s)
    )


def kind(v: object) -> str:
    names = {type(None): "null", list: "list", tuple: "tuple", dict: "map", str: "string"}
    return names.get(type(v), type(v).__name__)


def mismatch(t: CtyType, v: object) -> CtyError:
    return CtyError(f"expected {t}, got {kind(v)}")


def _short(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


class RawJSON(str):
    """Text that is already JSON (numbers of any precision, type descriptions)."""

    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# Encoding: value -> plain structure that msgpack (or _dump_json) writes verbatim

UNKNOWN_EXT: Final = msgpack.ExtType(0, b"\x00")  # go-cty's unknownVal: fixext1 d4 00 00


def encode_value(v: object, t: CtyType, js: bool) -> object:
    if t is STRING and isinstance(v, str):  # fast path for the commonest leaf
        return nfc(v)
    tv = type(v)
    if v is None or (tv is bool and t is BOOL):
        return v
    if v is UNKNOWN:
        if js:
            raise CtyError("unknown values cannot be encoded as JSON")
        return UNKNOWN_EXT
    if isinstance(t, Primitive):
        name = t.name
        if name == "string":
            if isinstance(v, str):
                return nfc(v)
        elif name == "number":
            return number_out(v, js)
        elif name == "bool":
            if v is True or v is False:
                return v
        else:
            return _enc_dynamic(v, js)
        raise mismatch(t, v)
    if isinstance(t, Object):
        if not (tv is dict or isinstance(v, Mapping)):
            raise mismatch(t, v)
        obj = cast(Mapping[object, object], v)
        if not obj.keys() <= t.attributes.keys():
            extra = sorted(map(str, obj.keys() - t.attributes.keys()))
            raise CtyError("unsupported attribute", (extra[0],))
        out: dict[str, object] = {}  # sorted keys, every attribute: the wire-format rule
        try:
            for name, at in t.items:
                out[name] = encode_value(obj.get(name), at, js)
        except CtyError as e:
            e._within(name)
            raise
        return out
    if isinstance(t, Map):
        if not isinstance(v, Mapping):
            raise mismatch(t, v)
        for k in v:
            if not isinstance(k, str):
                raise CtyError(f"map keys must be strings, got {kind(k)}")
        out = {}
        key = ""
        try:
            for key in sorted(v):  # go-cty iterates map elements in key order
                out[key] = encode_value(v[key], t.element, js)
        except CtyError as e:
            e._within(key, key=True)
            raise
        return out
    seq_types = (list, tuple, set, frozenset) if isinstance(t, Set) else (list, tuple)
    if not isinstance(v, seq_types):
        raise mismatch(t, v)
    return _elements(v, t, lambda item, et: encode_value(item, et, js))


def _enc_dynamic(v: object, js: bool) -> object:
    if not isinstance(v, DynamicValue):
        raise CtyError(f"expected DynamicValue for dynamic type, got {kind(v)}")
    if v.type == DYNAMIC:
        raise CtyError("DynamicValue.type must be a concrete type, not dynamic")
    inner = encode_value(v.value, v.type, js)
    if js:  # cty JSON: {"type": <type>, "value": <value>}
        return {"type": RawJSON(type_json(v.type).decode()), "value": inner}
    return [type_json(v.type), inner]  # cty msgpack: [bin(JSON type), value]


_R = TypeVar("_R")
_E = TypeVar("_E")


def guard(fn: Callable[[object, CtyType, bool], _R], wire: object, t: CtyType, js: bool) -> _R:
    try:
        return fn(wire, t, js)
    except RecursionError:
        raise CtyError("value is nested too deeply") from None


# ---------------------------------------------------------------------------------------------
# Decoding: plain structure from msgpack/json -> Value, checked against the type


def decode_value(v: object, t: CtyType, js: bool) -> Value:
    if (t is STRING and type(v) is str) or (t is BOOL and type(v) is bool) or v is UNKNOWN:
        return v  # fast path for the commonest leaves
    if isinstance(t, Primitive):
        name = t.name
        if name == "dynamic":
            return _dec_dynamic(v, js)
        if v is None:
            return None
        if name == "string":
            if type(v) is str:
                return v
            if type(v) is bytes:
                return as_str(v)
        elif name == "number":
            if not isinstance(v, bool | msgpack.Timestamp):
                return number_in(v, js)
        elif v is True or v is False:
            return v
        return _dec_other(v, t)
    if v is None:
        return None
    if isinstance(t, Object):
        if type(v) is not dict:
            return _dec_other(v, t)
        attrs = t.attributes
        if v.keys() != attrs.keys():
            _check_keys(v, attrs, js)
        out: dict[str, Value] = {}
        name = ""
        try:
            for name, at in t.items:
                out[name] = decode_value(v.get(name), at, js)
        except CtyError as e:
            e._within(name)
            raise
        return out
    if isinstance(t, Map):
        if type(v) is not dict:
            return _dec_other(v, t)
        out = {}
        key = ""
        try:
            for raw_key, item in v.items():
                key = as_str(raw_key)
                out[key] = decode_value(item, t.element, js)
        except CtyError as e:
            e._within(key, key=True)
            raise
        return out
    if type(v) is not list:
        return _dec_other(v, t)
    return _elements(v, t, lambda item, et: decode_value(item, et, js))


def _elements(
    v: Sequence[object] | AbstractSet[object], t: CtyType, convert: Callable[[object, CtyType], _E]
) -> list[_E]:
    """Convert the elements of a list, set or tuple value, naming the index that fails."""
    if isinstance(t, Tuple):
        if len(v) != len(t.elements):
            raise CtyError(f"expected {t}, got {len(v)}")
        types: Iterable[CtyType] = t.elements
    elif isinstance(t, Collection):
        types = [t.element] * len(v)
    else:
        raise CtyError(f"not a cty type: {t!r}")
    items: list[_E] = []
    try:
        for item, et in zip(v, types, strict=True):
            items.append(convert(item, et))
    except CtyError as e:
        e._within(len(items))  # the failing element's index
        raise
    return items


def _dec_other(v: object, t: CtyType) -> Value:
    # msgpack parses ext type -1 itself (as a timestamp); cty reads every ext as unknown.
    if isinstance(v, msgpack.Timestamp):
        return UNKNOWN
    raise mismatch(t, v)


def _check_keys(v: dict[object, object], attrs: Mapping[str, CtyType], js: bool) -> None:
    if not all(type(k) is str for k in v):
        raise CtyError("object keys must be strings")
    keys = v.keys()
    extra = sorted(map(str, keys - attrs.keys()))
    if extra:
        raise CtyError("unsupported attribute", (extra[0],))
    if not js:  # cty's msgpack decoder insists on every attribute; stored JSON state may omit some
        missing = sorted(attrs.keys() - keys)
        raise CtyError(
            f"an object with {len(attrs)} attributes is required ({len(v)} given);"
            f" missing {', '.join(missing)}"
        )


def _dec_dynamic(v: object, js: bool) -> Value:
    if v is None:
        return None
    if js:
        if type(v) is not dict or v.keys() != {"type", "value"}:
            raise CtyError('dynamic value must be a JSON object with "type" and "value"')
        t, raw = type_from_object(v["type"]), v["value"]
    else:
        if isinstance(v, msgpack.Timestamp):
            return UNKNOWN
        if type(v) is not list or len(v) != 2 or type(v[0]) not in (bytes, str):
            raise CtyError("dynamic value must be an array of [type JSON, value]")
        t, raw = type_from_json(v[0]), v[1]
    inner = decode_value(raw, t, js)
    return inner if t == DYNAMIC else DynamicValue(t, inner)
