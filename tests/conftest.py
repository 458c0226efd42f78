"""Session-wide: every warm process a test starts lives in this session's own directory.

A launch finds its warm process under ``$XDG_RUNTIME_DIR`` (see provider/warm/protocol.py).
Every test environment is built from ``os.environ`` (Terraform's, the launcher's), so pointing
it at a fresh directory here keeps the tests' warm processes away from the user's, and lets
the session stop all of them at its end. ``tempfile`` rather than ``tmp_path``: a unix socket's
path must stay under 108 bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.warm import stop_warm_processes

_RUNTIME_DIR = "XDG_RUNTIME_DIR"
_session: dict[str, str | None] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _session["previous"] = os.environ.get(_RUNTIME_DIR)
    directory = tempfile.mkdtemp(prefix="tph-run-")
    _session["directory"] = directory
    os.environ[_RUNTIME_DIR] = directory


def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = _session.get("directory")
    if directory is None:
        return
    stop_warm_processes(Path(directory))
    shutil.rmtree(directory, ignore_errors=True)
    previous = _session.get("previous")
    if previous is None:
        os.environ.pop(_RUNTIME_DIR, None)
    else:
        os.environ[_RUNTIME_DIR] = previous
