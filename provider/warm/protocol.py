"""What the launcher and the warm process agree on: where, which installation, what is sent.

Imported by every launch on its way to the warm process, so it uses only modules that are
already loaded or are C extensions (``os``, ``sys``, ``_blake2``): ``socket``, ``signal``,
``json`` or ``hashlib`` would each add milliseconds to a path whose whole budget is ~35 ms.

The request a launcher sends (one message, its fds attached as ``SCM_RIGHTS``)::

    b"HPW1" + len(body) (4 bytes, little endian) + body
    body = key NUL cwd NUL umask NUL argc NUL argv... NUL env-entry...  (all bytes)

with one descriptor: one end of a socket pair between the launcher and the child. On it the
child says ``started PID``, the launcher answers ``go`` with its stdin, stdout and stderr
attached (so they never sit in the warm process's queue), and the child keeps it until it
exits. The warm process answers on the request's own connection with one line, ``exit N``
or ``signal N`` once the child is gone, or ``error WHAT`` (then closes) when it will not.
"""

from __future__ import annotations

import os
import sys

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds without it use OpenSSL's
    from hashlib import blake2b

from provider import DISTRIBUTION

__all__ = [
    "DIR_ENV",
    "IDLE_ENV",
    "MAGIC",
    "SWITCH_ENV",
    "Request",
    "RequestError",
    "decode_request",
    "encode_request",
    "ensure_private_dir",
    "installation_key",
    "runtime_dir",
    "server_paths",
]

SWITCH_ENV = "HUMANITEC_PROVIDER_WARM"
"""``0`` switches warm start off: every launch serves in-process, and none starts a server."""
DIR_ENV = "HUMANITEC_PROVIDER_WARM_DIR"
"""Overrides the directory holding the socket (it must be ours and 0700; it is created)."""
IDLE_ENV = "HUMANITEC_PROVIDER_WARM_IDLE"
"""Seconds a warm process stays without a launch before it exits (default 300)."""
DEFAULT_IDLE_SECONDS = 300.0
MAGIC = b"HPW1"
FDS_PER_REQUEST = 1  # the child's end of a socket pair to the launcher
MAX_REQUEST_BYTES = 4 << 20  # Linux caps argv + environment at 2 MiB plus a little
_DIR_NAME = "terraform-provider-humanitec"
_KEY_BYTES = 12  # 24 hex digits in the socket's name: unix socket paths hold 107 bytes
_KEY_SUFFIXES = (".py", ".so", ".pyd")


class RequestError(ValueError):
    """A request that is not ours, or is malformed."""


class Request:
    """A launch, as the warm process receives it (the descriptors travel separately).

    A plain class: ``dataclasses`` would pull ``inspect`` into every launch.
    """

    __slots__ = ("argv", "cwd", "environ", "key", "umask")

    def __init__(
        self, key: str, cwd: bytes, umask: int, argv: list[bytes], environ: dict[bytes, bytes]
    ) -> None:
        self.key = key
        self.cwd = cwd
        self.umask = umask
        self.argv = argv
        self.environ = environ


def runtime_dir(environ: os._Environ[str] | dict[str, str]) -> str:
    """Where the sockets live: the override, else ``$XDG_RUNTIME_DIR/…``, else ``/tmp/…-UID``."""
    override = environ.get(DIR_ENV)
    if override:
        return override
    xdg = environ.get("XDG_RUNTIME_DIR", "")
    if xdg.startswith("/"):
        return f"{xdg}/{_DIR_NAME}"
    return f"/tmp/{_DIR_NAME}-{os.getuid()}"  # noqa: S108 - checked: ours, a directory, 0700


def ensure_private_dir(path: str) -> bool:
    """Create ``path`` (0700) if missing; True only if it is a real directory of ours, 0700.

    A directory someone else made first (in ``/tmp``, say), a symlink, or one others can
    read or write means no warm start at all, never a shared socket.
    """
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    is_dir = (info.st_mode & 0o170000) == 0o040000
    return is_dir and info.st_uid == os.getuid() and info.st_mode & 0o077 == 0


def server_paths(directory: str, key: str) -> tuple[str, str, str]:
    """The socket, lock and log file of the warm process for installation ``key``."""
    stem = f"{directory}/{key}"
    return f"{stem}.sock", f"{stem}.lock", f"{stem}.log"


def installation_key(package_dir: str, path: list[str], executable: str = sys.executable) -> str:
    """A digest of what a launch would run: change any of it and the key changes.

    Covers the provider's version (by what defines it: :func:`_version_sources`), the
    Python (its path, version and binary), every entry of
    ``sys.path`` (a directory's mtime moves when a package is installed in it; not the one
    holding ``provider``, whose own files count instead) and the name, size, mtime and
    inode of each file of the ``provider`` package. ~0.3 ms: stats only.
    """
    checkout = os.path.dirname(package_dir)  # its own mtime moves with every file made there
    parts = [*_version_sources(path, checkout), sys.version, executable, _stamp(executable)]
    parts += [f"{entry}={_stamp(entry) if entry != checkout else ''}" for entry in path]
    parts += _package_stamps(package_dir)
    return blake2b("\0".join(parts).encode(), digest_size=_KEY_BYTES).hexdigest()


def _version_sources(path: list[str], checkout: str) -> list[str]:
    """What the version is read from, without reading it: ``provider.__version__`` costs
    ~10 ms of ``importlib.metadata`` imports, a third of the launcher's budget.

    The installed distribution's ``*.dist-info`` names (they carry the version, and a
    reinstall replaces them) and the stamp of the checkout's ``pyproject.toml`` (where the
    version is written; an edit moves its mtime).
    """
    prefix = DISTRIBUTION.replace("-", "_") + "-"
    sources = [f"pyproject={_stamp(checkout + '/pyproject.toml')}"]
    for entry in path:
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        sources += [n for n in names if n.startswith(prefix) and n.endswith(".dist-info")]
    return sources


def _stamp(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_mtime_ns}:{info.st_size}:{info.st_ino}"


def _package_stamps(directory: str) -> list[str]:
    stamps: list[str] = []  # not the directories' own mtimes: writing __pycache__ moves them
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return stamps
    for entry in entries:
        if entry.name == "__pycache__":
            continue
        if entry.is_dir(follow_symlinks=False):
            stamps += _package_stamps(entry.path)
        elif entry.name.endswith(_KEY_SUFFIXES):
            stamps.append(f"{entry.path}={_stamp(entry.path)}")
    return stamps


def encode_request(
    key: str, cwd: bytes, umask: int, argv: list[bytes], environ: dict[bytes, bytes]
) -> bytes:
    """The request's bytes, header included."""
    fields = [key.encode(), cwd, b"%d" % umask, b"%d" % len(argv), *argv]
    fields += [name + b"=" + value for name, value in environ.items()]
    if any(b"\0" in field for field in fields):
        raise RequestError("a field holds a NUL byte")
    body = b"\0".join(fields)
    return MAGIC + len(body).to_bytes(4, "little") + body


def body_length(header: bytes) -> int:
    """The body's length from the 8-byte header; RequestError if it is not ours."""
    if len(header) != 8 or header[:4] != MAGIC:
        raise RequestError("not a warm-start request")
    length = int.from_bytes(header[4:], "little")
    if length > MAX_REQUEST_BYTES:
        raise RequestError(f"request too large ({length} bytes)")
    return length


def decode_request(body: bytes) -> Request:
    """Parse a request body (the bytes after the header)."""
    fields = body.split(b"\0")
    try:
        key, cwd, umask, argc = fields[0].decode("ascii"), fields[1], int(fields[2]), int(fields[3])
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"malformed request: {exc}") from None
    if argc < 0 or len(fields) < 4 + argc or not 0 <= umask <= 0o777:
        raise RequestError("malformed request: bad counts")
    argv = fields[4 : 4 + argc]
    environ: dict[bytes, bytes] = {}
    for entry in fields[4 + argc :]:
        name, sep, value = entry.partition(b"=")
        if not sep or not name:
            raise RequestError("malformed request: an environment entry without a name")
        environ[name] = value
    return Request(key, cwd, umask, argv, environ)
