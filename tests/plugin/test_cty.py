"""Tests for provider.plugin.cty: exact wire bytes, CtyError paths, and round-trip properties."""

from __future__ import annotations

import contextlib
import copy
import math
import pickle
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import cast

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider.plugin.cty import (
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
    Set,
    Tuple,
    Unknown,
    Value,
    decode_json,
    decode_msgpack,
    encode_json,
    encode_msgpack,
    is_wholly_known,
    type_from_json,
    type_json,
)


def h(text: str) -> bytes:
    """Bytes from spaced hex, so expected wire bytes stay readable."""
    return bytes.fromhex(text)


def fixstr(text: bytes) -> bytes:
    """A msgpack fixstr (under 32 bytes): how go-cty writes a number too precise for float64."""
    return bytes([0xA0 + len(text)]) + text


def dyn(t: CtyType, value: bytes) -> bytes:
    """go-cty's dynamic wrapper: fixarray(2), bin8(type JSON), value."""
    tj = type_json(t)
    return b"\x92\xc4" + bytes([len(tj)]) + tj + value


TRIGGERS = Object({"name": STRING, "triggers": List(Object({"scope": STRING, "ttl": NUMBER}))})
ABC = Object({"zeta": STRING, "alpha": BOOL, "mid": NUMBER})

# ---------------------------------------------------------------------------------------------
# Exact bytes: encode, then decode back to the same value

ROUND_TRIP_BYTES: list[tuple[str, object, CtyType, bytes]] = [
    ("unknown-string", UNKNOWN, STRING, h("d4 00 00")),  # go-cty unknownVal, per the reference
    ("unknown-object", UNKNOWN, ABC, h("d4 00 00")),
    ("unknown-dynamic", UNKNOWN, DYNAMIC, h("d4 00 00")),
    ("null-string", None, STRING, h("c0")),
    ("null-object", None, ABC, h("c0")),
    ("null-dynamic", None, DYNAMIC, h("c0")),
    ("string", "hello", STRING, h("a5 68656c6c6f")),
    ("string-empty", "", STRING, h("a0")),
    ("string-utf8", "é", STRING, h("a2 c3a9")),
    ("true", True, BOOL, h("c3")),
    ("false", False, BOOL, h("c2")),
    ("int-0", 0, NUMBER, h("00")),
    ("int-neg1", -1, NUMBER, h("ff")),
    ("int-128", 128, NUMBER, h("cc 80")),
    ("int-neg33", -33, NUMBER, h("d0 df")),
    ("int64-max", 2**63 - 1, NUMBER, h("cf 7fffffffffffffff")),
    ("int64-min", -(2**63), NUMBER, h("d3 8000000000000000")),
    ("int64-max+1-exact-float", 2**63, NUMBER, h("cb 43e0000000000000")),
    ("uint64-max+1-exact-float", 2**64, NUMBER, h("cb 43f0000000000000")),
    ("int64-max+2-string", 2**63 + 1, NUMBER, fixstr(b"9223372036854775809")),
    ("int64-min-1-string", -(2**63) - 1, NUMBER, fixstr(b"-9223372036854775809")),
    ("big-int-string", 10**30 + 1, NUMBER, fixstr(b"1000000000000000000000000000001")),
    ("float", 1.5, NUMBER, h("cb 3ff8000000000000")),
    ("float-small", 2**-30, NUMBER, h("cb 3e10000000000000")),
    ("inf", math.inf, NUMBER, h("cb 7ff0000000000000")),
    ("neg-inf", -math.inf, NUMBER, h("cb fff0000000000000")),
    ("decimal-0.1-string", Decimal("0.1"), NUMBER, h("a3 302e31")),
    (
        "decimal-long",
        Decimal("-12345678901234567890.5"),
        NUMBER,
        fixstr(b"-12345678901234567890.5"),
    ),
    ("list", ["a", None, UNKNOWN], List(STRING), h("93 a161 c0 d40000")),
    ("list-empty", [], List(STRING), h("90")),
    ("set", [1, 2], Set(NUMBER), h("92 01 02")),
    ("tuple", ["a", 1, True], Tuple([STRING, NUMBER, BOOL]), h("93 a161 01 c3")),
    ("map-sorted", {"b": 1, "a": UNKNOWN}, Map(NUMBER), h("82 a161 d40000 a162 01")),
    (
        "object-sorted-null-filled",
        {"zeta": "z", "alpha": True, "mid": None},
        ABC,
        h("83 a5616c706861 c3 a36d6964 c0 a47a657461 a17a"),
    ),
    ("object-empty", {}, Object({}), h("80")),
    ("dynamic-string", DynamicValue(STRING, "x"), DYNAMIC, dyn(STRING, h("a178"))),
    ("dynamic-typed-null", DynamicValue(STRING, None), DYNAMIC, dyn(STRING, h("c0"))),
    ("dynamic-typed-unknown", DynamicValue(NUMBER, UNKNOWN), DYNAMIC, dyn(NUMBER, h("d40000"))),
    ("dynamic-list", DynamicValue(List(STRING), ["a"]), DYNAMIC, dyn(List(STRING), h("91a161"))),
    (
        "list-of-dynamic",
        [DynamicValue(BOOL, True), None, UNKNOWN],
        List(DYNAMIC),
        h("93") + dyn(BOOL, h("c3")) + h("c0 d40000"),
    ),
]


@pytest.mark.parametrize(
    ("value", "t", "wire"), [c[1:] for c in ROUND_TRIP_BYTES], ids=[c[0] for c in ROUND_TRIP_BYTES]
)
def test_msgpack_exact_bytes(value: object, t: CtyType, wire: bytes) -> None:
    assert encode_msgpack(value, t) == wire
    assert decode_msgpack(wire, t) == value


# Encodings that normalise: the bytes are go-cty's, the decoded value is the canonical form.
ENCODE_ONLY: list[tuple[str, object, CtyType, bytes, Value]] = [
    ("integral-float-is-int", 5.0, NUMBER, h("05"), 5),
    ("neg-zero-is-int", -0.0, NUMBER, h("00"), 0),
    ("huge-float-stays-float", 1e300, NUMBER, h("cb 7e37e43c8800759c"), int(1e300)),
    ("decimal-integral-is-int", Decimal("1E+2"), NUMBER, h("64"), 100),
    ("decimal-exact-float", Decimal("1.50"), NUMBER, h("cb 3ff8000000000000"), 1.5),
    ("decimal-trailing-zeros", Decimal("-0.10"), NUMBER, h("a4 2d302e31"), Decimal("-0.1")),
    ("decimal-inf", Decimal("-Infinity"), NUMBER, h("cb fff0000000000000"), -math.inf),
    ("nfc-normalised", "e\u0301", STRING, h("a2 c3a9"), "é"),
    ("tuple-input", ("a", "b"), List(STRING), h("92 a161 a162"), ["a", "b"]),
    ("frozenset-input", frozenset({7}), Set(NUMBER), h("91 07"), [7]),
    (
        "object-missing-keys",
        {"mid": 1},
        ABC,
        h("83 a5616c706861 c0 a36d6964 01 a47a657461 c0"),
        {
            "alpha": None,
            "mid": 1,
            "zeta": None,
        },
    ),
]


@pytest.mark.parametrize(
    ("value", "t", "wire", "decoded"), [c[1:] for c in ENCODE_ONLY], ids=[c[0] for c in ENCODE_ONLY]
)
def test_msgpack_encode_normalises(value: object, t: CtyType, wire: bytes, decoded: Value) -> None:
    assert encode_msgpack(value, t) == wire
    got = decode_msgpack(wire, t)
    assert got == decoded
    assert type(got) is type(decoded)


def _ext(code: int, payload: bytes) -> bytes:
    return bytes(msgpack.packb(msgpack.ExtType(code, payload)))


REFINED = _ext(12, msgpack.packb({1: False, 2: "foo-", 5: 1}))  # refined unknown, Terraform >= 1.6

DECODE_ONLY: list[tuple[str, bytes, CtyType, Value]] = [
    ("empty-bytes-is-null", b"", STRING, None),
    ("empty-bytes-object", b"", ABC, None),
    ("empty-bytes-dynamic", b"", DYNAMIC, None),
    ("ext12-refined-unknown", REFINED, STRING, UNKNOWN),
    ("ext12-in-list", b"\x91" + REFINED, List(NUMBER), [UNKNOWN]),
    ("ext5-any-code", _ext(5, b"abc"), Map(STRING), UNKNOWN),
    ("ext0-empty-payload", h("c7 00 00"), BOOL, UNKNOWN),
    ("ext-minus1-timestamp", h("d6 ff 00000001"), NUMBER, UNKNOWN),
    ("ext12-dynamic", REFINED, DYNAMIC, UNKNOWN),
    ("uint64-max", h("cf ffffffffffffffff"), NUMBER, 2**64 - 1),
    ("uint16", h("cd 0100"), NUMBER, 256),
    ("int32", h("d2 ffff0000"), NUMBER, -65536),
    ("float32", h("ca 3fc00000"), NUMBER, 1.5),
    ("float64-integral", h("cb 4014000000000000"), NUMBER, 5),
    ("decimal-string-int", fixstr(b"12345678901234567890"), NUMBER, 12345678901234567890),
    ("decimal-string-exp", fixstr(b"1e3"), NUMBER, 1000),
    ("decimal-string-exact-float", fixstr(b"1.5"), NUMBER, 1.5),
    ("decimal-string-as-bin", b"\xc4\x03" + b"0.1", NUMBER, Decimal("0.1")),
    ("bin-as-string", h("c4 01 61"), STRING, "a"),
    ("dynamic-type-as-str", b'\x92\xa8"string"\xa1x', DYNAMIC, DynamicValue(STRING, "x")),
    ("dynamic-of-dynamic-flattens", dyn(DYNAMIC, h("c0")), DYNAMIC, None),
    (
        "dynamic-object",
        dyn(Object({"a": NUMBER}), h("81 a161 01")),
        DYNAMIC,
        DynamicValue(Object({"a": NUMBER}), {"a": 1}),
    ),
]


@pytest.mark.parametrize(
    ("wire", "t", "expected"), [c[1:] for c in DECODE_ONLY], ids=[c[0] for c in DECODE_ONLY]
)
def test_msgpack_decode(wire: bytes, t: CtyType, expected: Value) -> None:
    got = decode_msgpack(wire, t)
    assert got == expected
    assert type(got) is type(expected)


DECODE_ERRORS: list[tuple[str, bytes, CtyType, tuple[str | int, ...], str]] = [
    ("int-for-string", h("01"), STRING, (), "expected string, got int"),
    ("bool-for-number", h("c3"), NUMBER, (), "expected number, got bool"),
    ("string-for-bool", h("a161"), BOOL, (), "expected bool, got string"),
    ("map-for-list", h("80"), List(STRING), (), "expected list of string, got map"),
    ("list-for-object", h("90"), ABC, (), "expected object, got list"),
    (
        "nested-path",
        encode_msgpack({"triggers": [{"scope": "a"}, {"ttl": 1}]}, TRIGGERS).replace(
            b"\xa5scope\xc0", b"\xa5scope\x07"
        ),
        TRIGGERS,
        ("triggers", 1, "scope"),
        ".triggers[1].scope: expected string, got int",
    ),
    ("map-key-path", h("81 a16b 01"), Map(STRING), ("k",), '["k"]: expected string, got int'),
    ("extra-attribute", h("82 a161 01 a162 02"), Object({"a": NUMBER}), ("b",), "unsupported"),
    ("missing-attribute", h("81 a161 01"), Object({"a": NUMBER, "b": STRING}), (), "2 attributes"),
    ("bin-object-key", h("81 c40161 01"), Object({"a": NUMBER}), (), "keys must be strings"),
    ("tuple-length", h("91 01"), Tuple([NUMBER, NUMBER]), (), "tuple of 2 elements, got 1"),
    ("nan", h("cb 7ff8000000000000"), NUMBER, (), "NaN"),
    ("bad-decimal-string", fixstr(b"abc"), NUMBER, (), "invalid number"),
    ("nan-decimal-string", fixstr(b"NaN"), NUMBER, (), "invalid number"),
    ("invalid-utf8-bin-string", h("c4 01 ff"), STRING, (), "UTF-8"),
    ("invalid-utf8-str", h("a1 ff"), STRING, (), "malformed msgpack"),
    ("truncated", h("92 01"), List(NUMBER), (), "malformed msgpack"),
    ("truncated-str", h("a5 6865"), STRING, (), "malformed msgpack"),
    ("reserved-byte", h("c1"), STRING, (), "malformed msgpack"),
    ("trailing-data", h("01 02"), NUMBER, (), "malformed msgpack"),
    ("int-map-key", h("81 01 01"), Map(NUMBER), (), "malformed msgpack"),
    ("bad-timestamp-ext", h("d4 ff 00"), STRING, (), "malformed msgpack"),
    ("dynamic-not-array", h("01"), DYNAMIC, (), "dynamic value must be"),
    ("dynamic-3-elements", h("93 c0 c0 c0"), DYNAMIC, (), "dynamic value must be"),
    ("dynamic-bad-type", b"\x92\xc4\x04nope\x01", DYNAMIC, (), "invalid type description"),
    ("dynamic-bad-inner", dyn(STRING, h("01")), DYNAMIC, (), "expected string, got int"),
    ("dynamic-in-list", h("91") + dyn(NUMBER, h("c3")), List(DYNAMIC), (0,), "got bool"),
]


@pytest.mark.parametrize(
    ("wire", "t", "path", "message"),
    [c[1:] for c in DECODE_ERRORS],
    ids=[c[0] for c in DECODE_ERRORS],
)
def test_msgpack_decode_errors(
    wire: bytes, t: CtyType, path: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(CtyError) as info:
        decode_msgpack(wire, t)
    assert info.value.path == path
    assert message in str(info.value)


ENCODE_ERRORS: list[tuple[str, object, CtyType, tuple[str | int, ...], str]] = [
    ("bool-is-not-number", True, NUMBER, (), "expected number, got bool"),
    ("int-is-not-string", 1, STRING, (), "expected string, got int"),
    ("int-is-not-bool", 1, BOOL, (), "expected bool, got int"),
    ("str-is-not-list", "ab", List(STRING), (), "expected list of string, got string"),
    ("set-is-not-list", {"a"}, List(STRING), (), "got set"),
    ("list-is-not-object", [], ABC, (), "expected object, got list"),
    ("nan-float", math.nan, NUMBER, (), "NaN"),
    ("nan-decimal", Decimal("NaN"), NUMBER, (), "NaN"),
    ("snan-decimal", Decimal("sNaN"), NUMBER, (), "NaN"),
    (
        "nested-path",
        {"triggers": [{"scope": 1}]},
        TRIGGERS,
        ("triggers", 0, "scope"),
        ".triggers[0].scope: expected string, got int",
    ),
    ("extra-attribute", {"name": "x", "bogus": 1}, TRIGGERS, ("bogus",), ".bogus: unsupported"),
    ("map-non-str-key", {1: "x"}, Map(STRING), (), "map keys must be strings"),
    ("map-value-path", {"k": [1]}, Map(List(STRING)), ("k", 0), '["k"][0]: expected string'),
    ("tuple-length", [1], Tuple([NUMBER, NUMBER]), (), "tuple of 2 elements, got 1"),
    ("plain-value-for-dynamic", "x", DYNAMIC, (), "expected DynamicValue"),
    ("dynamic-of-dynamic", DynamicValue(DYNAMIC, None), DYNAMIC, (), "concrete type"),
    ("dynamic-wrong-inner", DynamicValue(BOOL, "x"), DYNAMIC, (), "expected bool, got string"),
    ("dynamic-for-string", DynamicValue(STRING, "x"), STRING, (), "expected string"),
    ("lone-surrogate", "\ud800", STRING, (), "cannot encode"),
]


@pytest.mark.parametrize(
    ("value", "t", "path", "message"),
    [c[1:] for c in ENCODE_ERRORS],
    ids=[c[0] for c in ENCODE_ERRORS],
)
def test_msgpack_encode_errors(
    value: object, t: CtyType, path: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(CtyError) as info:
        encode_msgpack(value, t)
    assert info.value.path == path
    assert message in str(info.value)


def test_cty_error_is_value_error_with_readable_message() -> None:
    err = CtyError("expected string, got int", ("triggers", 0, "scope"))
    assert isinstance(err, ValueError)
    assert str(err) == ".triggers[0].scope: expected string, got int"
    assert str(CtyError("boom")) == "boom"


def test_deeply_nested_dynamic_type_is_a_cty_error() -> None:
    deep = b"[" * 5000 + b'"string"' + b"]" * 5000
    with pytest.raises(CtyError):
        decode_msgpack(b"\x92\xc5" + len(deep).to_bytes(2, "big") + deep + b"\xc0", DYNAMIC)


# ---------------------------------------------------------------------------------------------
# Types

TYPE_JSON: list[tuple[str, CtyType, bytes]] = [
    ("string", STRING, b'"string"'),
    ("number", NUMBER, b'"number"'),
    ("bool", BOOL, b'"bool"'),
    ("dynamic", DYNAMIC, b'"dynamic"'),
    ("list", List(STRING), b'["list","string"]'),
    ("set", Set(NUMBER), b'["set","number"]'),
    ("map", Map(BOOL), b'["map","bool"]'),
    (
        "object-sorted",
        Object({"b": NUMBER, "a": STRING}),
        b'["object",{"a":"string","b":"number"}]',
    ),
    (
        "object-optional",
        Object({"b": NUMBER, "a": STRING}, optional=frozenset({"b"})),
        b'["object",{"a":"string","b":"number"},["b"]]',
    ),
    ("object-empty", Object({}), b'["object",{}]'),
    ("tuple", Tuple([STRING, List(DYNAMIC)]), b'["tuple",["string",["list","dynamic"]]]'),
    ("tuple-empty", Tuple([]), b'["tuple",[]]'),
    ("nested", Map(Set(Object({"x": BOOL}))), b'["map",["set",["object",{"x":"bool"}]]]'),
    ("unicode-attr", Object({"ä": STRING}), '["object",{"ä":"string"}]'.encode()),
]


@pytest.mark.parametrize(
    ("t", "expected"), [c[1:] for c in TYPE_JSON], ids=[c[0] for c in TYPE_JSON]
)
def test_type_json(t: CtyType, expected: bytes) -> None:
    assert type_json(t) == expected
    assert type_from_json(expected) == t
    assert type_from_json(expected.decode()) == t


@pytest.mark.parametrize(
    "bad",
    [b'"strin"', b'["list"]', b'["list","string","x"]', b'["object",{"a":"string"},["zz"]]',
     b'["tuple","string"]', b"not json", b"", b"42", b'["object",{"a":"string"},[1]]', b'[1]'],
    ids=lambda b: repr(b),
)  # fmt: skip
def test_type_from_json_rejects(bad: bytes) -> None:
    with pytest.raises(CtyError):
        type_from_json(bad)


def test_type_from_json_accepts_parsed_json() -> None:
    assert type_from_json(["map", ["object", {"a": "number"}]]) == Map(Object({"a": NUMBER}))
    with pytest.raises(CtyError):
        type_from_json(42)


def test_types_are_frozen_hashable_values() -> None:
    assert List(STRING) == List(STRING)
    list_type: CtyType = List(STRING)
    assert list_type != Set(STRING)
    assert Object({"a": STRING, "b": NUMBER}) == Object({"b": NUMBER, "a": STRING})
    assert Object({"a": STRING}) != Object({"a": STRING}, optional=frozenset({"a"}))
    assert len({Map(BOOL), Map(BOOL), Tuple([STRING]), Tuple((STRING,))}) == 2
    obj = Object({"b": NUMBER, "a": STRING})
    assert list(obj.attributes) == ["a", "b"]
    assert obj.attributes["b"] == NUMBER
    with pytest.raises(TypeError):
        obj.attributes["c"] = BOOL  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        obj.optional = frozenset()  # type: ignore[misc]
    with pytest.raises(CtyError):
        Object({"a": STRING}, optional=frozenset({"b"}))
    with pytest.raises(CtyError):
        List("string")  # type: ignore[arg-type]


def test_unknown_singleton() -> None:
    assert repr(UNKNOWN) == "UNKNOWN"
    assert not UNKNOWN
    assert Unknown() is UNKNOWN
    assert copy.copy(UNKNOWN) is UNKNOWN
    assert copy.deepcopy([UNKNOWN])[0] is UNKNOWN
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN  # noqa: S301


@pytest.mark.parametrize(
    ("value", "known"),
    [
        (None, True),
        ("x", True),
        (UNKNOWN, False),
        ([1, [2, {"a": UNKNOWN}]], False),
        ({"a": [None, DynamicValue(STRING, "x")]}, True),
        (DynamicValue(STRING, UNKNOWN), False),
        ((1, UNKNOWN), False),
        ({"a": (UNKNOWN,)}, False),
        ({"a": {"b": frozenset({1})}}, True),
        (MappingProxyType({"a": UNKNOWN}), False),
        (type("Text", (str,), {})("x"), True),  # a subclass takes the general path
        ([True, 1.5, Decimal(2), None, {"x": [UNKNOWN]}], False),
    ],
)
def test_is_wholly_known(value: object, known: bool) -> None:
    assert is_wholly_known(value) is known


# ---------------------------------------------------------------------------------------------
# JSON

JSON_ENCODE: list[tuple[str, object, CtyType, bytes]] = [
    ("null", None, STRING, b"null"),
    (
        "object-null-filled",
        {"zeta": "é", "mid": 1},
        ABC,
        '{"alpha":null,"mid":1,"zeta":"é"}'.encode(),
    ),
    ("decimal", Decimal("0.10"), NUMBER, b"0.1"),
    ("big-int", 2**70, NUMBER, b"1180591620717411303424"),
    ("float", 1.5, NUMBER, b"1.5"),
    ("map-sorted", {"b": True, "a": False}, Map(BOOL), b'{"a":false,"b":true}'),
    ("set", [1, 2], Set(NUMBER), b"[1,2]"),
    (
        "dynamic",
        DynamicValue(List(STRING), ["a"]),
        DYNAMIC,
        b'{"type":["list","string"],"value":["a"]}',
    ),
    ("escapes", 'a"\\\n', STRING, b'"a\\"\\\\\\n"'),
]


@pytest.mark.parametrize(
    ("value", "t", "expected"), [c[1:] for c in JSON_ENCODE], ids=[c[0] for c in JSON_ENCODE]
)
def test_json_encode(value: object, t: CtyType, expected: bytes) -> None:
    assert encode_json(value, t) == expected


JSON_DECODE: list[tuple[str, bytes | str, CtyType, Value]] = [
    ("blank-is-null", b"  ", ABC, None),
    ("missing-attribute-is-null", b'{"mid": 2}', ABC, {"alpha": None, "mid": 2, "zeta": None}),
    ("decimal-not-float64", b"0.1", NUMBER, Decimal("0.1")),
    ("exact-float", b"1.5", NUMBER, 1.5),
    ("integral-exponent", b"1e2", NUMBER, 100),
    ("integral-fraction", b"2.000", NUMBER, 2),
    ("big-int", b"123456789012345678901234567890", NUMBER, 123456789012345678901234567890),
    ("long-fraction", b"3.14159265358979323846264338327950288", NUMBER,
     Decimal("3.14159265358979323846264338327950288")),
    ("str-input", '{"k": "v"}', Map(STRING), {"k": "v"}),
    ("dynamic", b'{"type": "number", "value": 1}', DYNAMIC, DynamicValue(NUMBER, 1)),
    ("dynamic-null", b"null", DYNAMIC, None),
    ("raw-state", b'{"id":"x","name":"n","size":1}',
     Object({"id": STRING, "name": STRING, "size": NUMBER}), {"id": "x", "name": "n", "size": 1}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "t", "expected"), [c[1:] for c in JSON_DECODE], ids=[c[0] for c in JSON_DECODE]
)
def test_json_decode(data: bytes | str, t: CtyType, expected: Value) -> None:
    got = decode_json(data, t)
    assert got == expected
    assert type(got) is type(expected)


JSON_ERRORS: list[tuple[str, bytes, CtyType, tuple[str | int, ...], str]] = [
    ("wrong-type", b'{"triggers": [{"scope": 1}]}', TRIGGERS, ("triggers", 0, "scope"), "got int"),
    ("extra-attribute", b'{"nope": 1}', ABC, ("nope",), "unsupported attribute"),
    ("string-for-number", b'"1"', NUMBER, (), "expected number, got string"),
    ("number-for-string", b"1", STRING, (), "expected string, got int"),
    ("nan", b"NaN", NUMBER, (), "NaN"),
    ("infinity", b"Infinity", NUMBER, (), "Infinity"),
    ("garbage", b"{", ABC, (), "malformed JSON"),
    ("bad-utf8", b'"\xff"', STRING, (), "malformed JSON"),
    ("dynamic-missing-value", b'{"type": "string"}', DYNAMIC, (), "dynamic value must be"),
    ("dynamic-bad-type", b'{"type": "strin", "value": 1}', DYNAMIC, (), "invalid type"),
    ("tuple-length", b"[1]", Tuple([NUMBER, NUMBER]), (), "tuple of 2 elements"),
]


@pytest.mark.parametrize(
    ("data", "t", "path", "message"), [c[1:] for c in JSON_ERRORS], ids=[c[0] for c in JSON_ERRORS]
)
def test_json_decode_errors(
    data: bytes, t: CtyType, path: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(CtyError) as info:
        decode_json(data, t)
    assert info.value.path == path
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("value", "t", "path"),
    [
        (UNKNOWN, STRING, ()),
        ({"triggers": [UNKNOWN]}, TRIGGERS, ("triggers", 0)),
        (math.inf, NUMBER, ()),
        (Decimal("-Infinity"), NUMBER, ()),
        ("\udfff", STRING, ()),
    ],
    ids=["unknown", "nested-unknown", "inf", "decimal-inf", "lone-surrogate"],
)
def test_json_encode_errors(value: object, t: CtyType, path: tuple[str | int, ...]) -> None:
    with pytest.raises(CtyError) as info:
        encode_json(value, t)
    assert info.value.path == path


# ---------------------------------------------------------------------------------------------
# Properties

PROPERTY = settings(max_examples=150, deadline=None, database=None)

names = st.text(st.characters(codec="utf-8"), max_size=6)
primitive_types = st.sampled_from([STRING, NUMBER, BOOL, DYNAMIC])


def _objects(children: st.SearchStrategy[CtyType]) -> st.SearchStrategy[CtyType]:
    def with_optional(attrs: dict[str, CtyType]) -> st.SearchStrategy[CtyType]:
        return st.sets(st.sampled_from(sorted(attrs))).map(lambda o: Object(attrs, o))

    return st.dictionaries(names, children, max_size=4).flatmap(
        lambda attrs: with_optional(attrs) if attrs else st.just(Object({}))
    )


def _compound(children: st.SearchStrategy[CtyType]) -> st.SearchStrategy[CtyType]:
    return st.one_of(
        children.map(List),
        children.map(Set),
        children.map(Map),
        _objects(children),
        st.lists(children, max_size=3).map(Tuple),
    )


cty_types: st.SearchStrategy[CtyType] = st.recursive(primitive_types, _compound, max_leaves=8)
concrete_types = cty_types.filter(lambda t: t != DYNAMIC)

numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.integers(),
    st.sampled_from([2**63 - 1, 2**63, 2**63 + 1, -(2**63), -(2**63) - 1, 2**64, 10**400]),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
)
finite_numbers = numbers.filter(lambda n: not (isinstance(n, float) and math.isinf(n)))


def values(t: CtyType, *, unknowns: bool = True, depth: int = 0) -> st.SearchStrategy[object]:
    """Values conforming to ``t``; null and (optionally) unknown may appear at any level."""
    special = st.one_of(st.none(), st.just(UNKNOWN)) if unknowns else st.none()
    return st.one_of(special, _known(t, unknowns, depth))


def _known(t: CtyType, unknowns: bool, depth: int) -> st.SearchStrategy[object]:
    def sub(et: CtyType) -> st.SearchStrategy[object]:
        return values(et, unknowns=unknowns, depth=depth + 1)

    if t == STRING:
        return st.text()
    if t == NUMBER:
        return numbers if unknowns else finite_numbers
    if t == BOOL:
        return st.booleans()
    if t == DYNAMIC:  # keep nested dynamic values shallow so generation terminates quickly
        inner = concrete_types if depth < 2 else primitive_types.filter(lambda p: p != DYNAMIC)
        return inner.flatmap(lambda it: sub(it).map(lambda v: DynamicValue(it, cast(Value, v))))
    if isinstance(t, List | Set):
        return st.lists(sub(t.element), max_size=3)
    if isinstance(t, Map):
        return st.dictionaries(st.text(max_size=4), sub(t.element), max_size=3)
    if isinstance(t, Object):  # any attribute may be absent: the encoder writes it as null
        return st.fixed_dictionaries({}, optional={n: sub(at) for n, at in t.attributes.items()})
    assert isinstance(t, Tuple)
    return st.tuples(*(sub(e) for e in t.elements)).map(list)


def typed_values(*, unknowns: bool = True) -> st.SearchStrategy[tuple[CtyType, object]]:
    return cty_types.flatmap(lambda t: values(t, unknowns=unknowns).map(lambda v: (t, v)))


def canon(value: object, t: CtyType, number: Callable[[object], object]) -> object:
    """Comparable form: numbers by value, NFC strings, null-filled objects, sorted sets."""
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, DynamicValue):
        return ("dynamic", value.type, canon(value.value, value.type, number))
    if t == NUMBER:
        return number(value)
    if t == STRING:
        assert isinstance(value, str)
        return unicodedata.normalize("NFC", value)
    if isinstance(t, List | Set | Tuple):
        assert isinstance(value, list | tuple | set | frozenset)
        types = t.elements if isinstance(t, Tuple) else [t.element] * len(value)
        items = [canon(v, et, number) for v, et in zip(value, types, strict=True)]
        return sorted(items, key=repr) if isinstance(t, Set) else items
    if isinstance(t, Map | Object):
        assert isinstance(value, Mapping)
        if isinstance(t, Map):
            return {k: canon(value[k], t.element, number) for k in sorted(value)}
        return {n: canon(value.get(n), at, number) for n, at in t.attributes.items()}
    return value


def exact(n: object) -> object:
    assert isinstance(n, int | float | Decimal)
    assert not isinstance(n, bool)
    return n if isinstance(n, float) and math.isinf(n) else Fraction(n)


def as_json_text(n: object) -> object:
    """JSON writes a float as its shortest repr, so it reads back as that decimal (like cty)."""
    return Fraction(Decimal(repr(n))) if isinstance(n, float) else exact(n)


@PROPERTY
@given(typed_values())
def test_msgpack_round_trip(tv: tuple[CtyType, object]) -> None:
    t, value = tv
    wire = encode_msgpack(value, t)
    got = decode_msgpack(wire, t)
    assert canon(got, t, exact) == canon(value, t, exact)
    # Decoded values are canonical: re-encoding gives the same bytes (set order is kept).
    assert encode_msgpack(got, t) == wire
    if not is_wholly_known(value):
        assert h("d4 00 00") in wire
        with pytest.raises(CtyError):
            encode_json(value, t)


@PROPERTY
@given(typed_values(unknowns=False))
def test_json_round_trip(tv: tuple[CtyType, object]) -> None:
    t, value = tv
    assert is_wholly_known(value)
    got = decode_json(encode_json(value, t), t)
    assert canon(got, t, exact) == canon(value, t, as_json_text)


@PROPERTY
@given(cty_types)
def test_type_json_round_trip(t: CtyType) -> None:
    data = type_json(t)
    assert type_from_json(data) == t
    assert type_from_json(data.decode()) == t
    assert hash(type_from_json(data)) == hash(t)


FUZZ_TYPES = [STRING, NUMBER, DYNAMIC, List(DYNAMIC), Map(Set(NUMBER)), TRIGGERS, Tuple([BOOL])]


@PROPERTY
@given(st.binary(max_size=64), st.sampled_from(FUZZ_TYPES))
def test_msgpack_decode_garbage_raises_only_cty_error(data: bytes, t: CtyType) -> None:
    with contextlib.suppress(CtyError):
        decode_msgpack(data, t)


@PROPERTY
@given(typed_values(), st.data())
def test_msgpack_decode_mangled_raises_only_cty_error(
    tv: tuple[CtyType, object], data: st.DataObject
) -> None:
    t, value = tv
    wire = bytearray(encode_msgpack(value, t))
    cut = data.draw(st.integers(0, len(wire)))
    flip = data.draw(st.integers(0, 255))
    mangled = bytes(wire[:cut]) + bytes([flip]) + bytes(wire[cut + 1 :])
    for candidate in (bytes(wire[:cut]), mangled):
        with contextlib.suppress(CtyError):
            decode_msgpack(candidate, data.draw(st.sampled_from([t, *FUZZ_TYPES])))


@PROPERTY
@given(st.text(max_size=40), st.sampled_from(FUZZ_TYPES))
def test_json_decode_garbage_raises_only_cty_error(text: str, t: CtyType) -> None:
    with contextlib.suppress(CtyError):
        decode_json(text, t)
