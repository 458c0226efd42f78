"""What every emulator route shares: path parameters, JSON bodies, error bodies, timestamps.

Errors raised here (``RequestError``) and the store's ``StoreError`` become a
``HumanitecErrorResponse`` through the app's exception handlers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote

import pydantic
from starlette.requests import Request
from starlette.responses import JSONResponse

from provider.api.models import HumanitecErrorResponse

__all__ = [
    "MAX_BODY_BYTES",
    "RequestError",
    "error_response",
    "json_object",
    "json_response",
    "param",
    "parse",
    "timestamp",
]

MAX_BODY_BYTES = 1024 * 1024

_Model = TypeVar("_Model", bound=pydantic.BaseModel)


class RequestError(Exception):
    """A request the API refuses, with its status code and a message for the client."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def param(request: Request, name: str) -> str:
    """A path parameter, decoded (routing runs on the still-encoded path)."""
    return unquote(request.path_params[name])


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 413 past ``MAX_BODY_BYTES``, 400 when not an object."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise RequestError(413, f"Request body exceeds {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except ValueError as error:  # also UnicodeDecodeError
        raise RequestError(400, f"Request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise RequestError(400, "Request body must be a JSON object")
    return data


def parse(model: type[_Model], data: dict[str, Any]) -> _Model:
    """``data`` validated as ``model``; a mismatch is a 400 naming each bad field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise RequestError(400, _describe(error)) from None


def timestamp(moment: datetime) -> str:
    """The API's date-time format: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def json_response(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code)


def error_response(status_code: int, message: str, *, code: str | None = None) -> JSONResponse:
    body = HumanitecErrorResponse(error=code or f"API-{status_code}", message=message)
    return json_response(body.model_dump(mode="json", exclude_none=True), status_code)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _describe(error: pydantic.ValidationError) -> str:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"]
        )
        problems.append(f"{where.lstrip('.') or 'body'}: {item['msg']}")
    return "Invalid request body: " + "; ".join(problems)
