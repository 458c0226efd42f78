"""Property tests: any API answer yields a state or diagnostics, never an exception.

The answers travel over real HTTP (a scripted server on loopback) through the
client's decoding into the resource's read, create and update: JSON of any
shape (nulls, wrong types, deep nesting, huge values), invalid JSON and odd
content types. Whatever comes back must be a state Terraform can encode, or
a diagnostic, and must never name another webhook.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provider.api import HumanitecClient
from provider.emulator import BackgroundServer
from provider.plugin import cty
from provider.plugin.convert import to_proto_diagnostics
from provider.plugin.diagnostics import DiagnosticError
from provider.plugin.resource import (
    ApplyResponse,
    CreateRequest,
    ReadRequest,
    ReadResponse,
    State,
    UpdateRequest,
)
from provider.webhook import SCHEMA, WebhookResource
from tests.api.scripted import Reply, ScriptedApp

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TOKEN = "property-token"
T = SCHEMA.object_type()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
string_maps = st.dictionaries(st.text(max_size=8), st.text(max_size=8) | json_values)
triggers = st.lists(
    st.fixed_dictionaries({"scope": st.text(max_size=12), "type": st.text(max_size=12)}),
    max_size=3,
)
# Mostly well-formed webhooks with odd values where the API's schema allows any JSON...
plausible = st.fixed_dictionaries(
    {"id": st.sampled_from(["hook", "victim"]), "triggers": triggers},
    optional={
        "url": st.sampled_from(["https://example.com/hook", None]) | st.text(),
        "disabled": st.booleans() | st.none(),
        "headers": string_maps | st.none(),
        "payload": string_maps | st.none(),
    },
)
# ...and anything at all in any field.
arbitrary = st.fixed_dictionaries(
    {},
    optional={
        name: json_values for name in ("id", "url", "disabled", "headers", "payload", "triggers")
    },
)
bodies = (
    plausible.map(lambda d: json.dumps(d).encode())
    | arbitrary.map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
    | st.just(b'{"id": "hook", "url": "' + b"a" * (1 << 20) + b'", "triggers": []}')
)
replies = st.builds(
    Reply,
    status=st.sampled_from([200, 201]) | st.sampled_from([204, 400, 404, 409, 500, 503]),
    body=bodies,
    content_type=st.just("application/json") | st.sampled_from(["text/html", ""]),
).map(lambda r: dataclasses.replace(r, body=b"") if r.status == 204 else r)  # HTTP: no body


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ScriptedApp]]:
    app = ScriptedApp()
    with BackgroundServer(app) as running:
        yield running.url, app


@pytest.fixture(scope="module")
def resource(server: tuple[str, ScriptedApp]) -> Iterator[WebhookResource]:
    url, _ = server

    class Source:
        org_id = "org"

        def __init__(self, client: HumanitecClient) -> None:
            self.client = client

    with HumanitecClient(url, "org", TOKEN, max_retries=0, timeout=5) as client:
        yield WebhookResource(Source(client))


def planned() -> State:
    return {
        "id": "hook",
        "app_id": "app",
        "url": "https://example.com/hook",
        "disabled": False,
        "headers": {"X-A": "1"},
        "payload": None,
        "triggers": [{"scope": "environment", "type": "created"}],
        "secret_headers_wo": None,
        "secret_headers_wo_version": None,
    }


def well_formed(answer: ReadResponse | ApplyResponse) -> None:
    """A state Terraform can take (about the same webhook), and diagnostics for the wire."""
    to_proto_diagnostics(answer.diagnostics)
    if answer.state is not None:
        cty.encode_msgpack(answer.state, T)
        assert answer.state["id"] == "hook"
        assert answer.state["app_id"] == "app"


def call(method: Any, request: Any) -> ReadResponse | ApplyResponse | None:
    try:
        answer: ReadResponse | ApplyResponse = method(request)
    except DiagnosticError as exc:
        to_proto_diagnostics([exc.diagnostic])
        return None
    return answer


@PROPERTY
@given(first=replies, then=replies)
def test_any_answer_to_a_read_is_a_state_or_a_diagnostic(
    server: tuple[str, ScriptedApp], resource: WebhookResource, first: Reply, then: Reply
) -> None:
    server[1].script(first, then)
    answer = call(resource.read, ReadRequest(planned()))
    if answer is not None:
        well_formed(answer)


@PROPERTY
@given(first=replies, then=st.lists(replies, max_size=3))
def test_any_answer_to_a_write_is_a_state_or_a_diagnostic(
    server: tuple[str, ScriptedApp], resource: WebhookResource, first: Reply, then: list[Reply]
) -> None:
    want = planned()
    for request, method in (
        (CreateRequest(want, want), resource.create),
        (UpdateRequest(want, want, want), resource.update),
    ):
        server[1].script(first, *then)
        answer = call(method, request)
        if answer is not None:
            well_formed(answer)
