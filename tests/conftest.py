"""Session-wide isolation from the user's machine.

- Installations are recorded in the session's temp dir, not the real ~/.local/share.
- Every warm process a test starts lives in this session's own directory, and the
  session stops all of them at its end.

Both are set in ``os.environ``: every test environment is built from it (Terraform's,
the launchers' Terraform starts), so they all read the same places.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider.install import HOME_VARIABLE
from tests.warm import stop_warm_processes

_RUNTIME_DIR = "XDG_RUNTIME_DIR"
_session: dict[str, str | None] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    # A warm process's socket path must stay under 108 bytes: tempfile, not tmp_path.
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


@pytest.fixture(scope="session", autouse=True)
def installation_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``install`` records its Python here, not in the real ~/.local/share."""
    previous = os.environ.get(HOME_VARIABLE)
    home = str(tmp_path_factory.mktemp("installations"))
    os.environ[HOME_VARIABLE] = home
    yield home
    if previous is None:
        del os.environ[HOME_VARIABLE]
    else:
        os.environ[HOME_VARIABLE] = previous


@pytest.fixture
def warm_dir() -> Iterator[Path]:
    """A warm directory of the test's own (short: a socket path holds 107 bytes); every
    warm process in it is stopped afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="tphw-")) / "warm"
    yield directory
    stop_warm_processes(directory)
    shutil.rmtree(directory.parent, ignore_errors=True)
