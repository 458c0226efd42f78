"""The benchmark suite's instruments: the launch wrapper and the request counter.

Their figures go into the README, so what they count is checked here with real processes
and real HTTP; the timings themselves are never asserted.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.bench import resource_counts, summarize
from benchmarks.compare import compare
from benchmarks.counting import RequestCounter, path_kind
from benchmarks.launches import LOG_VARIABLE, Launch, read_launches, wrap_launcher
from benchmarks.lone import terraform_setup
from benchmarks.report import FLOOR, markdown
from benchmarks.rpc_cost import PATHS, RPCS, check_responses, measure
from benchmarks.startup import plugin_env, report_modules
from benchmarks.warm_usage import NO_WARM, WarmChild, WarmUsage, since, snapshot
from benchmarks.whole_plan import LABELS, wait_for_warm_process
from benchmarks.workload import COMMANDS, KINDS, Run, Workspace, config_text, rotated
from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.emulator.app import create_app
from provider.emulator.server import BackgroundServer
from provider.emulator.store import WebhookStore
from provider.install import install_into_mirror
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.warm.protocol import SWITCH_ENV
from tests.e2e.harness import available_terraforms
from tests.goplugin import make_identity
from tests.warm import alive

C_OR_PYTHON = pytest.mark.parametrize("use_c", [True, False], ids=["c", "python"])


@C_OR_PYTHON
def test_wrapper_is_transparent_and_records_each_launch(use_c: bool, tmp_path: Path) -> None:
    launcher = tmp_path / "terraform-provider-humanitec_v0.1.0"
    # Like the real launcher, it finds itself through $0 (which must be the real file).
    launcher.write_text('#!/bin/sh\necho "$0 $*"; cat; echo oops >&2; exit 3\n')
    launcher.chmod(0o755)
    log = tmp_path / "launches.log"

    wrap_launcher(launcher, use_c=use_c)
    runs = [
        subprocess.run(
            [str(launcher), "a", "b c"],
            input=b"stdin\n",
            capture_output=True,
            env={LOG_VARIABLE: str(log), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        for _ in range(2)
    ]

    for run in runs:
        assert run.returncode == 3
        assert run.stdout == f"{launcher}.real a b c\nstdin\n".encode()
        assert run.stderr == b"oops\n"
    launches = read_launches(log)
    assert len(launches) == 2
    assert all(la.exit_code == 3 and la.max_rss_kib > 0 and la.wall > 0 for la in launches)
    assert launches[0].pid != launches[1].pid


@C_OR_PYTHON
def test_wrapper_without_a_log_variable_writes_nothing(use_c: bool, tmp_path: Path) -> None:
    launcher = tmp_path / "launcher"
    launcher.write_text("#!/bin/sh\nexit 0\n")
    launcher.chmod(0o755)
    wrap_launcher(launcher, use_c=use_c)

    assert subprocess.run([str(launcher)], env={}, check=False).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["launcher", "launcher.real"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/orgs/o/apps/a", "app"),
        ("/orgs/o/apps/a/webhooks", "webhooks"),
        ("/orgs/o/apps/a/webhooks/w", "webhook"),
        ("/orgs/o/apps", "other"),
        ("/orgs/o/events", "other"),
    ],
)
def test_paths_are_told_apart(path: str, kind: str) -> None:
    assert path_kind(path) == kind


def test_counter_counts_every_request_by_method_and_kind() -> None:
    store = WebhookStore()
    store.ensure_app("o", "a")
    counter = RequestCounter(create_app(store, "t"))
    with BackgroundServer(counter) as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for method, path in [
            ("GET", "/orgs/o/apps/a"),
            ("GET", "/orgs/o/apps/a/webhooks/missing"),
            ("GET", "/orgs/o/apps/a/webhooks/missing"),
            ("DELETE", "/orgs/o/apps/a/webhooks/missing"),
        ]:
            connection.request(method, path, headers={"Authorization": "Bearer t"})
            connection.getresponse().read()
        connection.close()

        assert counter.take() == {"DELETE webhook": 1, "GET app": 1, "GET webhook": 2}
        assert counter.take() == {}


# --- warm launches: their children and the warm process are counted ---


def test_a_warm_commands_children_and_warm_process_are_counted() -> None:
    terraform = available_terraforms()[-1]  # the one on PATH, as the bench prefers
    with terraform_setup("bench-test") as setup:  # bench's own, warm directory included
        wrap_launcher(setup.installed.launcher)
        root, env, app, counter = setup.root, setup.env, setup.app, setup.counter
        workspace = Workspace.create("provider", 1, root, terraform.argv, env, app)
        assert workspace.warm_start
        workspace.measure("apply (create)", counter)  # its first launch starts a warm process
        server_pid = wait_for_warm_process(setup.warm_dir)
        run = workspace.measure("plan", counter)
        cold = Workspace.create("cold", 1, root, terraform.argv, env, app)
        cold.measure("apply (create)", counter)
        cold_run = cold.measure("plan", counter)
        server_alive = alive(server_pid)  # the set-up stops it on the way out

    children = run.warm.children
    assert len(children) == len(run.launches) >= 3, run.as_json()  # every launch was warm
    assert all(child.cpu > 0 and child.max_rss_kib > 10 * 1024 for child in children)
    assert run.warm.servers_started == 0
    assert run.provider_cpu == pytest.approx(
        run.launchers_cpu + sum(child.cpu for child in children) + run.warm.server_cpu
    )
    assert run.provider_cpu > 1.5 * run.launchers_cpu, run.as_json()  # launchers: ~40%
    assert run.max_rss_kib == max(
        [la.max_rss_kib for la in run.launches] + [c.max_rss_kib for c in children]
    )
    assert server_alive
    assert (cold.warm_start, cold.env[SWITCH_ENV]) == (False, "0")
    assert cold_run.warm == NO_WARM
    assert cold_run.provider_cpu == cold_run.launchers_cpu > 0


def test_a_warm_process_started_meanwhile_counts_from_zero_and_its_new_log_whole(
    tmp_path: Path,
) -> None:
    log, lock = tmp_path / "k.log", tmp_path / "k.lock"
    old_end = "child 7: exit 0 (cpu 9.000 s user, 9.000 s system; max rss 99.0 MiB)"
    log.write_text(f"warm process 1 for k\n{old_end}\n" * 3, encoding="utf-8")
    before = snapshot(tmp_path)
    assert before.cpu == {}
    # A new warm process (this one, for its CPU) truncates the log and starts it anew.
    lock.write_text(f"{os.getpid()}\n", encoding="ascii")
    log.write_text(
        "warm process 2 for k\n"
        "child 8: exit 0 (cpu 0.100 s user, 0.020 s system; max rss 40.0 MiB)\n"
        "child 9: signal 15 (cpu 0.050 s user, 0.010 s system; max rss 41.5 MiB)\n",
        encoding="utf-8",
    )
    usage = since(before)

    assert [(c.pid, c.max_rss_kib) for c in usage.children] == [(8, 40 * 1024), (9, 42496)]
    assert usage.children[0].cpu == pytest.approx(0.12)
    assert usage.servers_started == 1
    assert usage.server_cpu == pytest.approx(time.process_time(), abs=0.1)  # all of it


def test_only_the_lines_a_command_added_are_its_children(tmp_path: Path) -> None:
    log = tmp_path / "k.log"
    end = "child {}: exit 0 (cpu 0.100 s user, 0.000 s system; max rss 40.0 MiB)\n"
    log.write_text("warm process 1 for k\n" + end.format(7), encoding="utf-8")
    before = snapshot(tmp_path)
    with log.open("a", encoding="utf-8") as file:
        file.write("child 8 forked (1 running)\n" + end.format(8) + "child 9: exit 0 (cpu")
    usage = since(before)

    assert [c.pid for c in usage.children] == [8]  # not 7 (before), not 9 (half written)
    assert (usage.server_cpu, usage.servers_started) == (0.0, 0)


# --- the report, from synthetic figures: what a reader sees must follow from the JSON ---


def _row(n: int, command: str, ours: float, string: float, shaped: float) -> dict[str, Any]:
    return {
        "n": n,
        "command": command,
        "provider_wall_s": ours,
        "baseline_wall_s": string,
        "ratio": ours / string,
        "shaped_wall_s": shaped,
        "shaped_ratio": ours / shaped,
        "shaped_terraform_cpu_s": 4.8,
        "provider_cpu_ms_per_resource": 2.0,
        "marginal_provider_cpu_ms": None if n == 1 else 1.5,
        "cold_provider_wall_s": ours + 0.5,
        "cold_ratio": (ours + 0.5) / string,
        "cold_provider_cpu_ms_per_resource": 2.5,
        "cold_marginal_provider_cpu_ms": None if n == 1 else 1.6,
        "cold_peak_rss_mib": 47.0,
        "cold_terraform_cpu_s": 3.8,
        "terraform_cpu_s": 3.9,
        "baseline_terraform_cpu_s": 1.5,
        "launches": 3,
        "cold_launches_in_warm_runs": 0,
        "warm_processes_started": 0,
        "peak_rss_mib": 45.0,
        "requests_per_resource": {},
        "application_checks": 0,
        "invariant": "ok",
    }


_RPC_COST = {
    "full": 250.0, "plaintext": 200.0, "grpcio_full": 750.0, "grpcio_plaintext": 600.0,
    "handlers": 80.0, "grpcio": 300.0,
}  # fmt: skip


def synthetic_result() -> dict[str, Any]:
    """The string floor takes 1 s; the shaped one 3.1 s for plans, 1.2 s for the rest."""
    workloads = [
        _row(n, command, ours=5.0, string=1.0, shaped=3.1 if "plan" in command else 1.2)
        for n in (1, 1000)
        for command in COMMANDS
    ]
    return {
        "meta": {
            "date": "2026-12-03 10:00 UTC", "cpus": 2, "load_before": 1.0, "load_after": 1.5,
            "terraform": "1.11.4", "python": "3.11.7", "runs": 1, "command": "bench --quick",
            "wrapper": "C exec wrapper (cc)",
        },
        "startup": {
            FLOOR: {"median_ms": 200.0, "samples_s": [0.2]},
            "launch, HUMANITEC_PROVIDER_WARM=0": {"median_ms": 300.0, "samples_s": [0.3]},
        },
        "plan_n1": {
            LABELS["warm"]: {"median_ms": 500.0, "samples_s": [0.5]},
            LABELS["cold"]: {"median_ms": 900.0, "samples_s": [0.9]},
        },
        "rpc_cost": {
            "calls": 10, "threads": 10, "rounds": 1, "checked_responses": 90,
            "us_per_rpc": {name: _RPC_COST for name in RPCS},
            "derived": {
                name: {"native_transport_us": 120.0, "tls_terminator_us": 150.0,
                       "grpcio_transport_us": 420.0, "grpcio_over_native": 3.0,
                       "full_over_grpcio": 0.6}
                for name in RPCS
            },
        },
        "emulator": {
            "requests_per_s": 1000.0, "requests": 1000, "seconds": 1.0,
            "emulator_cpu_ms_per_request": 0.7,
        },
        "workloads": workloads,
    }  # fmt: skip


def _table_row(text: str, start: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(start))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_workload_rows_show_both_floors_under_their_headers() -> None:
    text = markdown(synthetic_result())

    header = _table_row(text, "| N | command")
    row = dict(zip(header, _table_row(text, "| 1000 | `plan` |"), strict=True))
    assert row["ratio"] == "**5.00\u00d7**"  # the string floor stays the main ratio
    assert row["shaped td s"] == "3.10"
    assert row["ratio to shaped"] == "1.61\u00d7"
    assert row["Terraform CPU s, ours / td / shaped td"] == "3.90 / 1.50 / 4.80"


def test_workload_rows_show_warm_figures_first_and_cold_ones_beside_them() -> None:
    result = synthetic_result()
    result["workloads"][-1].update(cold_launches_in_warm_runs=1, warm_processes_started=1)
    text = markdown(result)

    header = _table_row(text, "| N | command")
    row = dict(zip(header, _table_row(text, "| 1000 | `plan` |"), strict=True))
    assert (row["ours s"], row["cold s"]) == ("5.00", "5.50")
    assert (row["ratio"], row["cold ratio"]) == ("**5.00\u00d7**", "5.50\u00d7")
    assert row["provider CPU ms / resource (marginal)"] == "2.00 (1.50)"
    assert row["cold CPU ms / resource (marginal)"] == "2.50 (1.60)"
    assert (row["peak RSS MiB"], row["cold peak RSS MiB"]) == ("45.0", "47.0")
    assert "warm start, as users run it" in text
    target = _table_row(text, "| provider CPU / resource, `plan` |")
    assert target[2] == "2.00 ms **not met** (cold 2.50 ms)"
    assert _table_row(text, "| peak RSS of a provider process")[2] == "47.0 MiB met"
    assert "- N=1000 `destroy`, warm: 1 launch(es) served cold, 1 warm process start" in text


def test_each_target_says_whether_the_shaped_floor_puts_it_out_of_reach() -> None:
    lines = markdown(synthetic_result()).splitlines()

    by_command = {line.split("`")[1]: line for line in lines if line.startswith("- `")}
    assert set(by_command) == {"plan -refresh=false", "plan", "apply (create)", "destroy"}
    assert "3.10\u00d7 the string floor" in by_command["plan"]
    assert "out of reach for any provider" in by_command["plan"]  # 3.0 < 3.1
    assert "out of reach" not in by_command["apply (create)"]
    assert "allows 1.33\u00d7 the shaped floor" in by_command["apply (create)"]  # 1.6 / 1.2


def test_summary_gives_each_floor_its_own_figures(tmp_path: Path) -> None:
    def workspace(kind: str, count: int, wall: float, terraform_cpu: float) -> Workspace:
        runs = {c: [Run(wall, terraform_cpu, (), {})] for c in COMMANDS}
        return Workspace(kind, count, tmp_path, (), {}, runs)

    groups = {
        n: {
            "provider": workspace("provider", n, 4.0, 3.9),
            "cold": workspace("cold", n, 5.0, 3.8),
            "baseline": workspace("baseline", n, 1.0, 1.5),
            "shaped": workspace("shaped", n, 2.0, 4.8),
        }
        for n in (1, 10)
    }

    row = summarize(groups)[-1]
    assert (row["ratio"], row["cold_ratio"], row["shaped_ratio"]) == (4.0, 5.0, 2.0)
    assert (row["shaped_wall_s"], row["shaped_terraform_cpu_s"]) == (2.0, 4.8)
    assert (row["terraform_cpu_s"], row["cold_terraform_cpu_s"]) == (3.9, 3.8)
    assert set(row["runs"]) == {"provider", "cold", "baseline", "shaped"}


def test_summary_counts_warm_children_in_warm_cpu_and_rss(tmp_path: Path) -> None:
    launch = Launch(1, 0.1, 0.02, 0.01, 9000, 0)  # a warm launch's launcher: 30 ms
    warm = WarmUsage((WarmChild(2, 0.04, 0.01, 40000),), 0.01, 0)
    cold = Launch(3, 0.5, 0.4, 0.05, 45000, 0)  # a cold one imports everything
    groups = {
        1: {
            "provider": Workspace("provider", 1, tmp_path, (), {}),
            "cold": Workspace("cold", 1, tmp_path, (), {}),
            "baseline": Workspace("baseline", 1, tmp_path, (), {}),
            "shaped": Workspace("shaped", 1, tmp_path, (), {}),
        }
    }
    for command in COMMANDS:
        groups[1]["provider"].runs[command] = [Run(1.0, 1.0, (launch,), {}, warm)]
        groups[1]["cold"].runs[command] = [Run(1.5, 1.0, (cold,), {})]
        groups[1]["baseline"].runs[command] = [Run(0.5, 1.0, (), {})]
        groups[1]["shaped"].runs[command] = [Run(0.5, 1.0, (), {})]

    row = summarize(groups)[0]
    assert row["provider_cpu_ms_per_resource"] == pytest.approx(30 + 50 + 10)
    assert row["cold_provider_cpu_ms_per_resource"] == pytest.approx(450)
    assert (row["peak_rss_mib"], row["cold_peak_rss_mib"]) == (40000 / 1024, 45000 / 1024)
    assert (row["cold_launches_in_warm_runs"], row["warm_processes_started"]) == (0, 0)


def test_every_kind_goes_first_once_in_as_many_cycles(tmp_path: Path) -> None:
    group = [Workspace(kind, 1, tmp_path, (), {}) for kind in KINDS]
    firsts = [rotated(group, shift)[0].kind for shift in range(len(group))]
    assert sorted(firsts) == sorted(KINDS)


def test_plan_at_n1_warm_and_cold_are_start_up_rows_against_import_grpc() -> None:
    text = markdown(synthetic_result())

    assert _table_row(text, "| `plan` N=1, whole command, warm start |")[1:] == ["500", "2.50"]
    assert _table_row(text, "| `plan` N=1, whole command, cold (")[1:] == ["900", "4.50"]


def test_compare_shows_a_dash_for_a_run_without_the_shaped_floor() -> None:
    after = synthetic_result()
    before = json.loads(json.dumps(after))
    for row in before["workloads"]:
        del row["shaped_ratio"], row["shaped_wall_s"], row["shaped_terraform_cpu_s"]

    del before["plan_n1"]

    lines = compare(before, after).splitlines()
    assert "| - \u2192 1.61 |" in next(x for x in lines if x.startswith("| 1000 | `plan` |"))
    assert not [x for x in lines if "whole command" in x]  # in one run only: nothing to compare
    assert compare(after, after).count("whole command") == 2


def _single_start_run(*, warm: bool) -> dict[str, Any]:
    """A run from before the cold workspace: one start, its figures unprefixed."""
    result = synthetic_result()
    result["meta"]["warm_in_workloads"] = warm
    for row in result["workloads"]:
        for key in [k for k in row if k.startswith("cold_")] + ["cold_ratio"]:
            row.pop(key, None)
    return result


def test_compare_sets_an_old_cold_run_beside_the_cold_figures() -> None:
    lines = compare(_single_start_run(warm=False), synthetic_result()).splitlines()

    warm = _table_row("\n".join(lines), "| 1000 | `plan` | warm |")
    cold = _table_row("\n".join(lines), "| 1000 | `plan` | cold |")
    assert warm[3:] == [f"- \u2192 {x}" for x in ("5.00", "1.61", "2.00", "2.60", "45.0")]
    assert cold[3] == "5.00 \u2192 5.50"  # the old run's only figures were cold ones
    assert cold[5] == "2.00 \u2192 2.50"


def test_compare_leaves_out_an_old_warm_run_whose_children_went_uncounted() -> None:
    text = compare(_single_start_run(warm=True), synthetic_result())

    assert _table_row(text, "| 1000 | `plan` | warm |")[5] == "- \u2192 2.00"
    assert _table_row(text, "| 1000 | `plan` | cold |")[5] == "- \u2192 2.50"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform on PATH")
@pytest.mark.parametrize("kind", ["baseline", "shaped"])
def test_floor_workspaces_are_valid_terraform(kind: str, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(config_text(kind, 3, "app"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(HOME=str(tmp_path), CHECKPOINT_DISABLE="1")
    for args in (["init", "-input=false"], ["validate"]):
        done = subprocess.run(
            ["terraform", *args, "-no-color"], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


# --- server CPU per RPC ---


def test_rpc_cost_table_has_a_row_per_path_and_derived_figure() -> None:
    text = markdown(synthetic_result())

    assert _table_row(text, "| native server, mutual TLS")[1:] == ["250"] * 3
    assert _table_row(text, "| grpcio: mutual TLS through")[1:] == ["750"] * 3
    assert _table_row(text, "| TLS terminator (grpcio")[1:] == ["150"] * 3
    assert _table_row(text, "| grpcio with TLS / native")[1:] == ["3.00\u00d7"] * 3
    assert _table_row(text, "| native with TLS / grpcio's floor")[1:] == ["0.60\u00d7"] * 3


def test_a_response_with_an_error_or_without_its_value_is_refused() -> None:
    error = pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary="broken")
    warning = pb.Diagnostic(severity=pb.Diagnostic.WARNING, summary="fine")
    validate = pb.ValidateResourceConfig.Response
    assert (
        check_responses(
            "ValidateResourceConfig", [validate(diagnostics=[warning]).SerializeToString()]
        )
        == 1
    )
    with pytest.raises(SystemExit, match="broken"):
        check_responses(
            "ValidateResourceConfig", [validate(diagnostics=[error]).SerializeToString()]
        )
    with pytest.raises(SystemExit, match="planned_state"):
        check_responses(
            "PlanResourceChange", [pb.PlanResourceChange.Response().SerializeToString()]
        )


def test_rpc_cost_measures_every_path_and_checks_every_response() -> None:
    result = measure(600, rounds=2)  # per path and round: 300 calls, many 10 ms ticks

    assert result["calls"] == 600
    for name in RPCS:
        assert all(result["us_per_rpc"][name][path] > 0 for path in PATHS), result
        assert result["derived"][name]["full_over_grpcio"] > 0
    checked_paths = len(PATHS) - 1  # all but the bare grpcio floor
    assert result["checked_responses"] == checked_paths * 600 * len(RPCS)


# --- client CPU per API request ---


def test_api_cost_measures_every_client_against_the_stdlib_floor() -> None:
    from benchmarks.api_cost import CLIENTS, measure, table

    result = measure(200, rounds=1)

    labels = {f"{name}, {n}" for name in CLIENTS for n in ("1 thread", "10 threads")}
    us, ratios = result["us_per_request"], result["over_http_client"]
    assert set(us) == set(ratios) == labels
    assert all(value > 0 for value in us.values())
    assert result["requests"] == 200
    for label in labels:  # each against the floor with as many threads
        floor = "http.client, " + label.split(", ")[1]
        assert ratios[label] == pytest.approx(us[label] / us[floor])
    assert len(table(result)) == 2 + len(labels)


def test_handler_cost_runs_each_phase_against_the_emulator_and_checks_its_answers() -> None:
    from benchmarks.handler_cost import PHASES, measure, table

    result = measure(20)

    assert list(result["us_per_call"]) == list(PHASES)
    for by_threads in result["us_per_call"].values():
        assert set(by_threads) == {1, 10}
        assert all(us > 0 for us in by_threads.values())
    assert len(table(result)) == 2 + len(PHASES)


def test_handler_cost_refuses_a_delete_that_kept_the_webhook() -> None:
    """A delete in the create's own command is held back with a warning: the benchmark
    reconfigures first, and would stop rather than time a delete that sent nothing."""
    import secrets

    from benchmarks.api_cost import running_emulator
    from benchmarks.handler_cost import Hooks, create, delete, plan

    token = secrets.token_hex(16)
    with running_emulator(token) as url:
        hooks = Hooks(url, token)
        created = create(hooks, plan(hooks, "kept"))
        with pytest.raises(SystemExit, match="Webhook Kept"):
            delete(hooks, created)
        hooks.close()


# --- the start-up path's module check ---


def test_the_start_up_module_check_passes_on_a_real_launch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = install_into_mirror(
        tmp_path / "mirror", source=PROVIDER_ADDRESS, version=__version__
    )
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = plugin_env(make_identity(ec.SECP521R1()).cert_pem.decode(), tmpdir)
    env["HUMANITEC_PROVIDER_WARM"] = "0"  # the launch imports in-process, where it is seen

    assert report_modules(installed.launch_script, env, tmpdir)
    assert "OK: none of httpx" in capsys.readouterr().out


# --- provider CPU by RPC ---


def test_rpc_breakdown_adds_up_each_rpcs_cpu_from_a_real_terraform_log() -> None:
    from benchmarks.rpc_breakdown import measure, table

    (plan,) = measure(2, ["plan"]).values()

    assert plan.calls["ReadResource"] == 2  # one per resource, from the provider's own lines
    assert plan.calls["PlanResourceChange"] == 2
    assert plan.cpu_ms["ReadResource"] > plan.cpu_ms["UpgradeResourceState"] > 0
    assert plan.total_ms > plan.handlers_ms > 0  # start-up and transport are outside
    assert plan.logged_total_ms > 0
    assert "| ReadResource | 1.00 |" in table("plan", plan)


def test_rpc_breakdown_reads_the_provider_lines_terraform_logs() -> None:
    from benchmarks.rpc_breakdown import parse_log

    text = (
        "2026-12-02T18:00:00.000Z [DEBUG] provider.terraform-provider-humanitec_v0.1.0: "
        "ReadResource humanitec_webhook: 2.1 ms, 1.25 ms CPU, 0 diagnostics: "
        "@module=provider.plugin timestamp=...\n"
        "2026-12-02T18:00:00.001Z [DEBUG] provider.terraform-provider-humanitec_v0.1.0: "
        "GetMetadata: 0.1 ms, 0.05 ms CPU, 0 diagnostics\n"
        "2026-12-02T18:00:00.002Z [DEBUG] provider: ReadResource: 9 ms, 9 ms CPU, 0 diagnostics\n"
    )
    assert parse_log(text) == (
        {"ReadResource": 1, "GetMetadata": 1},
        {"ReadResource": 1.25, "GetMetadata": 0.05},
    )


@pytest.mark.parametrize(
    ("chosen", "quick", "counts"),
    [(None, False, [1, 100, 1000]), (None, True, [1, 100]), ("1000", False, [1, 1000]),
     ("100,1,100", False, [1, 100])],
)  # fmt: skip
def test_resource_counts_always_hold_one(
    chosen: str | None, quick: bool, counts: list[int]
) -> None:
    assert resource_counts(chosen, quick=quick) == counts


# --- Terraform's own CPU, by Go function ---


def _terraform_executable() -> Path:
    on_path = shutil.which("terraform")
    assert on_path, "the e2e tests need a terraform on PATH too"
    return Path(on_path).resolve()


def test_go_symbols_name_terraforms_functions_from_its_own_table() -> None:
    from benchmarks.terraform_profile import GoSymbols

    symbols = GoSymbols(_terraform_executable())
    entry = symbols.address("main.main")
    assert symbols.name(entry) == symbols.name(entry + 1) == "main.main"
    assert symbols.name(entry - 1) != "main.main"
    assert symbols.name(0) == "?"


def test_terraform_profile_sorts_samples_by_process_and_names_go_frames() -> None:
    from benchmarks.terraform_profile import GoSymbols, summarize

    terraform = _terraform_executable()
    symbols = GoSymbols(terraform)

    def ip(name: str) -> str:
        return f"{symbols.address(name) - symbols.load_bias + 3:x}"

    sample = (
        f"terraform 100\n\t{ip('runtime.mallocgc')} ({terraform})\n"
        f"\t{ip('main.main')} ({terraform})\n\tffffffff81000000 ([kernel.kallsyms])\n"
    )
    samples = "\n".join(
        [sample, sample, "swapper 0\n\tffffffff81000000 ([kernel.kallsyms])\n",
         "python 42\n\t1234 (/usr/lib/libpython3.11.so)\n",
         "python 7\n\t1234 (/usr/lib/libpython3.11.so)\n"]
    )  # fmt: skip
    report = summarize(samples, terraform, own_pid=42, top=5)
    assert "5 samples on all CPUs" in report
    assert "terraform 40%, idle 20%, the emulator (this process) 20%, provider 20%" in report
    self_part, inclusive_part = report.split("Terraform, inclusive:")
    assert "40.0%  runtime.mallocgc" in self_part
    assert "main.main" not in self_part
    assert "40.0%  main.main" in inclusive_part
    assert "40.0%  [kernel]" in inclusive_part
