"""The record of every delivery attempt, served at ``GET /_emulator/deliveries``.

One entry per attempt, oldest first. Header values are masked, because webhook headers
carry credentials (``secret_headers_wo`` ends up there); the names show which were sent.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Literal

from pydantic import BaseModel, ConfigDict

from provider.api.models import JsonObject

__all__ = ["MASK", "DeliveryAttempt", "DeliveryLog", "Outcome", "masked"]

MASK = "***"

Outcome = Literal["delivered", "rejected", "retrying", "gave up", "refused"]
"""``delivered``: 2xx. ``rejected``: another answer not worth retrying (3xx, 4xx but 429).
``retrying``: a connection error, timeout, 429 or 5xx, with attempts left. ``gave up``: the
same on the last attempt. ``refused``: never sent (an unverifiable certificate, a URL the
emulator may not call)."""


class DeliveryAttempt(BaseModel):
    """One attempt to deliver one event to one webhook."""

    model_config = ConfigDict(frozen=True)

    time: str
    event: str
    org_id: str
    app_id: str
    webhook_id: str
    url: str
    attempt: int
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    duration_ms: float
    headers: dict[str, str]
    body: JsonObject


class DeliveryLog:
    """A thread-safe, bounded list of attempts (the oldest fall off past ``limit``)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[DeliveryAttempt] = deque(maxlen=limit)

    def add(self, entry: DeliveryAttempt) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[DeliveryAttempt]:
        with self._lock:
            return list(self._entries)


def masked(headers: dict[str, str]) -> dict[str, str]:
    """The header names, every value replaced by ``MASK``."""
    return dict.fromkeys(headers, MASK)
