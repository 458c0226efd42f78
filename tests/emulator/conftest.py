from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from provider.emulator import DeliverySettings, EmulatorServer

TOKEN = "emulator-test-token"
USER = "user-1234"
CREATED_AT = datetime(2020, 6, 22, 9, 37, 23, 523_999, tzinfo=UTC)
DEPLOY_DURATION = 0.05
FAST = DeliverySettings(attempts=3, timeout=2.0, backoff=0.01, max_backoff=0.05)
"""Delivery settings that keep retry tests quick."""


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(
        token=TOKEN,
        user_id=USER,
        clock=lambda: CREATED_AT,
        delivery=FAST,
        deploy_duration=DEPLOY_DURATION,
    ) as server:
        yield server


@pytest.fixture
def org(emulator: EmulatorServer) -> str:
    """A fresh organisation with apps "app" and "other" so tests never see each other."""
    org_id = f"org-{uuid.uuid4().hex[:10]}"
    emulator.store.ensure_app(org_id, "app")
    emulator.store.ensure_app(org_id, "other")
    return org_id


@pytest.fixture(scope="session")
def http(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """A plain client carrying the right token: the emulator is tested at the HTTP level."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=emulator.url, headers=headers, trust_env=False) as client:
        yield client


@pytest.fixture(scope="session")
def anonymous(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """A client without credentials."""
    with httpx.Client(base_url=emulator.url, trust_env=False) as client:
        yield client
