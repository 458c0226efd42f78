"""The events webhooks can be triggered by, with the payload variables each provides.

From Humanitec's "Webhooks" page: every event offers the common variables, environment
events add the environment's name and type, deployment events add the deployment's ids,
comment and status. In a payload they are written ``${name}`` (``$${name}`` in HCL).
"""

from __future__ import annotations

from provider.api.models import EventResponse

__all__ = ["COMMON_PROPERTIES", "EVENTS"]

COMMON_PROPERTIES = ("event", "triggered_at", "triggered_by", "org_id", "app_id", "env_id")
_ENVIRONMENT_PROPERTIES = (*COMMON_PROPERTIES, "name", "type")
_DEPLOYMENT_PROPERTIES = (
    *COMMON_PROPERTIES,
    "deploy_id",
    "delta_id",
    "set_id",
    "comment",
    "status",
)

EVENTS: tuple[EventResponse, ...] = (
    EventResponse(scope="environment", type="created", properties=list(_ENVIRONMENT_PROPERTIES)),
    EventResponse(scope="environment", type="deleted", properties=list(_ENVIRONMENT_PROPERTIES)),
    EventResponse(scope="deployment", type="started", properties=list(_DEPLOYMENT_PROPERTIES)),
    EventResponse(scope="deployment", type="finished", properties=list(_DEPLOYMENT_PROPERTIES)),
)
"""What ``GET /orgs/{org}/events`` returns, in this order."""
