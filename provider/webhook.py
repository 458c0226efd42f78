"""``humanitec_webhook``: a Humanitec webhook, managed through the webhook API.

Endpoints (``{org}`` from the provider, ``{app}`` = ``app_id``, ``{id}`` = ``id``):
create ``POST /orgs/{org}/apps/{app}/webhooks`` (201), read ``GET .../{id}``
(200; 404 removes it from state with a warning), update ``PATCH .../{id}``
with the full body (200), delete ``DELETE .../{id}`` (204; 404 counts as
deleted). Import ids are ``app_id/webhook_id``; the identity (Terraform 1.12+) is
``{app_id, id}``, for import blocks by identity and ``terraform query``
(:mod:`.webhook_list`).

The schema and API calls are the official provider's. Where it is silent or
fragile, this one is safer:

* credentials go in the write-only ``secret_headers_wo``: merged into the
  headers sent, never in state or plan output, rotated by bumping
  ``secret_headers_wo_version``; ``headers`` stays a plain, reviewable map;
* URLs, ids, header names and values and triggers are checked at plan time
  (an event the catalogue does not hold is an error), payload placeholders are
  checked against the triggers' events (:mod:`.placeholders`), and a new
  webhook's application (with the token and org) is checked at plan time, so
  mistakes fail review rather than apply;
* a create whose outcome is unclear looks before it reports, and a create
  that meets 409 adopts the webhook when it is exactly the planned one (a lost
  answer of an earlier apply), so a webhook is neither lost nor created twice;
* an answer that does not show what was written is read back, and one about
  another webhook is never trusted;
* a delete of a webhook already gone succeeds, and a read that finds no
  application (a mistyped org or app) is an error, not a reason to forget
  every webhook.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from .application_check import ApplicationChecks
from .events import EVENTS
from .messages import application_not_found, go_quote, import_hint, report_api_error
from .placeholders import KNOWN_PLACEHOLDERS, check_triggers_provide
from .plugin import log
from .plugin.diagnostics import DiagnosticError, Diagnostics, MapKey
from .plugin.resource import (
    ApplyResponse,
    CreateRequest,
    DeleteRequest,
    DeleteResponse,
    ImportRequest,
    ImportResponse,
    PlanCallsApi,
    PlanRequest,
    PlanResponse,
    ReadRequest,
    ReadResponse,
    State,
    UpdateRequest,
    ValidateRequest,
    ValidateResponse,
)
from .plugin.schema import (
    IdentityAttribute,
    IdentitySchema,
    Schema,
    boolean,
    map_of_strings,
    nested_set,
    number,
    string,
)
from .validators import (
    HEADER_NAMES,
    HEADER_VALUES,
    HTTPS_URL,
    KNOWN_TRIGGERS,
    NOT_EMPTY,
    PATH_SAFE_ID,
    SOME_TRIGGERS,
)
from .webhook_state import (
    WebhookAddress,
    decode_secret_names,
    encode_secret_names,
    headers_set_twice,
    matches,
    request_from_state,
    secret_headers,
    state_from_response,
)

if TYPE_CHECKING:
    from .api import (
        HumanitecClient,
        HumanitecError,
        WebhookRequest,
        WebhookResponse,
        WebhookUpdateResponse,
    )

__all__ = ["SCHEMA", "ClientSource", "WebhookResource"]


def _triggers_description() -> str:
    """The supported triggers, as a table built from the event catalogue."""
    rows = [("scope", "type"), *((e.scope, e.type) for e in EVENTS)]
    width = [max(len(row[i]) for row in rows) for i in (0, 1)]
    lines = [f"| {s.ljust(width[0])} | {t.ljust(width[1])} |" for s, t in rows]
    lines.insert(1, f"|{'-' * (width[0] + 2)}|{'-' * (width[1] + 2)}|")
    table = "\n".join(lines)
    return f"A list of Events by which the Job is triggered, supported triggers are:\n\n{table}\n"


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
            "Custom webhook headers. Put credentials in `secret_headers_wo` instead: "
            "these values are shown in plans and kept in state.",
            optional=True,
            computed=True,
            default={},
            validators=(HEADER_NAMES, HEADER_VALUES),
        ),
        "payload": map_of_strings(
            "Customize payload. Humanitec fills placeholders such as `${app_id}`; write them "
            "as `$${app_id}` in HCL so Terraform passes them through.",
            optional=True,
            validators=(KNOWN_PLACEHOLDERS,),
        ),
        "triggers": nested_set(
            _triggers_description(),
            {
                "scope": string("Scope of the trigger", required=True),
                "type": string("Type of the trigger", required=True),
            },
            required=True,
            validators=(KNOWN_TRIGGERS, SOME_TRIGGERS),
        ),
        "secret_headers_wo": map_of_strings(
            "Write-only headers (Terraform 1.11+), merged into `headers` when sent, e.g. "
            "credentials. Their values never reach state, plan output or logs; their names "
            "are remembered so a refresh keeps them out of `headers` (an imported webhook "
            "shows them in `headers` until they are moved here). A change is not detected: "
            "bump `secret_headers_wo_version` to send new values.",
            optional=True,
            # Not marked sensitive: a write-only value never reaches state or plan output
            # anyway (Terraform shows it as "write-only attribute"), and the mark would put
            # a sensitive_attributes entry in every instance's state, which Terraform writes
            # out whole after each resource of an apply or destroy (most of its CPU at
            # N=1000: python -m benchmarks.terraform_profile). Terraform before 1.11 would
            # keep the value, so validate refuses it there (servicer.py).
            write_only=True,
            validators=(HEADER_NAMES, HEADER_VALUES),
        ),
        "secret_headers_wo_version": number(
            "Change this number to send the current `secret_headers_wo` values, e.g. to "
            "rotate a credential.",
            optional=True,
        ),
    },
    identity=IdentitySchema(
        {
            "app_id": IdentityAttribute("The ID of the Application the Webhook belongs to."),
            "id": IdentityAttribute("The ID of the Webhook."),
        }
    ),
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
    plan_calls_api: PlanCallsApi = "creates"  # the token, org and app check of a new webhook

    def __init__(self, provider: ClientSource) -> None:
        self._provider = provider
        self._app_checks = ApplicationChecks()
        self._held = HeldWebhooks()

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        response = ValidateResponse()
        _check_headers_set_once(req.config, response.diagnostics)
        check_triggers_provide(
            req.config.get("payload"), req.config.get("triggers"), response.diagnostics
        )
        return response

    def plan(self, req: PlanRequest) -> PlanResponse:
        # Apply computes the new names from the configuration; the plan carries the names
        # held before it, so that a failed update can leave them as they were.
        before = decode_secret_names(req.prior_private)
        response = PlanResponse(req.planned, private=encode_secret_names(before, "before"))
        app_id = req.planned.get("app_id")
        if req.prior is None and isinstance(app_id, str):
            # Fail a wrong token, org or app in review, not after merge at apply.
            response.diagnostics.extend(
                self._app_checks.check(self._provider.client, self._provider.org_id, app_id)
            )
        return response

    def create(self, req: CreateRequest) -> ApplyResponse:
        response = ApplyResponse(private=_private(req.config))
        diags = response.diagnostics
        if not _check_headers_set_once(req.config, diags):
            return response
        client = self._provider.client
        sent = self._request(client, req.planned, req.config)
        names = decode_secret_names(response.private or b"")
        response.state = self._post(client, req.planned, sent, names, diags)
        if response.state is not None:
            self._held.add(client, WebhookAddress.of(req.planned))
        return response

    def _post(
        self,
        client: HumanitecClient,
        planned: State,
        sent: WebhookRequest,
        names: frozenset[str],
        diags: Diagnostics,
        *,
        again: bool = True,
    ) -> State | None:
        """POST the webhook: the state it leaves, or None with the error in ``diags``.
        ``again``: a 409 for an id that no application holds by the time we look may POST
        once more (see ``_claim``)."""
        from .api import Conflict, HumanitecError

        try:
            answer = client.create_webhook(WebhookAddress.of(planned).app_id, sent)
        except Conflict as exc:
            return self._claim(client, planned, sent, names, exc, diags, again=again)
        except HumanitecError as exc:
            if _may_have_applied(exc):
                # The POST may have been applied before the connection, a gateway or the
                # answer failed. The id is ours, so look before reporting, rather than lose it.
                return self._recover(client, planned, sent, names, exc, diags)
            report_api_error(diags, "create", exc)  # refused, or nothing reached Humanitec
            return None
        return self._settle(client, planned, sent, names, answer, diags)

    def read(self, req: ReadRequest) -> ReadResponse:
        from .api import HumanitecError, NotFound

        response = ReadResponse()
        diags = response.diagnostics
        client = self._provider.client
        app_id, webhook_id = WebhookAddress.of(req.state)
        try:
            found = client.get_webhook(app_id, webhook_id)
        except NotFound:
            if self._application_exists(client, app_id, diags):
                diags.warning(
                    "Webhook Not Found",
                    f"The webhook ({webhook_id}) was deleted outside Terraform; it is removed "
                    "from the state and the next apply creates it again.",
                )
            return response
        except HumanitecError as exc:
            report_api_error(diags, "read", exc)
            return response
        names = decode_secret_names(req.private)
        response.state = state_from_response(found, req.state, diags, names)
        return response

    def update(self, req: UpdateRequest) -> ApplyResponse:
        from .api import HumanitecError, NotFound

        # Until the update succeeds, the secret header names stay those held before it.
        response = ApplyResponse(
            private=encode_secret_names(decode_secret_names(req.planned_private, "before"))
        )
        diags = response.diagnostics
        if not _check_headers_set_once(req.config, diags):
            return response
        if req.planned == req.prior:
            # Terraform plans an update when only a sensitivity mark changed: state written
            # while secret_headers_wo was marked sensitive records a path this version's
            # schema no longer marks. Humanitec holds these values already (the prior state
            # is what a refresh read), and secret values alone go out on a version bump only.
            response.state = req.planned
            return response
        client = self._provider.client
        app_id, webhook_id = WebhookAddress.of(req.planned)
        sent = self._request(client, req.planned, req.config)
        try:
            answer = client.update_webhook(app_id, webhook_id, sent)
        except NotFound:
            diags.error(
                "Webhook Not Found",
                f"The webhook ({webhook_id}) was deleted outside Terraform during this run. "
                "Run terraform apply again to create it.",
            )
            return response
        except HumanitecError as exc:
            report_api_error(diags, "update", exc)
            return response
        response.private = _private(req.config)
        names = decode_secret_names(response.private)
        response.state = self._settle(client, req.planned, sent, names, answer, diags)
        return response

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        from .api import HumanitecError, NotFound

        response = DeleteResponse()
        client = self._provider.client
        app_id, webhook_id = WebhookAddress.of(req.prior)
        if self._held.holds(client, (app_id, webhook_id)):
            # This process created or adopted this very webhook for another resource
            # instance (create_before_destroy, or a block renamed without `moved`):
            # deleting the old instance would delete the new one.
            response.diagnostics.warning(
                "Webhook Kept",
                f"Webhook {webhook_id!r} of application {app_id!r} was not deleted: another "
                "resource instance of this apply now manages it.",
            )
            return response
        try:
            client.delete_webhook(app_id, webhook_id)
        except NotFound:
            pass  # already gone: the goal of the delete is reached
        except HumanitecError as exc:
            report_api_error(response.diagnostics, "delete", exc)
        return response

    def import_state(self, req: ImportRequest) -> ImportResponse:
        if req.identity is not None:
            ids = [req.identity.get("app_id"), req.identity.get("id")]
            if not all(isinstance(v, str) and v for v in ids):
                raise DiagnosticError(
                    "Unexpected Import Identity",
                    "Expected an identity with a non-empty app_id and id.",
                )
            return ImportResponse(state={"app_id": ids[0], "id": ids[1]})
        parts = req.id.split("/")
        if len(parts) != 2 or not all(parts):
            raise DiagnosticError(
                "Unexpected Import Identifier",
                "Expected import identifier with format: app_id/webhook_id. "
                f"Got: {go_quote(req.id)}",
            )
        return ImportResponse(state={"app_id": parts[0], "id": parts[1]})

    def _request(self, client: HumanitecClient, planned: State, config: State) -> WebhookRequest:
        """The body to send, secret headers merged in and registered for redaction."""
        secrets = secret_headers(config)
        if secrets:
            client.add_secrets(secrets.values())
            for value in secrets.values():
                log.redact(value)
        return request_from_state(planned, secrets)

    def _settle(
        self,
        client: HumanitecClient,
        planned: State,
        sent: WebhookRequest,
        names: frozenset[str],
        answer: WebhookResponse | WebhookUpdateResponse,
        diags: Diagnostics,
    ) -> State:
        """The state after a successful write. An answer that does not show what was sent
        (url null, odd values, another id) is not trusted: read back what Humanitec holds."""
        from .api import HumanitecError

        if matches(answer, sent):
            return state_from_response(answer, planned, diags, names)
        app_id, webhook_id = WebhookAddress.of(planned)
        try:
            found = client.get_webhook(app_id, webhook_id)
        except HumanitecError as exc:
            diags.warning(
                "Webhook Not Read Back",
                f"The webhook was written, but Humanitec's answer was incomplete and reading "
                f"it back failed ({exc}); the state holds the planned values until the next "
                "refresh.",
            )
            return planned
        return state_from_response(found, planned, diags, names)

    def _recover(
        self,
        client: HumanitecClient,
        planned: State,
        sent: WebhookRequest,
        names: frozenset[str],
        error: HumanitecError,
        diags: Diagnostics,
    ) -> State | None:
        """After a create whose outcome is unclear: the webhook if it is ours, else an error."""
        from .api import HumanitecError, NotFound

        app_id, webhook_id = WebhookAddress.of(planned)
        try:
            found = client.get_webhook(app_id, webhook_id)
        except NotFound:
            report_api_error(diags, "create", error)
            return None
        except HumanitecError as exc:
            diags.error(
                "Webhook Creation Outcome Unknown",
                f"Creating webhook {webhook_id!r} failed ({error}) and checking whether it "
                f"was created failed too ({exc}). Run terraform apply again: if Humanitec "
                "holds this webhook as planned, the next apply adopts it.",
                ("id",),
            )
            return None
        if not matches(found, sent):
            diags.error(
                "Webhook Already Exists",
                f"Creating webhook {webhook_id!r} failed ({error}), and application "
                f"{app_id!r} holds a different webhook with that id. Choose another id, or "
                f"bring it under Terraform with {import_hint(app_id, webhook_id)}.",
                ("id",),
            )
            return None
        return state_from_response(found, planned, diags, names)

    def _claim(
        self,
        client: HumanitecClient,
        planned: State,
        sent: WebhookRequest,
        names: frozenset[str],
        conflict: HumanitecError,
        diags: Diagnostics,
        *,
        again: bool,
    ) -> State | None:
        """The id is taken (409): adopt the webhook if it is exactly the planned one, which
        heals a create whose success was lost; otherwise name who holds the id.

        When no application holds it any more, it was deleted after the 409, as when a block
        renamed without ``moved`` is destroyed beside the create of its successor: with
        ``again``, POST once more.
        """
        from .api import HumanitecError, NotFound

        app_id, webhook_id = WebhookAddress.of(planned)
        org_id = self._provider.org_id
        try:
            found = client.get_webhook(app_id, webhook_id)
        except NotFound:
            found = None
        except HumanitecError as exc:
            diags.error(
                "Webhook Already Exists",
                f"A webhook with id {webhook_id!r} already exists in organization {org_id!r} "
                f"({conflict}), and looking it up failed ({exc}). Run terraform apply again.",
                ("id",),
            )
            return None
        if (
            found is not None
            and matches(found, sent)
            and self._held.holds(client, (app_id, webhook_id))
        ):
            diags.error(
                "Webhook Already Exists",
                f"Another resource instance of this configuration already manages webhook "
                f"{webhook_id!r} of application {app_id!r}: webhook ids are unique in an "
                "organization, so give each humanitec_webhook its own id.",
                ("id",),
            )
            return None
        if found is not None and matches(found, sent):
            if getattr(conflict, "earlier_attempt_may_have_applied", False):
                # An earlier attempt of this very call was applied: the webhook is ours.
                return state_from_response(found, planned, diags, names)
            diags.warning(
                "Existing Webhook Adopted",
                f"Application {app_id!r} already held webhook {webhook_id!r} exactly as "
                "planned (for example from an earlier apply whose answer was lost), so "
                "Terraform now manages it instead of creating another.",
            )
            return state_from_response(found, planned, diags, names)
        holder: str | None
        if found is not None:
            holder, detail = app_id, "with different settings"
        else:
            holder, detail = self._holder(client, webhook_id, app_id), "in another application"
            if holder is None and again:
                return self._post(client, planned, sent, names, diags, again=False)
        where = f"application {holder!r}" if holder else "an application this token cannot read"
        hint = (
            f'bring it under Terraform with {import_hint(holder, webhook_id)} (app_id = "{holder}")'
            if holder
            else "check in Humanitec which application holds it"
        )
        diags.error(
            "Webhook Already Exists",
            f"Webhook ids are unique in an organization, and {where} of organization "
            f"{org_id!r} already holds {webhook_id!r} {detail}. Choose another id, or {hint}.",
            ("id",),
        )
        return None

    def _holder(self, client: HumanitecClient, webhook_id: str, skip: str) -> str | None:
        """Which application holds ``webhook_id``; None if none can be found."""
        from .api import HumanitecError, NotFound

        try:
            apps = [a.id for a in client.list_applications() if a.id != skip]
        except HumanitecError:
            return None
        for app in apps:
            try:
                client.get_webhook(app, webhook_id)
            except NotFound:
                continue
            except HumanitecError:
                return None
            return app
        return None

    def _application_exists(self, client: HumanitecClient, app_id: str, diags: Diagnostics) -> bool:
        """Tell "this webhook is gone" from "this org or app is wrong" before forgetting it."""
        from .api import HumanitecError, NotFound

        try:
            client.list_webhooks(app_id)
        except NotFound:
            application_not_found(
                diags,
                app_id,
                self._provider.org_id,
                ", so its webhooks cannot be read",
                " If the application was deleted, remove its webhooks from the state with "
                "terraform state rm.",
            )
            return False
        except HumanitecError as exc:
            report_api_error(diags, "read", exc)
            return False
        return True


class HeldWebhooks:
    """The (app_id, id) pairs created or adopted in this command; thread-safe.

    One provider process applies a whole plan, so this tells a
    create_before_destroy replacement (or a renamed block), whose new instance
    adopted the webhook, from a real delete, and two blocks with one id from a
    lost answer. The command is told by its API client, built anew for each
    ConfigureProvider: under reattach one process serves many commands.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._command: object = None
        self._pairs: set[tuple[str, str]] = set()

    def add(self, command: object, pair: tuple[str, str]) -> None:
        with self._lock:
            self._switch(command)
            self._pairs.add(pair)

    def holds(self, command: object, pair: tuple[str, str]) -> bool:
        with self._lock:
            self._switch(command)
            return pair in self._pairs

    def _switch(self, command: object) -> None:
        if command is not self._command:
            self._command, self._pairs = command, set()


def _check_headers_set_once(config: State, diags: Diagnostics) -> bool:
    """An error for each secret header ``headers`` sets too; at validate, and again at
    apply where values unknown at validate are known."""
    twice = headers_set_twice(config)
    for name in twice:
        diags.error(
            "Header Set Twice",
            f"The header {name!r} is in both headers and secret_headers_wo (header names "
            "ignore case). Keep it in one of them: secret_headers_wo for credentials.",
            ("secret_headers_wo", MapKey(name)),
        )
    return not twice


def _private(config: State) -> bytes:
    """The private state an apply leaves: the names of the secret headers sent."""
    secrets = secret_headers(config)
    return encode_secret_names(secrets) if secrets else b""


def _may_have_applied(error: HumanitecError) -> bool:
    """Whether a failed create may still have created the webhook.

    A 4xx other than 408/429 is a refusal, and a transport failure before
    sending reached nothing, unless an earlier attempt of the call was applied.
    """
    from .api import ApiError, TransportError

    if isinstance(error, TransportError):
        return error.may_have_applied
    if isinstance(error, ApiError):
        refused = 400 <= error.status_code < 500 and error.status_code not in (408, 429)
        return not refused or error.earlier_attempt_may_have_applied
    return True
