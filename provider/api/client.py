"""The synchronous Humanitec webhook API client.

One request is: build the URL (each path segment percent-encoded), send with up to
``max_retries`` retries inside a whole-request time budget, then check the status and decode
the body into a model. httpx exceptions are mapped to ``provider.api.errors`` in one place
(``_failures.transport_error``). Nothing secret is logged or put in an error: not the token,
not a header value, not a body (webhook headers and payloads may hold credentials).
"""

from __future__ import annotations

import json
import logging
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

import httpx
import pydantic

from provider import __version__
from provider.api import _config, _failures, retry
from provider.api.errors import ApiError, TransportError
from provider.api.models import (
    WebhookRequest,
    WebhookResponse,
    WebhookUpdateResponse,
    webhook_request_body,
)

__all__ = ["HumanitecClient"]

logger = logging.getLogger("provider.api")

MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""A webhook list is kilobytes; anything this big is not the API talking."""

_T = TypeVar("_T")
_WEBHOOK = pydantic.TypeAdapter(WebhookResponse)
_WEBHOOK_LIST = pydantic.TypeAdapter(list[WebhookResponse])
_WEBHOOK_UPDATE = pydantic.TypeAdapter(WebhookUpdateResponse)


@dataclass(frozen=True)
class _Reply:
    status_code: int
    content_type: str
    retry_after: str | None
    content: bytes


class HumanitecClient:
    """Client for the webhook endpoints of one Humanitec organisation.

    It can be shared between threads. Every method either returns a validated model or
    raises a ``HumanitecError`` subclass (see ``provider.api.errors``) or what ``sleep``
    raised; empty ids raise ``ValueError``, and so does every invalid constructor argument.

    >>> token = os.environ["HUMANITEC_TOKEN"]
    >>> with HumanitecClient("https://api.humanitec.io/", "my-org", token) as client:
    ...     hooks = client.list_webhooks("my-app")

    Parameters:
        api_prefix: base URL of the API (http or https, no credentials, query or fragment);
            a trailing slash is added if missing. Proxies from the environment are used
            except for ``localhost`` and loopback IPs, as in Go's ``ProxyFromEnvironment``.
        org_id: the organisation every call is made in.
        token: the API token, sent as ``Authorization: Bearer``; never logged or shown.
            Printable ASCII without spaces (strip a trailing newline read from a file).
        verify_tls: verify the server certificate (ignored when ``transport`` is given).
        timeout: seconds for the whole call, retries and their waits included.
        app_version: the provider version reported in ``Humanitec-User-Agent``.
        transport: an httpx transport, e.g. to pin TLS settings.
        sleep: waits before each retry. It may raise to cancel the call (on Terraform's
            StopProvider): the exception propagates unchanged, with no further attempt.
            Raise a ``HumanitecError`` subclass, e.g. ``TransportError("cancelled: ...")``,
            to keep the rule that every failure is one.
        random: injected with ``sleep`` so tests can record retry waits instead of sleeping.
        max_retries: retries after the first attempt.
    """

    def __init__(
        self,
        api_prefix: str,
        org_id: str,
        token: str,
        *,
        verify_tls: bool = True,
        timeout: float = 60.0,
        app_version: str = __version__,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        max_retries: int = retry.DEFAULT_MAX_RETRIES,
    ) -> None:
        prefix = _config.parse_api_prefix(api_prefix, token)
        _config.check_arguments(
            org_id, token, app_version=app_version, timeout=timeout, max_retries=max_retries
        )
        self._api_prefix = api_prefix if api_prefix.endswith("/") else api_prefix + "/"
        self._org_id = org_id
        self._timeout = timeout
        self._sleep = sleep
        self._random = random
        self._max_retries = max_retries
        self._redact = (token,)
        # A plain-http prefix (the emulator) never does TLS; skipping the verifying
        # context saves loading the CA bundle (~70 ms) on every provider launch.
        verify = verify_tls and prefix.scheme == "https"
        if transport is None and _config.is_loopback(prefix.host):
            # httpx would send loopback requests to HTTP_PROXY; an explicit transport turns
            # environment proxies off but, unlike trust_env=False, keeps SSL_CERT_FILE.
            transport = httpx.HTTPTransport(verify=verify)
        self._http = httpx.Client(
            base_url=self._api_prefix,
            headers={
                "Authorization": f"Bearer {token}",
                "Humanitec-User-Agent": user_agent(app_version),
                "Accept": "application/json",
            },
            verify=verify,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"HumanitecClient(api_prefix={self._api_prefix!r}, org_id={self._org_id!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections. The client is unusable afterwards."""
        self._http.close()

    def list_webhooks(self, app_id: str) -> list[WebhookResponse]:
        """All webhooks of an application (``GET .../webhooks``, 200)."""
        path = self._webhooks_path(app_id)
        reply = self._request("GET", path, expect=200)
        return _decode(_WEBHOOK_LIST, reply, "GET", path)

    def get_webhook(self, app_id: str, webhook_id: str) -> WebhookResponse:
        """One webhook (``GET``, 200); raises ``NotFound`` when it does not exist."""
        path = self._webhooks_path(app_id, webhook_id)
        reply = self._request("GET", path, expect=200)
        return _decode(_WEBHOOK, reply, "GET", path)

    def create_webhook(self, app_id: str, request: WebhookRequest) -> WebhookResponse:
        """Create a webhook (``POST``, 201); raises ``Conflict`` if the id is taken in the org.

        The body is ``webhook_request_body(request)``: all six keys, unset ones ``null``.
        """
        path = self._webhooks_path(app_id)
        reply = self._request("POST", path, body=request, expect=201)
        return _decode(_WEBHOOK, reply, "POST", path)

    def update_webhook(
        self, app_id: str, webhook_id: str, request: WebhookRequest
    ) -> WebhookUpdateResponse:
        """Replace a webhook's settings (``PATCH`` with the full body, 200).

        Like the Go provider, it sends every field, so ``None`` fields are set to null.
        """
        path = self._webhooks_path(app_id, webhook_id)
        reply = self._request("PATCH", path, body=request, expect=200)
        return _decode(_WEBHOOK_UPDATE, reply, "PATCH", path)

    def delete_webhook(self, app_id: str, webhook_id: str) -> None:
        """Delete a webhook (``DELETE``, 204); raises ``NotFound`` if it is already gone."""
        self._request("DELETE", self._webhooks_path(app_id, webhook_id), expect=204)

    def _webhooks_path(self, app_id: str, webhook_id: str | None = None) -> str:
        segment = _config.path_segment
        path = f"orgs/{segment('org_id', self._org_id)}/apps/{segment('app_id', app_id)}"
        path += "/webhooks"
        if webhook_id is not None:
            path += "/" + segment("webhook_id", webhook_id)
        return path

    def _request(
        self, method: str, path: str, *, expect: int, body: WebhookRequest | None = None
    ) -> _Reply:
        content = None
        headers: dict[str, str] = {}
        if body is not None:
            body_json = webhook_request_body(body)
            content = json.dumps(body_json, separators=(",", ":"), allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        reply, attempts = self._send_with_retries(method, path, content, headers)
        if reply.status_code != expect:
            raise ApiError.from_response(
                reply.status_code,
                reply.content_type,
                reply.content,
                attempts=attempts,
                redact=self._redact,
            )
        return reply

    def _send_with_retries(
        self, method: str, path: str, content: bytes | None, headers: dict[str, str]
    ) -> tuple[_Reply, int]:
        """The final reply and how many attempts it took, or raise the last failure."""
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            reply: _Reply | None = None
            failure: TransportError | None = None
            outcome: int | str
            try:
                reply = self._send_once(method, path, content, headers, deadline)
            except httpx.HTTPError as error:
                # Built here, raised below: outside this block it gets no __context__.
                failure = _failures.transport_error(method, path, error, self._timeout)
                retryable = retry.should_retry_error(method, error)
                outcome = type(error).__name__
            except TransportError as error:  # an oversized body: final
                failure, retryable, outcome = error, False, "TransportError"
            else:
                retryable = retry.should_retry_response(
                    method, reply.status_code, reply.retry_after
                )
                outcome = reply.status_code
            _log_attempt(method, path, outcome, attempt, started)
            if retryable and attempt <= self._max_retries:
                delay = self._retry_delay(reply, attempt)
                if delay <= deadline - time.monotonic():
                    logger.debug("%s %s: retrying in %.2f s", method, path, delay)
                    self._sleep(delay)  # may raise to cancel: see the class docstring
                    continue
            if failure is not None:
                raise failure
            assert reply is not None
            return reply, attempt

    def _retry_delay(self, reply: _Reply | None, attempt: int) -> float:
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
    ) -> _Reply:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException("time budget exhausted before sending")
        with self._http.stream(
            method, path, content=content, headers=headers, timeout=httpx.Timeout(remaining)
        ) as response:
            chunks: list[bytes] = []
            size = 0
            # Read in chunks so neither a trickling nor an endless body outlives the budget.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise TransportError(
                        f"{method} {path}: response body exceeds {MAX_RESPONSE_BYTES} bytes"
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("time budget exhausted while reading the body")
                chunks.append(chunk)
        return _Reply(
            status_code=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            retry_after=response.headers.get("Retry-After"),
            content=b"".join(chunks),
        )


def user_agent(app_version: str) -> str:
    """The ``Humanitec-User-Agent`` value, byte for byte what the Go provider sends.

    The ``sdk`` part names the Go SDK, not us: Humanitec may key behaviour or support
    statistics on it, so we present ourselves as the official provider does.
    """
    return f"app terraform-provider-humanitec/{app_version}; sdk humanitec-go-autogen/latest"


def _decode(adapter: pydantic.TypeAdapter[_T], reply: _Reply, method: str, path: str) -> _T:
    if "json" not in reply.content_type.lower():
        raise TransportError(
            f"{method} {path}: expected a JSON response (HTTP {reply.status_code}), "
            f"got Content-Type {reply.content_type or '(none)'!r}"
        )
    try:
        return adapter.validate_json(reply.content)
    except pydantic.ValidationError as error:
        # Never include input values: they may be webhook header secrets.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)[:5]
        )
        raise TransportError(
            f"{method} {path}: unexpected response body (HTTP {reply.status_code}): {problems}"
        ) from None


def _log_attempt(method: str, path: str, outcome: int | str, attempt: int, started: float) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    logger.debug("%s %s -> %s (attempt %d, %.0f ms)", method, path, outcome, attempt, elapsed_ms)
