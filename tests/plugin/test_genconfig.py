"""GenerateResourceConfig: a state reduced to what a person would write."""

from __future__ import annotations

import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.genconfig import config_from_state
from provider.plugin.schema import (
    Attribute,
    NestedObject,
    Nesting,
    boolean,
    map_of_strings,
    string,
)
from provider.plugin.servicer import ProviderServicer

from .test_servicer import ThingsProvider, call, decoded, dv, state

NESTED = {
    "items": Attribute(
        "Items.",
        nested=NestedObject(
            {
                "key": string("Key.", required=True),
                "etag": string("Server-side.", computed=True),
                "on": boolean("On.", optional=True, computed=True, default=True),
            },
            Nesting.LIST,
        ),
        optional=True,
    ),
    "labels": map_of_strings("Labels.", optional=True, computed=True, default={}),
    "old": string("Old.", optional=True, deprecation="Use new."),
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"items": None, "labels": {}, "old": "x"}, {"items": None, "labels": None, "old": None}),
        (
            {"items": None, "labels": {"a": "b"}, "old": None},
            {"items": None, "labels": {"a": "b"}, "old": None},
        ),
        (
            {
                "items": [
                    {"key": "k", "etag": "e", "on": True},
                    {"key": "j", "etag": "e", "on": False},
                ],
                "labels": {},
                "old": None,
            },
            {
                "items": [
                    {"key": "k", "etag": None, "on": None},
                    {"key": "j", "etag": None, "on": False},
                ],
                "labels": None,
                "old": None,
            },
        ),
    ],
    ids=["defaults-and-deprecated-dropped", "non-default-kept", "nested-computed-dropped"],
)
def test_config_from_state(value: dict[str, cty.Value], expected: dict[str, cty.Value]) -> None:
    assert config_from_state(NESTED, value) == expected


def test_no_state_gives_no_config() -> None:
    assert config_from_state(NESTED, None) is None


def test_generate_resource_config_rpc_drops_computed_write_only_and_defaults() -> None:
    rpcs = ProviderServicer(ThingsProvider())
    request = pb.GenerateResourceConfig.Request(
        type_name="test_thing",
        state=dv(state(name="a", value="v", enabled=True, serial="s-1")),
    )
    response = call(rpcs, request)
    assert list(response.diagnostics) == []
    assert decoded(response.config) == state(name="a", value="v")


def test_generation_is_advertised() -> None:
    response = call(ProviderServicer(ThingsProvider()), pb.GetProviderSchema.Request())
    assert response.server_capabilities.generate_resource_config
