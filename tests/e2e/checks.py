"""Compare what the API holds with the Terraform state and the configuration."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from .harness import Workspace

View = dict[str, Any]
"""A webhook reduced to what Terraform manages, in one comparable form."""

MANAGED = ("id", "url", "disabled", "headers", "payload", "triggers")


def view(values: Mapping[str, Any]) -> View:
    """An API webhook or a state entry as a ``View``: empty maps and null compare equal."""
    triggers = values.get("triggers") or []
    return {
        "id": values["id"],
        "url": values.get("url"),
        "disabled": bool(values.get("disabled")),
        "headers": dict(values.get("headers") or {}),
        "payload": dict(values.get("payload") or {}),
        "triggers": sorted((t["scope"], t["type"]) for t in triggers),
    }


def new_app(api: httpx.Client) -> str:
    """A fresh application in the client's organization."""
    app = f"app-{uuid.uuid4().hex[:8]}"
    assert api.post("/apps", json={"id": app, "name": app}).status_code == 201
    return app


def api_hooks(api: httpx.Client, app_id: str) -> list[dict[str, Any]]:
    """The application's webhooks as the API lists them."""
    response = api.get(f"/apps/{app_id}/webhooks")
    assert response.status_code == 200, response.text
    hooks: list[dict[str, Any]] = response.json()
    return hooks


def api_views(api: httpx.Client, app_ids: Iterable[str]) -> dict[tuple[str, str], View]:
    """(app_id, id) -> view of every webhook in these applications; fails on a duplicate id."""
    found: dict[tuple[str, str], View] = {}
    ids: Counter[str] = Counter()
    for app_id in app_ids:
        for hook in api_hooks(api, app_id):
            found[(app_id, hook["id"])] = view(hook)
            ids[hook["id"]] += 1
    duplicated = sorted(webhook_id for webhook_id, n in ids.items() if n > 1)
    assert not duplicated, f"webhook ids listed more than once: {duplicated}"
    return found


def state_views(workspace: Workspace) -> dict[tuple[str, str], View]:
    """(app_id, id) -> view of every humanitec_webhook in the state."""
    return {
        (values["app_id"], values["id"]): view(values)
        for address, values in workspace.state().items()
        if address.startswith("humanitec_webhook.")
    }


def assert_state_equals_api(workspace: Workspace, api: httpx.Client, app_ids: list[str]) -> None:
    """State and API hold the same webhooks with the same values."""
    in_state = state_views(workspace)
    in_api = api_views(api, app_ids)
    assert sorted(in_state) == sorted(in_api), "state and API hold different webhooks"
    differing = [key for key in in_state if in_state[key] != in_api[key]]
    assert not differing, f"state differs from the API for {differing[:5]}"
