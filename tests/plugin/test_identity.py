"""Resource identity in the servicer: derived from state, sent everywhere, never changed."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from provider.plugin import cty
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.resource import ApplyResponse, ImportRequest, ImportResponse, State
from provider.plugin.schema import IdentityAttribute, IdentitySchema, Schema, string
from provider.plugin.servicer import ProviderServicer

from .test_servicer import SCHEMA, ThingsProvider, apply, call, decoded, dv, plan, state, summaries

BY_NAME = dataclasses.replace(
    SCHEMA, identity=IdentitySchema({"name": IdentityAttribute("The name.")})
)
BY_SERIAL = dataclasses.replace(
    SCHEMA, identity=IdentitySchema({"serial": IdentityAttribute("The serial.")}, version=2)
)
NAME_T = BY_NAME.identity_type()


def servicer(schema: Schema = BY_NAME) -> tuple[ProviderServicer, ThingsProvider]:
    provider = ThingsProvider()
    provider.things.schema = schema
    return ProviderServicer(provider), provider


def known(value: pb.DynamicValue) -> State:
    decoded_state = decoded(value)
    assert isinstance(decoded_state, dict)
    return decoded_state


def identity_of(data: pb.ResourceIdentityData, t: cty.Object = NAME_T) -> cty.Value:
    return cty.decode_msgpack(data.identity_data.msgpack, t)


def identity(value: dict[str, cty.Value], t: cty.Object = NAME_T) -> pb.ResourceIdentityData:
    return pb.ResourceIdentityData(
        identity_data=pb.DynamicValue(msgpack=cty.encode_msgpack(value, t))
    )


def read(
    rpcs: ProviderServicer, current: dict[str, Any], held: pb.ResourceIdentityData | None
) -> Any:
    request = pb.ReadResource.Request(type_name="test_thing", current_state=dv(current))
    if held is not None:
        request.current_identity.CopyFrom(held)
    return call(rpcs, request)


def test_identity_schemas_list_only_resources_that_declare_one() -> None:
    response = call(servicer()[0], pb.GetResourceIdentitySchemas.Request())
    ((name, schema),) = response.identity_schemas.items()
    assert name == "test_thing"
    assert schema.version == 0
    (attribute,) = schema.identity_attributes
    assert (attribute.name, json.loads(attribute.type)) == ("name", "string")
    assert attribute.required_for_import
    assert not attribute.optional_for_import
    plain = call(servicer(SCHEMA)[0], pb.GetResourceIdentitySchemas.Request())
    assert dict(plain.identity_schemas) == {}


def test_a_schema_cannot_identify_by_a_write_only_attribute() -> None:
    with pytest.raises(ValueError, match="secret"):
        dataclasses.replace(SCHEMA, identity=IdentitySchema({"secret": IdentityAttribute("")}))


def test_plan_apply_and_read_carry_the_identity() -> None:
    rpcs, _ = servicer()
    planned = plan(rpcs, None, state(name="a"))
    assert identity_of(planned.planned_identity) == {"name": "a"}
    applied = apply(rpcs, None, known(planned.planned_state))
    assert identity_of(applied.new_identity) == {"name": "a"}
    refreshed = read(rpcs, known(applied.new_state), applied.new_identity)
    assert summaries(refreshed) == []
    assert identity_of(refreshed.new_identity) == {"name": "a"}


def test_a_plan_whose_identity_is_not_yet_known_plans_none() -> None:
    """Terraform accepts a null planned identity but cannot render an unknown one:
    `terraform plan` and `show -json` fail with "value is not known"."""
    rpcs, _ = servicer(BY_SERIAL)
    planned = plan(rpcs, None, state(name="a"))
    assert not planned.HasField("planned_identity")


def test_read_without_a_held_identity_gives_one() -> None:
    # A state written by Terraform 1.11, or before the provider declared identities.
    rpcs, provider = servicer()
    provider.things.remote["a"] = state(name="a", enabled=True, serial="s-1")
    refreshed = read(rpcs, state(name="a", enabled=True, serial="s-1"), None)
    assert identity_of(refreshed.new_identity) == {"name": "a"}


def test_read_answering_another_identity_is_refused_and_keeps_the_state() -> None:
    rpcs, provider = servicer(BY_SERIAL)
    current = state(name="a", enabled=True, serial="s-1")
    provider.things.remote["a"] = {**current, "serial": "s-2"}
    t = BY_SERIAL.identity_type()
    refreshed = read(rpcs, current, identity({"serial": "s-1"}, t))
    assert summaries(refreshed) == ["Unexpected Identity Change"]
    assert decoded(refreshed.new_state) == current
    assert identity_of(refreshed.new_identity, t) == {"serial": "s-1"}


def test_an_object_that_is_gone_has_no_identity() -> None:
    rpcs, _ = servicer()
    refreshed = read(rpcs, state(name="gone", enabled=True, serial="s-1"), None)
    assert decoded(refreshed.new_state) is None
    assert not refreshed.HasField("new_identity")


def test_destroy_plan_keeps_the_prior_identity_and_delete_drops_it() -> None:
    rpcs, _ = servicer()
    prior = state(name="a", enabled=True, serial="s-1")
    request = pb.PlanResourceChange.Request(
        type_name="test_thing",
        prior_state=dv(prior),
        proposed_new_state=dv(None),
        config=dv(None),
        prior_identity=identity({"name": "a"}),
    )
    response = call(rpcs, request)
    assert identity_of(response.planned_identity) == {"name": "a"}
    deleted = apply(rpcs, prior, None)
    assert not deleted.HasField("new_identity")


def test_resources_without_identity_answer_without_one() -> None:
    rpcs, _ = servicer(SCHEMA)
    planned = plan(rpcs, None, state(name="a"))
    assert not planned.HasField("planned_identity")
    applied = apply(rpcs, None, known(planned.planned_state))
    assert not applied.HasField("new_identity")


def test_import_by_identity_hands_the_identity_to_the_resource() -> None:
    rpcs, provider = servicer()
    seen: list[ImportRequest] = []

    def import_state(req: ImportRequest) -> ImportResponse:
        seen.append(req)
        return ImportResponse(state={"name": (req.identity or {}).get("name")})

    provider.things.import_state = import_state  # type: ignore[method-assign]
    request = pb.ImportResourceState.Request(
        type_name="test_thing", identity=identity({"name": "a"})
    )
    (imported,) = call(rpcs, request).imported_resources
    assert seen == [ImportRequest("", {"name": "a"})]
    assert identity_of(imported.identity) == {"name": "a"}


def test_import_by_id_sends_the_identity_of_the_imported_state() -> None:
    rpcs, _ = servicer()
    request = pb.ImportResourceState.Request(type_name="test_thing", id="a")
    (imported,) = call(rpcs, request).imported_resources
    assert identity_of(imported.identity) == {"name": "a"}


@pytest.mark.parametrize(
    ("version", "raw", "expected", "errors"),
    [
        (2, '{"serial": "s-1"}', {"serial": "s-1"}, []),
        (1, '{"serial": "s-1", "gone": 1}', {"serial": "s-1"}, []),
        (3, '{"serial": "s-1"}', None, ["Resource Identity From A Newer Provider"]),
    ],
    ids=["same-version", "older-with-dropped-attribute", "newer"],
)
def test_upgrade_resource_identity(
    version: int, raw: str, expected: cty.Value, errors: list[str]
) -> None:
    rpcs, _ = servicer(BY_SERIAL)
    request = pb.UpgradeResourceIdentity.Request(
        type_name="test_thing", version=version, raw_identity=pb.RawState(json=raw.encode())
    )
    response = call(rpcs, request)
    assert summaries(response) == errors
    if expected is not None:
        assert identity_of(response.upgraded_identity, BY_SERIAL.identity_type()) == expected


def test_upgrading_the_identity_of_a_resource_without_one_is_an_error() -> None:
    rpcs, _ = servicer(Schema(attributes={"x": string("X.", optional=True)}))
    request = pb.UpgradeResourceIdentity.Request(
        type_name="test_thing", raw_identity=pb.RawState(json=b"{}")
    )
    assert summaries(call(rpcs, request)) == ["Unknown Resource Identity"]


def test_update_answering_another_identity_is_refused_and_keeps_the_prior_state() -> None:
    rpcs, provider = servicer(BY_SERIAL)
    prior = state(name="a", enabled=True, serial="s-1")
    planned = {**prior, "value": "v"}

    def update(req: Any) -> ApplyResponse:
        return ApplyResponse({**req.planned, "serial": "s-2"})

    provider.things.update = update  # type: ignore[method-assign]
    response = apply(rpcs, prior, planned)
    assert "Unexpected Identity Change" in summaries(response)
    assert decoded(response.new_state) == prior
