"""One provider workspace against an in-process emulator, for the tools that study one command.

``profile.py`` and ``rpc_breakdown.py`` both need the same set-up: an emulator with one
application, a private installation of the provider in a mirror (warm processes kept out of
the user's own directory, and stopped at the end), the installed launcher replaced by an
instrument, and one workspace of N webhooks that Terraform has initialised.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks.counting import RequestCounter
from benchmarks.private import private_installation
from benchmarks.workload import Workspace
from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.emulator.app import create_app
from provider.emulator.server import BackgroundServer
from provider.emulator.store import WebhookStore
from provider.install import install_into_mirror
from tests.e2e.harness import available_terraforms, terraform_env

__all__ = ["lone_workspace"]


@contextlib.contextmanager
def lone_workspace(
    kind: str,
    count: int,
    *,
    instrument: Callable[[Path], object],
    env: dict[str, str] | None = None,
    prefix: str = "bench",
) -> Iterator[tuple[Workspace, RequestCounter]]:
    """A workspace of ``count`` webhooks of ``kind`` (a key of ``workload.KINDS``), and the
    counter in front of its emulator; ``instrument`` gets the installed launcher's path
    first, ``env`` is added to Terraform's (and so the provider's) environment."""
    token = uuid.uuid4().hex
    org, app = f"{prefix}-{uuid.uuid4().hex[:8]}", f"app-{uuid.uuid4().hex[:8]}"
    store = WebhookStore()
    store.ensure_app(org, app)
    counter = RequestCounter(create_app(store, token))
    terraform = {tf.name: tf for tf in available_terraforms()}
    argv = (terraform.get("path") or terraform["bundled"]).argv
    with (
        tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp,
        private_installation(Path(tmp)),
        BackgroundServer(counter) as server,
    ):
        root = Path(tmp)
        installed = install_into_mirror(
            root / "mirror", source=PROVIDER_ADDRESS, version=__version__
        )
        instrument(installed.launcher)
        cli_config = root / "terraform.tfrc"
        cli_config.write_text(installed.cli_config(), encoding="utf-8")
        extra = {"HUMANITEC_API_PREFIX": server.url, "HUMANITEC_ORG": org, "HUMANITEC_TOKEN": token}
        yield (
            Workspace.create(
                kind, count, root, argv, terraform_env(cli_config, extra | (env or {})), app
            ),
            counter,
        )
