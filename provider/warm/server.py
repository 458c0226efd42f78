"""The warm process: import everything once, then fork one child per launch.

Started by a launch that found none (:func:`provider.warm.client.start_server`), in a
session of its own, stdin on /dev/null and stdout/stderr on a private log next to its
socket. It

1. takes the installation's lock (one warm process per key), or exits;
2. checks that the installation key it was started for is still what is on disk;
3. imports protobuf, httpx, pydantic and the provider, builds a schema response and a
   TLS context once to warm the caches (:func:`preload`); grpcio is not imported, as
   the native server does not use it (a child that is asked for grpcio with
   ``HUMANITEC_PROVIDER_SERVER=grpcio`` imports it after the fork, as a cold launch does);
4. listens on ``KEY.sock`` in the 0700 directory (bound under a temporary name, chmod
   0600, then renamed into place), and serves launches one at a time:
   the peer's uid must be ours (``SO_PEERCRED``), the request's key must be ours;
5. prepares the next child's TLS certificate when nothing else happens (each is
   handed to exactly one child, then forgotten), so a child's handshake does not wait
   for the key generation;
6. reports each child's end on the launch's connection (``exit N`` / ``signal N``) and
   logs it with the child's CPU and peak RSS from ``wait4`` (a warm child is not its
   launcher's child: nothing else sees them);
7. stops accepting when idle for ``idle_seconds`` with no child alive, when its
   installation changed on disk, or on SIGTERM/SIGINT/SIGHUP, and exits once its
   children have: a child's parent check (see :func:`provider.plugin.serve.serve`)
   would otherwise end it.

It is one thread with one ``select`` loop: a fork copies only the calling thread, so a
fork server must never hold a lock in another.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import importlib
import os
import resource
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from provider.plugin._certificate import (
    forget_prepared_certificate,
    make_server_certificate,
    prepare_server_certificate,
)
from provider.plugin._tls_context import server_context

from .protocol import (
    FDS_PER_REQUEST,
    Request,
    RequestError,
    body_length,
    decode_request,
    ensure_private_dir,
    installation_key,
    server_paths,
)

__all__ = ["PRELOAD", "WarmServer", "main", "peer_allowed", "receive_request"]

PRELOAD = (
    "hpack",
    "msgpack",
    "yaml",
    "httpx",
    "pydantic",
    "provider.cli",
    "provider.plugin.serve",
    "provider.plugin.servicer",
    "provider.plugin._certificate",
    "provider.plugin._tls_context",
    "provider.plugin._native",
    "provider.plugin.genconfig",
    "provider.plugin.cty.msgpack_codec",
    "provider.plugin.cty.json_codec",
    "provider.provider",
    "provider.api",
    "provider.webhook",
    "provider.webhook_data",
    "provider.webhook_list",
    "provider.application_check",
    "provider.launch",
    "provider.warm.child",
)
"""What a launch may import: all of it is paid here, once."""
REQUEST_TIMEOUT = 2.0
_PREPARE_AFTER_SECONDS = 0.05
KEY_CHECK_SECONDS = 10.0
MIN_IDLE_SECONDS = 1.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(directory: str, key: str, idle_seconds: float) -> NoReturn:
    """Run the warm process for installation ``key``; never returns."""
    idle_seconds = max(idle_seconds, MIN_IDLE_SECONDS)
    os.closerange(3, 1 << 16)  # anything a launcher let through is not ours to hold
    try:  # reaping by pidfd needs Linux 5.3; without it, launches serve in-process
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError) as exc:
        _exit(f"no pidfd support: {exc}")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if not ensure_private_dir(directory):
        _exit(f"{directory} is not a private directory of ours")
    socket_path, lock_path, _ = server_paths(directory, key)
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os._exit(0)  # another launch started one first
    os.ftruncate(1, 0)  # this log is this process's
    os.ftruncate(lock, 0)
    os.write(lock, b"%d\n" % os.getpid())
    _log(f"warm process {os.getpid()} for {key}, idle timeout {idle_seconds:g} s")
    if installation_key(_PACKAGE_DIR, sys.path) != key:
        _exit("the installation changed before start-up", lock)
    started = time.monotonic()
    preload(directory)
    if installation_key(_PACKAGE_DIR, sys.path) != key:
        _exit("the installation changed during start-up", lock)
    threads = len(os.listdir("/proc/self/task"))  # C extensions' threads count too
    if threads != 1:  # a fork would copy locks held by the others
        _exit(f"{threads} threads after the imports; forking is not safe", lock)
    _log(f"imports done in {1000 * (time.monotonic() - started):.0f} ms")
    listener = _listen(socket_path)
    WarmServer(listener, socket_path, key, idle_seconds, lock).run()
    _exit("stopped", lock)


def preload(directory: str) -> None:
    """Import what any launch may need and warm what is lazily set up once per process.

    The schema caches and OpenSSL's own initialisation (a throwaway TLS server context as a
    launch makes one, with a throwaway key, its file in our private ``directory``). No thread
    survives it, and no server or channel is ever made here. grpcio's server and its TLS
    terminator (``HUMANITEC_PROVIDER_SERVER=grpcio``) are imported after the fork, by the
    children that want them.
    """
    for name in PRELOAD:
        importlib.import_module(name)
    from provider.plugin.servicer import ProviderServicer
    from provider.provider import HumanitecProvider

    ProviderServicer(HumanitecProvider()).handlers()["GetProviderSchema"](b"", None)
    certificate = make_server_certificate()
    server_context(certificate, certificate.cert_pem.decode(), Path(directory))


def _listen(socket_path: str) -> socket.socket:
    """Bind under a temporary name, make it ours only, then rename it into place atomically."""
    temporary = f"{socket_path}.{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    listener.bind(temporary)
    os.chmod(temporary, 0o600)
    listener.listen(64)
    listener.setblocking(False)
    os.rename(temporary, socket_path)
    return listener


def peer_allowed(conn: socket.socket, uid: int | None = None) -> bool:
    """Whether the process at the other end of ``conn`` runs as ``uid`` (default: ours)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    peer = int.from_bytes(creds[4:8], sys.byteorder)
    return peer == (os.getuid() if uid is None else uid)


def receive_request(conn: socket.socket) -> tuple[Request, list[int]]:
    """Read one request and its descriptors; on error none of them stays open."""
    fds: list[int] = []
    try:
        data, ancillary, flags, _ = conn.recvmsg(
            1 << 16, socket.CMSG_SPACE(FDS_PER_REQUEST * array.array("i").itemsize)
        )
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                received = array.array("i")
                received.frombytes(payload[: len(payload) - len(payload) % received.itemsize])
                fds += received
        if flags & socket.MSG_CTRUNC or len(fds) != FDS_PER_REQUEST:
            raise RequestError(f"expected {FDS_PER_REQUEST} descriptors, got {len(fds)}")
        data = _read_at_least(conn, data, 8)
        length = body_length(data[:8])
        data = _read_at_least(conn, data, 8 + length)
        return decode_request(data[8 : 8 + length]), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _read_at_least(conn: socket.socket, data: bytes, size: int) -> bytes:
    chunks = [data]
    have = len(data)
    while have < size:
        chunk = conn.recv(max(size - have, 1 << 16))
        if not chunk:
            raise RequestError("the launcher hung up mid-request")
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


class _Child:
    __slots__ = ("conn", "pidfd")

    def __init__(self, pidfd: int, conn: socket.socket) -> None:
        self.pidfd = pidfd
        self.conn = conn


class WarmServer:
    """The accept-fork-reap loop (see the module docstring)."""

    def __init__(
        self,
        listener: socket.socket,
        socket_path: str,
        key: str,
        idle_seconds: float,
        lock: int,
    ) -> None:
        self._listener: socket.socket | None = listener
        self._socket_path = socket_path
        self._socket_inode = os.stat(socket_path).st_ino
        self._key = key
        self._idle_seconds = idle_seconds
        self._lock = lock
        self._children: dict[int, _Child] = {}
        self._stop_requested = False
        self._certificate_ready = False
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        signal.set_wakeup_fd(self._wake_write.fileno(), warn_on_full_buffer=False)
        for signum in _STOP_SIGNALS:
            signal.signal(signum, self._request_stop)
        self._selector.register(listener, selectors.EVENT_READ, self._accept)
        self._selector.register(self._wake_read, selectors.EVENT_READ, self._drain_wakeups)

    def run(self) -> None:
        last_busy = time.monotonic()
        next_key_check = last_busy + KEY_CHECK_SECONDS
        while self._listener is not None or self._children:
            timeout = max(
                0.0, min(last_busy + self._idle_seconds, next_key_check) - time.monotonic()
            )
            if not self._certificate_ready:
                timeout = min(timeout, _PREPARE_AFTER_SECONDS)
            selected = self._selector.select(timeout if self._listener else None)
            for key, _ in selected:
                callback: Callable[[], None] = key.data
                try:
                    callback()
                except Exception as exc:  # a bad launch must not end the others' children
                    _log(f"error: {exc!r}")
            if not selected and not self._certificate_ready and self._listener is not None:
                prepare_server_certificate()  # in a quiet moment, not on a launch's clock
                self._certificate_ready = True
            now = time.monotonic()
            if self._children:
                last_busy = now
            if self._listener is None:
                continue
            if self._stop_requested:
                self._stop_listening("asked to stop")
            elif now - last_busy >= self._idle_seconds:
                self._stop_listening(f"idle for {self._idle_seconds:g} s")
            elif now >= next_key_check:
                next_key_check = now + KEY_CHECK_SECONDS
                if installation_key(_PACKAGE_DIR, sys.path) != self._key:
                    self._stop_listening("the installation changed")
        self._selector.close()

    def _request_stop(self, _signum: int, _frame: object) -> None:
        self._stop_requested = True

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_read.recv(256):
                pass
        except BlockingIOError:
            pass

    def _stop_listening(self, why: str) -> None:
        _log(f"{why}: no new launches; {len(self._children)} children to wait for")
        assert self._listener is not None
        try:
            if os.stat(self._socket_path).st_ino == self._socket_inode:
                os.unlink(self._socket_path)
        except FileNotFoundError:
            pass
        self._selector.unregister(self._listener)
        self._listener.close()
        self._listener = None

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, ConnectionAbortedError):
            return
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            if not peer_allowed(conn):
                _log("refused a connection from another user")
                conn.close()
                return
            request, fds = receive_request(conn)
        except (OSError, RequestError) as exc:
            _log(f"dropped a launch: {exc}")
            conn.close()
            return
        if request.key != self._key:
            _log("refused a launch of another installation")
            self._refuse(conn, fds, "key")
            return
        self._fork(conn, request, fds)

    def _refuse(self, conn: socket.socket, fds: list[int], why: str) -> None:
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            conn.sendall(f"error {why}\n".encode())
        conn.close()

    def _fork(self, conn: socket.socket, request: Request, fds: list[int]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            _log(f"fork failed: {exc}")
            self._refuse(conn, fds, "fork")
            return
        if pid == 0:
            try:
                from .child import run

                run(request, fds, self._descriptors(conn))
            finally:
                os._exit(1)  # never back into this loop: it is the warm process's
        for fd in fds:
            os.close(fd)
        forget_prepared_certificate()  # the child has it; no other process may
        self._certificate_ready = False
        pidfd = os.pidfd_open(pid)
        self._children[pid] = _Child(pidfd, conn)
        self._selector.register(pidfd, selectors.EVENT_READ, lambda: self._reap(pid))
        _log(f"child {pid} forked ({len(self._children)} running)")

    def _descriptors(self, conn: socket.socket) -> list[int]:
        """Every descriptor of ours a child must close: the others' connections among them."""
        assert self._listener is not None
        own = [
            self._listener.fileno(),
            self._wake_read.fileno(),
            self._wake_write.fileno(),
            self._lock,
            conn.fileno(),
        ]
        for child in self._children.values():
            own += [child.pidfd, child.conn.fileno()]
        selector_fd = getattr(self._selector, "fileno", lambda: -1)()
        return [*own, selector_fd] if selector_fd >= 0 else own

    def _reap(self, pid: int) -> None:
        child = self._children.pop(pid)
        self._selector.unregister(child.pidfd)
        os.close(child.pidfd)
        _, status, usage = os.wait4(pid, 0)
        if os.WIFSIGNALED(status):
            end = f"signal {os.WTERMSIG(status)}"
        else:
            end = f"exit {os.waitstatus_to_exitcode(status)}"
        _log(f"child {pid}: {end} ({_usage(usage)})")
        with contextlib.suppress(OSError):  # the launcher is gone, and Terraform with it
            child.conn.sendall(f"{end}\n".encode())
        child.conn.close()


def _usage(usage: resource.struct_rusage) -> str:
    """A reaped child's CPU and peak RSS, for the log: no launcher sees a warm child's."""
    return (
        f"cpu {usage.ru_utime:.3f} s user, {usage.ru_stime:.3f} s system; "
        f"max rss {usage.ru_maxrss / 1024:.1f} MiB"  # Linux counts ru_maxrss in KiB
    )


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    sys.stderr.write(f"{stamp} {message}\n")
    sys.stderr.flush()


def _exit(why: str, lock: int | None = None) -> NoReturn:
    _log(f"exiting: {why}")
    if lock is not None:
        os.ftruncate(lock, 0)  # no pid in it any more: nothing for `kill $(cat …)` to hit
    os._exit(0)
