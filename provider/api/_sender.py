"""One API call: attempts and retry waits inside one deadline, cut short by ``cancel()``.

The deadline is enforced at the socket (``_deadline.DeadlineBackend``), so it holds while
headers or a body trickle in; the waits between attempts end early on ``cancel()``. Each
attempt's outcome is remembered only as far as the caller needs it: whether it may have
been applied on the server, so a later 409 or 404 can be read in that light.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from provider.api import _failures, retry
from provider.api._deadline import DeadlineBackend
from provider.api._http11 import BodyTooLargeError, Origin
from provider.api.errors import TransportError

__all__ = ["MAX_RESPONSE_BYTES", "Reply", "Sender"]

logger = logging.getLogger("provider.api")

MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""A webhook list is kilobytes; anything this big is not the API talking."""


@dataclass(frozen=True)
class Reply:
    """The final answer of a call, and what the attempts before it may have done."""

    status_code: int
    content_type: str
    retry_after: str | None
    content: bytes
    attempts: int
    earlier_attempt_may_have_applied: bool


class Sender:
    """Sends requests through ``http`` with retries; shared by the client's threads."""

    def __init__(
        self,
        http: httpx.Client,
        backend: DeadlineBackend,
        *,
        where_base: str,
        timeout: float,
        max_retries: int,
        sleep: Callable[[float], None] | None,
        random: Callable[[], float],
        direct: Origin | None = None,
    ) -> None:
        self._http = http
        self._direct = direct
        # Every call goes to the base URL's scheme, host and port, so the transport httpx
        # would pick (a proxy's or the direct one) is the same for all: pick it once.
        self._transport = http._transport_for_url(http.base_url)
        self._headers = list(http.headers.multi_items())  # the client's defaults included
        self._prefix = str(http.base_url)
        self._backend = backend
        self._where_base = where_base
        self._timeout = timeout
        self._max_retries = max_retries
        self._sleep = sleep
        self._random = random

    def close(self) -> None:
        """Close the pooled connections of both paths."""
        if self._direct is not None:
            self._direct.close()
        self._http.close()

    @property
    def cancelled(self) -> threading.Event:
        return self._backend.cancelled

    def where(self, method: str, path: str) -> str:
        """``"METHOD scheme://host:port/path"``: how messages name the operation."""
        return f"{method} {self._where_base}{path}"

    def send(self, method: str, path: str, content: bytes | None, headers: dict[str, str]) -> Reply:
        """The final reply, or raise the last failure as a ``TransportError``."""
        where = self.where(method, path)
        deadline = time.monotonic() + self._timeout
        earlier = False  # whether an attempt before the current one may have been applied
        attempt = 0
        while True:
            if self.cancelled.is_set():
                raise TransportError(
                    f"{where}: cancelled before the request was sent",
                    request_sent=False,
                    attempts=attempt,
                    earlier_attempt_may_have_applied=earlier,
                    cancelled=True,
                )
            attempt += 1
            started = time.monotonic()
            reply: Reply | None = None
            failure: TransportError | None = None
            outcome: int | str
            try:
                reply = self._send_once(method, path, content, headers, deadline)
            except httpx.HTTPError as error:
                # Built here, raised below: outside this block it gets no __context__.
                cancelled = self.cancelled.is_set()
                failure = _failures.transport_error(
                    where, error, timeout=self._timeout, cancelled=cancelled
                )
                retryable = not cancelled and retry.should_retry_error(method, error)
                applied = failure.request_sent
                outcome = type(error).__name__
            except BodyTooLargeError:
                failure = TransportError(
                    f"{where}: response body exceeds {MAX_RESPONSE_BYTES} bytes"
                )
                retryable, applied, outcome = False, True, "oversized body"
            else:
                retryable = retry.should_retry_response(
                    method, reply.status_code, reply.retry_after
                )
                # A 4xx (429 included) says the server did not act; a 5xx leaves it open.
                applied = reply.status_code < 400 or reply.status_code >= 500
                outcome = reply.status_code
            _log_attempt(method, path, outcome, attempt, started)
            if retryable and attempt <= self._max_retries:
                delay = self._retry_delay(reply, attempt)
                if delay <= deadline - time.monotonic():
                    logger.debug("%s %s: retrying in %.2f s", method, path, delay)
                    self._wait(delay, attempt, earlier or applied)
                    earlier = earlier or applied
                    continue
            if failure is not None:
                failure.attempts = attempt
                failure.earlier_attempt_may_have_applied = earlier
                raise failure
            assert reply is not None
            return Reply(
                reply.status_code,
                reply.content_type,
                reply.retry_after,
                reply.content,
                attempts=attempt,
                earlier_attempt_may_have_applied=earlier,
            )

    def _wait(self, delay: float, attempts: int, may_have_applied: bool) -> None:
        if self._sleep is None:
            self.cancelled.wait(delay)
            return
        try:
            self._sleep(delay)  # may raise to cancel: see HumanitecClient's docstring
        except TransportError as error:
            # Same object, facts filled in: nothing of the next attempt was sent.
            error.request_sent = False
            error.attempts = attempts
            error.earlier_attempt_may_have_applied = may_have_applied
            raise

    def _retry_delay(self, reply: Reply | None, attempt: int) -> float:
        if reply is not None and reply.retry_after is not None:
            seconds = retry.parse_retry_after(reply.retry_after)
            if seconds is not None:
                return retry.retry_after_delay(seconds, self._random)
        return retry.backoff_delay(attempt, self._random)

    def _send_once(
        self,
        method: str,
        path: str,
        content: bytes | None,
        headers: dict[str, str],
        deadline: float,
    ) -> Reply:
        if self._http.is_closed:  # as httpx.Client.send would say
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.ConnectTimeout("time budget exhausted before sending")
        if self._direct is not None:
            with self._backend.budget(deadline):
                answer = self._direct.exchange(method, path, headers, content, MAX_RESPONSE_BYTES)
            return Reply(
                status_code=answer.status_code,
                content_type=answer.header(b"content-type") or "",
                retry_after=answer.header(b"retry-after"),
                content=answer.content,
                attempts=1,
                earlier_attempt_may_have_applied=False,
            )
        # Straight to the transport: httpx.Client's own layers (URL merging, cookies, auth,
        # redirects, event hooks) do nothing for these calls and cost about a third of the
        # client's CPU per request (``python -m benchmarks.api_cost``).
        request = httpx.Request(
            method,
            self._prefix + path,
            headers=[*self._headers, *headers.items()],
            content=content,
            extensions={"timeout": httpx.Timeout(remaining).as_dict()},
        )
        with self._backend.budget(deadline):
            try:
                response = self._transport.handle_request(request)
            except httpx.RequestError as error:
                error.request = request  # as httpx.Client does: the error names its request
                raise
            response.request = request
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise BodyTooLargeError
                    if time.monotonic() > deadline:  # for a transport without DeadlineBackend
                        raise httpx.ReadTimeout("time budget exhausted while reading the body")
                    chunks.append(chunk)
            finally:
                response.close()
        return Reply(
            status_code=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            retry_after=response.headers.get("Retry-After"),
            content=b"".join(chunks),
            attempts=1,
            earlier_attempt_may_have_applied=False,
        )


def _log_attempt(method: str, path: str, outcome: int | str, attempt: int, started: float) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    logger.debug("%s %s -> %s (attempt %d, %.0f ms)", method, path, outcome, attempt, elapsed_ms)
