"""Application look-ups: credentials and app existence at plan time, the owner of an id."""

from __future__ import annotations

import pytest

from provider.api import (
    ApplicationResponse,
    HumanitecClient,
    NotFound,
    TransportError,
    Unauthorized,
    WebhookRequest,
)
from provider.emulator import EmulatorServer
from tests.api.conftest import APP, ORG, ClientFactory
from tests.api.scripted import Reply, ScriptedApp


def test_get_application(client: HumanitecClient) -> None:
    app = client.get_application(APP)
    assert (app.id, app.name, app.org_id) == (APP, APP, ORG)


def test_get_application_raises_not_found(client: HumanitecClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.get_application("no-such-app")
    assert caught.value.message == 'Application with id "no-such-app" not found'


def test_list_applications(client: HumanitecClient) -> None:
    assert {app.id for app in client.list_applications()} >= {APP, "other-app"}


def test_list_applications_checks_the_token(
    emulator: EmulatorServer, make_client: ClientFactory
) -> None:
    with pytest.raises(Unauthorized):
        make_client(emulator.url, token="wrong").list_applications()


def test_the_owner_of_a_webhook_id_can_be_found(client: HumanitecClient) -> None:
    # What the caller does after a 409: try each application for the id.
    hook = {"id": "owned-elsewhere", "url": "https://example.com", "triggers": []}
    client.create_webhook("other-app", WebhookRequest.model_validate(hook))
    owners = []
    for app in client.list_applications():
        try:
            client.get_webhook(app.id, "owned-elsewhere")
        except NotFound:
            continue
        owners.append(app.id)
    assert owners == ["other-app"]


SPEC_EXAMPLE = {
    "created_at": "2020-05-22T14:53:27Z",
    "created_by": "a.user@example.com",
    "status": "active",
    "status_changed_at": "2020-05-22T14:53:27Z",
    "envs": [{"id": "my-env", "name": "My Environment", "type": "development"}],
    "id": "my-app",
    "name": "My Application",
    "org_id": "test-org",
    "future_field": {"x": 1},
}


def test_the_spec_example_decodes(
    scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, [SPEC_EXAMPLE]), Reply(200, SPEC_EXAMPLE))
    client = make_client(scripted_url)
    (listed,) = client.list_applications()
    assert listed == client.get_application("my-app")
    assert listed.envs is not None
    assert listed.envs[0].id == "my-env"
    assert [r.raw_path for r in scripted.received] == [
        f"/orgs/{ORG}/apps",
        f"/orgs/{ORG}/apps/my-app",
    ]


@pytest.mark.parametrize(
    "body",
    [{"name": "no id"}, [{"id": 7}], {"id": "a", "envs": "x"}],
    ids=["object", "list", "envs"],
)
def test_an_unusable_application_body_is_a_transport_error(
    body: object, scripted: ScriptedApp, scripted_url: str, make_client: ClientFactory
) -> None:
    scripted.script(Reply(200, body))
    client = make_client(scripted_url)
    call = (
        client.list_applications if isinstance(body, list) else lambda: client.get_application("a")
    )
    with pytest.raises(TransportError, match=r"^GET http://127\.0\.0\.1:\d+/orgs/test-org/apps"):
        call()


def test_application_model_needs_only_an_id() -> None:
    assert ApplicationResponse.model_validate({"id": "a"}).name is None
