"""Bad configuration, bad credentials and secrets: what a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from .configs import config, webhook
from .conftest import TOKEN
from .harness import Workspace


def test_invalid_url_is_reported_on_the_attribute(workspace: Workspace, app_id: str) -> None:
    workspace.write(config(webhook(webhook_id="bad", app_id=app_id, url="http://example.com")))
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Invalid Webhook URL" in result.text
    assert "url" in result.text
    assert "main.tf" in result.text


def test_invalid_header_name_names_the_header(workspace: Workspace, app_id: str) -> None:
    workspace.write(config(webhook(webhook_id="bad", app_id=app_id, headers={"Bad Header": "x"})))
    result = workspace.fail("validate", "-no-color")
    assert "Invalid Header Name" in result.text
    assert "'Bad Header' is not a valid HTTP header name" in result.text


def test_missing_required_attribute_is_terraforms_error(workspace: Workspace) -> None:
    workspace.write(
        config('resource "humanitec_webhook" "hook" {\n  id = "x"\n  url = "https://e.com"\n}\n')
    )
    result = workspace.fail("validate", "-no-color")
    assert 'The argument "app_id" is required' in result.text


def test_unknown_trigger_fails_plan_before_any_request(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    """A webhook on an event that does not exist would never fire: an error, not a warning
    (tests/e2e/test_placeholders.py has every plan-time check of a webhook at validate)."""
    workspace.write(
        config(webhook(webhook_id="w", app_id=app_id, triggers=[("deployment", "finish")]))
    )
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Error: Unknown Webhook Trigger" in result.text
    assert 'Did you mean type = "finished"?' in result.text
    assert api.get(f"/apps/{app_id}/webhooks").json() == []


def test_wrong_token_fails_plan_with_the_api_message(workspace: Workspace, app_id: str) -> None:
    workspace.env["HUMANITEC_TOKEN"] = "not-the-token"
    workspace.write(config(webhook(webhook_id="w", app_id=app_id)))
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Humanitec Token Rejected" in result.text
    assert "401" in result.text
    assert "Could not validate token" in result.text
    assert "not-the-token" not in result.output


def test_token_with_a_trailing_newline_is_refused_without_showing_it(
    workspace: Workspace, app_id: str
) -> None:
    workspace.env["HUMANITEC_TOKEN"] = TOKEN + "\n"
    workspace.write(config(webhook(webhook_id="w", app_id=app_id)))
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Invalid API Token" in result.text
    assert TOKEN not in result.output


def test_missing_token_names_what_to_set(workspace: Workspace, app_id: str) -> None:
    del workspace.env["HUMANITEC_TOKEN"]
    workspace.write(config(webhook(webhook_id="w", app_id=app_id)))
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Missing API Token Configuration" in result.text
    assert "HUMANITEC_TOKEN" in result.text


def test_duplicate_id_in_the_org_is_a_clear_error(
    workspace: Workspace, second_workspace: Workspace, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="taken", app_id=app_id)))
    workspace.apply()
    # The same id with other settings: not adopted, and the holder is named.
    second_workspace.write(
        config(webhook(webhook_id="taken", app_id=app_id, url="https://other.example.com"))
    )
    result = second_workspace.fail("apply", "-auto-approve", "-no-color", "-input=false")
    assert "Webhook Already Exists" in result.text
    assert f"application '{app_id}'" in result.text
    assert f'id = "{app_id}/taken"' in result.text


def test_secrets_stay_out_of_plans_and_logs(
    workspace: Workspace, app_id: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "terraform.log"
    workspace.env.update(TF_LOG="trace", TF_LOG_PATH=str(log_file))
    workspace.write(
        config(
            webhook(
                webhook_id="s", app_id=app_id, secret_headers={"Authorization": "hdr-secret-42"}
            )
        )
    )
    plan = workspace.run("plan", "-no-color", "-input=false")
    assert "(write-only attribute)" in plan.stdout
    apply = workspace.apply()
    log = log_file.read_text(encoding="utf-8")
    assert "provider." in log  # the provider's own log lines made it into Terraform's log
    for secret in (TOKEN, "hdr-secret-42"):
        assert secret not in plan.text
        assert secret not in apply.output
        assert secret not in log


def _hook(**attributes: str) -> str:
    """A webhook block with raw HCL expressions, so a test can write ``null``."""
    values = {
        "id": '"w"',
        "app_id": '"app"',
        "url": '"https://example.com/hook"',
        "triggers": '[{ scope = "environment", type = "created" }]',
        **attributes,
    }
    body = "".join(f"  {name} = {expression}\n" for name, expression in values.items())
    return f'resource "humanitec_webhook" "hook" {{\n{body}}}\n'


BAD_VALUES = {
    "null-trigger-scope": (
        {"triggers": '[{ scope = null, type = "created" }]'},
        "Missing Required Attribute",
        "triggers[*].scope is required",
        '[{ scope = null, type = "created" }]',  # a set element has no path of its own
    ),
    "null-header": (
        {"headers": '{ X = "ok", Y = null }'},
        "Invalid Null Element",
        'headers["Y"] is null',
        "null",
    ),
    "null-payload-value": (
        {"payload": "{ a = null }"},
        "Invalid Null Element",
        'payload["a"] is null',
        "null",
    ),
    "id-with-slash": (
        {"id": '"app/hook"'},
        "Invalid ID",
        "id must not contain '/'",
        '"app/hook"',
    ),
    "app-id-with-space": (
        {"app_id": '"my app"'},
        "Invalid ID",
        "app_id must not contain spaces",
        '"my app"',
    ),
    "url-with-nul": (
        {"url": '"https://example.com/\\u0000"'},
        "Invalid Webhook URL",
        "must not contain control characters (U+0000)",
        '"https://example.com/\\u0000"',
    ),
}


@pytest.mark.parametrize(
    ("attributes", "summary", "detail", "highlighted"), BAD_VALUES.values(), ids=BAD_VALUES.keys()
)
def test_bad_values_are_errors_at_validate_on_their_attribute(
    workspace: Workspace, attributes: dict[str, str], summary: str, detail: str, highlighted: str
) -> None:
    workspace.write(config(_hook(**attributes)))
    result = workspace.fail("validate", "-json", "-no-color")
    [diagnostic] = json.loads(result.stdout)["diagnostics"]
    assert (diagnostic["severity"], diagnostic["summary"]) == ("error", summary)
    assert detail in diagnostic["detail"]
    # Where Terraform points shows the path it understood.
    snippet = diagnostic["snippet"]
    start, end = snippet["highlight_start_offset"], snippet["highlight_end_offset"]
    assert snippet["code"][start:end] == highlighted
    name = next(iter(attributes))
    assert snippet["code"].lstrip().startswith(name)


def test_null_trigger_scope_fails_plan_before_any_request(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(
        config(_hook(app_id=f'"{app_id}"', triggers='[{ scope = null, type = "created" }]'))
    )
    result = workspace.fail("plan", "-no-color", "-input=false")
    assert "Missing Required Attribute" in result.text
    assert api.get(f"/apps/{app_id}/webhooks").json() == []
