"""Exceptions raised by the Humanitec API client.

Callers never see httpx exceptions; every failure is one of these::

    HumanitecError
    ├── TransportError       the request failed or the reply was unusable: connection
    │                        refused, DNS, TLS, the call's deadline, cancel(), or a success
    │                        response that is not JSON or does not match the schema
    │                        (the Go provider's "Humanitec client error")
    └── ApiError             the API answered with a status the operation does not expect
        │                    (the Go provider's "Humanitec API error"); ``attempts`` says
        │                    how many times the client sent the request
        ├── BadRequest       400, 422
        ├── Unauthorized     401
        ├── Forbidden        403
        ├── NotFound         404
        └── Conflict         409

``str(error)`` is always a single line fit for a Terraform diagnostic, and never holds the
API token or a webhook header value the client sent: the client cuts them out of echoed
error bodies. A ``TransportError`` names the operation and where it went
(``POST https://api.humanitec.io:443/orgs/o/apps/a/webhooks: connection refused``).

Whether a failed create or update may have been applied is carried as facts, so the caller
can choose what to say or look up:

- ``TransportError.request_sent``: False only when nothing left this machine (connection
  refused, DNS, TLS handshake, connect timeout, cancelled before sending), so the call had
  no effect; True once the request may have been written (read timeout, connection reset,
  a cut-off answer), when the outcome is unknown.
- ``earlier_attempt_may_have_applied`` (both classes): an attempt before the last one may
  have reached the server and been applied (it failed after sending, or got a 5xx). The
  client retries POST and PATCH after 5xx, lost answers and timeouts, so a ``Conflict``
  with this set may be our own earlier create.
- ``attempts`` (both classes): how many requests the client made for the call.
"""

from __future__ import annotations

import json
from collections.abc import Collection

import pydantic
from pydantic import JsonValue

from provider.api.models import HumanitecErrorResponse, JsonObject

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "HumanitecError",
    "NotFound",
    "TransportError",
    "Unauthorized",
]

MAX_BODY_CHARS = 500
"""Raw (non-JSON) error bodies are cut to this many characters: an HTML error page from a
proxy is noise in a diagnostic."""


class HumanitecError(Exception):
    """Base class of every error the client raises."""


class TransportError(HumanitecError):
    """The request did not complete, or a success response could not be decoded.

    The original httpx exception, if any, is chained as ``__cause__``. Decoding errors are
    not chained: pydantic's messages quote the input, which may hold webhook secrets.

    Attributes:
        request_sent: whether the last attempt may have reached the server (see the module
            docstring); True unless the client knows nothing was sent.
        attempts: how many attempts the client made (0 if cancelled before the first).
        earlier_attempt_may_have_applied: an earlier attempt may have been applied.
        cancelled: the call ended because ``HumanitecClient.cancel()`` was called (or the
            injected ``sleep`` raised this error).
    """

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool = True,
        attempts: int = 1,
        earlier_attempt_may_have_applied: bool = False,
        cancelled: bool = False,
    ) -> None:
        super().__init__(message)
        self.request_sent = request_sent
        self.attempts = attempts
        self.earlier_attempt_may_have_applied = earlier_attempt_may_have_applied
        self.cancelled = cancelled

    @property
    def may_have_applied(self) -> bool:
        """Whether any attempt of the call may have changed something on the server."""
        return self.request_sent or self.earlier_attempt_may_have_applied


class ApiError(HumanitecError):
    """The API returned an unexpected HTTP status.

    Attributes:
        status_code: the HTTP status.
        code: the ``error`` field of a ``HumanitecErrorResponse`` body (e.g. ``"API-409"``),
            or ``None`` when the body was not one.
        message: the body's ``message``, else the raw body text (truncated, one line).
        body: the raw body text (truncated).
        details: the body's optional ``details`` object.
        attempts: how many times the client sent the request (1 if it was not retried).
        earlier_attempt_may_have_applied: an attempt before this answer may have been
            applied (it got a 5xx or lost its answer); then a ``Conflict`` or ``NotFound``
            may be the effect of our own earlier attempt.
    """

    def __init__(
        self,
        status_code: int,
        code: str | None,
        message: str,
        body: str,
        *,
        details: JsonObject | None = None,
        attempts: int = 1,
        earlier_attempt_may_have_applied: bool = False,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.body = body
        self.details = details
        self.attempts = attempts
        self.earlier_attempt_may_have_applied = earlier_attempt_may_have_applied
        super().__init__(status_code, code, message, body)

    def __str__(self) -> str:
        code = f" ({self.code})" if self.code else ""
        message = self.message or "(empty body)"
        return f"HTTP {self.status_code}{code}: {message}"

    @classmethod
    def from_response(
        cls,
        status_code: int,
        content_type: str,
        content: bytes,
        *,
        attempts: int = 1,
        earlier_attempt_may_have_applied: bool = False,
        redact: Collection[str] = (),
    ) -> ApiError:
        """Build the subclass matching ``status_code`` from a raw response.

        Every string in ``redact`` (the token, webhook header values) is replaced by
        ``[REDACTED]`` in the code, message, body and details (keys and values): the API,
        a proxy or a debug endpoint may echo the request back.
        """
        error_class = _ERROR_CLASSES.get(status_code, ApiError)
        secrets = _with_json_escapes(redact)
        # Redact before truncating, so no prefix of a secret survives the cut.
        raw = _truncate(_redact(content.decode("utf-8", errors="replace"), secrets))
        if "json" in content_type.lower():
            try:
                decoded = HumanitecErrorResponse.model_validate_json(content)
            except pydantic.ValidationError:
                pass
            else:
                details = decoded.details
                return error_class(
                    status_code,
                    _redact(decoded.error, secrets),
                    _one_line(_redact(decoded.message, secrets)),
                    raw,
                    details=None if details is None else _redact_object(details, secrets),
                    attempts=attempts,
                    earlier_attempt_may_have_applied=earlier_attempt_may_have_applied,
                )
        return error_class(
            status_code,
            None,
            _one_line(raw),
            raw,
            attempts=attempts,
            earlier_attempt_may_have_applied=earlier_attempt_may_have_applied,
        )


class BadRequest(ApiError):  # noqa: N818 (named after the HTTP status)
    """400 or 422: the API rejected the request body."""


class Unauthorized(ApiError):  # noqa: N818 (named after the HTTP status)
    """401: the token is missing or invalid."""


class Forbidden(ApiError):  # noqa: N818 (named after the HTTP status)
    """403: the token is valid but lacks the role (org Administrator or app Owner)."""


class NotFound(ApiError):  # noqa: N818 (named after the HTTP status)
    """404: the organisation, application or webhook does not exist."""


class Conflict(ApiError):  # noqa: N818 (named after the HTTP status)
    """409: a job with this id already exists in the organisation."""


_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
}


def _with_json_escapes(secrets: Collection[str]) -> list[str]:
    # A JSON body holds a secret with its quotes and backslashes escaped, and an error
    # message quoting our JSON request inside a JSON answer escapes them twice.
    variants: set[str] = set()
    for secret in secrets:
        for _ in range(3):
            if not secret or secret in variants:
                break
            variants.add(secret)
            secret = json.dumps(secret)[1:-1]
    return sorted(variants, key=len, reverse=True)


def _redact(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[REDACTED]")
    return text


def _redact_json(value: JsonValue, secrets: Collection[str]) -> JsonValue:
    if isinstance(value, str):
        return _redact(value, secrets)
    if isinstance(value, list):
        return [_redact_json(item, secrets) for item in value]
    if isinstance(value, dict):
        return _redact_object(value, secrets)
    return value


def _redact_object(value: JsonObject, secrets: Collection[str]) -> JsonObject:
    return {_redact(k, secrets): _redact_json(v, secrets) for k, v in value.items()}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + "…"
