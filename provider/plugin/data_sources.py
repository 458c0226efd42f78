"""Data sources: ValidateDataResourceConfig and ReadDataSource.

A data source reads; it never plans or applies. The servicer checks what
Terraform would otherwise reject tersely: a configuration still unknown never
reaches the remote side, and a read that contradicts the configuration or
leaves unknowns is reported with its path.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import cty
from ._proto import tfplugin6_pb2 as pb
from .convert import decode_object, to_proto_dynamic_value
from .diagnostics import Diagnostics, format_path
from .planning import plan_violations, validate_config
from .resource import DataReadRequest, DataSource, ValidateRequest
from .rpc import UnaryHandler, served, unary_rpc

__all__ = ["DataSourceRPCs"]


class DataSourceRPCs:
    """The data sources of a provider, by type name."""

    def __init__(self, sources: Sequence[DataSource]) -> None:
        self.sources = {source.type_name: source for source in sources}

    def handlers(self) -> dict[str, UnaryHandler]:
        return {
            "ValidateDataResourceConfig": unary_rpc(
                pb.ValidateDataResourceConfig.Request,
                pb.ValidateDataResourceConfig.Response,
                self._validate_data_source,
            ),
            "ReadDataSource": unary_rpc(
                pb.ReadDataSource.Request, pb.ReadDataSource.Response, self._read_data_source
            ),
        }

    def _data_source(self, type_name: str) -> DataSource:
        return served(self.sources, type_name, "data source")

    def _validate_data_source(
        self, req: pb.ValidateDataResourceConfig.Request, diags: Diagnostics
    ) -> pb.ValidateDataResourceConfig.Response:
        source = self._data_source(req.type_name)
        config = decode_object(req.config, source.schema.object_type())
        validate_config(source.schema, config, diags)
        diags.extend(source.validate(ValidateRequest(config)).diagnostics)
        return pb.ValidateDataResourceConfig.Response()

    def _read_data_source(
        self, req: pb.ReadDataSource.Request, diags: Diagnostics
    ) -> pb.ReadDataSource.Response:
        source = self._data_source(req.type_name)
        schema = source.schema
        t = schema.object_type()
        config = decode_object(req.config, t)
        if not cty.is_wholly_known(config):
            # Terraform defers such reads to apply; a value not yet known must never reach the
            # remote side as if it were one.
            diags.error(
                "Unknown Value In Data Source Configuration",
                "Terraform asked to read this data source before its configuration was known. "
                "This is a bug in Terraform or the provider; please report it.",
            )
            return pb.ReadDataSource.Response()
        validate_config(schema, config, diags)
        if diags.has_errors:
            return pb.ReadDataSource.Response()
        answer = source.read(DataReadRequest(config))
        diags.extend(answer.diagnostics)
        if answer.state is None or diags.has_errors:
            if not diags.has_errors:
                diags.error(
                    "Provider Read Nothing",
                    "The data source reported no error and no object. This is a bug in the "
                    "provider; please report it.",
                )
            return pb.ReadDataSource.Response()
        state = answer.state
        problems = [
            (p, "differs from the configuration") for p in plan_violations(schema, config, state)
        ]
        if not cty.is_wholly_known(state):
            problems.append(((), "holds unknown values"))
        for path, problem in problems:
            diags.error(
                "Provider Produced Invalid Object",
                f"The data source read {format_path(path) or 'an object'} that {problem}. "
                "This is a bug in the provider; please report it.",
                path or None,
            )
        if problems:
            return pb.ReadDataSource.Response()
        try:
            return pb.ReadDataSource.Response(state=to_proto_dynamic_value(state, t))
        except cty.CtyError as exc:
            diags.error(
                "Provider Produced Invalid Object",
                f"The data source's object could not be encoded ({exc}). This is a bug in the "
                "provider; please report it.",
            )
            return pb.ReadDataSource.Response()
