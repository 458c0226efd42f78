"""What a provider author implements: a Provider and its Resources.

Values handed to these methods are decoded cty values (see :mod:`.cty`): an
object is a ``dict`` holding every attribute, null is ``None`` and a value
Terraform does not know yet is :data:`cty.UNKNOWN`. The servicer owns the
wire: it decodes, applies the schema's declared behaviour (defaults,
replacement, validators), calls these methods, checks Terraform's
consistency rules and encodes the answer. Methods report problems by adding
to ``diags`` (or raising :class:`~.diagnostics.DiagnosticError`); an
unexpected exception becomes an "Internal Provider Error" diagnostic.

Each method may be called from several gRPC worker threads at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from . import cty
from .diagnostics import Diagnostics
from .schema import Schema

__all__ = ["Provider", "Resource", "State"]

State = dict[str, cty.Value]
"""A resource object: every attribute of its schema, by name."""


class Resource(Protocol):
    """One managed resource type, e.g. ``humanitec_webhook``."""

    type_name: str
    """The full resource type name, e.g. ``humanitec_webhook``."""

    schema: Schema

    def validate(self, config: State, diags: Diagnostics) -> None:
        """Check a configuration beyond the declared validators; may hold unknowns."""

    def plan(self, prior: State | None, planned: State, diags: Diagnostics) -> State:
        """Adjust a create or update plan after declared defaults were applied."""

    def create(self, planned: State, diags: Diagnostics) -> State | None:
        """Create the remote object; return its state, or None if nothing was created."""

    def read(self, state: State, diags: Diagnostics) -> State | None:
        """Return the remote object's current state, or None if it is gone."""

    def update(self, prior: State, planned: State, diags: Diagnostics) -> State | None:
        """Change the remote object in place; return its new state."""

    def delete(self, prior: State, diags: Diagnostics) -> None:
        """Delete the remote object; a missing object counts as deleted."""

    def import_state(self, import_id: str, diags: Diagnostics) -> State | None:
        """Turn an import id into a (partial) state that :meth:`read` completes."""


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

    def stop(self) -> None:
        """Terraform is cancelling (StopProvider): end waits and in-flight work early."""
