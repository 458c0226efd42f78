"""A local Humanitec webhook API (real HTTP server) for tests, the demo and offline use.

It reuses ``provider.api.models`` so emulator and client cannot drift apart, and never
imports the Terraform side.
"""

from provider.emulator.app import create_app
from provider.emulator.server import BackgroundServer, EmulatorServer
from provider.emulator.store import Application, WebhookStore

__all__ = ["Application", "BackgroundServer", "EmulatorServer", "WebhookStore", "create_app"]
