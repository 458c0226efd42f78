"""The committed protobuf stubs are current and speak Terraform's wire protocol.

Terraform (Go) only sees method paths, field numbers and enum numbers, so those
are pinned here against upstream Terraform 1.15's tfplugin6.proto; a typo in
``proto/tfplugin6.proto`` would otherwise surface only as silently empty fields.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf.descriptor import Descriptor, FileDescriptor

from provider.plugin._proto import grpc_controller_pb2, tfplugin6_pb2

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "provider" / "plugin" / "_proto"


def _load_generator() -> ModuleType:
    """Import scripts/generate_proto.py by path: ``scripts`` is not a package."""
    spec = spec_from_file_location("generate_proto", ROOT / "scripts" / "generate_proto.py")
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_generator(tmp_path: Path) -> None:
    generator = _load_generator()
    generator.generate(tmp_path)
    outputs: tuple[str, ...] = generator.OUTPUTS
    stale = [
        name
        for name in outputs
        if not (COMMITTED / name).is_file()
        or (COMMITTED / name).read_bytes() != (tmp_path / name).read_bytes()
    ]
    assert not stale, (
        f"Generated stubs in provider/plugin/_proto are stale or missing: {', '.join(stale)}. "
        "Run `make proto` (.venv/bin/python scripts/generate_proto.py) with the pinned dev "
        "tools and commit the result."
    )


def test_stubs_import_without_warnings() -> None:
    """A fresh interpreter, so the check holds even if another test imported them first."""
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "from provider.plugin._proto import tfplugin6_pb2, grpc_controller_pb2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _method_paths(file: FileDescriptor) -> set[str]:
    return {
        f"/{service.full_name}/{method.name}"
        for service in file.services_by_name.values()
        for method in service.methods
    }


PROVIDER_RPCS = [
    "GetMetadata",
    "GetProviderSchema",
    "ValidateProviderConfig",
    "ValidateResourceConfig",
    "ValidateDataResourceConfig",
    "UpgradeResourceState",
    "GetResourceIdentitySchemas",
    "UpgradeResourceIdentity",
    "ConfigureProvider",
    "ReadResource",
    "PlanResourceChange",
    "ApplyResourceChange",
    "ImportResourceState",
    "MoveResourceState",
    "ReadDataSource",
    "GenerateResourceConfig",
    "ValidateEphemeralResourceConfig",
    "OpenEphemeralResource",
    "RenewEphemeralResource",
    "CloseEphemeralResource",
    "ListResource",
    "ValidateListResourceConfig",
    "GetFunctions",
    "CallFunction",
    "ValidateStateStoreConfig",
    "ConfigureStateStore",
    "ReadStateBytes",
    "WriteStateBytes",
    "LockState",
    "UnlockState",
    "GetStates",
    "DeleteState",
    "PlanAction",
    "InvokeAction",
    "ValidateActionConfig",
    "StopProvider",
]


def test_provider_service_has_exactly_the_terraform_1_15_rpcs() -> None:
    assert _method_paths(tfplugin6_pb2.DESCRIPTOR) == {
        f"/tfplugin6.Provider/{rpc}" for rpc in PROVIDER_RPCS
    }


METHOD_PATHS = [
    (tfplugin6_pb2.DESCRIPTOR, "/tfplugin6.Provider/GetProviderSchema"),
    (tfplugin6_pb2.DESCRIPTOR, "/tfplugin6.Provider/PlanResourceChange"),
    (tfplugin6_pb2.DESCRIPTOR, "/tfplugin6.Provider/ApplyResourceChange"),
    (tfplugin6_pb2.DESCRIPTOR, "/tfplugin6.Provider/StopProvider"),
    (grpc_controller_pb2.DESCRIPTOR, "/plugin.GRPCController/Shutdown"),
]


@pytest.mark.parametrize(("file", "path"), METHOD_PATHS, ids=[path for _, path in METHOD_PATHS])
def test_method_path_exists(file: FileDescriptor, path: str) -> None:
    assert path in _method_paths(file)


@pytest.mark.parametrize(
    ("rpc", "client_streaming", "server_streaming"),
    [
        ("ListResource", False, True),
        ("ReadStateBytes", False, True),
        ("WriteStateBytes", True, False),
        ("InvokeAction", False, True),
        ("PlanResourceChange", False, False),
    ],
    ids=["ListResource", "ReadStateBytes", "WriteStateBytes", "InvokeAction", "PlanResourceChange"],
)
def test_rpc_streaming_shape(rpc: str, client_streaming: bool, server_streaming: bool) -> None:
    method = tfplugin6_pb2.DESCRIPTOR.services_by_name["Provider"].methods_by_name[rpc]
    assert (method.client_streaming, method.server_streaming) == (
        client_streaming,
        server_streaming,
    )


def _message(name: str) -> Descriptor:
    """Resolve a dotted name such as ``PlanResourceChange.Request`` in tfplugin6."""
    outer, *inner = name.split(".")
    descriptor: Descriptor = tfplugin6_pb2.DESCRIPTOR.message_types_by_name[outer]
    for part in inner:
        descriptor = descriptor.nested_types_by_name[part]
    return descriptor


# (message, field, number): what Terraform sends or reads on the wire.
FIELD_NUMBERS = [
    ("DynamicValue", "msgpack", 1),
    ("DynamicValue", "json", 2),
    ("Diagnostic", "severity", 1),
    ("Diagnostic", "summary", 2),
    ("Diagnostic", "detail", 3),
    ("Diagnostic", "attribute", 4),
    ("FunctionError", "function_argument", 2),
    ("AttributePath", "steps", 1),
    ("AttributePath.Step", "attribute_name", 1),
    ("AttributePath.Step", "element_key_string", 2),
    ("AttributePath.Step", "element_key_int", 3),
    ("StopProvider.Response", "Error", 1),
    ("RawState", "json", 1),
    ("RawState", "flatmap", 2),
    ("Schema", "version", 1),
    ("Schema", "block", 2),
    ("Schema.Block", "block_types", 3),
    ("Schema.Block", "deprecation_message", 7),
    ("Schema.Attribute", "type", 2),
    ("Schema.Attribute", "sensitive", 7),
    ("Schema.Attribute", "nested_type", 10),
    ("Schema.Attribute", "write_only", 11),
    ("Schema.Attribute", "deprecation_message", 12),
    ("Schema.NestedBlock", "nesting", 3),
    ("Schema.Object", "nesting", 3),
    ("ServerCapabilities", "plan_destroy", 1),
    ("ServerCapabilities", "get_provider_schema_optional", 2),
    ("ServerCapabilities", "move_resource_state", 3),
    ("ServerCapabilities", "generate_resource_config", 4),
    ("ClientCapabilities", "deferral_allowed", 1),
    ("ClientCapabilities", "write_only_attributes_allowed", 2),
    ("Deferred", "reason", 1),
    ("ResourceIdentitySchema.IdentityAttribute", "required_for_import", 3),
    ("ResourceIdentityData", "identity_data", 1),
    ("Function", "return", 3),
    ("GetProviderSchema.Response", "resource_schemas", 2),
    ("GetProviderSchema.Response", "diagnostics", 4),
    ("GetProviderSchema.Response", "server_capabilities", 6),
    ("GetProviderSchema.Response", "functions", 7),
    ("GetProviderSchema.Response", "action_schemas", 11),
    ("GetResourceIdentitySchemas.Response", "identity_schemas", 1),
    ("ValidateProviderConfig.Request", "config", 1),
    ("ValidateProviderConfig.Response", "diagnostics", 2),
    ("ValidateResourceConfig.Request", "client_capabilities", 3),
    ("ValidateResourceConfig.Response", "diagnostics", 1),
    ("UpgradeResourceState.Request", "version", 2),
    ("UpgradeResourceState.Request", "raw_state", 3),
    ("UpgradeResourceState.Response", "upgraded_state", 1),
    ("ConfigureProvider.Request", "terraform_version", 1),
    ("ConfigureProvider.Request", "config", 2),
    ("ReadResource.Request", "current_state", 2),
    ("ReadResource.Request", "private", 3),
    ("ReadResource.Request", "current_identity", 6),
    ("ReadResource.Response", "new_state", 1),
    ("ReadResource.Response", "private", 3),
    ("PlanResourceChange.Request", "prior_state", 2),
    ("PlanResourceChange.Request", "proposed_new_state", 3),
    ("PlanResourceChange.Request", "config", 4),
    ("PlanResourceChange.Request", "prior_private", 5),
    ("PlanResourceChange.Response", "planned_state", 1),
    ("PlanResourceChange.Response", "requires_replace", 2),
    ("PlanResourceChange.Response", "planned_private", 3),
    ("PlanResourceChange.Response", "diagnostics", 4),
    ("PlanResourceChange.Response", "legacy_type_system", 5),
    ("ApplyResourceChange.Request", "planned_state", 3),
    ("ApplyResourceChange.Request", "planned_private", 5),
    ("ApplyResourceChange.Response", "new_state", 1),
    ("ApplyResourceChange.Response", "private", 2),
    ("ApplyResourceChange.Response", "diagnostics", 3),
    ("ImportResourceState.Request", "id", 2),
    ("ImportResourceState.ImportedResource", "state", 2),
    ("ImportResourceState.ImportedResource", "private", 3),
    ("ImportResourceState.Response", "imported_resources", 1),
    ("MoveResourceState.Request", "source_state", 4),
    ("ReadDataSource.Response", "state", 1),
    ("CallFunction.Response", "error", 2),
    ("UpgradeResourceIdentity.Request", "raw_identity", 3),
    ("ListResource.Event", "diagnostic", 4),
    ("WriteStateBytes.RequestChunk", "meta", 1),
    ("InvokeAction.Event", "completed", 2),
]


@pytest.mark.parametrize(
    ("message", "field", "number"),
    FIELD_NUMBERS,
    ids=[f"{message}.{field}={number}" for message, field, number in FIELD_NUMBERS],
)
def test_field_number(message: str, field: str, number: int) -> None:
    assert _message(message).fields_by_name[field].number == number


# (enum, value, number): enums decoded by Terraform.
ENUM_NUMBERS = [
    ("StringKind", "MARKDOWN", 1),
    ("Diagnostic.Severity", "ERROR", 1),
    ("Diagnostic.Severity", "WARNING", 2),
    ("Schema.NestedBlock.NestingMode", "SINGLE", 1),
    ("Schema.NestedBlock.NestingMode", "GROUP", 5),
    ("Schema.Object.NestingMode", "MAP", 4),
    ("Deferred.Reason", "ABSENT_PREREQ", 3),
]


@pytest.mark.parametrize(
    ("enum", "value", "number"),
    ENUM_NUMBERS,
    ids=[f"{enum}.{value}={number}" for enum, value, number in ENUM_NUMBERS],
)
def test_enum_number(enum: str, value: str, number: int) -> None:
    *outer, name = enum.split(".")
    scope = _message(".".join(outer)) if outer else tfplugin6_pb2.DESCRIPTOR
    assert scope.enum_types_by_name[name].values_by_name[value].number == number
