"""``humanitec_webhook``: a Humanitec webhook, managed through the webhook API.

Endpoints (``{org}`` from the provider, ``{app}`` = ``app_id``, ``{id}`` = ``id``):
create ``POST /orgs/{org}/apps/{app}/webhooks`` (201), read ``GET .../{id}``
(200; 404 removes it from state with a warning), update ``PATCH .../{id}``
with the full body (200), delete ``DELETE .../{id}`` (204; 404 counts as
deleted). Import ids are ``app_id/webhook_id``.

The schema and API calls are the official provider's. Where it is silent or
fragile, this one is safer: ``headers`` is sensitive (values are often
credentials); URLs, ids and header names are checked at plan time and an
undocumented trigger is a warning; a delete of a webhook already gone
succeeds; a create whose outcome is unclear looks before it reports, so a
webhook is neither lost nor created twice; a read that finds no application
(a mistyped org or app) is an error, not a reason to forget every webhook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .plugin.diagnostics import DiagnosticError, Diagnostics
from .plugin.planning import values_equal
from .plugin.resource import State
from .plugin.schema import Schema, boolean, map_of_strings, nested_set, string
from .validators import HEADER_NAMES, HTTPS_URL, NOT_EMPTY, PATH_SAFE_ID, KnownTriggers
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
            "The ID of the Webhook.",
            required=True,
            requires_replace=True,
            validators=(NOT_EMPTY, PATH_SAFE_ID),
        ),
        "app_id": string(
            "The ID of the Application that the Webhook should belong to.",
            required=True,
            requires_replace=True,
            validators=(NOT_EMPTY, PATH_SAFE_ID),
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
            validators=(HEADER_NAMES,),
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
        from .api import ApiError, Conflict, TransportError

        client = self._provider.client
        app_id, webhook_id = _ids(planned)
        try:
            response = client.create_webhook(app_id, request_from_state(planned))
        except Conflict as exc:
            if exc.attempts > 1:  # our own earlier, retried attempt may have created it
                return self._adopt(client, planned, exc, diags)
            diags.error(
                "Webhook Already Exists",
                f"A webhook with id {webhook_id!r} already exists in organization "
                f"{self._provider.org_id!r} ({exc}). Webhook ids are unique in an "
                "organization: choose another id, or bring the existing webhook under "
                f"Terraform with {_import_hint(app_id, webhook_id)}.",
                ("id",),
            )
            return None
        except (TransportError, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.status_code not in _MAYBE_APPLIED:
                _report(diags, "create", exc)
                return None
            # The POST may have reached Humanitec before the connection or a gateway
            # failed. The id is ours, so look before reporting, rather than lose it.
            return self._adopt(client, planned, exc, diags)
        return state_from_response(response, planned, diags)

    def read(self, state: State, diags: Diagnostics) -> State | None:
        from .api import HumanitecError, NotFound

        client = self._provider.client
        app_id, webhook_id = _ids(state)
        try:
            response = client.get_webhook(app_id, webhook_id)
        except NotFound:
            if self._application_exists(client, app_id, diags):
                diags.warning(
                    "Webhook Not Found",
                    f"The webhook ({webhook_id}) was deleted outside Terraform; it is removed "
                    "from the state and the next apply creates it again.",
                )
            return None
        except HumanitecError as exc:
            _report(diags, "read", exc)
            return None
        return state_from_response(response, state, diags)

    def update(self, prior: State, planned: State, diags: Diagnostics) -> State | None:
        from .api import HumanitecError, NotFound

        client = self._provider.client
        app_id, webhook_id = _ids(planned)
        try:
            response = client.update_webhook(app_id, webhook_id, request_from_state(planned))
        except NotFound:
            diags.error(
                "Webhook Not Found",
                f"The webhook ({webhook_id}) was deleted outside Terraform during this run. "
                "Run terraform apply again to create it.",
            )
            return None
        except HumanitecError as exc:
            _report(diags, "update", exc)
            return None
        if response.url is not None and response.triggers is not None:
            return state_from_response(response, planned, diags)
        # The PATCH answer may leave url or triggers null (its schema allows it): read back
        # what Humanitec now holds instead of planning a change that did not happen.
        try:
            return state_from_response(client.get_webhook(app_id, webhook_id), planned, diags)
        except HumanitecError as exc:
            diags.warning(
                "Webhook Not Read Back",
                f"The webhook was updated, but reading it back failed ({exc}); the state "
                "holds the planned values until the next refresh.",
            )
            return planned

    def delete(self, prior: State, diags: Diagnostics) -> None:
        from .api import HumanitecError, NotFound

        try:
            self._provider.client.delete_webhook(*_ids(prior))
        except NotFound:
            return  # already gone: the goal of the delete is reached
        except HumanitecError as exc:
            _report(diags, "delete", exc)

    def import_state(self, import_id: str, diags: Diagnostics) -> State | None:
        parts = import_id.split("/")
        if len(parts) != 2 or not all(parts):
            raise DiagnosticError(
                "Unexpected Import Identifier",
                "Expected import identifier with format: app_id/webhook_id. "
                f"Got: {go_quote(import_id)}",
            )
        return {"app_id": parts[0], "id": parts[1]}

    def _adopt(
        self, client: HumanitecClient, planned: State, error: HumanitecError, diags: Diagnostics
    ) -> State | None:
        """After a create whose outcome is unclear: the webhook if it is ours, else an error."""
        from .api import HumanitecError, NotFound

        app_id, webhook_id = _ids(planned)
        try:
            found = client.get_webhook(app_id, webhook_id)
        except NotFound:
            _report(diags, "create", error)
            return None
        except HumanitecError as exc:
            diags.error(
                "Webhook Creation Outcome Unknown",
                f"Creating webhook {webhook_id!r} failed ({error}) and checking whether it "
                f"exists failed too ({exc}). Check in Humanitec; if it exists, import it "
                f"with {_import_hint(app_id, webhook_id)}.",
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

    def _application_exists(self, client: HumanitecClient, app_id: str, diags: Diagnostics) -> bool:
        """Tell "this webhook is gone" from "this org or app is wrong" before forgetting it."""
        from .api import HumanitecError, NotFound

        try:
            client.list_webhooks(app_id)
        except NotFound:
            diags.error(
                "Application Not Found",
                f"Humanitec has no application {app_id!r} in organization "
                f"{self._provider.org_id!r}, so its webhooks cannot be read. Check org_id and "
                "app_id. If the application was deleted, remove its webhooks from the state "
                "with terraform state rm.",
                ("app_id",),
            )
            return False
        except HumanitecError as exc:
            _report(diags, "read", exc)
            return False
        return True


def _ids(state: State) -> tuple[str, str]:
    """(app_id, webhook_id): where the webhook lives in the API."""
    return str(state["app_id"]), str(state["id"])


def _import_hint(app_id: str, webhook_id: str) -> str:
    return f'an import block (id = "{app_id}/{webhook_id}")'


# A gateway error may hide a create that Humanitec did apply.
_MAYBE_APPLIED = frozenset({502, 503, 504})


def _report(diags: Diagnostics, action: str, error: HumanitecError) -> None:
    """The official provider's two kinds of failure: client (transport) and API (status)."""
    from .api import TransportError

    summary = (
        "Humanitec Client Error" if isinstance(error, TransportError) else "Humanitec API Error"
    )
    diags.error(summary, f"Unable to {action} webhook, got error: {error}")


def go_quote(text: str) -> str:
    """``text`` quoted as Go's ``%q`` does, for messages that match the official provider."""
    out = ['"']
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
