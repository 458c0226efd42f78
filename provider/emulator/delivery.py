"""Delivering events: one POST per enabled, matching webhook of the event's application.

Who gets a call, and what::

    event in app A ──► every webhook of A, not disabled, with a trigger == the event
                   ──► POST url   headers + Content-Type: application/json
                                  body = render(payload, event values)

Each delivery runs on its own thread (``Background``). Connection errors, timeouts, 429
and 5xx are retried up to ``attempts`` times, waiting ``backoff`` seconds, doubled after
each try (capped at ``max_backoff``; a 429/503 ``Retry-After`` in seconds is honoured
within the cap). Every attempt goes into the ``DeliveryLog``.

HTTPS: a URL without a scheme means ``https://``. The receiver's certificate is checked
against the system trust store plus ``ca_file``; when it does not verify, the receiver
gets nothing, and the refusal is logged (not retried: a certificate does not fix itself).
``http://`` is refused unless ``allow_http`` is set, and then only to loopback. Requests
go out directly, never through a proxy from the environment.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import math
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from provider.api.models import JsonObject, WebhookResponse
from provider.emulator.background import Background
from provider.emulator.delivery_log import DeliveryAttempt, DeliveryLog, Outcome, masked
from provider.emulator.events import Occurrence, render, rfc3339_nanoseconds
from provider.emulator.store import StoreError, WebhookStore

__all__ = ["DeliverySettings", "Dispatcher"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries are made; the defaults suit a person watching, tests shorten them."""

    ca_file: Path | None = None
    allow_http: bool = False
    attempts: int = 5
    timeout: float = 10.0
    backoff: float = 1.0
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("delivery attempts must be at least 1")
        if self.timeout <= 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("delivery timeout must be positive and backoffs not negative")


@dataclass(frozen=True)
class _Delivery:
    occurrence: Occurrence
    webhook_id: str
    url: str
    headers: dict[str, str]
    body: JsonObject


class Dispatcher:
    """Turns occurrences into deliveries, off the request path.

    ``ca_file`` is read at construction, so a missing or bad file fails at start-up
    (``OSError``/``ssl.SSLError``) rather than at the first delivery.
    """

    def __init__(
        self,
        store: WebhookStore,
        settings: DeliverySettings | None = None,
        *,
        background: Background | None = None,
        log: DeliveryLog | None = None,
    ) -> None:
        self.settings = DeliverySettings() if settings is None else settings
        self.background = Background() if background is None else background
        self.log = DeliveryLog() if log is None else log
        self._store = store
        self._tls_lock = threading.Lock()
        self._tls_context: ssl.SSLContext | None = None
        if self.settings.ca_file is not None:
            self._tls()  # a bad --ca-file fails now, not at the first delivery

    def _tls(self) -> ssl.SSLContext:
        # Made on first use: loading the system trust store costs ~50 ms, and most
        # emulators (one per test) never deliver.
        with self._tls_lock:
            if self._tls_context is None:
                context = ssl.create_default_context()
                if self.settings.ca_file is not None:
                    context.load_verify_locations(cafile=self.settings.ca_file)
                self._tls_context = context
            return self._tls_context

    def fire(self, occurrence: Occurrence) -> None:
        """Start one delivery per matching webhook, as they are now; returns at once."""
        try:
            hooks = self._store.list_webhooks(occurrence.org_id, occurrence.app_id)
        except StoreError:
            return  # the application is gone: nobody to tell
        for hook in hooks:
            if _wants(hook, occurrence):
                delivery = _Delivery(
                    occurrence=occurrence,
                    webhook_id=hook.id,
                    url=_with_scheme(hook.url or ""),
                    headers=_header_values(hook),
                    body=render(hook.payload, occurrence.values),
                )
                self.background.run(
                    functools.partial(self._deliver, delivery),
                    name=f"deliver {occurrence.event.name} to {hook.id}",
                )

    def _deliver(self, delivery: _Delivery) -> None:
        refusal = self._refusal(delivery.url)
        if refusal is not None:
            self._record(delivery, 1, "refused", time.monotonic(), error=refusal)
            return
        content = json.dumps(delivery.body).encode()
        headers = {**delivery.headers, "Content-Type": "application/json"}
        wait = self.settings.backoff
        with httpx.Client(
            verify=self._tls(), timeout=self.settings.timeout, trust_env=False
        ) as client:
            for attempt in range(1, self.settings.attempts + 1):
                hint = self._attempt(client, delivery, attempt, content, headers)
                if hint is None:
                    return
                pause = min(max(wait, hint), self.settings.max_backoff)
                if self.background.stopping.wait(pause):
                    return
                wait *= 2

    def _attempt(
        self,
        client: httpx.Client,
        delivery: _Delivery,
        attempt: int,
        content: bytes,
        headers: dict[str, str],
    ) -> float | None:
        """One POST, logged; None when the delivery is over, else the Retry-After hint."""
        last = attempt == self.settings.attempts
        again: Outcome = "gave up" if last else "retrying"
        started = time.monotonic()
        try:
            # Streamed and closed unread: a receiver's answer body does not matter.
            with client.stream("POST", delivery.url, content=content, headers=headers) as answer:
                status = answer.status_code
                hint = _retry_after(answer.headers.get("Retry-After"))
        except httpx.LocalProtocolError as error:  # e.g. a header value h11 will not send
            self._record(delivery, attempt, "rejected", started, error=_describe(error))
            return None
        except httpx.TransportError as error:
            if _certificate_refused(error):
                self._record(delivery, attempt, "refused", started, error=str(error))
                return None
            self._record(delivery, attempt, again, started, error=_describe(error))
            return None if last else 0.0
        except (httpx.HTTPError, ValueError) as error:  # e.g. a header httpx rejects
            self._record(delivery, attempt, "rejected", started, error=_describe(error))
            return None
        if 200 <= status < 300:
            self._record(delivery, attempt, "delivered", started, status=status)
            return None
        if status != 429 and status < 500:
            self._record(delivery, attempt, "rejected", started, status=status)
            return None
        self._record(delivery, attempt, again, started, status=status)
        return None if last else (hint or 0.0)

    def _refusal(self, url: str) -> str | None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            return f"invalid URL: {error}"
        if parsed.scheme == "https":
            return None
        if parsed.scheme != "http":
            return f"refused: {parsed.scheme!r} is not a webhook scheme (https only)"
        if not self.settings.allow_http:
            return "refused: http:// URL (start the emulator with --allow-http for loopback)"
        if not _is_loopback(parsed.host):
            return "refused: http:// is allowed to loopback addresses only"
        return None

    def _record(
        self,
        delivery: _Delivery,
        attempt: int,
        outcome: Outcome,
        started: float,
        *,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        entry = DeliveryAttempt(
            time=rfc3339_nanoseconds(time.time_ns()),
            event=delivery.occurrence.event.name,
            org_id=delivery.occurrence.org_id,
            app_id=delivery.occurrence.app_id,
            webhook_id=delivery.webhook_id,
            url=delivery.url,
            attempt=attempt,
            outcome=outcome,
            status_code=status,
            error=error,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
            headers=masked(delivery.headers),
            body=delivery.body,
        )
        self.log.add(entry)
        if outcome in ("refused", "gave up", "rejected"):
            _log.warning(
                "%s to webhook %s (%s) %s: %s",
                entry.event,
                entry.webhook_id,
                entry.url,
                outcome,
                error if error is not None else f"HTTP {status}",
            )


def _wants(hook: WebhookResponse, occurrence: Occurrence) -> bool:
    return not hook.disabled and any(occurrence.matches(t.scope, t.type) for t in hook.triggers)


def _with_scheme(url: str) -> str:
    return url if "://" in url else f"https://{url}"


def _header_values(hook: WebhookResponse) -> dict[str, str]:
    # The API stores any JSON value; a header carries text, so non-strings go as JSON.
    return {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in (hook.headers or {}).items()
    }


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _certificate_refused(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None  # an HTTP date: the backoff applies
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
