"""When to retry a request and how long to wait.

The waits are the official provider's (``justinrixx/retryhttp`` v1.0.1 defaults); which
failures are retried goes further, because a create is idempotent by its user-chosen id (a
retried POST that meets 409 looks up what holds the id) and an update sends the full body:

- up to 3 retries (4 attempts), all inside the call's deadline;
- 429, or an error response carrying ``Retry-After``: retried for every method, because the
  server says it did not process the request;
- 500/502/503/504, timeouts, connections lost after sending: retried for the idempotent
  methods and for POST (create) and PATCH (full-body update);
- failures before anything was sent (connection refused, DNS, TLS handshake, connect
  timeout): retried for every method, the request never reached the server;
- a request httpx refused to send (``LocalProtocolError``, e.g. a newline in a header):
  never retried, it would be refused again;
- wait: ``Retry-After`` (seconds or HTTP-date) ± up to 1/3 jitter, capped at
  ``MAX_RETRY_AFTER``; else full-jitter backoff, uniform in ``[0, min(10 s, 250 ms·2^(n-1)))``.

One deliberate difference: retryhttp retries *any* response with ``Retry-After``, a 201
included, which could duplicate a create. Here a 2xx is always final.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from provider.api._failures import request_sent

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_MAX_RETRIES",
    "IDEMPOTENT_METHODS",
    "MAX_RETRY_AFTER",
    "RETRYABLE_METHODS",
    "RETRYABLE_STATUSES",
    "backoff_delay",
    "parse_retry_after",
    "retry_after_delay",
    "should_retry_error",
    "should_retry_response",
]

DEFAULT_MAX_RETRIES = 5
"""Six attempts: a 15% transient failure rate then fails one call in about 90,000."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
RETRYABLE_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH"}
"""POST and PATCH included: the caller makes them safe (409 look-up, full-body update)."""
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_BASE = 0.25
BACKOFF_CAP = 10.0
MAX_RETRY_AFTER = 60.0
"""A hostile or broken ``Retry-After: 86400`` must not hang ``terraform apply``."""


def should_retry_response(method: str, status_code: int, retry_after: str | None) -> bool:
    """Whether a response with this status (and ``Retry-After`` value) is worth retrying."""
    if 200 <= status_code < 300:
        return False
    if status_code == 429 or retry_after is not None:
        return True
    return method.upper() in RETRYABLE_METHODS and status_code in RETRYABLE_STATUSES


def should_retry_error(method: str, error: BaseException | None) -> bool:
    """Whether a request that failed with this httpx exception is worth retrying."""
    if not isinstance(error, httpx.TransportError) or isinstance(error, httpx.LocalProtocolError):
        return False
    if not request_sent(error):
        return True
    return method.upper() in RETRYABLE_METHODS


def backoff_delay(attempt: int, random: Callable[[], float]) -> float:
    """Full-jitter backoff after ``attempt`` attempts (1 after the first one)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
    return random() * ceiling


def retry_after_delay(seconds: float, random: Callable[[], float]) -> float:
    """``seconds`` ± up to a third of it, never more than ``MAX_RETRY_AFTER``."""
    jitter = seconds * (2 * random() - 1) / 3
    return min(MAX_RETRY_AFTER, max(0.0, seconds + jitter))


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or ``None`` if it is malformed.

    Accepts delay-seconds (``"120"``) and an HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``);
    a date in the past means "now" (0). ``now`` is a Unix time, for tests.
    """
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" zone: RFC 5322 says UTC, Python says naive
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
