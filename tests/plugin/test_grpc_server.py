"""The gRPC server's capacity: concurrent RPCs and large messages.

Terraform sends every RPC of a command over one connection, up to
``-parallelism`` at once, and may send large values; the server must not
serialise them or refuse them at grpcio's 4 MiB default.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.diagnostics import Diagnostics
from provider.plugin.resource import (
    ApplyResponse,
    CreateRequest,
    DataSource,
    DeleteRequest,
    DeleteResponse,
    ImportRequest,
    ImportResponse,
    ListResource,
    PlanCallsApi,
    PlanRequest,
    PlanResponse,
    ReadRequest,
    ReadResponse,
    Resource,
    State,
    UpdateRequest,
    ValidateRequest,
    ValidateResponse,
)
from provider.plugin.schema import Schema, string
from provider.plugin.serve import MAX_WORKERS, _start_grpc

SCHEMA = Schema(attributes={"blob": string("A value.", optional=True)})


class Blocking:
    """Validation waits until ``parties`` validations run at the same time."""

    type_name = "test_blocking"
    schema = SCHEMA
    plan_calls_api: PlanCallsApi = "always"

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=20)

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        response = ValidateResponse()
        if req.config["blob"] == "wait":
            self.barrier.wait()
        elif isinstance(req.config["blob"], str):
            response.diagnostics.warning("Size", str(len(req.config["blob"])))
        return response

    def plan(self, req: PlanRequest) -> PlanResponse:
        return PlanResponse(req.planned)

    def create(self, req: CreateRequest) -> ApplyResponse:
        return ApplyResponse(req.planned)

    def read(self, req: ReadRequest) -> ReadResponse:
        return ReadResponse(req.state)

    def update(self, req: UpdateRequest) -> ApplyResponse:
        return ApplyResponse(req.planned)

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        return DeleteResponse()

    def import_state(self, req: ImportRequest) -> ImportResponse:
        return ImportResponse()


class BlockingProvider:
    type_name = "test"
    schema = Schema(attributes={})

    def __init__(self, parties: int) -> None:
        self.resource = Blocking(parties)

    def validate(self, config: State, diags: Diagnostics) -> None:
        pass

    def configure(self, config: State, terraform_version: str, diags: Diagnostics) -> None:
        pass

    def stop(self) -> None:
        pass

    def resources(self) -> Sequence[Resource]:
        return [self.resource]

    def data_sources(self) -> Sequence[DataSource]:
        return []

    def list_resources(self) -> Sequence[ListResource]:
        return []


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[grpc.Channel]:
    socket = tmp_path / "grpc.sock"
    server = _start_grpc(BlockingProvider(MAX_WORKERS), f"unix:{socket}", threading.Event())
    options = [("grpc.max_send_message_length", 64 << 20)]
    try:
        with grpc.insecure_channel(f"unix:{socket}", options=options) as channel:
            yield channel
    finally:
        server.stop(grace=None)


def validate(channel: grpc.Channel, blob: str) -> pb.ValidateResourceConfig.Response:
    call = channel.unary_unary(
        "/tfplugin6.Provider/ValidateResourceConfig",
        request_serializer=pb.ValidateResourceConfig.Request.SerializeToString,
        response_deserializer=pb.ValidateResourceConfig.Response.FromString,
    )
    config = pb.DynamicValue(msgpack=cty.encode_msgpack({"blob": blob}, SCHEMA.object_type()))
    response: pb.ValidateResourceConfig.Response = call(
        pb.ValidateResourceConfig.Request(type_name="test_blocking", config=config), timeout=30
    )
    return response


def test_serves_at_least_64_rpcs_at_once(channel: grpc.Channel) -> None:
    assert MAX_WORKERS >= 64
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        responses = list(pool.map(lambda _: validate(channel, "wait"), range(MAX_WORKERS)))
    # A broken barrier (fewer concurrent handlers than parties) is an error diagnostic.
    assert all(not r.diagnostics for r in responses)


def test_accepts_messages_far_above_grpcio_default_limit(channel: grpc.Channel) -> None:
    blob = "x" * (20 << 20)
    response = validate(channel, blob)
    assert [d.detail for d in response.diagnostics] == [str(len(blob))]
