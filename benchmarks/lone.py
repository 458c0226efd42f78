"""The set-up every Terraform benchmark needs, and one provider workspace on it.

:func:`terraform_setup`: an emulator with one application behind a request counter, a private
installation of the provider in a mirror (warm processes kept out of the user's own
directory, and stopped at the end), and Terraform's environment for both. ``bench.py`` builds
its workspaces on it; ``profile.py`` and ``rpc_breakdown.py`` study one command on one
workspace of N webhooks that Terraform has initialised (:func:`lone_workspace`), with the
installed launcher replaced by an instrument.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.counting import RequestCounter
from benchmarks.private import private_installation
from benchmarks.workload import Workspace
from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.emulator.app import create_app
from provider.emulator.server import BackgroundServer
from provider.emulator.store import WebhookStore
from provider.install import InstallResult, install_into_mirror
from provider.warm.protocol import DIR_ENV
from tests.e2e.harness import available_terraforms, terraform_env

__all__ = ["TerraformSetup", "lone_workspace", "terraform_setup"]


@dataclass(frozen=True)
class TerraformSetup:
    """An emulator and a private installation, with Terraform's environment for both."""

    root: Path  # a temporary directory, removed on the way out
    store: WebhookStore
    counter: RequestCounter  # in front of the emulator
    server: BackgroundServer
    token: str
    org: str
    app: str  # the one application, in ``store``
    installed: InstallResult
    warm_dir: Path
    env: dict[str, str]  # Terraform's, and so the provider's


@contextlib.contextmanager
def terraform_setup(prefix: str = "bench") -> Iterator[TerraformSetup]:
    """Start the emulator, install the provider and point Terraform at both; ``prefix`` names
    the temporary directory and the organisation."""
    token = uuid.uuid4().hex
    org, app = f"{prefix}-{uuid.uuid4().hex[:8]}", f"app-{uuid.uuid4().hex[:8]}"
    store = WebhookStore()
    store.ensure_app(org, app)
    counter = RequestCounter(create_app(store, token))
    with (
        tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp,
        private_installation(Path(tmp)) as warm_dir,
        BackgroundServer(counter) as server,
    ):
        root = Path(tmp)
        installed = install_into_mirror(
            root / "mirror", source=PROVIDER_ADDRESS, version=__version__
        )
        cli_config = root / "terraform.tfrc"
        cli_config.write_text(installed.cli_config(), encoding="utf-8")
        # terraform_env drops HUMANITEC_* from os.environ, private_installation's warm
        # directory included: without it here, warm processes would listen in the user's own
        # directory and outlive the run.
        extra = {
            "HUMANITEC_API_PREFIX": server.url,
            "HUMANITEC_ORG": org,
            "HUMANITEC_TOKEN": token,
            DIR_ENV: str(warm_dir),
        }
        env = terraform_env(cli_config, extra)
        yield TerraformSetup(
            root, store, counter, server, token, org, app, installed, warm_dir, env
        )


@contextlib.contextmanager
def lone_workspace(
    kind: str,
    count: int,
    *,
    instrument: Callable[[Path], object],
    prefix: str = "bench",
) -> Iterator[tuple[Workspace, RequestCounter]]:
    """A workspace of ``count`` webhooks of ``kind`` (a key of ``workload.KINDS``), and the
    counter in front of its emulator; ``instrument`` gets the installed launcher's path
    first."""
    terraform = {tf.name: tf for tf in available_terraforms()}
    argv = (terraform.get("path") or terraform["bundled"]).argv
    with terraform_setup(prefix) as setup:
        instrument(setup.installed.launcher)
        yield (
            Workspace.create(kind, count, setup.root, argv, setup.env, setup.app),
            setup.counter,
        )
