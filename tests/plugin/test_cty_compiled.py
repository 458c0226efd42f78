"""The per-type walkers of cty.compiled: the exact walkers' results, or a hand-back to them."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider.plugin.cty import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    UNKNOWN,
    CtyError,
    CtyType,
    List,
    Map,
    Object,
    Set,
    Tuple,
    compiled,
    encode_json,
    encode_msgpack,
)
from provider.plugin.cty.wire import decode_value, encode_value, guard
from provider.webhook import SCHEMA
from tests.plugin.test_cty import PROPERTY, cty_types, typed_values


def strict(x: object) -> object:
    """``x`` with every type and the order of every dict spelled out: ``1 == True`` and
    ``{"a": 1, "b": 2} == {"b": 2, "a": 1}`` in Python, not on the wire."""
    if isinstance(x, dict):
        return ("dict", tuple((strict(k), strict(v)) for k, v in x.items()))
    if isinstance(x, list | tuple):
        return (type(x).__name__, tuple(strict(v) for v in x))
    return (type(x).__name__, x)


def outcome(walk: Any, *args: object) -> tuple[str, object]:
    try:
        return "value", strict(walk(*args))
    except CtyError as exc:
        return "error", (str(exc), exc.path)


def check_against_exact(fast: Any, exact: Any, v: object, t: CtyType, js: bool) -> bool:
    """The walker built for ``t`` gives the exact walker's value, or hands back; True if fast."""
    try:
        got = fast(t, js)(v)
    except compiled.UncommonValueError:
        return False
    assert outcome(guard, exact, v, t, js) == ("value", strict(got))
    # And the codec entry point agrees with the exact walker either way.
    assert outcome(compiled.to_wire if exact is encode_value else compiled.to_value, v, t, js) == (
        "value",
        strict(got),
    )
    return True


@PROPERTY
@given(typed_values(), cty_types, st.booleans())
def test_encoding_is_the_exact_walkers(
    tv: tuple[CtyType, object], other: CtyType, js: bool
) -> None:
    t, value = tv
    for walked_as in (t, other):  # its own type, and a wrong one
        check_against_exact(compiled.encoder, encode_value, value, walked_as, js)
        assert outcome(compiled.to_wire, value, walked_as, js) == outcome(
            guard, encode_value, value, walked_as, js
        )


@PROPERTY
@given(typed_values(), cty_types)
def test_msgpack_decoding_is_the_exact_walkers(tv: tuple[CtyType, object], other: CtyType) -> None:
    t, value = tv
    wire = msgpack.unpackb(
        encode_msgpack(value, t), raw=False, ext_hook=lambda _code, _data: UNKNOWN
    )
    for decoded_as in (t, other):
        check_against_exact(compiled.decoder, decode_value, wire, decoded_as, False)
        assert outcome(compiled.to_value, wire, decoded_as, False) == outcome(
            guard, decode_value, wire, decoded_as, False
        )


@PROPERTY
@given(typed_values(unknowns=False), cty_types)
def test_json_decoding_is_the_exact_walkers(tv: tuple[CtyType, object], other: CtyType) -> None:
    t, value = tv
    wire = json.loads(encode_json(value, t))
    for decoded_as in (t, other):
        check_against_exact(compiled.decoder, decode_value, wire, decoded_as, True)
        assert outcome(compiled.to_value, wire, decoded_as, True) == outcome(
            guard, decode_value, wire, decoded_as, True
        )


WEBHOOK = SCHEMA.object_type()
STATE: dict[str, object] = {
    "id": "hook-1",
    "app_id": "app",
    "url": "https://hooks.example.com/é",  # non-ASCII: still the common case
    "triggers": [{"scope": "environment", "type": "created"}],
    "disabled": False,
    "headers": {"X-B": "2", "X-A": "1"},
    "payload": {"app": "${app_id}"},
    "secret_headers_wo": None,
    "secret_headers_wo_version": None,
}


@pytest.mark.parametrize("js", [False, True])
def test_a_webhook_state_takes_the_built_walkers(js: bool) -> None:
    state = {k: v for k, v in STATE.items() if k in WEBHOOK.attributes}
    assert check_against_exact(compiled.encoder, encode_value, state, WEBHOOK, js)
    wire = compiled.encoder(WEBHOOK, js)(state)
    assert check_against_exact(compiled.decoder, decode_value, wire, WEBHOOK, js)


@pytest.mark.parametrize(
    ("value", "t", "js"),
    [
        ({"a": 1}, Map(NUMBER), True),  # JSON numbers: RawJSON text
        (1.5, NUMBER, False),  # not an int64
        (2**63, NUMBER, False),
        (UNKNOWN, STRING, True),  # an error for the exact walker to word
        ("x", DYNAMIC, False),
        (["x"], Tuple([STRING]), False),
        ({"a": "x", "b": None}, Object({"a": STRING}), False),  # an extra attribute
        ({1: "x"}, Map(STRING), False),
        (1, BOOL, False),
    ],
)
def test_uncommon_values_are_handed_back(value: object, t: CtyType, js: bool) -> None:
    with pytest.raises(compiled.UncommonValueError):
        compiled.encoder(t, js)(value)
    assert outcome(compiled.to_wire, value, t, js) == outcome(guard, encode_value, value, t, js)


@pytest.mark.parametrize(
    ("wire", "t", "js"),
    [
        ({"a": "x"}, Object({"a": STRING, "b": STRING}), True),  # missing: null in JSON only
        ({"a": "x"}, Object({"a": STRING, "b": STRING}), False),  # missing: an error
        (b"x", STRING, False),
        ("1.5", NUMBER, False),
        ([True], Set(STRING), False),
        ({"k": 1}, List(NUMBER), False),
    ],
)
def test_uncommon_wire_is_handed_back(wire: object, t: CtyType, js: bool) -> None:
    with pytest.raises(compiled.UncommonValueError):
        compiled.decoder(t, js)(wire)
    assert outcome(compiled.to_value, wire, t, js) == outcome(guard, decode_value, wire, t, js)


def test_walkers_are_built_once_per_type_and_the_cache_is_bounded() -> None:
    assert compiled.decoder(WEBHOOK, False) is compiled.decoder(WEBHOOK, False)
    assert compiled.encoder(WEBHOOK, True) is not compiled.encoder(WEBHOOK, False)
    for size in range(600):  # types built per call must not grow the cache without end
        compiled.encoder(List(Object({f"a{size}": STRING})), False)
    assert len(compiled._cache) <= compiled._CACHE_LIMIT
