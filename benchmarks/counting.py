"""Count the emulator's API requests from outside it: an ASGI middleware around its app.

Requests are counted by method and by what the path names (an application, the webhook
collection, one webhook, something else), so a report can say "1.00 GET per resource on
refresh" and "1 application check per launch" apart. The count is taken before the app runs,
so a request that fails still counts (it still cost a round trip).
"""

from __future__ import annotations

import threading
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestCounter", "path_kind"]


def path_kind(path: str) -> str:
    """``app``, ``webhooks`` (list/create), ``webhook`` (one) or ``other``."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "orgs" and parts[2] == "apps":
        return "app"
    if len(parts) == 5 and parts[0] == "orgs" and parts[4] == "webhooks":
        return "webhooks"
    if len(parts) == 6 and parts[0] == "orgs" and parts[4] == "webhooks":
        return "webhook"
    return "other"


class RequestCounter:
    """ASGI middleware: counts ``(method, path kind)``; ``take()`` returns and resets the count."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = (str(scope["method"]), path_kind(str(scope["path"])))
            with self._lock:
                self._counts[key] += 1
        await self._app(scope, receive, send)

    def take(self) -> dict[str, int]:
        """``{"GET webhook": 1000, ...}`` since the last call."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return {f"{method} {kind}": n for (method, kind), n in sorted(counts.items())}
