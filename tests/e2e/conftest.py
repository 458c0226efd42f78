"""Fixtures for end-to-end tests: emulator, mirror-installed provider, real Terraform."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.emulator.server import EmulatorServer
from provider.install import install_into_mirror

from .faultproxy import FaultProxy
from .harness import Terraform, Workspace, available_terraforms, terraform_env

TOKEN = "e2e-secret-token-0123456789"

PROVIDER_BLOCK = """\
terraform {
  required_providers {
    humanitec = {
      source = "humanitec/humanitec"
    }
  }
}

provider "humanitec" {}
"""


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="session")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CLI config that installs the provider from a freshly written mirror."""
    root = tmp_path_factory.mktemp("provider")
    result = install_into_mirror(root / "mirror", source=PROVIDER_ADDRESS, version=__version__)
    path = root / "terraform.tfrc"
    path.write_text(result.cli_config(), encoding="utf-8")
    return path


@pytest.fixture(scope="session", params=available_terraforms(), ids=lambda t: t.name)
def terraform(request: pytest.FixtureRequest) -> Terraform:
    tf: Terraform = request.param
    return tf


@pytest.fixture(scope="session")
def initialised(
    terraform: Terraform, cli_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One `terraform init` per Terraform; workspaces copy its result."""
    template = tmp_path_factory.mktemp(f"init-{terraform.name}")
    workspace = Workspace(terraform, template, terraform_env(cli_config, {}))
    workspace.write(PROVIDER_BLOCK)
    workspace.init()
    return template


@pytest.fixture
def org() -> str:
    """A fresh organization: webhook ids are unique per organization, so tests
    (and the same test on each Terraform) never collide."""
    return f"org-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def api(emulator: EmulatorServer, org: str) -> Iterator[httpx.Client]:
    """Raw HTTP access to the emulator, to look at or change what the API holds."""
    with httpx.Client(
        base_url=f"{emulator.url}/orgs/{org}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,  # loopback: never through a proxy from the environment
    ) as client:
        yield client


@pytest.fixture
def app_id(api: httpx.Client) -> str:
    """A fresh application in the test's organization."""
    app = f"app-{uuid.uuid4().hex[:8]}"
    response = api.post("/apps", json={"id": app, "name": app})
    assert response.status_code == 201, response.text
    return app


def new_workspace(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    path: Path,
    env: dict[str, str],
) -> Workspace:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(initialised / ".terraform", path / ".terraform", symlinks=True)
    shutil.copy(initialised / ".terraform.lock.hcl", path / ".terraform.lock.hcl")
    return Workspace(terraform, path, terraform_env(cli_config, env))


@pytest.fixture
def workspace_env(emulator: EmulatorServer, org: str) -> dict[str, str]:
    return {
        "HUMANITEC_API_PREFIX": emulator.url,
        "HUMANITEC_ORG": org,
        "HUMANITEC_TOKEN": TOKEN,
    }


@pytest.fixture
def workspace(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    tmp_path: Path,
    workspace_env: dict[str, str],
) -> Workspace:
    return new_workspace(terraform, initialised, cli_config, tmp_path / "ws", workspace_env)


@pytest.fixture
def second_workspace(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    tmp_path: Path,
    workspace_env: dict[str, str],
) -> Workspace:
    return new_workspace(terraform, initialised, cli_config, tmp_path / "ws2", workspace_env)


@pytest.fixture(scope="session")
def fault_proxy_server(emulator: EmulatorServer) -> Iterator[FaultProxy]:
    with FaultProxy(emulator.url) as proxy:
        yield proxy


@pytest.fixture
def proxy(fault_proxy_server: FaultProxy) -> Iterator[FaultProxy]:
    """The fault proxy in front of the emulator: no rules, empty log, reseeded per test."""
    fault_proxy_server.reset()
    seed = fault_proxy_server.seed
    print(f"fault proxy seed {seed} (replay with FAULT_SEED={seed})")  # shown on failure
    yield fault_proxy_server
    fault_proxy_server.reset()


@pytest.fixture
def proxied_workspace(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    tmp_path: Path,
    workspace_env: dict[str, str],
    proxy: FaultProxy,
) -> Workspace:
    """A workspace whose provider talks to the emulator through ``proxy``."""
    env = {**workspace_env, "HUMANITEC_API_PREFIX": proxy.url}
    return new_workspace(terraform, initialised, cli_config, tmp_path / "proxied", env)
