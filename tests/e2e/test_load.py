"""Load: 1000 webhooks in 10 applications at ``-parallelism=50``: apply, refresh, destroy.

Straight to the emulator (no proxy) and on one Terraform only, to keep it cheap. Wall times
and the provider's peak RSS (largest ``VmHWM`` of one provider process) go to ``load.json``
in the test's tmp dir and to stdout (``pytest -rP`` or ``-s`` shows them).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from .checks import api_views, new_app
from .configs import config, webhook
from .harness import Workspace, available_terraforms
from .procwatch import ProviderMemory

pytestmark = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)

APPS = 10
HOOKS_PER_APP = 100
PARALLELISM = "-parallelism=50"
COMMAND_TIMEOUT = 600


def test_thousand_webhooks_apply_refresh_and_destroy(
    workspace: Workspace, api: httpx.Client, tmp_path: Path, record_property: Any
) -> None:
    apps = [new_app(api) for _ in range(APPS)]
    workspace.write(
        config(
            *(
                webhook(
                    f"w{a}_{h}",
                    webhook_id=f"load-{a}-{h}",
                    app_id=app,
                    url=f"https://example.com/{a}/{h}",
                    headers={"X-Hook": f"{a}-{h}"},
                )
                for a, app in enumerate(apps)
                for h in range(HOOKS_PER_APP)
            )
        )
    )
    probe = uuid.uuid4().hex
    workspace.env["PROVIDER_MEMORY_PROBE"] = probe
    # In-process: a warm child shows its warm process's command line and environment in
    # /proc, so ProviderMemory would see only the launchers.
    workspace.env["HUMANITEC_PROVIDER_WARM"] = "0"
    marker = f"PROVIDER_MEMORY_PROBE={probe}"
    figures: dict[str, Any] = {"webhooks": APPS * HOOKS_PER_APP, "applications": APPS}
    commands = {
        "apply": ("apply", "-auto-approve"),
        "refresh": ("plan", "-detailed-exitcode"),  # refreshes all 1000; 0: nothing to do
        "destroy": ("destroy", "-auto-approve", "-refresh=false"),  # refresh timed above
    }
    for phase, command in commands.items():
        started = time.monotonic()
        with ProviderMemory(marker) as memory:
            workspace.run(
                *command, "-input=false", "-no-color", PARALLELISM, timeout=COMMAND_TIMEOUT
            )
        figures[phase] = {
            "seconds": round(time.monotonic() - started, 1),
            "provider_peak_rss_mib": round(memory.peak_kib / 1024, 1),
            "provider_processes": memory.processes,
        }
        assert memory.processes > 0, "no provider process was seen: the RSS figure is void"
        held = api_views(api, apps)
        assert len(held) == (0 if phase == "destroy" else APPS * HOOKS_PER_APP), phase

    assert workspace.state() == {}
    (tmp_path / "load.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    record_property("load", json.dumps(figures))
    print(f"load figures: {json.dumps(figures)}")
