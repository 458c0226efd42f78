"""Environments and deployments: the API routes whose changes fire events, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from provider.api import DeploymentResponse, EnvironmentResponse
from provider.emulator import EmulatorServer
from provider.emulator.controls import OUTCOME_HEADER
from tests.emulator.conftest import TOKEN, USER
from tests.emulator.test_app import assert_error

STAGING = {"id": "staging", "name": "Staging", "type": "staging"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def envs(org: str, app: str = "app") -> str:
    return f"/orgs/{org}/apps/{app}/envs"


def deploys(org: str, env: str = "staging", app: str = "app") -> str:
    return f"{envs(org, app)}/{env}/deploys"


def finished(emulator: EmulatorServer) -> None:
    """Wait until every deployment started so far has finished (and its events went out)."""
    assert emulator.dispatcher.background.wait_idle(10)


@pytest.fixture
def staging(http: httpx.Client, org: str) -> str:
    assert http.post(envs(org), json=STAGING).status_code == 201
    return "staging"


def test_create_environment_returns_201_and_the_environment(http: httpx.Client, org: str) -> None:
    response = http.post(envs(org), json=STAGING)
    assert response.status_code == 201, response.text
    env = EnvironmentResponse.model_validate_json(response.content)
    assert (env.id, env.name, env.type, env.status, env.created_by) == (
        "staging",
        "Staging",
        "staging",
        "active",
        USER,
    )
    assert env.created_at == "2020-06-22T09:37:23.523Z"
    assert env.last_deploy is None


def test_environment_type_defaults_to_development(http: httpx.Client, org: str) -> None:
    response = http.post(envs(org), json={"id": "dev", "name": "Dev"})
    assert response.json()["type"] == "development"


def test_get_and_list_show_the_environments(http: httpx.Client, org: str, staging: str) -> None:
    http.post(envs(org), json={"id": "prod", "name": "Prod"})
    listed = http.get(envs(org)).json()
    assert [env["id"] for env in listed] == [staging, "prod"]
    assert http.get(f"{envs(org)}/{staging}").json() == listed[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "no id"}, "Invalid request body: id: Field required"),
        ({"id": "no-name"}, "Invalid request body: name: Field required"),
        ({"id": "Upper", "name": "x"}, None),
        ({"id": "a--b", "name": "x"}, None),
        ({"id": "x" * 51, "name": "x"}, None),
        ({"id": 7, "name": "x"}, None),
    ],
    ids=["no-id", "no-name", "uppercase-id", "double-dash", "id-too-long", "id-not-a-string"],
)
def test_bad_environment_is_400(
    http: httpx.Client, org: str, body: dict[str, object], message: str | None
) -> None:
    assert_error(http.post(envs(org), json=body), 400, message)
    assert http.get(envs(org)).json() == []


def test_duplicate_environment_is_409(http: httpx.Client, org: str, staging: str) -> None:
    assert_error(
        http.post(envs(org), json=STAGING), 409, f'Environment with id "{staging}" already exists'
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_environments_of_an_unknown_app_are_404(http: httpx.Client, org: str, method: str) -> None:
    response = http.request(method, envs(org, "missing"), json=STAGING)
    assert_error(response, 404, 'Application with id "missing" not found')


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_environment_is_404(http: httpx.Client, org: str, method: str) -> None:
    response = http.request(method, f"{envs(org)}/nope")
    assert_error(response, 404, 'Environment with id "nope" not found')


def test_delete_environment_is_204_and_takes_its_deployments(
    http: httpx.Client, org: str, staging: str, emulator: EmulatorServer
) -> None:
    http.post(deploys(org), json={"delta_id": "d1"})
    finished(emulator)
    assert http.delete(f"{envs(org)}/{staging}").status_code == 204
    assert_error(http.get(f"{envs(org)}/{staging}"), 404)
    http.post(envs(org), json=STAGING)  # the same id again: a new, empty history
    assert http.get(deploys(org)).json() == []


def test_deployment_starts_in_progress_then_succeeds(
    http: httpx.Client, org: str, staging: str, emulator: EmulatorServer
) -> None:
    response = http.post(deploys(org), json={"delta_id": "d1", "comment": "first"})
    assert response.status_code == 201, response.text
    started = DeploymentResponse.model_validate_json(response.content)
    assert (started.status, started.env_id, started.delta_id, started.comment) == (
        "in progress",
        staging,
        "d1",
        "first",
    )
    assert len(started.id) == 16
    assert len(started.set_id) == 43  # derived from the delta, as the API reports one
    finished(emulator)
    done = http.get(f"{deploys(org)}/{started.id}").json()
    assert done["status"] == "succeeded"
    assert done == {**started.model_dump(exclude_none=True), "status": "succeeded"}
    assert http.get(f"{envs(org)}/{staging}").json()["last_deploy"] == done


def test_the_outcome_header_makes_a_deployment_fail(
    http: httpx.Client, org: str, staging: str, emulator: EmulatorServer
) -> None:
    started = http.post(deploys(org), json={"set_id": "s1"}, headers={OUTCOME_HEADER: "failed"})
    assert started.json()["set_id"] == "s1"
    finished(emulator)
    assert http.get(f"{deploys(org)}/{started.json()['id']}").json()["status"] == "failed"


def test_a_bad_outcome_header_is_400(http: httpx.Client, org: str, staging: str) -> None:
    response = http.post(deploys(org), json={"delta_id": "d"}, headers={OUTCOME_HEADER: "maybe"})
    assert_error(response, 400, f"{OUTCOME_HEADER} must be one of succeeded, failed")


def test_second_deployment_while_one_runs_is_409() -> None:
    # An emulator of its own whose deployments take long enough for a second request.
    with (
        EmulatorServer(token=TOKEN, apps=[("o", "a")], deploy_duration=60) as slow,
        httpx.Client(base_url=slow.url, headers=AUTH, trust_env=False) as http,
    ):
        http.post(envs("o", "a"), json=STAGING)
        first = http.post(deploys("o", app="a"), json={"delta_id": "d1"})
        assert first.status_code == 201
        second = http.post(deploys("o", app="a"), json={"delta_id": "d2"})
        assert_error(second, 409, 'Environment "staging" already has a deployment in progress')
        assert [d["delta_id"] for d in http.get(deploys("o", app="a")).json()] == ["d1"]


def test_deployments_list_newest_first_each_from_the_one_before(
    http: httpx.Client, org: str, staging: str, emulator: EmulatorServer
) -> None:
    first = http.post(deploys(org), json={"delta_id": "d1"}).json()
    finished(emulator)
    second = http.post(deploys(org), json={"delta_id": "d2"}).json()
    finished(emulator)
    assert (first["from_id"], second["from_id"]) == ("", first["id"])
    assert [d["delta_id"] for d in http.get(deploys(org)).json()] == ["d2", "d1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"comment": "nothing to deploy"}, "delta_id or set_id is required"),
        ({"delta_id": 5}, "Invalid request body: delta_id: Input should be a valid string"),
    ],
    ids=["neither-delta-nor-set", "delta-not-a-string"],
)
def test_bad_deployment_is_400(
    http: httpx.Client, org: str, staging: str, body: dict[str, object], message: str
) -> None:
    assert_error(http.post(deploys(org), json=body), 400, message)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_deployments_of_an_unknown_environment_are_404(
    http: httpx.Client, org: str, method: str
) -> None:
    response = http.request(method, deploys(org, "nope"), json={"delta_id": "d"})
    assert_error(response, 404, 'Environment with id "nope" not found')


def test_unknown_deployment_is_404(http: httpx.Client, org: str, staging: str) -> None:
    assert_error(
        http.get(f"{deploys(org)}/0123456789abcdef"),
        404,
        'Deployment with id "0123456789abcdef" not found',
    )
