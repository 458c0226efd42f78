"""HumanitecClient's constructor contract and its proxy choice, over real loopback HTTP."""

from __future__ import annotations

import math
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provider.api import HumanitecClient
from provider.api._config import is_loopback, parse_api_prefix, where_base
from tests.api.conftest import APP, ORG, TOKEN, ClientFactory
from tests.api.scripted import Reply, ScriptedApp

HOOK_JSON = {"id": "h", "triggers": []}


@pytest.mark.parametrize(
    "prefix",
    [
        "http://[::1",
        "http://[::1]x/",
        "http://ho\nst/",
        "http://host/\x00",
        " http://host/",
        "https://host:99999/",
        "https://host:0/",
        "https://host:abc/",
        "https://host:-1/",
        "http://user:pass@host/",
        "http://host/api?x=1",
        "http://host/#frag",
        "http:///path",
        "http://a<b/",
        "ftp://host/",
        "https://xn--zz.com/",  # IDNA refuses it: UnicodeError, wrapped like the rest
        "not a url",
        "",
    ],
)
def test_every_bad_api_prefix_raises_value_error(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"^api_prefix") as caught:
        HumanitecClient(prefix, ORG, TOKEN)
    assert TOKEN not in str(caught.value)


def test_swapped_arguments_do_not_echo_the_token() -> None:
    with pytest.raises(ValueError, match="api_prefix") as caught:
        HumanitecClient(TOKEN, ORG, "http://x/")
    assert TOKEN not in str(caught.value)


@given(prefix=st.text() | st.text().map(lambda rest: "http://" + rest))
def test_any_api_prefix_is_accepted_or_raises_value_error(prefix: str) -> None:
    message = construction_error(prefix)
    assert message is None or TOKEN not in message


def construction_error(prefix: str) -> str | None:
    try:
        client = HumanitecClient(prefix, ORG, TOKEN, verify_tls=False)
    except ValueError as error:  # anything else fails the test
        return str(error)
    client.close()
    return None


@pytest.mark.parametrize(
    "prefix", ["http://[::1]:8080", "https://api.humanitec.io", "http://localhost:1/api/v1/"]
)
def test_good_api_prefixes_are_accepted(prefix: str) -> None:
    HumanitecClient(prefix, ORG, TOKEN, verify_tls=False).close()


@pytest.mark.parametrize(
    "token",
    [TOKEN + "\n", TOKEN + "\r\n", " " + TOKEN, "s3cr3t token", TOKEN + "\x00", "s3cr3t-tökén"],
    ids=["newline", "crlf", "leading-space", "inner-space", "nul", "non-ascii"],
)
def test_a_token_unfit_for_a_header_is_rejected_without_echo(token: str) -> None:
    message = "the API token contains whitespace or non-printable characters"
    with pytest.raises(ValueError, match=f"^{message}$") as caught:
        HumanitecClient("http://x/", ORG, token)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("timeout", 0.0, "timeout"),
        ("timeout", -1.0, "timeout"),
        ("timeout", math.nan, "timeout"),
        ("timeout", math.inf, "timeout"),
        ("max_retries", -1, "max_retries"),
        ("app_version", "", "app_version"),
        ("app_version", "1.0\n", "app_version"),
    ],
)
def test_other_bad_options_raise_value_error(option: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        HumanitecClient("http://x/", ORG, TOKEN, **{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost.example.com", False),
        ("example.com", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (a host name to classify, not a bind)
        ("::2", False),
    ],
)
def test_is_loopback_matches_go_proxy_bypass(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point every proxy variable at a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, url)
    return url


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_requests_bypass_env_proxies(
    host: str,
    dead_proxy: str,
    scripted: ScriptedApp,
    scripted_url: str,
    make_client: ClientFactory,
    sleeps: list[float],
) -> None:
    scripted.script(Reply(200, []))
    url = scripted_url.replace("127.0.0.1", host)
    assert make_client(url).list_webhooks(APP) == []
    assert sleeps == []


def test_other_hosts_still_use_env_proxies(
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedApp,
    scripted_url: str,
    make_client: ClientFactory,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", scripted_url)  # the scripted server plays the proxy
    scripted.script(Reply(200, HOOK_JSON))
    make_client("http://api.humanitec.invalid/").get_webhook(APP, "h")
    (request,) = scripted.received
    assert request.headers["host"] == "api.humanitec.invalid"
    assert request.raw_path.endswith(f"/orgs/{ORG}/apps/{APP}/webhooks/h")


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("https://api.humanitec.io", "https://api.humanitec.io:443/"),
        ("https://api.humanitec.io/", "https://api.humanitec.io:443/"),
        ("http://localhost:8080/api/v1", "http://localhost:8080/api/v1/"),
        ("http://example.com", "http://example.com:80/"),
        ("http://[::1]:9/", "http://[::1]:9/"),
    ],
)
def test_errors_name_scheme_host_and_port(prefix: str, expected: str) -> None:
    assert where_base(parse_api_prefix(prefix, TOKEN)) == expected
