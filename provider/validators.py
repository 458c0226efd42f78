"""Validators for humanitec_webhook attributes: small named checks with a path.

Each one sees only known, non-null values (the servicer skips the rest) and
reports with the attribute path, so Terraform underlines the right line.
Triggers are checked against the event catalogue (:mod:`provider.events`);
payload placeholders in :mod:`provider.placeholders`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from . import events
from .messages import did_you_mean
from .plugin import cty
from .plugin.diagnostics import AttributePath, Diagnostics, MapKey

__all__ = [
    "HEADER_NAMES",
    "HEADER_VALUES",
    "HTTPS_URL",
    "KNOWN_TRIGGERS",
    "NOT_EMPTY",
    "PATH_SAFE_ID",
    "SOME_TRIGGERS",
]

_SPACE = re.compile(r"\s")  # for str patterns, exactly str.isspace
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


class HeaderValues:
    """A header value holding CR, LF or NUL would end its header line early and start
    another: header injection (RFC 9110 forbids these characters in field values).

    The value is never shown: in ``secret_headers_wo`` it is a credential.
    """

    description = "values without CR, LF or NUL"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, dict):
            return
        for key, text in value.items():
            if not isinstance(text, str):
                continue  # null is reported elsewhere; unknown is checked once known
            bad = _first(text, _LINE_BREAKERS.__contains__)
            if bad is not None:
                diags.error(
                    "Invalid Header Value",
                    f"The value of header {_quoted(key)} contains {_LINE_BREAKERS[bad]}, which "
                    "would end the header and inject what follows as another one. Remove it.",
                    (*path, MapKey(key)),
                )


_LINE_BREAKERS = {
    "\r": "a carriage return (U+000D)",
    "\n": "a line feed (U+000A)",
    "\x00": "a NUL character (U+0000)",
}


class KnownTriggers:
    """Each trigger must be an event of the catalogue (:mod:`provider.events`).

    An error, not a warning: Humanitec accepts any scope/type pair, and a webhook
    on an event that does not exist is created but never fires, which is worse
    than a failed plan. When Humanitec documents a new event, add it to the catalogue.
    """

    description = "scope/type pairs of the events Humanitec documents"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if not isinstance(value, list):
            return
        for trigger in value:
            if not isinstance(trigger, dict):
                continue
            scope, type_ = trigger.get("scope"), trigger.get("type")
            if not (isinstance(scope, str) and isinstance(type_, str)):
                continue  # unknown until apply, or null (reported elsewhere)
            if events.event(scope, type_) is None:
                known = ", ".join(f"{e.scope}/{e.type}" for e in events.EVENTS)
                diags.error(
                    "Unknown Webhook Trigger",
                    f"Humanitec documents no event {_pair(scope, type_)}, so a webhook on it would "
                    f"never fire.{_trigger_hint(scope, type_)} Known events are {known}.",
                    path,
                )


def _pair(scope: str, type_: str) -> str:
    """``scope/type`` as written, or quoted when it holds invisible characters or is long."""
    pair = f"{scope}/{type_}"
    return pair if pair.isprintable() and len(pair) <= 200 else _quoted(pair)


def _trigger_hint(scope: str, type_: str) -> str:
    """`` Did you mean ...?`` naming the closest scope and/or type, or ``""``."""
    types = events.types_of(scope)
    if types:  # the scope is right: the type is another scope's, or misspelt
        owner = next((s for s in events.scopes() if type_ in events.types_of(s)), None)
        if owner is not None:
            return f' Did you mean scope = "{owner}"?'
        guess = did_you_mean(type_, types)
        return f' Did you mean type = "{guess}"?' if guess else ""
    scope_guess = did_you_mean(scope, events.scopes())
    if scope_guess is None:
        return ""
    suggestion = f'scope = "{scope_guess}"'
    if type_ not in events.types_of(scope_guess):
        type_guess = did_you_mean(type_, events.types_of(scope_guess))
        suggestion += f', type = "{type_guess}"' if type_guess else ""
    return f" Did you mean {suggestion}?"


class SomeTriggers:
    """A webhook without triggers is accepted by Humanitec but never fires: a warning,
    since it may be meant as a placeholder for later."""

    description = "at least one trigger"

    def validate(self, value: cty.Value, path: AttributePath, diags: Diagnostics) -> None:
        if isinstance(value, list) and not value:
            diags.warning(
                "No Webhook Triggers",
                "triggers is empty, so this webhook never fires. Add the events it should "
                'be called for, e.g. { scope = "deployment", type = "finished" }.',
                path,
            )


def _has_space(text: str) -> bool:
    # Not just " ": urlsplit silently drops tabs and newlines, so the parsed
    # host would look fine while Humanitec would be sent the raw text.
    return _SPACE.search(text) is not None


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
HEADER_VALUES = HeaderValues()
KNOWN_TRIGGERS = KnownTriggers()
SOME_TRIGGERS = SomeTriggers()
