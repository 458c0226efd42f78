"""The webhook data sources with real Terraform: reading, outputs, errors, and beside a resource."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .configs import config, hcl_string, webhook
from .harness import Workspace


def create_through_api(api: httpx.Client, app_id: str, webhook_id: str, **fields: Any) -> None:
    body = {
        "id": webhook_id,
        "url": f"https://example.com/{webhook_id}",
        "triggers": [{"scope": "deployment", "type": "finished"}],
        **fields,
    }
    response = api.post(f"/apps/{app_id}/webhooks", json=body)
    assert response.status_code == 201, response.text


def one_webhook(name: str, app_id: str, webhook_id: str) -> str:
    """A ``humanitec_webhook`` data block; ``app_id`` and ``webhook_id`` are HCL expressions."""
    return (
        f'data "humanitec_webhook" "{name}" {{\n  app_id = {app_id}\n  id     = {webhook_id}\n}}\n'
    )


def all_webhooks(app_id: str, depends_on: str = "") -> str:
    depends = f"  depends_on = [{depends_on}]\n" if depends_on else ""
    return f'data "humanitec_webhooks" "all" {{\n  app_id = {hcl_string(app_id)}\n{depends}}}\n'


def outputs(**values: str) -> str:
    return "".join(f'output "{name}" {{\n  value = {value}\n}}\n' for name, value in values.items())


def output_values(workspace: Workspace) -> dict[str, Any]:
    """``terraform output -json``, asserting that no output had to be marked sensitive."""
    shown = json.loads(workspace.run("output", "-json").stdout)
    assert not [name for name, o in shown.items() if o["sensitive"]]
    return {name: o["value"] for name, o in shown.items()}


def test_both_data_sources_read_webhooks_created_through_the_api(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    create_through_api(
        api,
        app_id,
        "b-full",
        disabled=True,
        headers={"X-Source": "api"},
        payload={"env": "${env_id}"},
        triggers=[
            {"scope": "deployment", "type": "finished"},
            {"scope": "environment", "type": "created"},
        ],
    )
    create_through_api(api, app_id, "a-bare")
    workspace.write(
        config(
            one_webhook("full", hcl_string(app_id), '"b-full"'),
            all_webhooks(app_id),
            outputs(
                full="data.humanitec_webhook.full",
                urls="data.humanitec_webhooks.all.webhooks[*].url",
                ids="data.humanitec_webhooks.all.webhooks[*].id",
                bare="data.humanitec_webhooks.all.webhooks[0]",
            ),
        )
    )
    workspace.apply()
    values = output_values(workspace)
    full = values["full"]
    assert sorted(full.pop("triggers"), key=str) == [
        {"scope": "deployment", "type": "finished"},
        {"scope": "environment", "type": "created"},
    ]
    assert full == {
        "app_id": app_id,
        "id": "b-full",
        "url": "https://example.com/b-full",
        "disabled": True,
        "headers": {"X-Source": "api"},
        "payload": {"env": "${env_id}"},  # the placeholder as Humanitec holds it
    }
    assert values["ids"] == ["a-bare", "b-full"]
    assert values["urls"] == ["https://example.com/a-bare", "https://example.com/b-full"]
    assert values["bare"] == {
        "id": "a-bare",
        "url": "https://example.com/a-bare",
        "disabled": False,
        "headers": {},
        "payload": None,
        "triggers": [{"scope": "deployment", "type": "finished"}],
    }
    assert workspace.plan_exit_code() == 0


def test_a_missing_webhook_is_an_error_naming_id_and_application(
    workspace: Workspace, app_id: str
) -> None:
    workspace.write(config(one_webhook("gone", hcl_string(app_id), '"never-created"')))
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Webhook Not Found" in result.text
    assert "'never-created'" in result.text
    assert f"'{app_id}'" in result.text


def test_a_resource_and_data_sources_in_one_config_plan_empty_after_apply(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    create_through_api(api, app_id, "from-api")
    workspace.write(
        config(
            webhook(webhook_id="managed", app_id=app_id, headers={"X-A": "1"}),
            # Attributes of the resource: Terraform reads this at apply, after the create.
            one_webhook("managed", "humanitec_webhook.hook.app_id", "humanitec_webhook.hook.id"),
            all_webhooks(app_id, depends_on="humanitec_webhook.hook"),
            outputs(
                managed_url="data.humanitec_webhook.managed.url",
                managed_headers="data.humanitec_webhook.managed.headers",
                ids="data.humanitec_webhooks.all.webhooks[*].id",
            ),
        )
    )
    workspace.apply()
    assert output_values(workspace) == {
        "managed_url": "https://example.com/hook",
        "managed_headers": {"X-A": "1"},
        "ids": ["from-api", "managed"],
    }
    assert workspace.plan_exit_code() == 0
