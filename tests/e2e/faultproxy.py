"""A seeded, fault-injecting HTTP/1.1 reverse proxy for end-to-end tests.

It sits on loopback between the provider (``HUMANITEC_API_PREFIX=proxy.url``) and the
emulator, forwards every request unchanged, and misbehaves when a rule says so::

    with FaultProxy(emulator.url, seed=7) as proxy:
        proxy.rules = [
            Rule(Fault.UNAVAILABLE, probability=0.1),
            Rule(Fault.LOSE_ANSWER, method="POST|PATCH|DELETE", probability=0.05),
            Rule(Fault.REWRITE, method="GET", path=r".*/webhooks/r1", rewrite=set_fields(id="x")),
        ]
        ...
        proxy.counts()  # {"lose-answer": 3, "503": 7}

For each request the first matching rule (``method`` and ``path`` are regular expressions
matched in full; the path excludes the query) that has ``times`` left and wins its
``probability`` roll decides the fault. Rolls come from one ``random.Random(seed)``; the
seed is ``FAULT_SEED`` from the environment when set, so a failure can be replayed (the
interleaving of concurrent requests still varies). Rules, counters and the log are safe to
read and change from any thread while requests flow.
"""

from __future__ import annotations

import enum
import http.client
import json
import os
import random
import re
import select
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

__all__ = [
    "Answer",
    "Fault",
    "FaultProxy",
    "Request",
    "Rewrite",
    "Rule",
    "Seen",
    "echo_request",
    "empty_204",
    "refusing_port",
    "rewrite_json",
    "set_fields",
]

TRICKLE_INTERVAL = 0.2
UPSTREAM_TIMEOUT = 30.0
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"}
)


class Fault(enum.Enum):
    """What the proxy does instead of forwarding faithfully."""

    UNAVAILABLE = "503"
    """Answer 503 without forwarding."""
    THROTTLE = "429"
    """Answer 429 with ``Retry-After: 1`` without forwarding."""
    COMMIT_THEN_500 = "commit-then-500"
    """Forward (the emulator acts), then answer 500 instead."""
    LOSE_ANSWER = "lose-answer"
    """Forward (the emulator acts), then close the connection without answering."""
    REWRITE = "rewrite"
    """Forward, then answer what the rule's ``rewrite`` makes of the emulator's answer."""
    TRICKLE = "trickle"
    """Without forwarding, send a status line and header one byte per 0.2 s, forever."""
    HANG = "hang"
    """Read the request, never forward nor answer; wait until the client gives up."""
    COMMIT_THEN_HANG = "commit-then-hang"
    """Forward (the emulator acts), then never answer; wait until the client gives up."""
    REFUSE = "refuse"
    """Close the connection at once, without reading the body or forwarding."""


@dataclass(frozen=True)
class Request:
    """A request as the proxy received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """A response: the emulator's, or one a rewrite made."""

    status: int
    headers: dict[str, str]
    body: bytes


Rewrite = Callable[[Request, Answer], Answer]


@dataclass
class Rule:
    """Inject ``fault`` into matching requests; ``times`` (None: unlimited) counts down."""

    fault: Fault
    method: str = ".*"
    path: str = ".*"
    probability: float = 1.0
    times: int | None = None
    rewrite: Rewrite | None = None

    def __post_init__(self) -> None:
        if (self.fault is Fault.REWRITE) != (self.rewrite is not None):
            raise ValueError("a rewrite function goes with Fault.REWRITE, and only with it")

    def matches(self, method: str, path: str) -> bool:
        return bool(re.fullmatch(self.method, method) and re.fullmatch(self.path, path))


@dataclass(frozen=True)
class Seen:
    """One request the proxy received, and the fault it injected (None: forwarded as is)."""

    method: str
    path: str
    fault: Fault | None


def rewrite_json(change: Callable[[Any], Any]) -> Rewrite:
    """A rewrite that replaces the JSON body with ``change(decoded body)``, status kept."""

    def rewrite(_request: Request, answer: Answer) -> Answer:
        body = json.dumps(change(json.loads(answer.body))).encode()
        return Answer(answer.status, {"Content-Type": "application/json"}, body)

    return rewrite


def set_fields(**fields: Any) -> Rewrite:
    """A rewrite that sets top-level fields of a JSON object answer, e.g. ``id="victim"``."""
    return rewrite_json(lambda body: {**body, **fields})


def empty_204() -> Rewrite:
    """A rewrite that turns any answer into ``204 No Content``."""
    return lambda _request, _answer: Answer(204, {}, b"")


def echo_request(status: int = 400) -> Rewrite:
    """A rewrite into a Humanitec error that quotes the request body and its Authorization."""

    def rewrite(request: Request, _answer: Answer) -> Answer:
        authorization = request.headers.get("authorization", "")
        text = request.body.decode("utf-8", errors="replace")
        message = f"Invalid request {text} (sent with Authorization: {authorization})"
        body = {"error": f"API-{status}", "message": message}
        return Answer(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

    return rewrite


def refusing_port() -> socket.socket:
    """A socket bound to a loopback port but not listening: connections to it are refused.

    Holding it open keeps the port from being handed to anyone else; close it when done.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class FaultProxy:
    """The proxy on ``127.0.0.1:<free port>``, a context manager; ``url`` is its address."""

    def __init__(self, upstream: str, *, seed: int | None = None) -> None:
        target = urlsplit(upstream)
        if target.scheme != "http" or target.hostname is None or target.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream = (target.hostname, target.port)
        if seed is None:
            from_env = os.environ.get("FAULT_SEED")
            seed = int(from_env) if from_env else random.SystemRandom().randrange(2**32)
        self.seed = seed
        self._random = random.Random(seed)  # noqa: S311 (fault rolls, not secrets)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._log: list[Seen] = []
        self._counts: Counter[Fault] = Counter()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"fault proxy {self.url}", daemon=True
        )

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    @rules.setter
    def rules(self, rules: list[Rule]) -> None:
        with self._lock:
            self._rules = list(rules)

    @property
    def log(self) -> list[Seen]:
        """Every request received so far, in order of arrival."""
        with self._lock:
            return list(self._log)

    def counts(self) -> dict[str, int]:
        """Faults injected so far, by kind (``Fault.value``)."""
        with self._lock:
            return {fault.value: n for fault, n in sorted(self._counts.items(), key=str)}

    def reset(self, salt: int = 0) -> None:
        """Forward faithfully from now on, forget the log and counters, and reseed
        (with ``salt`` added, so that phases of one test roll differently)."""
        with self._lock:
            self._rules, self._log = [], []
            self._counts.clear()
            self._random.seed(self.seed + salt)  # each test replays alone with its FAULT_SEED

    def choose(self, method: str, path: str) -> Rule | None:
        """The rule that applies to this request (consuming one of its ``times``), logged."""
        with self._lock:
            chosen = None
            for rule in self._rules:
                if rule.times == 0 or not rule.matches(method, path):
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                chosen = rule
                self._counts[rule.fault] += 1
                break
            self._log.append(Seen(method, path, chosen.fault if chosen else None))
            return chosen

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; trickling and hanging connections end too."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections under -parallelism=50

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], proxy: FaultProxy
    ) -> None:
        self.proxy = proxy
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the proxy's log is ``FaultProxy.log``."""

    def _serve(self) -> None:
        proxy = self.server.proxy
        path = urlsplit(self.path).path
        rule = proxy.choose(self.command, path)
        fault = rule.fault if rule else None
        if fault is Fault.REFUSE:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        request = self._read_request()
        if fault is Fault.UNAVAILABLE:
            self._answer(_error_answer(503, "Service Unavailable (injected)"))
        elif fault is Fault.THROTTLE:
            answer = _error_answer(429, "Too Many Requests (injected)")
            self._answer(Answer(429, {**answer.headers, "Retry-After": "1"}, answer.body))
        elif fault is Fault.TRICKLE:
            self._trickle()
        elif fault is Fault.HANG:
            self._hang()
        else:
            answer = self._forward(request)
            if fault is Fault.COMMIT_THEN_500:
                self._answer(_error_answer(500, "Internal Server Error (injected)"))
            elif fault is Fault.COMMIT_THEN_HANG:
                self._hang()
            elif fault is Fault.LOSE_ANSWER:
                self.close_connection = True
            elif rule is not None and rule.rewrite is not None:
                self._answer(rule.rewrite(request, answer))
            else:
                self._answer(answer)

    def _read_request(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Request(self.command, self.path, headers, body)

    def _forward(self, request: Request) -> Answer:
        connection = http.client.HTTPConnection(*self.server.proxy.upstream, UPSTREAM_TIMEOUT)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            connection.request(request.method, request.path, request.body or None, headers)
            response = connection.getresponse()
            body = response.read()
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
            }
            return Answer(response.status, kept, body)
        finally:
            connection.close()

    def _answer(self, answer: Answer) -> None:
        reason = http.client.responses.get(answer.status, "")
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in answer.headers.items()]
        if answer.status not in (204, 304):
            lines.append(f"Content-Length: {len(answer.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (b"" if answer.status in (204, 304) else answer.body))

    def _trickle(self) -> None:
        self.close_connection = True
        stream = b"HTTP/1.1 200 OK\r\nX-Trickle: "
        sent = 0
        while not self.server.proxy.stopping.wait(TRICKLE_INTERVAL):
            byte = stream[sent : sent + 1] or b"a"
            try:
                self.wfile.write(byte)
            except OSError:
                return  # the client gave up
            sent += 1

    def _hang(self) -> None:
        self.close_connection = True
        while not self.server.proxy.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], TRICKLE_INTERVAL)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # the client closed the connection
                except OSError:
                    return
                self.server.proxy.stopping.wait(TRICKLE_INTERVAL)  # data, not EOF: keep waiting


def _error_answer(status: int, message: str) -> Answer:
    body = json.dumps({"error": f"API-{status}", "message": message}).encode()
    return Answer(status, {"Content-Type": "application/json"}, body)
