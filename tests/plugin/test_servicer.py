"""The servicer's contract with Terraform, with a small in-memory resource.

The resource here is a real implementation of the Resource interface (a
dict as its "remote"), not a mock: what is under test is the generic layer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import msgpack
import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.diagnostics import DiagnosticError, Diagnostics
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
from provider.plugin.schema import Schema, boolean, string
from provider.plugin.servicer import ProviderServicer

SCHEMA = Schema(
    attributes={
        "name": string("Name.", required=True, requires_replace=True),
        "value": string("Value.", optional=True),
        "enabled": boolean("Enabled.", optional=True, computed=True, default=True),
        "serial": string("Server-assigned.", computed=True),
        "secret": string("Write-only.", optional=True, write_only=True),
    }
)
T = SCHEMA.object_type()


class Things:
    """A resource whose remote side is a dict, with switches to misbehave."""

    type_name = "test_thing"
    schema = SCHEMA
    plan_calls_api: PlanCallsApi = "always"

    def __init__(self) -> None:
        self.remote: dict[str, State] = {}
        self.fail_with: Exception | None = None
        self.tamper = False
        self.create_answer: str = "state"  # or "nothing", "unencodable", "with-secret"
        self.rename_on_read = False
        self.seen_config: State | None = None
        self.seen_private: bytes | None = None

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        response = ValidateResponse()
        if req.config["value"] == "invalid":
            response.diagnostics.error("Invalid Value", "No.", ("value",))
        return response

    def plan(self, req: PlanRequest) -> PlanResponse:
        self.seen_config = req.config
        return PlanResponse(req.planned, private=b"planned:" + req.prior_private)

    def create(self, req: CreateRequest) -> ApplyResponse:
        self._maybe_fail()
        self.seen_config = req.config
        if self.create_answer == "nothing":
            return ApplyResponse()
        state = {**req.planned, "serial": "s-1"}
        if self.create_answer == "unencodable":
            state["value"] = 42
        if self.tamper:
            state["value"] = "tampered"
        if self.create_answer == "with-secret":
            state["secret"] = req.config["secret"]
        self.remote[str(req.planned["name"])] = state
        return ApplyResponse(state, private=b"created")

    def read(self, req: ReadRequest) -> ReadResponse:
        self._maybe_fail()
        self.seen_private = req.private
        found = self.remote.get(str(req.state["name"]))
        if found is not None and self.rename_on_read:
            found = {**found, "name": "stranger"}
        return ReadResponse(found)

    def update(self, req: UpdateRequest) -> ApplyResponse:
        self._maybe_fail()
        self.remote[str(req.planned["name"])] = req.planned
        return ApplyResponse(req.planned)

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        self._maybe_fail()
        self.remote.pop(str(req.prior["name"]), None)
        return DeleteResponse()

    def import_state(self, req: ImportRequest) -> ImportResponse:
        return ImportResponse(state={"name": req.id})


class ThingsProvider:
    type_name = "test"
    schema = Schema(attributes={"endpoint": string("Endpoint.", optional=True)})

    def __init__(self) -> None:
        self.things = Things()
        self.configured: list[State] = []
        self.stops = 0

    def validate(self, config: State, diags: Diagnostics) -> None:
        pass

    def configure(self, config: State, terraform_version: str, diags: Diagnostics) -> None:
        self.configured.append(config)

    def stop(self) -> None:
        self.stops += 1

    def resources(self) -> Sequence[Resource]:
        return [self.things]

    def data_sources(self) -> Sequence[DataSource]:
        return []  # tests/plugin/test_servicer_data_sources.py serves some

    def list_resources(self) -> Sequence[ListResource]:
        return []


@pytest.fixture
def provider() -> ThingsProvider:
    return ThingsProvider()


def call(servicer: ProviderServicer, request: Any) -> Any:
    """Send ``request`` to its RPC (``tfplugin6.<Rpc>.Request``) and parse the answer."""
    rpc = request.DESCRIPTOR.full_name.split(".")[1]
    raw = servicer.handlers()[rpc](request.SerializeToString(), None)
    return getattr(pb, rpc).Response.FromString(raw)


def dv(value: cty.Value) -> pb.DynamicValue:
    return pb.DynamicValue(msgpack=cty.encode_msgpack(value, T))


def state(**values: cty.Value) -> State:
    return {
        "name": None,
        "value": None,
        "enabled": None,
        "serial": None,
        "secret": None,
        **values,
    }


def summaries(response: Any) -> list[str]:
    return [d.summary for d in response.diagnostics]


def plan(servicer: ProviderServicer, prior: State | None, config: State) -> Any:
    proposed = {**(prior or {}), **{k: v for k, v in config.items() if v is not None}}
    proposed = {**state(), **proposed}
    request = pb.PlanResourceChange.Request(
        type_name="test_thing",
        prior_state=dv(prior),
        proposed_new_state=dv(proposed),
        config=dv(config),
    )
    return call(servicer, request)


def apply(servicer: ProviderServicer, prior: State | None, planned: State | None) -> Any:
    request = pb.ApplyResourceChange.Request(
        type_name="test_thing", prior_state=dv(prior), planned_state=dv(planned), config=dv(planned)
    )
    return call(servicer, request)


def decoded(value: pb.DynamicValue) -> cty.Value:
    return cty.decode_msgpack(value.msgpack, T)


def test_schema_advertises_the_capabilities_it_honours(provider: ThingsProvider) -> None:
    response = call(ProviderServicer(provider), pb.GetProviderSchema.Request())
    assert response.server_capabilities.plan_destroy
    assert response.server_capabilities.get_provider_schema_optional
    assert list(response.resource_schemas) == ["test_thing"]


def test_create_plan_applies_defaults_and_marks_computed_unknown(provider: ThingsProvider) -> None:
    response = plan(ProviderServicer(provider), None, state(name="a"))
    planned = decoded(response.planned_state)
    assert planned == state(name="a", enabled=True, serial=cty.UNKNOWN)
    assert list(response.requires_replace) == []


def test_changing_a_replace_attribute_requires_replace(provider: ThingsProvider) -> None:
    prior = state(name="a", enabled=True, serial="s-1")
    response = plan(ProviderServicer(provider), prior, state(name="b"))
    assert [[s.attribute_name for s in p.steps] for p in response.requires_replace] == [["name"]]


def test_a_plan_that_changes_nothing_answers_with_the_prior_states_bytes(
    provider: ThingsProvider,
) -> None:
    prior = state(name="a", enabled=True, serial="s-1")
    # Keys in another order: equal values, other bytes, and the prior's are the answer.
    reordered = pb.DynamicValue(msgpack=msgpack.packb(dict(reversed(list(prior.items())))))
    assert reordered.msgpack != dv(prior).msgpack
    request = pb.PlanResourceChange.Request(
        type_name="test_thing",
        prior_state=reordered,
        proposed_new_state=dv(prior),
        config=dv(state(name="a")),
    )
    response = call(ProviderServicer(provider), request)
    assert response.planned_state.msgpack == reordered.msgpack
    assert decoded(response.planned_state) == prior
    changed = plan(ProviderServicer(provider), prior, state(name="a", enabled=False))
    assert decoded(changed.planned_state) == state(name="a", enabled=False, serial="s-1")


def test_destroy_plan_is_null(provider: ThingsProvider) -> None:
    prior = state(name="a", enabled=True, serial="s-1")
    request = pb.PlanResourceChange.Request(
        type_name="test_thing", prior_state=dv(prior), proposed_new_state=dv(None), config=dv(None)
    )
    response = call(ProviderServicer(provider), request)
    assert decoded(response.planned_state) is None
    assert summaries(response) == []


def test_apply_create_returns_the_new_state(provider: ThingsProvider) -> None:
    planned = state(name="a", enabled=True, serial=cty.UNKNOWN)
    response = apply(ProviderServicer(provider), None, planned)
    assert summaries(response) == []
    assert decoded(response.new_state) == state(name="a", enabled=True, serial="s-1")


def test_apply_that_contradicts_the_plan_is_reported_and_kept(provider: ThingsProvider) -> None:
    provider.things.tamper = True
    planned = state(name="a", value="v", enabled=True, serial=cty.UNKNOWN)
    response = apply(ProviderServicer(provider), None, planned)
    assert summaries(response) == ["Provider Produced Inconsistent Result"]
    assert response.diagnostics[0].attribute.steps[0].attribute_name == "value"
    # The object exists remotely: Terraform must still record it.
    new_state = decoded(response.new_state)
    assert isinstance(new_state, dict)
    assert new_state["value"] == "tampered"


@pytest.mark.parametrize(
    ("failure", "summary"),
    [
        (RuntimeError("boom"), "Internal Provider Error"),
        (DiagnosticError("Remote Refused", "Nope."), "Remote Refused"),
    ],
    ids=["exception", "diagnostic-error"],
)
def test_failed_update_or_delete_keeps_the_prior_state(
    provider: ThingsProvider, failure: Exception, summary: str
) -> None:
    servicer = ProviderServicer(provider)
    prior = state(name="a", value="v1", enabled=True, serial="s-1")
    provider.things.fail_with = failure
    for planned in (state(name="a", value="v2", enabled=True, serial="s-1"), None):
        response = apply(servicer, prior, planned)
        assert summaries(response) == [summary]
        assert decoded(response.new_state) == prior


def test_exceptions_become_diagnostics_not_grpc_errors(provider: ThingsProvider) -> None:
    provider.things.fail_with = RuntimeError("boom")
    request = pb.ReadResource.Request(type_name="test_thing", current_state=dv(state(name="a")))
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Internal Provider Error"]
    assert "RuntimeError: boom" in response.diagnostics[0].detail


def test_a_read_without_drift_answers_with_the_current_states_bytes(
    provider: ThingsProvider,
) -> None:
    current = state(name="a", value="v", enabled=True, serial="s")
    provider.things.remote["a"] = dict(current)
    reordered = pb.DynamicValue(msgpack=msgpack.packb(dict(reversed(list(current.items())))))
    request = pb.ReadResource.Request(type_name="test_thing", current_state=reordered)
    response = call(ProviderServicer(provider), request)
    assert response.new_state.msgpack == reordered.msgpack
    provider.things.remote["a"] = {**current, "value": "drifted"}
    drifted = call(ProviderServicer(provider), request)
    assert decoded(drifted.new_state) == {**current, "value": "drifted"}


def test_read_of_a_gone_object_returns_null_and_echoes_private(provider: ThingsProvider) -> None:
    request = pb.ReadResource.Request(
        type_name="test_thing", current_state=dv(state(name="a")), private=b"opaque"
    )
    response = call(ProviderServicer(provider), request)
    assert decoded(response.new_state) is None
    assert response.private == b"opaque"


def test_a_read_state_that_cannot_be_encoded_keeps_the_current_one(
    provider: ThingsProvider,
) -> None:
    current = state(name="a", value="v", enabled=True, serial="s")
    provider.things.remote["a"] = {**current, "value": 42}
    request = pb.ReadResource.Request(type_name="test_thing", current_state=dv(current))
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Provider Produced Invalid State"]
    assert decoded(response.new_state) == current


def test_import_returns_one_object_with_every_attribute(provider: ThingsProvider) -> None:
    request = pb.ImportResourceState.Request(type_name="test_thing", id="a")
    response = call(ProviderServicer(provider), request)
    [imported] = response.imported_resources
    assert imported.type_name == "test_thing"
    assert decoded(imported.state) == state(name="a")


def test_upgrade_reads_stored_json_state(provider: ThingsProvider) -> None:
    request = pb.UpgradeResourceState.Request(
        type_name="test_thing",
        version=0,
        raw_state=pb.RawState(json=b'{"name":"a","value":null,"enabled":true,"serial":"s"}'),
    )
    response = call(ProviderServicer(provider), request)
    assert decoded(response.upgraded_state) == state(name="a", enabled=True, serial="s")


def test_upgrade_drops_attributes_the_schema_no_longer_has(provider: ThingsProvider) -> None:
    request = pb.UpgradeResourceState.Request(
        type_name="test_thing",
        version=0,
        raw_state=pb.RawState(json=b'{"name":"a","retired":1,"enabled":true}'),
    )
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == []
    assert decoded(response.upgraded_state) == state(name="a", enabled=True)


def test_state_from_a_newer_schema_is_refused(provider: ThingsProvider) -> None:
    request = pb.UpgradeResourceState.Request(
        type_name="test_thing", version=3, raw_state=pb.RawState(json=b"{}")
    )
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Resource State From A Newer Provider"]


def test_validate_runs_the_resource_check(provider: ThingsProvider) -> None:
    request = pb.ValidateResourceConfig.Request(
        type_name="test_thing", config=dv(state(name="a", value="invalid"))
    )
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Invalid Value"]


def test_unknown_resource_type_is_a_diagnostic(provider: ThingsProvider) -> None:
    request = pb.ValidateResourceConfig.Request(type_name="test_other", config=dv(state()))
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Unknown Resource Type"]


def test_undecodable_value_is_a_diagnostic(provider: ThingsProvider) -> None:
    request = pb.ValidateResourceConfig.Request(
        type_name="test_thing", config=pb.DynamicValue(msgpack=b"\x81\xa3bad\x01")
    )
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Invalid Value From Terraform"]


def test_stop_provider_reaches_the_provider(provider: ThingsProvider) -> None:
    servicer = ProviderServicer(provider)
    call(servicer, pb.StopProvider.Request())
    assert provider.stops == 1


def test_create_that_returns_nothing_without_error_is_reported(provider: ThingsProvider) -> None:
    provider.things.create_answer = "nothing"
    response = apply(
        ProviderServicer(provider), None, state(name="a", enabled=True, serial=cty.UNKNOWN)
    )
    assert summaries(response) == ["Provider Created Nothing"]


def test_a_created_state_that_cannot_be_encoded_keeps_the_planned_one(
    provider: ThingsProvider,
) -> None:
    provider.things.create_answer = "unencodable"
    planned = state(name="a", value="v", enabled=True, serial="s")
    response = apply(ProviderServicer(provider), None, planned)
    assert "Provider Produced Invalid State" in summaries(response)
    assert decoded(response.new_state) == planned


def test_write_only_values_reach_plan_and_apply_but_never_state(provider: ThingsProvider) -> None:
    servicer = ProviderServicer(provider)
    config = state(name="a", secret="s3cret")
    response = plan(servicer, None, config)
    assert summaries(response) == []
    assert provider.things.seen_config is not None
    assert provider.things.seen_config["secret"] == "s3cret"
    planned = decoded(response.planned_state)
    assert isinstance(planned, dict)
    assert planned["secret"] is None
    provider.things.create_answer = "with-secret"  # a careless resource echoes it back
    request = pb.ApplyResourceChange.Request(
        type_name="test_thing",
        prior_state=dv(None),
        planned_state=dv(state(name="a", enabled=True, serial=cty.UNKNOWN)),
        config=dv(config),
    )
    applied = call(servicer, request)
    assert summaries(applied) == []
    assert provider.things.seen_config["secret"] == "s3cret"
    new_state = decoded(applied.new_state)
    assert isinstance(new_state, dict)
    assert new_state["secret"] is None
    assert b"s3cret" not in applied.SerializeToString()
    read = call(
        servicer, pb.ReadResource.Request(type_name="test_thing", current_state=dv(new_state))
    )
    assert b"s3cret" not in read.SerializeToString()


def test_private_state_flows_from_plan_to_apply_to_read(provider: ThingsProvider) -> None:
    servicer = ProviderServicer(provider)
    planned = call(
        servicer,
        pb.PlanResourceChange.Request(
            type_name="test_thing",
            prior_state=dv(None),
            proposed_new_state=dv(state(name="a")),
            config=dv(state(name="a")),
            prior_private=b"p",
        ),
    )
    assert planned.planned_private == b"planned:p"
    applied = apply(servicer, None, state(name="a", enabled=True, serial=cty.UNKNOWN))
    assert applied.private == b"created"
    request = pb.ReadResource.Request(
        type_name="test_thing", current_state=applied.new_state, private=applied.private
    )
    read = call(servicer, request)
    assert provider.things.seen_private == b"created"
    assert read.private == b"created"  # the resource left it unchanged


def test_a_read_naming_another_object_is_refused_and_the_state_kept(
    provider: ThingsProvider,
) -> None:
    current = state(name="a", value="v", enabled=True, serial="s")
    provider.things.remote["a"] = current
    provider.things.rename_on_read = True
    request = pb.ReadResource.Request(type_name="test_thing", current_state=dv(current))
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == ["Provider Read A Different Object"]
    assert decoded(response.new_state) == current


@pytest.mark.parametrize(
    ("capabilities", "errors"),
    [
        (pb.ClientCapabilities(write_only_attributes_allowed=True), []),
        (
            pb.ClientCapabilities(write_only_attributes_allowed=False),
            ["Write-Only Attribute Not Allowed"],
        ),
        (None, ["Write-Only Attribute Not Allowed"]),  # Terraform before 1.11 sends none
    ],
)
def test_write_only_values_need_a_terraform_that_allows_them(
    provider: ThingsProvider, capabilities: pb.ClientCapabilities | None, errors: list[str]
) -> None:
    request = pb.ValidateResourceConfig.Request(
        type_name="test_thing",
        config=dv(state(name="a", secret="s")),
        client_capabilities=capabilities,
    )
    response = call(ProviderServicer(provider), request)
    assert summaries(response) == errors
    assert all(d.attribute.steps[0].attribute_name == "secret" for d in response.diagnostics)


def test_a_terraform_without_write_only_may_leave_write_only_attributes_null(
    provider: ThingsProvider,
) -> None:
    request = pb.ValidateResourceConfig.Request(type_name="test_thing", config=dv(state(name="a")))
    assert summaries(call(ProviderServicer(provider), request)) == []


def test_the_schema_marks_write_only_attributes(provider: ThingsProvider) -> None:
    response = call(ProviderServicer(provider), pb.GetProviderSchema.Request())
    attributes = response.resource_schemas["test_thing"].block.attributes
    assert {a.name for a in attributes if a.write_only} == {"secret"}


def test_every_rpc_logs_one_debug_line(
    provider: ThingsProvider, caplog: pytest.LogCaptureFixture
) -> None:
    servicer = ProviderServicer(provider)
    with caplog.at_level(logging.DEBUG, logger="provider.plugin"):
        call(servicer, pb.GetMetadata.Request())
        request = pb.ValidateResourceConfig.Request(
            type_name="test_thing", config=dv(state(name="a", value="invalid"))
        )
        call(servicer, request)
    lines = [r.getMessage() for r in caplog.records if r.name == "provider.plugin"]
    assert len(lines) == 2
    assert re.fullmatch(r"GetMetadata: \d+\.\d ms, \d+\.\d\d ms CPU, 0 diagnostics", lines[0])
    assert re.fullmatch(
        r"ValidateResourceConfig test_thing: \d+\.\d ms, \d+\.\d\d ms CPU, 1 diagnostics", lines[1]
    )


# --- which calls a server may answer on its I/O thread ---


@pytest.mark.parametrize(
    ("calls_api", "prior", "proposed", "inline"),
    [
        ("always", None, state(name="a"), False),
        ("always", state(name="a"), state(name="b"), False),
        ("always", state(name="a"), None, True),  # a destroy plan never reaches the resource
        ("creates", None, state(name="a"), False),
        ("creates", state(name="a"), state(name="b"), True),
        ("never", None, state(name="a"), True),
    ],
)
def test_plans_run_inline_as_their_resource_declares(
    provider: ThingsProvider,
    calls_api: PlanCallsApi,
    prior: State | None,
    proposed: State | None,
    inline: bool,
) -> None:
    provider.things.plan_calls_api = calls_api
    servicer = ProviderServicer(provider)
    request = pb.PlanResourceChange.Request(
        type_name="test_thing", prior_state=dv(prior), proposed_new_state=dv(proposed),
        config=dv(proposed),
    )  # fmt: skip

    assert servicer.runs_inline("PlanResourceChange", request.SerializeToString()) is inline


def test_only_calls_that_cannot_wait_run_inline(provider: ThingsProvider) -> None:
    servicer = ProviderServicer(provider)
    assert servicer.runs_inline("ValidateResourceConfig", b"")
    assert servicer.runs_inline("StopProvider", b"")
    assert not servicer.runs_inline("ReadResource", b"")
    assert not servicer.runs_inline("ApplyResourceChange", b"")
    assert not servicer.runs_inline("ConfigureProvider", b"")
    garbage = b"\xff\xff\xff"  # answered at once, with a diagnostic
    assert servicer.runs_inline("PlanResourceChange", garbage)
    unknown = pb.PlanResourceChange.Request(type_name="nope").SerializeToString()
    assert servicer.runs_inline("PlanResourceChange", unknown)
