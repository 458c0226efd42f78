"""Tests for provider.install: the filesystem-mirror layout, the launcher, and the command."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from provider import __version__
from provider.install import (
    HOME_VARIABLE,
    InstallError,
    install_into_mirror,
    parse_source,
    platform_dir,
)
from provider.plugin.serve import MAGIC_COOKIE_KEY

PROVIDER = str(Path(sys.executable).parent / "terraform-provider-humanitec")
TIMEOUT = 30


def without_cookie() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != MAGIC_COOKIE_KEY}


@pytest.mark.parametrize(
    ("source", "expected_dir"),
    [
        ("humanitec/humanitec", "registry.terraform.io/humanitec/humanitec"),
        ("example.com/acme/humanitec", "example.com/acme/humanitec"),
        ("Example.COM/Acme/Humanitec", "example.com/acme/humanitec"),
    ],
    ids=["default-host", "explicit-host", "lower-cased"],
)
def test_install_writes_the_unpacked_mirror_layout(
    tmp_path: Path, source: str, expected_dir: str
) -> None:
    result = install_into_mirror(tmp_path / "mirror", source=source, version="1.2.3")
    expected = (
        tmp_path
        / "mirror"
        / expected_dir
        / "1.2.3"
        / platform_dir()
        / "terraform-provider-humanitec_v1.2.3"
    )
    assert result.launcher == expected.resolve()
    assert result.launcher.is_file()
    assert result.source == expected_dir
    assert result.mirror == (tmp_path / "mirror").resolve()
    assert [p.name for p in result.launcher.parent.iterdir()] == [result.launcher.name]


def test_launcher_runs_the_recorded_python_isolated(tmp_path: Path) -> None:
    result = install_into_mirror(tmp_path, source="humanitec/humanitec", version="0.1.0")
    assert os.access(result.launcher, os.X_OK)
    lines = result.launcher.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/bin/sh"
    # -I: no PYTHON* variables or user site from Terraform's environment; -S: no .pth scan.
    assert '  exec "$python" -IS "$home/launch.py" "$@"' in lines
    assert result.home == Path(os.environ[HOME_VARIABLE]) / "0.1.0"
    assert (result.home / "python").read_text(encoding="utf-8") == sys.executable + "\n"
    assert result.launch_script.read_text(encoding="utf-8").endswith(
        "from provider.launch import main\n\nsys.exit(main())\n"
    )


def test_launchers_are_byte_identical_across_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two virtualenvs, mirrors and users: the same launcher, so the same lock-file hash."""
    launchers = []
    for machine in ("one", "two"):
        monkeypatch.setenv(HOME_VARIABLE, str(tmp_path / machine / "home"))
        monkeypatch.setattr(sys, "executable", str(tmp_path / machine / "venv/bin/python"))
        result = install_into_mirror(
            tmp_path / machine / "mirror", source="humanitec/humanitec", version="1.2.3"
        )
        launchers.append(result.launcher.read_bytes())
        assert str(tmp_path) not in result.launcher.read_text(encoding="utf-8")
        assert f"{tmp_path / machine}/venv/bin/python" in result.launch_script.read_text(
            encoding="utf-8"
        )
    assert launchers[0] == launchers[1]


def test_launcher_passes_arguments_to_the_provider(tmp_path: Path) -> None:
    mirror = tmp_path / "a mirror's $HOME"
    result = install_into_mirror(mirror, source="acme/humanitec", version="0.1.0")
    done = subprocess.run(
        [str(result.launcher), "--version"],
        env=without_cookie(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"terraform-provider-humanitec {__version__}\n"


def run_launcher(launcher: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(launcher)],
        env=env or without_cookie(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("state", ["missing", "not-executable"])
def test_launcher_says_when_its_python_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    python = tmp_path / "old venv '''$(x)\\N" / "bin" / "python"  # quotes and escapes
    if state == "not-executable":
        python.parent.mkdir(parents=True)
        python.write_text("", encoding="utf-8")
    monkeypatch.setattr(sys, "executable", str(python))
    mirror = tmp_path / "the mirror's dir"
    result = install_into_mirror(mirror, source="humanitec/humanitec", version="1.2.3")
    compile(result.launch_script.read_text(encoding="utf-8"), str(result.launch_script), "exec")
    returncode, stdout, stderr = run_launcher(result.launcher)
    assert (returncode, stdout) == (127, "")
    lines = stderr.splitlines()
    assert lines[0] == (
        f"terraform-provider-humanitec: the Python at {python} is gone "
        "(was its virtualenv moved or deleted?)."
    )
    reinstall = (
        f"terraform-provider-humanitec install --mirror {shlex.quote(str(mirror.resolve()))} "
        "--source registry.terraform.io/humanitec/humanitec --version 1.2.3"
    )
    assert lines[1:] == [
        "Install the project again (e.g. pip install . in a virtualenv), then run:",
        f"    {reinstall}",
    ]


def test_launcher_says_when_no_python_is_recorded(tmp_path: Path) -> None:
    """Another user, or another HOME: the launcher is there, the record is not."""
    result = install_into_mirror(tmp_path, source="acme/humanitec", version="1.2.3")
    elsewhere = tmp_path / "another user"
    env = {**without_cookie(), HOME_VARIABLE: str(elsewhere)}
    returncode, stdout, stderr = run_launcher(result.launcher, env)
    assert (returncode, stdout) == (127, "")
    assert stderr.splitlines() == [
        f"terraform-provider-humanitec 1.2.3: no Python is recorded for it in {elsewhere}/1.2.3 "
        "(installed by another user, or with another HOME?).",
        "Install the project (e.g. pip install . in a virtualenv), then run:",
        "    terraform-provider-humanitec install --source registry.terraform.io/acme/humanitec "
        "--version 1.2.3 [--mirror DIR]",
    ]


def test_install_refuses_a_python_path_with_a_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "x\ny" / "python"))
    with pytest.raises(InstallError, match="cannot record the Python"):
        install_into_mirror(tmp_path / "mirror", source="humanitec/humanitec", version="0.1.0")
    assert not (tmp_path / "mirror").exists()


def test_launch_script_finds_the_provider_without_site(tmp_path: Path) -> None:
    result = install_into_mirror(tmp_path, source="humanitec/humanitec", version="0.1.0")
    source = result.launch_script.read_text(encoding="utf-8").replace("sys.exit(main())", "")
    probe = (
        source + "import grpc, httpx, pydantic, provider.plugin.serve\nprint(sys.flags.no_site)\n"
    )
    script = tmp_path / "probe.py"
    script.write_text(probe, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-IS", str(script)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "1"


def test_reinstall_overwrites_the_launcher(tmp_path: Path) -> None:
    first = install_into_mirror(tmp_path, source="humanitec/humanitec", version="0.1.0")
    first.launcher.write_text("stale", encoding="utf-8")
    second = install_into_mirror(tmp_path, source="humanitec/humanitec", version="0.1.0")
    assert second.launcher == first.launcher
    assert second.launcher.read_text(encoding="utf-8").startswith("#!")


def test_platform_dir_is_terraform_os_arch() -> None:
    assert re.fullmatch(r"[a-z]+_[a-z0-9]+", platform_dir())
    assert platform_dir().startswith(sys.platform.removesuffix("2") + "_")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("humanitec/humanitec", ("registry.terraform.io", "humanitec", "humanitec")),
        ("acme/humanitec", ("registry.terraform.io", "acme", "humanitec")),
        ("example.com/acme/humanitec", ("example.com", "acme", "humanitec")),
        ("  acme/humanitec\n", ("registry.terraform.io", "acme", "humanitec")),
    ],
    ids=["ns-type", "other-namespace", "host-ns-type", "surrounding-space"],
)
def test_parse_source_accepts_terraform_source_addresses(
    source: str, expected: tuple[str, str, str]
) -> None:
    assert parse_source(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("humanitec", "expected [HOST/]NAMESPACE/TYPE"),
        ("a.example/b/c/humanitec", "expected [HOST/]NAMESPACE/TYPE"),
        ("", "expected [HOST/]NAMESPACE/TYPE"),
        ("/humanitec", "expected [HOST/]NAMESPACE/TYPE"),
        ("example.com//humanitec", "expected [HOST/]NAMESPACE/TYPE"),
        ("humanitec/webhook", "the type must be 'humanitec'"),
        ("example.com/humanitec/aws", "the type must be 'humanitec'"),
    ],
    ids=["one-part", "four-parts", "empty", "empty-namespace", "empty-middle", "type", "host-type"],
)
def test_parse_source_rejects_other_shapes_and_types(source: str, message: str) -> None:
    with pytest.raises(InstallError, match=re.escape(message)):
        parse_source(source)


@pytest.mark.parametrize("version", ["", "v1.2.3", "latest"], ids=["empty", "v-prefix", "word"])
def test_invalid_version_is_rejected_before_writing(tmp_path: Path, version: str) -> None:
    with pytest.raises(InstallError, match="invalid version"):
        install_into_mirror(tmp_path / "mirror", source="humanitec/humanitec", version=version)
    assert not (tmp_path / "mirror").exists()


def test_cli_config_points_terraform_at_the_mirror(tmp_path: Path) -> None:
    result = install_into_mirror(tmp_path, source="humanitec/humanitec", version="0.1.0")
    source = "registry.terraform.io/humanitec/humanitec"
    assert result.cli_config() == (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{tmp_path.resolve()}"\n'
        f'    include = ["{source}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{source}"]\n'
        "  }\n"
        "}\n"
    )
    assert result.cli_config() in result.instructions()


def test_launcher_run_by_hand_explains_itself_and_exits_1(tmp_path: Path) -> None:
    result = install_into_mirror(tmp_path, source="humanitec/humanitec", version="0.1.0")
    proc = subprocess.run(
        [str(result.launcher)],
        env=without_cookie(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 1
    assert "is a Terraform provider plugin: Terraform starts it, not you." in proc.stderr
    assert proc.stdout == ""


def test_install_command_prints_instructions(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    proc = subprocess.run(
        [PROVIDER, "install", "--mirror", str(mirror), "--version", "2.0.0"],
        env=without_cookie(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    launcher = (
        mirror.resolve()
        / "registry.terraform.io/humanitec/humanitec/2.0.0"
        / platform_dir()
        / "terraform-provider-humanitec_v2.0.0"
    )
    assert f"Installed registry.terraform.io/humanitec/humanitec 2.0.0 at {launcher}" in proc.stdout
    assert f'path    = "{mirror.resolve()}"' in proc.stdout
    assert launcher.is_file()


def test_install_command_with_bad_source_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [PROVIDER, "install", "--mirror", str(tmp_path), "--source", "acme/webhook"],
        env=without_cookie(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 2
    assert "terraform-provider-humanitec install: invalid provider source 'acme/webhook'" in (
        proc.stderr
    )
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_install_defaults_to_the_implied_local_mirror(tmp_path: Path) -> None:
    """Terraform searches ~/.terraform.d/plugins with no CLI configuration at all."""
    proc = subprocess.run(
        [PROVIDER, "install"],
        env={**without_cookie(), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    launcher = (
        tmp_path.resolve()
        / ".terraform.d/plugins/registry.terraform.io/humanitec/humanitec"
        / __version__
        / platform_dir()
        / f"terraform-provider-humanitec_v{__version__}"
    )
    assert launcher.is_file()
    assert "implied local mirror" in proc.stdout
    assert "provider_installation" in proc.stdout  # named, but not as a block to add
    assert "filesystem_mirror" not in proc.stdout
