"""``terraform-provider-humanitec install``: put the provider into a filesystem mirror.

Terraform finds providers offline in a filesystem mirror laid out as
``HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/terraform-provider-TYPE_vVERSION``.
A team commits ``.terraform.lock.hcl``, whose ``h1:`` hash covers that
directory, so what we write there is the same bytes on every machine for a
given source and version: a ``/bin/sh`` launcher naming no path of this machine.

What is machine-specific lives outside the mirror, in a per-user directory
(``$XDG_DATA_HOME/terraform-provider-humanitec/VERSION``, by default under
``~/.local/share``; ``TERRAFORM_PROVIDER_HUMANITEC_HOME`` overrides the part
before ``VERSION``):

- ``python``: the interpreter of this installation;
- ``launch.py``: sets ``sys.path`` to this installation's import paths and
  calls :func:`provider.launch.main`;
- ``reinstall``: the command that wrote them, for the message below.

The launcher reads ``python`` with sh's ``read`` (no process), checks the
interpreter still exists (otherwise it says so and names the reinstall command,
instead of Terraform's "no such file or directory" about a file that exists),
and ``exec``-s it with ``-IS`` on ``launch.py``. ``-I`` isolates the provider
from the ``PYTHON*`` variables and user site-packages Terraform passes down
from the user's shell; ``-S`` skips ``site``, whose ``.pth`` processing (an
editable install's finder among them) costs ~20 ms on each of Terraform's 3-5
launches, since ``launch.py`` lists the directories ``site`` would have added.

One installation per user and version: installing the same version again,
from another virtualenv, re-points every launcher of that version to it.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HOME_VARIABLE",
    "IMPLIED_MIRROR",
    "InstallError",
    "InstallResult",
    "install_into_mirror",
    "installation_home",
    "parse_source",
]

DEFAULT_HOST = "registry.terraform.io"
IMPLIED_MIRROR = "~/.terraform.d/plugins"
"""Terraform's implied local mirror on Linux and macOS: searched with no CLI configuration."""
HOME_VARIABLE = "TERRAFORM_PROVIDER_HUMANITEC_HOME"
"""Where installations are recorded, if set (default: under ``$XDG_DATA_HOME``)."""
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_PART = re.compile(r"[a-z0-9][a-z0-9._:-]*")
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+-]*")


class InstallError(Exception):
    """The mirror cannot be written as asked."""


@dataclass(frozen=True)
class InstallResult:
    """Where the launcher went, where its Python is recorded, and how to point Terraform at it."""

    mirror: Path
    source: str
    version: str
    launcher: Path
    home: Path

    @property
    def launch_script(self) -> Path:
        """The machine-specific script the launcher runs with the recorded Python."""
        return self.home / "launch.py"

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
        installed = (
            f"Installed {self.source} {self.version} at {self.launcher}\n"
            "(the same bytes on every machine; this machine's Python is recorded in\n"
            f"{self.home})\n\n"
        )
        if self.implied:
            return installed + (
                "This is Terraform's implied local mirror: with no provider_installation\n"
                "block in your CLI configuration, `terraform init` finds it as is.\n"
            )
        return installed + (
            "Add this to your Terraform CLI configuration (~/.terraformrc, or the file\n"
            "named by TF_CLI_CONFIG_FILE), then run `terraform init`:\n\n"
            f"{self.cli_config()}"
        )


def parse_source(source: str) -> tuple[str, str, str]:
    """``[HOST/]NAMESPACE/TYPE`` -> (host, namespace, type), as Terraform reads it."""
    parts = source.strip().split("/")
    if len(parts) == 2:
        parts.insert(0, DEFAULT_HOST)
    if len(parts) != 3 or not all(_PART.fullmatch(p.lower()) for p in parts):
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


def installation_home(version: str) -> Path:
    """The per-user directory recording which Python runs ``version``'s launchers.

    Computed exactly as the launcher's ``sh`` does, from the same variables.
    """
    root = os.environ.get(HOME_VARIABLE) or (
        f"{os.environ.get('XDG_DATA_HOME') or os.path.expanduser('~/.local/share')}"
        "/terraform-provider-humanitec"
    )
    if not os.path.isabs(root):
        raise InstallError(f"{HOME_VARIABLE} or XDG_DATA_HOME must be absolute, not {root!r}")
    return Path(root) / version


def install_into_mirror(
    mirror: str | os.PathLike[str], *, source: str, version: str
) -> InstallResult:
    """Write the launcher into ``mirror`` (unpacked layout), record this Python for it."""
    host, namespace, type_name = parse_source(source)
    if not _VERSION.fullmatch(version):
        raise InstallError(f"invalid version {version!r}: expected e.g. 1.2.3")
    python = sys.executable
    if not python or "\n" in python:
        raise InstallError(f"cannot record the Python {python!r}: no path, or a newline in it")
    root = Path(mirror).expanduser().resolve()
    home = installation_home(version)
    package_dir = root / host / namespace / type_name / version / platform_dir()
    launcher = package_dir / f"terraform-provider-{type_name}_v{version}"
    result = InstallResult(root, f"{host}/{namespace}/{type_name}", version, launcher, home)
    reinstall = (
        f"terraform-provider-humanitec install --mirror {shlex.quote(str(root))} "
        f"--source {result.source} --version {version}"
    )
    home.mkdir(parents=True, exist_ok=True)
    # launch.py before python: a launcher that finds the Python finds its script too.
    _write(result.launch_script, _launch_script(python))
    _write(home / "reinstall", reinstall + "\n")
    _write(home / "python", python + "\n")
    package_dir.mkdir(parents=True, exist_ok=True)
    _write(launcher, launcher_text(result.source, version))
    launcher.chmod(0o755)
    return result


def _write(path: Path, text: str) -> None:
    """Replace ``path`` at once, so a launch never reads half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def launcher_text(source: str, version: str) -> str:
    """The launcher: a function of the source and version alone, so its hash is portable."""
    command = "terraform-provider-humanitec"
    home = f'"${{{HOME_VARIABLE}:-${{XDG_DATA_HOME:-$HOME/.local/share}}/{command}}}/{version}"'
    return (
        "#!/bin/sh\n"
        f"# {command} {version} ({source}), written by `{command} install`.\n"
        "# The same on every machine: the Python to run is recorded per user, in $home.\n"
        f"home={home}\n"
        "python=\n"
        'if [ -r "$home/python" ]; then IFS= read -r python < "$home/python"; fi\n'
        'if [ -n "$python" ] && [ -f "$python" ] && [ -x "$python" ] '
        '&& [ -r "$home/launch.py" ]; then\n'
        '  exec "$python" -IS "$home/launch.py" "$@"\n'
        "fi\n"
        'if [ -n "$python" ] && [ -r "$home/reinstall" ]; then\n'
        '  IFS= read -r reinstall < "$home/reinstall"\n'
        f"  printf '%s\\n' \"{command}: the Python at $python is gone "
        '(was its virtualenv moved or deleted?)." \\\n'
        '    "Install the project again (e.g. pip install . in a virtualenv), then run:" \\\n'
        '    "    $reinstall" >&2\n'
        "else\n"
        f"  printf '%s\\n' \"{command} {version}: no Python is recorded for it in $home "
        '(installed by another user, or with another HOME?)." \\\n'
        '    "Install the project (e.g. pip install . in a virtualenv), then run:" \\\n'
        f'    "    {command} install --source {source} --version {version} [--mirror DIR]" >&2\n'
        "fi\n"
        "exit 127\n"
    )


def _launch_script(python: str) -> str:
    return (
        f"# Written by `terraform-provider-humanitec install` for {python}.\n"
        "import sys\n\n"
        f"sys.path[:0] = {_import_paths()!r}\n\n"
        "from provider.launch import main\n\n"
        "sys.exit(main())\n"
    )


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
