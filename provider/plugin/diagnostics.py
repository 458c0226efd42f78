"""Diagnostics: the errors and warnings a provider reports to Terraform.

Terraform shows a diagnostic as a titled box under the attribute it points at,
so every diagnostic carries a short Title-Case ``summary``, a ``detail``
sentence that says what to do, and where it helps an attribute ``path``.

Exceptions never cross the wire: the servicer turns any exception into an
error diagnostic. Code that wants to stop at once with a diagnostic raises
:class:`DiagnosticError`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "SET_ELEMENT",
    "AttributePath",
    "Diagnostic",
    "DiagnosticError",
    "Diagnostics",
    "MapKey",
    "SetElement",
    "Severity",
    "format_path",
]


@dataclass(frozen=True)
class MapKey:
    """A step into a map element by its key (not an attribute name)."""

    key: str


@dataclass(frozen=True)
class SetElement:
    """A step into a set element, which Terraform's protocol cannot address.

    Terraform names a set element by its whole value, and tfplugin6's path has
    no step for that: on the wire the path stops at the set (as in
    terraform-plugin-go), and people read it as ``triggers[*]``.
    """


SET_ELEMENT = SetElement()

PathStep = str | int | MapKey | SetElement
"""An attribute name (``str``), a list index (``int``), a map key (:class:`MapKey`)
or a set element (:data:`SET_ELEMENT`)."""

AttributePath = tuple[PathStep, ...]


class Severity(enum.IntEnum):
    """Values match ``tfplugin6.Diagnostic.Severity``."""

    ERROR = 1
    WARNING = 2


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning, optionally attached to an attribute."""

    severity: Severity
    summary: str
    detail: str = ""
    path: AttributePath | None = None


class Diagnostics:
    """An ordered collection of diagnostics, filled in by an RPC as it goes."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def error(self, summary: str, detail: str = "", path: AttributePath | None = None) -> None:
        self._items.append(Diagnostic(Severity.ERROR, summary, detail, path))

    def warning(self, summary: str, detail: str = "", path: AttributePath | None = None) -> None:
        self._items.append(Diagnostic(Severity.WARNING, summary, detail, path))

    def extend(self, other: Diagnostics | list[Diagnostic]) -> None:
        self._items.extend(other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self._items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Diagnostics({self._items!r})"


class DiagnosticError(Exception):
    """Raised to abort an operation with one error diagnostic."""

    def __init__(self, summary: str, detail: str = "", path: AttributePath | None = None) -> None:
        super().__init__(f"{summary}: {detail}" if detail else summary)
        self.diagnostic = Diagnostic(Severity.ERROR, summary, detail, path)


def format_path(path: AttributePath) -> str:
    """Render a path the way Terraform users read it, e.g. ``triggers[0].scope``."""
    out = ""
    for step in path:
        if isinstance(step, MapKey):
            out += f'["{step.key}"]'
        elif isinstance(step, SetElement):
            out += "[*]"
        elif isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out
