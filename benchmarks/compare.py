"""Two ``make bench`` JSON files side by side: the figures a change is judged by.

Run: ``python -m benchmarks.compare BEFORE.json AFTER.json`` prints a Markdown table with,
for each N, command and start (warm, cold), the ratio to ``terraform_data`` (with a string
input, and shaped like a webhook: "-" for runs made before that floor existed), the provider's
CPU per resource, Terraform's own CPU relative to ``terraform_data``'s, and peak RSS; then the
start-up ratios and the server's CPU per RPC (``rpc_cost.py``), when both runs have them.
Ratios and CPU times are what survive a noisy machine; wall seconds are left out.

Runs made before the workloads measured both starts ran one: cold (``HUMANITEC_PROVIDER_WARM=0``),
or with ``--warm`` warm but without the warm children's CPU, which is comparable to nothing
and left out ("-").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.report import ARROW, FLOOR, X

STARTS = ("warm", "cold")


def _rows(result: dict[str, Any]) -> dict[tuple[int, str, str], dict[str, Any]]:
    """Each workload row's figures by (N, command, start); a start a run lacks is absent."""
    rows = {}
    for r in result["workloads"]:
        if "cold_ratio" in r:  # both starts measured: unprefixed is warm
            starts = {"warm": "", "cold": "cold_"}
        elif result["meta"].get("warm_in_workloads"):
            starts = {}  # warm, but its children's CPU was not counted
        else:
            starts = {"cold": ""}
        for start, prefix in starts.items():
            rows[(r["n"], r["command"], start)] = _figures(r, prefix)
    return rows


def _figures(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    wall = row[f"{prefix}provider_wall_s"]
    shaped = row.get("shaped_wall_s")
    baseline_tf = row["baseline_terraform_cpu_s"]
    return {
        "ratio": row[f"{prefix}ratio"],
        "shaped_ratio": wall / shaped if shaped else None,
        "cpu": row[f"{prefix}provider_cpu_ms_per_resource"],
        "tf": row[f"{prefix}terraform_cpu_s"] / baseline_tf if baseline_tf else float("nan"),
        "rss": row[f"{prefix}peak_rss_mib"],
    }


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [
        f"| N | command | start | ratio to td, before {ARROW} after | ratio to shaped td "
        f"| provider CPU ms / resource | Terraform CPU {X} td's | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    old, new = _rows(before), _rows(after)
    keys = {key[:2] for key in old.keys() | new.keys()}
    for n, command in sorted(keys):
        for start in STARTS:
            a, b = old.get((n, command, start)), new.get((n, command, start))
            if a is None and b is None:
                continue
            cells = [
                f"{_cell(a, 'ratio', '.2f')} {ARROW} {_cell(b, 'ratio', '.2f')}",
                f"{_cell(a, 'shaped_ratio', '.2f')} {ARROW} {_cell(b, 'shaped_ratio', '.2f')}",
                f"{_cell(a, 'cpu', '.2f')} {ARROW} {_cell(b, 'cpu', '.2f')}",
                f"{_cell(a, 'tf', '.2f')} {ARROW} {_cell(b, 'tf', '.2f')}",
                f"{_cell(a, 'rss', '.1f')} {ARROW} {_cell(b, 'rss', '.1f')}",
            ]
            lines.append(f"| {n} | `{command}` | {start} | {' | '.join(cells)} |")
    lines += ["", f"| start-up | {X} `import grpc`, before {ARROW} after |", "|---|---|"]
    old_rows, new_rows = _startup(before), _startup(after)
    for label in [label for label in new_rows if label in old_rows and label != FLOOR]:
        ratios = [rows[label] / rows[FLOOR] for rows in (old_rows, new_rows)]
        lines.append(f"| {label} | {ratios[0]:.2f} {ARROW} {ratios[1]:.2f} |")
    if "rpc_cost" in before and "rpc_cost" in after:
        lines += ["", *_rpc_rows(before["rpc_cost"], after["rpc_cost"])]
    return "\n".join(lines) + "\n"


def _rpc_rows(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    rows = [
        f"| server CPU per RPC | as Terraform talks to it, \u00b5s, before {ARROW} after "
        f"| {X} grpcio's floor | TLS terminator \u00b5s |",
        "|---|---|---|---|",
    ]
    for name in [name for name in after["us_per_rpc"] if name in before["us_per_rpc"]]:
        a, b = before["us_per_rpc"][name], after["us_per_rpc"][name]
        da, db = before["derived"][name], after["derived"][name]
        rows.append(
            f"| {name} | {a['full']:.0f} {ARROW} {b['full']:.0f} | "
            f"{da['full_over_grpcio']:.2f} {ARROW} {db['full_over_grpcio']:.2f} | "
            f"{da['tls_terminator_us']:.0f} {ARROW} {db['tls_terminator_us']:.0f} |"  # grpcio's
        )
    return rows


def _startup(result: dict[str, Any]) -> dict[str, float]:
    """Median ms by label: the launches, and ``plan`` at N=1 (absent from older runs)."""
    rows = {**result["startup"], **result.get("plan_n1", {})}
    return {label: float(figures["median_ms"]) for label, figures in rows.items()}


def _cell(figures: dict[str, Any] | None, name: str, spec: str) -> str:
    """One figure, or "-" when the run does not have it."""
    value = None if figures is None else figures[name]
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m benchmarks.compare BEFORE.json AFTER.json", file=sys.stderr)
        return 2
    before, after = (json.loads(Path(p).read_text(encoding="utf-8")) for p in args)
    print(compare(before, after), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
