"""Terraform commands on N resources, measured: wall time, CPU (Terraform's and the provider's),
provider launches with their peak RSS, and the API requests each command sent.

A workspace holds ``count`` resources of one kind:

- ``provider``: ``humanitec_webhook`` resources, with warm start as users get it (the
  provider processes are forks of the warm process);
- ``cold``: the same with ``HUMANITEC_PROVIDER_WARM=0`` (each launch imports everything;
  ``profile.py`` profiles these: py-spy follows a launch, not a warm child);
- ``baseline``: ``terraform_data`` with a string input, Terraform's own floor (no provider at
  all), against which the issue's targets are defined;
- ``shaped``: ``terraform_data`` whose input has a webhook's shape (an object with a set of
  objects, maps and nulls): Terraform's CPU depends heavily on a value's shape, so this floor
  shows how much of Terraform's work any provider with this schema would cause.

One cycle runs, on a group of such workspaces, each command back to back on each (the caller
rotates which goes first between cycles, so a slow phase of a shared machine hits all alike):

- ``apply (create)``: from an empty state, every resource created;
- ``plan -refresh=false``: the state is current, nothing to do (Terraform's pure planning cost);
- ``plan``: the same with a refresh of every resource;
- ``apply (update)``: ``-var rev=2`` changes every resource's URL (refresh, then one update each);
- ``destroy``: every resource deleted (after a refresh).

Terraform's CPU comes from ``wait4`` on it (user + system of it and of every process it reaped,
its launchers included); the launchers' from the exec wrapper of ``launches.py``; the
difference is Terraform's own. A warm child and the warm process are no processes of
Terraform's: ``warm_usage.py`` reads their CPU and peak RSS around each command of a warm
workspace, and the provider's CPU is the launchers', the warm children's and the warm
process's. Exit codes and the emulator's content are checked after each command, so a broken
provider cannot produce a fast figure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.counting import RequestCounter
from benchmarks.launches import LOG_VARIABLE, Launch, read_launches
from benchmarks.warm_usage import NO_WARM, WarmUsage, since, snapshot
from provider.warm.protocol import SWITCH_ENV, runtime_dir

__all__ = [
    "ARGS",
    "COMMANDS",
    "KINDS",
    "KIND_ENV",
    "PROVIDER_KINDS",
    "Run",
    "Workspace",
    "config_text",
    "cycle",
    "resource_prefix",
    "rotated",
]

COMMANDS = ("apply (create)", "plan -refresh=false", "plan", "apply (update)", "destroy")
TIMEOUT = 1800.0
T = TypeVar("T")

REV_VARIABLE = """\
variable "rev" {{
  type    = string
  default = "1"
}}
"""
"""``-var rev=2`` changes every resource's URL: ``apply (update)``."""

PROVIDER_CONFIG = (
    """\
terraform {{
  required_providers {{
    humanitec = {{ source = "humanitec/humanitec" }}
  }}
}}

provider "humanitec" {{}}

"""
    + REV_VARIABLE
    + """
resource "humanitec_webhook" "bench" {{
  count    = {count}
  id       = "{prefix}${{count.index}}"
  app_id   = "{app}"
  url      = "https://hooks.example.com/bench/${{var.rev}}/${{count.index}}"
  triggers = [{{ scope = "environment", type = "created" }}]
}}
"""
)

BASELINE_CONFIG = (
    REV_VARIABLE
    + """
resource "terraform_data" "bench" {{
  count = {count}
  input = "https://hooks.example.com/bench/${{var.rev}}/${{count.index}}"
}}
"""
)

SHAPED_CONFIG = (
    REV_VARIABLE
    + """
resource "terraform_data" "bench" {{
  count = {count}
  input = {{
    id                        = "{prefix}${{count.index}}"
    app_id                    = "{app}"
    url                       = "https://hooks.example.com/bench/${{var.rev}}/${{count.index}}"
    triggers                  = toset([{{ scope = "environment", type = "created" }}])
    disabled                  = false
    headers                   = tomap({{}})
    payload                   = tomap(null)
    secret_headers_wo_version = tonumber(null)
  }}
}}
"""
)

KINDS = {
    "provider": PROVIDER_CONFIG,
    "cold": PROVIDER_CONFIG,
    "baseline": BASELINE_CONFIG,
    "shaped": SHAPED_CONFIG,
}
PROVIDER_KINDS = ("provider", "cold")
KIND_ENV = {"cold": {SWITCH_ENV: "0"}}
"""What a kind changes in Terraform's environment: ``cold`` switches warm start off."""

ARGS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "apply (create)": (("apply", "-auto-approve", "-var", "rev=1"), (0,)),
    "plan -refresh=false": (
        ("plan", "-refresh=false", "-detailed-exitcode", "-var", "rev=1"),
        (0,),
    ),
    "plan": (("plan", "-detailed-exitcode", "-var", "rev=1"), (0,)),
    "apply (update)": (("apply", "-auto-approve", "-var", "rev=2"), (0,)),
    "destroy": (("destroy", "-auto-approve", "-var", "rev=2"), (0,)),
}


def config_text(kind: str, count: int, app: str) -> str:
    """The ``main.tf`` of a workspace of ``kind`` (a key of ``KINDS``)."""
    return KINDS[kind].format(count=count, prefix=resource_prefix(kind, count), app=app)


def resource_prefix(kind: str, count: int) -> str:
    """The start of each resource's id: ``provider`` and ``cold`` share one application."""
    return f"bench-{count}-" if kind == "provider" else f"bench-{kind}-{count}-"


@dataclass(frozen=True)
class Run:
    """One command, measured."""

    wall: float
    terraform_cpu: float  # Terraform's own: its wait4 total minus its launchers'
    launches: tuple[Launch, ...]
    requests: dict[str, int]
    warm: WarmUsage = NO_WARM  # what the warm process did for it (warm_usage.py)

    @property
    def launchers_cpu(self) -> float:
        """What the exec wrapper saw: a cold launch whole, a warm one's launcher only."""
        return sum(launch.cpu for launch in self.launches)

    @property
    def provider_cpu(self) -> float:
        """The launchers', the warm children's and the warm process's own."""
        return self.launchers_cpu + self.warm.cpu

    @property
    def max_rss_kib(self) -> int:
        """The peak RSS of one provider process: a launcher, or a warm child."""
        peaks = [la.max_rss_kib for la in self.launches]
        return max([*peaks, *(child.max_rss_kib for child in self.warm.children)], default=0)

    def as_json(self) -> dict[str, Any]:
        return {
            "wall_s": self.wall,
            "terraform_cpu_s": self.terraform_cpu,
            "provider_cpu_s": self.provider_cpu,
            "launchers_cpu_s": self.launchers_cpu,
            "launches": [
                {"wall_s": la.wall, "cpu_s": la.cpu, "max_rss_kib": la.max_rss_kib}
                for la in self.launches
            ],
            "warm_children": [
                {"cpu_s": c.cpu, "max_rss_kib": c.max_rss_kib} for c in self.warm.children
            ],
            "warm_process_cpu_s": self.warm.server_cpu,
            "warm_processes_started": self.warm.servers_started,
            "requests": self.requests,
        }


@dataclass
class Workspace:
    """One directory: ``count`` resources of one of the ``KINDS``."""

    kind: str  # a key of KINDS
    count: int
    path: Path
    argv: tuple[str, ...]
    env: dict[str, str]
    runs: dict[str, list[Run]] = field(default_factory=dict)

    @classmethod
    def create(
        cls, kind: str, count: int, root: Path, argv: tuple[str, ...], env: dict[str, str], app: str
    ) -> Workspace:
        path = root / f"{kind}-{count}"
        path.mkdir()
        (path / "main.tf").write_text(config_text(kind, count, app), encoding="utf-8")
        env = dict(env, **KIND_ENV.get(kind, {}), **{LOG_VARIABLE: str(path / "launches.log")})
        workspace = cls(kind, count, path, argv, env)
        workspace.terraform("init")
        return workspace

    def terraform(self, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
        """Run one command, ``-input=false -no-color``; ``(wall seconds, CPU seconds of it and
        everything it reaped)``."""
        with tempfile.TemporaryFile() as output:
            start = time.perf_counter()
            process = subprocess.Popen(
                [*self.argv, *args, "-input=false", "-no-color"],
                cwd=self.path,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            watchdog = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
            watchdog.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                watchdog.cancel()
            wall = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode not in ok:
                output.seek(0)
                text = output.read().decode(errors="replace")
                raise SystemExit(
                    f"[{self.kind} N={self.count}] terraform {' '.join(args)} exited "
                    f"{process.returncode}, expected {ok}:\n{text}"
                )
        return wall, usage.ru_utime + usage.ru_stime

    @property
    def warm_start(self) -> bool:
        """Whether its launches may be served by warm children, whose usage must be read."""
        return self.kind in PROVIDER_KINDS and self.env.get(SWITCH_ENV, "1") != "0"

    def measure(self, command: str, counter: RequestCounter) -> Run:
        args, ok = ARGS[command]
        log = Path(self.env[LOG_VARIABLE])
        log.unlink(missing_ok=True)
        warm_dir = Path(runtime_dir(self.env)) if self.warm_start else None
        before = snapshot(warm_dir) if warm_dir else None
        counter.take()
        wall, total_cpu = self.terraform(*args, ok=ok)
        requests = counter.take()
        warm = since(before) if before else NO_WARM
        launches = tuple(read_launches(log))
        launchers_cpu = sum(launch.cpu for launch in launches)  # a warm child is not Terraform's
        return Run(wall, total_cpu - launchers_cpu, launches, requests, warm)


def cycle(
    group: list[Workspace],
    counter: RequestCounter,
    check: Callable[[Workspace, str], None],
    *,
    record: bool,
) -> None:
    """Every command on each workspace of ``group``, back to back, in order."""
    for command in COMMANDS:
        for workspace in group:
            run = workspace.measure(command, counter)
            check(workspace, command)
            if record:
                workspace.runs.setdefault(command, []).append(run)


def rotated(items: list[T], shift: int) -> list[T]:
    """``items`` starting at its ``shift``-th (mod its length): who goes first this time."""
    shift %= len(items)
    return items[shift:] + items[:shift]
