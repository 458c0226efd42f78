"""What an installed launcher runs: the provider, served as Terraform asked.

The launcher Terraform executes imports this module and calls :func:`main`.
It is the one seam between "a launch" and "a provider process", so a faster
path to the same provider (a warm process, say) plugs in here without touching
the launcher's bytes.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> int:
    """Serve (or explain) exactly as the ``terraform-provider-humanitec`` command."""
    from provider.cli import main as cli_main

    return cli_main()
