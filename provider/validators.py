"""Validators for humanitec_webhook attributes: small named checks with a path.

Each one sees only known, non-null values (the servicer skips the rest) and
reports with the attribute path, so Terraform underlines the right line.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from .plugin import cty
from .plugin.diagnostics import AttributePath, Diagnostics, MapKey

__all__ = ["HEADER_NAMES", "HTTPS_URL", "NOT_EMPTY", "KnownTriggers"]

# RFC 9110 field-name: a "token" of visible ASCII without separators.
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class NotEmpty:
    description = "must not be empty"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if isinstance(value, str) and not value.strip():
            diags.error("Empty Value", f"{path[-1]} must not be empty.", path)


class HttpsUrl:
    """Humanitec calls webhooks over HTTPS only; any other scheme would never fire."""

    description = "an HTTPS URL (https://host/path); the scheme may be left out"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, str):
            return
        candidate = value if "://" in value else f"https://{value}"
        parts = urlsplit(candidate)
        if (
            parts.scheme.lower() != "https"
            or not parts.hostname
            or _has_space(value)
            or not _valid_port(parts)
        ):
            diags.error(
                "Invalid Webhook URL",
                f"The webhook URL must be an HTTPS URL such as https://example.com/hook, "
                f"got {value!r}. Humanitec only calls webhooks over HTTPS.",
                path,
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
                    f"{key!r} is not a valid HTTP header name: use letters, digits and "
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


NOT_EMPTY = NotEmpty()
HTTPS_URL = HttpsUrl()
HEADER_NAMES = HeaderNames()
