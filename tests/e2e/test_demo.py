"""`make demo` keeps working: it is the first thing a new user runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .harness import ROOT


def test_demo_applies_every_event_webhook_delivers_each_and_cleans_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "HUMANITEC_"))}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Apply complete! Resources: 4 added" in done.stdout
    assert '"application": "${app_id}"' in done.stdout  # placeholders reach the API unescaped
    received = done.stdout.split("=== The receiver got POST ")[1:]
    assert [part.split(" ===")[0] for part in received] == [
        "/hooks/environment-created",
        "/hooks/deployment-started",
        "/hooks/deployment-finished",
        "/hooks/environment-deleted",
    ]
    # What the receiver got is rendered: no placeholder left, the event's values in.
    assert all("${" not in part.split("=== terraform")[0] for part in received)
    assert '"environment": "demo-env"' in received[0]
    assert '"event": "environment.created"' in received[0]
    assert "'x-source': 'terraform'" in received[1]  # the webhook's header arrived
    assert '"status": "succeeded"' in received[2]
    assert '"event": "environment.deleted"' in received[3]
    assert "After destroy the API holds 0 webhooks" in done.stdout
