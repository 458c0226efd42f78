"""The launcher's side of warm start: hand this launch to the warm process, or say it cannot.

:func:`serve_warm` returns the exit code to leave with once a warm child has served the
launch, or None when the launch must serve in-process (no warm process, a broken or stale
one, another user's, a timeout); in that case nothing has been written to stdout, and a
warm process is started in the background when none was there.

Cheap by design (``_socket`` and ``_signal`` are C modules; ``socket`` and ``signal``
would import ``enum``): the launch budget is ~35 ms and the interpreter takes ~10 of it.
"""

from __future__ import annotations

import _socket
import os
import sys
import time

from .protocol import (
    IDLE_ENV,
    RequestError,
    encode_request,
    ensure_private_dir,
    installation_key,
    runtime_dir,
    server_paths,
)

TYPE_CHECKING = False  # typing itself costs a launch ~2 ms; mypy reads the name alone
if TYPE_CHECKING:  # the same names; signal itself imports enum
    import signal as _signal
else:
    import _signal

__all__ = ["serve_warm", "start_server"]

START_TIMEOUT = 2.0
"""Seconds to wait for the child's ``started``; past it the launch serves in-process."""
_STATUS_TIMEOUT = 5.0  # after the child is gone, for the warm process to say how it ended
_FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
_SERVER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
_BOOT = (
    "import sys; sys.path[:] = sys.argv[4:]; from provider.warm.server import main; "
    "main(sys.argv[1], sys.argv[2], float(sys.argv[3]))"
)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def serve_warm(environ: os._Environ[str] = os.environ) -> int | None:
    """Serve this launch through the warm process; None: serve in-process instead."""
    directory = runtime_dir(environ)
    if not ensure_private_dir(directory):
        _log(environ, "warm start off: the socket directory is not a private one of ours")
        return None
    key = installation_key(_PACKAGE_DIR, sys.path)
    socket_path = server_paths(directory, key)[0]
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.settimeout(START_TIMEOUT)
        try:
            conn.connect(socket_path)
        except (FileNotFoundError, ConnectionRefusedError):
            started = start_server(directory, key, environ)
            _log(
                environ,
                "no warm process yet; " + ("starting one" if started else "one is starting"),
            )
            return None
        if peer_uid(conn) != os.getuid():
            _log(environ, "warm start refused: the socket's owner is another user")
            return None
        return _hand_over(conn, key, environ)
    except OSError as exc:
        _log(environ, f"warm start failed ({exc}); serving in-process")
        return None
    finally:
        conn.close()


def peer_uid(conn: _socket.socket) -> int:
    """The uid of the process at the other end of a unix socket (``SO_PEERCRED``)."""
    creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # pid, uid, gid
    return int.from_bytes(creds[4:8], sys.byteorder)


def _hand_over(conn: _socket.socket, key: str, environ: os._Environ[str]) -> int | None:
    """Ask for a child; give it stdin, stdout and stderr only once it is there and ours.

    The stdio descriptors never travel to the warm process itself: a hung one would hold
    them in its socket queue, and Terraform waits for its pipes to close.
    """
    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        try:
            request = encode_request(
                key, os.getcwdb(), umask, [os.fsencode(a) for a in sys.argv], dict(os.environb)
            )
        except RequestError:
            return None
        _send_with_fds(conn, request, [theirs.fileno()])
        theirs.close()
        ours.settimeout(START_TIMEOUT)
        started = _read_line(ours)
        if not started.startswith(b"started ") or not started[8:].isdigit():
            _log(environ, f"warm process did not start a child ({_answer(conn)}); in-process")
            return None
        child, server = int(started[8:]), peer_pid(conn)
        pidfd = os.pidfd_open(child)
        if _parent(child) != server:
            _log(environ, f"warm start refused: {child} is no child of {server}; in-process")
            os.close(pidfd)
            return None
        _log(environ, f"served by warm process {server}, child {child}", level="info")
        _send_with_fds(ours, b"go\n", [0, 1, 2])  # from here on the child serves: no way back
        try:
            _forward_signals(pidfd)
            return _exit_code(conn, ours)
        except OSError as exc:  # never None now: the launch must not be served twice
            os.write(2, f"terraform-provider-humanitec: lost the warm child: {exc}\n".encode())
            return 1
    finally:
        theirs.close()
        ours.close()


def _send_with_fds(conn: _socket.socket, data: bytes, fds: list[int]) -> None:
    rights = b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)
    sent = conn.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
    if sent < len(data):
        conn.sendall(data[sent:])


def peer_pid(conn: _socket.socket) -> int:
    creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[:4], sys.byteorder)


def _parent(pid: int) -> int:
    """The parent of ``pid`` (from /proc), or -1."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _forward_signals(pidfd: int) -> None:
    """Terraform signals the launcher (its pid is the one it knows); the child gets them."""

    def forward(signum: int, _frame: object) -> None:
        try:  # noqa: SIM105 - contextlib costs a launch milliseconds
            _signal.pidfd_send_signal(pidfd, signum)
        except OSError:  # the child is gone already; its exit status is on its way
            pass

    for signum in _FORWARDED:
        _signal.signal(signum, forward)


def _exit_code(conn: _socket.socket, ours: _socket.socket) -> int:
    """Wait for the child's end; a killed child is mirrored by dying of the same signal.

    The child holds the other end of ``ours`` until it exits; the warm process then reports
    how it ended on ``conn``.
    """
    ours.settimeout(None)
    _read_line(ours)
    conn.settimeout(_STATUS_TIMEOUT)
    verb, _, number = _read_line(conn).partition(b" ")
    if verb == b"exit" and number.isdigit():
        return int(number)
    if verb == b"signal" and number.isdigit():
        signum = int(number)
        _signal.signal(signum, _signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum  # the signal was blocked or ignored: the shell's convention
    os.write(2, b"terraform-provider-humanitec: the warm process did not report how it ended\n")
    return 1


def _read_line(conn: _socket.socket) -> bytes:
    """One line (without its newline), or what came before EOF or a timeout."""
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = conn.recv(256)
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data.rstrip(b"\n")


def _answer(conn: _socket.socket) -> str:
    conn.settimeout(0.05)
    return _read_line(conn).decode(errors="replace") or "no answer"


def start_server(directory: str, key: str, environ: os._Environ[str] | dict[str, str]) -> bool:
    """Start the warm process for ``key`` in the background; False if one is starting already.

    The lock the warm process holds for its lifetime tells a starting one from none; a race
    between two launches only costs the loser's server a quick exit. The server gets a
    session of its own, /dev/null for stdin, a private log for stdout and stderr, and only
    the environment it needs: none of the launcher's pipes, terminal or secrets.
    """
    import fcntl

    _, lock_path, log_path = server_paths(directory, key)
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(lock)
    idle = environ.get(IDLE_ENV, "")
    try:
        float(idle)
    except ValueError:
        idle = "300"
    env = {name: environ[name] for name in _SERVER_ENV if name in environ}
    os.posix_spawn(
        sys.executable,
        [sys.executable, "-I", "-S", "-c", _BOOT, directory, key, idle, *sys.path],
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
        setsigmask=(),
        setsigdef=_FORWARDED,
    )
    return True


def _log(environ: os._Environ[str] | dict[str, str], message: str, *, level: str = "debug") -> None:
    """One go-plugin JSON log line on stderr, if Terraform asked for this level.

    The ``logging``/``json``/``datetime`` stack would cost more than the whole warm path.
    """
    raw = (environ.get("TF_LOG_PROVIDER") or environ.get("TF_LOG") or "WARN").strip().upper()
    # As provider.plugin.log.level_from_env: unknown names mean debug.
    shown = {"INFO": ("info",), "WARN": (), "ERROR": (), "OFF": ()}.get(raw, ("debug", "info"))
    if level not in shown:
        return
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"
    text = message.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    os.write(
        2,
        (
            f'{{"@level": "{level}", "@message": "{text}", "@module": "provider.warm", '
            f'"@timestamp": "{stamp}+00:00"}}\n'
        ).encode(),
    )
