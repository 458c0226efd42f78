"""A local Humanitec webhook API (real HTTP server) for tests, the demo and offline use.

Besides the webhook endpoints it serves environments and deployments, whose changes fire
events, and delivers them to the webhooks (``delivery.py``). It reuses
``provider.api.models`` so emulator and client cannot drift apart, reads the event
catalogue ``provider.events``, and never imports the Terraform side.
"""

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
