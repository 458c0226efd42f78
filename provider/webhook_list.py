"""The ``humanitec_webhook`` list resource: an application's webhooks, for ``terraform query``.

Lists ``GET /orgs/{org}/apps/{app}/webhooks``. Each webhook comes with the
state an import of it would read, so that ``terraform query
-generate-config-out=FILE`` writes blocks that import and then plan empty.
"""

from __future__ import annotations

from collections.abc import Iterator

from .messages import application_not_found, report_api_error
from .plugin.resource import ListRequest, ListResult, State
from .plugin.schema import Schema, string
from .validators import NOT_EMPTY, PATH_SAFE_ID
from .webhook import ClientSource
from .webhook_state import app_id_of, state_from_response

__all__ = ["LIST_SCHEMA", "WebhookListResource"]

LIST_SCHEMA = Schema(
    description="Lists the webhooks of one application.",
    attributes={
        "app_id": string(
            "The ID of the Application whose Webhooks are listed.",
            required=True,
            validators=(NOT_EMPTY, PATH_SAFE_ID),
        ),
    },
)


class WebhookListResource:
    """Lists ``humanitec_webhook`` objects; identity ``{app_id, id}``, named ``app_id/id``."""

    type_name = "humanitec_webhook"
    schema = LIST_SCHEMA

    def __init__(self, provider: ClientSource) -> None:
        self._provider = provider

    def list(self, req: ListRequest) -> Iterator[ListResult]:
        from .api import HumanitecError, NotFound

        app_id = app_id_of(req.config)
        failed = ListResult()
        try:
            webhooks = self._provider.client.list_webhooks(app_id)
        except NotFound:
            application_not_found(failed.diagnostics, app_id, self._provider.org_id, "")
            yield failed
            return
        except HumanitecError as exc:
            report_api_error(failed.diagnostics, "list", exc, noun="webhooks")
            yield failed
            return
        for webhook in webhooks[: req.limit] if req.limit > 0 else webhooks:
            result = ListResult(display_name=f"{app_id}/{webhook.id}")
            # As an import of it would start: the ids, nothing else held yet.
            reference: State = {"app_id": app_id, "id": webhook.id}
            result.state = state_from_response(webhook, reference, result.diagnostics)
            yield result
