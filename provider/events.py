"""The event catalogue: the events a webhook can be triggered by, and what each provides.

The one place that lists them. The resource's schema description, the plan-time
checks, the emulator (its ``GET /orgs/{org}/events`` and its deliveries) and the
generated docs all read it; when Humanitec documents a new event, add it here.

Facts from Humanitec's "Webhooks" page: every event offers the six common
variables; environment events add the environment's name and type; deployment
events add the deployment's ids, comment and status. In a payload a variable is
written ``${name}`` (``$${name}`` in HCL, so Terraform leaves it alone).

Standard library only: the provider imports this at ``terraform validate``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "COMMON_VARIABLES",
    "EVENTS",
    "PLACEHOLDER",
    "VARIABLE_NAMES",
    "Event",
    "Variable",
    "event",
    "placeholders",
    "scopes",
    "types_of",
    "variables_of",
]


class Variable(NamedTuple):
    """A value an event fills into ``${name}``."""

    name: str
    description: str
    example: str


class Event(NamedTuple):
    """One trigger: ``scope``/``type`` as written in ``triggers``, and its variables."""

    scope: str
    type: str
    description: str
    variables: tuple[Variable, ...]

    @property
    def name(self) -> str:
        """``scope.type``: the value of ``${event}``."""
        return f"{self.scope}.{self.type}"

    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def example(self, variable: Variable) -> str:
        """A variable's example value in this event: ``${event}`` is the event's own name."""
        return self.name if variable.name == "event" else variable.example


COMMON_VARIABLES: tuple[Variable, ...] = (
    Variable("event", "The event, as `scope.type`.", "environment.created"),
    Variable(
        "triggered_at",
        "When the event happened, RFC 3339 with nanoseconds.",
        "2024-03-22T08:49:23.436635385Z",
    ),
    Variable(
        "triggered_by",
        "The id of the user who caused the event.",
        "4b2ad72b-4d79-4124-af07-9dd97d6e9154",
    ),
    Variable("org_id", "The organization's id.", "example-org"),
    Variable("app_id", "The application's id.", "example-app"),
    Variable("env_id", "The environment's id.", "example-env"),
)
"""What every event provides, and the default payload when a webhook has none."""

_ENVIRONMENT_VARIABLES = (
    *COMMON_VARIABLES,
    Variable("name", "The environment's name.", "Example env"),
    Variable("type", "The environment's type.", "development"),
)
_DEPLOYMENT_VARIABLES = (
    *COMMON_VARIABLES,
    Variable("deploy_id", "The deployment's id.", "17bf0ac889ee7eae"),
    Variable(
        "delta_id",
        "The id of the deployment delta deployed.",
        "900a4814c4557947b98629f6efad158d122837fe",
    ),
    Variable(
        "set_id",
        "The id of the deployment set deployed.",
        "huLPWmcZeokhXIFnbRdmkqxLlGL-WWwBxdPStkidjgk",
    ),
    Variable("comment", "The deployment's comment.", "Example deployment message"),
    Variable(
        "status",
        "The deployment's status: `in progress` when started, `succeeded` or `failed`"
        " when finished.",
        "succeeded",
    ),
)

_STARTED_VARIABLES = tuple(
    v._replace(example="in progress") if v.name == "status" else v for v in _DEPLOYMENT_VARIABLES
)

EVENTS: tuple[Event, ...] = (
    Event("environment", "created", "An environment was created.", _ENVIRONMENT_VARIABLES),
    Event("environment", "deleted", "An environment was deleted.", _ENVIRONMENT_VARIABLES),
    Event("deployment", "started", "A deployment started.", _STARTED_VARIABLES),
    Event("deployment", "finished", "A deployment finished.", _DEPLOYMENT_VARIABLES),
)
"""Every event Humanitec documents, in the order ``GET /orgs/{org}/events`` lists them."""

_BY_KEY = {(e.scope, e.type): e for e in EVENTS}

VARIABLE_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(name for e in EVENTS for name in e.variable_names())
)
"""Every variable some event provides, common ones first, each once."""

PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
"""A ``${name}`` in a payload value; the group is the name as written."""


def event(scope: str, type_: str) -> Event | None:
    """The event for a trigger, or None when Humanitec documents no such event."""
    return _BY_KEY.get((scope, type_))


def variables_of(scope: str, type_: str) -> frozenset[str]:
    """The variable names a trigger provides (empty for an unknown trigger)."""
    found = _BY_KEY.get((scope, type_))
    return frozenset(found.variable_names()) if found else frozenset()


def scopes() -> tuple[str, ...]:
    """The trigger scopes, in catalogue order."""
    return tuple(dict.fromkeys(e.scope for e in EVENTS))


def types_of(scope: str) -> tuple[str, ...]:
    """The trigger types of a scope, in catalogue order (empty for an unknown scope)."""
    return tuple(e.type for e in EVENTS if e.scope == scope)


def placeholders(text: str) -> list[str]:
    """The placeholder names in a payload value, in order of appearance."""
    return PLACEHOLDER.findall(text)
