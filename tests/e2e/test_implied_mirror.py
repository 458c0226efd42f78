"""`install` with no --mirror: `terraform init` finds the provider with no CLI configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import PROVIDER_BLOCK
from .harness import BUNDLED

PROVIDER = str(Path(sys.executable).parent / "terraform-provider-humanitec")


def test_init_finds_the_implied_mirror_without_cli_config(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "HUMANITEC_"))}
    env.update(HOME=str(tmp_path), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    installed = subprocess.run(
        [PROVIDER, "install"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text(PROVIDER_BLOCK, encoding="utf-8")
    init = subprocess.run(
        [*BUNDLED, "init", "-no-color", "-input=false"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Installed humanitec/humanitec" in init.stdout
    schema = subprocess.run(
        [*BUNDLED, "providers", "schema", "-json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert '"humanitec_webhook"' in schema.stdout, schema.stderr
