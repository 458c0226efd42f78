"""HumanitecProvider: configuration, the lazily built client, and StopProvider."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from provider.api import NotFound, TransportError
from provider.emulator import BackgroundServer
from provider.plugin import cty
from provider.plugin.diagnostics import DiagnosticError, Diagnostics
from provider.plugin.log import JSONLineHandler
from provider.provider import SCHEMA, HumanitecProvider
from tests.api.scripted import Reply, ScriptedApp

TOKEN = "provider-test-token"


def block(**values: object) -> dict[str, object]:
    return {name: None for name in SCHEMA.attributes} | values


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("HUMANITEC_HOST", "HUMANITEC_API_PREFIX", "HUMANITEC_ORG", "HUMANITEC_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[str, ScriptedApp]]:
    app = ScriptedApp()
    with BackgroundServer(app) as server:
        yield server.url, app


def configured(**values: object) -> tuple[HumanitecProvider, Diagnostics]:
    provider, diags = HumanitecProvider(), Diagnostics()
    provider.configure(block(**values), "1.15.5", diags)  # type: ignore[arg-type]
    return provider, diags


def test_failed_configuration_leaves_no_client() -> None:
    provider, diags = configured(org_id="o")
    assert [d.summary for d in diags] == ["Missing API Token Configuration"]
    with pytest.raises(DiagnosticError) as raised:
        provider.client  # noqa: B018
    assert raised.value.diagnostic.summary == "Provider Not Configured"


@pytest.mark.parametrize(
    "prefix",
    [
        "http://[::1",
        "ftp://x",
        "https://u:p@h/",
        "https://h/?q=1",
        "https://h:99999/",
        "https:// h",
    ],
)
def test_a_bad_prefix_is_an_error_on_the_block_at_validate(prefix: str) -> None:
    diags = Diagnostics()
    HumanitecProvider().validate(block(api_prefix=prefix), diags)  # type: ignore[arg-type]
    assert [(d.summary, d.path) for d in diags] == [("Invalid API Prefix", ("api_prefix",))]
    _, diags = configured(api_prefix=prefix, org_id="o", token=TOKEN)
    assert [d.summary for d in diags] == ["Invalid API Prefix"]


def test_a_good_or_unknown_prefix_passes_validate() -> None:
    for prefix in ("https://api.humanitec.io/", "http://127.0.0.1:8080", "", None, cty.UNKNOWN):
        diags = Diagnostics()
        HumanitecProvider().validate(block(api_prefix=prefix), diags)  # type: ignore[arg-type]
        assert list(diags) == []


def test_a_token_given_as_prefix_is_not_echoed() -> None:
    diags = Diagnostics()
    HumanitecProvider().validate(block(api_prefix=TOKEN), diags)  # type: ignore[arg-type]
    [diagnostic] = diags
    assert TOKEN not in diagnostic.detail


def test_the_client_is_built_once_on_first_use() -> None:
    provider, _ = configured(api_prefix="http://127.0.0.1:9", org_id="o", token=TOKEN)
    with provider.client as client:
        assert provider.client is client
    assert provider.org_id == "o"


def test_the_token_is_redacted_from_log_lines_once_configured() -> None:
    configured(api_prefix="http://127.0.0.1:9", org_id="o", token=TOKEN)
    stream = io.StringIO()
    logger = logging.getLogger("provider.test")
    handler = JSONLineHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("calling with %s", TOKEN)
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue()
    assert "***" in stream.getvalue()


def test_stop_cuts_a_retry_wait_short(scripted: tuple[str, ScriptedApp]) -> None:
    url, app = scripted
    app.script(Reply(429, {"error": "RATE", "message": "later"}, headers={"Retry-After": "30"}))
    provider, _ = configured(api_prefix=url, org_id="o", token=TOKEN)
    threading.Timer(0.2, provider.stop).start()
    started = time.monotonic()
    with provider.client as client, pytest.raises(TransportError, match="cancelled"):
        client.get_webhook("app", "hook")
    assert time.monotonic() - started < 10
    assert len(app.received) == 1


def test_a_new_configuration_forgets_a_past_stop(scripted: tuple[str, ScriptedApp]) -> None:
    url, app = scripted
    provider, _ = configured(api_prefix=url, org_id="o", token=TOKEN)
    provider.stop()
    provider.configure(block(api_prefix=url, org_id="o", token=TOKEN), "1.15.5", Diagnostics())  # type: ignore[arg-type]
    app.script(
        Reply(429, {"error": "RATE", "message": "later"}, headers={"Retry-After": "0"}),
        Reply(404, {"error": "API-404", "message": "no"}),
    )
    with provider.client as client, pytest.raises(NotFound):
        client.get_webhook("app", "hook")
    assert len(app.received) == 2


def test_configure_closes_the_client_it_replaces() -> None:
    provider, _ = configured(api_prefix="http://127.0.0.1:9", org_id="o", token=TOKEN)
    old = provider.client
    again = block(api_prefix="http://127.0.0.1:9", org_id="o", token=TOKEN)
    provider.configure(again, "1.15.5", Diagnostics())  # type: ignore[arg-type]
    assert provider.client is not old
    with pytest.raises(RuntimeError, match="closed"):
        old.get_webhook("app", "hook")
