"""``terraform-provider-humanitec install``: put the provider into a filesystem mirror.

Terraform finds providers offline in a filesystem mirror laid out as
``HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/terraform-provider-TYPE_vVERSION``.
We write a small launcher there that runs *this* installation's Python with
``-I``: isolated from the ``PYTHON*`` variables and user site-packages that
Terraform passes down from the user's shell, so the provider that runs is
the one that was installed. It also passes ``-S`` and lists the directories
``site`` would have added: processing ``.pth`` files (an editable install's
finder among them) costs ~20 ms, paid on each of Terraform's 3-5 launches.

The launcher is a ``/bin/sh`` script that is also a Python script. ``sh``
checks that the interpreter still exists (a ``#!`` naming a deleted
virtualenv makes Terraform report "no such file or directory" about the
launcher itself), says how to reinstall if not, and otherwise ``exec``-s
Python on the same file, for ~1 ms.

The lock file hash (``h1:``) Terraform records covers only the launcher, so
re-run ``terraform init -upgrade`` after re-installing.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "IMPLIED_MIRROR",
    "InstallError",
    "InstallResult",
    "install_into_mirror",
    "parse_source",
]

DEFAULT_HOST = "registry.terraform.io"
IMPLIED_MIRROR = "~/.terraform.d/plugins"
"""Terraform's implied local mirror on Linux and macOS: searched with no CLI configuration."""
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class InstallError(Exception):
    """The mirror cannot be written as asked."""


@dataclass(frozen=True)
class InstallResult:
    """Where the launcher went, and how to point Terraform at it."""

    mirror: Path
    source: str
    version: str
    launcher: Path

    def cli_config(self) -> str:
        """The CLI configuration block that makes Terraform install from the mirror."""
        return (
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f'    path    = "{self.mirror}"\n'
            f'    include = ["{self.source}"]\n'
            "  }\n"
            "  direct {\n"
            f'    exclude = ["{self.source}"]\n'
            "  }\n"
            "}\n"
        )

    @property
    def implied(self) -> bool:
        """Whether the mirror is Terraform's implied local mirror (no CLI config needed)."""
        return self.mirror == Path(IMPLIED_MIRROR).expanduser().resolve()

    def instructions(self) -> str:
        if self.implied:
            return (
                f"Installed {self.source} {self.version} at {self.launcher}\n\n"
                "This is Terraform's implied local mirror: with no provider_installation\n"
                "block in your CLI configuration, `terraform init` finds it as is.\n"
            )
        return (
            f"Installed {self.source} {self.version} at {self.launcher}\n\n"
            "Add this to your Terraform CLI configuration (~/.terraformrc, or the file\n"
            "named by TF_CLI_CONFIG_FILE), then run `terraform init`:\n\n"
            f"{self.cli_config()}"
        )


def parse_source(source: str) -> tuple[str, str, str]:
    """``[HOST/]NAMESPACE/TYPE`` -> (host, namespace, type), as Terraform reads it."""
    parts = source.strip().split("/")
    if len(parts) == 2:
        parts.insert(0, DEFAULT_HOST)
    if len(parts) != 3 or not all(parts):
        raise InstallError(f"invalid provider source {source!r}: expected [HOST/]NAMESPACE/TYPE")
    host, namespace, type_name = (p.lower() for p in parts)
    if type_name != "humanitec":
        raise InstallError(
            f"invalid provider source {source!r}: the type must be 'humanitec', because "
            "Terraform matches resource names like humanitec_webhook to it"
        )
    return host, namespace, type_name


def platform_dir() -> str:
    """Terraform's OS_ARCH name for this machine, e.g. ``linux_amd64``."""
    machine = platform.machine().lower()
    return f"{sys.platform.removesuffix('2').lower()}_{_ARCH.get(machine, machine)}"


def install_into_mirror(
    mirror: str | os.PathLike[str], *, source: str, version: str
) -> InstallResult:
    """Write the launcher into ``mirror`` (unpacked layout) and return where it went."""
    host, namespace, type_name = parse_source(source)
    if not version or not version[0].isdigit():
        raise InstallError(f"invalid version {version!r}: expected e.g. 1.2.3")
    root = Path(mirror).expanduser().resolve()
    package_dir = root / host / namespace / type_name / version / platform_dir()
    launcher = package_dir / f"terraform-provider-{type_name}_v{version}"
    result = InstallResult(root, f"{host}/{namespace}/{type_name}", version, launcher)
    source_text = _launcher_source(result)
    package_dir.mkdir(parents=True, exist_ok=True)
    launcher.write_text(source_text, encoding="utf-8")
    launcher.chmod(0o755)
    return result


def _launcher_source(installed: InstallResult) -> str:
    return f"{_shell_part(installed)}\n" + (
        "import sys\n\n"
        f"sys.path[:0] = {_import_paths()!r}\n\n"
        "from provider.launch import main\n\n"
        "sys.exit(main())\n"
    )


def _shell_part(installed: InstallResult) -> str:
    """Check the interpreter, then exec it on this file; to Python, a string.

    sh reads the opening quotes as the no-op ``:`` and execs before it
    reaches the closing ones.
    """
    python = sys.executable
    reinstall = (
        f"terraform-provider-humanitec install --mirror {shlex.quote(str(installed.mirror))} "
        f"--source {installed.source} --version {installed.version}"
    )
    gone = [
        f"terraform-provider-humanitec: the Python at {python} is gone "
        "(was its virtualenv moved or deleted?).",
        "Install the project again (e.g. pip install . in a virtualenv), then run:",
        f"    {reinstall}",
        "    terraform init -upgrade",
    ]
    body = (
        "# Written by `terraform-provider-humanitec install`; Terraform runs it.\n"
        f"python={shlex.quote(python)}\n"
        'if [ ! -f "$python" ] || [ ! -x "$python" ]; then\n'
        f"  printf '%s\\n' {' '.join(shlex.quote(line) for line in gone)} >&2\n"
        "  exit 127\n"
        "fi\n"
        'exec "$python" -IS "$0" "$@"\n'
    )
    # shlex.quote never writes three quotes in a row, so the string cannot end
    # early; a backslash could start an escape Python refuses (\N, \x).
    if "\\" in body.replace("'%s\\n'", ""):
        raise InstallError(
            f"cannot write a launcher when the Python ({python}) or the mirror path has a backslash"
        )
    quotes = "'" * 3
    return f"#!/bin/sh\n{quotes}:'\n{body}{quotes}\n"


def _import_paths() -> list[str]:
    """Where this installation finds ``provider`` and its dependencies."""
    import sysconfig

    import provider

    candidates = [
        Path(provider.__file__).resolve().parent.parent,  # the checkout, for an editable install
        Path(sysconfig.get_paths()["purelib"]),
        Path(sysconfig.get_paths()["platlib"]),
    ]
    return list(dict.fromkeys(str(p) for p in candidates))
