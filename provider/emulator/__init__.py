"""A local Humanitec webhook API (real HTTP server) for tests, the demo and offline use.

Besides the webhook endpoints it serves environments and deployments, whose changes fire
events, and delivers them to the webhooks (``delivery.py``). It reuses
``provider.api.models`` so emulator and client cannot drift apart, reads the event
catalogue ``provider.events``, and never imports the Terraform side.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provider.emulator.app import create_app
    from provider.emulator.delivery import DeliverySettings, Dispatcher
    from provider.emulator.server import BackgroundServer, EmulatorServer
    from provider.emulator.store import Application, WebhookStore

__all__ = [
    "Application",
    "BackgroundServer",
    "DeliverySettings",
    "Dispatcher",
    "EmulatorServer",
    "WebhookStore",
    "create_app",
]

_HOMES = {
    "Application": "store",
    "BackgroundServer": "server",
    "DeliverySettings": "delivery",
    "Dispatcher": "delivery",
    "EmulatorServer": "server",
    "WebhookStore": "store",
    "create_app": "app",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use, so ``humanitec-emulator env|deploy|deliveries`` (which import
    # a submodule, and so this package) start without Starlette, uvicorn and pydantic.
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
