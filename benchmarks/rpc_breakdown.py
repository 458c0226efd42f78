"""Where a provider's CPU goes in a real Terraform command: RPC by RPC, and around them.

What it measures
    N ``humanitec_webhook`` resources against the emulator, as ``workload.py`` sets them up
    (warm start on, as users run; ``--cold`` turns it off), through the workload's command
    cycle twice:

    - once with ``TF_LOG_PROVIDER=DEBUG``: every RPC logs its wall time and the CPU its thread
      spent in the handler (``provider/plugin/rpc.py``), which this adds up by RPC;
    - once without logging: the provider's whole CPU per resource, as ``bench.py`` counts it
      (launchers, warm children and the warm process).

    The difference between the two is what is spent outside the handlers: TLS, HTTP/2 framing,
    dispatch and the hand-off to and from the pool, launches and start-up. The logged cycle's
    own total is shown too: logging is not free, and its cost lands outside the handlers.

How to read it
    A handler's CPU is its thread's (``time.thread_time``): it includes the API call's client
    side (the HTTP/1.1 path, the deadline backend) but not the emulator, which runs in this
    process and is not counted at all. It also includes the debug lines the handler logs (one
    per API attempt), so the handler figures are upper bounds and "outside the handlers" a
    lower one.
    One cycle per mode: CPU figures, not wall times, are the point.

Run: ``python -m benchmarks.rpc_breakdown [--n 300] [--cold] [COMMAND ...]`` with commands
from ``workload.COMMANDS`` (default: all, in the cycle's order; the whole cycle always runs).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field

from benchmarks.launches import wrap_launcher
from benchmarks.lone import lone_workspace
from benchmarks.workload import COMMANDS

__all__ = ["Breakdown", "measure", "parse_log", "table"]

# What rpc.py logs, as Terraform writes it to TF_LOG_PATH.
_LINE = re.compile(
    r"\] provider\.terraform-provider-humanitec[^:]*: (?P<rpc>\w+)(?: (?P<type>\w+))?: "
    r"(?P<wall>[\d.]+) ms, (?P<cpu>[\d.]+) ms CPU, \d+ diagnostics"
)


@dataclass
class Breakdown:
    """One command at N: handler CPU by RPC (logged cycle) and the provider's totals."""

    count: int
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cpu_ms: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    logged_total_ms: float = 0.0
    total_ms: float = 0.0  # the unlogged cycle's

    @property
    def handlers_ms(self) -> float:
        return sum(self.cpu_ms.values())


def parse_log(text: str) -> tuple[dict[str, int], dict[str, float]]:
    """Calls and handler CPU (ms) by RPC name, from a Terraform log with provider debug lines."""
    calls: dict[str, int] = defaultdict(int)
    cpu: dict[str, float] = defaultdict(float)
    for match in _LINE.finditer(text):
        calls[match["rpc"]] += 1
        cpu[match["rpc"]] += float(match["cpu"])
    return dict(calls), dict(cpu)


def table(command: str, b: Breakdown) -> str:
    """Markdown: per RPC, calls and CPU per resource; then the totals around the handlers."""
    n = b.count
    lines = [
        f"### {command}, N={n}",
        "",
        "| | calls per resource | µs CPU per call | ms CPU per resource |",
        "|---|---|---|---|",
    ]
    for rpc in sorted(b.cpu_ms, key=lambda r: -b.cpu_ms[r]):
        calls = b.calls[rpc]
        lines.append(
            f"| {rpc} | {calls / n:.2f} | {1000 * b.cpu_ms[rpc] / calls:.0f} "
            f"| {b.cpu_ms[rpc] / n:.3f} |"
        )
    outside = b.total_ms - b.handlers_ms
    lines += [
        f"| **handlers** | | | **{b.handlers_ms / n:.3f}** |",
        f"| outside the handlers (TLS, HTTP/2, hand-offs, launches) | | | {outside / n:.3f} |",
        f"| **provider, whole** (unlogged cycle) | | | **{b.total_ms / n:.3f}** |",
        f"| provider, whole, with debug logging | | | {b.logged_total_ms / n:.3f} |",
        "",
    ]
    return "\n".join(lines)


def measure(count: int, commands: list[str], *, cold: bool = False) -> dict[str, Breakdown]:
    """Run the cycle logged, then unlogged, at ``count``; a breakdown of each of ``commands``."""
    results = {command: Breakdown(count) for command in commands}
    kind = "cold" if cold else "provider"
    with lone_workspace(kind, count, instrument=wrap_launcher, prefix="rpc-breakdown") as (
        workspace,
        counter,
    ):
        log = workspace.path / "terraform.log"
        for logged in (True, False):
            if logged:
                workspace.env.update(TF_LOG_PROVIDER="DEBUG", TF_LOG_PATH=str(log))
            else:
                for name in ("TF_LOG_PROVIDER", "TF_LOG_PATH"):
                    workspace.env.pop(name, None)
            for command in COMMANDS:  # the whole cycle: each command leaves the next's state
                log.unlink(missing_ok=True)
                run = workspace.measure(command, counter)
                b = results.get(command)
                if b is None:
                    continue
                if logged:
                    calls, cpu = parse_log(log.read_text(encoding="utf-8", errors="replace"))
                    if not calls:
                        raise SystemExit(f"{command}: no RPC lines in Terraform's log")
                    b.calls.update(calls)
                    b.cpu_ms.update(cpu)
                    b.logged_total_ms = 1000 * run.provider_cpu
                else:
                    b.total_ms = 1000 * run.provider_cpu
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("commands", nargs="*", default=list(COMMANDS))
    parser.add_argument("--n", type=int, default=300, help="resources (default 300)")
    parser.add_argument("--cold", action="store_true", help="HUMANITEC_PROVIDER_WARM=0")
    options = parser.parse_args(argv)
    unknown = [c for c in options.commands if c not in COMMANDS]
    if unknown:
        parser.error(f"unknown commands {unknown}: choose from {list(COMMANDS)}")
    results = measure(options.n, options.commands, cold=options.cold)
    mode = "cold launches" if options.cold else "warm start"
    print(f"## Provider CPU by RPC ({mode}), `python -m benchmarks.rpc_breakdown`\n")
    for command, b in results.items():
        print(table(command, b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
