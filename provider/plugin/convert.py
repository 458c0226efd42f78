"""Converters between our Python types and tfplugin6 messages.

Named after the message they produce or read, as in terraform-plugin-go's
``toproto``/``fromproto`` packages. Nothing here talks to a resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import cty
from ._proto import tfplugin6_pb2 as pb
from .diagnostics import AttributePath, Diagnostic, DiagnosticError, MapKey, SetElement
from .schema import Attribute, IdentitySchema, Schema

__all__ = [
    "decode_object",
    "from_proto_dynamic_value",
    "from_proto_resource_identity_data",
    "to_proto_attribute_path",
    "to_proto_diagnostics",
    "to_proto_dynamic_value",
    "to_proto_resource_identity_data",
    "to_proto_resource_identity_schema",
    "to_proto_schema",
]


def to_proto_attribute_path(path: AttributePath) -> pb.AttributePath:
    """The path as Terraform can follow it: up to (not into) a set element."""
    steps = []
    for step in path:
        if isinstance(step, SetElement):
            break
        if isinstance(step, MapKey):
            steps.append(pb.AttributePath.Step(element_key_string=_valid_utf8(step.key)))
        elif isinstance(step, int):
            steps.append(pb.AttributePath.Step(element_key_int=step))
        else:
            steps.append(pb.AttributePath.Step(attribute_name=_valid_utf8(step)))
    return pb.AttributePath(steps=steps)


def to_proto_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[pb.Diagnostic]:
    out = []
    for d in diagnostics:
        message = pb.Diagnostic(
            severity=pb.Diagnostic.Severity.ValueType(d.severity),
            summary=_valid_utf8(d.summary),
            detail=_valid_utf8(d.detail),
        )
        if d.path:
            message.attribute.CopyFrom(to_proto_attribute_path(d.path))
        out.append(message)
    return out


def _valid_utf8(text: str) -> str:
    # protobuf refuses lone surrogates with an unhelpful error, and detail text
    # may quote an API response we do not control.
    return text.encode("utf-8", "replace").decode("utf-8")


def to_proto_schema(schema: Schema) -> pb.Schema:
    return pb.Schema(
        version=schema.version,
        block=pb.Schema.Block(
            attributes=_to_proto_attributes(schema.attributes),
            description=schema.description,
            description_kind=pb.MARKDOWN,
        ),
    )


def _to_proto_attributes(attributes: Mapping[str, Attribute]) -> list[pb.Schema.Attribute]:
    out = []
    for name, a in attributes.items():
        message = pb.Schema.Attribute(
            name=name,
            description=a.description,
            description_kind=pb.MARKDOWN,
            required=a.required,
            optional=a.optional,
            computed=a.computed,
            sensitive=a.sensitive,
            write_only=a.write_only,
            deprecated=bool(a.deprecation),
            deprecation_message=a.deprecation,
        )
        if a.nested is not None:
            message.nested_type.CopyFrom(
                pb.Schema.Object(
                    attributes=_to_proto_attributes(a.nested.attributes),
                    nesting=pb.Schema.Object.NestingMode.ValueType(a.nested.nesting),
                )
            )
        else:
            message.type = cty.type_json(a.cty_type)
        out.append(message)
    return out


def from_proto_dynamic_value(value: pb.DynamicValue, t: cty.CtyType) -> cty.Value:
    """Decode a DynamicValue; Terraform sends msgpack, stored state may be JSON."""
    if value.msgpack:
        return cty.decode_msgpack(value.msgpack, t)
    if value.json:
        return cty.decode_json(value.json, t)
    return None


def decode_object(value: pb.DynamicValue, t: cty.Object) -> dict[str, cty.Value]:
    """A value Terraform must send as an object (a configuration, a planned state)."""
    decoded = from_proto_dynamic_value(value, t)
    if not isinstance(decoded, dict):
        raise DiagnosticError(
            "Invalid Value From Terraform", "Expected an object, got a null or unknown value."
        )
    return decoded


def to_proto_dynamic_value(value: cty.Value, t: cty.CtyType) -> pb.DynamicValue:
    """Always msgpack: Terraform does not read JSON answers on every RPC."""
    return pb.DynamicValue(msgpack=cty.encode_msgpack(value, t))


def to_proto_resource_identity_schema(
    identity: IdentitySchema, schema: Schema
) -> pb.ResourceIdentitySchema:
    return pb.ResourceIdentitySchema(
        version=identity.version,
        identity_attributes=[
            pb.ResourceIdentitySchema.IdentityAttribute(
                name=name,
                type=cty.type_json(schema.attributes[name].cty_type),
                description=a.description,
                required_for_import=a.required_for_import,
                optional_for_import=not a.required_for_import,
            )
            for name, a in identity.attributes.items()
        ],
    )


def to_proto_resource_identity_data(
    identity: cty.Value, t: cty.Object
) -> pb.ResourceIdentityData | None:
    """None for no identity: Terraform reads an absent message as a null identity."""
    if identity is None:
        return None
    return pb.ResourceIdentityData(identity_data=to_proto_dynamic_value(identity, t))


def from_proto_resource_identity_data(
    data: pb.ResourceIdentityData, t: cty.Object
) -> dict[str, cty.Value] | None:
    """The identity Terraform sent; None when it sent none (an older state, or import by id)."""
    decoded = from_proto_dynamic_value(data.identity_data, t)
    return decoded if isinstance(decoded, dict) else None
