"""A real HTTP server that answers from a script and records what it received.

Used where the emulator cannot misbehave on demand: retries, odd content types, captured
request bytes. It is a plain ASGI callable served by ``BackgroundServer`` (uvicorn).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send


@dataclass(frozen=True)
class Reply:
    """One scripted response. ``json`` is encoded unless ``body`` is given."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> bytes:
        if self.body is not None:
            return self.body
        return b"" if self.json is None else json.dumps(self.json).encode()


@dataclass(frozen=True)
class Received:
    """One request as it arrived on the wire."""

    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedApp:
    """Pops one ``Reply`` per request; unscripted requests get a 599."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self.received: list[Received] = []

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = deque(replies)
            self.received = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        with self._lock:
            self.received.append(
                Received(scope["method"], scope["raw_path"].decode(), headers, body)
            )
            reply = self._replies.popleft() if self._replies else Reply(599, {"unscripted": 1})
        if reply.delay:
            await asyncio.sleep(reply.delay)
        content = reply.encoded()
        response_headers = [(b"content-length", str(len(content)).encode())]
        if reply.content_type and reply.status != 204:
            response_headers.append((b"content-type", reply.content_type.encode()))
        response_headers += [(k.encode(), v.encode()) for k, v in reply.headers.items()]
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": response_headers}
        )
        await send({"type": "http.response.body", "body": content})
