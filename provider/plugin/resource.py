"""What a provider author implements: a Provider and its Resources.

Values handed to these methods are decoded cty values (see :mod:`.cty`): an
object is a ``dict`` holding every attribute, null is ``None`` and a value
Terraform does not know yet is :data:`cty.UNKNOWN`. The servicer owns the
wire: it decodes, applies the schema's declared behaviour (defaults,
replacement, validators, write-only attributes), calls these methods, checks
Terraform's consistency rules and encodes the answer.

Each resource method takes one request and returns one response, as
terraform-plugin-go's ``ResourceServer`` does, so a new protocol feature adds
a field rather than changing every signature. A method reports problems in
its response's ``diagnostics`` (or raises
:class:`~.diagnostics.DiagnosticError`); an unexpected exception becomes an
"Internal Provider Error" diagnostic.

Private state is opaque bytes Terraform stores beside the state and hands
back on the next plan, apply and read; a response that leaves ``private`` as
``None`` keeps what the request carried.

A resource whose schema declares an identity (Terraform 1.12+) gets it
handled by the servicer: derived from the state for every answer, checked
never to change for an existing object, and handed to ``import_state`` when
Terraform imports by identity. A :class:`ListResource` of the same type name
lists existing objects for ``terraform query`` (Terraform 1.14+).

Each method may be called from several gRPC worker threads at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple, Protocol

from . import cty
from .diagnostics import Diagnostics
from .schema import Schema

__all__ = [
    "ApplyResponse",
    "CreateRequest",
    "DataReadRequest",
    "DataReadResponse",
    "DataSource",
    "DeleteRequest",
    "DeleteResponse",
    "ImportRequest",
    "ImportResponse",
    "ListRequest",
    "ListResource",
    "ListResult",
    "PlanCallsApi",
    "PlanRequest",
    "PlanResponse",
    "Provider",
    "ReadRequest",
    "ReadResponse",
    "Resource",
    "ResourceResponse",
    "State",
    "UpdateRequest",
    "ValidateRequest",
    "ValidateResponse",
]

State = dict[str, cty.Value]
"""A resource object: every attribute of its schema, by name."""


# Requests are NamedTuples and responses small slotted classes rather than dataclasses:
# every provider launch imports this module, and fourteen dataclasses cost ~6 ms of it.


class ResourceResponse:
    """What every response carries: the method's diagnostics."""

    __slots__ = ("diagnostics",)

    def __init__(self, *, diagnostics: Diagnostics | None = None) -> None:
        self.diagnostics = Diagnostics() if diagnostics is None else diagnostics


class ValidateRequest(NamedTuple):
    config: State
    """The configuration; may hold unknowns."""


class ValidateResponse(ResourceResponse):
    __slots__ = ()


class PlanRequest(NamedTuple):
    prior: State | None
    """None on create."""
    planned: State
    """Terraform's proposal with declared defaults applied and write-only values null."""
    config: State
    """The configuration, write-only values included; may hold unknowns."""
    prior_private: bytes = b""


class PlanResponse(ResourceResponse):
    __slots__ = ("planned", "private")

    def __init__(self, planned: State, private: bytes | None = None) -> None:
        super().__init__()
        self.planned = planned
        self.private = private


class CreateRequest(NamedTuple):
    planned: State
    config: State
    """The configuration, write-only values included, all known."""
    planned_private: bytes = b""


class UpdateRequest(NamedTuple):
    prior: State
    planned: State
    config: State
    """The configuration, write-only values included, all known."""
    planned_private: bytes = b""


class ApplyResponse(ResourceResponse):
    """``state`` is the new state (None from a create: nothing was created)."""

    __slots__ = ("private", "state")

    def __init__(self, state: State | None = None, private: bytes | None = None) -> None:
        super().__init__()
        self.state = state
        self.private = private


class ReadRequest(NamedTuple):
    state: State
    private: bytes = b""


class ReadResponse(ResourceResponse):
    """``state`` is the remote object's current state, or None if it is gone."""

    __slots__ = ("private", "state")

    def __init__(self, state: State | None = None, private: bytes | None = None) -> None:
        super().__init__()
        self.state = state
        self.private = private


class DeleteRequest(NamedTuple):
    prior: State
    private: bytes = b""


class DeleteResponse(ResourceResponse):
    __slots__ = ()


class ImportRequest(NamedTuple):
    id: str
    """The import id; empty when Terraform imports by identity."""
    identity: State | None = None
    """The identity from an ``import`` block's ``identity`` (Terraform 1.12+); None for an id."""


class ImportResponse(ResourceResponse):
    """``state`` is a (partial) state that ``read`` completes; None on failure."""

    __slots__ = ("state",)

    def __init__(self, state: State | None = None) -> None:
        super().__init__()
        self.state = state


PlanCallsApi = Literal["always", "creates", "never"]


class Resource(Protocol):
    """One managed resource type, e.g. ``humanitec_webhook``."""

    type_name: str
    """The full resource type name, e.g. ``humanitec_webhook``."""

    schema: Schema

    plan_calls_api: PlanCallsApi
    """When :meth:`plan` may wait on a remote API: ``"always"``, ``"creates"`` (only when
    planning a new object) or ``"never"``. A server answers the calls that cannot wait right
    away, on its I/O thread, instead of handing them to a worker."""

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        """Check a configuration beyond the declared validators."""

    def plan(self, req: PlanRequest) -> PlanResponse:
        """Adjust a create or update plan after declared defaults were applied."""

    def create(self, req: CreateRequest) -> ApplyResponse:
        """Create the remote object."""

    def read(self, req: ReadRequest) -> ReadResponse:
        """Read the remote object's current state."""

    def update(self, req: UpdateRequest) -> ApplyResponse:
        """Change the remote object in place."""

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        """Delete the remote object; a missing object counts as deleted."""

    def import_state(self, req: ImportRequest) -> ImportResponse:
        """Turn an import id into a (partial) state that :meth:`read` completes."""


# --- list resources (terraform query, Terraform 1.14+) ------------------------


class ListRequest(NamedTuple):
    config: State
    """The list block's ``config`` block, all known."""
    include_resource: bool
    """Whether Terraform wants whole objects; results carry the state either way,
    since the servicer derives each identity from it."""
    limit: int
    """Terraform reads no more results than this: stop fetching once they are found."""


class ListResult(ResourceResponse):
    """One object found, or (``state`` None) only diagnostics, e.g. a failed listing.

    ``state`` is what ``read`` would return for the object; ``display_name``
    labels it for people.
    """

    __slots__ = ("display_name", "state")

    def __init__(self, state: State | None = None, display_name: str = "") -> None:
        super().__init__()
        self.state = state
        self.display_name = display_name


class ListResource(Protocol):
    """Lists existing objects of the managed resource type of the same name."""

    type_name: str
    """Equal to the managed resource's type name, whose schema declares an identity."""

    schema: Schema
    """The schema of the list block's ``config`` block."""

    def list(self, req: ListRequest) -> Iterable[ListResult]:
        """The objects found, lazily; a result with error diagnostics ends the listing."""


class Provider(Protocol):
    """The provider: its configuration and the resources it serves."""

    type_name: str
    """The provider's local name, e.g. ``humanitec``."""

    schema: Schema

    def validate(self, config: State, diags: Diagnostics) -> None:
        """Check the provider block; may hold unknowns."""

    def configure(self, config: State, terraform_version: str, diags: Diagnostics) -> None:
        """Prepare API access from the provider block; called once per command."""

    def resources(self) -> Sequence[Resource]:
        """The resources this provider serves, each with a unique type name."""

    def data_sources(self) -> Sequence[DataSource]:
        """The data sources this provider serves, each with a unique type name."""

    def list_resources(self) -> Sequence[ListResource]:
        """The list resources this provider serves, each named after one of its resources."""

    def stop(self) -> None:
        """Terraform is cancelling (StopProvider): end waits and in-flight work early."""


# --- data sources ----------------------------------------------------------------------------


class DataReadRequest(NamedTuple):
    config: State
    """The configuration, wholly known: the servicer never reads with unknown values."""


class DataReadResponse(ResourceResponse):
    """``state`` is the configuration with every computed attribute filled in; None on failure."""

    __slots__ = ("state",)

    def __init__(self, state: State | None = None) -> None:
        super().__init__()
        self.state = state


class DataSource(Protocol):
    """One data source type, e.g. ``data "humanitec_webhooks"``: read-only, no state kept."""

    type_name: str
    schema: Schema

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        """Check a configuration beyond the declared validators; may hold unknowns."""

    def read(self, req: DataReadRequest) -> DataReadResponse:
        """Read the remote data the configuration names."""
