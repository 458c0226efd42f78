"""Tests for provider.validators: each check's verdict, severity and attribute path."""

from __future__ import annotations

import pytest

from provider import events
from provider.plugin import cty
from provider.plugin.diagnostics import AttributePath, Diagnostic, Diagnostics, MapKey, Severity
from provider.plugin.schema import Validator
from provider.validators import (
    HEADER_NAMES,
    HEADER_VALUES,
    HTTPS_URL,
    KNOWN_TRIGGERS,
    NOT_EMPTY,
    PATH_SAFE_ID,
    SOME_TRIGGERS,
)


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
        "https://example.com/a\u00a0b",
        "https://example.com/a\u2003b",
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
        "no-break-space-path",
        "em-space-path",
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
def test_known_triggers_accepts_catalogue_events_and_unknown_pairs(triggers: cty.Value) -> None:
    assert run(KNOWN_TRIGGERS, triggers, ("triggers",)) == []


def test_known_triggers_accepts_every_catalogue_event() -> None:
    every: list[cty.Value] = [trigger(e.scope, e.type) for e in events.EVENTS]
    assert len(every) == 4
    assert run(KNOWN_TRIGGERS, every, ("triggers",)) == []


@pytest.mark.parametrize(
    ("triggers", "errors"),
    [
        ([trigger("deployment", "created")], 1),
        ([trigger("environment", "finished")], 1),
        ([trigger("Environment", "created")], 1),
        ([trigger("application", "deleted"), trigger("environment", "created")], 1),
        ([trigger("a", "b"), trigger("c", "d")], 2),
    ],
    ids=["swapped-type", "other-swap", "case-matters", "one-of-two", "two-of-two"],
)
def test_known_triggers_refuses_pairs_the_catalogue_lacks(
    triggers: list[cty.Value], errors: int
) -> None:
    diagnostics = run(KNOWN_TRIGGERS, triggers, ("triggers",))
    assert [(d.severity, d.summary, d.path) for d in diagnostics] == [
        (Severity.ERROR, "Unknown Webhook Trigger", ("triggers",))
    ] * errors


@pytest.mark.parametrize(
    ("scope", "type_", "hint"),
    [
        ("deployment", "finish", 'Did you mean type = "finished"?'),
        ("deployment", "Started", 'Did you mean type = "started"?'),
        ("environment", "create", 'Did you mean type = "created"?'),
        ("deploy", "finished", 'Did you mean scope = "deployment"?'),
        ("enviroment", "deleted", 'Did you mean scope = "environment"?'),
        ("Environment", "created", 'Did you mean scope = "environment"?'),
        ("deployments", "finishd", 'Did you mean scope = "deployment", type = "finished"?'),
        ("environment", "finished", 'Did you mean scope = "deployment"?'),
        ("deployment", "created", 'Did you mean scope = "environment"?'),
    ],
    ids=[
        "type-typo",
        "type-case",
        "type-prefix",
        "scope-prefix",
        "scope-typo",
        "scope-case",
        "both-typos",
        "type-of-deployments",
        "type-of-environments",
    ],
)
def test_known_triggers_error_suggests_the_closest_event(scope: str, type_: str, hint: str) -> None:
    [diagnostic] = run(KNOWN_TRIGGERS, [trigger(scope, type_)], ("triggers",))
    assert diagnostic.detail == (
        f"Humanitec documents no event {scope}/{type_}, so a webhook on it would never fire. "
        f"{hint} Known events are environment/created, environment/deleted, "
        "deployment/started, deployment/finished."
    )


def test_known_triggers_error_without_a_close_event_only_lists_the_known_ones() -> None:
    [diagnostic] = run(KNOWN_TRIGGERS, [trigger("app", "renamed")], ("triggers",))
    assert "Did you mean" not in diagnostic.detail
    assert diagnostic.detail.startswith("Humanitec documents no event app/renamed")
    assert diagnostic.detail.endswith("deployment/started, deployment/finished.")


def test_known_triggers_error_quotes_an_invisible_or_huge_pair() -> None:
    [newline, huge] = run(
        KNOWN_TRIGGERS,
        [trigger("deploy\nment", "started"), trigger("x" * 1_000_000, "y")],
        ("triggers",),
    )
    assert newline.detail.startswith("Humanitec documents no event 'deploy\\nment/started', so")
    assert huge.detail.startswith("Humanitec documents no event 'xxx")
    assert len(huge.detail) < 1_000


@pytest.mark.parametrize(
    ("triggers", "warnings"),
    [([], 1), ([trigger("environment", "created")], 0), (cty.UNKNOWN, 0), (None, 0)],
    ids=["empty", "one", "unknown", "null"],
)
def test_an_empty_trigger_set_is_a_warning(triggers: cty.Value, warnings: int) -> None:
    diagnostics = run(SOME_TRIGGERS, triggers, ("triggers",))
    assert [(d.severity, d.summary, d.path) for d in diagnostics] == [
        (Severity.WARNING, "No Webhook Triggers", ("triggers",))
    ] * warnings
    assert all("never fires" in d.detail for d in diagnostics)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\r\nX-Injected: 1", "a carriage return (U+000D)"),
        ("a\nb", "a line feed (U+000A)"),
        ("a\x00", "a NUL character (U+0000)"),
    ],
    ids=["crlf", "lf", "nul"],
)
@pytest.mark.parametrize("attribute", ["headers", "secret_headers_wo"])
def test_header_value_with_cr_lf_or_nul_is_an_error_on_its_key(
    attribute: str, value: str, shown: str
) -> None:
    headers: dict[str, cty.Value] = {"X-Ok": "fine", "X-Bad": value, "X-Late": cty.UNKNOWN}
    [diagnostic] = run(HEADER_VALUES, headers, (attribute,))
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Invalid Header Value",
        (attribute, MapKey("X-Bad")),
    )
    assert diagnostic.detail.startswith(f"The value of header 'X-Bad' contains {shown}")
    assert value not in diagnostic.detail  # a secret header's value is never shown


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "Bearer abc", "X-B": "tab\tand üñí", "X-C": ""},
        {"X-A": cty.UNKNOWN, "X-B": None},
        cty.UNKNOWN,
    ],
    ids=["ordinary", "unknown-or-null-values", "unknown-map"],
)
def test_header_values_accepts_other_text_and_unknowns(headers: cty.Value) -> None:
    assert run(HEADER_VALUES, headers, ("headers",)) == []


@pytest.mark.parametrize(
    "validator",
    [
        HTTPS_URL,
        HEADER_NAMES,
        HEADER_VALUES,
        NOT_EMPTY,
        PATH_SAFE_ID,
        KNOWN_TRIGGERS,
        SOME_TRIGGERS,
    ],
    ids=lambda v: type(v).__name__,
)
def test_every_validator_describes_itself(validator: Validator) -> None:
    assert isinstance(validator.description, str)
    assert validator.description
