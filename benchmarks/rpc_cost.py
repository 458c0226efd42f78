"""Server CPU per RPC: where a tfplugin6 call's cost goes, from the wire to the handler.

What it measures
    The CPU the server process spends per call (utime + stime from ``/proc/PID/stat`` before
    and after ``--calls`` calls, sent by a grpcio client from 10 threads, as Terraform's
    default parallelism) for ValidateResourceConfig, UpgradeResourceState and
    PlanResourceChange with a realistic webhook value, over six paths:

    - ``full``: the installed console script with go-plugin's environment and a client
      certificate, as Terraform talks to it: mutual TLS to the native server (``_native.py``;
      P-256, because grpcio's client cannot present Terraform's P-521);
    - ``plaintext``: the same without ``PLUGIN_CLIENT_CERT``, on a unix socket;
    - ``grpcio full`` and ``grpcio plaintext``: the same two with
      ``HUMANITEC_PROVIDER_SERVER=grpcio``: grpcio behind the TLS terminator (``_tls.py``);
    - ``handlers``: the servicer's raw-bytes handlers in this process, one thread
      (``time.process_time``);
    - ``grpcio``: a bare grpcio server built as ``serve.py`` builds its own, on a unix socket,
      whose handler answers ``b""`` at once: the floor of any grpcio provider.

    Derived: each server's transport (plaintext - handlers), the TLS terminator (grpcio full -
    grpcio plaintext), grpcio full / full, and full / grpcio's floor. Every response but the
    floor's is decoded and must carry a value and no error diagnostic, so a broken provider
    cannot give a fast figure. Untimed warm-up calls come first (lazy imports, connections).

How to read it
    Microseconds of server CPU per call; CPU survives a shared machine better than wall time,
    but only ratios within one run compare across runs. ``/proc`` counts in clock ticks
    (10 ms): ``--calls`` must make each measurement last many of them.

Run: ``python -m benchmarks.rpc_cost [--calls N]`` (default 2000); ``make bench`` runs it too.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.startup import plugin_env
from benchmarks.warm_usage import process_cpu
from benchmarks.workload import rotated
from provider.cli import _make_provider
from provider.plugin._proto import grpc_controller_pb2
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.cty import encode_msgpack
from provider.plugin.serve import grpc_server
from provider.plugin.servicer import ProviderServicer
from provider.warm.protocol import SWITCH_ENV
from tests.goplugin import make_identity

__all__ = ["PATHS", "RPCS", "measure", "table", "webhook_config"]

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = Path(sys.executable).parent / "terraform-provider-humanitec"
RPCS = ("ValidateResourceConfig", "UpgradeResourceState", "PlanResourceChange")
PATHS = {
    "full": "native server, mutual TLS (as Terraform talks to it)",
    "plaintext": "native server, plaintext on a unix socket",
    "grpcio_full": "grpcio: mutual TLS through the terminator",
    "grpcio_plaintext": "grpcio: plaintext on a unix socket",
    "handlers": "the handlers alone, in-process",
    "grpcio": 'grpcio\'s floor: a handler answering b""',
}
SERVER_VARIABLE = "HUMANITEC_PROVIDER_SERVER"
THREADS = 10  # Terraform's default -parallelism
ROUNDS = 5
TIMEOUT = 30.0
TYPE_NAME = "humanitec_webhook"
RESPONSES: dict[str, Any] = {name: getattr(pb, name).Response for name in RPCS}
VALUE_FIELDS = {"UpgradeResourceState": "upgraded_state", "PlanResourceChange": "planned_state"}


def webhook_config(webhook_id: str, app_id: str, url: str) -> dict[str, Any]:
    """A webhook's configuration as Terraform sends it: every attribute, unset ones null."""
    return {
        "id": webhook_id, "app_id": app_id, "url": url,
        "triggers": [{"scope": "environment", "type": "created"}], "disabled": None,
        "headers": None, "payload": None, "secret_headers_wo": None,
        "secret_headers_wo_version": None,
    }  # fmt: skip


def requests() -> dict[str, bytes]:
    """Each RPC's request as Terraform sends it for one webhook whose state is current."""
    t = _make_provider().resources()[0].schema.object_type()
    config = webhook_config("hook-1", "bench", "https://hooks.example.com/bench/1/1")
    state: dict[str, Any] = dict(config, disabled=False, headers={})

    def dv(value: dict[str, Any]) -> pb.DynamicValue:
        return pb.DynamicValue(msgpack=encode_msgpack(value, t))

    raw_state = pb.RawState(json=json.dumps(state).encode())
    messages = {
        "ValidateResourceConfig": pb.ValidateResourceConfig.Request(
            type_name=TYPE_NAME, config=dv(config)
        ),
        "UpgradeResourceState": pb.UpgradeResourceState.Request(
            type_name=TYPE_NAME, version=0, raw_state=raw_state
        ),
        "PlanResourceChange": pb.PlanResourceChange.Request(
            type_name=TYPE_NAME, config=dv(config), prior_state=dv(state),
            proposed_new_state=dv(state),
        ),
    }  # fmt: skip
    return {name: message.SerializeToString() for name, message in messages.items()}


def check_responses(name: str, responses: list[bytes]) -> int:
    """Exit unless each is a successful answer to ``name`` (with its value, if it has one)."""
    field = VALUE_FIELDS.get(name)
    for raw in responses:
        response = RESPONSES[name].FromString(raw)
        errors = [d.summary for d in response.diagnostics if d.severity == pb.Diagnostic.ERROR]
        if errors:
            raise SystemExit(f"{name} answered with errors: {errors}")
        if field and not getattr(response, field).msgpack:
            raise SystemExit(f"{name} answered without {field}")
    return len(responses)


@dataclass
class Server:
    """A server process and a channel to it."""

    process: subprocess.Popen[bytes]
    channel: grpc.Channel

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """go-plugin's Shutdown RPC; kill what does not exit."""
        shutdown = self.channel.unary_unary(
            "/plugin.GRPCController/Shutdown",
            request_serializer=grpc_controller_pb2.Empty.SerializeToString,
            response_deserializer=grpc_controller_pb2.Empty.FromString,
        )
        with contextlib.suppress(grpc.RpcError):  # it may exit before it answers
            shutdown(grpc_controller_pb2.Empty(), timeout=TIMEOUT)
        self.channel.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        if self.process.stdout:
            self.process.stdout.close()


def launch_provider(tmp: Path, *, tls: bool, grpcio: bool = False) -> Server:
    """The installed console script, launched as Terraform launches it (without warm start);
    with ``grpcio``, serving with grpcio behind the TLS terminator."""
    identity = make_identity(ec.SECP256R1())
    env = plugin_env(identity.cert_pem.decode(), tmp)
    env[SWITCH_ENV] = "0"
    env.pop(SERVER_VARIABLE, None)
    if grpcio:
        env[SERVER_VARIABLE] = "grpcio"
    if not tls:
        del env["PLUGIN_CLIENT_CERT"]
    name = f"provider-{'grpcio-' if grpcio else ''}{'tls' if tls else 'plain'}.log"
    process, line = _start([str(PROVIDER)], env, tmp / name)
    _, _, network, address, _, cert = line.split("|")
    if not tls:
        return Server(process, grpc.insecure_channel(f"{network}:{address}"))
    der = base64.b64decode(cert + "=" * (-len(cert) % 4))
    credentials = grpc.ssl_channel_credentials(
        root_certificates=x509.load_der_x509_certificate(der).public_bytes(
            serialization.Encoding.PEM
        ),
        private_key=identity.key_pem,
        certificate_chain=identity.cert_pem,
    )
    options = [("grpc.ssl_target_name_override", "localhost")]
    return Server(process, grpc.secure_channel(address, credentials, options=options))


def launch_floor(tmp: Path) -> Server:
    """``serve_floor`` in a subprocess of its own."""
    socket = tmp / "floor.sock"
    argv = [sys.executable, "-m", "benchmarks.rpc_cost", "--serve-floor", str(socket)]
    process, _ = _start(argv, dict(os.environ), tmp / "floor.log", cwd=ROOT)
    return Server(process, grpc.insecure_channel(f"unix:{socket}"))


def _start(
    argv: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server; its first stdout line (a handshake), or exit with its stderr."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr)
    assert process.stdout is not None
    line = process.stdout.readline().decode().rstrip("\n")
    if not line:
        process.kill()
        process.wait(timeout=TIMEOUT)
        process.stdout.close()
        raise SystemExit(f"{argv[0]} printed no line: {log.read_text(errors='replace')}")
    return process, line


def serve_floor(socket: str) -> None:
    """A grpcio server built as ``serve.py``'s, answering ``b""`` at once; until Shutdown."""
    shutdown = threading.Event()
    server = grpc_server()

    def empty(_raw: bytes, _context: Any) -> bytes:
        return b""

    def stop(_raw: bytes, _context: Any) -> bytes:
        shutdown.set()
        return b""

    answer = grpc.unary_unary_rpc_method_handler
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "tfplugin6.Provider", {name: answer(empty) for name in RPCS}
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCController", {"Shutdown": answer(stop)}
            ),
        )
    )
    server.add_insecure_port(f"unix:{socket}")
    server.start()
    print("ready", flush=True)
    shutdown.wait()
    os._exit(0)  # as serve.py: no graceful drain


def call_many(channel: grpc.Channel, name: str, request: bytes, calls: int) -> list[bytes]:
    """``calls`` calls of ``name`` from THREADS threads; the raw responses."""
    call = channel.unary_unary(f"/tfplugin6.Provider/{name}", None, None)  # raw bytes

    def share(index: int) -> list[bytes]:
        count = calls // THREADS + (index < calls % THREADS)
        return [call(request, timeout=TIMEOUT) for _ in range(count)]

    with ThreadPoolExecutor(THREADS) as pool:
        return [raw for part in pool.map(share, range(THREADS)) for raw in part]


Sample = Callable[[str, int], tuple[float, int]]
"""(RPC, calls) -> (CPU seconds of the server for them, how many responses were checked)."""


def remote(server: Server, raw: dict[str, bytes], *, check: bool) -> Sample:
    """Calls to ``server``, measured by its process's CPU; responses checked if ``check``."""

    def sample(name: str, calls: int) -> tuple[float, int]:
        before = process_cpu(server.process.pid)
        responses = call_many(server.channel, name, raw[name], calls)
        cpu = process_cpu(server.process.pid) - before
        return cpu, check_responses(name, responses) if check else 0

    return sample


def in_process(raw: dict[str, bytes]) -> Sample:
    """Calls of the servicer's handlers in this process, one thread; responses checked."""
    handlers = ProviderServicer(_make_provider()).handlers()

    def sample(name: str, calls: int) -> tuple[float, int]:
        handler, request = handlers[name], raw[name]
        start = time.process_time()
        responses = [handler(request, None) for _ in range(calls)]
        cpu = time.process_time() - start
        return cpu, check_responses(name, responses)

    return sample


def measure(calls: int, rounds: int = ROUNDS) -> dict[str, Any]:
    """Microseconds of server CPU per call, by RPC and path, and what they imply.

    The calls are split into ``rounds``, in which the paths take turns (the first rotating),
    so a busy spell of a shared machine hits every path alike.
    """
    raw = requests()
    per_round = max(THREADS, calls // rounds)
    cpu = {name: dict.fromkeys(PATHS, 0.0) for name in RPCS}
    checked = 0
    with tempfile.TemporaryDirectory(prefix="rpc-cost-") as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)

        def provider(tls: bool, grpcio: bool) -> Sample:
            server = stack.enter_context(launch_provider(root, tls=tls, grpcio=grpcio))
            return remote(server, raw, check=True)

        samples = {
            "full": provider(True, False),
            "plaintext": provider(False, False),
            "grpcio_full": provider(True, True),
            "grpcio_plaintext": provider(False, True),
            "handlers": in_process(raw),
            "grpcio": remote(stack.enter_context(launch_floor(root)), raw, check=False),
        }
        for name in RPCS:  # untimed warm-up: connections, lazy imports, caches
            for sample in samples.values():
                sample(name, max(THREADS, per_round // 5))
        for index in range(rounds):
            for name in RPCS:
                for path in rotated(list(PATHS), index):
                    seconds, n = samples[path](name, per_round)
                    cpu[name][path] += seconds
                    checked += n
    total = per_round * rounds
    costs = {
        name: {p: s * 1e6 / total for p, s in by_path.items()} for name, by_path in cpu.items()
    }
    return {
        "calls": total,
        "threads": THREADS,
        "rounds": rounds,
        "checked_responses": checked,  # every response but the bare grpcio floor's
        "us_per_rpc": costs,
        "derived": {name: _derived(c) for name, c in costs.items()},
    }


def _derived(cost: dict[str, float]) -> dict[str, float]:
    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    return {
        "native_transport_us": cost["plaintext"] - cost["handlers"],
        "tls_terminator_us": cost["grpcio_full"] - cost["grpcio_plaintext"],
        "grpcio_transport_us": cost["grpcio_plaintext"] - cost["handlers"],
        "grpcio_over_native": ratio(cost["grpcio_full"], cost["full"]),
        "full_over_grpcio": ratio(cost["full"], cost["grpcio"]),
    }


def table(result: dict[str, Any]) -> list[str]:
    """One row per path and per derived figure, one column per RPC."""
    costs, derived = result["us_per_rpc"], result["derived"]
    rows = [
        f"| server CPU \u00b5s per RPC ({result['calls']} calls from {result['threads']} "
        "threads) | " + " | ".join(RPCS) + " |",
        "|---|---|---|---|",
    ]
    for path, label in PATHS.items():
        rows.append(f"| {label} | " + " | ".join(f"{costs[n][path]:.0f}" for n in RPCS) + " |")
    for key, label in (
        ("native_transport_us", "native server's transport (plaintext - handlers)"),
        ("tls_terminator_us", "TLS terminator (grpcio: mutual TLS - plaintext)"),
        ("grpcio_transport_us", "grpcio's transport (plaintext - handlers)"),
    ):
        rows.append(f"| {label} | " + " | ".join(f"{derived[n][key]:.0f}" for n in RPCS) + " |")
    for key, label in (
        ("grpcio_over_native", "grpcio with TLS / native with TLS"),
        ("full_over_grpcio", "native with TLS / grpcio's floor"),
    ):
        ratios = " | ".join(f"{derived[n][key]:.2f}\u00d7" for n in RPCS)
        rows.append(f"| {label} | {ratios} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--calls", type=int, default=2000, help="calls per RPC and path")
    parser.add_argument("--serve-floor", metavar="SOCKET", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.serve_floor:
        serve_floor(options.serve_floor)
    if options.calls < THREADS:
        parser.error(f"--calls must be at least {THREADS}")
    print("\n".join(table(measure(options.calls))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
