"""Terraform state <-> Humanitec API models for ``humanitec_webhook``.

The only place where Terraform values meet API models. Two rules keep plans
quiet and nothing lost:

* an empty map and a missing map mean the same to Humanitec, so an empty
  answer keeps the form Terraform already holds (``{}`` or null);
* the API may hold non-string header or payload values (its schema allows
  any JSON); Terraform's map of strings cannot, so such a value is kept as its
  JSON text and reported as an error with its path, never silently dropped.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .plugin import cty
from .plugin.diagnostics import DiagnosticError, Diagnostics, MapKey
from .plugin.resource import State

if TYPE_CHECKING:
    from .api import WebhookRequest, WebhookResponse, WebhookUpdateResponse

__all__ = ["request_from_state", "state_from_response"]


def request_from_state(state: State) -> WebhookRequest:
    """The full request body the official provider sends, from a planned state."""
    from .api import EventBaseRequest, WebhookRequest

    if not cty.is_wholly_known(state):
        raise DiagnosticError(
            "Unknown Value At Apply",
            "A webhook attribute was still unknown when Terraform asked to apply it. "
            "This is a bug in Terraform or the provider; please report it.",
        )
    triggers = state["triggers"]
    assert isinstance(triggers, list)
    return WebhookRequest(
        disabled=bool(state["disabled"]),
        headers=_as_dict(state["headers"]) or {},
        id=str(state["id"]),
        payload=_as_dict(state["payload"]),
        triggers=[
            EventBaseRequest(scope=str(t["scope"]), type=str(t["type"]))
            for t in triggers
            if isinstance(t, dict)
        ],
        url=str(state["url"]),
    )


def state_from_response(
    response: WebhookResponse | WebhookUpdateResponse, reference: State, diags: Diagnostics
) -> State:
    """The state for an API answer; ``reference`` (plan or prior) supplies what it lacks."""
    webhook_id = getattr(response, "id", None) or reference["id"]
    return {
        "id": webhook_id,
        "app_id": reference["app_id"],
        "url": response.url,
        "disabled": bool(response.disabled),
        # headers defaults to {}: an empty answer is always {}, as a create would plan it.
        "headers": _string_map("headers", response.headers, diags) or {},
        "payload": _payload(response.payload, reference.get("payload"), diags),
        "triggers": [{"scope": t.scope, "type": t.type} for t in response.triggers or []],
    }


def _as_dict(value: cty.Value) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


def _payload(answer: dict[str, Any] | None, held: cty.Value, diags: Diagnostics) -> cty.Value:
    mapped = _string_map("payload", answer, diags)
    if mapped is None:
        # Humanitec does not tell an empty payload from none: keep the form we hold.
        return {} if held == {} else None
    return mapped


def _string_map(
    name: str, answer: dict[str, Any] | None, diags: Diagnostics
) -> dict[str, cty.Value] | None:
    """The answer as a map of strings; None when it is empty or null."""
    if not answer:
        return None
    out: dict[str, cty.Value] = {}
    for key, value in answer.items():
        if isinstance(value, str):
            out[key] = value
            continue
        out[key] = json.dumps(value)
        # Header values are secret: name the key and the JSON type, never the value.
        shown = type(value).__name__ if name == "headers" else json.dumps(value)
        diags.error(
            "Unexpected API Response",
            f"Humanitec returned {name}[{key!r}] as a non-string value ({shown}), but this "
            "provider manages string values only. Set it to a string in Humanitec or in the "
            "configuration.",
            (name, MapKey(key)),
        )
    return out
