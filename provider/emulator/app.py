"""The emulator's HTTP API: Humanitec's webhook endpoints, as the OpenAPI document describes.

Routes (all need ``Authorization: Bearer <token>``, else 401)::

    GET    /orgs/{org}/apps                       200 [app]
    POST   /orgs/{org}/apps                       201 app | 400 | 409
    GET    /orgs/{org}/apps/{app}                 200 app | 404
    GET    /orgs/{org}/apps/{app}/webhooks        200 [WebhookResponse] | 404
    POST   /orgs/{org}/apps/{app}/webhooks        201 WebhookResponse | 400 | 404 | 409
    GET    /orgs/{org}/apps/{app}/webhooks/{id}   200 WebhookResponse | 404
    PATCH  /orgs/{org}/apps/{app}/webhooks/{id}   200 WebhookUpdateResponse | 400 | 404
    DELETE /orgs/{org}/apps/{app}/webhooks/{id}   204 | 404
    GET    /orgs/{org}/events                     200 [EventResponse]

Every error body is a ``HumanitecErrorResponse``. The emulator stores and echoes exactly
what the client sent; only absent fields get defaults on create (``disabled`` false,
``headers`` {}, ``payload`` null, ``triggers`` []). That is what lets Terraform's
plan/apply/import round trip without diffs.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pydantic
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from provider.api.models import (
    EventBaseResponse,
    HumanitecErrorResponse,
    WebhookRequest,
    WebhookResponse,
    WebhookUpdateResponse,
)
from provider.emulator.events import EVENTS
from provider.emulator.store import Application, DuplicateId, StoreError, WebhookStore

__all__ = ["DEFAULT_USER_ID", "create_app"]

DEFAULT_USER_ID = "emulator-user"
MAX_BODY_BYTES = 1024 * 1024


class _RequestError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


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
) -> Starlette:
    """The ASGI app serving ``store``, accepting only ``Authorization: Bearer <token>``.

    ``user_id`` is reported as ``created_by``; ``clock`` stamps ``created_at``.
    """
    if not token:
        raise ValueError("token must not be empty")
    api = _WebhookApi(store, user_id, clock)
    webhooks = "/orgs/{org_id}/apps/{app_id}/webhooks"
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
        ],
        middleware=[Middleware(_RequireBearer, token=token), Middleware(_RouteOnRawPath)],
        exception_handlers={
            HTTPException: _http_exception,
            StoreError: _store_error,
            _RequestError: _request_error,
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
        try:
            body = _AppRequest.model_validate(await _json_object(request))
        except pydantic.ValidationError as error:
            raise _RequestError(400, _describe(error)) from None
        if not body.id:
            raise _RequestError(400, "id is required")
        app = Application(
            org_id=_param(request, "org_id"),
            id=body.id,
            name=body.id if body.name is None else body.name,
            created_at=_timestamp(self._clock()),
            created_by=self._user_id,
        )
        return _json(self._store.create_app(app).model_dump(mode="json"), 201)

    async def list_applications(self, request: Request) -> Response:
        apps = self._store.list_apps(_param(request, "org_id"))
        return _json([app.model_dump(mode="json") for app in apps])

    async def get_application(self, request: Request) -> Response:
        app = self._store.get_app(_param(request, "org_id"), _param(request, "app_id"))
        return _json(app.model_dump(mode="json"))

    async def list_webhooks(self, request: Request) -> Response:
        hooks = self._store.list_webhooks(_param(request, "org_id"), _param(request, "app_id"))
        return _json([hook.model_dump(mode="json") for hook in hooks])

    async def get_webhook(self, request: Request) -> Response:
        hook = self._store.get_webhook(*_webhook_key(request))
        return _json(hook.model_dump(mode="json"))

    async def create_webhook(self, request: Request) -> Response:
        body = _webhook_request(await _json_object(request))
        if not body.id:
            raise _RequestError(400, "id is required")
        if body.url is None:
            raise _RequestError(400, "url is required")
        sent = body.model_fields_set
        hook = WebhookResponse(
            id=body.id,
            disabled=body.disabled if "disabled" in sent else False,
            headers=body.headers if "headers" in sent else {},
            payload=body.payload,
            triggers=_triggers(body),
            url=body.url,
            created_at=_timestamp(self._clock()),
            created_by=self._user_id,
        )
        self._store.create_webhook(_param(request, "org_id"), _param(request, "app_id"), hook)
        return _json(hook.model_dump(mode="json"), 201)

    async def update_webhook(self, request: Request) -> Response:
        org_id, app_id, job_id = _webhook_key(request)
        body = _webhook_request(await _json_object(request))
        if body.id is not None and body.id != job_id:
            raise _RequestError(
                400, f'id "{body.id}" in the body does not match "{job_id}" in the URL'
            )
        # PATCH changes exactly the fields present, so a present "payload": null clears it.
        changes = body.model_dump(mode="json", include=body.model_fields_set - {"id"})
        if "triggers" in changes:
            changes["triggers"] = [t.model_dump() for t in _triggers(body)]
        hook = self._store.update_webhook(org_id, app_id, job_id, changes)
        reply = WebhookUpdateResponse.model_validate(hook.model_dump())
        return _json(reply.model_dump(mode="json"))

    async def delete_webhook(self, request: Request) -> Response:
        self._store.delete_webhook(*_webhook_key(request))
        return Response(status_code=204)


async def _list_events(_request: Request) -> Response:
    return _json([event.model_dump(mode="json") for event in EVENTS])


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
                response = _error(401, "Could not validate token.", code="API-000")
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


class _RouteOnRawPath:
    """Routes on the still-encoded path, so an id containing ``%2F`` stays one segment.

    Path parameters therefore arrive percent-encoded; ``_param`` decodes them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path")
        if scope["type"] == "http" and raw_path is not None:
            scope = {**scope, "path": raw_path.decode("latin-1")}
        await self._app(scope, receive, send)


def _param(request: Request, name: str) -> str:
    return unquote(request.path_params[name])


def _webhook_key(request: Request) -> tuple[str, str, str]:
    return _param(request, "org_id"), _param(request, "app_id"), _param(request, "job_id")


async def _json_object(request: Request) -> dict[str, Any]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _RequestError(413, f"Request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except ValueError as error:  # also UnicodeDecodeError
        raise _RequestError(400, f"Request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise _RequestError(400, "Request body must be a JSON object")
    return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _webhook_request(data: dict[str, Any]) -> WebhookRequest:
    try:
        return WebhookRequest.model_validate(data)
    except pydantic.ValidationError as error:
        raise _RequestError(400, _describe(error)) from None


def _triggers(body: WebhookRequest) -> list[EventBaseResponse]:
    # A WebhookResponse always has a list (scope and type required): null or absent is [].
    triggers = []
    for index, trigger in enumerate(body.triggers or []):
        if trigger.scope is None or trigger.type is None:
            missing = "scope" if trigger.scope is None else "type"
            raise _RequestError(400, f"triggers[{index}].{missing} is required")
        triggers.append(EventBaseResponse(scope=trigger.scope, type=trigger.type))
    return triggers


def _describe(error: pydantic.ValidationError) -> str:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"]
        )
        problems.append(f"{where.lstrip('.') or 'body'}: {item['msg']}")
    return "Invalid request body: " + "; ".join(problems)


def _timestamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _json(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code)


def _error(status_code: int, message: str, *, code: str | None = None) -> JSONResponse:
    body = HumanitecErrorResponse(error=code or f"API-{status_code}", message=message)
    return _json(body.model_dump(mode="json", exclude_none=True), status_code)


async def _request_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _RequestError)
    return _error(exc.status_code, exc.message)


async def _store_error(_request: Request, exc: Exception) -> Response:
    status = 409 if isinstance(exc, DuplicateId) else 404
    return _error(status, str(exc))


async def _http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = _error(exc.status_code, exc.detail)
    response.headers.update(exc.headers or {})
    return response
