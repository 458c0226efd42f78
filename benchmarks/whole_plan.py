"""``plan`` at N=1 as a whole command, with warm start and without: what a user waits for.

The start-up table times one launch up to its handshake line; a ``plan`` of one resource also
pays Terraform's own start, its three provider launches and their RPCs. ``bench.py`` runs this
after the workloads, on the N=1 provider workspace: one resource is created (untimed), ``plan``
(``workload.ARGS``) runs round-robin with ``HUMANITEC_PROVIDER_WARM`` unset and ``=0``, after
one untimed warm-up of each, and the resource is destroyed again.

Only wall time is reported: the workloads give both starts' CPU (a warm child's is read from
the warm process, ``warm_usage.py``), and their N=1 ``plan`` is this command.

The warm process listens in the run's private directory (``private.py`` stops it on the way
out); ``measure`` checks that one is running, so the warm row cannot silently be a cold one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.startup import Variant, run_round_robin
from benchmarks.workload import ARGS, Workspace
from provider.warm.protocol import SWITCH_ENV
from tests.warm import alive, warm_pids

__all__ = ["LABELS", "measure", "wait_for_warm_process"]

LABELS = {
    "warm": "`plan` N=1, whole command, warm start",
    "cold": f"`plan` N=1, whole command, cold ({SWITCH_ENV}=0)",
}
WARM_WAIT_SECONDS = 30.0


def measure(workspace: Workspace, warm_dir: Path, runs: int) -> dict[str, dict[str, Any]]:
    """Median and samples of ``plan``'s wall time, by label, warm and cold."""
    env = {k: v for k, v in workspace.env.items() if k != SWITCH_ENV}
    warm = dataclasses.replace(workspace, env=env, runs={})
    cold = dataclasses.replace(workspace, env=dict(env, **{SWITCH_ENV: "0"}), runs={})
    cold.terraform(*ARGS["apply (create)"][0])
    variants = [Variant(LABELS["warm"], _plan(warm)), Variant(LABELS["cold"], _plan(cold))]
    variants[0].measure()  # the untimed warm-ups; this one starts the warm process
    wait_for_warm_process(warm_dir)
    variants[1].measure()
    run_round_robin(variants, runs, warmup=0)
    wait_for_warm_process(warm_dir, timeout=0.0)  # still there: every warm run was warm
    cold.terraform(*ARGS["destroy"][0])
    return {v.label: {"median_ms": v.median_ms, "samples_s": v.samples} for v in variants}


def _plan(workspace: Workspace) -> Callable[[], float]:
    args, ok = ARGS["plan"]
    return lambda: workspace.terraform(*args, ok=ok)[0]


def wait_for_warm_process(warm_dir: Path, timeout: float = WARM_WAIT_SECONDS) -> int:
    """The pid of a warm process listening in ``warm_dir`` (it renames its socket into place
    once it listens), waiting up to ``timeout`` seconds for one."""
    deadline = time.monotonic() + timeout
    while True:
        if list(warm_dir.glob("*.sock")):
            pid = next((p for p in warm_pids(warm_dir) if alive(p)), None)
            if pid is not None:
                return pid
        if time.monotonic() >= deadline:
            raise SystemExit(f"no warm process in {warm_dir}: the warm row would be a cold one")
        time.sleep(0.1)
