"""``humanitec_webhook``: a Humanitec webhook, managed through the webhook API.

Endpoints (``{org}`` from the provider, ``{app}`` = ``app_id``, ``{id}`` = ``id``):
create ``POST /orgs/{org}/apps/{app}/webhooks`` (201), read ``GET .../{id}``
(200; 404 removes it from state with a warning), update ``PATCH .../{id}``
with the full body (200), delete ``DELETE .../{id}`` (204; 404 counts as
deleted). Import ids are ``app_id/webhook_id``.

The schema is the official provider's, except that ``headers`` is
sensitive: header values are often credentials and must not show in plans.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from .plugin.diagnostics import DiagnosticError, Diagnostics
from .plugin.planning import values_equal
from .plugin.resource import State
from .plugin.schema import Schema, boolean, map_of_strings, nested_set, string
from .validators import HTTPS_URL, NOT_EMPTY, TOKEN_KEYS, KnownTriggers
from .webhook_state import request_from_state, state_from_response

if TYPE_CHECKING:
    from .api import HumanitecClient, HumanitecError

__all__ = ["SCHEMA", "WebhookResource"]

_TRIGGERS_DESCRIPTION = """\
A list of Events by which the Job is triggered, supported triggers are:

| scope       | type     |
|-------------|----------|
| environment | created  |
| environment | deleted  |
| deployment  | started  |
| deployment  | finished |
"""

SCHEMA = Schema(
    description="Webhook is a special type of a Job, it performs a HTTPS request to a "
    "specified URL with specified headers.",
    attributes={
        "id": string(
            "The ID of the Webhook.", required=True, requires_replace=True, validators=(NOT_EMPTY,)
        ),
        "app_id": string(
            "The ID of the Application that the Webhook should belong to.",
            required=True,
            requires_replace=True,
            validators=(NOT_EMPTY,),
        ),
        "url": string(
            "The webhook's URL (only HTTPS is supported).", required=True, validators=(HTTPS_URL,)
        ),
        "disabled": boolean(
            "Defines whether this job is currently disabled.",
            optional=True,
            computed=True,
            default=False,
        ),
        "headers": map_of_strings(
            "Custom webhook headers. Sensitive: values often carry credentials.",
            optional=True,
            computed=True,
            sensitive=True,
            default={},
            validators=(TOKEN_KEYS,),
        ),
        "payload": map_of_strings(
            "Customize payload. Humanitec fills placeholders such as `${app_id}`; write them "
            "as `$${app_id}` in HCL so Terraform passes them through.",
            optional=True,
        ),
        "triggers": nested_set(
            _TRIGGERS_DESCRIPTION,
            {
                "scope": string("Scope of the trigger", required=True),
                "type": string("Type of the trigger", required=True),
            },
            required=True,
            validators=(KnownTriggers(),),
        ),
    },
)


class ClientSource(Protocol):
    """What the resource needs from its provider."""

    @property
    def client(self) -> HumanitecClient: ...

    @property
    def org_id(self) -> str: ...


class WebhookResource:
    """The ``humanitec_webhook`` resource."""

    type_name = "humanitec_webhook"
    schema = SCHEMA

    def __init__(self, provider: ClientSource) -> None:
        self._provider = provider

    def validate(self, config: State, diags: Diagnostics) -> None:
        """Declared validators cover everything."""

    def plan(self, prior: State | None, planned: State, diags: Diagnostics) -> State:
        return planned

    def create(self, planned: State, diags: Diagnostics) -> State | None:
        from .api import Conflict, HumanitecError, TransportError

        client = self._provider.client
        app_id, webhook_id = str(planned["app_id"]), str(planned["id"])
        try:
            response = client.create_webhook(app_id, request_from_state(planned))
        except Conflict as exc:
            diags.error(
                "Webhook Already Exists",
                f"A webhook with id {webhook_id!r} already exists in organization "
                f"{self._provider.org_id!r} ({exc}). Webhook ids are unique in an "
                "organization: choose another id, or bring the existing webhook under "
                f'Terraform with an import block (id = "{app_id}/{webhook_id}").',
                ("id",),
            )
            return None
        except TransportError as exc:
            # The POST may have reached the API before the connection failed. The id is
            # ours, so look before reporting, rather than lose a created webhook.
            return self._adopt_after_failed_create(client, planned, exc, diags)
        except HumanitecError as exc:
            diags.error("Humanitec API Error", f"Unable to create webhook, got error: {exc}")
            return None
        return state_from_response(response, planned, diags)

    def read(self, state: State, diags: Diagnostics) -> State | None:
        from .api import HumanitecError, NotFound

        webhook_id = str(state["id"])
        try:
            response = self._provider.client.get_webhook(str(state["app_id"]), webhook_id)
        except NotFound:
            diags.warning(
                "Webhook Not Found",
                f"The webhook ({webhook_id}) was deleted outside Terraform; it is removed "
                "from the state and the next apply creates it again.",
            )
            return None
        except HumanitecError as exc:
            diags.error("Humanitec API Error", f"Unable to read webhook, got error: {exc}")
            return None
        return state_from_response(response, state, diags)

    def update(self, prior: State, planned: State, diags: Diagnostics) -> State | None:
        from .api import HumanitecError, NotFound

        app_id, webhook_id = str(planned["app_id"]), str(planned["id"])
        try:
            response = self._provider.client.update_webhook(
                app_id, webhook_id, request_from_state(planned)
            )
        except NotFound:
            diags.error(
                "Webhook Not Found",
                f"The webhook ({webhook_id}) was deleted outside Terraform during this run. "
                "Run terraform apply again to create it.",
            )
            return None
        except HumanitecError as exc:
            diags.error("Humanitec API Error", f"Unable to update webhook, got error: {exc}")
            return None
        return state_from_response(response, planned, diags)

    def delete(self, prior: State, diags: Diagnostics) -> None:
        from .api import HumanitecError, NotFound

        try:
            self._provider.client.delete_webhook(str(prior["app_id"]), str(prior["id"]))
        except NotFound:
            return  # already gone: the goal of the delete is reached
        except HumanitecError as exc:
            diags.error("Humanitec API Error", f"Unable to delete webhook, got error: {exc}")

    def import_state(self, import_id: str, diags: Diagnostics) -> State | None:
        parts = import_id.split("/")
        if len(parts) != 2 or not all(parts):
            raise DiagnosticError(
                "Unexpected Import Identifier",
                "Expected import identifier with format: app_id/webhook_id. "
                f"Got: {json.dumps(import_id)}",
            )
        return {"app_id": parts[0], "id": parts[1]}

    def _adopt_after_failed_create(
        self, client: HumanitecClient, planned: State, error: HumanitecError, diags: Diagnostics
    ) -> State | None:
        from .api import HumanitecError as ApiFailure
        from .api import NotFound

        app_id, webhook_id = str(planned["app_id"]), str(planned["id"])
        try:
            found = client.get_webhook(app_id, webhook_id)
        except NotFound:
            diags.error("Humanitec Client Error", f"Unable to create webhook, got error: {error}")
            return None
        except ApiFailure as exc:
            diags.error(
                "Webhook Creation Outcome Unknown",
                f"Creating webhook {webhook_id!r} failed ({error}) and checking whether it "
                f"exists failed too ({exc}). Check in Humanitec; if it exists, import it "
                f'with an import block (id = "{app_id}/{webhook_id}").',
                ("id",),
            )
            return None
        state = state_from_response(found, planned, Diagnostics())
        if not values_equal(state, planned, SCHEMA.object_type()):
            diags.error(
                "Webhook Already Exists",
                f"Creating webhook {webhook_id!r} failed ({error}), and a different webhook "
                "with that id exists. Choose another id or import the existing webhook.",
                ("id",),
            )
            return None
        return state
