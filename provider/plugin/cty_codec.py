"""The cty value walkers and the msgpack codec (Terraform's wire format for values).

Split from :mod:`.cty` so that ``msgpack`` loads only when a value is first encoded or
decoded; :mod:`.cty` re-exports :func:`encode_msgpack` and :func:`decode_msgpack`, and
:mod:`.cty_json` shares the walkers ``_enc``/``_dec``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Final, TypeVar, cast

import msgpack

from .cty import (
    BOOL,
    DYNAMIC,
    STRING,
    UNKNOWN,
    CtyError,
    CtyType,
    DynamicValue,
    Map,
    Object,
    Primitive,
    Set,
    Tuple,
    Unknown,
    Value,
    _as_str,
    _Collection,
    _kind,
    _mismatch,
    _nfc,
    _number_in,
    _number_out,
    _RawJSON,
    _type_from,
    type_from_json,
    type_json,
)

__all__ = ["decode_msgpack", "encode_msgpack"]


# ---------------------------------------------------------------------------------------------
# Encoding: value -> plain structure that msgpack (or _dump_json) writes verbatim

_UNKNOWN_EXT: Final = msgpack.ExtType(0, b"\x00")  # go-cty's unknownVal: fixext1 d4 00 00


def _enc(v: object, t: CtyType, js: bool) -> object:
    if t is STRING and isinstance(v, str):  # fast path for the commonest leaf
        return _nfc(v)
    tv = type(v)
    if v is None or (tv is bool and t is BOOL):
        return v
    if v is UNKNOWN:
        if js:
            raise CtyError("unknown values cannot be encoded as JSON")
        return _UNKNOWN_EXT
    if isinstance(t, Primitive):
        name = t.name
        if name == "string":
            if isinstance(v, str):
                return _nfc(v)
        elif name == "number":
            return _number_out(v, js)
        elif name == "bool":
            if v is True or v is False:
                return v
        else:
            return _enc_dynamic(v, js)
        raise _mismatch(t, v)
    if isinstance(t, Object):
        if not (tv is dict or isinstance(v, Mapping)):
            raise _mismatch(t, v)
        obj = cast(Mapping[object, object], v)
        if not obj.keys() <= t.attributes.keys():
            extra = sorted(map(str, obj.keys() - t.attributes.keys()))
            raise CtyError("unsupported attribute", (extra[0],))
        out: dict[str, object] = {}  # sorted keys, every attribute: the wire-format rule
        try:
            for name, at in t.items:
                out[name] = _enc(obj.get(name), at, js)
        except CtyError as e:
            e._within(name)
            raise
        return out
    if isinstance(t, Map):
        if not isinstance(v, Mapping):
            raise _mismatch(t, v)
        for k in v:
            if not isinstance(k, str):
                raise CtyError(f"map keys must be strings, got {_kind(k)}")
        out = {}
        key = ""
        try:
            for key in sorted(v):  # go-cty iterates map elements in key order
                out[key] = _enc(v[key], t.element, js)
        except CtyError as e:
            e._within(key, key=True)
            raise
        return out
    seq_types = (list, tuple, set, frozenset) if isinstance(t, Set) else (list, tuple)
    if not isinstance(v, seq_types):
        raise _mismatch(t, v)
    return _elements(v, t, lambda item, et: _enc(item, et, js))


def _enc_dynamic(v: object, js: bool) -> object:
    if not isinstance(v, DynamicValue):
        raise CtyError(f"expected DynamicValue for dynamic type, got {_kind(v)}")
    if v.type == DYNAMIC:
        raise CtyError("DynamicValue.type must be a concrete type, not dynamic")
    inner = _enc(v.value, v.type, js)
    if js:  # cty JSON: {"type": <type>, "value": <value>}
        return {"type": _RawJSON(type_json(v.type).decode()), "value": inner}
    return [type_json(v.type), inner]  # cty msgpack: [bin(JSON type), value]


def encode_msgpack(value: object, t: CtyType) -> bytes:
    """Encode ``value`` of type ``t`` exactly as go-cty would (except set order).

    Raises CtyError (with the path) if the value does not conform to the type.
    """
    wire = _guard(_enc, value, t, False)
    try:
        data: bytes = msgpack.packb(wire, use_bin_type=True)
    except (ValueError, TypeError, OverflowError) as e:  # e.g. lone surrogates in a string
        raise CtyError(f"cannot encode as msgpack: {e}") from None
    return data


_R = TypeVar("_R")
_E = TypeVar("_E")


def _guard(fn: Callable[[object, CtyType, bool], _R], wire: object, t: CtyType, js: bool) -> _R:
    try:
        return fn(wire, t, js)
    except RecursionError:
        raise CtyError("value is nested too deeply") from None


# ---------------------------------------------------------------------------------------------
# Decoding: plain structure from msgpack/json -> Value, checked against the type


def _dec(v: object, t: CtyType, js: bool) -> Value:
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
                return _as_str(v)
        elif name == "number":
            if not isinstance(v, bool | msgpack.Timestamp):
                return _number_in(v, js)
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
                out[name] = _dec(v.get(name), at, js)
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
                key = _as_str(raw_key)
                out[key] = _dec(item, t.element, js)
        except CtyError as e:
            e._within(key, key=True)
            raise
        return out
    if type(v) is not list:
        return _dec_other(v, t)
    return _elements(v, t, lambda item, et: _dec(item, et, js))


def _elements(
    v: Sequence[object] | AbstractSet[object], t: CtyType, convert: Callable[[object, CtyType], _E]
) -> list[_E]:
    """Convert the elements of a list, set or tuple value, naming the index that fails."""
    if isinstance(t, Tuple):
        if len(v) != len(t.elements):
            raise CtyError(f"expected {t}, got {len(v)}")
        types: Iterable[CtyType] = t.elements
    elif isinstance(t, _Collection):
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
    raise _mismatch(t, v)


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
        t, raw = _type_from(v["type"]), v["value"]
    else:
        if isinstance(v, msgpack.Timestamp):
            return UNKNOWN
        if type(v) is not list or len(v) != 2 or type(v[0]) not in (bytes, str):
            raise CtyError("dynamic value must be an array of [type JSON, value]")
        t, raw = type_from_json(v[0]), v[1]
    inner = _dec(raw, t, js)
    return inner if t == DYNAMIC else DynamicValue(t, inner)


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
    return _guard(_dec, wire, t, False)
