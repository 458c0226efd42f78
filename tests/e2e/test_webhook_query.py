"""``terraform query`` lists existing webhooks and writes configuration that imports them.

Terraform 1.14+ only: run on the bundled Terraform (1.15). Webhooks are
created through the API, as someone did before Terraform managed them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from .checks import api_hooks, view
from .harness import Result, Workspace, available_terraforms

pytestmark = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)

QUERY_FILE = "webhooks.tfquery.hcl"
PAYLOAD = {"deployment": "${deploy_id}", "app": "${app_id}"}


def put_webhook(api: httpx.Client, app_id: str, webhook_id: str, **fields: Any) -> None:
    body = {
        "id": webhook_id,
        "url": f"https://example.com/{webhook_id}",
        "triggers": [{"scope": "deployment", "type": "finished"}],
        **fields,
    }
    response = api.post(f"/apps/{app_id}/webhooks", json=body)
    assert response.status_code == 201, response.text


def write_query(workspace: Workspace, app_id: str, *, limit: int | None = None) -> None:
    lines = [
        'list "humanitec_webhook" "hooks" {',
        "  provider         = humanitec",
        "  include_resource = true",
        *([f"  limit            = {limit}"] if limit is not None else []),
        "  config {",
        f'    app_id = "{app_id}"',
        "  }",
        "}",
    ]
    (workspace.path / QUERY_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def query(workspace: Workspace, *extra: str) -> Result:
    return workspace.run("query", "-no-color", *extra)


def query_json(workspace: Workspace) -> list[dict[str, Any]]:
    """The ``list_resource_found`` messages of ``terraform query -json``."""
    result = query(workspace, "-json")
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return [m for m in messages if m.get("type") == "list_resource_found"]


def with_provider_block(workspace: Workspace) -> None:
    workspace.write(
        'terraform {\n  required_providers {\n    humanitec = { source = "humanitec/humanitec" }\n'
        '  }\n}\n\nprovider "humanitec" {}\n'
    )


@pytest.fixture
def listed(workspace: Workspace, api: httpx.Client, app_id: str) -> Workspace:
    """Two webhooks made through the API: one minimal, one with every field set."""
    put_webhook(api, app_id, "plain")
    put_webhook(
        api,
        app_id,
        "full",
        disabled=True,
        headers={"X-Source": "api"},
        payload=PAYLOAD,
        triggers=[
            {"scope": "environment", "type": "created"},
            {"scope": "deployment", "type": "started"},
        ],
    )
    with_provider_block(workspace)
    write_query(workspace, app_id)
    return workspace


def test_query_lists_the_webhooks_of_an_application(listed: Workspace, app_id: str) -> None:
    result = query(listed)
    print(result.output)
    assert f"{app_id}/plain" in result.output
    assert f"{app_id}/full" in result.output
    found = query_json(listed)
    print(json.dumps(found, indent=2))
    identities = sorted(tuple(f["list_resource_found"]["identity"].items()) for f in found)
    assert identities == [
        (("app_id", app_id), ("id", "full")),
        (("app_id", app_id), ("id", "plain")),
    ]


def test_query_honours_the_limit(listed: Workspace, app_id: str) -> None:
    write_query(listed, app_id, limit=1)
    assert len(query_json(listed)) == 1


def test_query_of_a_missing_application_is_an_error(workspace: Workspace) -> None:
    with_provider_block(workspace)
    write_query(workspace, "no-such-app")
    result = workspace.fail("query", "-no-color")
    print(result.output)
    assert "Application Not Found" in result.text


def test_generated_config_imports_and_then_plans_empty(
    listed: Workspace, api: httpx.Client, app_id: str
) -> None:
    before = sorted((view(h) for h in api_hooks(api, app_id)), key=lambda v: v["id"])
    query(listed, "-generate-config-out=generated.tf")
    generated = (listed.path / "generated.tf").read_text(encoding="utf-8")
    print(generated)
    assert "$${deploy_id}" in generated
    assert re.search(r"disabled\s*=\s*true", generated), "the disabled webhook is disabled"
    # Defaults and write-only values are left out (Terraform writes other nulls as "= null").
    assert not re.search(r"disabled\s*=\s*false", generated)
    assert not re.search(r"headers\s*=\s*\{\s*\}", generated)
    assert set(re.findall(r"secret_headers_wo\s*=\s*(\S+)", generated)) == {"null"}

    plan = listed.run("plan", "-no-color", "-input=false")
    print(plan.output)
    assert "Plan: 2 to import, 0 to add, 0 to change, 0 to destroy." in plan.text
    listed.apply()
    assert listed.plan_exit_code() == 0
    after = sorted((view(h) for h in api_hooks(api, app_id)), key=lambda v: v["id"])
    assert after == before
    assert next(h for h in api_hooks(api, app_id) if h["id"] == "full")["payload"] == PAYLOAD
