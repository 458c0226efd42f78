"""A local Humanitec webhook API (real HTTP server) for tests, the demo and offline use.

It reuses ``provider.api.models`` so emulator and client cannot drift apart, and never
imports the Terraform side. Its server stack (Starlette, uvicorn) is the ``emulator``
extra, so the names below load on first use: ``humanitec-emulator`` can then say the
extra is missing instead of failing on import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provider.emulator.app import create_app
    from provider.emulator.server import BackgroundServer, EmulatorServer
    from provider.emulator.store import Application, WebhookStore

__all__ = ["Application", "BackgroundServer", "EmulatorServer", "WebhookStore", "create_app"]

_HOME = {
    "create_app": "provider.emulator.app",
    "BackgroundServer": "provider.emulator.server",
    "EmulatorServer": "provider.emulator.server",
    "Application": "provider.emulator.store",
    "WebhookStore": "provider.emulator.store",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOME[name]), name)
