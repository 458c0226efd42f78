"""Checks of ``HumanitecClient``'s arguments and ids, and the proxy decision for its host.

Every invalid argument raises ``ValueError`` naming the argument, before anything touches
the network. The Terraform layer copies the message into a diagnostic, so it never echoes
the token, nor ``api_prefix`` itself (a swapped argument could be the token).
"""

from __future__ import annotations

import ipaddress
import math
from urllib.parse import quote

import httpx

__all__ = [
    "check_arguments",
    "is_loopback",
    "parse_api_prefix",
    "path_segment",
    "where_base",
]

_TOKEN_CHARS = frozenset(chr(code) for code in range(0x21, 0x7F))
"""Printable ASCII without space: what is safe inside a header value, unquoted."""


def parse_api_prefix(api_prefix: str, token: str) -> httpx.URL:
    """``api_prefix`` as a URL to which webhook paths can be appended."""
    if any(char.isspace() or not char.isprintable() for char in api_prefix):
        raise ValueError("api_prefix contains whitespace or non-printable characters")
    try:
        url = httpx.URL(api_prefix)
        host = url.host  # decodes an IDNA host, which may fail
    except (httpx.InvalidURL, UnicodeError) as error:
        # httpx quotes at most the host or port; a swapped argument could still be the token.
        reason = str(error).replace(token, "[REDACTED]") if token else str(error)
        raise ValueError(f"api_prefix is not a valid URL: {reason}") from None
    if url.scheme not in ("http", "https"):
        raise ValueError("api_prefix must be an http:// or https:// URL")
    if not host or b"%" in url.raw_host:
        raise ValueError("api_prefix has no valid host name")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError("api_prefix has an invalid port (must be 1 to 65535)")
    if url.userinfo:
        # httpx would send it as Basic auth, replacing the bearer token.
        raise ValueError("api_prefix must not contain a user name or password")
    if "?" in api_prefix or "#" in api_prefix:
        # Paths are appended to the prefix: a query would end up in the middle of them.
        raise ValueError("api_prefix must not contain a query or fragment")
    return url


def where_base(url: httpx.URL) -> str:
    """``scheme://host:port/prefix/`` for error messages: where a request went, port always.

    The port is spelled out because "connection refused" is about one port, and a default
    one is easy to get wrong behind a proxy or tunnel. ``parse_api_prefix`` has ruled out
    credentials, so nothing secret can appear.
    """
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    path = url.raw_path.decode("ascii")
    return f"{url.scheme}://{host}:{port}{path if path.endswith('/') else path + '/'}"


def check_arguments(
    org_id: str, token: str, *, app_version: str, timeout: float, max_retries: int
) -> None:
    """Raise ``ValueError`` for the first invalid argument besides ``api_prefix``."""
    if not org_id:
        raise ValueError("org_id is required")
    if not token:
        raise ValueError("token is required")
    # h11 would refuse the header at send time and quote it, token included, in its error.
    if not _TOKEN_CHARS.issuperset(token):
        raise ValueError("the API token contains whitespace or non-printable characters")
    if not app_version or not _TOKEN_CHARS.issuperset(app_version):
        raise ValueError("app_version must be non-empty printable ASCII without spaces")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    if max_retries < 0:
        raise ValueError("max_retries must not be negative")


def is_loopback(host: str) -> bool:
    """Whether Go's ``http.ProxyFromEnvironment`` bypasses proxies for ``host``.

    It does for ``localhost`` and loopback IPs (``127.0.0.0/8``, ``::1``, IPv4-mapped
    ``::ffff:127.x.y.z``), whatever ``NO_PROXY`` says; httpx does not.
    """
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def path_segment(name: str, value: str) -> str:
    """``value`` as exactly one percent-encoded path segment; ``ValueError`` if empty."""
    if not value:
        raise ValueError(f"{name} must not be empty")
    escaped = quote(value, safe="")
    # "." and ".." would be removed as dot-segments by URL normalisation.
    if escaped in (".", ".."):
        escaped = escaped.replace(".", "%2E")
    return escaped
