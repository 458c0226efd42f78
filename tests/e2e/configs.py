"""Build Terraform configurations for the tests, with HCL quoting done right."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from .conftest import PROVIDER_BLOCK

Trigger = tuple[str, str]


def hcl_string(value: str) -> str:
    """A quoted HCL string whose value is exactly ``value`` (``${`` escaped as ``$${``)."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def hcl_map(values: Mapping[str, str]) -> str:
    items = ", ".join(f"{hcl_string(k)} = {hcl_string(v)}" for k, v in values.items())
    return "{ " + items + " }"


def webhook(
    name: str = "hook",
    *,
    webhook_id: str,
    app_id: str,
    url: str = "https://example.com/hook",
    triggers: Sequence[Trigger] = (("environment", "created"),),
    headers: Mapping[str, str] | None = None,
    payload: Mapping[str, str] | None = None,
    disabled: bool | None = None,
    url_expression: str | None = None,
    secret_headers: Mapping[str, str] | None = None,
    secret_version: int | None = None,
) -> str:
    """One ``humanitec_webhook`` block; optional arguments are left out when None."""
    lines = [
        f'resource "humanitec_webhook" "{name}" {{',
        f"  id       = {hcl_string(webhook_id)}",
        f"  app_id   = {hcl_string(app_id)}",
        f"  url      = {url_expression or hcl_string(url)}",
        "  triggers = [",
        *(f"    {{ scope = {hcl_string(s)}, type = {hcl_string(t)} }}," for s, t in triggers),
        "  ]",
    ]
    if headers is not None:
        lines.append(f"  headers  = {hcl_map(headers)}")
    if payload is not None:
        lines.append(f"  payload  = {hcl_map(payload)}")
    if disabled is not None:
        lines.append(f"  disabled = {'true' if disabled else 'false'}")
    if secret_headers is not None:
        lines.append(f"  secret_headers_wo = {hcl_map(secret_headers)}")
    if secret_version is not None:
        lines.append(f"  secret_headers_wo_version = {secret_version}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def config(*blocks: str) -> str:
    return PROVIDER_BLOCK + "\n" + "\n".join(blocks)
