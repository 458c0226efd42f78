"""ListResource and ValidateListResourceConfig: a streamed listing, failures as events."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.listing import ListRPCs
from provider.plugin.resource import ListRequest, ListResource, ListResult
from provider.plugin.schema import IdentityAttribute, IdentitySchema, Schema, string
from provider.plugin.serve import _start_grpc
from provider.plugin.servicer import ProviderServicer

from .test_servicer import SCHEMA, T, ThingsProvider, call, state

IDENTIFIED = dataclasses.replace(
    SCHEMA, identity=IdentitySchema({"name": IdentityAttribute("The name.")})
)
LIST_SCHEMA = Schema(attributes={"prefix": string("Prefix.", required=True)})
LIST_T = LIST_SCHEMA.object_type()


class ThingLister:
    """Lists the things whose name starts with ``prefix``; ``fail_after`` raises mid-way."""

    type_name = "test_thing"
    schema = LIST_SCHEMA

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names
        self.fail_after: int | None = None
        self.error_result = False
        self.requests: list[ListRequest] = []

    def list(self, req: ListRequest) -> Iterator[ListResult]:
        self.requests.append(req)
        if self.error_result:
            failed = ListResult()
            failed.diagnostics.error("Listing Failed", "The API said no.")
            yield failed
            return
        for i, name in enumerate(n for n in self.names if n.startswith(str(req.config["prefix"]))):
            if self.fail_after is not None and i >= self.fail_after:
                raise RuntimeError("connection reset")
            yield ListResult(
                state(name=name, enabled=True, serial=f"s-{i}", secret="leak"), f"thing {name}"
            )


class ListingProvider(ThingsProvider):
    def __init__(self, names: Sequence[str] = ("a1", "a2", "b1")) -> None:
        super().__init__()
        self.things.schema = IDENTIFIED
        self.lister = ThingLister(names)

    def list_resources(self) -> Sequence[ListResource]:
        return [self.lister]


def list_events(
    servicer: ProviderServicer, config: cty.Value, *, include: bool = True, limit: int = 100
) -> list[pb.ListResource.Event]:
    request = pb.ListResource.Request(
        type_name="test_thing",
        config=pb.DynamicValue(msgpack=cty.encode_msgpack(config, LIST_T)),
        include_resource_object=include,
        limit=limit,
    )
    handler = servicer.stream_handlers()["ListResource"]
    return [
        pb.ListResource.Event.FromString(raw) for raw in handler(request.SerializeToString(), None)
    ]


def names(events: list[pb.ListResource.Event]) -> list[Any]:
    name_t = IDENTIFIED.identity_type()
    identities = [cty.decode_msgpack(e.identity.identity_data.msgpack, name_t) for e in events]
    return [i["name"] if isinstance(i, dict) else i for i in identities]


def errors(events: list[pb.ListResource.Event]) -> list[str]:
    return [d.summary for e in events for d in e.diagnostic]


def test_schema_and_metadata_name_the_list_resource() -> None:
    rpcs = ProviderServicer(ListingProvider())
    schema = call(rpcs, pb.GetProviderSchema.Request())
    assert [a.name for a in schema.list_resource_schemas["test_thing"].block.attributes] == [
        "prefix"
    ]
    metadata = call(rpcs, pb.GetMetadata.Request())
    assert [m.type_name for m in metadata.list_resources] == ["test_thing"]


def test_each_event_carries_identity_name_and_object_without_write_only_values() -> None:
    events = list_events(ProviderServicer(ListingProvider()), {"prefix": "a"})
    assert errors(events) == []
    assert names(events) == ["a1", "a2"]
    assert [e.display_name for e in events] == ["thing a1", "thing a2"]
    first = cty.decode_msgpack(events[0].resource_object.msgpack, T)
    assert first == state(name="a1", enabled=True, serial="s-0")


def test_objects_are_left_out_unless_asked_for() -> None:
    events = list_events(ProviderServicer(ListingProvider()), {"prefix": "a"}, include=False)
    assert names(events) == ["a1", "a2"]
    assert not any(e.HasField("resource_object") for e in events)


def test_the_limit_ends_the_stream_and_reaches_the_resource() -> None:
    provider = ListingProvider()
    events = list_events(ProviderServicer(provider), {"prefix": ""}, limit=2)
    assert names(events) == ["a1", "a2"]
    assert provider.lister.requests[0].limit == 2


@pytest.mark.parametrize(
    ("setup", "expected_names", "expected_errors"),
    [
        ("fail_after", ["a1"], ["Internal Provider Error"]),
        ("error_result", [], ["Listing Failed"]),
    ],
    ids=["exception-mid-stream", "error-result"],
)
def test_failures_are_events_with_diagnostics(
    setup: str, expected_names: list[str], expected_errors: list[str]
) -> None:
    provider = ListingProvider()
    provider.lister.fail_after = 1 if setup == "fail_after" else None
    provider.lister.error_result = setup == "error_result"
    events = list_events(ProviderServicer(provider), {"prefix": "a"})
    assert names([e for e in events if e.HasField("identity")]) == expected_names
    assert errors(events) == expected_errors
    assert not events[-1].HasField("identity")


def test_a_null_required_config_value_is_an_error_event_and_lists_nothing() -> None:
    provider = ListingProvider()
    events = list_events(ProviderServicer(provider), {"prefix": None})
    assert len(errors(events)) == 1
    assert provider.lister.requests == []


def test_unknown_list_type_is_an_error_event() -> None:
    handler = ProviderServicer(ListingProvider()).stream_handlers()["ListResource"]
    raw = pb.ListResource.Request(type_name="test_other").SerializeToString()
    events = [pb.ListResource.Event.FromString(r) for r in handler(raw, None)]
    assert errors(events) == ["Unknown List Resource Type"]


def test_validate_list_config_runs_declared_checks() -> None:
    rpcs = ProviderServicer(ListingProvider())
    request = pb.ValidateListResourceConfig.Request(
        type_name="test_thing",
        config=pb.DynamicValue(msgpack=cty.encode_msgpack({"prefix": None}, LIST_T)),
    )
    assert len(call(rpcs, request).diagnostics) == 1
    request.config.msgpack = cty.encode_msgpack({"prefix": "a"}, LIST_T)
    assert list(call(rpcs, request).diagnostics) == []


def test_a_list_resource_needs_a_resource_with_an_identity() -> None:
    provider = ThingsProvider()  # its resource declares no identity
    with pytest.raises(ValueError, match="test_thing"):
        ListRPCs([ThingLister([])], {"test_thing": provider.things})


def test_list_resource_streams_over_grpc(tmp_path: Path) -> None:
    socket = tmp_path / "grpc.sock"
    server = _start_grpc(ListingProvider(), f"unix:{socket}", threading.Event())
    try:
        with grpc.insecure_channel(f"unix:{socket}") as channel:
            stream = channel.unary_stream(
                "/tfplugin6.Provider/ListResource",
                request_serializer=pb.ListResource.Request.SerializeToString,
                response_deserializer=pb.ListResource.Event.FromString,
            )
            request = pb.ListResource.Request(
                type_name="test_thing",
                config=pb.DynamicValue(msgpack=cty.encode_msgpack({"prefix": ""}, LIST_T)),
                limit=10,
            )
            events = list(stream(request, timeout=30))
    finally:
        server.stop(grace=None)
    assert names(events) == ["a1", "a2", "b1"]
