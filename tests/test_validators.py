"""Tests for provider.validators: each check's verdict, severity and attribute path."""

from __future__ import annotations

import pytest

from provider.plugin import cty
from provider.plugin.diagnostics import AttributePath, Diagnostic, Diagnostics, MapKey, Severity
from provider.plugin.schema import Validator
from provider.validators import HEADER_NAMES, HTTPS_URL, NOT_EMPTY, PATH_SAFE_ID, KnownTriggers


def run(validator: Validator, value: cty.Value, path: AttributePath) -> list[Diagnostic]:
    diags = Diagnostics()
    validator.validate(value, path, diags)
    return list(diags)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "HTTPS://example.com",
        "https://example.com:8443/a/b?x=1#f",
        "https://user:pw@example.com/",
        "https://[::1]/hook",
        "example.com/hook",
        "example.com",
    ],
    ids=["https", "upper-scheme", "port-query", "userinfo", "ipv6", "scheme-less", "host-only"],
)
def test_https_url_accepts_https_and_scheme_less(url: str) -> None:
    assert run(HTTPS_URL, url, ("url",)) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://example.com/hook",
        "https://",
        "https:///path",
        "",
        "https://exa mple.com/",
        "https://example.com/a hook",
        "https://exa\tmple.com/",
        "https://example.com/a\nb",
        "https://example.com:99999/",
        "https://example.com:abc/",
    ],
    ids=[
        "http",
        "ftp",
        "empty-host",
        "empty-host-path",
        "empty",
        "space-host",
        "space-path",
        "tab-host",
        "newline-path",
        "port-out-of-range",
        "port-not-a-number",
    ],
)
def test_https_url_rejects_other_urls_with_path(url: str) -> None:
    [diagnostic] = run(HTTPS_URL, url, ("url",))
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Invalid Webhook URL",
        ("url",),
    )
    assert repr(url) in diagnostic.detail


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.com/\x00hook", "U+0000"),
        ("https://example.com/\x7f", "U+007F"),
        ("https://example.com/\x85", "U+0085"),
        ("https://example.com/a\rb", "U+000D"),
        ("\x1bhttps://example.com", "U+001B"),
    ],
    ids=["nul", "delete", "c1-control", "carriage-return", "escape-first"],
)
def test_https_url_rejects_control_characters_by_code_point(url: str, shown: str) -> None:
    [diagnostic] = run(HTTPS_URL, url, ("url",))
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Invalid Webhook URL",
        ("url",),
    )
    assert f"must not contain control characters ({shown})" in diagnostic.detail
    assert repr(url) in diagnostic.detail


def test_https_url_reports_an_unparsable_host_instead_of_raising() -> None:
    [diagnostic] = run(HTTPS_URL, "https://[::1/hook", ("url",))
    assert diagnostic.summary == "Invalid Webhook URL"


@pytest.mark.parametrize(
    "value",
    ["hook", "my-hook_2", "App.v1", "héllo", "", "  ", None, cty.UNKNOWN, 7],
    ids=["word", "dash-underscore", "dot", "unicode", "empty", "blank", "null", "unknown", "int"],
)
def test_path_safe_id_accepts_ids_without_slash_space_or_control(value: cty.Value) -> None:
    assert run(PATH_SAFE_ID, value, ("id",)) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("app/hook", "'/'"),
        ("/", "'/'"),
        ("my hook", "spaces"),
        (" hook", "spaces"),
        ("hook\t", "whitespace (U+0009)"),
        ("hook\n", "whitespace (U+000A)"),
        ("a\u00a0b", "whitespace (U+00A0)"),
        ("a\x00b", "control characters (U+0000)"),
        ("a\x7fb", "control characters (U+007F)"),
        ("a\u200bb", "control characters (U+200B)"),
        ("a\u202eb", "control characters (U+202E)"),
    ],
    ids=[
        "slash",
        "only-slash",
        "space",
        "leading-space",
        "tab",
        "newline",
        "no-break-space",
        "nul",
        "delete",
        "zero-width-space",
        "bidi-override",
    ],
)
def test_path_safe_id_rejects_what_breaks_paths_or_import(value: str, shown: str) -> None:
    [diagnostic] = run(PATH_SAFE_ID, value, ("app_id",))
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Invalid ID",
        ("app_id",),
    )
    assert diagnostic.detail.startswith(f"app_id must not contain {shown}, got {value!r}")


@pytest.mark.parametrize("value", [None, cty.UNKNOWN, 42], ids=["null", "unknown", "not-a-string"])
def test_https_url_skips_values_that_are_not_strings(value: cty.Value) -> None:
    assert run(HTTPS_URL, value, ("url",)) == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer x"},
        {"X-Custom_Header.v2": "1", "x!#$%&'*+-.^_`|~": "2", "0": "3"},
    ],
    ids=["empty-map", "authorization", "all-token-characters"],
)
def test_header_names_accepts_valid_header_names(headers: dict[str, cty.Value]) -> None:
    assert run(HEADER_NAMES, headers, ("headers",)) == []


@pytest.mark.parametrize(
    "key",
    ["X Header", "X-Header:", "", "X-Héader", "X-Header\n", "(x)"],
    ids=["space", "colon", "empty", "non-ascii", "newline", "separator"],
)
def test_header_names_rejects_invalid_header_names_at_the_key(key: str) -> None:
    headers: dict[str, cty.Value] = {"Good": "1", key: "2"}
    [diagnostic] = run(HEADER_NAMES, headers, ("headers",))
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Invalid Header Name",
        ("headers", MapKey(key)),
    )


def test_header_names_reports_each_bad_key() -> None:
    diagnostics = run(HEADER_NAMES, {"a b": "1", "c:d": "2", "ok": "3"}, ("headers",))
    assert [d.path for d in diagnostics] == [("headers", MapKey("a b")), ("headers", MapKey("c:d"))]


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("x", 0),
        ("  hook  ", 0),
        ("", 1),
        ("   ", 1),
        ("\t\n", 1),
        (None, 0),
        (cty.UNKNOWN, 0),
    ],
    ids=["text", "padded-text", "empty", "spaces", "whitespace", "null", "unknown"],
)
def test_not_empty_rejects_blank_strings(value: cty.Value, errors: int) -> None:
    diagnostics = run(NOT_EMPTY, value, ("id",))
    assert [(d.severity, d.summary, d.path) for d in diagnostics] == [
        (Severity.ERROR, "Empty Value", ("id",))
    ] * errors


def trigger(scope: cty.Value, type_: cty.Value) -> dict[str, cty.Value]:
    return {"scope": scope, "type": type_}


@pytest.mark.parametrize(
    "triggers",
    [
        [],
        [trigger("environment", "created")],
        [trigger("environment", "deleted")],
        [trigger("deployment", "started"), trigger("deployment", "finished")],
        [trigger(cty.UNKNOWN, "created")],
        [trigger("mystery", cty.UNKNOWN)],
        [trigger(None, "created")],
        cty.UNKNOWN,
    ],
    ids=[
        "none",
        "environment-created",
        "environment-deleted",
        "deployment-started-and-finished",
        "unknown-scope",
        "unknown-type",
        "null-scope",
        "unknown-set",
    ],
)
def test_known_triggers_accepts_documented_and_unknown_pairs(triggers: cty.Value) -> None:
    assert run(KnownTriggers(), triggers, ("triggers",)) == []


@pytest.mark.parametrize(
    ("triggers", "warnings"),
    [
        ([trigger("deployment", "created")], 1),
        ([trigger("environment", "finished")], 1),
        ([trigger("Environment", "created")], 1),
        ([trigger("application", "deleted"), trigger("environment", "created")], 1),
        ([trigger("a", "b"), trigger("c", "d")], 2),
    ],
    ids=["swapped-type", "other-swap", "case-matters", "one-of-two", "two-of-two"],
)
def test_known_triggers_warns_about_undocumented_pairs(
    triggers: list[cty.Value], warnings: int
) -> None:
    diagnostics = run(KnownTriggers(), triggers, ("triggers",))
    assert [(d.severity, d.summary, d.path) for d in diagnostics] == [
        (Severity.WARNING, "Unknown Webhook Trigger", ("triggers",))
    ] * warnings


def test_known_triggers_warning_names_the_pair_and_the_known_events() -> None:
    [diagnostic] = run(KnownTriggers(), [trigger("app", "renamed")], ("triggers",))
    assert "app/renamed" in diagnostic.detail
    assert "deployment/finished, deployment/started" in diagnostic.detail


@pytest.mark.parametrize(
    "validator",
    [HTTPS_URL, HEADER_NAMES, NOT_EMPTY, PATH_SAFE_ID, KnownTriggers()],
    ids=lambda v: type(v).__name__,
)
def test_every_validator_describes_itself(validator: Validator) -> None:
    assert isinstance(validator.description, str)
    assert validator.description
