"""Events as the emulator serves and delivers them, read from the catalogue (``provider.events``).

An event that happened is an :class:`Occurrence`: which event, where, and the value of
each of its variables. :func:`render` turns a webhook's payload into the body a receiver
gets::

    payload  {"env": "${env_id}", "at": "${triggered_at}", "x": "${nope}"}
    body     {"env": "dev", "at": "2024-03-22T08:49:23.436635385Z", "x": "${nope}"}

A ``${name}`` the catalogue knows is replaced: by the event's value, or by ``""`` when
this event does not provide it (``${status}`` on ``environment.created``), which is what a
receiver sees from Humanitec. A name the catalogue does not know stays as written. A
webhook without a payload (null or ``{}``) sends the six common variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import JsonValue

import provider.events as catalogue
from provider.api.models import EventResponse, JsonObject

__all__ = ["Occurrence", "event_responses", "render", "rfc3339_nanoseconds"]

_KNOWN = frozenset(v.name for e in catalogue.EVENTS for v in e.variables)


def event_responses() -> list[EventResponse]:
    """What ``GET /orgs/{org}/events`` returns: the catalogue, in its order."""
    return [
        EventResponse(scope=e.scope, type=e.type, properties=list(e.variable_names()))
        for e in catalogue.EVENTS
    ]


@dataclass(frozen=True)
class Occurrence:
    """One event that happened in an application, with every variable of its event.

    Build it with :meth:`of`, which checks the values against the catalogue.
    """

    event: catalogue.Event
    org_id: str
    app_id: str
    values: Mapping[str, str] = field(repr=False)

    @classmethod
    def of(
        cls,
        scope: str,
        type_: str,
        *,
        triggered_at: str,
        triggered_by: str,
        org_id: str,
        app_id: str,
        env_id: str,
        **specific: str,
    ) -> Occurrence:
        """The occurrence of ``scope``/``type_``; ``specific`` holds its own variables.

        Raises ``ValueError`` for an event the catalogue lacks or a variable missing or
        extra, so the emulator cannot send what Humanitec would not.
        """
        found = catalogue.event(scope, type_)
        if found is None:
            raise ValueError(f"no event {scope}.{type_} in the catalogue")
        values = {
            "event": found.name,
            "triggered_at": triggered_at,
            "triggered_by": triggered_by,
            "org_id": org_id,
            "app_id": app_id,
            "env_id": env_id,
            **specific,
        }
        if set(values) != set(found.variable_names()):
            raise ValueError(
                f"{found.name} provides {sorted(found.variable_names())}, got {sorted(values)}"
            )
        return cls(found, org_id, app_id, values)

    def matches(self, scope: str, type_: str) -> bool:
        return (self.event.scope, self.event.type) == (scope, type_)


def render(payload: JsonObject | None, values: Mapping[str, str]) -> JsonObject:
    """The body for ``payload``: placeholders filled in every string value, at any depth.

    Keys are left alone; non-string values are sent as they are.
    """
    if not payload:
        return {v.name: values.get(v.name, "") for v in catalogue.COMMON_VARIABLES}
    return {key: _render_value(value, values) for key, value in payload.items()}


def rfc3339_nanoseconds(epoch_ns: int) -> str:
    """``2024-03-22T08:49:23.436635385Z``: UTC, nine fraction digits, as ``${triggered_at}``."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC)
    return f"{whole:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def _render_value(value: JsonValue, values: Mapping[str, str]) -> JsonValue:
    if isinstance(value, str):
        return catalogue.PLACEHOLDER.sub(
            lambda m: values.get(m[1], "") if m[1] in _KNOWN else m[0], value
        )
    if isinstance(value, list):
        return [_render_value(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _render_value(item, values) for key, item in value.items()}
    return value
