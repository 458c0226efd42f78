"""Walkers built once per type for the common values; the exact walkers decide the rest.

:func:`.wire.encode_value` and :func:`.wire.decode_value` ask at every node what the type
is, and small RPCs' handlers spend much of their time there (the "handlers alone" row of
``python -m benchmarks.rpc_cost``). Here a type is turned once into nested closures that
only check the value. They handle the well-formed common case: strings, bools, int64
numbers, nulls, unknowns, and objects, maps, lists and sets of them. On anything else
(a dynamic or tuple type, another number form, a bytes string, a missing or extra
attribute, a wrong kind) they raise :class:`UncommonValueError` without a word, and the codec runs
the exact walker from the top, so every result and every error is the exact walker's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .types import BOOL, NUMBER, STRING, UNKNOWN, CtyType, List, Map, Object, Set, Value
from .wire import UNKNOWN_EXT, decode_value, encode_value, guard, nfc

__all__ = ["UncommonValueError", "decoder", "encoder", "to_value", "to_wire"]

Walker = Callable[[object], object]

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_CACHE_LIMIT: Final = 256
"""Types kept: a provider has a handful (its schemas'); more means types built per call."""
_SEQUENCES: Final = (list, tuple, set, frozenset)


class UncommonValueError(Exception):
    """The value is not of the common form: the exact walker must decide."""


_cache: dict[tuple[int, bool, bool], tuple[CtyType, Walker]] = {}


def to_value(wire: object, t: CtyType, js: bool) -> Value:
    """What ``guard(decode_value, wire, t, js)`` returns or raises, sooner."""
    try:
        return decoder(t, js)(wire)
    except UncommonValueError:
        return guard(decode_value, wire, t, js)


def to_wire(value: object, t: CtyType, js: bool) -> object:
    """What ``guard(encode_value, value, t, js)`` returns or raises, sooner."""
    try:
        return encoder(t, js)(value)
    except UncommonValueError:
        return guard(encode_value, value, t, js)


def decoder(t: CtyType, js: bool) -> Callable[[object], Value]:
    """``decode_value(·, t, js)`` for common values; else raises :class:`UncommonValueError`."""
    return _cached(t, js, decode=True)  # type: ignore[return-value]


def encoder(t: CtyType, js: bool) -> Walker:
    """``encode_value(·, t, js)`` for common values; else raises :class:`UncommonValueError`."""
    return _cached(t, js, decode=False)


def _cached(t: CtyType, js: bool, *, decode: bool) -> Walker:
    key = (id(t), js, decode)
    entry = _cache.get(key)
    if entry is not None and entry[0] is t:  # the type itself is held: its id is not reused
        return entry[1]
    walker = _decoder(t) if decode else _encoder(t, js)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[key] = (t, walker)
    return walker


# -- decoding: the structure msgpack or json parsed -> Value ------------------------------------
# The same for both codecs in the common case: they differ in number forms, missing
# attributes and dynamic values, which all fall back.


def _decoder(t: CtyType) -> Walker:
    if t is STRING:
        return _decode_string
    if t is BOOL:
        return _decode_bool
    if t is NUMBER:
        return _decode_number
    if type(t) is Object:
        return _decode_object(t)
    if type(t) is Map:
        return _decode_map(_decoder(t.element))
    if type(t) is List or type(t) is Set:
        return _decode_list(_decoder(t.element))
    return _always_fallback  # dynamic or tuple: the exact walker's, always


def _decode_string(v: object) -> object:
    return v if type(v) is str else _decode_null(v)


def _decode_bool(v: object) -> object:
    return v if type(v) is bool else _decode_null(v)


def _decode_number(v: object) -> object:
    return v if type(v) is int else _decode_null(v)


def _decode_null(v: object) -> object:
    if v is None or v is UNKNOWN:
        return v
    raise UncommonValueError


def _decode_object(t: Object) -> Walker:
    attrs = t.attributes.keys()
    items = tuple((name, _decoder(at)) for name, at in t.items)

    def walk(v: object) -> object:
        if type(v) is dict:
            if v.keys() != attrs:
                raise UncommonValueError
            return {name: child(v[name]) for name, child in items}
        return _decode_null(v)

    return walk


def _decode_map(element: Walker) -> Walker:
    def walk(v: object) -> object:
        if type(v) is dict:
            out = {}
            for key, item in v.items():
                if type(key) is not str:
                    raise UncommonValueError
                out[key] = element(item)
            return out
        return _decode_null(v)

    return walk


def _decode_list(element: Walker) -> Walker:
    def walk(v: object) -> object:
        if type(v) is list:
            return [element(item) for item in v]
        return _decode_null(v)

    return walk


def _always_fallback(_v: object) -> object:
    raise UncommonValueError


# -- encoding: Value -> the structure msgpack or _dump_json writes ------------------------------


def _encoder(t: CtyType, js: bool) -> Walker:
    if t is STRING:
        return _encode_string_json if js else _encode_string
    if t is BOOL:
        return _encode_bool_json if js else _encode_bool
    if t is NUMBER:  # JSON numbers are RawJSON text: the exact walker's
        return _encode_number_json if js else _encode_number
    if type(t) is Object:
        return _encode_object(t, js)
    if type(t) is Map:
        return _encode_map(_encoder(t.element, js), js)
    if type(t) is List:
        return _encode_sequence(_encoder(t.element, js), (list, tuple), js)
    if type(t) is Set:
        return _encode_sequence(_encoder(t.element, js), _SEQUENCES, js)
    return _always_fallback  # dynamic or tuple


def _encode_string(v: object) -> object:
    return nfc(v) if type(v) is str else _encode_null(v, False)


def _encode_string_json(v: object) -> object:
    return nfc(v) if type(v) is str else _encode_null(v, True)


def _encode_bool(v: object) -> object:
    return v if v is True or v is False else _encode_null(v, False)


def _encode_bool_json(v: object) -> object:
    return v if v is True or v is False else _encode_null(v, True)


def _encode_number(v: object) -> object:
    if type(v) is int and _INT64_MIN <= v <= _INT64_MAX:
        return v
    return _encode_null(v, False)


def _encode_number_json(v: object) -> object:
    return _encode_null(v, True)


def _encode_null(v: object, js: bool) -> object:
    """A null, or an unknown (in JSON an error, for the exact walker to word)."""
    if v is None:
        return v
    if v is UNKNOWN and not js:
        return UNKNOWN_EXT
    raise UncommonValueError


def _encode_object(t: Object, js: bool) -> Walker:
    attrs = t.attributes.keys()
    items = tuple((name, _encoder(at, js)) for name, at in t.items)

    def walk(v: object) -> object:
        if type(v) is dict:
            if not v.keys() <= attrs:
                raise UncommonValueError
            get = v.get
            return {name: child(get(name)) for name, child in items}  # every attribute, sorted
        return _encode_null(v, js)

    return walk


def _encode_map(element: Walker, js: bool) -> Walker:
    def walk(v: object) -> object:
        if type(v) is dict:
            for key in v:
                if type(key) is not str:
                    raise UncommonValueError
            return {key: element(v[key]) for key in sorted(v)}  # go-cty's key order
        return _encode_null(v, js)

    return walk


def _encode_sequence(element: Walker, kinds: tuple[type, ...], js: bool) -> Walker:
    def walk(v: object) -> object:
        if type(v) in kinds:
            return [element(item) for item in v]  # type: ignore[attr-defined]
        return _encode_null(v, js)

    return walk
