"""Webhooks applied by real Terraform fire when the emulator's environments and deployments
change, and a real HTTPS receiver on loopback gets exactly what Humanitec would send.

One emulator (trusting the receiver's throwaway CA through ``ca_file``, as
``--ca-file`` does), one apply and one run of events per module: create an environment,
a deployment that succeeds, one that fails, delete the environment. The tests then read
what each webhook's path received and the emulator's delivery log.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from provider import events as catalogue
from provider.emulator import DeliverySettings, EmulatorServer
from provider.emulator.controls import OUTCOME_HEADER
from provider.emulator.receiver import Received, Receiver, ThrowawayCA

from .configs import config, webhook
from .conftest import TOKEN, new_workspace
from .harness import Terraform, available_terraforms

# Heavy: the bundled Terraform (1.15) only.
pytestmark = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)

USER = "4b2ad72b-4d79-4124-af07-9dd97d6e9154"
APP, OTHER_APP, ENV = "shop", "other", "staging"
SECRET = "hook-secret-5d1e"
TRIGGERED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")
ENVIRONMENT_EVENTS = ("environment.created", "environment.deleted")
ALL_EVENTS = tuple(e.name for e in catalogue.EVENTS)


def every_variable(scope: str, type_: str) -> dict[str, str]:
    """A payload using every placeholder of the trigger, plus text that is no placeholder."""
    names = catalogue.variables_of(scope, type_)
    return {
        **{name: "${" + name + "}" for name in sorted(names)},
        "line": "${app_id}/${env_id} costs $5 and 100%",
        "typo": "${app_idd}",
    }


@dataclass(frozen=True)
class Run:
    """What the module's events caused."""

    org: str
    receiver: Receiver
    untrusted: Receiver
    log: list[dict[str, Any]]
    deploys: list[dict[str, Any]]

    def got(self, webhook_id: str) -> list[Received]:
        return self.receiver.received(f"/{webhook_id}")

    def attempts(self, webhook_id: str) -> list[tuple[str, int, str, int | None]]:
        return [
            (e["event"], e["attempt"], e["outcome"], e["status_code"])
            for e in self.log
            if e["webhook_id"] == webhook_id
        ]


@pytest.fixture(scope="module")
def run(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("delivery")
    ca, stranger = ThrowawayCA(), ThrowawayCA("a CA the emulator is not given")
    settings = DeliverySettings(
        ca_file=ca.write(root / "ca.pem"), attempts=3, timeout=10, backoff=0.05
    )
    org = f"org-{uuid.uuid4().hex[:8]}"
    with (
        Receiver(*ca.issue()) as receiver,
        Receiver(*stranger.issue()) as untrusted,
        EmulatorServer(
            token=TOKEN,
            apps=[(org, APP), (org, OTHER_APP)],
            user_id=USER,
            delivery=settings,
            deploy_duration=0.1,
        ) as emulator,
        httpx.Client(
            base_url=f"{emulator.url}/orgs/{org}/apps/{APP}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            trust_env=False,
        ) as api,
    ):
        workspace = new_workspace(
            terraform,
            initialised,
            cli_config,
            root / "ws",
            {"HUMANITEC_API_PREFIX": emulator.url, "HUMANITEC_ORG": org, "HUMANITEC_TOKEN": TOKEN},
        )
        workspace.write(configuration(receiver.url, untrusted.url))
        workspace.apply()
        receiver.answer("/deploy-finished", 503)  # the first call is retried

        def settled(response: httpx.Response, status: int) -> dict[str, Any]:
            assert response.status_code == status, response.text
            assert emulator.dispatcher.background.wait_idle(60)
            return response.json() if response.content else {}

        settled(api.post("/envs", json={"id": ENV, "name": "Staging", "type": "staging"}), 201)
        body = {"delta_id": "900a4814c4557947b98629f6efad158d122837fe", "comment": "Ship it"}
        deploys = [settled(api.post(f"/envs/{ENV}/deploys", json=body), 201)]
        failing = api.post(
            f"/envs/{ENV}/deploys",
            json={"set_id": "huLPWmcZeokhXIFnbRdmkqxLlGL-WWwBxdPStkidjgk", "comment": "Oops"},
            headers={OUTCOME_HEADER: "failed"},
        )
        deploys.append(settled(failing, 201))
        settled(api.delete(f"/envs/{ENV}"), 204)
        log = api.get(f"{emulator.url}/_emulator/deliveries").json()
        yield Run(org, receiver, untrusted, log, deploys)


def configuration(url: str, untrusted_url: str) -> str:
    created, deleted = ("environment", "created"), ("environment", "deleted")
    started, finished = ("deployment", "started"), ("deployment", "finished")
    return config(
        webhook(
            "env_created",
            webhook_id="env-created",
            app_id=APP,
            url=f"{url}/env-created",
            triggers=[created],
            headers={"X-Custom": "custom-value"},
            secret_headers={"Authorization": f"Bearer {SECRET}"},
            secret_version=1,
            payload=every_variable(*created),
        ),
        webhook(
            "env_deleted",
            webhook_id="env-deleted",
            app_id=APP,
            url=f"{url}/env-deleted",
            triggers=[deleted],
            payload=every_variable(*deleted),
        ),
        webhook(
            "deploy_started",
            webhook_id="deploy-started",
            app_id=APP,
            url=f"{url}/deploy-started",
            triggers=[started],
            payload=every_variable(*started),
        ),
        webhook(
            "deploy_finished",
            webhook_id="deploy-finished",
            app_id=APP,
            url=f"{url}/deploy-finished",
            triggers=[finished],
            payload=every_variable(*finished),
        ),
        webhook(
            "default_body",
            webhook_id="default-body",
            app_id=APP,
            url=f"{url}/default-body",
            triggers=[created, deleted, started, finished],
        ),
        webhook(
            "disabled",
            webhook_id="disabled",
            app_id=APP,
            url=f"{url}/disabled",
            triggers=[created, started],
            disabled=True,
        ),
        webhook(
            "other_app",
            webhook_id="other-app",
            app_id=OTHER_APP,
            url=f"{url}/other-app",
            triggers=[created, started],
        ),
        webhook(
            "untrusted",
            webhook_id="untrusted",
            app_id=APP,
            url=f"{untrusted_url}/untrusted",
            triggers=[created],
        ),
    )


def common(run: Run, event: str, body: dict[str, Any]) -> dict[str, str]:
    """The six common values the event should carry, ``triggered_at`` as it came."""
    assert TRIGGERED_AT.fullmatch(body["triggered_at"]), body["triggered_at"]
    return {
        "event": event,
        "triggered_at": body["triggered_at"],
        "triggered_by": USER,
        "org_id": run.org,
        "app_id": APP,
        "env_id": ENV,
    }


def rendered(values: dict[str, str]) -> dict[str, str]:
    """The body of an ``every_variable`` payload filled with ``values``."""
    return {
        **values,
        "line": f"{APP}/{ENV} costs $5 and 100%",
        "typo": "${app_idd}",  # unknown placeholders stay as written
    }


@pytest.mark.parametrize("event", ENVIRONMENT_EVENTS)
def test_environment_events_render_every_placeholder(run: Run, event: str) -> None:
    (got,) = run.got(event.replace("environment.", "env-"))
    body = got.json()
    expected = {**common(run, event, body), "name": "Staging", "type": "staging"}
    assert body == rendered(expected)


def deployment_values(
    run: Run, event: str, body: dict[str, Any], deploy: dict[str, Any], status: str
) -> dict[str, str]:
    return {
        **common(run, event, body),
        "deploy_id": deploy["id"],
        "delta_id": deploy.get("delta_id", ""),  # the failing one was deployed by set_id
        "set_id": deploy["set_id"],
        "comment": deploy["comment"],
        "status": status,
    }


def test_deployment_started_renders_every_placeholder(run: Run) -> None:
    got = [r.json() for r in run.got("deploy-started")]
    expected = [
        rendered(deployment_values(run, "deployment.started", body, deploy, "in progress"))
        for body, deploy in zip(got, run.deploys, strict=True)
    ]
    assert got == expected


def test_deployment_finished_renders_succeeded_then_failed(run: Run) -> None:
    got = [r.json() for r in run.got("deploy-finished")]
    assert len(got) == 3  # the first answered 503 and came again
    assert got[0] == got[1]  # a retry sends the same body
    expected = [
        rendered(deployment_values(run, "deployment.finished", body, deploy, status))
        for body, deploy, status in zip(got[1:], run.deploys, ["succeeded", "failed"], strict=True)
    ]
    assert got[1:] == expected


def test_without_a_payload_the_body_is_the_six_common_variables(run: Run) -> None:
    got = [r.json() for r in run.got("default-body")]
    assert [body["event"] for body in got] == [
        "environment.created",
        "deployment.started",
        "deployment.finished",
        "deployment.started",
        "deployment.finished",
        "environment.deleted",
    ]
    assert all(body == common(run, body["event"], body) for body in got)


def test_headers_and_write_only_secret_headers_arrive_with_json_content_type(run: Run) -> None:
    (got,) = run.got("env-created")
    assert got.headers["x-custom"] == "custom-value"
    assert got.headers["authorization"] == f"Bearer {SECRET}"
    assert got.headers["content-type"] == "application/json"


def test_each_webhook_gets_exactly_the_events_its_triggers_name(run: Run) -> None:
    events = {
        hook: [r.json()["event"] for r in run.got(hook)]
        for hook in ("env-created", "env-deleted", "deploy-started", "disabled", "other-app")
    }
    assert events == {
        "env-created": ["environment.created"],
        "env-deleted": ["environment.deleted"],
        "deploy-started": ["deployment.started", "deployment.started"],
        "disabled": [],  # disabled
        "other-app": [],  # another application's webhook
    }


def test_an_untrusted_receiver_gets_nothing(run: Run) -> None:
    assert run.untrusted.received() == []
    ((event, attempt, outcome, status),) = run.attempts("untrusted")
    assert (event, attempt, outcome, status) == ("environment.created", 1, "refused", None)


def test_the_delivery_log_records_every_attempt_with_masked_headers(run: Run) -> None:
    assert run.attempts("deploy-finished") == [
        ("deployment.finished", 1, "retrying", 503),
        ("deployment.finished", 2, "delivered", 200),
        ("deployment.finished", 1, "delivered", 200),
    ]
    assert run.attempts("disabled") == run.attempts("other-app") == []
    assert len(run.attempts("default-body")) == len(run.got("default-body")) == 6
    delivered = [e for e in run.log if e["outcome"] == "delivered"]
    assert len(delivered) == 1 + 1 + 2 + 2 + 6  # created, deleted, started x2, finished x2
    (created,) = [e for e in run.log if e["webhook_id"] == "env-created"]
    assert created["headers"] == {"X-Custom": "***", "Authorization": "***"}
    assert created["url"] == f"{run.receiver.url}/env-created"
    assert created["app_id"] == APP
    assert TRIGGERED_AT.fullmatch(created["time"])
    assert created["duration_ms"] > 0
    assert created["body"] == run.got("env-created")[0].json()
    text = json.dumps(run.log)
    assert SECRET not in text
    assert "custom-value" not in text
    (refused,) = [e for e in run.log if e["webhook_id"] == "untrusted"]
    assert "CERTIFICATE_VERIFY_FAILED" in refused["error"]
