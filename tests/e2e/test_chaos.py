"""Chaos apply: 63 webhooks in 3 applications through a proxy that fails one request in five.

Faults (seeded, see ``FAULT_SEED``): 10% of requests answered 503, 5% answered 429 with
``Retry-After: 1``, and 5% of writes (POST, PATCH, DELETE) applied but their answer lost.
Each phase (create, update every webhook, destroy) runs ``terraform apply`` at
``-parallelism=10`` with the faults on, and must converge in at most two runs. Then, faults
off, the API must equal the configuration (nothing orphaned or duplicated), the state must
equal the API, and the plan must be empty. The figures go to ``chaos.json`` in the test's
tmp dir and to stdout (``pytest -rP`` or ``-s`` shows them).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .checks import View, api_views, assert_state_equals_api, new_app, state_views, view
from .configs import config, webhook
from .faultproxy import Fault, FaultProxy, Rule
from .harness import Workspace, available_terraforms

pytestmark = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)

APPS = 3
HOOKS_PER_APP = 21
MAX_RUNS = 2
PARALLELISM = "-parallelism=10"
UNAVAILABLE, THROTTLED, LOST_WRITES = 0.10, 0.05, 0.05


def chaos_rules() -> list[Rule]:
    """The fault mix; rules are tried in order, so later probabilities are conditional."""
    return [
        Rule(Fault.UNAVAILABLE, probability=UNAVAILABLE),
        Rule(Fault.THROTTLE, probability=THROTTLED / (1 - UNAVAILABLE)),
        Rule(
            Fault.LOSE_ANSWER,
            method="POST|PATCH|DELETE",
            probability=LOST_WRITES / (1 - UNAVAILABLE - THROTTLED),
        ),
    ]


def declared(apps: list[str], version: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(app_id, id) -> the webhook's arguments; ``version`` changes every url and payload."""
    return {
        (app, f"chaos-{a}-{h}"): {
            "url": f"https://example.com/v{version}/{a}/{h}",
            "headers": {"X-Hook": f"{a}-{h}"},
            "payload": {"version": str(version), "env": "${env_id}"},  # HCL-escaped by configs
            "triggers": [("environment", "created"), ("deployment", "finished")][: 1 + h % 2],
        }
        for a, app in enumerate(apps)
        for h in range(HOOKS_PER_APP)
    }


def render(hooks: dict[tuple[str, str], dict[str, Any]]) -> str:
    return config(
        *(
            webhook(webhook_id.replace("-", "_"), webhook_id=webhook_id, app_id=app, **arguments)
            for (app, webhook_id), arguments in hooks.items()
        )
    )


def expected_views(hooks: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], View]:
    return {
        (app, webhook_id): view(
            {
                "id": webhook_id,
                "url": arguments["url"],
                "headers": arguments["headers"],
                "payload": arguments["payload"],
                "triggers": [{"scope": s, "type": t} for s, t in arguments["triggers"]],
            }
        )
        for (app, webhook_id), arguments in hooks.items()
    }


def converge(workspace: Workspace, proxy: FaultProxy, *args: str) -> tuple[int, list[str]]:
    """Runs needed (1 or 2) until ``terraform`` with faults on succeeds, and the errors
    (summary lines) of the runs that failed."""
    errors: list[str] = []
    for run in range(1, MAX_RUNS + 1):
        result = workspace.run(*args, "-input=false", "-no-color", PARALLELISM, ok=(0, 1))
        if result.returncode == 0:
            return run, errors
        errors += [e[:240] for e in result.text.split("Error: ")[1:]]
    raise AssertionError(
        f"not converged in {MAX_RUNS} runs (FAULT_SEED={proxy.seed}, faults {proxy.counts()})\n"
        f"{result}"
    )


def test_chaos_apply_converges_and_loses_nothing(
    proxied_workspace: Workspace,
    proxy: FaultProxy,
    api: httpx.Client,
    tmp_path: Path,
    record_property: Any,
) -> None:
    apps = [new_app(api) for _ in range(APPS)]
    report: dict[str, Any] = {"seed": proxy.seed, "webhooks": APPS * HOOKS_PER_APP, "phases": {}}
    phases = [
        ("create", declared(apps, 1), ("apply", "-auto-approve")),
        ("update-all", declared(apps, 2), ("apply", "-auto-approve")),
        ("destroy", {}, ("destroy", "-auto-approve")),
    ]
    checked = 0
    for number, (phase, hooks, command) in enumerate(phases):
        if hooks:
            proxied_workspace.write(render(hooks))
        proxy.reset(salt=number)
        proxy.rules = chaos_rules()
        started = time.monotonic()
        runs, errors = converge(proxied_workspace, proxy, *command)
        report["phases"][phase] = {
            "runs": runs,
            "errors_before_converging": errors,
            "seconds": round(time.monotonic() - started, 1),
            "requests": len(proxy.log),
            "faults": proxy.counts(),
        }
        proxy.reset()

        context = f"after {phase} (FAULT_SEED={proxy.seed})"
        in_api = api_views(api, apps)  # fails on a duplicated id
        orphans = sorted(set(in_api) - set(hooks))
        assert not orphans, f"{context}: orphaned webhooks {orphans[:5]}"
        expected = expected_views(hooks)
        differing = [
            (key, in_api.get(key), want)
            for key, want in expected.items()
            if in_api.get(key) != want
        ]
        assert not differing, f"{context}: {len(differing)} differ from the config: {differing[0]}"
        if hooks:
            assert_state_equals_api(proxied_workspace, api, apps)
            assert proxied_workspace.plan_exit_code() == 0, proxied_workspace.history[-1]
        else:
            assert state_views(proxied_workspace) == {}, context
        checked += len(hooks)

    report["webhooks_checked"] = checked
    report["faults_total"] = sum(
        n for phase in report["phases"].values() for n in phase["faults"].values()
    )
    report["orphans"] = report["duplicates"] = 0  # asserted above
    (tmp_path / "chaos.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    record_property("chaos", json.dumps(report))
    print(f"chaos report: {json.dumps(report)}")
