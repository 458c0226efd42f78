"""The emulator's own request throughput: keep-alive clients hammering it for a few seconds.

Run as a separate process (``python benchmarks/emulator_load.py URL TOKEN PATH SECONDS
THREADS``) so that the load generator does not share the emulator's interpreter lock. Each
thread holds one ``http.client`` connection (the stdlib client costs far less CPU per request
than httpx, so the emulator, not the client, is what is measured as far as two cores allow)
and sends ``GET PATH`` until the time is up. Prints ``{"requests": N, "seconds": S,
"errors": E}`` as JSON.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import urllib.parse


def hammer(url: str, token: str, path: str, deadline: float, out: list[int]) -> None:
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port)
    headers = {"Authorization": f"Bearer {token}"}
    done = errors = 0
    while time.monotonic() < deadline:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        done += 1
        if response.status != 200:
            errors += 1
    connection.close()
    out.extend((done, errors))


def main(argv: list[str]) -> int:
    url, token, path, seconds, threads = argv
    start = time.monotonic()
    deadline = start + float(seconds)
    results: list[list[int]] = [[] for _ in range(int(threads))]
    workers = [
        threading.Thread(target=hammer, args=(url, token, path, deadline, out)) for out in results
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    requests = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    print(json.dumps({"requests": requests, "seconds": elapsed, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
