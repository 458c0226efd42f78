"""``humanitec-emulator env|deploy|deliveries``: cause events and read the delivery log
of a running emulator, for people who would rather not write curl.

    humanitec-emulator env create ENV [--name NAME] [--type TYPE] --app APP
    humanitec-emulator env delete ENV --app APP
    humanitec-emulator env list --app APP
    humanitec-emulator deploy ENV [--delta-id ID] [--set-id ID] [--comment TEXT] [--fail] --app APP
    humanitec-emulator deliveries [--wait SECONDS] [--json]

The emulator's URL, the organization and the token come from ``--url``, ``--org`` and
``--token``, else from ``HUMANITEC_API_PREFIX``, ``HUMANITEC_ORG`` and ``HUMANITEC_TOKEN``
(what the provider reads). The API's answer is printed as JSON; an error answer goes to
stderr and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

import httpx

from provider.emulator.controls import DELIVERIES_PATH, OUTCOME_HEADER

__all__ = ["COMMANDS", "main"]

COMMANDS = ("env", "deploy", "deliveries")


def main(argv: list[str]) -> int:
    """Run one command against a running emulator; returns the exit status."""
    args = _parser().parse_args(argv)
    missing = [flag for flag in ("url", "token") if not getattr(args, flag)]
    if args.command != "deliveries" and not args.org:
        missing.append("org")
    if missing:
        names = ", ".join(f"--{m} (or {_ENV_VARS[m]})" for m in missing)
        print(f"humanitec-emulator {args.command}: set {names}", file=sys.stderr)
        return 2
    with httpx.Client(
        base_url=args.url.rstrip("/"),
        headers={"Authorization": f"Bearer {args.token}"},
        timeout=70.0,  # above the longest wait the deliveries endpoint allows
        trust_env=False,  # the emulator is local: never through a proxy
    ) as client:
        try:
            response = _send(client, args)
        except httpx.HTTPError as error:
            print(f"humanitec-emulator {args.command}: {args.url}: {error}", file=sys.stderr)
            return 1
    if response.is_error:
        print(f"HTTP {response.status_code}: {response.text}", file=sys.stderr)
        return 1
    if response.status_code == 204:
        print(f"deleted environment {args.env_id}")
    elif args.command == "deliveries" and not args.json:
        print(_table(response.json()))
    else:
        print(json.dumps(response.json(), indent=2))
    return 0


_ENV_VARS = {"url": "HUMANITEC_API_PREFIX", "token": "HUMANITEC_TOKEN", "org": "HUMANITEC_ORG"}


def _send(client: httpx.Client, args: argparse.Namespace) -> httpx.Response:
    if args.command == "deliveries":
        return client.get(DELIVERIES_PATH, params={"wait": args.wait})
    envs = f"/orgs/{args.org}/apps/{args.app}/envs"
    if args.command == "deploy":
        body: dict[str, Any] = {
            "delta_id": args.delta_id or (None if args.set_id else secrets.token_hex(20)),
            "set_id": args.set_id,
            "comment": args.comment,
        }
        outcome = {OUTCOME_HEADER: "failed"} if args.fail else {}
        return client.post(
            f"{envs}/{args.env_id}/deploys",
            json={k: v for k, v in body.items() if v is not None},
            headers=outcome,
        )
    if args.action == "create":
        body = {"id": args.env_id, "name": args.name or args.env_id, "type": args.type}
        return client.post(envs, json=body)
    if args.action == "delete":
        return client.delete(f"{envs}/{args.env_id}")
    return client.get(envs)


def _table(entries: list[dict[str, Any]]) -> str:
    """One line per attempt: the fields a person scans for."""
    if not entries:
        return "no deliveries yet"
    rows = [("TIME", "EVENT", "APP", "WEBHOOK", "#", "OUTCOME", "RESULT", "MS", "URL")]
    for e in entries:
        result = str(e["status_code"]) if e["status_code"] is not None else e["error"] or ""
        rows.append(
            (
                e["time"],
                e["event"],
                f"{e['org_id']}/{e['app_id']}",
                e["webhook_id"],
                str(e["attempt"]),
                e["outcome"],
                result,
                f"{e['duration_ms']:.0f}",
                e["url"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    env = os.environ.get
    common.add_argument("--url", default=env("HUMANITEC_API_PREFIX"), help="the emulator's URL")
    common.add_argument("--token", default=env("HUMANITEC_TOKEN"), help="its Bearer token")
    common.add_argument("--org", default=env("HUMANITEC_ORG"), help="the organization")
    in_app = argparse.ArgumentParser(add_help=False, parents=[common])
    in_app.add_argument("--app", required=True, help="the application")

    parser = argparse.ArgumentParser(prog="humanitec-emulator")
    commands = parser.add_subparsers(dest="command", required=True)

    environments = commands.add_parser("env", help="create, delete or list environments")
    actions = environments.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", parents=[in_app], help="create an environment (environment.created)"
    )
    create.add_argument("env_id", metavar="ENV")
    create.add_argument("--name", help="its name (default: its id)")
    create.add_argument("--type", help="its type (default: development)")
    delete = actions.add_parser(
        "delete", parents=[in_app], help="delete an environment (environment.deleted)"
    )
    delete.add_argument("env_id", metavar="ENV")
    actions.add_parser("list", parents=[in_app], help="list the environments")

    deploy = commands.add_parser(
        "deploy",
        parents=[in_app],
        help="start a deployment (deployment.started, then deployment.finished)",
    )
    deploy.add_argument("env_id", metavar="ENV")
    deploy.add_argument("--delta-id", help="default: a random one (unless --set-id)")
    deploy.add_argument("--set-id")
    deploy.add_argument("--comment", default="")
    deploy.add_argument("--fail", action="store_true", help="the deployment ends as failed")

    deliveries = commands.add_parser(
        "deliveries", parents=[common], help="print every delivery attempt"
    )
    deliveries.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait (at most SECONDS) for deliveries and deployments under way",
    )
    deliveries.add_argument("--json", action="store_true", help="print the log as JSON")
    return parser
