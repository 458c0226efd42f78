"""ApiError decoding and its one-line message."""

from __future__ import annotations

import pytest

from provider.api import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    HumanitecError,
    NotFound,
    TransportError,
    Unauthorized,
)
from provider.api.errors import MAX_BODY_CHARS


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (422, BadRequest),
        (429, ApiError),
        (500, ApiError),
    ],
)
def test_status_picks_the_subclass(status: int, error_class: type[ApiError]) -> None:
    error = ApiError.from_response(status, "application/json", b'{"error": "E", "message": "m"}')
    assert type(error) is error_class
    assert isinstance(error, HumanitecError)


def test_humanitec_error_body_is_decoded() -> None:
    body = (
        b'{"error": "API-409", "message": "Webhook with id \\"x\\" already exists",'
        b' "details": {"id": "x"}}'
    )
    error = ApiError.from_response(409, "application/json; charset=utf-8", body)
    assert (error.status_code, error.code, error.details) == (409, "API-409", {"id": "x"})
    assert str(error) == 'HTTP 409 (API-409): Webhook with id "x" already exists'
    assert error.body == body.decode()


@pytest.mark.parametrize(
    ("content_type", "content", "expected"),
    [
        ("text/plain", b"upstream\nconnect error", "HTTP 502: upstream connect error"),
        ("application/json", b'{"unexpected": "shape"}', 'HTTP 502: {"unexpected": "shape"}'),
        ("application/json", b"", "HTTP 502: (empty body)"),
        ("text/html", b"\xff\xfe bytes", "HTTP 502: \ufffd\ufffd bytes"),
    ],
    ids=["text", "json-not-error-shape", "empty", "undecodable"],
)
def test_other_bodies_become_the_message(content_type: str, content: bytes, expected: str) -> None:
    error = ApiError.from_response(502, content_type, content)
    assert error.code is None
    assert str(error) == expected


def test_long_bodies_are_truncated() -> None:
    error = ApiError.from_response(500, "text/html", b"x" * 10_000)
    assert len(error.body) == MAX_BODY_CHARS + 1
    assert error.body.endswith("…")


def test_transport_error_is_not_an_api_error() -> None:
    assert not issubclass(TransportError, ApiError)
    assert issubclass(TransportError, HumanitecError)


def test_attempts_defaults_to_one_and_is_kept() -> None:
    assert ApiError(500, None, "m", "b").attempts == 1
    assert Conflict(409, "API-409", "m", "b", attempts=3).attempts == 3
    error = ApiError.from_response(409, "application/json", b'{"error": "E", "message": "m"}')
    assert error.attempts == 1
    assert ApiError.from_response(500, "text/plain", b"", attempts=4).attempts == 4


@pytest.mark.parametrize(
    ("secret", "content"),
    [
        ("tok", b'{"error": "E-tok", "message": "bad tok", "details": {"tok": ["tok", 1]}}'),
        ('t"k', b'{"error": "E", "message": "bad t\\"k", "details": {"echo": "t\\"k"}}'),
    ],
    ids=["plain", "json-escaped"],
)
def test_redacted_strings_are_cut_from_every_field(secret: str, content: bytes) -> None:
    error = ApiError.from_response(400, "application/json", content, redact=[secret])
    assert secret not in f"{error.code} {error.message} {error.body} {error.details} {error}"
    assert "[REDACTED]" in error.message
