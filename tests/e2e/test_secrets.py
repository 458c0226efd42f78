"""Secrets stay secret under TF_LOG=trace, rotate on a version bump, and import keeps headers.

``headers`` is a plain map (reviewable, importable); credentials go in the
write-only ``secret_headers_wo``, which Terraform 1.11+ passes to plan and
apply but never stores.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

import httpx

from .configs import config, webhook
from .conftest import TOKEN
from .faultproxy import FaultProxy
from .harness import Result, Workspace

ADDRESS = "humanitec_webhook.hook"


def traced(workspace: Workspace, log: Path) -> None:
    workspace.env.update(TF_LOG="trace", TF_LOG_PATH=str(log))


def leaks(secret: str, workspace: Workspace, log: Path) -> list[str]:
    """Where ``secret`` shows: CLI output, the trace log, the state file."""
    places = [
        f"output of terraform {' '.join(r.args)}" for r in workspace.history if secret in r.output
    ]
    if log.exists() and secret in log.read_text(encoding="utf-8", errors="replace"):
        places.append("TF_LOG trace")
    for state_file in workspace.path.glob("*.tfstate*"):
        if secret in state_file.read_text(encoding="utf-8"):
            places.append(state_file.name)
    return places


def held_headers(api: httpx.Client, app_id: str, webhook_id: str) -> dict[str, str]:
    response = api.get(f"/apps/{app_id}/webhooks/{webhook_id}")
    assert response.status_code == 200, response.text
    headers: dict[str, str] = response.json()["headers"]
    return headers


def test_secret_headers_are_sent_never_shown_and_rotate_on_a_version_bump(
    workspace: Workspace, api: httpx.Client, app_id: str, tmp_path: Path
) -> None:
    log = tmp_path / "trace.log"
    traced(workspace, log)
    first, second = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"

    def hook(secret: str, version: int) -> str:
        return webhook(
            webhook_id="secret",
            app_id=app_id,
            headers={"X-Plain": "visible"},
            secret_headers={"Authorization": f"Bearer {secret}"},
            secret_version=version,
        )

    workspace.write(config(hook(first, 1)))
    applied = workspace.apply()
    assert re.search(r"\+ secret_headers_wo\s+= \(write-only attribute\)", applied.output)
    assert held_headers(api, app_id, "secret") == {
        "X-Plain": "visible",
        "Authorization": f"Bearer {first}",
    }
    state = workspace.state()[ADDRESS]
    assert state["headers"] == {"X-Plain": "visible"}  # the secret name stays out of headers
    assert state["secret_headers_wo"] is None
    # Write-only, not sensitive: no sensitive_attributes path in every instance's state,
    # which Terraform writes out whole after each resource it applies.
    raw = json.loads((workspace.path / "terraform.tfstate").read_text(encoding="utf-8"))
    assert [i["sensitive_attributes"] for r in raw["resources"] for i in r["instances"]] == [[]]
    assert workspace.plan_exit_code() == 0

    # A new value without a version bump is not seen: the documented limit.
    workspace.write(config(hook(second, 1)))
    assert workspace.plan_exit_code() == 0
    # The bump sends it.
    workspace.write(config(hook(second, 2)))
    workspace.apply()
    assert held_headers(api, app_id, "secret")["Authorization"] == f"Bearer {second}"
    assert workspace.plan_exit_code() == 0

    for secret in (first, second, TOKEN):
        assert leaks(secret, workspace, log) == [], secret
    trace = log.read_text(encoding="utf-8", errors="replace")
    # The trace really was written, with the provider's one line per RPC.
    assert re.search(
        r"ApplyResourceChange humanitec_webhook: [\d.]+ ms, [\d.]+ ms CPU, \d+ diagnostics", trace
    )


def test_state_from_when_secret_headers_were_sensitive_updates_once_and_sends_nothing(
    proxied_workspace: Workspace, proxy: FaultProxy, app_id: str
) -> None:
    """Earlier versions marked secret_headers_wo sensitive, so their state records the path
    in sensitive_attributes: Terraform plans an update to drop it, which asks nothing."""
    workspace = proxied_workspace
    secret = f"kept-{uuid.uuid4().hex}"
    workspace.write(
        config(
            webhook(
                webhook_id="was-sensitive",
                app_id=app_id,
                secret_headers={"Authorization": secret},
                secret_version=1,
            )
        )
    )
    workspace.apply()
    state_file = workspace.path / "terraform.tfstate"
    raw = json.loads(state_file.read_text(encoding="utf-8"))
    [instance] = raw["resources"][0]["instances"]
    instance["sensitive_attributes"] = [[{"type": "get_attr", "value": "secret_headers_wo"}]]
    raw["serial"] += 1
    state_file.write_text(json.dumps(raw), encoding="utf-8")

    assert workspace.plan_exit_code() == 2
    proxy.reset()
    workspace.apply()
    assert [seen.method for seen in proxy.log] == ["GET"]  # the refresh; no PATCH
    assert workspace.plan_exit_code() == 0
    raw = json.loads(state_file.read_text(encoding="utf-8"))
    assert raw["resources"][0]["instances"][0]["sensitive_attributes"] == []
    assert secret not in state_file.read_text(encoding="utf-8")


def test_generated_config_of_an_imported_webhook_keeps_its_headers(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    headers = {"X-Token": "abc", "X-Other": "def"}
    body = {
        "id": "made-by-hand",
        "url": "https://example.com/hand",
        "headers": headers,
        "triggers": [{"scope": "environment", "type": "created"}],
    }
    assert api.post(f"/apps/{app_id}/webhooks", json=body).status_code == 201
    workspace.write(config(f'import {{\n  to = {ADDRESS}\n  id = "{app_id}/made-by-hand"\n}}\n'))
    workspace.run(
        "plan", "-no-color", "-input=false", "-generate-config-out=generated.tf", ok=(0, 1)
    )
    generated = (workspace.path / "generated.tf").read_text(encoding="utf-8")
    # headers is a plain map, so the generated config holds the values, and the
    # write-only attribute is null.
    assert "# sensitive" not in generated
    assert re.search(r"secret_headers_wo\s+= null\n", generated)
    assert '"X-Token" = "abc"' in generated or 'X-Token = "abc"' in generated
    workspace.apply()
    assert held_headers(api, app_id, "made-by-hand") == headers
    assert workspace.plan_exit_code() == 0


def test_plan_of_a_new_webhook_in_a_missing_application_warns_at_plan(
    workspace: Workspace, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="w", app_id=f"{app_id}-typo")))
    plan: Result = workspace.run("plan", "-no-color", "-input=false")
    assert "Warning: Application Not Found" in plan.text
    assert f"{app_id}-typo" in plan.text
    failed = workspace.fail("apply", "-auto-approve", "-no-color", "-input=false")
    assert "Error:" in failed.text


CREATE_APP_SCRIPT = """\
import json, os, sys, urllib.request

body = json.dumps({"id": sys.argv[1], "name": sys.argv[1]}).encode()
url = os.environ["HUMANITEC_API_PREFIX"] + "/orgs/" + os.environ["HUMANITEC_ORG"] + "/apps"
headers = {"Authorization": "Bearer " + os.environ["HUMANITEC_TOKEN"]}
headers["Content-Type"] = "application/json"
urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers))
"""

CREATE_APP = """\
resource "terraform_data" "app" {
  input = "%(app)s"
  provisioner "local-exec" {
    # Stands in for the official provider's humanitec_application.
    command = "%(python)s create_app.py %(app)s"
  }
}
"""


def test_one_apply_creates_an_application_and_its_webhooks(
    workspace: Workspace, api: httpx.Client
) -> None:
    """The plan-time check must not block a configuration that creates the application."""
    app = f"app-{uuid.uuid4().hex[:8]}"
    # app_id known at plan (as humanitec_application.x.id is), created first by depends_on.
    hook = webhook(webhook_id="w", app_id=app).replace(
        "  triggers = [", "  depends_on = [terraform_data.app]\n  triggers = [", 1
    )
    (workspace.path / "create_app.py").write_text(CREATE_APP_SCRIPT, encoding="utf-8")
    workspace.write(config(CREATE_APP % {"app": app, "python": sys.executable}, hook))
    result = workspace.apply()
    assert "Application Not Found" in result.text  # the warning at plan
    assert held_headers(api, app, "w") == {}
    assert workspace.plan_exit_code() == 0


def test_a_bad_api_prefix_fails_validate_on_the_provider_block(
    workspace: Workspace, app_id: str
) -> None:
    block = 'provider "humanitec" {\n  api_prefix = "ftp://example.com"\n}'
    workspace.write(
        config(webhook(app_id=app_id, webhook_id="w")).replace('provider "humanitec" {}', block)
    )
    result = workspace.fail("validate", "-no-color")
    assert "Invalid API Prefix" in result.text
    assert 'in provider "humanitec"' in result.text
