"""Pydantic models mirroring the Humanitec webhook, application, environment and deployment schemas.

Shared by the client and the emulator, so the two cannot drift apart.

All models:
- validate strictly (a JSON ``1`` is not a bool, ``"true"`` is not a bool), so a caller sees
  exactly what was on the wire;
- ignore unknown fields, so a newer API that adds fields keeps working;
- are frozen; ``headers``/``payload`` hold JSON objects of any JSON values, never coerced
  to strings (the Terraform layer decides what it accepts).

Response fields the spec marks nullable may also be absent and then read as ``None``:
the real API is known to omit or null ``payload`` when none was set.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, JsonValue

__all__ = [
    "ApplicationResponse",
    "DeploymentRequest",
    "DeploymentResponse",
    "EnvironmentBaseResponse",
    "EnvironmentDefinitionRequest",
    "EnvironmentResponse",
    "EventBaseRequest",
    "EventBaseResponse",
    "EventResponse",
    "HumanitecErrorResponse",
    "JsonObject",
    "WebhookRequest",
    "WebhookResponse",
    "WebhookUpdateResponse",
    "webhook_request_body",
]

JsonObject = dict[str, JsonValue]
"""A JSON object whose values may be any JSON value (``JSONFieldRequest``/``JSONFieldResponse``)."""


class _ApiModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class EventBaseRequest(_ApiModel):
    """An event trigger as sent by a client: both fields optional in the spec."""

    scope: str | None = None
    type: str | None = None


class EventBaseResponse(_ApiModel):
    """An event trigger as returned by the API: both fields required."""

    scope: str
    type: str


class EventResponse(_ApiModel):
    """An event available for triggering jobs, with the payload variables it provides."""

    scope: str
    type: str
    properties: list[str]


class WebhookRequest(_ApiModel):
    """Body of create (POST) and update (PATCH). Every field is optional.

    ``model_fields_set`` tells a field that was sent as ``null`` from one that was absent,
    which the emulator's PATCH relies on.
    """

    disabled: bool | None = None
    headers: JsonObject | None = None
    id: str | None = None
    payload: JsonObject | None = None
    triggers: list[EventBaseRequest] | None = None
    url: str | None = None


class WebhookResponse(_ApiModel):
    """A webhook as returned by GET, list and create (201).

    ``headers``/``payload`` are ``None`` when the API sent ``null`` (or nothing) and ``{}``
    when it sent an empty object; Terraform treats the two differently.
    """

    id: str
    triggers: list[EventBaseResponse]
    disabled: bool | None = None
    url: str | None = None
    headers: JsonObject | None = None
    payload: JsonObject | None = None
    created_at: str | None = None
    created_by: str | None = None


class WebhookUpdateResponse(_ApiModel):
    """A webhook as returned by PATCH (200): no ``id``/``created_*``; ``triggers`` nullable."""

    disabled: bool | None = None
    url: str | None = None
    headers: JsonObject | None = None
    payload: JsonObject | None = None
    triggers: list[EventBaseResponse] | None = None


class EnvironmentBaseResponse(_ApiModel):
    """An environment as listed in an application's ``envs``."""

    id: str
    name: str
    type: str


class ApplicationResponse(_ApiModel):
    """An application as returned by ``GET /orgs/{org}/apps[/{app}]``.

    Only ``id`` is required here, though the spec requires more: the provider reads
    applications to learn that one exists, and a missing ``status`` must not make an
    existing application look broken.
    """

    id: str
    name: str | None = None
    org_id: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    envs: list[EnvironmentBaseResponse] | None = None
    status: str | None = None


class DeploymentRequest(_ApiModel):
    """Body of ``POST …/envs/{env}/deploys``: every field optional in the spec."""

    delta_id: str | None = None
    set_id: str | None = None
    comment: str | None = None
    value_set_version_id: str | None = None


class DeploymentResponse(_ApiModel):
    """A deployment; ``status`` is ``pending``, ``in progress``, ``succeeded`` or ``failed``."""

    id: str
    env_id: str
    from_id: str
    set_id: str
    comment: str
    status: str
    status_changed_at: str
    created_at: str
    created_by: str
    export_status: str
    export_file: str
    delta_id: str | None = None
    value_set_version_id: str | None = None


class EnvironmentDefinitionRequest(_ApiModel):
    """Body of ``POST /orgs/{org}/apps/{app}/envs``: ``id`` and ``name`` required by the spec."""

    id: str
    name: str
    type: str | None = None
    from_deploy_id: str | None = None


class EnvironmentResponse(_ApiModel):
    """An environment as returned by the environment endpoints.

    ``last_deploy``/``from_deploy`` are absent until a deployment has happened.
    """

    id: str
    name: str
    type: str
    created_at: str
    created_by: str
    status: str
    status_changed_at: str
    status_message: str | None = None
    last_deploy: DeploymentResponse | None = None
    from_deploy: DeploymentResponse | None = None


class HumanitecErrorResponse(_ApiModel):
    """The API's standard error body, e.g. ``{"error": "API-000", "message": "..."}``."""

    error: str
    message: str
    details: JsonObject | None = None


def webhook_request_body(request: WebhookRequest) -> JsonObject:
    """Serialise ``request`` exactly as the official Go provider does.

    All six keys are always present and unset fields are ``null``, so an unset payload is
    sent as ``"payload": null``. Example::

        {"disabled": false, "headers": {}, "id": "my-hook", "payload": null,
         "triggers": [{"scope": "environment", "type": "created"}], "url": "https://example.com"}
    """
    body = request.model_dump(mode="json")
    if request.triggers is not None:
        # Go tags the trigger fields `omitempty`: an unset scope/type is left out, not null.
        body["triggers"] = [t.model_dump(mode="json", exclude_none=True) for t in request.triggers]
    return body
