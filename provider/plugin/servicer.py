"""The tfplugin6.Provider service: Terraform's RPCs onto the Provider/Resource interface.

Every RPC has the same shape: parse the request, decode values, call the
provider or resource, check Terraform's rules, encode the answer. The wrapper
:func:`_rpc` is written once: it parses request bytes itself (so garbage on
the wire becomes a diagnostic, not a gRPC error) and turns every exception
into an error diagnostic (see :mod:`.rpc`). Identity bookkeeping lives in
:mod:`.identity`, ``terraform query`` in :mod:`.listing` and configuration
generation in :mod:`.genconfig`.

RPCs not listed in :meth:`ProviderServicer.handlers` answer UNIMPLEMENTED,
which Terraform tolerates for everything we do not advertise.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.message import DecodeError

from . import cty
from ._proto import tfplugin6_pb2 as pb
from .convert import (
    decode_object,
    from_proto_dynamic_value,
    from_proto_resource_identity_data,
    to_proto_attribute_path,
    to_proto_dynamic_value,
    to_proto_schema,
)
from .data_sources import DataSourceRPCs
from .diagnostics import DiagnosticError, Diagnostics, format_path
from .identity import IdentityRPCs, held_identity, identity_data, identity_kept
from .listing import ListRPCs
from .planning import (
    apply_inconsistencies,
    plan_resource,
    plan_violations,
    replacement_paths,
    validate_config,
    values_equal,
    without_write_only,
)
from .resource import (
    CreateRequest,
    DeleteRequest,
    ImportRequest,
    PlanRequest,
    Provider,
    ReadRequest,
    Resource,
    ResourceResponse,
    State,
    UpdateRequest,
    ValidateRequest,
)
from .rpc import StreamHandler, UnaryHandler, served
from .rpc import internal_error as _internal_error
from .rpc import unary_rpc as _rpc
from .schema import Schema

__all__ = ["ProviderServicer"]

logger = logging.getLogger("provider.plugin")

Handler = UnaryHandler

# Terraform before 1.14 does not know generate_resource_config and ignores it.
_CAPABILITIES = pb.ServerCapabilities(
    plan_destroy=True, get_provider_schema_optional=True, generate_resource_config=True
)


# RPCs that only compute: no API request, file or other wait, so a server may answer them on its
# I/O thread. StopProvider must be among them: it has to get through while other calls wait.
COMPUTE_ONLY_RPCS = frozenset(
    {
        "GetMetadata",
        "GetProviderSchema",
        "GetResourceIdentitySchemas",
        "ValidateProviderConfig",
        "ValidateResourceConfig",
        "ValidateDataResourceConfig",
        "ValidateListResourceConfig",
        "UpgradeResourceState",
        "UpgradeResourceIdentity",
        "StopProvider",
    }
)


class ProviderServicer:
    """Serves one Provider over tfplugin6; safe to call from many threads."""

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self._resources: dict[str, Resource] = {r.type_name: r for r in provider.resources()}
        self._data = DataSourceRPCs(provider.data_sources())
        self._schema_response: bytes | None = None
        self._identity = IdentityRPCs(self._resources)
        self._lists = ListRPCs(provider.list_resources(), self._resources)

    def runs_inline(self, name: str, raw: bytes) -> bool:
        """Whether the ``name`` RPC with request ``raw`` only computes (see COMPUTE_ONLY_RPCS),
        so that a server may answer it on its I/O thread: the fixed list, and plans whose
        resource declares (``plan_calls_api``) that they never wait for its API."""
        if name in COMPUTE_ONLY_RPCS:
            return True
        if name != "PlanResourceChange":
            return False
        try:
            request = pb.PlanResourceChange.Request.FromString(raw)
        except DecodeError:
            return True  # answered at once with a diagnostic
        resource = self._resources.get(request.type_name)
        if resource is None:
            return True
        calls = resource.plan_calls_api
        if calls == "creates":
            return not _is_null(request.prior_state)
        return calls == "never" or _is_null(request.proposed_new_state)  # a destroy: no call

    def handlers(self) -> dict[str, Handler]:
        """Method name -> raw-bytes handler, for ``grpc.method_handlers_generic_handler``."""
        return {
            "GetMetadata": _rpc(pb.GetMetadata.Request, pb.GetMetadata.Response, self._metadata),
            "GetProviderSchema": self._provider_schema,
            "ValidateProviderConfig": _rpc(
                pb.ValidateProviderConfig.Request,
                pb.ValidateProviderConfig.Response,
                self._validate_provider,
            ),
            "ConfigureProvider": _rpc(
                pb.ConfigureProvider.Request, pb.ConfigureProvider.Response, self._configure
            ),
            "ValidateResourceConfig": _rpc(
                pb.ValidateResourceConfig.Request,
                pb.ValidateResourceConfig.Response,
                self._validate_resource,
            ),
            "UpgradeResourceState": _rpc(
                pb.UpgradeResourceState.Request, pb.UpgradeResourceState.Response, self._upgrade
            ),
            "ReadResource": _rpc(pb.ReadResource.Request, pb.ReadResource.Response, self._read),
            "PlanResourceChange": _rpc(
                pb.PlanResourceChange.Request, pb.PlanResourceChange.Response, self._plan
            ),
            "ApplyResourceChange": _rpc(
                pb.ApplyResourceChange.Request, pb.ApplyResourceChange.Response, self._apply
            ),
            "ImportResourceState": _rpc(
                pb.ImportResourceState.Request, pb.ImportResourceState.Response, self._import
            ),
            "StopProvider": self._stop,
            **self._data.handlers(),
            # resource identity, terraform query and generated configuration (Terraform 1.12+)
            "GenerateResourceConfig": _rpc(
                pb.GenerateResourceConfig.Request,
                pb.GenerateResourceConfig.Response,
                self._generate_config,
            ),
            **self._identity.handlers(),
            **self._lists.handlers(),
        }

    def stream_handlers(self) -> dict[str, StreamHandler]:
        """Server-streaming method name -> raw-bytes handler yielding raw messages."""
        return self._lists.stream_handlers()

    # --- provider-level RPCs -------------------------------------------------

    def _metadata(
        self, _req: pb.GetMetadata.Request, _diags: Diagnostics
    ) -> pb.GetMetadata.Response:
        return pb.GetMetadata.Response(
            server_capabilities=_CAPABILITIES,
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in self._resources],
            data_sources=[
                pb.GetMetadata.DataSourceMetadata(type_name=n) for n in self._data.sources
            ],
            list_resources=[
                pb.GetMetadata.ListResourceMetadata(type_name=n) for n in self._lists.listers
            ],
        )

    def _provider_schema(self, _raw: bytes, _context: Any) -> bytes:
        # The schema never changes, so it is built and serialised once.
        if self._schema_response is None:
            self._schema_response = pb.GetProviderSchema.Response(
                provider=to_proto_schema(self._provider.schema),
                resource_schemas={
                    name: to_proto_schema(r.schema) for name, r in self._resources.items()
                },
                data_source_schemas={
                    name: to_proto_schema(d.schema) for name, d in self._data.sources.items()
                },
                list_resource_schemas={
                    name: to_proto_schema(lister.schema)
                    for name, lister in self._lists.listers.items()
                },
                server_capabilities=_CAPABILITIES,
            ).SerializeToString()
        return self._schema_response

    def _validate_provider(
        self, req: pb.ValidateProviderConfig.Request, diags: Diagnostics
    ) -> pb.ValidateProviderConfig.Response:
        config = decode_object(req.config, self._provider.schema.object_type())
        validate_config(self._provider.schema, config, diags)
        self._provider.validate(config, diags)
        return pb.ValidateProviderConfig.Response()

    def _configure(
        self, req: pb.ConfigureProvider.Request, diags: Diagnostics
    ) -> pb.ConfigureProvider.Response:
        config = decode_object(req.config, self._provider.schema.object_type())
        self._provider.configure(config, req.terraform_version, diags)
        return pb.ConfigureProvider.Response()

    def _stop(self, _raw: bytes, _context: Any) -> bytes:
        # Advisory (Ctrl-C): the in-flight RPCs still answer, with whatever state they reached.
        try:
            self._provider.stop()
        except Exception:
            logger.exception("StopProvider failed")
        return pb.StopProvider.Response().SerializeToString()

    # --- resource RPCs -------------------------------------------------------

    def _resource(self, type_name: str) -> Resource:
        return served(self._resources, type_name, "resource")

    @staticmethod
    def _decode_optional(value: pb.DynamicValue, t: cty.Object) -> State | None:
        decoded = from_proto_dynamic_value(value, t)
        return decoded if isinstance(decoded, dict) else None

    def _validate_resource(
        self, req: pb.ValidateResourceConfig.Request, diags: Diagnostics
    ) -> pb.ValidateResourceConfig.Response:
        resource = self._resource(req.type_name)
        config = decode_object(req.config, resource.schema.object_type())
        validate_config(resource.schema, config, diags)
        # Terraform before 1.11 does not know write-only attributes and would store them.
        # It does not send client capabilities here either (protocol 6.8 added them), so a
        # request without them is refused too, before any plan could echo the value.
        if not req.client_capabilities.write_only_attributes_allowed:
            for name in resource.schema.write_only:
                if config.get(name) is not None:
                    diags.error(
                        "Write-Only Attribute Not Allowed",
                        f"{name} is write-only, which needs Terraform 1.11 or later.",
                        (name,),
                    )
        diags.extend(resource.validate(ValidateRequest(config)).diagnostics)
        return pb.ValidateResourceConfig.Response()

    def _upgrade(
        self, req: pb.UpgradeResourceState.Request, diags: Diagnostics
    ) -> pb.UpgradeResourceState.Response:
        resource = self._resource(req.type_name)
        t = resource.schema.object_type()
        if req.version > resource.schema.version:
            diags.error(
                "Resource State From A Newer Provider",
                f"The state of this {req.type_name} was written by a newer provider "
                f"(schema version {req.version}, this one knows {resource.schema.version}). "
                "Upgrade the provider.",
            )
            return pb.UpgradeResourceState.Response()
        if not req.raw_state.json:
            diags.error(
                "Unsupported Resource State",
                "The stored state is in the legacy flatmap format, which this provider "
                "never wrote. Remove the resource from state and import it again.",
            )
            return pb.UpgradeResourceState.Response()
        # Like terraform-plugin-go: attributes the schema no longer has are dropped.
        state = cty.decode_json(req.raw_state.json, t, ignore_unknown_attributes=True)
        return pb.UpgradeResourceState.Response(upgraded_state=to_proto_dynamic_value(state, t))

    def _read(self, req: pb.ReadResource.Request, diags: Diagnostics) -> pb.ReadResource.Response:
        resource = self._resource(req.type_name)
        schema = resource.schema
        t = schema.object_type()
        current = decode_object(req.current_state, t)
        held = held_identity(schema, _field(req, "current_identity"), current)
        response = _guarded(diags, "ReadResource", resource.read, ReadRequest(current, req.private))
        new = response.state if response else None
        if new is not None:
            new = without_write_only(schema, new)
            if not _identity_kept(schema, current, new, diags) or not identity_kept(
                schema, held, new, diags
            ):
                new = None
        if new is None and diags.has_errors:
            # A failed read is not proof that the object is gone: keep it.
            new = current
        private = req.private if response is None or response.private is None else response.private
        unchanged = values_equal(current, new, t)  # no drift, as in most refreshes
        return pb.ReadResource.Response(
            # Unchanged, the current state's own bytes say it already.
            new_state=req.current_state if unchanged else _encode_state(new, (current,), t, diags),
            private=private,
            new_identity=identity_data(schema, new),
        )

    def _plan(
        self, req: pb.PlanResourceChange.Request, diags: Diagnostics
    ) -> pb.PlanResourceChange.Response:
        resource = self._resource(req.type_name)
        schema = resource.schema
        t = schema.object_type()
        proposed = self._decode_optional(req.proposed_new_state, t)
        if proposed is None:  # destroy: nothing to plan, since plan_destroy is advertised
            return pb.PlanResourceChange.Response(
                planned_state=to_proto_dynamic_value(None, t),
                planned_private=req.prior_private,
                planned_identity=_field(req, "prior_identity"),
            )
        prior = self._decode_optional(req.prior_state, t)
        config = decode_object(req.config, t)
        planned = plan_resource(schema, prior, proposed, config)
        answer = resource.plan(PlanRequest(prior, planned, config, req.prior_private))
        diags.extend(answer.diagnostics)
        planned = without_write_only(schema, answer.planned)
        for path in plan_violations(schema, config, planned):
            diags.error(
                "Provider Planned An Invalid Value",
                f"The provider planned a value for {format_path(path)} that differs from the "
                "configuration. This is a bug in the provider; please report it.",
                path,
            )
        private = req.prior_private if answer.private is None else answer.private
        unchanged = values_equal(prior, planned, t)  # nothing to change, as in most plans
        response = pb.PlanResourceChange.Response(
            # Unchanged, the prior state's own bytes say it already.
            planned_state=req.prior_state if unchanged else to_proto_dynamic_value(planned, t),
            planned_private=private,
            planned_identity=identity_data(schema, planned),
        )
        if prior is not None:
            response.requires_replace.extend(
                to_proto_attribute_path(p) for p in replacement_paths(schema, prior, planned)
            )
        return response

    def _apply(
        self, req: pb.ApplyResourceChange.Request, diags: Diagnostics
    ) -> pb.ApplyResourceChange.Response:
        resource = self._resource(req.type_name)
        schema = resource.schema
        t = schema.object_type()
        prior = self._decode_optional(req.prior_state, t)
        planned = self._decode_optional(req.planned_state, t)
        new: State | None
        private = req.planned_private
        if planned is None:
            assert prior is not None, "Terraform planned neither a prior nor a new object"
            _guarded(diags, "delete", resource.delete, DeleteRequest(prior, req.planned_private))
            new = prior if diags.has_errors else None
        else:
            config = decode_object(req.config, t)
            if prior is None:
                answer = _guarded(
                    diags, "create", resource.create, CreateRequest(planned, config, private)
                )
                new = answer.state if answer else None
                if new is None and not diags.has_errors:
                    diags.error(
                        "Provider Created Nothing",
                        "The create reported no error and no object. This is a bug in the "
                        "provider; please report it.",
                    )
            else:
                answer = _guarded(
                    diags, "update", resource.update, UpdateRequest(prior, planned, config, private)
                )
                # A failed update leaves the object as it was: keep the prior state.
                new = prior if answer is None or answer.state is None else answer.state
                held = held_identity(schema, _field(req, "planned_identity"), prior)
                if not identity_kept(schema, held, new, diags):
                    new = prior
            if answer is not None and answer.private is not None:
                private = answer.private
        if new is not None:
            new = without_write_only(schema, new)
        if new is not None and planned is not None and not diags.has_errors:
            for path, problem in apply_inconsistencies(planned, new, t):
                diags.error(
                    "Provider Produced Inconsistent Result",
                    f"After apply, {format_path(path) or 'the object'} {problem}. "
                    "This is a bug in the provider; please report it.",
                    path or None,
                )
        return pb.ApplyResourceChange.Response(
            new_state=_encode_state(new, (prior, planned), t, diags),
            private=private,
            new_identity=identity_data(schema, new),
        )

    def _import(
        self, req: pb.ImportResourceState.Request, diags: Diagnostics
    ) -> pb.ImportResourceState.Response:
        resource = self._resource(req.type_name)
        schema = resource.schema
        t = schema.object_type()
        identity = None
        if req.HasField("identity"):
            identity = from_proto_resource_identity_data(req.identity, schema.identity_type())
        answer = resource.import_state(ImportRequest(req.id, identity))
        diags.extend(answer.diagnostics)
        if answer.state is None or diags.has_errors:
            return pb.ImportResourceState.Response()
        full = {name: answer.state.get(name) for name in schema.attributes}
        imported = pb.ImportResourceState.ImportedResource(
            type_name=req.type_name, state=to_proto_dynamic_value(full, t)
        )
        identity_answer = identity_data(schema, full)
        if (
            identity_answer is not None
            and schema.identity
            and None not in schema.identity.of(full).values()
        ):
            # A partial state without its identity gets one from the read that follows.
            imported.identity.CopyFrom(identity_answer)
        return pb.ImportResourceState.Response(imported_resources=[imported])

    def _generate_config(
        self, req: pb.GenerateResourceConfig.Request, _diags: Diagnostics
    ) -> pb.GenerateResourceConfig.Response:
        resource = self._resource(req.type_name)
        t = resource.schema.object_type()
        state = self._decode_optional(req.state, t)
        from .genconfig import config_from_state  # Terraform 1.14+ only, and rarely

        config = config_from_state(resource.schema.attributes, state)
        return pb.GenerateResourceConfig.Response(config=to_proto_dynamic_value(config, t))


def _identity_kept(schema: Schema, current: State, new: State, diags: Diagnostics) -> bool:
    """A read must describe the same object: an answer naming another one (a wrong id)
    would otherwise enter the state and plan a replacement that deletes a stranger."""
    changed = replacement_paths(schema, current, new)
    for path in changed:
        diags.error(
            "Provider Read A Different Object",
            f"Reading this resource returned a different {format_path(path)} than the state "
            "holds. The state is kept unchanged; the answer is not trusted.",
            path,
        )
    return not changed


Answer = TypeVar("Answer", bound=ResourceResponse)


def _guarded(
    diags: Diagnostics, what: str, method: Callable[[Any], Answer], request: Any
) -> Answer | None:
    """Run a resource method; its diagnostics, or an exception as one, go to ``diags``.

    Used where the servicer must still answer with a state (apply, read), so
    that a failure never makes Terraform forget an object: None means it failed.
    """
    try:
        answer = method(request)
    except DiagnosticError as exc:
        diags.extend([exc.diagnostic])
    except Exception as exc:
        _internal_error(diags, what, exc)
    else:
        diags.extend(answer.diagnostics)
        return answer
    return None


def _encode_state(
    new: State | None, fallbacks: tuple[State | None, ...], t: cty.Object, diags: Diagnostics
) -> pb.DynamicValue:
    """Encode a read or applied state; if it cannot be encoded, keep the object anyway.

    An empty answer would make Terraform forget an object that exists, so a state
    that fails to encode falls back to the last of ``fallbacks`` that is not None.
    """
    try:
        return to_proto_dynamic_value(new, t)
    except cty.CtyError as exc:
        diags.error(
            "Provider Produced Invalid State",
            f"The new state could not be encoded ({exc}); Terraform keeps the previous "
            "values instead. This is a bug in the provider; please report it.",
        )
    for fallback in fallbacks[::-1]:
        if fallback is not None and new is not None:
            with contextlib.suppress(cty.CtyError):
                return to_proto_dynamic_value(fallback, t)
    return to_proto_dynamic_value(None, t)


def _is_null(value: pb.DynamicValue) -> bool:
    """A null (or absent) value, without decoding it: msgpack nil or JSON null."""
    return value.msgpack in (b"", b"\xc0") and value.json in (b"", b"null")


def _field(message: Any, name: str) -> Any:
    """A message-typed field, or None when Terraform did not send it."""
    return getattr(message, name) if message.HasField(name) else None
