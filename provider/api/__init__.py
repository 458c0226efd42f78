"""Humanitec API client: knows HTTP and Humanitec, nothing of Terraform.

Import cost (httpx, pydantic) is paid here, so the Terraform side imports this package
only when an RPC needs the API.
"""

import sys

# httpx's __init__ imports its command-line client (click, pygments) whenever click is
# installed, as it is beside uvicorn: about a third of httpx's import time and 2 MiB, paid
# by the first API call of every provider process. A None entry makes that import fail,
# and httpx then defines a stub ``httpx.main`` instead; nothing here runs httpx's CLI.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from provider.api.client import HumanitecClient, user_agent
from provider.api.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    HumanitecError,
    NotFound,
    TransportError,
    Unauthorized,
)
from provider.api.models import (
    ApplicationResponse,
    DeploymentRequest,
    DeploymentResponse,
    EnvironmentBaseResponse,
    EnvironmentDefinitionRequest,
    EnvironmentResponse,
    EventBaseRequest,
    EventBaseResponse,
    EventResponse,
    HumanitecErrorResponse,
    JsonObject,
    WebhookRequest,
    WebhookResponse,
    WebhookUpdateResponse,
    webhook_request_body,
)

__all__ = [
    "ApiError",
    "ApplicationResponse",
    "BadRequest",
    "Conflict",
    "DeploymentRequest",
    "DeploymentResponse",
    "EnvironmentBaseResponse",
    "EnvironmentDefinitionRequest",
    "EnvironmentResponse",
    "EventBaseRequest",
    "EventBaseResponse",
    "EventResponse",
    "Forbidden",
    "HumanitecClient",
    "HumanitecError",
    "HumanitecErrorResponse",
    "JsonObject",
    "NotFound",
    "TransportError",
    "Unauthorized",
    "WebhookRequest",
    "WebhookResponse",
    "WebhookUpdateResponse",
    "user_agent",
    "webhook_request_body",
]
