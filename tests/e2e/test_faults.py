"""Hostile answers and a failing network between the provider and the API, with real Terraform.

A :class:`FaultProxy` sits between the provider and the emulator (``proxied_workspace``);
the tests inspect the emulator directly (``api``) and the proxy's log. What must hold
whatever the network does: an answer about another webhook never enters the state, a
webhook created but not reported heals on the next apply, a read never blocks plan or
destroy, no request outlives its time budget, and no secret reaches the output.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .checks import api_hooks, assert_state_equals_api, new_app, view
from .configs import config, webhook
from .conftest import TOKEN
from .faultproxy import (
    Fault,
    FaultProxy,
    Rule,
    echo_request,
    empty_204,
    refusing_port,
    set_fields,
)
from .harness import Workspace, available_terraforms

# Heavy tests run on the bundled Terraform only (1.15), to keep the suite fast.
pytestmark = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)

BUDGET_ENV = "HUMANITEC_TIMEOUT"
"""The provider's whole-request time budget in seconds, from the environment."""
BUDGET = 5.0
SECRET = "hdr-secret-value-8c1f"
APPLY = ("apply", "-auto-approve", "-input=false", "-no-color")
PLAN = ("plan", "-input=false", "-no-color")


def put_webhook(api: httpx.Client, app_id: str, webhook_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "id": webhook_id,
        "url": "https://example.com/hook",
        "triggers": [{"scope": "environment", "type": "created"}],
        **fields,
    }
    response = api.post(f"/apps/{app_id}/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def errors_of(output: str) -> str:
    """The diagnostics part of an apply's output (after the plan it printed)."""
    start = output.find("Error:")
    assert start >= 0, output
    return output[start:]


# a. An answer about another webhook never enters the state, so it is never deleted.


def test_answer_with_another_id_is_an_error_and_deletes_nothing(
    proxied_workspace: Workspace, proxy: FaultProxy, api: httpx.Client, app_id: str
) -> None:
    victim = put_webhook(api, app_id, "victim", url="https://example.com/victim")
    proxied_workspace.write(config(webhook(webhook_id="r1", app_id=app_id)))
    proxied_workspace.apply()
    wrong_id = Rule(
        Fault.REWRITE, method="GET", path=r".*/webhooks/r1", rewrite=set_fields(id="victim")
    )
    proxy.rules = [wrong_id]

    plan = proxied_workspace.fail(*PLAN)
    assert re.search(r"\b(victim|r1)\b", errors_of(plan.output)), "the error names neither id"
    assert proxied_workspace.state()["humanitec_webhook.hook"]["id"] == "r1"
    proxied_workspace.fail(*APPLY)
    assert proxied_workspace.state()["humanitec_webhook.hook"]["id"] == "r1"
    proxy.rules = []
    assert proxied_workspace.plan_exit_code() == 0, proxied_workspace.history[-1]

    proxy.rules = [wrong_id]
    # Destroy may fail (the read errs) or delete r1; it must never delete the victim.
    proxied_workspace.run("destroy", "-auto-approve", "-input=false", "-no-color", ok=(0, 1))
    deletes = [seen.path for seen in proxy.log if seen.method == "DELETE"]
    assert all(path.endswith("/webhooks/r1") for path in deletes), deletes
    assert view(api.get(f"/apps/{app_id}/webhooks/victim").json()) == view(victim)


# b. A webhook created but not reported is adopted by the next apply.

ORPHAN_FAULTS = {
    "commit-then-500": [Rule(Fault.COMMIT_THEN_500, method="POST", times=1)],
    "url-null": [Rule(Fault.REWRITE, method="POST", times=1, rewrite=set_fields(url=None))],
    "header-not-a-string": [
        Rule(Fault.REWRITE, method="POST", times=1, rewrite=set_fields(headers={"X-Team": 7}))
    ],
    "204-empty": [Rule(Fault.REWRITE, method="POST", times=1, rewrite=empty_204())],
    "answer-and-lookups-lost": [
        Rule(Fault.LOSE_ANSWER, method="POST", times=1),
        Rule(Fault.LOSE_ANSWER, method="GET", path=r".*/webhooks/orphan"),
    ],
    # The API goes down right after it committed the create: nothing answers any more.
    "api-down-mid-apply": [
        Rule(Fault.UNAVAILABLE, method="GET", path=r".*/apps/[^/]+", times=1),
        Rule(Fault.LOSE_ANSWER, method="POST", times=1),
        Rule(Fault.REFUSE),
    ],
}


def test_terraform_killed_mid_create_is_healed_by_the_next_apply(
    proxied_workspace: Workspace, proxy: FaultProxy, api: httpx.Client, app_id: str
) -> None:
    """Terraform is killed (SIGKILL, with its providers) while Humanitec holds the new
    webhook but has not answered: the state never learns of it; the next apply adopts it."""
    proxied_workspace.write(config(webhook(webhook_id="killed", app_id=app_id)))
    proxy.rules = [Rule(Fault.COMMIT_THEN_HANG, method="POST", times=1)]
    with pytest.raises(AssertionError, match="killed"):
        proxied_workspace.run(*APPLY, timeout=8)
    created = api.get(f"/apps/{app_id}/webhooks/killed")
    assert created.status_code == 200, "the create was meant to be committed"
    assert "humanitec_webhook.hook" not in proxied_workspace.state()

    proxy.reset()
    result = proxied_workspace.apply()
    assert "Existing Webhook Adopted" in result.text
    hooks = api_hooks(api, app_id)
    assert [hook["id"] for hook in hooks] == ["killed"]
    assert hooks[0]["created_at"] == created.json()["created_at"], "re-created, not adopted"
    assert_state_equals_api(proxied_workspace, api, [app_id])
    assert proxied_workspace.plan_exit_code() == 0, proxied_workspace.history[-1]


@pytest.mark.parametrize("rules", ORPHAN_FAULTS.values(), ids=ORPHAN_FAULTS.keys())
def test_webhook_created_but_not_reported_is_adopted_by_the_next_apply(
    proxied_workspace: Workspace,
    proxy: FaultProxy,
    api: httpx.Client,
    app_id: str,
    rules: list[Rule],
) -> None:
    proxied_workspace.write(
        config(
            webhook(
                webhook_id="orphan",
                app_id=app_id,
                headers={"X-Team": "platform"},
                payload={"env": "$${env_id}"},
            )
        )
    )
    proxy.rules = rules
    first = proxied_workspace.run(*APPLY, ok=(0, 1))
    assert proxy.counts(), "no fault was injected"
    created = api.get(f"/apps/{app_id}/webhooks/orphan")
    assert created.status_code == 200, f"the fault was meant to hide a committed create\n{first}"

    proxy.reset()
    proxied_workspace.apply()
    hooks = api_hooks(api, app_id)
    assert [hook["id"] for hook in hooks] == ["orphan"]
    assert hooks[0]["created_at"] == created.json()["created_at"], "re-created, not adopted"
    assert hooks[0]["headers"] == {"X-Team": "platform"}
    assert_state_equals_api(proxied_workspace, api, [app_id])
    assert proxied_workspace.plan_exit_code() == 0, proxied_workspace.history[-1]


# c. An id held elsewhere in the organisation is an error naming where.


def test_id_held_by_a_different_webhook_in_another_app_names_that_app(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    holder = new_app(api)
    held = put_webhook(api, holder, "shared-id", url="https://example.com/theirs")
    workspace.write(config(webhook(webhook_id="shared-id", app_id=app_id)))

    result = workspace.fail(*APPLY)
    assert holder in result.text
    assert api_hooks(api, app_id) == []
    assert view(api_hooks(api, holder)[0]) == view(held)


# d. No answer, or one that never ends, costs at most the time budget.


@pytest.mark.parametrize("fault", [Fault.TRICKLE, Fault.HANG], ids=lambda f: f.value)
def test_a_stalled_answer_fails_within_the_time_budget(
    proxied_workspace: Workspace, proxy: FaultProxy, app_id: str, fault: Fault
) -> None:
    proxied_workspace.write(config(webhook(webhook_id="slow", app_id=app_id)))
    proxied_workspace.apply()
    proxied_workspace.env[BUDGET_ENV] = f"{BUDGET:g}"
    proxy.rules = [Rule(fault, method="GET")]

    bound = 3 * BUDGET + 30  # a hang check, not a performance claim
    started = time.monotonic()
    result = proxied_workspace.run(*PLAN, ok=(), timeout=bound + 5)
    elapsed = time.monotonic() - started
    assert result.returncode != 0, str(result)
    assert elapsed < bound, f"plan took {elapsed:.0f} s with a {BUDGET:g} s budget"
    assert re.search(r"timed out|time budget|deadline", result.text, re.IGNORECASE), result


# e. An odd value in the API is drift: plan shows it, apply and destroy get past it.


def test_non_string_header_in_the_api_is_drift_that_apply_and_destroy_handle(
    workspace: Workspace, api: httpx.Client, app_id: str
) -> None:
    workspace.write(config(webhook(webhook_id="odd", app_id=app_id, headers={"X-Team": "a"})))
    workspace.apply()
    hook = f"/apps/{app_id}/webhooks/odd"

    def corrupt() -> None:
        response = api.patch(hook, json={"headers": {"X-Team": 7, "X-Extra": {"a": [1]}}})
        assert response.status_code == 200, response.text

    corrupt()
    plan = workspace.run("plan", "-detailed-exitcode", *PLAN[1:], ok=(2,))
    assert "Warning:" in plan.text, "the odd value is not reported"
    workspace.apply()
    assert api.get(hook).json()["headers"] == {"X-Team": "a"}
    assert workspace.plan_exit_code() == 0, workspace.history[-1]

    corrupt()
    workspace.run("destroy", "-auto-approve", "-input=false", "-no-color")
    assert api.get(hook).status_code == 404
    assert workspace.state() == {}


# f. A refused connection names where it went and what it did, and nothing misleading.


@pytest.fixture
def refused_prefix() -> Iterator[str]:
    with refusing_port() as sock:
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("operation", ["create", "read"])
def test_connection_refused_names_host_port_and_operation(
    workspace: Workspace, app_id: str, refused_prefix: str, operation: str
) -> None:
    workspace.write(config(webhook(webhook_id="net", app_id=app_id)))
    if operation == "read":
        workspace.apply()
    workspace.env["HUMANITEC_API_PREFIX"] = f"http://{refused_prefix}"

    result = workspace.fail(*(APPLY if operation == "create" else PLAN))
    text = result.text
    assert refused_prefix in text
    assert re.search(r"\b(GET|POST|create|read)\b", text), text
    for misleading in ("outcome unknown", "check org_id", "import it"):
        assert misleading not in text.lower()
    assert TOKEN not in result.output


# g. An error that echoes the request shows neither header values nor the token.


@pytest.mark.parametrize("attribute", ["headers", "secret_headers"])
def test_error_echoing_the_request_shows_no_secret(
    proxied_workspace: Workspace, proxy: FaultProxy, app_id: str, attribute: str
) -> None:
    secret = {"X-Api-Key": SECRET}
    if attribute == "headers":
        hook = webhook(webhook_id="echo", app_id=app_id, headers=secret)
    else:
        hook = webhook(webhook_id="echo", app_id=app_id, secret_headers=secret)
    proxied_workspace.write(config(hook))
    proxy.rules = [Rule(Fault.REWRITE, method="POST", rewrite=echo_request(400))]
    result = proxied_workspace.fail(*APPLY)
    errors = errors_of(result.output)
    assert "400" in errors
    assert SECRET not in errors
    assert TOKEN not in result.output
