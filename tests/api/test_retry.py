"""The retry policy as pure functions: which outcomes retry and how long to wait."""

from __future__ import annotations

import socket
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider.api import retry


@pytest.mark.parametrize(
    ("method", "status", "retry_after", "expected"),
    [
        ("POST", 429, None, True),
        ("PATCH", 429, None, True),
        ("POST", 500, "3", True),
        ("GET", 503, None, True),
        ("DELETE", 502, None, True),
        ("PUT", 504, None, True),
        ("HEAD", 503, None, True),
        ("POST", 503, None, True),
        ("PATCH", 502, None, True),
        ("POST", 500, None, True),
        ("GET", 500, None, True),
        ("POST", 501, None, False),
        ("GET", 404, None, False),
        ("POST", 409, None, False),
        ("POST", 400, None, False),
        ("POST", 201, "3", False),
        ("GET", 200, "3", False),
    ],
)
def test_should_retry_response(
    method: str, status: int, retry_after: str | None, expected: bool
) -> None:
    assert retry.should_retry_response(method, status, retry_after) is expected


def _dns_failure() -> httpx.ConnectError:
    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as cause:
            raise httpx.ConnectError("dns") from cause
    except httpx.ConnectError as error:
        return error


@pytest.mark.parametrize(
    ("method", "error", "expected"),
    [
        ("GET", httpx.ConnectError("refused"), True),
        ("POST", httpx.ConnectError("refused"), True),
        ("POST", _dns_failure(), True),
        ("PATCH", _dns_failure(), True),
        ("POST", httpx.ConnectTimeout("syn lost"), True),
        ("CONNECT", httpx.ConnectError("refused"), True),
        ("DELETE", httpx.ReadTimeout("slow"), True),
        ("POST", httpx.ReadTimeout("slow"), True),
        ("PATCH", httpx.RemoteProtocolError("eof"), True),
        ("POST", httpx.ReadError("reset"), True),
        ("CONNECT", httpx.ReadTimeout("slow"), False),
        ("GET", httpx.LocalProtocolError("illegal header value"), False),
        ("GET", ValueError("not a transport error"), False),
        ("GET", None, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_should_retry_error(method: str, error: BaseException | None, expected: bool) -> None:
    assert retry.should_retry_error(method, error) is expected


@given(
    attempt=st.integers(min_value=1, max_value=60),
    r=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_stays_below_its_exponential_ceiling(attempt: int, r: float) -> None:
    delay = retry.backoff_delay(attempt, lambda: r)
    assert 0 <= delay < min(10.0, 0.25 * 2 ** (attempt - 1))


@given(
    seconds=st.floats(min_value=0, max_value=1e6),
    r=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_retry_after_jitter_is_within_a_third_and_capped(seconds: float, r: float) -> None:
    delay = retry.retry_after_delay(seconds, lambda: r)
    assert delay <= retry.MAX_RETRY_AFTER
    assert min(seconds * 2 / 3, retry.MAX_RETRY_AFTER) - 1e-9 <= delay <= seconds * 4 / 3 + 1e-9


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 7 ", 7.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),
        (formatdate(NOW + 5, usegmt=True).replace("GMT", "-0000"), 5.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert retry.parse_retry_after(value, now=NOW) == expected
