"""CPU per API-calling RPC handler: create, refresh and delete of one webhook, in-process.

What it measures
    The servicer's raw-bytes handlers, called in this process as the native server calls them
    from its pool, against the emulator in a process of its own (``humanitec-emulator``, so
    none of its work is counted). For ``--n`` webhooks, in Terraform's order:

    - ``PlanResourceChange`` (create): null prior state, the config as proposed state;
    - ``ApplyResourceChange`` (create): the planned state and private state of that answer,
      one ``POST``;
    - a new ``ConfigureProvider``, as a later Terraform command starts with (a process keeps
      the webhooks it created from deletion, ``webhook.py``); untimed;
    - ``ReadResource``: the new state and private state of that answer, one ``GET``;
    - ``ApplyResourceChange`` (delete): that state as prior, null planned state, one ``DELETE``.

    Each phase once from one thread and once from 10 threads at a time (Terraform's default
    parallelism), on fresh webhooks each time; the CPU is this process's
    (``time.process_time``), so it holds the client's HTTP/1.1 path, the codecs, the models,
    protobuf and the GIL hand-offs between the threads, but no TLS or HTTP/2 of the plugin
    protocol (``rpc_cost.py`` measures those). Every answer is checked: no error diagnostic,
    and the state it should carry. Untimed warm-up webhooks come first.

How to read it
    Microseconds of CPU per call. Inside a Terraform run the same handlers cost 2-3 times
    this (``rpc_breakdown.py``): Terraform keeps the other core busy and the provider's
    threads share one GIL with the connection thread.

Run: ``python -m benchmarks.handler_cost [--n N]`` (default 1000 webhooks per threading).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.api_cost import APP, ORG, running_emulator
from benchmarks.rpc_cost import webhook_config
from provider.plugin._proto import tfplugin6_pb2 as pb
from provider.plugin.cty import decode_msgpack, encode_msgpack
from provider.plugin.servicer import ProviderServicer
from provider.provider import HumanitecProvider

__all__ = ["PHASES", "measure", "table"]

THREADS = 10  # Terraform's default -parallelism
TYPE_NAME = "humanitec_webhook"
PHASES = (
    "PlanResourceChange (create)",
    "ApplyResourceChange (create)",
    "ReadResource",
    "ApplyResourceChange (delete)",
)
PROVIDER_TYPE = "humanitec"

Handler = Callable[[bytes, Any], bytes]


class Hooks:
    """The servicer's handlers, configured for the emulator, and webhook requests for them."""

    def __init__(self, url: str, token: str) -> None:
        provider = self.provider = HumanitecProvider()
        self.handlers = ProviderServicer(provider).handlers()
        self.type = provider.resources()[0].schema.object_type()
        settings = {
            "api_prefix": url, "host": None, "org_id": ORG, "token": token,
            "disable_ssl_certificate_verification": None, "config": None,
        }  # fmt: skip
        self._configure = pb.ConfigureProvider.Request(
            terraform_version="1.11.4",
            config=pb.DynamicValue(msgpack=encode_msgpack(settings, provider.schema.object_type())),
        )
        self.configure()

    def configure(self) -> None:
        """ConfigureProvider, as each Terraform command's provider process does first: a new
        command, so webhooks created before are not held back from deletion."""
        self.call("ConfigureProvider", self._configure, pb.ConfigureProvider.Response)

    def close(self) -> None:
        """Close the API client's connections (the calls above built it)."""
        self.provider.client.close()

    def dv(self, value: dict[str, Any] | None) -> pb.DynamicValue:
        return pb.DynamicValue(msgpack=encode_msgpack(value, self.type))

    def value(self, dynamic: pb.DynamicValue) -> Any:
        return decode_msgpack(dynamic.msgpack, self.type)

    def call(self, rpc: str, request: Any, response_type: Any) -> Any:
        answer = response_type.FromString(self.handlers[rpc](request.SerializeToString(), None))
        _no_errors(rpc, answer)
        return answer


def config(name: str) -> dict[str, Any]:
    return webhook_config(name, APP, f"https://hooks.example.com/bench/{name}")


def _no_errors(rpc: str, answer: Any) -> None:
    errors = [d.summary for d in answer.diagnostics if d.severity == pb.Diagnostic.ERROR]
    if errors:
        raise SystemExit(f"{rpc} answered with errors: {errors}")


Step = Callable[[Hooks, Any], Any]
"""One phase's call for one webhook: what the previous phase handed on -> what it hands on."""


def plan(hooks: Hooks, name: str) -> tuple[dict[str, Any], pb.PlanResourceChange.Response]:
    wanted = config(name)
    request = pb.PlanResourceChange.Request(
        type_name=TYPE_NAME, prior_state=hooks.dv(None), proposed_new_state=hooks.dv(wanted),
        config=hooks.dv(wanted),
    )  # fmt: skip
    return wanted, hooks.call("PlanResourceChange", request, pb.PlanResourceChange.Response)


def create(hooks: Hooks, planned: tuple[dict[str, Any], Any]) -> pb.ApplyResourceChange.Response:
    wanted, answer = planned
    request = pb.ApplyResourceChange.Request(
        type_name=TYPE_NAME, prior_state=hooks.dv(None), planned_state=answer.planned_state,
        config=hooks.dv(wanted), planned_private=answer.planned_private,
    )  # fmt: skip
    created: pb.ApplyResourceChange.Response = hooks.call(
        "ApplyResourceChange", request, pb.ApplyResourceChange.Response
    )
    if hooks.value(created.new_state)["url"] != wanted["url"]:
        raise SystemExit(f"create answered {hooks.value(created.new_state)!r}")
    return created


def read(hooks: Hooks, created: pb.ApplyResourceChange.Response) -> pb.ReadResource.Response:
    request = pb.ReadResource.Request(
        type_name=TYPE_NAME, current_state=created.new_state, private=created.private
    )
    answer: pb.ReadResource.Response = hooks.call("ReadResource", request, pb.ReadResource.Response)
    if hooks.value(answer.new_state) != hooks.value(created.new_state):
        raise SystemExit(f"read answered {hooks.value(answer.new_state)!r}")
    return answer


def delete(
    hooks: Hooks, current: pb.ReadResource.Response | pb.ApplyResourceChange.Response
) -> None:
    request = pb.ApplyResourceChange.Request(
        type_name=TYPE_NAME, prior_state=current.new_state, planned_state=hooks.dv(None),
        config=hooks.dv(None), planned_private=current.private,
    )  # fmt: skip
    answer = hooks.call("ApplyResourceChange", request, pb.ApplyResourceChange.Response)
    if hooks.value(answer.new_state) is not None or answer.diagnostics:
        raise SystemExit(f"delete answered {answer}")


STEPS: tuple[Step, ...] = (plan, create, read, delete)


def run_phase(
    hooks: Hooks, step: Step, inputs: Sequence[Any], threads: int
) -> tuple[float, list[Any]]:
    """CPU seconds of this process for ``step`` over ``inputs`` from ``threads`` threads."""
    outputs: list[Any] = [None] * len(inputs)
    failures: list[BaseException] = []

    def share(index: int) -> None:
        try:
            for position in range(index, len(inputs), threads):
                outputs[position] = step(hooks, inputs[position])
        except BaseException as exc:  # reported by the caller, not as a thread's traceback
            failures.append(exc)

    workers = [threading.Thread(target=share, args=(i,)) for i in range(threads)]
    start = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu = time.process_time() - start
    if failures:
        raise failures[0]
    return cpu, outputs


def lifecycle(hooks: Hooks, names: Sequence[str], threads: int) -> list[float]:
    """CPU seconds per phase for ``names`` webhooks, each phase from ``threads`` threads."""
    cpu, inputs = [], list(names)
    for step in STEPS:
        if step is read:  # refresh and destroy come in later commands than the create
            hooks.configure()
        seconds, inputs = run_phase(hooks, step, inputs, threads)
        cpu.append(seconds)
    return cpu


def measure(n: int) -> dict[str, Any]:
    """µs of CPU per call, by phase and threading."""
    token = secrets.token_hex(16)
    with running_emulator(token) as url:
        hooks = Hooks(url, token)
        lifecycle(hooks, [f"warm-{i}" for i in range(THREADS * 5)], THREADS)  # untimed
        us: dict[str, dict[int, float]] = {phase: {} for phase in PHASES}
        for threads in (1, THREADS):
            names = [f"t{threads}-{i}" for i in range(n)]
            for phase, seconds in zip(PHASES, lifecycle(hooks, names, threads), strict=True):
                us[phase][threads] = seconds * 1e6 / n
        hooks.close()
    return {"webhooks": n, "threads": THREADS, "us_per_call": us}


def table(result: dict[str, Any]) -> list[str]:
    threads = result["threads"]
    rows = [
        f"| handler CPU \u00b5s per call, in-process ({result['webhooks']} webhooks) "
        f"| 1 thread | {threads} threads |",
        "|---|---|---|",
    ]
    for phase, by_threads in result["us_per_call"].items():
        rows.append(f"| {phase} | {by_threads[1]:.0f} | {by_threads[threads]:.0f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--n", type=int, default=1000, help="webhooks per threading")
    options = parser.parse_args(argv)
    if options.n < THREADS:
        parser.error(f"--n must be at least {THREADS}")
    print("\n".join(table(measure(options.n))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
