"""The ``humanitec`` provider: its block, its API client, its resources and data sources.

The block matches the official Go provider attribute for attribute, so
existing configurations work unchanged. The API client (httpx, pydantic) is
imported only when Terraform configures the provider: the first launches of
every command only read the schema and should not pay for it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .plugin import log
from .plugin.diagnostics import DiagnosticError, Diagnostics
from .plugin.resource import DataSource, ListResource, Resource, State
from .plugin.schema import Schema, boolean, string
from .settings import Settings, check_api_prefix, resolve_settings
from .webhook import WebhookResource
from .webhook_data import WebhookDataSource, WebhooksDataSource
from .webhook_list import WebhookListResource

if TYPE_CHECKING:
    from .api import HumanitecClient

__all__ = ["HumanitecProvider"]

SCHEMA = Schema(
    description="Manage Humanitec Platform Orchestrator webhooks.",
    attributes={
        "api_prefix": string(
            "Humanitec API prefix (or using the `HUMANITEC_API_PREFIX` environment variable)",
            optional=True,
        ),
        "host": string(
            "Humanitec API host (or using the `HUMANITEC_HOST` environment variable)",
            optional=True,
            deprecation="This attribute is deprecated in favor of api_prefix "
            "(`HUMANITEC_API_PREFIX` environment variable).",
        ),
        "org_id": string(
            "Humanitec Organization ID (or using the `HUMANITEC_ORG` environment variable)",
            optional=True,
        ),
        "token": string(
            "Humanitec Token (or using the `HUMANITEC_TOKEN` environment variable)",
            optional=True,
            sensitive=True,
        ),
        "disable_ssl_certificate_verification": boolean(
            "Disables SSL certificate verification", optional=True
        ),
        "config": string("Location of Humanitec configuration", optional=True),
    },
)


class HumanitecProvider:
    """The provider object the servicer serves."""

    type_name = "humanitec"
    schema = SCHEMA

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._client: HumanitecClient | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._resources: tuple[Resource, ...] = (WebhookResource(self),)
        self._data_sources: tuple[DataSource, ...] = (
            WebhookDataSource(self),
            WebhooksDataSource(self),
        )
        self._list_resources: tuple[ListResource, ...] = (WebhookListResource(self),)

    def resources(self) -> Sequence[Resource]:
        return self._resources

    def data_sources(self) -> Sequence[DataSource]:
        return self._data_sources

    def list_resources(self) -> Sequence[ListResource]:
        return self._list_resources

    def validate(self, config: State, diags: Diagnostics) -> None:
        """Check what the block itself sets; the rest may come from the environment."""
        for name in ("api_prefix", "host"):
            value = config.get(name)
            if isinstance(value, str) and value:  # "" means the default, as in configure
                check_api_prefix(value, diags, name)

    def configure(self, config: State, terraform_version: str, diags: Diagnostics) -> None:
        settings = resolve_settings(config, diags)
        if settings is None:
            return
        log.redact(settings.token)
        with self._lock:
            # Under reattach one process serves many commands: the newest configuration
            # wins and a past stop is forgotten. The replaced client is closed, which ends
            # its pooled connections once in-flight calls have finished.
            replaced, self._settings, self._client = self._client, settings, None
            self._stopping.clear()
        if replaced is not None:
            replaced.close()

    def stop(self) -> None:
        """Terraform is cancelling (Ctrl-C): end waits between retries and cut in-flight
        requests short; they fail with an error saying they were cancelled."""
        self._stopping.set()
        with self._lock:
            client = self._client
        if client is not None:
            client.cancel()

    @property
    def client(self) -> HumanitecClient:
        """The API client, built on first use: launches that never call the API skip
        importing httpx and pydantic (~200 ms)."""
        with self._lock:
            if self._client is None:
                if self._settings is None:
                    raise DiagnosticError(
                        "Provider Not Configured",
                        "The humanitec provider has no API settings because its configuration "
                        "failed; see the errors above.",
                    )
                self._client = self._build_client(self._settings)
                if self._stopping.is_set():  # a stop that came before the first request
                    self._client.cancel()
            return self._client

    @property
    def org_id(self) -> str:
        return self._settings.org_id if self._settings else ""

    def _build_client(self, settings: Settings) -> HumanitecClient:
        from . import __version__
        from .api import HumanitecClient

        try:
            return HumanitecClient(
                settings.api_prefix,
                settings.org_id,
                settings.token,
                verify_tls=settings.verify_tls,
                timeout=settings.timeout,
                app_version=__version__,
            )
        except ValueError as exc:
            raise DiagnosticError("Invalid Provider Configuration", f"{exc}.") from None
