"""Fixtures for every test: installations are recorded in the session's temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from provider.install import HOME_VARIABLE


@pytest.fixture(scope="session", autouse=True)
def installation_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``install`` records its Python here, not in the real ~/.local/share.

    Set in os.environ, so Terraform and the launchers it starts (which inherit the
    test's environment) read the same place.
    """
    previous = os.environ.get(HOME_VARIABLE)
    home = str(tmp_path_factory.mktemp("installations"))
    os.environ[HOME_VARIABLE] = home
    yield home
    if previous is None:
        del os.environ[HOME_VARIABLE]
    else:
        os.environ[HOME_VARIABLE] = previous
