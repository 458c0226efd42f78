"""Warm start against cold start and the ``import grpc`` floor, as Terraform experiences them.

What it measures
    The time from ``Popen`` of the installed provider launcher to the moment the go-plugin
    handshake line has been read from its stdout, in two ways:

    - ``warm``: the default; a warm process for this installation is running (started by
      untimed launches first, in a private socket directory of this run);
    - ``cold``: ``HUMANITEC_PROVIDER_WARM=0``, served in-process as before warm start existed;
    - ``none``: warm start on, but no warm process reachable and none startable (this run
      holds the lock a starting one would take): what looking for one adds to a launch;

    against ``python -I -c "import grpc"`` (until exit), the floor of any grpcio-based provider,
    and ``python -I -S -c pass``, the interpreter the launcher itself starts.

How
    Installed into a temporary filesystem mirror and run with the environment go-plugin gives
    a plugin (magic cookie, protocol versions, a P-521 client certificate). Once the line is
    read the launcher is killed (SIGKILL, as Terraform's last resort: its warm child follows it
    within milliseconds). Variants run round-robin, the starting one rotating each round, after
    untimed warm-up rounds. The warm process is stopped at the end (SIGTERM, its pid read from
    its lock file).

How to read the output
    Medians, min and max in ms, then ratios of the medians against the floor: the targets are
    warm <= 0.5 and cold <= 1.25. A wide min-max range means the machine was busy; only
    ratios within one run are comparable. With ``--json FILE`` the figures are also written
    as JSON.

Run: ``.venv/bin/python -m benchmarks.warm_start [--runs N] [--json FILE]`` (default 20 runs).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.startup import (
    WARMUP_ROUNDS,
    Variant,
    launch_setup,
    launch_until_handshake,
    print_variants,
    run_round_robin,
    time_until_exit,
)

WARM_WAIT_SECONDS = 30.0


def wait_until_warm(launch: Callable[[], str]) -> None:
    """Launch (untimed) until a launch says a warm process served it."""
    deadline = time.monotonic() + WARM_WAIT_SECONDS
    while time.monotonic() < deadline:
        if "served by warm process" in launch():
            return
        time.sleep(0.2)
    raise SystemExit("no warm process came up: is warm start working?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per variant (default 20)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")

    python = sys.executable
    with launch_setup("bench-warm-") as setup:
        root, tmpdir, installed, env = setup.root, setup.tmpdir, setup.installed, setup.env
        warm_dir = setup.warm_dir
        warm_env = {**env, "TF_LOG_PROVIDER": "info"}  # says who served it; not timed
        cold_env = {**env, "HUMANITEC_PROVIDER_WARM": "0"}
        none_dir = root / "none"
        none_env = {**env, "HUMANITEC_PROVIDER_WARM_DIR": str(none_dir)}
        launcher = [str(installed.launcher)]
        wait_until_warm(lambda: launch_until_handshake(launcher, warm_env, tmpdir)[1])
        none_dir.mkdir(mode=0o700)
        (lock,) = warm_dir.glob("*.lock")
        held = os.open(none_dir / lock.name, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        floor = Variant(
            'python -I -c "import grpc"',
            lambda: time_until_exit([python, "-I", "-c", "import grpc"], env),
        )
        interpreter = Variant(
            "python -I -S -c pass", lambda: time_until_exit([python, "-I", "-S", "-c", "pass"], env)
        )
        warm = Variant(
            "warm launch -> handshake", lambda: launch_until_handshake(launcher, env, tmpdir)[0]
        )
        cold = Variant(
            "cold launch (WARM=0) -> handshake",
            lambda: launch_until_handshake(launcher, cold_env, tmpdir)[0],
        )
        none = Variant(
            "no warm process reachable -> handshake",
            lambda: launch_until_handshake(launcher, none_env, tmpdir)[0],
        )
        variants = [interpreter, floor, warm, cold, none]
        load_before = os.getloadavg()
        started = time.perf_counter()
        run_round_robin(variants, options.runs)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()
        served = launch_until_handshake(launcher, warm_env, tmpdir)[1]
        os.close(held)

    if "served by warm process" not in served:
        raise SystemExit("the warm process was gone by the end of the run: figures void")
    print(
        f"Warm and cold start: Popen -> handshake line read ({options.runs} runs per variant, "
        f"round-robin, {WARMUP_ROUNDS} warm-up rounds, {wall:.1f} s)"
    )
    print(
        f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    print_variants(variants)
    figures: dict[str, object] = {
        "runs": options.runs,
        "median_ms": {v.label: round(v.median_ms, 1) for v in variants},
    }
    print('\nratio of medians to "import grpc" [median of per-round ratios]   target')
    width = max(len(v.label) for v in variants)
    for variant, target, name in ((warm, 0.5, "warm"), (cold, 1.25, "cold"), (none, 1.25, "none")):
        ratio = variant.median_ms / floor.median_ms
        paired = statistics.median(
            v / f for v, f in zip(variant.samples, floor.samples, strict=True)
        )
        verdict = "met" if ratio <= target else "MISSED"
        print(f"{variant.label:<{width}}  {ratio:5.2f}  [{paired:5.2f}]   <= {target} {verdict}")
        figures[f"{name}_ratio"] = round(ratio, 3)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
