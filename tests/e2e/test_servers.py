"""Both gRPC servers serve real Terraform alike: the native one (the default) and grpcio behind
the TLS terminator (``HUMANITEC_PROVIDER_SERVER=grpcio``). The rest of the suite runs the
default; here a whole lifecycle runs on each, and the provider's log says which one served."""

from __future__ import annotations

import httpx
import pytest

from .configs import config, webhook
from .harness import Workspace

# What each server logs when it starts listening (TF_LOG_PROVIDER=debug).
LISTENING = {
    "native": "(TLS)",  # provider.plugin.server: "listening on HOST:PORT (TLS)"
    "grpcio": ", backend ",  # the terminator: "listening on HOST:PORT, backend PATH"
}


@pytest.mark.parametrize("server", ["native", "grpcio"])
def test_a_lifecycle_on_each_server(
    server: str, workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    log = workspace.path / "provider.log"
    workspace.env.update(TF_LOG_PROVIDER="debug", TF_LOG_PATH=str(log))
    if server == "grpcio":
        workspace.env["HUMANITEC_PROVIDER_SERVER"] = "grpcio"
    hook = webhook(webhook_id=f"{server}-hook", app_id=app_id)

    workspace.write(config(hook))
    workspace.apply()
    assert workspace.plan_exit_code("-refresh=false") == 0
    assert workspace.plan_exit_code() == 0
    moved = webhook(webhook_id=f"{server}-hook", app_id=app_id, url="https://example.com/moved")
    workspace.write(config(moved))
    workspace.apply()
    stored = api.get(f"/apps/{app_id}/webhooks/{server}-hook").json()
    workspace.run("destroy", "-auto-approve", "-input=false", "-no-color")

    assert stored["url"] == "https://example.com/moved"
    assert api.get(f"/apps/{app_id}/webhooks/{server}-hook").status_code == 404
    text = log.read_text(encoding="utf-8", errors="replace")
    other = "grpcio" if server == "native" else "native"
    assert LISTENING[server] in text
    assert LISTENING[other] not in text
