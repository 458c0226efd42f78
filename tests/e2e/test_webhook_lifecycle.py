"""humanitec_webhook through its whole life, driven by real Terraform.

Terraform launches the provider from a filesystem mirror, as in production
(handshake, mutual TLS, 3-5 launches per command); the API is the emulator.
"""

from __future__ import annotations

from typing import Any

import httpx

from .configs import Trigger, config, webhook
from .harness import Workspace

ADDRESS = "humanitec_webhook.hook"


def api_webhook(api: httpx.Client, app_id: str, webhook_id: str) -> dict[str, Any]:
    response = api.get(f"/apps/{app_id}/webhooks/{webhook_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_no_changes(ws: Workspace) -> None:
    assert ws.plan_exit_code("-refresh=false") == 0, ws.history[-1]
    assert ws.plan_exit_code() == 0, ws.history[-1]


def test_create_minimal_then_plan_is_empty(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="minimal", app_id=app_id)))
    workspace.apply()

    stored = api_webhook(api, app_id, "minimal")
    assert stored["url"] == "https://example.com/hook"
    assert stored["disabled"] is False
    assert stored["headers"] == {}
    assert stored["payload"] is None
    assert stored["triggers"] == [{"scope": "environment", "type": "created"}]
    state = workspace.state()[ADDRESS]
    assert state == {
        "id": "minimal",
        "app_id": app_id,
        "url": "https://example.com/hook",
        "disabled": False,
        "headers": {},
        "payload": None,
        "secret_headers_wo": None,
        "secret_headers_wo_version": None,
        "triggers": [{"scope": "environment", "type": "created"}],
    }
    assert_no_changes(workspace)


def test_create_full_then_plan_is_empty(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(
        config(
            webhook(
                webhook_id="full",
                app_id=app_id,
                headers={"X-Custom": "humanitec", "Authorization": "Bearer hook-secret"},
                payload={"custom-payload": "humanitec"},
                disabled=True,
                triggers=[("deployment", "started"), ("deployment", "finished")],
            )
        )
    )
    workspace.apply()

    stored = api_webhook(api, app_id, "full")
    assert stored["disabled"] is True
    assert stored["headers"] == {"X-Custom": "humanitec", "Authorization": "Bearer hook-secret"}
    assert stored["payload"] == {"custom-payload": "humanitec"}
    assert sorted(map(tuple, (t.values() for t in stored["triggers"]))) == [
        ("deployment", "finished"),
        ("deployment", "started"),
    ]
    assert_no_changes(workspace)


def test_in_place_updates_patch_the_webhook(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    base: dict[str, Any] = {"webhook_id": "upd", "app_id": app_id}
    workspace.write(config(webhook(**base)))
    workspace.apply()
    created_at = api_webhook(api, app_id, "upd")["created_at"]

    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("url", {"url": "https://example.com/v2"}, {"url": "https://example.com/v2"}),
        ("headers set", {"headers": {"X-A": "1"}}, {"headers": {"X-A": "1"}}),
        (
            "headers change",
            {"headers": {"X-A": "2", "X-B": "3"}},
            {"headers": {"X-A": "2", "X-B": "3"}},
        ),
        ("headers remove", {}, {"headers": {}}),
        ("payload set", {"payload": {"a": "1"}}, {"payload": {"a": "1"}}),
        ("payload change", {"payload": {"a": "2"}}, {"payload": {"a": "2"}}),
        ("payload remove", {}, {"payload": None}),
        ("disabled", {"disabled": True}, {"disabled": True}),
        ("enabled again", {"disabled": False}, {"disabled": False}),
        (
            "triggers",
            {"triggers": [("environment", "deleted"), ("deployment", "finished")]},
            {
                "triggers": [
                    {"scope": "environment", "type": "deleted"},
                    {"scope": "deployment", "type": "finished"},
                ]
            },
        ),
    ]
    for step, arguments, expected in steps:
        workspace.write(config(webhook(**base, **arguments)))
        assert workspace.planned_actions() == {ADDRESS: ["update"]}, step
        workspace.apply()
        stored = api_webhook(api, app_id, "upd")
        for key, value in expected.items():
            if key == "triggers":
                assert sorted(stored[key], key=str) == sorted(value, key=str), step
            else:
                assert stored[key] == value, step
        assert stored["created_at"] == created_at, f"{step}: the webhook was re-created"
        assert_no_changes(workspace)


def test_reordering_triggers_is_no_change(workspace: Workspace, app_id: str) -> None:
    triggers: list[Trigger] = [("environment", "created"), ("deployment", "finished")]
    workspace.write(config(webhook(webhook_id="order", app_id=app_id, triggers=triggers)))
    workspace.apply()
    workspace.write(
        config(webhook(webhook_id="order", app_id=app_id, triggers=list(reversed(triggers))))
    )
    assert_no_changes(workspace)


def test_changing_id_replaces_the_webhook(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="before", app_id=app_id)))
    workspace.apply()
    workspace.write(config(webhook(webhook_id="after", app_id=app_id)))
    assert workspace.planned_actions() == {ADDRESS: ["delete", "create"]}
    workspace.apply()
    assert api.get(f"/apps/{app_id}/webhooks/before").status_code == 404
    assert api_webhook(api, app_id, "after")["id"] == "after"
    assert_no_changes(workspace)


def test_changing_app_id_replaces_the_webhook(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    other = f"{app_id}-other"
    assert api.post("/apps", json={"id": other, "name": other}).status_code == 201
    workspace.write(config(webhook(webhook_id="moving", app_id=app_id)))
    workspace.apply()
    workspace.write(config(webhook(webhook_id="moving", app_id=other)))
    assert workspace.planned_actions() == {ADDRESS: ["delete", "create"]}
    workspace.apply()
    assert api.get(f"/apps/{app_id}/webhooks/moving").status_code == 404
    assert api_webhook(api, other, "moving")["id"] == "moving"


def test_drift_in_the_api_shows_an_update(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="drift", app_id=app_id)))
    workspace.apply()
    changed = api.patch(
        f"/apps/{app_id}/webhooks/drift", json={"url": "https://elsewhere.example.com"}
    )
    assert changed.status_code == 200, changed.text

    assert workspace.planned_actions() == {ADDRESS: ["update"]}
    workspace.apply()
    assert api_webhook(api, app_id, "drift")["url"] == "https://example.com/hook"
    assert_no_changes(workspace)


def test_webhook_deleted_in_the_api_is_created_again(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="gone", app_id=app_id)))
    workspace.apply()
    assert api.delete(f"/apps/{app_id}/webhooks/gone").status_code == 204

    plan = workspace.run("plan", "-no-color", "-input=false")
    assert "Webhook Not Found" in plan.text
    assert workspace.planned_actions() == {ADDRESS: ["create"]}
    workspace.apply()
    assert api_webhook(api, app_id, "gone")["id"] == "gone"
    assert_no_changes(workspace)


def test_destroy_leaves_nothing_in_the_api(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(
        config(
            webhook("a", webhook_id="one", app_id=app_id),
            webhook("b", webhook_id="two", app_id=app_id, payload={"k": "v"}),
        )
    )
    workspace.apply()
    assert len(api.get(f"/apps/{app_id}/webhooks").json()) == 2
    workspace.run("destroy", "-auto-approve", "-input=false", "-no-color")
    assert api.get(f"/apps/{app_id}/webhooks").json() == []
    assert workspace.state() == {}


def test_destroy_of_a_webhook_already_deleted_in_the_api_succeeds(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="twice", app_id=app_id)))
    workspace.apply()
    assert api.delete(f"/apps/{app_id}/webhooks/twice").status_code == 204
    workspace.run("destroy", "-auto-approve", "-refresh=false", "-input=false", "-no-color")
    assert workspace.state() == {}


def test_placeholders_reach_the_api_unescaped(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(
        config(
            f"""
resource "humanitec_webhook" "hook" {{
  id       = "placeholders"
  app_id   = "{app_id}"
  url      = "https://example.com/hook"
  triggers = [{{ scope = "deployment", type = "finished" }}]
  payload = {{
    application = "$${{app_id}}"
    environment = "$${{env_id}}"
    status      = "deploy $${{deploy_id}}: $${{status}}"
  }}
}}
"""
        )
    )
    workspace.apply()
    assert api_webhook(api, app_id, "placeholders")["payload"] == {
        "application": "${app_id}",
        "environment": "${env_id}",
        "status": "deploy ${deploy_id}: ${status}",
    }
    assert workspace.state()[ADDRESS]["payload"]["application"] == "${app_id}"
    assert_no_changes(workspace)


def test_url_unknown_at_plan_is_resolved_at_apply(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(
        config(
            'resource "terraform_data" "endpoint" {\n  input = "https://example.com/late"\n}\n',
            webhook(
                webhook_id="late",
                app_id=app_id,
                url_expression="terraform_data.endpoint.output",
            ),
        )
    )
    plan = workspace.run("plan", "-no-color", "-input=false")
    assert "(known after apply)" in plan.stdout
    workspace.apply()
    assert api_webhook(api, app_id, "late")["url"] == "https://example.com/late"
    assert_no_changes(workspace)


def test_replace_with_create_before_destroy_keeps_the_webhook(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    """The new instance meets its own id (409) and adopts it; the deposed instance's
    delete must then not remove it."""
    hook = webhook(webhook_id="cbd", app_id=app_id).replace(
        "  triggers = [", "  lifecycle {\n    create_before_destroy = true\n  }\n  triggers = [", 1
    )
    workspace.write(config(hook))
    workspace.apply()
    created_at = api_webhook(api, app_id, "cbd")["created_at"]
    result = workspace.apply(f"-replace={ADDRESS}")
    assert "Webhook Kept" in result.text
    assert api_webhook(api, app_id, "cbd")["created_at"] == created_at
    assert_no_changes(workspace)


def test_a_renamed_block_without_moved_keeps_the_webhook(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook("old", webhook_id="renamed", app_id=app_id)))
    workspace.apply()
    workspace.write(config(webhook("new", webhook_id="renamed", app_id=app_id)))
    workspace.apply()
    assert api_webhook(api, app_id, "renamed")["id"] == "renamed"
    assert list(workspace.state()) == ["humanitec_webhook.new"]
    assert_no_changes(workspace)
