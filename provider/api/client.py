"""The synchronous Humanitec webhook API client.

One call is: build the URL (each path segment percent-encoded), send it with up to
``max_retries`` retries inside one deadline (``_sender``; the deadline is enforced at the
socket by ``_deadline``), then check the status and decode the body into a model. httpx
exceptions are mapped to ``provider.api.errors`` in one place (``_failures``). Nothing
secret is logged or put in an error: not the token, not a header value (redacted from echoed
error bodies), not a success body (webhook headers and payloads may hold credentials).
"""

from __future__ import annotations

import json
import random as _random
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self, TypeVar

import httpx
import pydantic
from pydantic import JsonValue

from provider.api import _config, _deadline, _http11, retry
from provider.api._sender import Reply, Sender
from provider.api.errors import ApiError, TransportError
from provider.api.models import (
    ApplicationResponse,
    JsonObject,
    WebhookRequest,
    WebhookResponse,
    WebhookUpdateResponse,
    webhook_request_body,
)

__all__ = ["HumanitecClient"]

_T = TypeVar("_T")
_APPLICATION = pydantic.TypeAdapter(ApplicationResponse)
_APPLICATION_LIST = pydantic.TypeAdapter(list[ApplicationResponse])
_WEBHOOK = pydantic.TypeAdapter(WebhookResponse)
_WEBHOOK_LIST = pydantic.TypeAdapter(list[WebhookResponse])
_WEBHOOK_UPDATE = pydantic.TypeAdapter(WebhookUpdateResponse)


class HumanitecClient:
    """Client for the webhook and application endpoints of one Humanitec organisation.

    It can be shared between threads. Every method either returns a validated model or
    raises a ``HumanitecError`` subclass (see ``provider.api.errors``) or what ``sleep``
    raised; empty ids raise ``ValueError``, and so does every invalid constructor argument.
    Each call, retries and their waits included, ends by its deadline (``timeout``) or
    within about a second of ``cancel()``, whatever the server does.

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
        app_version: the provider version reported in ``Humanitec-User-Agent`` (default: the
            installed package's).
        transport: an httpx transport, e.g. to pin TLS settings. The deadline holds at the
            socket only for an ``httpx.HTTPTransport``; others get httpx's own timeouts.
        sleep: waits before each retry; by default a wait that ``cancel()`` ends. It may
            raise to cancel the call (on Terraform's StopProvider): the exception propagates
            unchanged, with no further attempt. Raise a ``HumanitecError`` subclass, e.g.
            ``TransportError("cancelled: ...")``, to keep the rule that every failure is one.
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
        app_version: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] = _random.random,
        max_retries: int = retry.DEFAULT_MAX_RETRIES,
    ) -> None:
        if app_version is None:
            from provider import __version__

            app_version = __version__
        prefix = _config.parse_api_prefix(api_prefix, token)
        _config.check_arguments(
            org_id, token, app_version=app_version, timeout=timeout, max_retries=max_retries
        )
        self._api_prefix = api_prefix if api_prefix.endswith("/") else api_prefix + "/"
        self._org_id = org_id
        self._secrets_lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset({token})
        # A plain-http prefix (the emulator) never does TLS; skipping the verifying
        # context saves loading the CA bundle (~70 ms) on every provider launch.
        verify = verify_tls and prefix.scheme == "https"
        own_transport = transport is None
        if own_transport and _config.is_loopback(prefix.host):
            # httpx would send loopback requests to HTTP_PROXY; an explicit transport turns
            # environment proxies off but, unlike trust_env=False, keeps SSL_CERT_FILE.
            transport = httpx.HTTPTransport(verify=verify)
        http = httpx.Client(
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
        backend = _deadline.DeadlineBackend(threading.Event())
        _deadline.install(http, backend)
        self._http = http
        self._sender = Sender(
            http,
            backend,
            where_base=_config.where_base(prefix),
            timeout=timeout,
            max_retries=max_retries,
            sleep=sleep,
            random=random,
            direct=_http11.direct_origin(http, backend, own_transport=own_transport),
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
        self._sender.close()

    def cancel(self) -> None:
        """End every call in flight, and every later one, with a cancelled ``TransportError``.

        Thread-safe and permanent (Terraform's StopProvider ends the process). Socket waits
        and retry waits notice within ``_deadline.SLICE`` seconds; a DNS look-up cannot be
        interrupted. The error's ``request_sent`` and ``earlier_attempt_may_have_applied``
        say honestly whether the cut-off call may have been applied.
        """
        self._sender.cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""
        return self._sender.cancelled.is_set()

    def add_secrets(self, values: Iterable[str]) -> None:
        """Redact ``values`` from every later API error, on top of the token. Thread-safe.

        For secrets the client cannot see in the request, e.g. values the caller merged
        from a write-only attribute or read from elsewhere. Empty strings are ignored.
        """
        with self._secrets_lock:
            self._secrets = self._secrets | {value for value in values if value}

    def list_applications(self) -> list[ApplicationResponse]:
        """All applications of the organisation (``GET /orgs/{org}/apps``, 200)."""
        path = self._org_path() + "/apps"
        return self._decode(_APPLICATION_LIST, "GET", path, self._request("GET", path, 200))

    def get_application(self, app_id: str) -> ApplicationResponse:
        """One application (``GET``, 200); raises ``NotFound`` when it does not exist."""
        path = self._app_path(app_id)
        return self._decode(_APPLICATION, "GET", path, self._request("GET", path, 200))

    def list_webhooks(self, app_id: str) -> list[WebhookResponse]:
        """All webhooks of an application (``GET .../webhooks``, 200)."""
        path = self._webhooks_path(app_id)
        return self._decode(_WEBHOOK_LIST, "GET", path, self._request("GET", path, 200))

    def get_webhook(self, app_id: str, webhook_id: str) -> WebhookResponse:
        """One webhook (``GET``, 200); raises ``NotFound`` when it does not exist."""
        path = self._webhooks_path(app_id, webhook_id)
        return self._decode(_WEBHOOK, "GET", path, self._request("GET", path, 200))

    def create_webhook(
        self, app_id: str, request: WebhookRequest, *, secrets: Iterable[str] = ()
    ) -> WebhookResponse:
        """Create a webhook (``POST``, 201); raises ``Conflict`` if the id is taken in the org.

        The body is ``webhook_request_body(request)``: all six keys, unset ones ``null``.
        It is retried after a 5xx, a lost answer or a timeout, so a ``Conflict`` with
        ``earlier_attempt_may_have_applied`` may be this call's own earlier attempt. Every
        header value of ``request`` and every string in ``secrets`` is redacted from errors.
        """
        path = self._webhooks_path(app_id)
        body = webhook_request_body(request)
        reply = self._request("POST", path, 201, body=body, secrets=_webhook_secrets(body, secrets))
        return self._decode(_WEBHOOK, "POST", path, reply)

    def update_webhook(
        self,
        app_id: str,
        webhook_id: str,
        request: WebhookRequest,
        *,
        secrets: Iterable[str] = (),
    ) -> WebhookUpdateResponse:
        """Replace a webhook's settings (``PATCH`` with the full body, 200).

        Like the Go provider, it sends every field, so ``None`` fields are set to null; a
        full body makes a retry after a 5xx or a lost answer harmless. Header values and
        ``secrets`` are redacted from errors, as in ``create_webhook``.
        """
        path = self._webhooks_path(app_id, webhook_id)
        body = webhook_request_body(request)
        secrets = _webhook_secrets(body, secrets)
        reply = self._request("PATCH", path, 200, body=body, secrets=secrets)
        return self._decode(_WEBHOOK_UPDATE, "PATCH", path, reply)

    def delete_webhook(self, app_id: str, webhook_id: str) -> None:
        """Delete a webhook (``DELETE``, 204); raises ``NotFound`` if it is already gone."""
        self._request("DELETE", self._webhooks_path(app_id, webhook_id), 204)

    def _org_path(self) -> str:
        return f"orgs/{_config.path_segment('org_id', self._org_id)}"

    def _app_path(self, app_id: str) -> str:
        return f"{self._org_path()}/apps/{_config.path_segment('app_id', app_id)}"

    def _webhooks_path(self, app_id: str, webhook_id: str | None = None) -> str:
        path = self._app_path(app_id) + "/webhooks"
        if webhook_id is not None:
            path += "/" + _config.path_segment("webhook_id", webhook_id)
        return path

    def _request(
        self,
        method: str,
        path: str,
        expect: int,
        *,
        body: JsonObject | None = None,
        secrets: Iterable[str] = (),
    ) -> Reply:
        """Send any JSON body (a model's ``*_body`` serialisation) and check the status;
        ``secrets`` and the client's registered secrets are redacted from an error."""
        content = None
        headers: dict[str, str] = {}
        redact = set(self._secrets) | {value for value in secrets if value}
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        reply = self._sender.send(method, path, content, headers)
        if reply.status_code != expect:
            raise ApiError.from_response(
                reply.status_code,
                reply.content_type,
                reply.content,
                attempts=reply.attempts,
                earlier_attempt_may_have_applied=reply.earlier_attempt_may_have_applied,
                redact=redact,
            )
        return reply

    def _decode(
        self, adapter: pydantic.TypeAdapter[_T], method: str, path: str, reply: Reply
    ) -> _T:
        where = self._sender.where(method, path)
        if "json" not in reply.content_type.lower():
            raise _unusable(
                reply,
                f"{where}: expected a JSON response (HTTP {reply.status_code}), "
                f"got Content-Type {reply.content_type or '(none)'!r}",
            )
        try:
            return adapter.validate_json(reply.content)
        except pydantic.ValidationError as error:
            # Never include input values: they may be webhook header secrets.
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
                for e in error.errors(include_input=False, include_url=False)[:5]
            )
            raise _unusable(
                reply, f"{where}: unexpected response body (HTTP {reply.status_code}): {problems}"
            ) from None


def user_agent(app_version: str) -> str:
    """The ``Humanitec-User-Agent`` value, byte for byte what the Go provider sends.

    The ``sdk`` part names the Go SDK, not us: Humanitec may key behaviour or support
    statistics on it, so we present ourselves as the official provider does.
    """
    return f"app terraform-provider-humanitec/{app_version}; sdk humanitec-go-autogen/latest"


def _unusable(reply: Reply, message: str) -> TransportError:
    # The server answered, so it received the request and may have acted on it.
    return TransportError(
        message,
        attempts=reply.attempts,
        earlier_attempt_may_have_applied=reply.earlier_attempt_may_have_applied,
    )


def _string_leaves(value: JsonValue) -> set[str]:
    """Every non-empty string inside ``value``: a webhook header value may be a credential."""
    if isinstance(value, str):
        return {value} if value else set()
    if isinstance(value, list):
        return {leaf for item in value for leaf in _string_leaves(item)}
    if isinstance(value, dict):
        return {leaf for item in value.values() for leaf in _string_leaves(item)}
    return set()


def _webhook_secrets(body: JsonObject, extra: Iterable[str]) -> list[str]:
    """What to redact from a webhook write's errors: every header value sent, and ``extra``."""
    return [*_string_leaves(body.get("headers")), *extra]
