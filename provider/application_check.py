"""Plan-time check that the token, organisation and application are right.

A wrong token, org or app would otherwise pass ``terraform plan`` for a new
webhook and fail only at apply, after review. One ``GET`` of the application
answers all three; it is made at most once per application per provider
process, however many webhooks (and plan threads) ask. A rejected token or
access is an error; a missing application is a warning, because the same
configuration may create it and plan cannot tell.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from .plugin.diagnostics import Diagnostics

if TYPE_CHECKING:
    from .api import HumanitecClient

__all__ = ["ApplicationChecks"]


class ApplicationChecks:
    """Remembers each application's check result; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[tuple[HumanitecClient, str], Future[Diagnostics]] = {}

    def check(self, client: HumanitecClient, org_id: str, app_id: str) -> Diagnostics:
        """Diagnostics for planning a webhook in ``app_id`` (empty when all is well)."""
        key = (client, app_id)  # a reconfigured provider has a new client: check again
        with self._lock:
            result = self._results.get(key)
            owner = result is None
            if result is None:
                result = self._results[key] = Future()
        if owner:
            try:
                result.set_result(_probe(client, org_id, app_id))
            except BaseException as exc:  # waiting threads must not hang on a failed probe
                result.set_exception(exc)
                raise
        return result.result()


def _probe(client: HumanitecClient, org_id: str, app_id: str) -> Diagnostics:
    from .api import Forbidden, HumanitecError, NotFound, Unauthorized

    diags = Diagnostics()
    try:
        client.get_application(app_id)
    except Unauthorized as exc:
        diags.error(
            "Humanitec Token Rejected",
            f"Humanitec rejected the API token ({exc}). Check the provider's token "
            "(or HUMANITEC_TOKEN).",
        )
    except Forbidden as exc:
        diags.error(
            "Humanitec Access Denied",
            f"The API token may not read application {app_id!r} in organization {org_id!r} "
            f"({exc}). Check org_id and the token's permissions.",
            ("app_id",),
        )
    except NotFound:
        # A warning, not an error: the same configuration may create the application
        # (e.g. the official provider's humanitec_application), which plan cannot see.
        diags.warning(
            "Application Not Found",
            f"Humanitec has no application {app_id!r} in organization {org_id!r} yet. If "
            "this configuration creates it, this is expected; otherwise check app_id and "
            "the provider's org_id, or the apply will fail.",
            ("app_id",),
        )
    except HumanitecError as exc:
        diags.warning(
            "Application Not Checked",
            f"Checking application {app_id!r} before planning its webhooks failed ({exc}); "
            "apply will tell whether it exists.",
            ("app_id",),
        )
    return diags
