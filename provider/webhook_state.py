"""Terraform state <-> Humanitec API models for ``humanitec_webhook``.

The only place where Terraform values meet API models. Rules that keep plans
quiet, nothing lost and nothing wrongly trusted:

* an empty map and a missing map mean the same to Humanitec, so an empty
  answer keeps the form Terraform already holds (``{}`` or null);
* the API may hold non-string header or payload values (its schema allows
  any JSON); Terraform's map of strings cannot, so such a value is kept as its
  JSON text with a warning: the plan shows it as drift and apply overwrites it;
* an answer that names another webhook is refused: its id must never enter
  the state, where a replacement would delete that stranger's webhook;
* secret headers (``secret_headers_wo``) are merged into what is sent and kept
  out of what is read, by name.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from .plugin import cty
from .plugin.diagnostics import AttributePath, DiagnosticError, Diagnostics, MapKey
from .plugin.resource import State

if TYPE_CHECKING:
    from .api import JsonObject, WebhookRequest, WebhookResponse, WebhookUpdateResponse

__all__ = [
    "PlannedWebhook",
    "WebhookAddress",
    "app_id_of",
    "decode_secret_names",
    "encode_secret_names",
    "headers_set_twice",
    "matches",
    "request_from_state",
    "secret_headers",
    "state_from_response",
    "webhook_values",
]

_COMPACT: Final = json.JSONEncoder(separators=(",", ":"))
"""Built once: ``json.dumps`` with separators builds an encoder on every call."""


def secret_headers(config: State) -> dict[str, str]:
    """The write-only secret headers of a configuration (known at apply)."""
    value = config.get("secret_headers_wo")
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)}


def encode_secret_names(names: Collection[str], key: str = "secret_headers") -> bytes:
    """Private state: which header names are secret, so read keeps them out of ``headers``.

    A plan stores the names held before it under ``"before"``, so that a failed
    update can leave them as they were.
    """
    return _COMPACT.encode({key: sorted(names)}).encode()


def decode_secret_names(private: bytes, key: str = "secret_headers") -> frozenset[str]:
    """The secret header names in private state; anything unreadable means none."""
    try:
        names = json.loads(private)[key] if private else []
    except (ValueError, KeyError, TypeError):
        return frozenset()
    if not isinstance(names, list):
        return frozenset()
    return frozenset(n for n in names if isinstance(n, str))


def headers_set_twice(config: State) -> list[str]:
    """Secret header names that ``headers`` sets too (header names ignore case)."""
    headers, secrets = config.get("headers"), config.get("secret_headers_wo")
    if not (isinstance(headers, dict) and isinstance(secrets, dict)):
        return []
    plain = {name.lower() for name in headers}
    return [name for name in secrets if name.lower() in plain]


def app_id_of(config: State) -> str:
    """A configuration's or state's ``app_id``, which must be a known string by now."""
    app_id = config.get("app_id")
    if not isinstance(app_id, str):
        raise DiagnosticError(
            "Invalid Webhook State",
            f"app_id must be a known string here; got {type(app_id).__name__}. This is a bug "
            "in Terraform or the provider; please report it.",
            ("app_id",),
        )
    return app_id


class WebhookAddress(NamedTuple):
    """Where a webhook lives in the API: read from a state once, typed, not cast."""

    app_id: str
    id: str

    @classmethod
    def of(cls, state: State) -> WebhookAddress:
        app_id, webhook_id = state.get("app_id"), state.get("id")
        if not (isinstance(app_id, str) and isinstance(webhook_id, str)):
            raise DiagnosticError(
                "Invalid Webhook State",
                "The webhook's app_id and id must be known strings here; got "
                f"{type(app_id).__name__} and {type(webhook_id).__name__}. This is a bug in "
                "Terraform or the provider; please report it.",
            )
        return cls(app_id, webhook_id)


class PlannedWebhook(NamedTuple):
    """A wholly known planned webhook, typed: what create and update send."""

    address: WebhookAddress
    url: str
    disabled: bool
    headers: dict[str, str]
    payload: dict[str, str] | None
    triggers: list[tuple[str, str]]

    @classmethod
    def of(cls, state: State) -> PlannedWebhook:
        if not cty.is_wholly_known(state):
            raise DiagnosticError(
                "Unknown Value At Apply",
                "A webhook attribute was still unknown when Terraform asked to apply it. "
                "This is a bug in Terraform or the provider; please report it.",
            )
        url, disabled = state.get("url"), state.get("disabled")
        headers, payload = _strings(state.get("headers")), _strings(state.get("payload"))
        triggers = _triggers(state.get("triggers"))
        if not (
            isinstance(url, str)
            and isinstance(disabled, bool | None)
            and headers is not _WRONG
            and payload is not _WRONG
            and triggers is not None
        ):
            raise DiagnosticError(
                "Invalid Webhook State",
                "A planned webhook attribute has an unexpected type. This is a bug in "
                "Terraform or the provider; please report it.",
            )
        return cls(WebhookAddress.of(state), url, bool(disabled), headers or {}, payload, triggers)


def _triggers(value: cty.Value) -> list[tuple[str, str]] | None:
    """(scope, type) pairs; None if the value is not a list of string pairs."""
    if not isinstance(value, list):
        return None
    pairs = []
    for trigger in value:
        if not isinstance(trigger, dict):
            return None
        scope, kind = trigger.get("scope"), trigger.get("type")
        if not (isinstance(scope, str) and isinstance(kind, str)):
            return None
        pairs.append((scope, kind))
    return pairs


_WRONG: Final[dict[str, str]] = {}
"""Returned by :func:`_strings` for a value that is not a map of strings."""


def _strings(value: cty.Value) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {k: v for k, v in value.items() if isinstance(v, str)}
    return _WRONG


def request_from_state(state: State, secrets: Mapping[str, str] | None = None) -> WebhookRequest:
    """The full request body the official provider sends, from a planned state,
    with the secret headers merged into ``headers``."""
    from .api import EventBaseRequest, WebhookRequest

    planned = PlannedWebhook.of(state)
    payload: JsonObject | None = None if planned.payload is None else {**planned.payload}
    return WebhookRequest(
        disabled=planned.disabled,
        headers={**planned.headers, **(secrets or {})},
        id=planned.address.id,
        payload=payload,
        triggers=[EventBaseRequest(scope=scope, type=kind) for scope, kind in planned.triggers],
        url=planned.url,
    )


def matches(found: WebhookResponse | WebhookUpdateResponse, sent: WebhookRequest) -> bool:
    """Whether Humanitec holds exactly what ``sent`` asks for (before adopting it)."""
    found_id = getattr(found, "id", None)
    return (
        (found_id is None or found_id == sent.id)
        and found.url == sent.url
        and bool(found.disabled) == bool(sent.disabled)
        and (found.headers or {}) == (sent.headers or {})
        and (found.payload or {}) == (sent.payload or {})
        and found.triggers is not None
        and {(t.scope, t.type) for t in found.triggers}
        == {(t.scope, t.type) for t in sent.triggers or []}
    )


def state_from_response(
    response: WebhookResponse | WebhookUpdateResponse,
    reference: State,
    diags: Diagnostics,
    secret_names: Collection[str] = (),
) -> State:
    """The state for an API answer; ``reference`` (plan or prior) supplies what it lacks.

    Raises ``DiagnosticError`` when the answer is about another webhook.
    """
    answered_id = getattr(response, "id", None)
    if answered_id is not None and answered_id != reference["id"]:
        raise DiagnosticError(
            "Unexpected API Response",
            f"Humanitec was asked for webhook {reference['id']!r} and answered with webhook "
            f"{answered_id!r}. The answer is not trusted and the state is left unchanged.",
            ("id",),
        )
    hidden = {name.lower() for name in secret_names}
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() not in hidden}
    return {
        "id": reference["id"],
        "app_id": reference["app_id"],
        "url": response.url,
        "disabled": bool(response.disabled),
        # headers defaults to {}: an empty answer is always {}, as a create would plan it.
        "headers": _string_map("headers", headers, diags) or {},
        "payload": _payload(response.payload, reference.get("payload"), diags),
        "triggers": [{"scope": t.scope, "type": t.type} for t in response.triggers or []],
        "secret_headers_wo": None,
        "secret_headers_wo_version": reference.get("secret_headers_wo_version"),
    }


def webhook_values(response: WebhookResponse, diags: Diagnostics, at: AttributePath = ()) -> State:
    """``url``, ``disabled``, ``headers``, ``payload`` and ``triggers`` for a data source.

    The resource's rules with no form held before: empty headers are ``{}``, an
    empty payload is null. ``at`` is where the webhook sits, for warnings' paths.
    """
    return {
        "url": response.url,
        "disabled": bool(response.disabled),
        "headers": _string_map("headers", response.headers, diags, at, managed=False) or {},
        "payload": _string_map("payload", response.payload, diags, at, managed=False),
        "triggers": [{"scope": t.scope, "type": t.type} for t in response.triggers],
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
    name: str,
    answer: dict[str, Any] | None,
    diags: Diagnostics,
    at: AttributePath = (),
    *,
    managed: bool = True,
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
        # Header values may be secret: name the key and the JSON type, never the value.
        shown = type(value).__name__ if name == "headers" else json.dumps(value)
        diags.warning(
            "Non-String Value In Humanitec",
            f"Humanitec holds {name}[{key!r}] as a non-string value ({shown}). This provider "
            "manages string values, so it is shown as its JSON text" + (_DRIFT if managed else "."),
            (*at, name, MapKey(key)),
        )
    return out


_DRIFT = ": the plan shows the difference and apply sets the configured string (or removes it)."
