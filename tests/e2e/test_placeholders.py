"""Placeholder, trigger and header-value checks as a user sees them: ``terraform validate``.

One configuration holds a webhook per mistake and clean webhooks beside them; one
``terraform validate -json`` per Terraform gives every diagnostic, each placed by its
resource (the snippet's context) and by what Terraform underlines (its attribute path).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from provider import events
from provider.emulator.server import EmulatorServer

from .configs import Trigger, config, webhook
from .conftest import TOKEN, new_workspace
from .harness import Terraform, Workspace

EVERY_EVENT = tuple((e.scope, e.type) for e in events.EVENTS)


def hook(
    name: str,
    triggers: Sequence[Trigger] = (("environment", "created"),),
    payload: Mapping[str, str] | None = None,
    **extra: Any,
) -> str:
    return webhook(name, webhook_id=name, app_id="app", triggers=triggers, payload=payload, **extra)


def every_placeholder(event: events.Event) -> dict[str, str]:
    return {name: "${" + name + "}" for name in event.variable_names()}


# Values unknown at validate: a placeholder beside a variable makes the whole string
# unknown, and triggers from a variable leave what the payload may use open.
LATE = """\
variable "late" {
  type = string
}

variable "triggers" {
  type = set(object({ scope = string, type = string }))
}

resource "humanitec_webhook" "late" {
  id       = "late"
  app_id   = "app"
  url      = "https://example.com/hook"
  triggers = [{ scope = "environment", type = "created" }]
  payload  = { typo = "$${app_idd} ${var.late}", whole = var.late }
}

resource "humanitec_webhook" "late_triggers" {
  id       = "late-triggers"
  app_id   = "app"
  url      = "https://example.com/hook"
  triggers = var.triggers
  payload  = { deployment = "$${deploy_id}" }
}
"""

CONFIG = config(
    # Mistakes, one per resource.
    hook("typo", payload={"app": "${app_idd}"}),
    hook("seed", payload={"deployment": "${deploy_id}", "status": "${status}"}),
    hook("mixed", (("deployment", "finished"), ("environment", "created")), {"env": "${name}"}),
    hook("finish", (("deployment", "finish"),)),
    hook("scope", (("deploy", "started"),)),
    hook("none", ()),
    hook("header", headers={"X-Ok": "fine", "X-Bad": "a\r\nX-Injected: 1"}),
    hook("secret", secret_headers={"Authorization": "Bearer x\ny"}),
    # Clean: every documented placeholder of each trigger, the common ones on all of them,
    # literal text, and values only known at apply.
    *(
        hook(f"every_{e.scope}_{e.type}", ((e.scope, e.type),), every_placeholder(e))
        for e in events.EVENTS
    ),
    hook("common", EVERY_EVENT, {v.name: "${" + v.name + "}" for v in events.COMMON_VARIABLES}),
    hook("literal", payload={"price": "$5", "share": "100%", "dollars": "$$", "tpl": "%{x}"}),
    LATE,
)


class Seen(NamedTuple):
    """A diagnostic of a resource; ``highlighted`` is what Terraform underlines, unquoted."""

    resource: str
    severity: str
    summary: str
    detail: str
    highlighted: str


EXPECTED = {
    "unknown-placeholder": Seen(
        "typo",
        "warning",
        "Unknown Payload Placeholder",
        "No Humanitec event provides ${app_idd}, so the receiver gets it as written. "
        "Did you mean ${app_id}?",
        "$${app_idd}",
    ),
    "not-provided-deploy-id": Seen(
        "seed",
        "warning",
        "Placeholder Not Provided By Trigger",
        "${deploy_id} is not provided by the trigger environment/created, whose calls leave "
        "it unfilled; only deployment/started and deployment/finished provide it.",
        "$${deploy_id}",
    ),
    "not-provided-status": Seen(
        "seed",
        "warning",
        "Placeholder Not Provided By Trigger",
        "${status} is not provided by the trigger environment/created",
        "$${status}",
    ),
    "provided-by-some-triggers": Seen(
        "mixed",
        "warning",
        "Placeholder Not Provided By Trigger",
        "${name} is not provided by the trigger deployment/finished, whose calls leave it "
        "unfilled; only environment/created and environment/deleted provide it.",
        "$${name}",
    ),
    "trigger-type-typo": Seen(
        "finish",
        "error",
        "Unknown Webhook Trigger",
        "Humanitec documents no event deployment/finish, so a webhook on it would never "
        'fire. Did you mean type = "finished"?',
        '[\n    { scope = "deployment", type = "finish" },\n  ]',
    ),
    "trigger-scope-typo": Seen(
        "scope",
        "error",
        "Unknown Webhook Trigger",
        "Humanitec documents no event deploy/started, so a webhook on it would never fire. "
        'Did you mean scope = "deployment"?',
        '[\n    { scope = "deploy", type = "started" },\n  ]',
    ),
    "no-triggers": Seen(
        "none",
        "warning",
        "No Webhook Triggers",
        "triggers is empty, so this webhook never fires.",
        "[\n  ]",
    ),
    "header-value": Seen(
        "header",
        "error",
        "Invalid Header Value",
        "The value of header 'X-Bad' contains a carriage return (U+000D), which would end the "
        "header and inject what follows as another one.",
        "a\\r\\nX-Injected: 1",
    ),
    "secret-header-value": Seen(
        "secret",
        "error",
        "Invalid Header Value",
        "The value of header 'Authorization' contains a line feed (U+000A)",
        "Bearer x\\ny",
    ),
}


def seen(diagnostic: dict[str, Any]) -> Seen:
    snippet = diagnostic.get("snippet") or {}
    start, end = snippet.get("highlight_start_offset", 0), snippet.get("highlight_end_offset", 0)
    context = snippet.get("context") or ""  # 'resource "humanitec_webhook" "typo"'
    return Seen(
        context.rsplit('"', 2)[-2] if context.count('"') >= 2 else context,
        diagnostic["severity"],
        diagnostic["summary"],
        diagnostic.get("detail", ""),
        # Terraform 1.15 underlines a string with its quotes, 1.11 only what is inside.
        snippet.get("code", "")[start:end].removeprefix('"').removesuffix('"'),
    )


@pytest.fixture(scope="module")
def diagnostics(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    emulator: EmulatorServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Seen]:
    """Every diagnostic of one ``terraform validate -json`` of :data:`CONFIG`."""
    env = {"HUMANITEC_API_PREFIX": emulator.url, "HUMANITEC_ORG": "org", "HUMANITEC_TOKEN": TOKEN}
    path = tmp_path_factory.mktemp(f"placeholders-{terraform.name}")
    workspace = new_workspace(terraform, initialised, cli_config, path / "ws", env)
    workspace.write(CONFIG)
    result = workspace.fail("validate", "-json", "-no-color")
    return [seen(d) for d in json.loads(result.stdout)["diagnostics"]]


@pytest.mark.parametrize("expected", EXPECTED.values(), ids=EXPECTED.keys())
def test_each_mistake_is_reported_on_its_attribute(diagnostics: list[Seen], expected: Seen) -> None:
    at = [
        d
        for d in diagnostics
        if d.resource == expected.resource and d.highlighted == expected.highlighted
    ]
    assert [(d.severity, d.summary) for d in at] == [(expected.severity, expected.summary)], (
        diagnostics
    )
    assert expected.detail in at[0].detail


def test_nothing_else_is_reported(diagnostics: list[Seen]) -> None:
    """Documented placeholders, literal text and values unknown at validate pass silently."""
    assert sorted(d.resource for d in diagnostics) == sorted(e.resource for e in EXPECTED.values())


def test_values_known_only_at_plan_are_checked_at_plan(workspace: Workspace, app_id: str) -> None:
    """Validate skips what is unknown; plan validates again with the variables known."""
    workspace.write(
        config(
            f"""\
variable "suffix" {{
  type = string
}}

variable "scope" {{
  type = string
}}

resource "humanitec_webhook" "hook" {{
  id       = "late"
  app_id   = "{app_id}"
  url      = "https://example.com/hook"
  triggers = [{{ scope = var.scope, type = "started" }}]
  payload  = {{ typo = "$${{app_idd}}${{var.suffix}}" }}
}}
"""
        )
    )
    validate = workspace.run("validate", "-no-color")
    assert "Warning" not in validate.text
    plan = workspace.fail("plan", "-no-color", "-input=false", "-var=suffix=!", "-var=scope=deploy")
    assert "Warning: Unknown Payload Placeholder" in plan.text
    assert "Did you mean ${app_id}?" in plan.text
    assert "Error: Unknown Webhook Trigger" in plan.text
    assert 'Did you mean scope = "deployment"?' in plan.text
