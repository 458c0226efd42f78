"""WebhookStore: org-wide ids, environments and deployments, persistence, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from provider.api import (
    DeploymentResponse,
    EnvironmentResponse,
    EventBaseResponse,
    WebhookResponse,
)
from provider.emulator.store import (
    AppNotFound,
    DuplicateId,
    EnvironmentNotFound,
    WebhookNotFound,
    WebhookStore,
)


def hook(hook_id: str = "h", **fields: object) -> WebhookResponse:
    values: dict[str, object] = {
        "id": hook_id,
        "disabled": False,
        "headers": {},
        "payload": None,
        "triggers": [EventBaseResponse(scope="environment", type="created")],
        "url": "https://example.com",
    }
    values.update(fields)
    return WebhookResponse.model_validate(values)


def test_ids_are_unique_per_org_not_per_app() -> None:
    store = WebhookStore()
    for org, app in [("o", "a"), ("o", "b"), ("p", "a")]:
        store.ensure_app(org, app)
    store.create_webhook("o", "a", hook())
    with pytest.raises(DuplicateId):
        store.create_webhook("o", "b", hook())
    store.create_webhook("p", "a", hook())
    with pytest.raises(WebhookNotFound):
        store.get_webhook("o", "b", "h")


def test_unknown_app_raises() -> None:
    with pytest.raises(AppNotFound, match='Application with id "a" not found'):
        WebhookStore().list_webhooks("o", "a")


def test_ensure_app_is_idempotent() -> None:
    store = WebhookStore()
    first = store.ensure_app("o", "a")
    assert store.ensure_app("o", "a") is first


def test_update_rejects_values_that_break_the_schema() -> None:
    store = WebhookStore()
    store.ensure_app("o", "a")
    store.create_webhook("o", "a", hook())
    with pytest.raises(pydantic.ValidationError):
        store.update_webhook("o", "a", "h", {"triggers": None})
    assert store.get_webhook("o", "a", "h") == hook()


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    store = WebhookStore(state_file)
    store.ensure_app("o", "a")
    store.create_webhook("o", "a", hook("one", payload={"x": "${app_id}"}))
    store.create_webhook("o", "a", hook("two"))
    store.update_webhook("o", "a", "one", {"url": "https://changed", "headers": None})
    store.delete_webhook("o", "a", "two")

    reloaded = WebhookStore(state_file)
    assert reloaded.list_webhooks("o", "a") == store.list_webhooks("o", "a")
    assert reloaded.get_webhook("o", "a", "one").headers is None
    assert reloaded.get_app("o", "a") == store.get_app("o", "a")


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = WebhookStore(tmp_path / "state.json")
    store.ensure_app("o", "a")
    for index in range(5):
        store.create_webhook("o", "a", hook(f"h{index}"))
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    assert json.loads((tmp_path / "state.json").read_text())["version"] == 1


def test_a_failed_write_keeps_the_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_file = tmp_path / "state.json"
    store = WebhookStore(state_file)
    store.ensure_app("o", "a")
    before = state_file.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("provider.emulator.store.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        store.create_webhook("o", "a", hook())
    assert state_file.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"version": 2, "apps": [], "webhooks": []}',
        '{"version": 1, "apps": [{}], "webhooks": []}',
    ],
    ids=["not-json", "future-version", "bad-app"],
)
def test_a_corrupt_state_file_is_refused(tmp_path: Path, content: str) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(content)
    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's ValidationError is a ValueError
        WebhookStore(state_file)


def test_list_apps_is_per_org_in_creation_order() -> None:
    store = WebhookStore()
    for org, app in [("o", "b"), ("p", "x"), ("o", "a")]:
        store.ensure_app(org, app)
    assert [app.id for app in store.list_apps("o")] == ["b", "a"]
    assert [app.org_id for app in store.list_apps("o")] == ["o", "o"]
    assert store.list_apps("nobody") == []


def environment(env_id: str = "dev") -> EnvironmentResponse:
    return EnvironmentResponse(
        id=env_id,
        name=env_id,
        type="development",
        created_at="2020-06-22T09:37:23.523Z",
        created_by="u",
        status="active",
        status_changed_at="2020-06-22T09:37:23.523Z",
    )


def deployment(deploy_id: str, status: str, env_id: str = "dev") -> DeploymentResponse:
    return DeploymentResponse(
        id=deploy_id,
        env_id=env_id,
        from_id="",
        set_id="s",
        comment="",
        status=status,
        status_changed_at="2020-06-22T09:37:23.523Z",
        created_at="2020-06-22T09:37:23.523Z",
        created_by="u",
        export_status="",
        export_file="",
    )


def test_environments_and_deployments_survive_a_restart_unfinished_ones_as_failed(
    tmp_path: Path,
) -> None:
    state_file = tmp_path / "state.json"
    store = WebhookStore(state_file)
    store.ensure_app("o", "a")
    store.create_environment("o", "a", environment())
    store.create_deployment("o", "a", deployment("d1", "in progress"))
    store.finish_deployment("o", "a", "dev", "d1", "succeeded", "later")
    store.create_deployment("o", "a", deployment("d2", "in progress"))
    reloaded = WebhookStore(state_file)
    assert [d.status for d in reloaded.list_deployments("o", "a", "dev")] == ["failed", "succeeded"]
    last = reloaded.get_environment("o", "a", "dev").last_deploy
    assert last is not None
    assert last.id == "d2"
    reloaded.create_deployment("o", "a", deployment("d3", "in progress"))  # not blocked by d2


def test_a_state_file_from_before_environments_loads(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({"version": 1, "apps": [], "webhooks": []}))
    store = WebhookStore(state_file)
    store.ensure_app("o", "a")
    assert store.list_environments("o", "a") == []


def test_finishing_a_deployment_twice_or_after_its_environment_is_gone_does_nothing() -> None:
    store = WebhookStore()
    store.ensure_app("o", "a")
    store.create_environment("o", "a", environment())
    store.create_deployment("o", "a", deployment("d1", "in progress"))
    assert store.finish_deployment("o", "a", "dev", "d1", "failed", "t") is not None
    assert store.finish_deployment("o", "a", "dev", "d1", "succeeded", "t") is None
    store.create_deployment("o", "a", deployment("d2", "in progress"))
    store.delete_environment("o", "a", "dev")
    assert store.finish_deployment("o", "a", "dev", "d2", "succeeded", "t") is None
    with pytest.raises(EnvironmentNotFound):
        store.list_deployments("o", "a", "dev")
