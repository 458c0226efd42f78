"""The routes that cause events: environments and deployments, as the events OpenAPI says.

::

    (ENV = /orgs/{org}/apps/{app}/envs)
    GET    ENV                       200 [EnvironmentResponse] | 404
    POST   ENV                       201 EnvironmentResponse | 400 | 404 | 409
                                     fires environment.created
    GET    ENV/{env}                 200 EnvironmentResponse | 404
    DELETE ENV/{env}                 204 | 404, fires environment.deleted
    GET    ENV/{env}/deploys         200 [DeploymentResponse] (newest first) | 404
    POST   ENV/{env}/deploys         201 DeploymentResponse | 400 | 404 | 409
                                     fires deployment.started; deploy_duration seconds later
                                     the deployment becomes succeeded (or failed) and fires
                                     deployment.finished
    GET    ENV/{env}/deploys/{id}    200 DeploymentResponse | 404

A deployment ends ``failed`` when its POST carries ``X-Emulator-Deployment-Status:
failed``: an emulator-only header (the body stays the API's), so a receiver can be tried on
``${status}`` = ``failed``. A new environment's ``type`` defaults to ``development``. A
second deployment while one is in progress in the environment is a 409, as in the API.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from provider.api.models import (
    DeploymentRequest,
    DeploymentResponse,
    EnvironmentDefinitionRequest,
    EnvironmentResponse,
)
from provider.emulator._http import RequestError, json_object, json_response, param, parse
from provider.emulator._http import timestamp as api_timestamp
from provider.emulator.controls import OUTCOME_HEADER, OUTCOMES
from provider.emulator.delivery import Dispatcher
from provider.emulator.events import Occurrence, rfc3339_nanoseconds
from provider.emulator.store import IN_PROGRESS, WebhookStore

__all__ = ["EnvironmentApi"]

DEFAULT_ENV_TYPE = "development"
_ENV_ID = re.compile(r"[a-z0-9](?:-?[a-z0-9]+)+")


class EnvironmentApi:
    """The handlers; each change to an environment or deployment fires its event."""

    def __init__(
        self,
        store: WebhookStore,
        dispatcher: Dispatcher,
        *,
        user_id: str,
        clock: Callable[[], datetime],
        deploy_duration: float,
    ) -> None:
        if deploy_duration < 0:
            raise ValueError("deploy duration must not be negative")
        self._store = store
        self._dispatcher = dispatcher
        self._user_id = user_id
        self._clock = clock
        self._deploy_duration = deploy_duration

    async def list_environments(self, request: Request) -> Response:
        envs = self._store.list_environments(*_app_key(request))
        return json_response([env.model_dump(mode="json", exclude_none=True) for env in envs])

    async def get_environment(self, request: Request) -> Response:
        env = self._store.get_environment(*_app_key(request), param(request, "env_id"))
        return json_response(env.model_dump(mode="json", exclude_none=True))

    async def create_environment(self, request: Request) -> Response:
        org_id, app_id = _app_key(request)
        body = parse(EnvironmentDefinitionRequest, await json_object(request))
        if len(body.id) > 50 or not _ENV_ID.fullmatch(body.id):
            raise RequestError(
                400, f'"{body.id}" is not a valid environment id (lowercase letters, digits, "-")'
            )
        now = api_timestamp(self._clock())
        env = EnvironmentResponse(
            id=body.id,
            name=body.name,
            type=body.type or DEFAULT_ENV_TYPE,
            created_at=now,
            created_by=self._user_id,
            status="active",
            status_changed_at=now,
        )
        self._store.create_environment(org_id, app_id, env)
        self._fire("environment", "created", org_id, app_id, env.id, name=env.name, type=env.type)
        return json_response(env.model_dump(mode="json", exclude_none=True), 201)

    async def delete_environment(self, request: Request) -> Response:
        org_id, app_id = _app_key(request)
        env = self._store.delete_environment(org_id, app_id, param(request, "env_id"))
        self._fire("environment", "deleted", org_id, app_id, env.id, name=env.name, type=env.type)
        return Response(status_code=204)

    async def list_deployments(self, request: Request) -> Response:
        deploys = self._store.list_deployments(*_app_key(request), param(request, "env_id"))
        return json_response([d.model_dump(mode="json", exclude_none=True) for d in deploys])

    async def get_deployment(self, request: Request) -> Response:
        deploy = self._store.get_deployment(
            *_app_key(request), param(request, "env_id"), param(request, "deploy_id")
        )
        return json_response(deploy.model_dump(mode="json", exclude_none=True))

    async def create_deployment(self, request: Request) -> Response:
        org_id, app_id = _app_key(request)
        env_id = param(request, "env_id")
        outcome = request.headers.get(OUTCOME_HEADER, "succeeded")
        if outcome not in OUTCOMES:
            raise RequestError(400, f"{OUTCOME_HEADER} must be one of {', '.join(OUTCOMES)}")
        body = parse(DeploymentRequest, await json_object(request))
        if not body.delta_id and not body.set_id:
            raise RequestError(400, "delta_id or set_id is required")
        previous = self._store.list_deployments(org_id, app_id, env_id)
        now = api_timestamp(self._clock())
        deploy_id = secrets.token_hex(8)
        deploy = DeploymentResponse(
            id=deploy_id,
            env_id=env_id,
            from_id=previous[0].id if previous else "",
            delta_id=body.delta_id,
            set_id=body.set_id or _set_id(body.delta_id or deploy_id),
            comment=body.comment or "",
            value_set_version_id=body.value_set_version_id,
            status=IN_PROGRESS,
            status_changed_at=now,
            created_at=now,
            created_by=self._user_id,
            export_status="",
            export_file="",
        )
        self._store.create_deployment(org_id, app_id, deploy)
        self._fire_deployment("started", org_id, app_id, deploy)
        self._dispatcher.background.later(
            self._deploy_duration,
            lambda: self._finish(org_id, app_id, deploy, outcome),
            name=f"deployment {deploy_id}",
        )
        return json_response(deploy.model_dump(mode="json", exclude_none=True), 201)

    def _finish(self, org_id: str, app_id: str, deploy: DeploymentResponse, status: str) -> None:
        done = self._store.finish_deployment(
            org_id, app_id, deploy.env_id, deploy.id, status, api_timestamp(self._clock())
        )
        if done is not None:  # None: its environment was deleted meanwhile
            self._fire_deployment("finished", org_id, app_id, done)

    def _fire_deployment(
        self, type_: str, org_id: str, app_id: str, deploy: DeploymentResponse
    ) -> None:
        self._fire(
            "deployment",
            type_,
            org_id,
            app_id,
            deploy.env_id,
            deploy_id=deploy.id,
            delta_id=deploy.delta_id or "",
            set_id=deploy.set_id,
            comment=deploy.comment,
            status=deploy.status,
        )

    def _fire(
        self, scope: str, type_: str, org_id: str, app_id: str, env_id: str, **specific: str
    ) -> None:
        occurrence = Occurrence.of(
            scope,
            type_,
            triggered_at=rfc3339_nanoseconds(time.time_ns()),
            triggered_by=self._user_id,
            org_id=org_id,
            app_id=app_id,
            env_id=env_id,
            **specific,
        )
        self._dispatcher.fire(occurrence)


def _app_key(request: Request) -> tuple[str, str]:
    return param(request, "org_id"), param(request, "app_id")


def _set_id(seed: str) -> str:
    """A set id of the API's shape (43 characters of base64url), stable for a delta."""
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
