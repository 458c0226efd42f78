"""Where the provider's API settings come from, in the official provider's order.

Later sources override earlier ones:

1. a config file: the ``config`` attribute, else ``~/.humctl`` when it exists
   (YAML with ``apiPrefix``, ``org``, ``token``; keys match case-insensitively,
   as the Go provider's YAML-via-JSON decoding does);
2. environment: ``HUMANITEC_HOST`` (deprecated), ``HUMANITEC_API_PREFIX``,
   ``HUMANITEC_ORG``, ``HUMANITEC_TOKEN`` (each when non-empty);
3. the provider block: ``host`` (deprecated), ``api_prefix``, ``org_id``,
   ``token`` (each when set).

The API prefix defaults to ``https://api.humanitec.io/``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .plugin import cty
from .plugin.diagnostics import AttributePath, Diagnostics

__all__ = ["DEFAULT_API_PREFIX", "Settings", "check_api_prefix", "resolve_settings"]

DEFAULT_API_PREFIX = "https://api.humanitec.io/"
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    """Everything needed to build an API client."""

    api_prefix: str
    org_id: str
    token: str = field(repr=False)
    verify_tls: bool = True
    timeout: float = DEFAULT_TIMEOUT
    """Seconds for one API call, retries and waits included (``HUMANITEC_TIMEOUT``)."""


def resolve_settings(
    block: Mapping[str, cty.Value],
    diags: Diagnostics,
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> Settings | None:
    """Combine file, environment and provider block; None (with errors) if incomplete."""
    for name, value in block.items():
        if isinstance(value, cty.Unknown):
            diags.error(
                "Unknown Provider Configuration",
                f"The provider's {name} depends on a value that is only known after apply. "
                "Set it from a value Terraform knows at plan time.",
                (name,),
            )
    if diags.has_errors:
        return None

    from_file = _read_config_file(block.get("config"), home, diags)
    api_prefix = from_file.get("apiprefix", "")
    org_id = from_file.get("org", "")
    token = from_file.get("token", "")

    if environ.get("HUMANITEC_HOST"):
        api_prefix = environ["HUMANITEC_HOST"]
        diags.warning(
            "Environment Variable HUMANITEC_HOST Has Been Deprecated",
            "Environment variable HUMANITEC_HOST has been deprecated, "
            "please use HUMANITEC_API_PREFIX instead to set your API prefix.",
        )
    api_prefix = environ.get("HUMANITEC_API_PREFIX") or api_prefix
    org_id = environ.get("HUMANITEC_ORG") or org_id
    token = environ.get("HUMANITEC_TOKEN") or token

    host = block.get("host")
    if isinstance(host, str) and host:
        api_prefix = host
        diags.warning(
            "Attribute host Has Been Deprecated",
            "Attribute host has been deprecated, please use api_prefix instead.",
            ("host",),
        )
    api_prefix = _string(block.get("api_prefix"), api_prefix) or DEFAULT_API_PREFIX
    org_id = _string(block.get("org_id"), org_id)
    token = _string(block.get("token"), token)

    if token and not _printable_token(token):
        diags.error(
            "Invalid API Token",
            "The Humanitec API token contains whitespace or non-printable characters (often a "
            "trailing newline from a file). Remove them; the token itself is not shown.",
            ("token",) if isinstance(block.get("token"), str) else None,
        )
    check_api_prefix(api_prefix, diags)
    if not token:
        diags.error(
            "Missing API Token Configuration",
            "The provider cannot create the Humanitec API client because the API token was "
            "not found. Set the HUMANITEC_TOKEN environment variable, the provider's token "
            "attribute, or token in the config file (~/.humctl).",
            ("token",),
        )
    if not org_id:
        diags.error(
            "Missing API Org ID Configuration",
            "The provider cannot create the Humanitec API client because the organization ID "
            "was not found. Set the HUMANITEC_ORG environment variable, the provider's org_id "
            "attribute, or org in the config file (~/.humctl).",
            ("org_id",),
        )
    timeout = _timeout(environ.get("HUMANITEC_TIMEOUT", ""), diags)
    if diags.has_errors:
        return None
    verify = block.get("disable_ssl_certificate_verification") is not True
    return Settings(
        api_prefix=api_prefix, org_id=org_id, token=token, verify_tls=verify, timeout=timeout
    )


def _timeout(text: str, diags: Diagnostics) -> float:
    """``HUMANITEC_TIMEOUT``: this provider's own setting (not the official provider's)."""
    if not text.strip():
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= 3600):
        diags.error(
            "Invalid HUMANITEC_TIMEOUT",
            f"HUMANITEC_TIMEOUT is the time budget in seconds for one API call, retries "
            f"included: a number from 0 to 3600 (exclusive of 0), got {text!r}.",
        )
        return DEFAULT_TIMEOUT
    return seconds


def check_api_prefix(api_prefix: str, diags: Diagnostics, attribute: str = "api_prefix") -> None:
    """An error on the provider's ``api_prefix`` unless webhook paths can be appended to it.

    The same rules as the API client's, without importing httpx, so that
    ``terraform validate`` reports them with the attribute path.
    """
    problem = _api_prefix_problem(api_prefix)
    if problem:
        # Not quoted back: a swapped argument could be the token.
        diags.error(
            "Invalid API Prefix",
            f"The Humanitec API prefix {problem}. Use an http(s) URL such as {DEFAULT_API_PREFIX}.",
            (attribute,),
        )


def _api_prefix_problem(api_prefix: str) -> str:
    if any(char.isspace() or not char.isprintable() for char in api_prefix):
        return "contains whitespace or non-printable characters"
    try:
        parts = urlsplit(api_prefix)
        port = parts.port
    except ValueError:
        return "is not a valid URL (check the host and port)"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname or "%" in parts.netloc:
        return "has no valid host name"
    if port is not None and not 1 <= port <= 65535:
        return "has an invalid port (must be 1 to 65535)"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if "?" in api_prefix or "#" in api_prefix:
        return "must not contain a query or fragment"
    return ""


def _printable_token(token: str) -> bool:
    # It travels in an HTTP header: anything else is rejected by the HTTP library with an
    # error message that quotes the header, token included.
    return token.isascii() and token.isprintable() and " " not in token


def _string(value: cty.Value, fallback: str) -> str:
    # A set attribute overrides even when empty, as in the Go provider.
    return value if isinstance(value, str) else fallback


def _read_config_file(
    configured: cty.Value, home: Path | None, diags: Diagnostics
) -> dict[str, str]:
    attribute: AttributePath | None = None
    if isinstance(configured, str):
        attribute = ("config",)
        path = Path(configured).expanduser()
        if not path.exists():
            diags.error(
                "Unable To Read Config File",
                f"Terraform was unable to read the config file {configured!r} named in the "
                "config attribute: no such file.",
                attribute,
            )
            return {}
    else:
        try:
            path = (home or Path.home()) / ".humctl"
        except RuntimeError:
            diags.warning(
                "Unable To Determine Home Directory",
                "~/.humctl was not read because the home directory is unknown.",
            )
            return {}
        if not path.is_file():
            return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        diags.error("Unable To Read Config File", f"Reading {path} failed: {reason}.", attribute)
        return {}
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Only the problem and its position: PyYAML's full message quotes the offending
        # line, which may be the token's.
        problem = getattr(exc, "problem", None) or "invalid YAML"
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        diags.error(
            "Unable To Parse YAML From Config File",
            f"{path} is not valid YAML: {problem}{where}.",
            attribute,
        )
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        diags.error(
            "Unable To Parse YAML From Config File",
            f"{path} must hold a mapping with apiPrefix, org and token.",
            attribute,
        )
        return {}
    return {str(k).lower(): str(v) for k, v in data.items() if v is not None}
