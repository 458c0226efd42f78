"""Warm start's fine logic: the request format, the installation key, the directory, the peer.

The behaviour (a real warm process, real launches, real Terraform) is in tests/e2e/test_warm.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provider import launch
from provider.install import _import_paths
from provider.plugin.cookie import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE
from provider.warm.protocol import (
    DIR_ENV,
    RequestError,
    body_length,
    decode_request,
    encode_request,
    ensure_private_dir,
    installation_key,
    runtime_dir,
)
from provider.warm.server import peer_allowed

COOKIE = {MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE}


@pytest.mark.parametrize(
    ("environ", "argv", "wanted"),
    [
        (COOKIE, ["launcher"], True),
        ({**COOKIE, "HUMANITEC_PROVIDER_WARM": "1"}, ["launcher"], True),
        ({**COOKIE, "HUMANITEC_PROVIDER_WARM": "0"}, ["launcher"], False),
        ({}, ["launcher"], False),
        ({MAGIC_COOKIE_KEY: "wrong"}, ["launcher"], False),
        (COOKIE, ["launcher", "--debug"], False),
    ],
    ids=["terraform", "on", "switched-off", "by-hand", "bad-cookie", "arguments"],
)
def test_only_terraforms_launches_go_warm(
    environ: dict[str, str], argv: list[str], wanted: bool
) -> None:
    assert launch.warm_wanted(environ, argv) is wanted


def test_a_request_survives_the_round_trip() -> None:
    environ = {b"HUMANITEC_TOKEN": b"s=e=cret", b"EMPTY": b"", b"LATIN1": b"\xe9t\xe9"}
    argv = [b"/path/terraform-provider-humanitec_v0.1.0", b"\xff"]
    raw = encode_request("k" * 24, b"/work/dir", 0o027, argv, environ)
    length = body_length(raw[:8])
    assert length == len(raw) - 8
    request = decode_request(raw[8:])
    assert (request.key, request.cwd, request.umask) == ("k" * 24, b"/work/dir", 0o027)
    assert request.argv == argv
    assert request.environ == environ


@pytest.mark.parametrize(
    "header",
    [b"HTTP/1.1", b"HPW1", b"HPW1" + (64 << 20).to_bytes(4, "little")],
    ids=["not-ours", "short", "too-large"],
)
def test_a_header_that_is_not_a_request_is_refused(header: bytes) -> None:
    with pytest.raises(RequestError):
        body_length(header)


@pytest.mark.parametrize(
    "body",
    [b"", b"key\0/cwd\0not-a-number\x000", b"key\0/cwd\x0018\x005", b"key\0/\x0018\x000\0=x"],
    ids=["empty", "bad-umask", "argv-short", "nameless-env"],
)
def test_a_malformed_body_is_refused(body: bytes) -> None:
    with pytest.raises(RequestError):
        decode_request(body)


def test_a_nul_in_the_environment_cannot_be_sent() -> None:
    with pytest.raises(RequestError):
        encode_request("k", b"/", 0o22, [], {b"A": b"x\0y"})


def make_package(root: Path) -> Path:
    package = root / "provider"
    (package / "plugin").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "plugin" / "serve.py").write_text("x = 1\n", encoding="utf-8")
    return package


def test_the_key_is_stable_until_a_package_file_changes(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    path = [str(tmp_path)]
    key = installation_key(str(package), path)
    (package / "plugin" / "__pycache__").mkdir()  # what importing does: not a change
    (package / "plugin" / "__pycache__" / "serve.cpython-311.pyc").write_bytes(b"")
    assert installation_key(str(package), path) == key
    served = package / "plugin" / "serve.py"
    stat = served.stat()
    os.utime(served, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = installation_key(str(package), path)
    assert changed != key
    (package / "plugin" / "new.py").write_text("", encoding="utf-8")
    assert installation_key(str(package), path) != changed


def test_the_key_changes_when_a_path_entry_does(tmp_path: Path) -> None:
    package = make_package(tmp_path / "checkout")
    site = tmp_path / "site-packages"
    site.mkdir()
    path = [str(tmp_path / "checkout"), str(site)]
    key = installation_key(str(package), path)
    assert installation_key(str(package), path) == key
    (site / "grpcio-9.9.9.dist-info").mkdir()  # an upgrade moves the directory's mtime
    os.utime(site, ns=(0, time.time_ns() + 10**9))
    assert installation_key(str(package), path) != key
    assert installation_key(str(package), path, executable="/other/python") != key


def test_the_socket_directory_comes_from_the_override_then_xdg_then_tmp() -> None:
    uid = os.getuid()
    assert runtime_dir({DIR_ENV: "/x/y", "XDG_RUNTIME_DIR": "/run/u"}) == "/x/y"
    assert runtime_dir({"XDG_RUNTIME_DIR": "/run/u"}) == "/run/u/terraform-provider-humanitec"
    assert (
        runtime_dir({"XDG_RUNTIME_DIR": "relative"}) == f"/tmp/terraform-provider-humanitec-{uid}"
    )
    assert runtime_dir({}) == f"/tmp/terraform-provider-humanitec-{uid}"


def test_the_socket_directory_is_created_private(tmp_path: Path) -> None:
    directory = tmp_path / "warm"
    assert ensure_private_dir(str(directory))
    assert directory.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("kind", ["group-readable", "symlink", "file", "no-parent"])
def test_a_directory_others_could_use_means_no_warm_start(tmp_path: Path, kind: str) -> None:
    directory = tmp_path / "warm"
    if kind == "group-readable":
        directory.mkdir(mode=0o750)
        directory.chmod(0o750)
    elif kind == "symlink":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        directory.symlink_to(tmp_path / "elsewhere")
    elif kind == "file":
        directory.write_text("", encoding="utf-8")
    else:
        directory = tmp_path / "missing" / "warm"
    assert not ensure_private_dir(str(directory))


def test_the_peer_check_accepts_our_uid_only() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with ours, theirs:
        assert peer_allowed(ours)
        assert peer_allowed(ours, uid=os.getuid())
        assert not peer_allowed(ours, uid=os.getuid() + 1)


def test_the_launchers_road_to_the_warm_process_imports_no_heavy_module() -> None:
    """The launcher's budget is ~35 ms; socket, signal or json alone would each take 3-10."""
    script = (
        "import sys\n"
        f"sys.path[:0] = {_import_paths()!r}\n"
        "before = set(sys.modules)\n"
        "import provider.launch, provider.warm.client\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    assert {"provider.launch", "provider.warm.client", "_socket"} <= loaded
    heavy = {"socket", "signal", "enum", "json", "logging", "dataclasses", "typing", "grpc"}
    assert loaded & heavy == set()
