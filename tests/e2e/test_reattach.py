"""Debug mode: one long-lived provider process serves several Terraform commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .configs import config, webhook
from .harness import Terraform, Workspace, terraform_env

PROVIDER = str(Path(sys.executable).parent / "terraform-provider-humanitec")


@pytest.fixture
def reattach(workspace_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    # A reattached provider reads its settings from its own environment, not Terraform's.
    process = subprocess.Popen(
        [PROVIDER, "--debug"],
        env={**os.environ, **workspace_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        setting = ""
        while "TF_REATTACH_PROVIDERS=" not in setting:
            setting = process.stdout.readline()
            assert setting, "the provider exited without printing its reattach settings"
        yield process, setting.split("=", 1)[1].strip().strip("'")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0, "the debug provider did not stop on SIGINT"
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_terraform_reattaches_to_the_debug_process(
    reattach: tuple[subprocess.Popen[str], str],
    terraform: Terraform,
    tmp_path: Path,
    api: httpx.Client,
    app_id: str,
) -> None:
    process, providers = reattach
    assert json.loads(providers)["registry.terraform.io/humanitec/humanitec"]["Pid"] == process.pid
    # No init, no mirror, no TLS: Terraform dials the process it was told about.
    cli_config = tmp_path / "empty.tfrc"
    cli_config.write_text("", encoding="utf-8")
    env = terraform_env(cli_config, {"TF_REATTACH_PROVIDERS": providers})
    workspace = Workspace(terraform, tmp_path, env)
    workspace.write(config(webhook(webhook_id="attached", app_id=app_id)))
    workspace.apply()
    assert api.get(f"/apps/{app_id}/webhooks/attached").status_code == 200
    assert workspace.plan_exit_code() == 0
    workspace.run("destroy", "-auto-approve", "-no-color")
    assert api.get(f"/apps/{app_id}/webhooks/attached").status_code == 404
    assert process.poll() is None, "Terraform must not stop a reattached provider"
