"""What an installed launcher runs: the provider, served as Terraform asked.

The launcher Terraform executes imports this module and calls :func:`main`.
It is the one seam between "a launch" and "a provider process": a launch by
Terraform first tries the warm process (:mod:`provider.warm`), which serves
it from a fork that already holds every import, and otherwise serves
in-process. Only ``os`` and ``sys`` are imported before that choice.
"""

from __future__ import annotations

import os
import sys

__all__ = ["MAGIC_COOKIE_KEY", "MAGIC_COOKIE_VALUE", "main", "serve_in_process", "warm_wanted"]

# As provider.plugin.serve's (a test holds them equal); that module imports grpc.
MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def main() -> int:
    """Serve (or explain) exactly as the ``terraform-provider-humanitec`` command."""
    if warm_wanted(os.environ, sys.argv):
        from provider.warm.client import serve_warm

        status = serve_warm()
        if status is not None:
            return status
    return serve_in_process()


def serve_in_process() -> int:
    """Today's path: import the provider here and serve (never returns when serving)."""
    from provider.cli import main as cli_main

    return cli_main()


def warm_wanted(environ: os._Environ[str] | dict[str, str], argv: list[str]) -> bool:
    """Terraform started us (no arguments, its cookie), on Linux, and warm start is not off."""
    return (
        len(argv) <= 1
        and environ.get(MAGIC_COOKIE_KEY) == MAGIC_COOKIE_VALUE
        and environ.get("HUMANITEC_PROVIDER_WARM", "1") != "0"
        and sys.platform == "linux"
    )
