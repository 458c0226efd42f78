"""Tests for provider.settings: file < environment < provider block, and what is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider.plugin import cty
from provider.plugin.diagnostics import Diagnostics, Severity
from provider.settings import DEFAULT_API_PREFIX, Settings, resolve_settings

ATTRIBUTES = (
    "api_prefix",
    "host",
    "org_id",
    "token",
    "disable_ssl_certificate_verification",
    "config",
)
FILE = "apiPrefix: https://file.example/\norg: file-org\ntoken: file-token\n"
ENV = {
    "HUMANITEC_API_PREFIX": "https://env.example/",
    "HUMANITEC_ORG": "env-org",
    "HUMANITEC_TOKEN": "env-token",
}
CREDENTIALS = {"HUMANITEC_ORG": "env-org", "HUMANITEC_TOKEN": "env-token"}


def block(**values: cty.Value) -> dict[str, cty.Value]:
    """A provider block as Terraform sends it: every attribute present, null unless set."""
    return {name: values.get(name) for name in ATTRIBUTES}


def resolve(
    home: Path, blk: dict[str, cty.Value], environ: dict[str, str], humctl: str | None = None
) -> tuple[Settings | None, Diagnostics]:
    if humctl is not None:
        (home / ".humctl").write_text(humctl, encoding="utf-8")
    diags = Diagnostics()
    return resolve_settings(blk, diags, environ=environ, home=home), diags


def summaries(diags: Diagnostics) -> list[tuple[Severity, str, object]]:
    return [(d.severity, d.summary, d.path) for d in diags]


@pytest.mark.parametrize(
    ("humctl", "environ", "blk", "expected"),
    [
        (FILE, {}, block(), ("https://file.example/", "file-org", "file-token")),
        (FILE, ENV, block(), ("https://env.example/", "env-org", "env-token")),
        (
            FILE,
            ENV,
            block(api_prefix="https://block.example/", org_id="block-org", token="block-token"),
            ("https://block.example/", "block-org", "block-token"),
        ),
        (
            "token: file-token\n",
            {"HUMANITEC_ORG": "env-org"},
            block(api_prefix="https://block.example/"),
            ("https://block.example/", "env-org", "file-token"),
        ),
        (
            FILE,
            {"HUMANITEC_ORG": "", "HUMANITEC_TOKEN": ""},
            block(),
            ("https://file.example/", "file-org", "file-token"),
        ),
        (None, CREDENTIALS, block(), (DEFAULT_API_PREFIX, "env-org", "env-token")),
        (
            "APIPREFIX: https://upper.example/\nORG: upper-org\nToken: upper-token\n",
            {},
            block(),
            ("https://upper.example/", "upper-org", "upper-token"),
        ),
        (
            "apiprefix: https://lower.example/\norg: 42\ntoken: t\n",
            {},
            block(),
            ("https://lower.example/", "42", "t"),
        ),
        (FILE, ENV, block(api_prefix=""), (DEFAULT_API_PREFIX, "env-org", "env-token")),
        ("", CREDENTIALS, block(), (DEFAULT_API_PREFIX, "env-org", "env-token")),
    ],
    ids=[
        "file-only",
        "env-over-file",
        "block-over-env",
        "each-layer-fills-its-own-value",
        "empty-env-vars-do-not-override",
        "default-api-prefix",
        "yaml-keys-upper-case",
        "yaml-keys-lower-case-and-number",
        "empty-block-api-prefix-overrides-then-defaults",
        "empty-humctl-is-no-settings",
    ],
)
def test_later_sources_override_earlier_ones(
    tmp_path: Path,
    humctl: str | None,
    environ: dict[str, str],
    blk: dict[str, cty.Value],
    expected: tuple[str, str, str],
) -> None:
    settings, diags = resolve(tmp_path, blk, environ, humctl)
    assert list(diags) == []
    assert settings == Settings(*expected)


@pytest.mark.parametrize(
    ("environ", "blk", "prefix", "warning"),
    [
        (
            {**CREDENTIALS, "HUMANITEC_HOST": "https://host-env.example/"},
            block(),
            "https://host-env.example/",
            ("Environment Variable HUMANITEC_HOST Has Been Deprecated", None),
        ),
        (
            {**ENV, "HUMANITEC_HOST": "https://host-env.example/"},
            block(),
            "https://env.example/",
            ("Environment Variable HUMANITEC_HOST Has Been Deprecated", None),
        ),
        (
            ENV,
            block(host="https://host-block.example/"),
            "https://host-block.example/",
            ("Attribute host Has Been Deprecated", ("host",)),
        ),
        (
            ENV,
            block(host="https://host-block.example/", api_prefix="https://block.example/"),
            "https://block.example/",
            ("Attribute host Has Been Deprecated", ("host",)),
        ),
    ],
    ids=[
        "env-host-sets-prefix",
        "env-api-prefix-beats-env-host",
        "block-host-beats-env-api-prefix",
        "block-api-prefix-beats-block-host",
    ],
)
def test_deprecated_host_still_works_with_a_warning(
    tmp_path: Path,
    environ: dict[str, str],
    blk: dict[str, cty.Value],
    prefix: str,
    warning: tuple[str, object],
) -> None:
    settings, diags = resolve(tmp_path, blk, environ)
    assert settings is not None
    assert settings.api_prefix == prefix
    assert summaries(diags) == [(Severity.WARNING, *warning)]


@pytest.mark.parametrize(
    ("environ", "blk", "expected"),
    [
        (
            {},
            block(),
            [
                ("Missing API Token Configuration", ("token",)),
                ("Missing API Org ID Configuration", ("org_id",)),
            ],
        ),
        (ENV, block(token=""), [("Missing API Token Configuration", ("token",))]),
        (ENV, block(org_id=""), [("Missing API Org ID Configuration", ("org_id",))]),
        (ENV, block(api_prefix="ftp://x.example/"), [("Invalid API Prefix", ("api_prefix",))]),
        (ENV, block(config="does-not-exist.yaml"), [("Unable To Read Config File", ("config",))]),
    ],
    ids=[
        "missing-token-and-org-both-reported",
        "empty-block-token-overrides-env",
        "empty-block-org-overrides-env",
        "api-prefix-not-http",
        "config-file-missing",
    ],
)
def test_incomplete_settings_are_errors_on_their_attribute(
    tmp_path: Path,
    environ: dict[str, str],
    blk: dict[str, cty.Value],
    expected: list[tuple[str, object]],
) -> None:
    settings, diags = resolve(tmp_path, blk, environ)
    assert settings is None
    assert summaries(diags) == [(Severity.ERROR, s, p) for s, p in expected]


@pytest.mark.parametrize(
    "text",
    ["apiPrefix: [unclosed\n", "token: a: b\n", "- a list\n- not a mapping\n", "just text\n"],
    ids=["unclosed-flow", "nested-colon", "list", "scalar"],
)
@pytest.mark.parametrize("via", ["humctl", "config-attribute"])
def test_unparsable_config_file_is_an_error(tmp_path: Path, text: str, via: str) -> None:
    path = tmp_path / ("cfg.yaml" if via == "config-attribute" else ".humctl")
    path.write_text(text, encoding="utf-8")
    blk = block(config=str(path)) if via == "config-attribute" else block()
    settings, diags = resolve(tmp_path, blk, ENV)
    assert settings is None
    # Only a file named by the config attribute is pinned to it.
    path_shown = ("config",) if via == "config-attribute" else None
    assert summaries(diags) == [
        (Severity.ERROR, "Unable To Parse YAML From Config File", path_shown)
    ]


def test_yaml_errors_do_not_quote_the_file(tmp_path: Path) -> None:
    (tmp_path / ".humctl").write_text("org: o\ntoken: s3cr3t: tok\n", encoding="utf-8")
    _, diags = resolve(tmp_path, block(), {})
    diagnostic = next(d for d in diags if d.summary == "Unable To Parse YAML From Config File")
    assert "s3cr3t" not in diagnostic.detail
    assert "line 2" in diagnostic.detail


@pytest.mark.parametrize(
    "token",
    ["tok\n", "tok en", "t\u00f6k", "tok\x00"],
    ids=["trailing-newline", "space", "non-ascii", "control"],
)
@pytest.mark.parametrize("via", ["block", "env"])
def test_unprintable_token_is_an_error_that_does_not_show_it(
    tmp_path: Path, token: str, via: str
) -> None:
    blk = block(token=token) if via == "block" else block()
    environ = {**ENV, "HUMANITEC_TOKEN": token} if via == "env" else ENV
    settings, diags = resolve(tmp_path, blk, environ)
    assert settings is None
    [diagnostic] = diags
    assert diagnostic.summary == "Invalid API Token"
    assert diagnostic.path == (("token",) if via == "block" else None)
    assert token not in diagnostic.detail


def test_config_attribute_replaces_humctl(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("org: other-org\ntoken: other-token\n", encoding="utf-8")
    blk = block(config=str(tmp_path / "other.yaml"))
    settings, diags = resolve(tmp_path, blk, {}, humctl=FILE)
    assert list(diags) == []
    assert settings == Settings(DEFAULT_API_PREFIX, "other-org", "other-token")


@pytest.mark.parametrize("name", ATTRIBUTES)
def test_unknown_block_value_is_an_error_naming_the_attribute(tmp_path: Path, name: str) -> None:
    settings, diags = resolve(tmp_path, block(**{name: cty.UNKNOWN}), ENV)
    assert settings is None
    [diagnostic] = diags
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Unknown Provider Configuration",
        (name,),
    )
    assert name in diagnostic.detail


@pytest.mark.parametrize(
    ("disable", "verify"),
    [(True, False), (False, True), (None, True)],
    ids=["disabled", "false", "null"],
)
def test_disable_ssl_certificate_verification_turns_verify_off(
    tmp_path: Path, disable: bool | None, verify: bool
) -> None:
    settings, _ = resolve(tmp_path, block(disable_ssl_certificate_verification=disable), ENV)
    assert settings is not None
    assert settings.verify_tls is verify


def test_token_never_appears_in_repr(tmp_path: Path) -> None:
    settings, _ = resolve(tmp_path, block(token="s3cr3t-t0ken"), ENV)
    assert settings is not None
    assert settings.token == "s3cr3t-t0ken"
    assert "s3cr3t-t0ken" not in repr(settings)
    assert "env-org" in repr(settings)


@pytest.mark.parametrize(("text", "seconds"), [("", 60.0), ("5", 5.0), (" 0.5 ", 0.5)])
def test_humanitec_timeout_sets_the_budget(tmp_path: Path, text: str, seconds: float) -> None:
    environ = {"HUMANITEC_ORG": "o", "HUMANITEC_TOKEN": "t", "HUMANITEC_TIMEOUT": text}
    settings, diags = resolve(tmp_path, block(), environ)
    assert list(diags) == []
    assert settings is not None
    assert settings.timeout == seconds


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "soon", "7200"])
def test_a_bad_humanitec_timeout_is_an_error(tmp_path: Path, text: str) -> None:
    environ = {"HUMANITEC_ORG": "o", "HUMANITEC_TOKEN": "t", "HUMANITEC_TIMEOUT": text}
    settings, diags = resolve(tmp_path, block(), environ)
    assert settings is None
    assert [d.summary for d in diags] == ["Invalid HUMANITEC_TIMEOUT"]
