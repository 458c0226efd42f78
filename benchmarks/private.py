"""A benchmark's own installation: nothing written to, or left running in, the user's home.

``install`` records its Python under ``TERRAFORM_PROVIDER_HUMANITEC_HOME`` and warm processes
listen under ``HUMANITEC_PROVIDER_WARM_DIR``; both point into the benchmark's temp dir (set in
``os.environ``, which Terraform and the launchers inherit), and every warm process started
there is stopped on the way out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from provider.install import HOME_VARIABLE
from provider.warm.protocol import DIR_ENV
from tests.warm import stop_warm_processes

__all__ = ["private_installation"]


@contextmanager
def private_installation(root: Path) -> Iterator[Path]:
    """Point installations and warm processes into ``root``; yield the warm directory."""
    warm_dir = root / "warm"  # short: a unix socket's path holds 107 bytes
    saved = {name: os.environ.get(name) for name in (HOME_VARIABLE, DIR_ENV)}
    os.environ[HOME_VARIABLE] = str(root / "installations")
    os.environ[DIR_ENV] = str(warm_dir)
    try:
        yield warm_dir
    finally:
        stop_warm_processes(warm_dir)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
