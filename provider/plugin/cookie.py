"""go-plugin's magic cookie: how a process knows Terraform started it.

Its own module, importing only ``os``, so a launcher can ask before it imports the
provider (``serve`` imports it from here).
"""

from __future__ import annotations

import os
from _collections_abc import Mapping  # what collections.abc re-exports; os loaded it already

__all__ = ["MAGIC_COOKIE_KEY", "MAGIC_COOKIE_VALUE", "launched_by_terraform"]

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def launched_by_terraform(environ: Mapping[str, str] = os.environ) -> bool:
    """True when Terraform (go-plugin) started this process."""
    return environ.get(MAGIC_COOKIE_KEY) == MAGIC_COOKIE_VALUE
