"""The emulator's own controls, which Humanitec's API does not have.

Shared by the server and the ``humanitec-emulator`` commands; standard library only,
so the commands start without loading the server.
"""

from __future__ import annotations

__all__ = ["DEFAULT_DEPLOY_DURATION", "DELIVERIES_PATH", "OUTCOMES", "OUTCOME_HEADER"]

DEFAULT_DEPLOY_DURATION = 2.0
"""Seconds a deployment stays ``in progress`` unless ``--deploy-duration`` says otherwise."""

OUTCOME_HEADER = "X-Emulator-Deployment-Status"
"""On ``POST …/deploys``: the status the deployment ends in, ``succeeded`` (default) or
``failed``. A header, so the request body stays exactly the API's."""

OUTCOMES = ("succeeded", "failed")

DELIVERIES_PATH = "/_emulator/deliveries"
"""``GET``: the delivery log (``?wait=SECONDS`` first waits for the work under way)."""
