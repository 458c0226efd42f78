"""``terraform query`` (Terraform 1.14+): ValidateListResourceConfig and ListResource.

ListResource is the one server-streaming RPC served: one event per object
found, each with the identity the servicer derives from its state, a display
name and, when Terraform asks, the whole object. Failures are events with
diagnostics, never gRPC errors; an error ends the stream, as Terraform stops
reading at the first one anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ._proto import tfplugin6_pb2 as pb
from .convert import from_proto_dynamic_value, to_proto_diagnostics, to_proto_dynamic_value
from .diagnostics import DiagnosticError, Diagnostics
from .identity import identity_data
from .planning import validate_config, without_write_only
from .resource import ListRequest, ListResource, Resource
from .rpc import StreamHandler, UnaryHandler, served, stream_rpc, unary_rpc

__all__ = ["ListRPCs"]


class ListRPCs:
    """The list resources of a provider, each beside the managed resource it lists."""

    def __init__(self, listers: Sequence[ListResource], resources: Mapping[str, Resource]) -> None:
        self.listers = {lister.type_name: lister for lister in listers}
        self._resources = resources
        for name in self.listers:
            resource = resources.get(name)
            if resource is None or resource.schema.identity is None:
                raise ValueError(f"list resource {name!r} lists no resource with an identity")

    def handlers(self) -> dict[str, UnaryHandler]:
        return {
            "ValidateListResourceConfig": unary_rpc(
                pb.ValidateListResourceConfig.Request,
                pb.ValidateListResourceConfig.Response,
                self._validate,
            )
        }

    def stream_handlers(self) -> dict[str, StreamHandler]:
        return {
            "ListResource": stream_rpc(
                pb.ListResource.Request, pb.ListResource.Event, self._list, "diagnostic"
            )
        }

    def _lister(self, type_name: str) -> ListResource:
        return served(self.listers, type_name, "list resource")

    def _validate(
        self, req: pb.ValidateListResourceConfig.Request, diags: Diagnostics
    ) -> pb.ValidateListResourceConfig.Response:
        lister = self._lister(req.type_name)
        config = from_proto_dynamic_value(req.config, lister.schema.object_type())
        if isinstance(config, dict):  # Terraform itself reports a missing config block
            validate_config(lister.schema, config, diags)
        return pb.ValidateListResourceConfig.Response()

    def _list(self, req: pb.ListResource.Request) -> Iterator[pb.ListResource.Event]:
        lister = self._lister(req.type_name)
        schema = self._resources[req.type_name].schema
        t = schema.object_type()
        config = from_proto_dynamic_value(req.config, lister.schema.object_type())
        if not isinstance(config, dict):
            raise DiagnosticError("Missing List Configuration", "The config block is required.")
        diags = Diagnostics()
        validate_config(lister.schema, config, diags)
        if diags.has_errors:
            yield pb.ListResource.Event(diagnostic=to_proto_diagnostics(diags))
            return
        found = 0
        request = ListRequest(config, req.include_resource_object, req.limit)
        for result in lister.list(request):
            event = pb.ListResource.Event(diagnostic=to_proto_diagnostics(result.diagnostics))
            if result.state is not None:
                state = without_write_only(schema, result.state)
                identity = identity_data(schema, state)
                assert identity is not None, "__init__ checked that the resource has an identity"
                event.identity.CopyFrom(identity)
                event.display_name = result.display_name
                if req.include_resource_object:
                    event.resource_object.CopyFrom(to_proto_dynamic_value(state, t))
                found += 1
            elif not event.diagnostic:
                continue
            yield event
            if result.diagnostics.has_errors or 0 < req.limit <= found:
                return
