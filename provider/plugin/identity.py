"""Resource identity (Terraform 1.12+): derived from state, never changed for an object.

A schema declares which of its state attributes identify the remote object
(:class:`~.schema.IdentitySchema`); everything else happens here, once for
every resource: the identity schemas Terraform asks for, the identity sent
with each read, plan, apply and import, upgrades of stored identities, and
the rule that an existing object keeps its identity.

Terraform 1.11 and older never call these RPCs and ignore the identity
fields of answers, so nothing here changes what they see.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import cty
from ._proto import tfplugin6_pb2 as pb
from .convert import (
    from_proto_resource_identity_data,
    to_proto_resource_identity_data,
    to_proto_resource_identity_schema,
)
from .diagnostics import DiagnosticError, Diagnostics
from .resource import Resource, State
from .rpc import UnaryHandler, unary_rpc
from .schema import Schema

__all__ = ["IdentityRPCs", "held_identity", "identity_data", "identity_kept"]


def identity_data(schema: Schema, state: State | None) -> pb.ResourceIdentityData | None:
    """The identity to answer with for ``state``; None without an identity or an object,
    and None while part of it is unknown (a plan whose id comes from another resource):
    Terraform accepts a null planned identity, but cannot render an unknown one (plan
    output and ``show -json`` fail with "value is not known")."""
    if schema.identity is None or state is None:
        return None
    identity = schema.identity.of(state)
    if not cty.is_wholly_known(identity):
        return None
    return to_proto_resource_identity_data(identity, schema.identity_type())


def held_identity(
    schema: Schema, data: pb.ResourceIdentityData | None, state: State | None
) -> State | None:
    """The identity Terraform holds for an object: the one it sent, else (a state
    written before identities, or by Terraform before 1.12) the state's own."""
    if schema.identity is None:
        return None
    if data is not None:
        sent = from_proto_resource_identity_data(data, schema.identity_type())
        if sent is not None:
            return sent
    return None if state is None else schema.identity.of(state)


def identity_kept(schema: Schema, held: State | None, new: State, diags: Diagnostics) -> bool:
    """An existing object keeps its identity: an answer with another one describes
    another object (or a bug), and Terraform must not record it as this one."""
    if schema.identity is None or held is None or not cty.is_wholly_known(held):
        return True
    changed = [n for n, v in schema.identity.of(new).items() if v != held.get(n)]
    for name in changed:
        diags.error(
            "Unexpected Identity Change",
            f"The provider answered with another {name} ({new.get(name)!r}) than the object's "
            f"identity holds ({held.get(name)!r}). The state is kept unchanged. This is a bug "
            "in the provider or the remote API; please report it.",
            (name,),
        )
    return not changed


class IdentityRPCs:
    """GetResourceIdentitySchemas and UpgradeResourceIdentity for a set of resources."""

    def __init__(self, resources: Mapping[str, Resource]) -> None:
        self._resources = {n: r for n, r in resources.items() if r.schema.identity is not None}

    def handlers(self) -> dict[str, UnaryHandler]:
        return {
            "GetResourceIdentitySchemas": unary_rpc(
                pb.GetResourceIdentitySchemas.Request,
                pb.GetResourceIdentitySchemas.Response,
                self._schemas,
            ),
            "UpgradeResourceIdentity": unary_rpc(
                pb.UpgradeResourceIdentity.Request,
                pb.UpgradeResourceIdentity.Response,
                self._upgrade,
            ),
        }

    def _schemas(
        self, _req: pb.GetResourceIdentitySchemas.Request, _diags: Diagnostics
    ) -> pb.GetResourceIdentitySchemas.Response:
        return pb.GetResourceIdentitySchemas.Response(
            identity_schemas={
                name: to_proto_resource_identity_schema(r.schema.identity, r.schema)
                for name, r in self._resources.items()
                if r.schema.identity is not None
            }
        )

    def _upgrade(
        self, req: pb.UpgradeResourceIdentity.Request, diags: Diagnostics
    ) -> pb.UpgradeResourceIdentity.Response:
        resource = self._resources.get(req.type_name)
        if resource is None or resource.schema.identity is None:
            raise DiagnosticError(
                "Unknown Resource Identity",
                f"This provider declares no identity for the resource type {req.type_name!r}.",
            )
        schema = resource.schema
        current = schema.identity.version if schema.identity else 0
        if req.version > current:
            diags.error(
                "Resource Identity From A Newer Provider",
                f"The identity of this {req.type_name} was written by a newer provider "
                f"(identity version {req.version}, this one knows {current}). "
                "Upgrade the provider.",
            )
            return pb.UpgradeResourceIdentity.Response()
        t = schema.identity_type()
        # Like state upgrades: attributes the identity no longer has are dropped.
        identity = cty.decode_json(req.raw_identity.json, t, ignore_unknown_attributes=True)
        return pb.UpgradeResourceIdentity.Response(
            upgraded_identity=to_proto_resource_identity_data(identity, t)
        )
