"""Data sources ``humanitec_webhook`` and ``humanitec_webhooks``: read webhooks, manage none.

Endpoints (``{org}`` from the provider, ``{app}`` = ``app_id``):
``GET /orgs/{org}/apps/{app}/webhooks/{id}`` for one webhook and
``GET .../webhooks`` for all of an application's webhooks.

Values follow the resource's rules (:func:`~.webhook_state.webhook_values`):
a non-string header or payload value is shown as its JSON text with a
warning, empty headers are ``{}`` and an empty payload is null. No attribute
is sensitive, so ids and URLs can go into outputs as they are; that includes
``headers``, which hold every header Humanitec stores, so keep credentials
out of configurations that output them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import application_not_found, report_api_error
from .plugin import cty
from .plugin.diagnostics import DiagnosticError, Diagnostics
from .plugin.resource import (
    DataReadRequest,
    DataReadResponse,
    ValidateRequest,
    ValidateResponse,
)
from .plugin.schema import (
    Attribute,
    Schema,
    boolean,
    map_of_strings,
    nested_list,
    nested_set,
    string,
)
from .validators import NOT_EMPTY, PATH_SAFE_ID
from .webhook import ClientSource
from .webhook_state import WebhookAddress, app_id_of, webhook_values

if TYPE_CHECKING:
    from .api import HumanitecClient

__all__ = ["WEBHOOKS_SCHEMA", "WEBHOOK_SCHEMA", "WebhookDataSource", "WebhooksDataSource"]


def _computed() -> dict[str, Attribute]:
    """What both data sources show of a webhook, all computed."""
    return {
        "url": string("The webhook's URL.", computed=True),
        "disabled": boolean("Whether this job is currently disabled.", computed=True),
        "headers": map_of_strings(
            "The webhook's headers (`{}` when it has none), including those a resource sets "
            "through `secret_headers_wo`: this map is not sensitive, so keep it out of outputs "
            "when it holds credentials.",
            computed=True,
        ),
        "payload": map_of_strings("The webhook's payload (null when it has none).", computed=True),
        "triggers": nested_set(
            "The events that trigger the webhook.",
            {
                "scope": string("Scope of the trigger, e.g. `deployment`.", computed=True),
                "type": string("Type of the trigger, e.g. `started`.", computed=True),
            },
            computed=True,
        ),
    }


def _app_id(description: str) -> Attribute:
    return string(description, required=True, validators=(NOT_EMPTY, PATH_SAFE_ID))


WEBHOOK_SCHEMA = Schema(
    description="Reads one webhook of an application.",
    attributes={
        "id": string("The ID of the Webhook.", required=True, validators=(NOT_EMPTY, PATH_SAFE_ID)),
        "app_id": _app_id("The ID of the Application that the Webhook belongs to."),
        **_computed(),
    },
)

WEBHOOKS_SCHEMA = Schema(
    description="Lists the webhooks of an application.",
    attributes={
        "app_id": _app_id("The ID of the Application whose webhooks to list."),
        "webhooks": nested_list(
            "The application's webhooks, sorted by `id`.",
            {"id": string("The ID of the Webhook.", computed=True), **_computed()},
            computed=True,
        ),
    },
)


class WebhookDataSource:
    """``data "humanitec_webhook"``: one webhook; a missing one is an error."""

    type_name = "humanitec_webhook"
    schema = WEBHOOK_SCHEMA

    def __init__(self, provider: ClientSource) -> None:
        self._provider = provider

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        return ValidateResponse()

    def read(self, req: DataReadRequest) -> DataReadResponse:
        from .api import HumanitecError, NotFound

        response = DataReadResponse()
        diags = response.diagnostics
        client = self._provider.client
        app_id, webhook_id = WebhookAddress.of(req.config)
        try:
            found = client.get_webhook(app_id, webhook_id)
        except NotFound:
            what = f", so webhook {webhook_id!r} cannot be read"
            if _application_exists(client, app_id, self._provider.org_id, what, diags):
                diags.error(
                    "Webhook Not Found",
                    f"Application {app_id!r} of organization {self._provider.org_id!r} has no "
                    f"webhook {webhook_id!r}. Check id and app_id.",
                    ("id",),
                )
            return response
        except HumanitecError as exc:
            report_api_error(diags, "read", exc)
            return response
        if found.id != webhook_id:
            raise DiagnosticError(
                "Unexpected API Response",
                f"Humanitec was asked for webhook {webhook_id!r} and answered with webhook "
                f"{found.id!r}. The answer is not trusted.",
                ("id",),
            )
        response.state = {"id": webhook_id, "app_id": app_id, **webhook_values(found, diags)}
        return response


class WebhooksDataSource:
    """``data "humanitec_webhooks"``: every webhook of an application."""

    type_name = "humanitec_webhooks"
    schema = WEBHOOKS_SCHEMA

    def __init__(self, provider: ClientSource) -> None:
        self._provider = provider

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        return ValidateResponse()

    def read(self, req: DataReadRequest) -> DataReadResponse:
        from .api import HumanitecError, NotFound

        response = DataReadResponse()
        diags = response.diagnostics
        app_id = app_id_of(req.config)
        try:
            found = self._provider.client.list_webhooks(app_id)
        except NotFound:
            application_not_found(
                diags, app_id, self._provider.org_id, ", so its webhooks cannot be listed"
            )
            return response
        except HumanitecError as exc:
            report_api_error(diags, "list", exc, noun="webhooks")
            return response
        ordered = sorted(found, key=lambda w: w.id)
        webhooks: list[cty.Value] = [
            {"id": w.id, **webhook_values(w, diags, ("webhooks", i))} for i, w in enumerate(ordered)
        ]
        response.state = {"app_id": app_id, "webhooks": webhooks}
        return response


def _application_exists(
    client: HumanitecClient, app_id: str, org_id: str, what: str, diags: Diagnostics
) -> bool:
    """Tell a missing webhook from a missing application (a mistyped org or app)."""
    from .api import HumanitecError, NotFound

    try:
        client.list_webhooks(app_id)
    except NotFound:
        application_not_found(diags, app_id, org_id, what)
        return False
    except HumanitecError:
        return True  # unknown: report the missing webhook, which is certain
    return True
