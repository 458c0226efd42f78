"""In-memory, thread-safe store of applications, webhooks, environments and deployments.

Webhooks are kept per organisation, keyed by id, because the API says a job id is unique
within the organisation, not just the application. Values are the shared
``provider.api.models.WebhookResponse``, so what the emulator stores is, by construction,
what the client can read back.

With a ``state_file`` the whole store is rewritten after every change, atomically (temp
file in the same directory, fsync, ``os.replace``), so a crash leaves either the old or the
new state, never half of one. The format is private to the emulator::

    {"version": 1,
     "apps": [{"org_id": "o", "id": "a", "name": "a", "created_at": "...", "created_by": "..."}],
     "webhooks": [{"org_id": "o", "app_id": "a", "webhook": {...WebhookResponse...}}],
     "environments": [{"org_id": "o", "app_id": "a", "environment": {...EnvironmentResponse...}}],
     "deployments": [{"org_id": "o", "app_id": "a", "deployment": {...DeploymentResponse...}}]}

Files written before environments existed load as having none. A deployment still
``in progress`` in a loaded file never gets to finish (its timer died with the old
process), so it loads as ``failed``; no event is sent for it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from provider.api.models import (
    DeploymentResponse,
    EnvironmentResponse,
    JsonObject,
    WebhookResponse,
)

__all__ = [
    "AppNotFound",
    "Application",
    "Conflict",
    "DeploymentInProgress",
    "DeploymentNotFound",
    "DuplicateId",
    "EnvironmentNotFound",
    "StoreError",
    "WebhookNotFound",
    "WebhookStore",
]

IN_PROGRESS = "in progress"

STATE_VERSION = 1


class Application(BaseModel):
    """An application: the emulator's minimal version of Humanitec's."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    org_id: str
    id: str
    name: str
    created_at: str | None = None
    created_by: str | None = None


class _StoredWebhook(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    org_id: str
    app_id: str
    webhook: WebhookResponse


class _StoredEnvironment(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    org_id: str
    app_id: str
    environment: EnvironmentResponse


class _StoredDeployment(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    org_id: str
    app_id: str
    deployment: DeploymentResponse


class _State(BaseModel):
    model_config = ConfigDict(strict=True)

    version: int
    apps: list[Application]
    webhooks: list[_StoredWebhook]
    environments: list[_StoredEnvironment] = []
    deployments: list[_StoredDeployment] = []


class StoreError(Exception):
    """Base of the store's lookup and conflict errors; ``str()`` is a message for the client."""


class AppNotFound(StoreError):  # noqa: N818 (reads as the HTTP outcome it maps to)
    """The application does not exist in the organisation."""


class WebhookNotFound(StoreError):  # noqa: N818
    """The webhook does not exist in the application."""


class EnvironmentNotFound(StoreError):  # noqa: N818
    """The environment does not exist in the application."""


class DeploymentNotFound(StoreError):  # noqa: N818
    """The deployment does not exist in the environment."""


class Conflict(StoreError):  # noqa: N818
    """The change clashes with what exists (HTTP 409)."""


class DuplicateId(Conflict):
    """The id is already taken (a webhook id anywhere in the org, an app or environment id)."""


class DeploymentInProgress(Conflict):
    """The environment already has a deployment in progress."""


class WebhookStore:
    """Applications and webhooks of any number of organisations.

    Every method is atomic with respect to the others, so concurrent requests cannot create
    the same id twice. Returned models are immutable snapshots.
    """

    def __init__(self, state_file: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._state_file = state_file
        self._apps: dict[tuple[str, str], Application] = {}
        # org_id -> webhook id -> (app_id, webhook)
        self._webhooks: dict[str, dict[str, tuple[str, WebhookResponse]]] = {}
        # (org_id, app_id) -> env id -> environment (``last_deploy`` filled in on read)
        self._envs: dict[tuple[str, str], dict[str, EnvironmentResponse]] = {}
        # (org_id, app_id, env_id) -> deployments, oldest first
        self._deploys: dict[tuple[str, str, str], list[DeploymentResponse]] = {}
        if state_file is not None and state_file.exists():
            self._load(state_file)

    @property
    def state_file(self) -> Path | None:
        """Where the state is persisted, if anywhere."""
        return self._state_file

    def ensure_app(self, org_id: str, app_id: str) -> Application:
        """Return the application, creating it (named after its id) if needed."""
        with self._lock:
            existing = self._apps.get((org_id, app_id))
            if existing is not None:
                return existing
            return self.create_app(Application(org_id=org_id, id=app_id, name=app_id))

    def create_app(self, app: Application) -> Application:
        """Add an application; raises ``DuplicateId`` if it exists."""
        with self._lock:
            if (app.org_id, app.id) in self._apps:
                raise DuplicateId(f'Application with id "{app.id}" already exists')
            self._apps[(app.org_id, app.id)] = app
            self._save()
            return app

    def get_app(self, org_id: str, app_id: str) -> Application:
        """The application; raises ``AppNotFound``."""
        with self._lock:
            app = self._apps.get((org_id, app_id))
            if app is None:
                raise AppNotFound(f'Application with id "{app_id}" not found')
            return app

    def list_apps(self, org_id: str) -> list[Application]:
        """The organisation's applications in creation order; ``[]`` for an unknown org."""
        with self._lock:
            return [app for (org, _), app in self._apps.items() if org == org_id]

    def list_webhooks(self, org_id: str, app_id: str) -> list[WebhookResponse]:
        """The application's webhooks in creation order; raises ``AppNotFound``."""
        with self._lock:
            self.get_app(org_id, app_id)
            hooks = self._webhooks.get(org_id, {}).values()
            return [hook for owner, hook in hooks if owner == app_id]

    def get_webhook(self, org_id: str, app_id: str, webhook_id: str) -> WebhookResponse:
        """One webhook; raises ``AppNotFound`` or ``WebhookNotFound``."""
        with self._lock:
            self.get_app(org_id, app_id)
            owner, hook = self._webhooks.get(org_id, {}).get(webhook_id, (None, None))
            if owner != app_id or hook is None:
                raise WebhookNotFound(f'Webhook with id "{webhook_id}" not found')
            return hook

    def create_webhook(self, org_id: str, app_id: str, webhook: WebhookResponse) -> None:
        """Add a webhook; raises ``AppNotFound``, or ``DuplicateId`` if the org has the id."""
        with self._lock:
            self.get_app(org_id, app_id)
            hooks = self._webhooks.setdefault(org_id, {})
            if webhook.id in hooks:
                raise DuplicateId(f'Webhook with id "{webhook.id}" already exists')
            hooks[webhook.id] = (app_id, webhook)
            self._save()

    def update_webhook(
        self, org_id: str, app_id: str, webhook_id: str, changes: JsonObject
    ) -> WebhookResponse:
        """Apply ``changes`` (field name -> new JSON value) and return the new webhook."""
        with self._lock:
            current = self.get_webhook(org_id, app_id, webhook_id)
            updated = WebhookResponse.model_validate({**current.model_dump(), **changes})
            self._webhooks[org_id][webhook_id] = (app_id, updated)
            self._save()
            return updated

    def delete_webhook(self, org_id: str, app_id: str, webhook_id: str) -> None:
        """Remove a webhook; raises ``AppNotFound`` or ``WebhookNotFound``."""
        with self._lock:
            self.get_webhook(org_id, app_id, webhook_id)
            del self._webhooks[org_id][webhook_id]
            self._save()

    def create_environment(self, org_id: str, app_id: str, env: EnvironmentResponse) -> None:
        """Add an environment; raises ``AppNotFound``, or ``DuplicateId`` if the app has it."""
        with self._lock:
            self.get_app(org_id, app_id)
            envs = self._envs.setdefault((org_id, app_id), {})
            if env.id in envs:
                raise DuplicateId(f'Environment with id "{env.id}" already exists')
            envs[env.id] = env
            self._save()

    def list_environments(self, org_id: str, app_id: str) -> list[EnvironmentResponse]:
        """The application's environments in creation order; raises ``AppNotFound``."""
        with self._lock:
            self.get_app(org_id, app_id)
            envs = self._envs.get((org_id, app_id), {})
            return [self._with_last_deploy(org_id, app_id, env) for env in envs.values()]

    def get_environment(self, org_id: str, app_id: str, env_id: str) -> EnvironmentResponse:
        """One environment; raises ``AppNotFound`` or ``EnvironmentNotFound``."""
        with self._lock:
            self.get_app(org_id, app_id)
            env = self._envs.get((org_id, app_id), {}).get(env_id)
            if env is None:
                raise EnvironmentNotFound(f'Environment with id "{env_id}" not found')
            return self._with_last_deploy(org_id, app_id, env)

    def delete_environment(self, org_id: str, app_id: str, env_id: str) -> EnvironmentResponse:
        """Remove an environment and its deployment history; returns what was removed."""
        with self._lock:
            env = self.get_environment(org_id, app_id, env_id)
            del self._envs[(org_id, app_id)][env_id]
            self._deploys.pop((org_id, app_id, env_id), None)
            self._save()
            return env

    def create_deployment(self, org_id: str, app_id: str, deploy: DeploymentResponse) -> None:
        """Add a deployment to ``deploy.env_id``; raises ``EnvironmentNotFound`` (or
        ``AppNotFound``), or ``DeploymentInProgress`` while another one runs there."""
        with self._lock:
            self.get_environment(org_id, app_id, deploy.env_id)
            deploys = self._deploys.setdefault((org_id, app_id, deploy.env_id), [])
            if any(d.status == IN_PROGRESS for d in deploys):
                raise DeploymentInProgress(
                    f'Environment "{deploy.env_id}" already has a deployment in progress'
                )
            deploys.append(deploy)
            self._save()

    def list_deployments(self, org_id: str, app_id: str, env_id: str) -> list[DeploymentResponse]:
        """The environment's deployments, newest first (as the API lists them)."""
        with self._lock:
            self.get_environment(org_id, app_id, env_id)
            return list(reversed(self._deploys.get((org_id, app_id, env_id), [])))

    def get_deployment(
        self, org_id: str, app_id: str, env_id: str, deploy_id: str
    ) -> DeploymentResponse:
        """One deployment; raises ``DeploymentNotFound`` (or the app/env lookup errors)."""
        with self._lock:
            for deploy in self.list_deployments(org_id, app_id, env_id):
                if deploy.id == deploy_id:
                    return deploy
            raise DeploymentNotFound(f'Deployment with id "{deploy_id}" not found')

    def finish_deployment(
        self, org_id: str, app_id: str, env_id: str, deploy_id: str, status: str, at: str
    ) -> DeploymentResponse | None:
        """Move an ``in progress`` deployment to ``status``; None when it is gone or done."""
        with self._lock:
            deploys = self._deploys.get((org_id, app_id, env_id), [])
            for index, deploy in enumerate(deploys):
                if deploy.id == deploy_id and deploy.status == IN_PROGRESS:
                    done = deploy.model_copy(update={"status": status, "status_changed_at": at})
                    deploys[index] = done
                    self._save()
                    return done
            return None

    def _with_last_deploy(
        self, org_id: str, app_id: str, env: EnvironmentResponse
    ) -> EnvironmentResponse:
        deploys = self._deploys.get((org_id, app_id, env.id))
        return env.model_copy(update={"last_deploy": deploys[-1]}) if deploys else env

    def _load(self, path: Path) -> None:
        state = _State.model_validate_json(path.read_bytes())
        if state.version != STATE_VERSION:
            raise ValueError(f"{path}: unsupported state version {state.version}")
        for app in state.apps:
            self._apps[(app.org_id, app.id)] = app
        for stored in state.webhooks:
            hooks = self._webhooks.setdefault(stored.org_id, {})
            hooks[stored.webhook.id] = (stored.app_id, stored.webhook)
        for stored_env in state.environments:
            envs = self._envs.setdefault((stored_env.org_id, stored_env.app_id), {})
            envs[stored_env.environment.id] = stored_env.environment
        for stored_deploy in state.deployments:
            deploy = stored_deploy.deployment
            if deploy.status == IN_PROGRESS:
                deploy = deploy.model_copy(update={"status": "failed"})
            key = (stored_deploy.org_id, stored_deploy.app_id, deploy.env_id)
            self._deploys.setdefault(key, []).append(deploy)

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = _State(
            version=STATE_VERSION,
            apps=list(self._apps.values()),
            webhooks=[
                _StoredWebhook(org_id=org_id, app_id=app_id, webhook=hook)
                for org_id, hooks in self._webhooks.items()
                for app_id, hook in hooks.values()
            ],
            environments=[
                _StoredEnvironment(org_id=org_id, app_id=app_id, environment=env)
                for (org_id, app_id), envs in self._envs.items()
                for env in envs.values()
            ],
            deployments=[
                _StoredDeployment(org_id=org_id, app_id=app_id, deployment=deploy)
                for (org_id, app_id, _), deploys in self._deploys.items()
                for deploy in deploys
            ],
        )
        _write_atomically(self._state_file, state.model_dump_json(indent=1).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
