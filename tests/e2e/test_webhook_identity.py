"""Resource identity (Terraform 1.12+): stored after create, and enough to import by.

Run on the bundled Terraform (1.15); the Terraform on PATH (1.11) never asks
for identities, and the import tests show it still imports by id.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .configs import config, webhook
from .harness import Workspace, available_terraforms

pytestmark = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)

ADDRESS = "humanitec_webhook.hook"


def stored_identity(workspace: Workspace) -> tuple[int | None, dict[str, Any] | None]:
    """(identity_schema_version, identity) of ``ADDRESS`` in ``terraform show -json``."""
    shown = json.loads(workspace.run("show", "-json").stdout)
    resources = shown["values"]["root_module"]["resources"]
    found = next(r for r in resources if r["address"] == ADDRESS)
    return found.get("identity_schema_version"), found.get("identity")


def test_identity_is_stored_after_create(workspace: Workspace, app_id: str) -> None:
    workspace.write(config(webhook(webhook_id="with-identity", app_id=app_id)))
    workspace.apply()
    assert stored_identity(workspace) == (0, {"app_id": app_id, "id": "with-identity"})
    assert workspace.plan_exit_code() == 0


def test_import_block_with_identity_imports_and_plans_empty(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    body = {
        "id": "by-identity",
        "url": "https://example.com/hook",
        "payload": {"deployment": "${deploy_id}"},
        "triggers": [{"scope": "deployment", "type": "finished"}],
    }
    assert api.post(f"/apps/{app_id}/webhooks", json=body).status_code == 201
    block = (
        f"import {{\n  to = {ADDRESS}\n"
        f'  identity = {{\n    app_id = "{app_id}"\n    id     = "by-identity"\n  }}\n}}\n'
    )
    resource = webhook(
        webhook_id="by-identity",
        app_id=app_id,
        triggers=[("deployment", "finished")],
        payload={"deployment": "${deploy_id}"},
    )
    workspace.write(config(resource, block))

    assert workspace.planned_actions() == {ADDRESS: ["no-op"]}
    workspace.apply()
    assert stored_identity(workspace) == (0, {"app_id": app_id, "id": "by-identity"})
    assert workspace.plan_exit_code() == 0
    held = api.get(f"/apps/{app_id}/webhooks/by-identity").json()
    assert held["payload"] == {"deployment": "${deploy_id}"}


@pytest.mark.parametrize(
    ("identity", "error"),
    [
        ('app_id = "{app}"', 'attribute "id" is required'),  # required_for_import, from the schema
        ('app_id = "{app}"\n    id = ""', "Expected an identity with a non-empty app_id and id."),
    ],
    ids=["missing-id", "empty-id"],
)
def test_import_identity_must_name_both_ids(
    workspace: Workspace, app_id: str, identity: str, error: str
) -> None:
    body = identity.format(app=app_id)
    block = f"import {{\n  to = {ADDRESS}\n  identity = {{\n    {body}\n  }}\n}}\n"
    workspace.write(config(webhook(webhook_id="x", app_id=app_id), block))
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert error in result.text


def test_a_plan_whose_app_id_comes_from_another_resource_renders(
    workspace: Workspace, app_id: str
) -> None:
    """app_id unknown at plan: the identity is too, which Terraform 1.15 cannot render in
    plan output or `show -json` unless the provider plans no identity yet."""
    upstream = f'resource "terraform_data" "app" {{\n  input = "{app_id}"\n}}\n'
    hook = webhook(webhook_id="unknown-at-plan", app_id=app_id).replace(
        f'"{app_id}"', "terraform_data.app.output", 1
    )
    workspace.write(config(upstream, hook))
    workspace.run("plan", "-no-color", "-input=false", "-out=tfplan")
    shown = json.loads(workspace.run("show", "-json", "tfplan").stdout)
    actions = {c["address"]: c["change"]["actions"] for c in shown["resource_changes"]}
    assert actions[ADDRESS] == ["create"]
    workspace.run("apply", "-no-color", "-input=false", "tfplan")
    assert stored_identity(workspace) == (0, {"app_id": app_id, "id": "unknown-at-plan"})
    assert workspace.plan_exit_code() == 0
