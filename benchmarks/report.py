"""``make bench``'s Markdown report, rendered from its JSON result (``bench.py`` writes both).

Kept apart from the measuring so that the wording and the issue's targets can be read, and
tested, without running anything.
"""

from __future__ import annotations

from typing import Any

from benchmarks import rpc_cost
from provider.warm.protocol import SWITCH_ENV

__all__ = ["ARROW", "FLOOR", "X", "markdown"]

TARGETS = (  # (command, the most provider/terraform_data may be, at the largest N)
    ("plan -refresh=false", 2.5),
    ("plan", 3.0),
    ("apply (create)", 1.6),
    ("destroy", 1.5),
)
CPU_TARGETS = (
    ("plan -refresh=false", 1.0),
    ("plan", 1.0),
    ("apply (create)", 3.0),
    ("destroy", 3.0),
)
FLOOR = 'python -I -c "import grpc"'
ARROW, LE = "\u2192", "\u2264"
X = "\u00d7"  # the multiplication sign of "2.5x"


def markdown(result: dict[str, Any]) -> str:
    """The report: start-up, one row per N and command, the emulator, the issue's targets."""
    meta = result["meta"]
    lines = [
        f"Measured {meta['date']} on {meta['cpus']} CPUs (load {meta['load_before']:.2f} before, "
        f"{meta['load_after']:.2f} after), Terraform {meta['terraform']}, Python "
        f"{meta['python']}, {meta['runs']} run(s) per figure, median; command: "
        f"`{meta['command']}`. Provider processes measured by a {meta['wrapper']}.",
        "",
        *_startup_rows(result),
        "",
        *_workload_rows(result["workloads"]),
        "",
    ]
    emulator = result["emulator"]
    lines.append(
        f"Emulator throughput: {emulator['requests_per_s']:.0f} GET/s on 4 keep-alive "
        f"connections ({emulator['requests']} in {emulator['seconds']:.1f} s), "
        f"{emulator['emulator_cpu_ms_per_request']:.2f} ms of emulator CPU per request."
    )
    lines += ["", *rpc_cost.table(result["rpc_cost"])]
    if result["workloads"]:
        lines += ["", *_target_rows(result["workloads"])]
    return "\n".join(lines) + "\n"


def _startup_rows(result: dict[str, Any]) -> list[str]:
    startup = result["startup"]
    floor_ms = startup[FLOOR]["median_ms"]
    rows = [
        f"| start-up (exec {ARROW} handshake) | median ms | {X} `import grpc` |",
        "|---|---|---|",
    ]
    for label, figures in startup.items():
        median = figures["median_ms"]
        rows.append(f"| {label} | {median:.1f} | {median / floor_ms:.2f} |")
    for label, figures in result["plan_n1"].items():  # the whole command: wall time only
        median = figures["median_ms"]
        rows.append(f"| {label} | {median:.0f} | {median / floor_ms:.2f} |")
    return rows


def _workload_rows(workloads: list[dict[str, Any]]) -> list[str]:
    rows = [
        f"Ours: warm start, as users run it (the provider's CPU is its launchers', its warm "
        f"children's and the warm process's); cold: the same with {SWITCH_ENV}=0.",
        "",
        "| N | command | ours s | cold s | `terraform_data` s | ratio | cold ratio | shaped td s "
        "| ratio to shaped | provider CPU ms / resource (marginal) | cold CPU ms / resource "
        "(marginal) | Terraform CPU s, ours / td / shaped td | launches | peak RSS MiB "
        "| cold peak RSS MiB | API requests / resource | invariant |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in workloads:
        requests = ", ".join(f"{k} {v:.2f}" for k, v in r["requests_per_resource"].items())
        if r["application_checks"]:
            requests += f"{', ' if requests else ''}app checks {r['application_checks']}"
        rows.append(
            f"| {r['n']} | `{r['command']}` | {r['provider_wall_s']:.2f} | "
            f"{r['cold_provider_wall_s']:.2f} | {r['baseline_wall_s']:.2f} | "
            f"**{r['ratio']:.2f}{X}** | {r['cold_ratio']:.2f}{X} | {r['shaped_wall_s']:.2f} | "
            f"{r['shaped_ratio']:.2f}{X} | {_cpu(r)} | {_cpu(r, 'cold_')} | "
            f"{r['terraform_cpu_s']:.2f} / {r['baseline_terraform_cpu_s']:.2f} / "
            f"{r['shaped_terraform_cpu_s']:.2f} | {r['launches']:g} | {r['peak_rss_mib']:.1f} | "
            f"{r['cold_peak_rss_mib']:.1f} | {requests or '0'} | {r['invariant']} |"
        )
    return rows + _warm_notes(workloads)


def _cpu(row: dict[str, Any], prefix: str = "") -> str:
    """CPU ms per resource, with the marginal one in parentheses beyond N=1."""
    marginal = row[f"{prefix}marginal_provider_cpu_ms"]
    text = f"{row[f'{prefix}provider_cpu_ms_per_resource']:.2f}"
    return text if marginal is None else f"{text} ({marginal:.2f})"


def _warm_notes(workloads: list[dict[str, Any]]) -> list[str]:
    """Where a warm figure is not all warm: a launch served cold, a warm process's start."""
    notes = []
    for r in workloads:
        cold, started = r["cold_launches_in_warm_runs"], r["warm_processes_started"]
        if cold or started:
            notes.append(
                f"- N={r['n']} `{r['command']}`, warm: {cold} launch(es) served cold, "
                f"{started} warm process start(s) counted in"
            )
    return ["", "Not all warm:", *notes] if notes else []


def _target_rows(workloads: list[dict[str, Any]]) -> list[str]:
    largest = max(r["n"] for r in workloads)
    by_command = {r["command"]: r for r in workloads if r["n"] == largest}
    rows = [f"| issue 8 target, at N={largest} | target | measured |", "|---|---|---|"]
    for command, limit in TARGETS:
        ratio = by_command[command]["ratio"]
        rows.append(
            f"| `{command}` vs `terraform_data` | {LE} {limit}{X} | {ratio:.2f}{X} "
            f"{_mark(ratio, limit)} |"
        )
    for command, limit in CPU_TARGETS:
        cpu = by_command[command]["provider_cpu_ms_per_resource"]
        cold = by_command[command]["cold_provider_cpu_ms_per_resource"]
        rows.append(
            f"| provider CPU / resource, `{command}` | {LE} {limit:g} ms | {cpu:.2f} ms "
            f"{_mark(cpu, limit)} (cold {cold:.2f} ms) |"
        )
    rss = max(max(r["peak_rss_mib"], r["cold_peak_rss_mib"]) for r in workloads)
    rows.append(
        f"| peak RSS of a provider process, warm or cold | {LE} 50 MiB | {rss:.1f} MiB "
        f"{_mark(rss, 50)} |"
    )
    return [*rows, "", *_shaped_floor_lines(by_command, largest)]


def _shaped_floor_lines(by_command: dict[str, dict[str, Any]], n: int) -> list[str]:
    """What Terraform alone costs with a webhook's value shape: a target below it is unreachable."""
    lines = [
        f"The shaped floor at N={n}: `terraform_data` shaped like a webhook, with no provider at "
        "all, against the string floor the targets are defined by:",
        "",
    ]
    for command, limit in TARGETS:
        row = by_command[command]
        floor = row["shaped_wall_s"] / row["baseline_wall_s"]
        if limit < floor:
            verdict = f"the target {LE} {limit}{X} is below it: out of reach for any provider"
            verdict += " with this schema"
        else:
            verdict = f"the target {LE} {limit}{X} allows {limit / floor:.2f}{X} the shaped floor"
        lines.append(f"- `{command}`: {floor:.2f}{X} the string floor; {verdict}")
    return lines


def _mark(value: float, limit: float) -> str:
    return "met" if value <= limit else "**not met**"
