"""Humanitec API client: knows HTTP and Humanitec, nothing of Terraform.

Import cost (httpx, pydantic) is paid here, so the Terraform side imports this package
only when an RPC needs the API.
"""

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
