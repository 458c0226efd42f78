"""Diagnostic wording shared by the resources: the official provider's error texts,
Go-style quoting and the hint that brings an existing object under Terraform.

Kept apart from any one resource so that a second resource words its errors the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .plugin.diagnostics import Diagnostics

if TYPE_CHECKING:
    from .api import HumanitecError

__all__ = ["application_not_found", "did_you_mean", "go_quote", "import_hint", "report_api_error"]


def import_hint(app_id: str, object_id: str) -> str:
    """How to bring an existing object under Terraform, in words for a diagnostic."""
    return f'an import block (id = "{app_id}/{object_id}")'


def application_not_found(
    diags: Diagnostics, app_id: str, org_id: str, consequence: str, advice: str = ""
) -> None:
    """A 404 for the application itself: a mistyped org or app, not a missing object."""
    diags.error(
        "Application Not Found",
        f"Humanitec has no application {app_id!r} in organization {org_id!r}{consequence}. "
        f"Check org_id and app_id.{advice}",
        ("app_id",),
    )


def report_api_error(
    diags: Diagnostics, action: str, error: HumanitecError, noun: str = "webhook"
) -> None:
    """The official provider's two kinds of failure: client (transport) and API (status)."""
    from .api import TransportError

    summary = (
        "Humanitec Client Error" if isinstance(error, TransportError) else "Humanitec API Error"
    )
    diags.error(summary, f"Unable to {action} {noun}, got error: {error}")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely misspells, or None when none is close.

    Case and surrounding spaces are forgiven (``Environment``, `` app_id ``), since
    the point is to name what was meant; ``difflib`` is loaded only for a mistake.
    """
    folded = {choice.lower(): choice for choice in choices}
    key = word.strip().lower()
    if key in folded:
        return folded[key]
    if len(key) > _GUESSED:
        return None  # no misspelling of a short name; and difflib is slow on 1 MB
    import difflib

    found = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[found[0]] if found else None


_GUESSED = 100


def go_quote(text: str) -> str:
    """``text`` quoted as Go's ``%q`` does, for messages that match the official provider."""
    out = ['"']
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
