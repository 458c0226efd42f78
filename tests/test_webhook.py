"""WebhookResource against real HTTP: the emulator, and a scripted server for failures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from provider.api import HumanitecClient
from provider.emulator import BackgroundServer, EmulatorServer
from provider.messages import go_quote
from provider.plugin import cty
from provider.plugin.diagnostics import DiagnosticError, Diagnostics, MapKey, Severity
from provider.plugin.resource import (
    CreateRequest,
    DeleteRequest,
    ImportRequest,
    PlanRequest,
    ReadRequest,
    State,
    UpdateRequest,
    ValidateRequest,
)
from provider.webhook import WebhookResource
from provider.webhook_state import decode_secret_names, encode_secret_names
from tests.api.scripted import Reply, ScriptedApp

TOKEN = "webhook-test-token"
ORG = "org"
APP = "app"
OTHER_APP = "other-app"


@dataclass
class Source:
    """What the resource needs from its provider: a client and the org id."""

    client: HumanitecClient
    org_id: str = ORG


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(token=TOKEN, apps=[(ORG, APP), (ORG, OTHER_APP)]) as server:
        yield server


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[tuple[str, ScriptedApp]]:
    app = ScriptedApp()
    with BackgroundServer(app) as server:
        yield server.url, app


def client_for(url: str, max_retries: int = 0) -> HumanitecClient:
    """A client that does not retry by default: scripts then show the resource's own calls."""
    return HumanitecClient(url, ORG, TOKEN, sleep=lambda _: None, max_retries=max_retries)


@pytest.fixture
def resource(emulator: EmulatorServer) -> Iterator[WebhookResource]:
    with client_for(emulator.url) as client:
        yield WebhookResource(Source(client))


@pytest.fixture
def scripted(
    scripted_server: tuple[str, ScriptedApp],
) -> Iterator[tuple[WebhookResource, ScriptedApp]]:
    url, app = scripted_server
    app.script()
    with client_for(url) as client:
        yield WebhookResource(Source(client)), app


def planned(webhook_id: str, **values: cty.Value) -> State:
    return {
        "id": webhook_id,
        "app_id": APP,
        "url": "https://example.com/hook",
        "disabled": False,
        "headers": {},
        "payload": None,
        "triggers": [{"scope": "environment", "type": "created"}],
        "secret_headers_wo": None,
        "secret_headers_wo_version": None,
        **values,
    }


def create(
    resource: WebhookResource, want: State, diags: Diagnostics, **config: cty.Value
) -> State | None:
    """Apply a create as the servicer does: planned values, configuration beside them."""
    answer = resource.create(CreateRequest(want, {**want, **config}))
    diags.extend(answer.diagnostics)
    return answer.state


def read(
    resource: WebhookResource, state: State, diags: Diagnostics, private: bytes = b""
) -> State | None:
    answer = resource.read(ReadRequest(state, private))
    diags.extend(answer.diagnostics)
    return answer.state


def update(
    resource: WebhookResource, prior: State, want: State, diags: Diagnostics
) -> State | None:
    answer = resource.update(UpdateRequest(prior, want, want))
    diags.extend(answer.diagnostics)
    return answer.state


def delete(resource: WebhookResource, prior: State, diags: Diagnostics) -> None:
    diags.extend(resource.delete(DeleteRequest(prior)).diagnostics)


def as_response(state: State) -> dict[str, Any]:
    """The API's JSON for a webhook holding ``state``."""
    body = {k: v for k, v in state.items() if k != "app_id"}
    return {**body, "created_at": "2026-01-01T00:00:00.000Z", "created_by": "someone"}


def summaries(diags: Diagnostics) -> list[tuple[Severity, str]]:
    return [(d.severity, d.summary) for d in diags]


def test_create_then_read_round_trips(resource: WebhookResource) -> None:
    want = planned("round-trip", payload={"app": "${app_id}"}, headers={"X-A": "1"})
    diags = Diagnostics()
    assert create(resource, want, diags) == want
    assert read(resource, want, diags) == want
    assert list(diags) == []


def test_create_of_a_taken_id_adopts_an_identical_webhook(
    resource: WebhookResource, emulator: EmulatorServer
) -> None:
    want = planned("taken-same", headers={"X-A": "1"}, payload={"a": "b"})
    with client_for(emulator.url) as earlier:  # an earlier apply, whose answer was lost
        create(WebhookResource(Source(earlier)), want, Diagnostics())
    diags = Diagnostics()
    assert create(resource, want, diags) == want
    assert summaries(diags) == [(Severity.WARNING, "Existing Webhook Adopted")]


def test_two_resources_with_one_id_in_one_command_are_refused(resource: WebhookResource) -> None:
    want = planned("one-id-twice")
    assert create(resource, want, Diagnostics()) == want
    diags = Diagnostics()
    assert create(resource, want, diags) is None
    [diagnostic] = diags
    assert (diagnostic.summary, diagnostic.path) == ("Webhook Already Exists", ("id",))
    assert "Another resource instance" in diagnostic.detail


def test_a_replacement_that_adopted_the_webhook_does_not_delete_it(
    resource: WebhookResource, emulator: EmulatorServer
) -> None:
    """create_before_destroy: the new instance adopts the webhook (same id), then
    Terraform deletes the deposed instance, which is that same webhook."""
    want = planned("cbd")
    with client_for(emulator.url) as earlier:
        create(WebhookResource(Source(earlier)), want, Diagnostics())
    assert create(resource, want, Diagnostics()) == want
    diags = Diagnostics()
    delete(resource, want, diags)
    assert summaries(diags) == [(Severity.WARNING, "Webhook Kept")]
    assert read(resource, want, Diagnostics()) == want


def test_a_new_command_forgets_what_the_last_one_held(emulator: EmulatorServer) -> None:
    """Under reattach one process serves many commands, each with its own client."""
    source = Source(client_for(emulator.url))
    resource = WebhookResource(source)
    want = planned("reattached")
    assert create(resource, want, Diagnostics()) == want
    source.client.close()
    source.client = client_for(emulator.url)  # what ConfigureProvider leads to
    diags = Diagnostics()
    delete(resource, want, diags)
    assert list(diags) == []
    assert read(resource, want, Diagnostics()) is None
    source.client.close()


def test_a_failed_update_keeps_the_secret_names_held_before(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    before = encode_secret_names({"X-Old"})
    prior, bumped = planned("u"), planned("u", secret_headers_wo_version=2)
    plan = resource.plan(PlanRequest(prior, bumped, bumped, before))
    app.script(Reply(400, {"error": "API-400", "message": "no"}))
    config: State = {**bumped, "secret_headers_wo": {"X-New": "new-secret"}}
    assert plan.private is not None
    failed = resource.update(UpdateRequest(prior, bumped, config, plan.private))
    assert failed.private is not None
    assert decode_secret_names(failed.private) == {"X-Old"}
    app.script(Reply(200, as_response(planned("u", headers={"X-New": "new-secret"}))))
    done = resource.update(UpdateRequest(prior, bumped, config, plan.private))
    assert list(done.diagnostics) == []
    assert done.private is not None
    assert decode_secret_names(done.private) == {"X-New"}


def test_a_header_set_twice_is_refused_at_apply_when_it_was_unknown_at_validate(
    resource: WebhookResource,
) -> None:
    want = planned("twice-at-apply", headers={"X-Key": "plain"})
    config: State = {**want, "secret_headers_wo": {"x-key": "secret"}}
    answer = resource.create(CreateRequest(want, config))
    assert answer.state is None
    assert [d.summary for d in answer.diagnostics] == ["Header Set Twice"]


def test_create_of_a_taken_id_names_the_holder_and_how_to_import(
    resource: WebhookResource,
) -> None:
    create(resource, planned("taken"), Diagnostics())
    diags = Diagnostics()
    assert create(resource, planned("taken", url="https://other.example.com"), diags) is None
    [diagnostic] = diags
    assert diagnostic.summary == "Webhook Already Exists"
    assert f"application {APP!r}" in diagnostic.detail
    assert f'id = "{APP}/taken"' in diagnostic.detail


def test_create_of_an_id_held_in_another_application_names_that_application(
    resource: WebhookResource,
) -> None:
    elsewhere = planned("held-elsewhere", app_id=OTHER_APP)
    assert create(resource, elsewhere, Diagnostics()) == elsewhere
    diags = Diagnostics()
    assert create(resource, planned("held-elsewhere"), diags) is None  # identical but elsewhere
    [diagnostic] = diags
    assert diagnostic.summary == "Webhook Already Exists"
    assert f"application {OTHER_APP!r}" in diagnostic.detail
    assert f'id = "{OTHER_APP}/held-elsewhere"' in diagnostic.detail


def test_secret_headers_are_sent_but_kept_out_of_the_state(
    resource: WebhookResource, emulator: EmulatorServer
) -> None:
    want = planned("with-secret", headers={"X-Plain": "p"}, secret_headers_wo_version=1)
    config: State = {"secret_headers_wo": {"Authorization": "Bearer s3cret"}}
    answer = resource.create(CreateRequest(want, {**want, **config}))
    assert list(answer.diagnostics) == []
    assert answer.state == want
    with client_for(emulator.url) as client:
        held = client.get_webhook(APP, "with-secret")
    assert held.headers == {"X-Plain": "p", "Authorization": "Bearer s3cret"}
    # Read keeps the secret header out of `headers` by the name kept in private state.
    assert answer.private is not None
    diags = Diagnostics()
    assert read(resource, want, diags, answer.private) == want
    # Without that private state (an import), the header shows: nothing is hidden blindly.
    refreshed = read(resource, want, diags)
    assert refreshed is not None
    assert refreshed["headers"] == {"X-Plain": "p", "Authorization": "Bearer s3cret"}


def test_a_header_in_both_maps_is_refused(resource: WebhookResource) -> None:
    config = planned("twice", headers={"Authorization": "a"})
    config["secret_headers_wo"] = {"authorization": "b"}
    [diagnostic] = resource.validate(ValidateRequest(config)).diagnostics
    assert diagnostic.summary == "Header Set Twice"
    assert diagnostic.path == ("secret_headers_wo", MapKey("authorization"))


def test_plan_of_a_create_checks_the_application_once(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    app.script(Reply(404, {"error": "API-404", "message": "no such app"}))
    for _ in range(3):
        request = PlanRequest(None, planned("p"), planned("p"))
        [diagnostic] = resource.plan(request).diagnostics
        assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
            Severity.WARNING,  # the same configuration may create the application
            "Application Not Found",
            ("app_id",),
        )
    assert [(r.method, r.raw_path) for r in app.received] == [("GET", f"/orgs/{ORG}/apps/{APP}")]


@pytest.mark.parametrize(
    ("status", "summary"),
    [(401, "Humanitec Token Rejected"), (403, "Humanitec Access Denied")],
    ids=str,
)
def test_plan_of_a_create_reports_bad_credentials(
    scripted: tuple[WebhookResource, ScriptedApp], status: int, summary: str
) -> None:
    resource, app = scripted
    app.script(Reply(status, {"error": "API", "message": "no"}))
    [diagnostic] = resource.plan(PlanRequest(None, planned("p"), planned("p"))).diagnostics
    assert (diagnostic.severity, diagnostic.summary) == (Severity.ERROR, summary)


def test_plan_of_an_update_asks_nothing(scripted: tuple[WebhookResource, ScriptedApp]) -> None:
    resource, app = scripted
    assert (
        list(resource.plan(PlanRequest(planned("p"), planned("p"), planned("p"))).diagnostics) == []
    )
    assert app.received == []


@pytest.mark.parametrize(
    "answer",
    [
        {"url": None},
        {"headers": {"X-A": 1}},
        {"id": "victim"},
    ],
    ids=["url-null", "non-string-header", "wrong-id"],
)
def test_a_create_answer_that_does_not_show_what_was_sent_is_read_back(
    scripted: tuple[WebhookResource, ScriptedApp], answer: dict[str, Any]
) -> None:
    resource, app = scripted
    want = planned("odd", headers={"X-A": "1"})
    app.script(Reply(201, {**as_response(want), **answer}), Reply(200, as_response(want)))
    diags = Diagnostics()
    assert create(resource, want, diags) == want
    assert list(diags) == []
    assert [r.method for r in app.received] == ["POST", "GET"]


def test_a_create_answered_with_204_looks_and_adopts(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    want = planned("no-content")
    app.script(Reply(204), Reply(200, as_response(want)))
    diags = Diagnostics()
    assert create(resource, want, diags) == want
    assert [r.method for r in app.received] == ["POST", "GET"]


def test_a_read_answer_naming_another_webhook_is_refused(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    app.script(Reply(200, as_response(planned("victim"))))
    with pytest.raises(DiagnosticError) as raised:
        read(resource, planned("r1"), Diagnostics())
    assert raised.value.diagnostic.path == ("id",)
    assert "victim" in raised.value.diagnostic.detail


def test_a_non_string_header_in_humanitec_is_drift_not_a_blocker(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    app.script(Reply(200, {**as_response(planned("ns")), "headers": {"X-N": 5}}))
    diags = Diagnostics()
    state = read(resource, planned("ns"), diags)
    assert state is not None
    assert state["headers"] == {"X-N": "5"}
    assert summaries(diags) == [(Severity.WARNING, "Non-String Value In Humanitec")]


@pytest.mark.parametrize("status", [502, 503, 504], ids=str)
def test_create_behind_a_failing_gateway_adopts_the_webhook_it_made(
    scripted: tuple[WebhookResource, ScriptedApp], status: int
) -> None:
    resource, app = scripted
    want = planned("gw")
    app.script(
        Reply(status, {"error": "GW", "message": "bad gateway"}), Reply(200, as_response(want))
    )
    diags = Diagnostics()
    assert create(resource, want, diags) == want
    assert list(diags) == []
    assert [r.method for r in app.received] == ["POST", "GET"]


def test_create_behind_a_failing_gateway_reports_when_nothing_was_made(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    app.script(
        Reply(502, {"error": "GW", "message": "bad gateway"}),
        Reply(404, {"error": "x", "message": "nope"}),
    )
    diags = Diagnostics()
    assert create(resource, planned("gw2"), diags) is None
    assert summaries(diags) == [(Severity.ERROR, "Humanitec API Error")]


def test_create_does_not_adopt_a_different_webhook(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    other = planned("gw3", url="https://someone-else.example.com")
    app.script(
        Reply(503, {"error": "GW", "message": "unavailable"}), Reply(200, as_response(other))
    )
    diags = Diagnostics()
    assert create(resource, planned("gw3"), diags) is None
    assert summaries(diags) == [(Severity.ERROR, "Webhook Already Exists")]


@pytest.mark.parametrize(
    ("first", "warnings"),
    [
        (Reply(503, {"error": "GW", "message": "unavailable"}), []),
        (
            Reply(429, {"error": "RATE", "message": "slow down"}, headers={"Retry-After": "0"}),
            [(Severity.WARNING, "Existing Webhook Adopted")],
        ),
    ],
    ids=["after-503-ours", "after-429-someone-elses"],
)
def test_conflict_after_a_retried_create_adopts_the_identical_webhook(
    scripted_server: tuple[str, ScriptedApp], first: Reply, warnings: list[Any]
) -> None:
    """A 503 may have created it (our own: silent); a 429 did not (someone's: a warning)."""
    url, app = scripted_server
    want = planned("retried")
    app.script(
        first, Reply(409, {"error": "API-409", "message": "exists"}), Reply(200, as_response(want))
    )
    diags = Diagnostics()
    with client_for(url, max_retries=2) as client:
        assert create(WebhookResource(Source(client)), want, diags) == want
    assert summaries(diags) == warnings
    assert [r.method for r in app.received] == ["POST", "POST", "GET"]


def test_a_create_refused_for_an_id_deleted_since_tries_once_more(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    """A block renamed without ``moved``: the old instance's delete frees the id between the
    create's 409 and its look-up, which finds the id nowhere."""
    resource, app = scripted
    want = planned("renamed")
    gone = Reply(404, {"error": "API-404", "message": "not found"})
    app.script(
        Reply(409, {"error": "API-409", "message": "exists"}),
        gone,
        Reply(200, [{"id": APP}]),  # no other application to hold it
        Reply(201, as_response(want)),
    )
    diags = Diagnostics()
    assert create(resource, want, diags) == want
    assert list(diags) == []
    assert [r.method for r in app.received] == ["POST", "GET", "GET", "POST"]


def test_a_create_refused_twice_for_an_id_held_nowhere_it_can_see_reports_it(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    """The id is held in an application this token cannot read: one more try, not a loop."""
    resource, app = scripted
    conflict = Reply(409, {"error": "API-409", "message": "exists"})
    gone = Reply(404, {"error": "API-404", "message": "not found"})
    apps = Reply(200, [{"id": APP}])
    app.script(conflict, gone, apps, conflict, gone, apps)
    diags = Diagnostics()
    assert create(resource, planned("hidden"), diags) is None
    assert summaries(diags) == [(Severity.ERROR, "Webhook Already Exists")]
    assert "an application this token cannot read" in next(iter(diags)).detail
    assert [r.method for r in app.received] == ["POST", "GET", "GET"] * 2


def test_a_refused_connection_is_reported_as_nothing_sent() -> None:
    with client_for("http://127.0.0.1:9", max_retries=1) as client:
        diags = Diagnostics()
        assert create(WebhookResource(Source(client)), planned("x"), diags) is None
    [diagnostic] = diags
    assert diagnostic.summary == "Humanitec Client Error"
    assert "127.0.0.1:9" in diagnostic.detail
    assert "nothing was sent" in diagnostic.detail
    for misleading in ("unknown", "import", "org_id"):
        assert misleading not in diagnostic.detail


def test_read_of_a_deleted_webhook_warns_and_forgets_it(resource: WebhookResource) -> None:
    diags = Diagnostics()
    assert read(resource, planned("never-made"), diags) is None
    assert summaries(diags) == [(Severity.WARNING, "Webhook Not Found")]


def test_read_in_a_missing_application_is_an_error_not_a_deletion(
    resource: WebhookResource,
) -> None:
    diags = Diagnostics()
    assert read(resource, planned("w", app_id="no-such-app"), diags) is None
    [diagnostic] = diags
    assert (diagnostic.severity, diagnostic.summary, diagnostic.path) == (
        Severity.ERROR,
        "Application Not Found",
        ("app_id",),
    )


def test_update_with_null_fields_in_the_answer_reads_the_webhook_back(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    resource, app = scripted
    want = planned("patched", url="https://example.com/v2")
    answer = {k: as_response(want)[k] for k in ("disabled", "headers", "payload")}
    app.script(Reply(200, {**answer, "url": None, "triggers": None}), Reply(200, as_response(want)))
    diags = Diagnostics()
    assert update(resource, planned("patched"), want, diags) == want
    assert [r.method for r in app.received] == ["PATCH", "GET"]


def test_an_update_that_changes_no_value_sends_nothing(
    scripted: tuple[WebhookResource, ScriptedApp],
) -> None:
    """Terraform plans an update when only a sensitivity mark changed (state written while
    secret_headers_wo was marked sensitive): Humanitec already holds those values."""
    resource, app = scripted
    same = planned("same")
    plan = resource.plan(PlanRequest(same, same, same, encode_secret_names({"X-Old"})))
    assert plan.private is not None
    config: State = {**same, "secret_headers_wo": {"X-New": "new-secret"}}
    answer = resource.update(UpdateRequest(same, same, config, plan.private))
    assert (answer.state, list(answer.diagnostics)) == (planned("same"), [])
    assert answer.private is not None
    assert decode_secret_names(answer.private) == {"X-Old"}  # nothing was sent
    assert app.received == []


def test_update_of_a_deleted_webhook_is_an_error(resource: WebhookResource) -> None:
    diags = Diagnostics()
    assert update(resource, planned("gone"), planned("gone", disabled=True), diags) is None
    assert summaries(diags) == [(Severity.ERROR, "Webhook Not Found")]


def test_delete_of_a_webhook_already_gone_succeeds(resource: WebhookResource) -> None:
    diags = Diagnostics()
    delete(resource, planned("already-gone"), diags)
    assert list(diags) == []


def test_transport_failures_are_client_errors(emulator: EmulatorServer) -> None:
    with client_for("http://127.0.0.1:9") as client:  # nothing listens on the discard port
        diags = Diagnostics()
        delete(WebhookResource(Source(client)), planned("x"), diags)
    assert summaries(diags) == [(Severity.ERROR, "Humanitec Client Error")]


@pytest.mark.parametrize(
    "import_id", ["x", "a/", "/b", "a/b/c", "é\n"], ids=["one", "no-id", "no-app", "three", "odd"]
)
def test_malformed_import_ids_get_the_official_message(import_id: str) -> None:
    with client_for("http://127.0.0.1:9") as client, pytest.raises(DiagnosticError) as raised:
        WebhookResource(Source(client)).import_state(ImportRequest(import_id))
    assert raised.value.diagnostic.detail == (
        f"Expected import identifier with format: app_id/webhook_id. Got: {go_quote(import_id)}"
    )


def test_import_by_identity_gives_the_ids() -> None:
    with client_for("http://127.0.0.1:9") as client:
        request = ImportRequest("", {"app_id": APP, "id": "hook"})
        answer = WebhookResource(Source(client)).import_state(request)
    assert answer.state == {"app_id": APP, "id": "hook"}


@pytest.mark.parametrize(
    "identity", [{"app_id": APP, "id": ""}, {"app_id": None, "id": "x"}], ids=["empty", "null"]
)
def test_import_identity_needs_both_ids(identity: State) -> None:
    with client_for("http://127.0.0.1:9") as client, pytest.raises(DiagnosticError) as raised:
        WebhookResource(Source(client)).import_state(ImportRequest("", identity))
    assert raised.value.diagnostic.summary == "Unexpected Import Identity"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("a/b", '"a/b"'),
        ('q"b\\s', '"q\\"b\\\\s"'),
        ("é\n\x00", '"é\\n\\x00"'),
        ("\u200b", '"\\u200b"'),
    ],
    ids=["plain", "quote-backslash", "unicode-controls", "invisible"],
)
def test_go_quote_matches_go(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
