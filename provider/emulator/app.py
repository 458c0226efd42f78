"""The emulator's HTTP API: Humanitec's webhook endpoints, as the OpenAPI document describes,
plus the environment and deployment endpoints that fire events (``environments.py``).

Routes (all need ``Authorization: Bearer <token>``, else 401)::

    GET    /orgs/{org}/apps                       200 [app]
    POST   /orgs/{org}/apps                       201 app | 400 | 409
    GET    /orgs/{org}/apps/{app}                 200 app | 404
    GET    /orgs/{org}/apps/{app}/webhooks        200 [WebhookResponse] | 404
    POST   /orgs/{org}/apps/{app}/webhooks        201 WebhookResponse | 400 | 404 | 409
    GET    /orgs/{org}/apps/{app}/webhooks/{id}   200 WebhookResponse | 404
    PATCH  /orgs/{org}/apps/{app}/webhooks/{id}   200 WebhookUpdateResponse | 400 | 404
    DELETE /orgs/{org}/apps/{app}/webhooks/{id}   204 | 404
    GET    /orgs/{org}/events                     200 [EventResponse], from provider.events
    …      /orgs/{org}/apps/{app}/envs[/{env}[/deploys[/{id}]]]   see environments.py
    GET    /_emulator/deliveries[?wait=SECONDS]   200 [DeliveryAttempt]: every delivery attempt,
                                                  after waiting (at most SECONDS) for the
                                                  deliveries and deployments under way

Every error body is a ``HumanitecErrorResponse``. The emulator stores and echoes exactly
what the client sent; only absent fields get defaults on create (``disabled`` false,
``headers`` {}, ``payload`` null, ``triggers`` []). That is what lets Terraform's
plan/apply/import round trip without diffs.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pydantic
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from provider.api.models import (
    EventBaseResponse,
    WebhookRequest,
    WebhookResponse,
    WebhookUpdateResponse,
)
from provider.emulator._http import (
    RequestError,
    error_response,
    json_object,
    json_response,
    param,
    parse,
    timestamp,
)
from provider.emulator.controls import DEFAULT_DEPLOY_DURATION, DELIVERIES_PATH
from provider.emulator.delivery import Dispatcher
from provider.emulator.environments import EnvironmentApi
from provider.emulator.events import event_responses
from provider.emulator.store import Application, Conflict, StoreError, WebhookStore

__all__ = ["DEFAULT_USER_ID", "MAX_WAIT", "create_app"]

DEFAULT_USER_ID = "emulator-user"
MAX_WAIT = 60.0
"""The longest ``GET /_emulator/deliveries?wait=`` waits, in seconds."""


class _AppRequest(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(strict=True, extra="ignore")

    id: str
    name: str | None = None


def create_app(
    store: WebhookStore,
    token: str,
    *,
    user_id: str = DEFAULT_USER_ID,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    dispatcher: Dispatcher | None = None,
    deploy_duration: float = DEFAULT_DEPLOY_DURATION,
) -> Starlette:
    """The ASGI app serving ``store``, accepting only ``Authorization: Bearer <token>``.

    ``user_id`` is reported as ``created_by`` and ``${triggered_by}``; ``clock`` stamps
    ``created_at``. ``dispatcher`` delivers the events (by default one with default
    settings; whoever passes one closes its ``background``); a deployment finishes
    ``deploy_duration`` seconds after it started.
    """
    if not token:
        raise ValueError("token must not be empty")
    dispatcher = Dispatcher(store) if dispatcher is None else dispatcher
    api = _WebhookApi(store, user_id, clock)
    lifecycle = EnvironmentApi(
        store, dispatcher, user_id=user_id, clock=clock, deploy_duration=deploy_duration
    )
    webhooks = "/orgs/{org_id}/apps/{app_id}/webhooks"
    envs = "/orgs/{org_id}/apps/{app_id}/envs"

    async def list_deliveries(request: Request) -> Response:
        wait = _wait_seconds(request.query_params.get("wait"))
        if wait:
            await run_in_threadpool(dispatcher.background.wait_idle, wait)
        return json_response([entry.model_dump(mode="json") for entry in dispatcher.log.entries()])

    app = Starlette(
        routes=[
            _route("/orgs/{org_id}/apps", GET=api.list_applications, POST=api.create_application),
            Route("/orgs/{org_id}/apps/{app_id}", api.get_application, methods=["GET"]),
            _route(webhooks, GET=api.list_webhooks, POST=api.create_webhook),
            _route(
                webhooks + "/{job_id}",
                GET=api.get_webhook,
                PATCH=api.update_webhook,
                DELETE=api.delete_webhook,
            ),
            Route("/orgs/{org_id}/events", _list_events, methods=["GET"]),
            _route(envs, GET=lifecycle.list_environments, POST=lifecycle.create_environment),
            _route(
                envs + "/{env_id}",
                GET=lifecycle.get_environment,
                DELETE=lifecycle.delete_environment,
            ),
            _route(
                envs + "/{env_id}/deploys",
                GET=lifecycle.list_deployments,
                POST=lifecycle.create_deployment,
            ),
            Route(
                envs + "/{env_id}/deploys/{deploy_id}", lifecycle.get_deployment, methods=["GET"]
            ),
            Route(DELIVERIES_PATH, list_deliveries, methods=["GET"]),
        ],
        middleware=[Middleware(_RequireBearer, token=token), Middleware(_RouteOnRawPath)],
        exception_handlers={
            HTTPException: _http_exception,
            StoreError: _store_error,
            RequestError: _request_error,
        },
    )
    app.router.redirect_slashes = False  # an API answers 404, not a redirect
    return app


def _route(path: str, **handlers: Callable[[Request], Awaitable[Response]]) -> Route:
    """One route serving several methods, so a 405 lists them all in ``Allow``."""

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method](request)

    return Route(path, dispatch, methods=list(handlers))


class _WebhookApi:
    def __init__(self, store: WebhookStore, user_id: str, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._user_id = user_id
        self._clock = clock

    async def create_application(self, request: Request) -> Response:
        body = parse(_AppRequest, await json_object(request))
        if not body.id:
            raise RequestError(400, "id is required")
        app = Application(
            org_id=param(request, "org_id"),
            id=body.id,
            name=body.id if body.name is None else body.name,
            created_at=timestamp(self._clock()),
            created_by=self._user_id,
        )
        return json_response(self._store.create_app(app).model_dump(mode="json"), 201)

    async def list_applications(self, request: Request) -> Response:
        apps = self._store.list_apps(param(request, "org_id"))
        return json_response([app.model_dump(mode="json") for app in apps])

    async def get_application(self, request: Request) -> Response:
        app = self._store.get_app(param(request, "org_id"), param(request, "app_id"))
        return json_response(app.model_dump(mode="json"))

    async def list_webhooks(self, request: Request) -> Response:
        hooks = self._store.list_webhooks(param(request, "org_id"), param(request, "app_id"))
        return json_response([hook.model_dump(mode="json") for hook in hooks])

    async def get_webhook(self, request: Request) -> Response:
        hook = self._store.get_webhook(*_webhook_key(request))
        return json_response(hook.model_dump(mode="json"))

    async def create_webhook(self, request: Request) -> Response:
        body = _webhook_request(await json_object(request))
        if not body.id:
            raise RequestError(400, "id is required")
        if body.url is None:
            raise RequestError(400, "url is required")
        sent = body.model_fields_set
        hook = WebhookResponse(
            id=body.id,
            disabled=body.disabled if "disabled" in sent else False,
            headers=body.headers if "headers" in sent else {},
            payload=body.payload,
            triggers=_triggers(body),
            url=body.url,
            created_at=timestamp(self._clock()),
            created_by=self._user_id,
        )
        self._store.create_webhook(param(request, "org_id"), param(request, "app_id"), hook)
        return json_response(hook.model_dump(mode="json"), 201)

    async def update_webhook(self, request: Request) -> Response:
        org_id, app_id, job_id = _webhook_key(request)
        body = _webhook_request(await json_object(request))
        if body.id is not None and body.id != job_id:
            raise RequestError(
                400, f'id "{body.id}" in the body does not match "{job_id}" in the URL'
            )
        # PATCH changes exactly the fields present, so a present "payload": null clears it.
        changes = body.model_dump(mode="json", include=body.model_fields_set - {"id"})
        if "triggers" in changes:
            changes["triggers"] = [t.model_dump() for t in _triggers(body)]
        hook = self._store.update_webhook(org_id, app_id, job_id, changes)
        reply = WebhookUpdateResponse.model_validate(hook.model_dump())
        return json_response(reply.model_dump(mode="json"))

    async def delete_webhook(self, request: Request) -> Response:
        self._store.delete_webhook(*_webhook_key(request))
        return Response(status_code=204)


async def _list_events(_request: Request) -> Response:
    return json_response([event.model_dump(mode="json") for event in event_responses()])


def _wait_seconds(value: str | None) -> float:
    if value is None:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_WAIT:  # NaN included
        raise RequestError(400, f"wait must be a number of seconds from 0 to {MAX_WAIT:g}")
    return seconds


class _RequireBearer:
    """Answers 401 unless the request carries ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scheme, _, credentials = (
                dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
            )
            # The scheme is case-insensitive (RFC 9110); the token is compared in constant time.
            if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials, self._token):
                response = error_response(401, "Could not validate token.", code="API-000")
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


class _RouteOnRawPath:
    """Routes on the still-encoded path, so an id containing ``%2F`` stays one segment.

    Path parameters therefore arrive percent-encoded; ``param`` decodes them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path")
        if scope["type"] == "http" and raw_path is not None:
            scope = {**scope, "path": raw_path.decode("latin-1")}
        await self._app(scope, receive, send)


def _webhook_key(request: Request) -> tuple[str, str, str]:
    return param(request, "org_id"), param(request, "app_id"), param(request, "job_id")


def _webhook_request(data: dict[str, Any]) -> WebhookRequest:
    return parse(WebhookRequest, data)


def _triggers(body: WebhookRequest) -> list[EventBaseResponse]:
    # A WebhookResponse always has a list (scope and type required): null or absent is [].
    triggers = []
    for index, trigger in enumerate(body.triggers or []):
        if trigger.scope is None or trigger.type is None:
            missing = "scope" if trigger.scope is None else "type"
            raise RequestError(400, f"triggers[{index}].{missing} is required")
        triggers.append(EventBaseResponse(scope=trigger.scope, type=trigger.type))
    return triggers


async def _request_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return error_response(exc.status_code, exc.message)


async def _store_error(_request: Request, exc: Exception) -> Response:
    status = 409 if isinstance(exc, Conflict) else 404
    return error_response(status, str(exc))


async def _http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, exc.detail)
    response.headers.update(exc.headers or {})
    return response
