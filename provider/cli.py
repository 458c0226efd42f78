"""The ``terraform-provider-humanitec`` command.

Started by Terraform (no arguments, go-plugin's magic cookie set) it serves
the plugin protocol. Run by hand it explains itself, serves in reattach mode
with ``--debug``, or installs itself into a filesystem mirror with
``install --mirror DIR``.

Start-up is on Terraform's critical path (3-5 launches per command), so this
module imports nothing heavy: the serving path loads grpc, protobuf and our
stubs only; argparse and the rest load for the manual commands.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plugin.resource import Provider

__all__ = ["main"]

PROVIDER_ADDRESS = "registry.terraform.io/humanitec/humanitec"

_NOT_A_COMMAND = """\
terraform-provider-humanitec is a Terraform provider plugin: Terraform starts it, not you.

To let Terraform find it, either install it into Terraform's implied local mirror
(~/.terraform.d/plugins, no CLI configuration needed) or another one (--mirror DIR):

    terraform-provider-humanitec install

or run it in debug mode and attach Terraform to it:

    terraform-provider-humanitec --debug

See terraform-provider-humanitec --help.
"""


def _make_provider() -> Provider:
    from .provider import HumanitecProvider

    return HumanitecProvider()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        from .plugin.serve import launched_by_terraform, serve

        if launched_by_terraform():
            serve(_make_provider)
        sys.stderr.write(_NOT_A_COMMAND)
        return 1
    return _manual(args)


def _manual(args: list[str]) -> int:
    import argparse

    from . import __version__
    from .install import IMPLIED_MIRROR

    parser = argparse.ArgumentParser(
        prog="terraform-provider-humanitec",
        description="Terraform provider for Humanitec webhooks (plugin protocol 6).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="serve in reattach mode and print the TF_REATTACH_PROVIDERS value to use",
    )
    parser.add_argument(
        "--address",
        default=PROVIDER_ADDRESS,
        help=f"provider source address for --debug (default: {PROVIDER_ADDRESS})",
    )
    commands = parser.add_subparsers(dest="command")
    install = commands.add_parser(
        "install", help="write the provider into a Terraform filesystem mirror"
    )
    install.add_argument(
        "--mirror",
        default=IMPLIED_MIRROR,
        help="mirror directory, created if missing (default: Terraform's implied local "
        f"mirror {IMPLIED_MIRROR}, which needs no CLI configuration)",
    )
    install.add_argument(
        "--source",
        default=PROVIDER_ADDRESS,
        help=f"provider source address (default: {PROVIDER_ADDRESS})",
    )
    install.add_argument(
        "--version",
        dest="provider_version",
        default=__version__,
        help=f"version to install as (default: {__version__})",
    )
    options = parser.parse_args(args)
    if options.command == "install":
        if getattr(sys, "frozen", False):
            parser.exit(
                2,
                "terraform-provider-humanitec install: this is a release build; Terraform "
                "installs its zip from a mirror or registry (see the README). `install` is "
                "for the pip-installed package.\n",
            )
        from .install import InstallError, install_into_mirror

        try:
            result = install_into_mirror(
                options.mirror, source=options.source, version=options.provider_version
            )
        except InstallError as exc:
            parser.exit(2, f"terraform-provider-humanitec install: {exc}\n")
        sys.stdout.write(result.instructions())
        return 0
    if options.debug:
        from .plugin.serve import serve_debug

        return serve_debug(_make_provider, options.address)
    sys.stderr.write(_NOT_A_COMMAND)
    return 1


if __name__ == "__main__":
    sys.exit(main())
