"""What an installed launcher runs: the provider, served as Terraform asked.

The launcher Terraform executes imports this module and calls :func:`main`.
It is the one seam between "a launch" and "a provider process": a launch by
Terraform first tries the warm process (:mod:`provider.warm`), which serves
it from a fork that already holds every import, and otherwise serves
in-process. Only ``os``, ``sys`` and go-plugin's cookie are imported before that choice.
"""

from __future__ import annotations

import os
import sys

from provider.plugin.cookie import launched_by_terraform

__all__ = ["main", "serve_in_process", "warm_wanted"]


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
        and launched_by_terraform(environ)
        and environ.get("HUMANITEC_PROVIDER_WARM", "1") != "0"
        and sys.platform == "linux"
    )
