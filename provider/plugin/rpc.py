"""The one wrapper around every RPC: raw bytes in, raw bytes out, never a gRPC error.

Each wrapper parses the request bytes itself (so garbage on the wire becomes a
diagnostic, not a gRPC error) and turns every exception into an error
diagnostic: Terraform shows those to the user, where a gRPC error reads as a
crashed provider.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from google.protobuf.message import DecodeError, Message

from . import cty
from .convert import to_proto_diagnostics
from .diagnostics import DiagnosticError, Diagnostics

__all__ = [
    "StreamHandler",
    "UnaryHandler",
    "internal_error",
    "served",
    "stream_rpc",
    "unary_rpc",
]

logger = logging.getLogger("provider.plugin")

T = TypeVar("T")
Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
UnaryHandler = Callable[[bytes, Any], bytes]
StreamHandler = Callable[[bytes, Any], Iterator[bytes]]


def unary_rpc(
    request_type: type[Req], response_type: type[Resp], body: Callable[[Req, Diagnostics], Resp]
) -> UnaryHandler:
    """A handler for ``body``; its diagnostics, and any failure, go in the response's."""
    name = _rpc_name(request_type)

    def handle(raw: bytes, _context: Any) -> bytes:
        started = _clocks()
        diags = Diagnostics()
        response = response_type()
        type_name = ""
        try:
            request = request_type.FromString(raw)
            type_name = getattr(request, "type_name", "")
            response = body(request, diags)
        except Exception as exc:
            _report(diags, name, exc)
        response.diagnostics.extend(to_proto_diagnostics(diags))  # type: ignore[attr-defined]
        answer = response.SerializeToString()
        _log_rpc(name, type_name, started, len(diags))
        return answer

    return handle


def stream_rpc(
    request_type: type[Req],
    event_type: type[Resp],
    body: Callable[[Req], Iterable[Resp]],
    diagnostics_field: str = "diagnostics",
) -> StreamHandler:
    """A server-streaming handler for ``body``: a failure, even mid-stream, ends the
    stream with one more event holding it as a diagnostic."""
    name = _rpc_name(request_type)

    def handle(raw: bytes, _context: Any) -> Iterator[bytes]:
        started = _clocks()
        diags = Diagnostics()
        type_name = ""
        streamed = 0  # diagnostics the events themselves carried
        try:
            request = request_type.FromString(raw)
            type_name = getattr(request, "type_name", "")
            for event in body(request):
                streamed += len(getattr(event, diagnostics_field))
                yield event.SerializeToString()
        except Exception as exc:
            _report(diags, name, exc)
            event = event_type()
            getattr(event, diagnostics_field).extend(to_proto_diagnostics(diags))
            yield event.SerializeToString()
        _log_rpc(name, type_name, started, streamed + len(diags))

    return handle


def served(table: Mapping[str, T], type_name: str, kind: str) -> T:
    """The resource, data source or list resource (``kind``) a request names."""
    try:
        return table[type_name]
    except KeyError:
        raise DiagnosticError(
            f"Unknown {kind.title()} Type",
            f"This provider does not serve the {kind} type {type_name!r}.",
        ) from None


def internal_error(diags: Diagnostics, what: str, exc: Exception) -> None:
    logger.exception("%s failed", what)
    diags.error(
        "Internal Provider Error",
        f"{what} failed with {type(exc).__name__}: {exc}. "
        "This is likely a bug in the provider; please report it.",
    )


def _clocks() -> tuple[float, float]:
    """Wall and thread-CPU clocks at an RPC's start; the CPU clock (a system call, 0.5 µs)
    only when the RPC's line will be logged."""
    debug = logger.isEnabledFor(logging.DEBUG)
    return time.perf_counter(), time.thread_time() if debug else 0.0


def _log_rpc(name: str, type_name: str, started: tuple[float, float], diagnostics: int) -> None:
    """One line per RPC, so that TF_LOG=debug shows what the provider did: its wall time,
    and the CPU its thread spent in it (what ``benchmarks/rpc_breakdown.py`` adds up)."""
    if logger.isEnabledFor(logging.DEBUG):
        wall, cpu = time.perf_counter() - started[0], time.thread_time() - started[1]
        logger.debug(
            "%s%s: %.1f ms, %.2f ms CPU, %d diagnostics",
            *(name, f" {type_name}" if type_name else "", wall * 1000, cpu * 1000, diagnostics),
        )


def _rpc_name(request_type: type[Message]) -> str:
    return request_type.DESCRIPTOR.full_name.removesuffix(".Request").rsplit(".", 1)[-1]


def _report(diags: Diagnostics, name: str, exc: Exception) -> None:
    if isinstance(exc, DiagnosticError):
        diags.extend([exc.diagnostic])
    elif isinstance(exc, cty.CtyError):
        logger.debug("%s: undecodable value: %s", name, exc)
        diags.error(
            "Invalid Value From Terraform",
            f"The provider could not decode a value in the {name} request: {exc}. "
            "Please report this issue to the provider developers.",
        )
    elif isinstance(exc, DecodeError):
        diags.error(
            "Invalid Request", f"The {name} request was not a valid tfplugin6 message: {exc}."
        )
    else:
        internal_error(diags, name, exc)
