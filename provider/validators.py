"""Validators for humanitec_webhook attributes: small named checks with a path.

Each one sees only known, non-null values (the servicer skips the rest) and
reports with the attribute path, so Terraform underlines the right line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from .plugin import cty
from .plugin.diagnostics import AttributePath, Diagnostics, MapKey

__all__ = ["HEADER_NAMES", "HTTPS_URL", "NOT_EMPTY", "PATH_SAFE_ID", "KnownTriggers"]

# RFC 9110 field-name: a "token" of visible ASCII without separators.
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class NotEmpty:
    description = "must not be empty"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if isinstance(value, str) and not value.strip():
            diags.error("Empty Value", f"{path[-1]} must not be empty.", path)


class PathSafeId:
    """An id becomes a URL path segment and half of the import id ``app_id/id``.

    A ``/`` would address another endpoint and make the import id ambiguous;
    whitespace and control characters are invisible in plans and logs.
    """

    description = "no '/', whitespace or control characters"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, str) or not value.strip():
            return  # blank is NOT_EMPTY's to report
        bad = _first(value, lambda ch: ch == "/" or _is_invisible(ch), printable_but_bad="/ ")
        if bad is not None:
            diags.error(
                "Invalid ID",
                f"{path[-1]} must not contain {_describe(bad)}, got {_quoted(value)}: it is "
                "part of the API's URLs and of the import id app_id/id. Choose an id without it.",
                path,
            )


class HttpsUrl:
    """Humanitec calls webhooks over HTTPS only; any other scheme would never fire."""

    description = "an HTTPS URL (https://host/path); the scheme may be left out"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, str):
            return
        control = _first(value, _is_control)
        if control is not None:
            diags.error(
                "Invalid Webhook URL",
                f"The webhook URL must not contain control characters (U+{ord(control):04X}), "
                f"got {_quoted(value)}: remove it, or percent-encode it if the endpoint needs it.",
                path,
            )
            return
        if not _valid_https_url(value):
            diags.error(
                "Invalid Webhook URL",
                f"The webhook URL must be an HTTPS URL such as https://example.com/hook, "
                f"got {_quoted(value)}. Humanitec only calls webhooks over HTTPS.",
                path,
            )


def _valid_https_url(value: str) -> bool:
    candidate = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(candidate)  # raises on e.g. an unclosed "[" of an IPv6 host
    except ValueError:
        return False
    return (
        parts.scheme.lower() == "https"
        and bool(parts.hostname)
        and not _has_space(value)
        and _valid_port(parts)
    )


def _valid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked)
    except ValueError:
        return False
    return True


class HeaderNames:
    """Header names must be valid HTTP field names, or every call would fail."""

    description = "keys are valid HTTP header names"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, dict):
            return
        for key in value:
            if not _FIELD_NAME.fullmatch(key):
                diags.error(
                    "Invalid Header Name",
                    f"{_quoted(key)} is not a valid HTTP header name: use letters, digits and "
                    "!#$%&'*+-.^_`|~ only, without spaces or colons.",
                    (*path, MapKey(key)),
                )


class KnownTriggers:
    """Warn about trigger scope/type pairs Humanitec does not document.

    A warning, not an error: Humanitec may add events, and the official
    provider accepts any pair.
    """

    KNOWN = frozenset(
        {
            ("environment", "created"),
            ("environment", "deleted"),
            ("deployment", "started"),
            ("deployment", "finished"),
        }
    )
    description = "scope/type pairs Humanitec documents"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, list):
            return
        for trigger in value:
            if not isinstance(trigger, dict):
                continue
            scope, type_ = trigger.get("scope"), trigger.get("type")
            if not (isinstance(scope, str) and isinstance(type_, str)):
                continue  # unknown until apply
            if (scope, type_) not in self.KNOWN:
                known = ", ".join(f"{s}/{t}" for s, t in sorted(self.KNOWN))
                diags.warning(
                    "Unknown Webhook Trigger",
                    f"Humanitec documents no event {scope}/{type_}; known events are {known}. "
                    "The webhook will not fire unless Humanitec knows this event.",
                    path,
                )


def _has_space(text: str) -> bool:
    # Not just " ": urlsplit silently drops tabs and newlines, so the parsed
    # host would look fine while Humanitec would be sent the raw text.
    return any(ch.isspace() for ch in text)


def _first(text: str, bad: Callable[[str], bool], printable_but_bad: str = "") -> str | None:
    """The first character ``bad`` refuses, which is unprintable or in ``printable_but_bad``.

    The screen runs in C, so a 1 MB value costs microseconds rather than a second.
    """
    if text.isprintable() and not any(ch in text for ch in printable_but_bad):
        return None
    return next((ch for ch in text if bad(ch)), None)


def _quoted(text: str, limit: int = 200) -> str:
    """``repr`` of a value, cut short: a 1 MB value would bury the message."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _is_invisible(ch: str) -> bool:
    # Cf: zero-width and bidi-override characters, which make an id read as another.
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")


def _describe(ch: str) -> str:
    if ch == "/":
        return "'/'"
    if ch == " ":
        return "spaces"
    kind = "whitespace" if ch.isspace() else "control characters"
    return f"{kind} (U+{ord(ch):04X})"


NOT_EMPTY = NotEmpty()
PATH_SAFE_ID = PathSafeId()
HTTPS_URL = HttpsUrl()
HEADER_NAMES = HeaderNames()
