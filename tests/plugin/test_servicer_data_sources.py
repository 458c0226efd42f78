"""The servicer's data source RPCs, with a small in-memory data source.

As in ``test_servicer.py`` the data source is a real implementation (a dict
as its "remote"), not a mock: what is under test is the generic layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.diagnostics import AttributePath, Diagnostics
from provider.plugin.resource import (
    DataReadRequest,
    DataReadResponse,
    DataSource,
    ListResource,
    Resource,
    State,
    ValidateRequest,
    ValidateResponse,
)
from provider.plugin.schema import Schema, nested_list, string
from provider.plugin.servicer import ProviderServicer


class NotBlank:
    description = "Not blank."

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if value == "":
            diags.error("Blank Value", "Set a value.", path)


SCHEMA = Schema(
    attributes={
        "name": string("Name.", required=True, validators=(NotBlank(),)),
        "value": string("Value.", computed=True),
        "tags": nested_list("Tags.", {"key": string("Key.", computed=True)}, computed=True),
    }
)
T = SCHEMA.object_type()


class Lookup:
    """A data source whose remote side is a dict, with a switch to misbehave."""

    type_name = "test_lookup"
    schema = SCHEMA

    def __init__(self) -> None:
        self.remote: dict[str, str] = {"a": "alpha"}
        self.answer = "found"  # or "nothing", "renamed", "unknown"
        self.reads: list[State] = []

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        response = ValidateResponse()
        if req.config["name"] == "forbidden":
            response.diagnostics.error("Forbidden Name", "No.", ("name",))
        return response

    def read(self, req: DataReadRequest) -> DataReadResponse:
        self.reads.append(req.config)
        response = DataReadResponse()
        name = str(req.config["name"])
        if name not in self.remote:
            response.diagnostics.error("Not Found", f"No {name!r}.", ("name",))
            return response
        if self.answer == "nothing":
            return response
        response.state = {
            **req.config,
            "value": cty.UNKNOWN if self.answer == "unknown" else self.remote[name],
            "tags": [{"key": "k1"}, {"key": "k2"}],
        }
        if self.answer == "renamed":
            response.state["name"] = "stranger"
        return response


class LookupProvider:
    type_name = "test"
    schema = Schema(attributes={})

    def __init__(self) -> None:
        self.lookup = Lookup()

    def validate(self, config: State, diags: Diagnostics) -> None:
        pass

    def configure(self, config: State, terraform_version: str, diags: Diagnostics) -> None:
        pass

    def stop(self) -> None:
        pass

    def resources(self) -> Sequence[Resource]:
        return []

    def data_sources(self) -> Sequence[DataSource]:
        return [self.lookup]

    def list_resources(self) -> Sequence[ListResource]:
        return []


@pytest.fixture
def provider() -> LookupProvider:
    return LookupProvider()


def call(provider: LookupProvider, request: Any) -> Any:
    rpc = request.DESCRIPTOR.full_name.split(".")[1]
    raw = ProviderServicer(provider).handlers()[rpc](request.SerializeToString(), None)
    return getattr(pb, rpc).Response.FromString(raw)


def config(name: cty.Value) -> pb.DynamicValue:
    value = {"name": name, "value": None, "tags": None}
    return pb.DynamicValue(msgpack=cty.encode_msgpack(value, T))


def read(provider: LookupProvider, name: cty.Value) -> Any:
    return call(provider, pb.ReadDataSource.Request(type_name="test_lookup", config=config(name)))


def summaries(response: Any) -> list[str]:
    return [d.summary for d in response.diagnostics]


def test_metadata_and_schema_list_the_data_sources(provider: LookupProvider) -> None:
    metadata = call(provider, pb.GetMetadata.Request())
    assert [d.type_name for d in metadata.data_sources] == ["test_lookup"]
    schema = call(provider, pb.GetProviderSchema.Request())
    assert list(schema.data_source_schemas) == ["test_lookup"]
    [tags] = [
        a for a in schema.data_source_schemas["test_lookup"].block.attributes if a.name == "tags"
    ]
    assert tags.computed
    assert tags.nested_type.nesting == pb.Schema.Object.NestingMode.LIST


@pytest.mark.parametrize(
    ("name", "errors"),
    [("a", []), ("", ["Blank Value"]), ("forbidden", ["Forbidden Name"]), (cty.UNKNOWN, [])],
    ids=["valid", "declared-validator", "data-source-check", "unknown-passes"],
)
def test_validate_runs_declared_validators_then_the_data_source(
    provider: LookupProvider, name: cty.Value, errors: list[str]
) -> None:
    request = pb.ValidateDataResourceConfig.Request(type_name="test_lookup", config=config(name))
    assert summaries(call(provider, request)) == errors


def test_read_returns_the_configuration_with_computed_values(provider: LookupProvider) -> None:
    response = read(provider, "a")
    assert summaries(response) == []
    assert cty.decode_msgpack(response.state.msgpack, T) == {
        "name": "a",
        "value": "alpha",
        "tags": [{"key": "k1"}, {"key": "k2"}],
    }


def test_read_with_unknown_configuration_never_reaches_the_data_source(
    provider: LookupProvider,
) -> None:
    response = read(provider, cty.UNKNOWN)
    assert summaries(response) == ["Unknown Value In Data Source Configuration"]
    assert provider.lookup.reads == []


def test_read_runs_declared_validators_on_values_known_only_now(provider: LookupProvider) -> None:
    assert summaries(read(provider, "")) == ["Blank Value"]
    assert provider.lookup.reads == []


def test_a_failed_read_returns_its_error_and_no_state(provider: LookupProvider) -> None:
    response = read(provider, "missing")
    assert summaries(response) == ["Not Found"]
    assert not response.state.msgpack


@pytest.mark.parametrize(
    ("answer", "summary"),
    [
        ("nothing", "Provider Read Nothing"),
        ("renamed", "Provider Produced Invalid Object"),
        ("unknown", "Provider Produced Invalid Object"),
    ],
)
def test_an_answer_terraform_would_reject_is_reported(
    provider: LookupProvider, answer: str, summary: str
) -> None:
    provider.lookup.answer = answer
    response = read(provider, "a")
    assert summaries(response) == [summary]
    assert not response.state.msgpack


def test_unknown_data_source_type_is_a_diagnostic(provider: LookupProvider) -> None:
    request = pb.ReadDataSource.Request(type_name="test_other", config=config("a"))
    assert summaries(call(provider, request)) == ["Unknown Data Source Type"]


def test_a_computed_only_nested_attribute_holds_only_computed_attributes() -> None:
    with pytest.raises(ValueError, match="computed-only attributes"):
        nested_list("Tags.", {"key": string("Key.", required=True)}, computed=True)
