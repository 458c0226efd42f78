"""Client CPU per Humanitec API request: what a resource's refresh, create or delete costs us
before any RPC overhead, against the standard library's floor.

What it measures
    The CPU of this process (``time.process_time``) per ``GET`` of one webhook from the
    emulator, which runs in a process of its own (``humanitec-emulator``) so that none of its
    work is counted, over three clients:

    - ``provider``: :class:`provider.api.HumanitecClient`, as the provider calls it (its own
      keep-alive HTTP/1.1 path, ``provider/api/_http11.py``, on the deadline stream; retries,
      pydantic models, secret redaction; httpx serves only proxies and callers' transports);
    - ``httpx``: a bare ``httpx.Client`` with a keep-alive connection, ``.json()`` on the body;
    - ``http.client``: the standard library on one keep-alive connection, ``json.loads``.

    Each once from one thread and once from 10 threads at a time (Terraform's default
    parallelism; the emulator answers in under a millisecond: 0.21 ms of its CPU per GET in
    the emulator row of ``make bench``, ``results/latest.md``; so the threads contend as they
    would with a fast API). The clients take turns in rounds, so a busy spell of a shared
    machine hits all alike; every answer is checked.

Run: ``python -m benchmarks.api_cost [--requests N]`` (default 2000 per client and threading).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from benchmarks.workload import rotated
from provider.api import HumanitecClient

__all__ = ["CLIENTS", "measure", "table"]

ORG, APP, HOOK = "bench", "bench-app", "bench-hook"
THREADS = 10
X = "\u00d7"  # the multiplication sign of "4.0x"
ROUNDS = 4
CLIENTS = {
    "provider": "the provider's HumanitecClient (direct HTTP/1.1, deadlines, retries, pydantic)",
    "httpx": "a bare httpx.Client",
    "http.client": "the standard library's http.client (the floor)",
}
EMULATOR = Path(sys.executable).with_name("humanitec-emulator")

Get = Callable[[], Any]
"""One GET of the webhook; returns its decoded body (or model)."""


@contextlib.contextmanager
def running_emulator(token: str) -> Iterator[str]:
    """``humanitec-emulator`` in a process of its own, for ``ORG``/``APP``; its URL. Killed on
    the way out."""
    argv = [str(EMULATOR), "--port", "0", "--token", token, "--app", f"{ORG}/{APP}"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    try:
        line = process.stdout.readline().strip()
        if not line.startswith("humanitec-emulator listening on "):
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.rsplit(" ", 1)[1].rstrip("/") + "/"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def clients(url: str, token: str, stack: contextlib.ExitStack) -> dict[str, Callable[[], Get]]:
    """Per client kind, a factory of GET functions (one per thread: one connection each);
    ``stack`` closes every client and connection."""
    path = f"orgs/{ORG}/apps/{APP}/webhooks/{HOOK}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    provider = HumanitecClient(url, ORG, token)
    stack.callback(provider.close)
    bare = httpx.Client(base_url=url, headers=headers, transport=httpx.HTTPTransport())
    stack.callback(bare.close)
    parsed = urllib.parse.urlsplit(url)

    def stdlib() -> Get:
        connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port)
        stack.callback(connection.close)

        def get() -> Any:
            connection.request("GET", "/" + path, headers=headers)
            response = connection.getresponse()
            return json.loads(response.read())

        return get

    return {
        "provider": lambda: lambda: provider.get_webhook(APP, HOOK),
        "httpx": lambda: lambda: bare.get(path).raise_for_status().json(),
        "http.client": stdlib,
    }


def check(answer: Any) -> None:
    hook_id = answer.id if hasattr(answer, "id") else answer.get("id")
    if hook_id != HOOK:
        raise SystemExit(f"a GET answered {answer!r}")


def run(make: Callable[[], Get], requests: int, threads: int) -> float:
    """CPU seconds of this process for ``requests`` GETs from ``threads`` threads."""
    gets = [make() for _ in range(threads)]

    def share(get: Get, count: int) -> None:
        for _ in range(count):
            check(get())

    workers = [
        threading.Thread(target=share, args=(get, requests // threads + (i < requests % threads)))
        for i, get in enumerate(gets)
    ]
    start = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.process_time() - start


def measure(requests: int, rounds: int = ROUNDS) -> dict[str, Any]:
    """µs of client CPU per GET, by client and threading, and the ratios to the floor."""
    token = secrets.token_hex(16)
    with running_emulator(token) as url, contextlib.ExitStack() as stack:
        seed = httpx.post(
            f"{url}orgs/{ORG}/apps/{APP}/webhooks",
            headers={"Authorization": f"Bearer {token}"},
            json={"id": HOOK, "url": "https://hooks.example.com/x",
                  "triggers": [{"scope": "environment", "type": "created"}]},
        )  # fmt: skip
        seed.raise_for_status()
        factories = clients(url, token, stack)
        per_round = max(THREADS, requests // rounds)
        cpu = {(name, n): 0.0 for name in CLIENTS for n in (1, THREADS)}
        for name in CLIENTS:  # warm-up: connections, lazy imports, pydantic's first model
            run(factories[name], THREADS * 5, THREADS)
        for index in range(rounds):
            for name in rotated(list(CLIENTS), index):
                for threads in (1, THREADS):
                    cpu[name, threads] += run(factories[name], per_round, threads)
    total = per_round * rounds
    us = {f"{name}, {n} thread{'s' * (n > 1)}": s * 1e6 / total for (name, n), s in cpu.items()}
    floor = {n: cpu["http.client", n] for n in (1, THREADS)}
    ratios = {f"{name}, {n} thread{'s' * (n > 1)}": cpu[name, n] / floor[n] for name, n in cpu}
    return {"requests": total, "us_per_request": us, "over_http_client": ratios}


def table(result: dict[str, Any]) -> list[str]:
    rows = [
        f"| client CPU per GET ({result['requests']} GETs each) | \u00b5s | {X} http.client |",
        "|---|---|---|",
    ]
    for label, us in result["us_per_request"].items():
        rows.append(f"| {label} | {us:.0f} | {result['over_http_client'][label]:.2f}{X} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=2000, help="GETs per client and threading")
    options = parser.parse_args(argv)
    if options.requests < THREADS:
        parser.error(f"--requests must be at least {THREADS}")
    print("\n".join(table(measure(options.requests))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
