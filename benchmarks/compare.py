"""Two ``make bench`` JSON files side by side: the figures a change is judged by.

Run: ``python -m benchmarks.compare BEFORE.json AFTER.json`` prints a Markdown table with,
for each N and command, the ratio to ``terraform_data`` (with a string input, and shaped like a
webhook: "-" for runs made before that floor existed), the provider's CPU per resource,
Terraform's own CPU relative to ``terraform_data``'s, and peak RSS; then the start-up ratios
and the server's CPU per RPC (``rpc_cost.py``), when both runs have them.
Ratios and CPU times are what survive a noisy machine; wall seconds are left out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

X = "\u00d7"


def _rows(result: dict[str, Any]) -> dict[tuple[int, str], dict[str, Any]]:
    return {(r["n"], r["command"]): r for r in result["workloads"]}


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [
        f"| N | command | ratio to td, before {ARROW} after | ratio to shaped td "
        f"| provider CPU ms / resource | Terraform CPU {X} td's | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    old, new = _rows(before), _rows(after)
    for key in sorted(old.keys() & new.keys(), key=lambda k: (k[0], k[1])):
        a, b = old[key], new[key]
        lines.append(
            f"| {key[0]} | `{key[1]}` | {a['ratio']:.2f} {ARROW} {b['ratio']:.2f} | "
            f"{_shaped(a)} {ARROW} {_shaped(b)} | "
            f"{a['provider_cpu_ms_per_resource']:.2f} {ARROW} "
            f"{b['provider_cpu_ms_per_resource']:.2f} | "
            f"{_tf(a):.2f} {ARROW} {_tf(b):.2f} | {a['peak_rss_mib']:.1f} {ARROW} "
            f"{b['peak_rss_mib']:.1f} |"
        )
    lines += ["", f"| start-up | {X} `import grpc`, before {ARROW} after |", "|---|---|"]
    floor = 'python -I -c "import grpc"'
    old_rows, new_rows = _startup(before), _startup(after)
    for label in [label for label in new_rows if label in old_rows and label != floor]:
        ratios = [rows[label] / rows[floor] for rows in (old_rows, new_rows)]
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


def _shaped(row: dict[str, Any]) -> str:
    ratio = row.get("shaped_ratio")
    return "-" if ratio is None else f"{ratio:.2f}"


def _tf(row: dict[str, Any]) -> float:
    baseline = row["baseline_terraform_cpu_s"]
    return float(row["terraform_cpu_s"]) / baseline if baseline else float("nan")


ARROW = "\u2192"


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
