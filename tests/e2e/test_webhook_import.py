"""Importing an existing webhook gives exactly the state Terraform would have created."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .configs import config, webhook
from .harness import Workspace

ADDRESS = "humanitec_webhook.hook"


def full_webhook(app_id: str) -> str:
    return webhook(
        webhook_id="imported",
        app_id=app_id,
        headers={"X-Token": "abc"},
        payload={"env": "$${env_id}"},
        disabled=True,
        triggers=[("environment", "created"), ("deployment", "finished")],
    )


def minimal_webhook(app_id: str) -> str:
    return webhook(webhook_id="imported", app_id=app_id)


SHAPES = pytest.mark.parametrize("shape", [minimal_webhook, full_webhook], ids=["minimal", "full"])
Shape = Callable[[str], str]


def created_state(workspace: Workspace, app_id: str, shape: Shape) -> dict[str, Any]:
    workspace.write(config(shape(app_id)))
    workspace.apply()
    return workspace.state()[ADDRESS]


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def canonical(state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "triggers": sorted(state["triggers"], key=str)}

    return canonical(a) == canonical(b)


@SHAPES
def test_terraform_import_matches_the_created_state(
    workspace: Workspace, second_workspace: Workspace, app_id: str, shape: Shape
) -> None:
    created = created_state(workspace, app_id, shape)

    second_workspace.write(config(shape(app_id)))
    second_workspace.run("import", "-no-color", "-input=false", ADDRESS, f"{app_id}/imported")
    assert same_state(second_workspace.state()[ADDRESS], created)
    assert second_workspace.plan_exit_code() == 0


@SHAPES
def test_import_block_matches_the_created_state(
    workspace: Workspace, second_workspace: Workspace, app_id: str, shape: Shape
) -> None:
    created = created_state(workspace, app_id, shape)

    block = f'import {{\n  to = {ADDRESS}\n  id = "{app_id}/imported"\n}}\n'
    second_workspace.write(config(shape(app_id), block))
    assert second_workspace.planned_actions() == {ADDRESS: ["no-op"]}
    second_workspace.apply()
    assert same_state(second_workspace.state()[ADDRESS], created)
    assert second_workspace.plan_exit_code() == 0


@pytest.mark.parametrize(
    "import_id",
    ["no-slash", "app/", "/hook", "a/b/c", "//"],
    ids=["no-slash", "empty-id", "empty-app", "three-parts", "empty-both"],
)
def test_malformed_import_id_gives_the_official_error(
    workspace: Workspace, app_id: str, import_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="x", app_id=app_id)))
    result = workspace.fail("import", "-no-color", "-input=false", ADDRESS, import_id)
    assert "Unexpected Import Identifier" in result.text
    assert (
        f'Expected import identifier with format: app_id/webhook_id. Got: "{import_id}"'
        in result.text
    )


def test_importing_a_missing_webhook_fails_clearly(workspace: Workspace, app_id: str) -> None:
    workspace.write(config(webhook(webhook_id="x", app_id=app_id)))
    result = workspace.fail("import", "-no-color", "-input=false", ADDRESS, f"{app_id}/x")
    assert "Cannot import non-existent remote object" in result.text
