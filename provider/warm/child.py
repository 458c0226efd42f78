"""A forked child of the warm process: become the launch, then serve it in-process.

Freshly forked, the child still is the warm process: its descriptors, signal handlers,
environment and working directory. Before it touches anything of the launch it

1. closes every descriptor of the warm process (the listener, the lock, the other
   launches' connections), so no session can reach another;
2. restores the signal dispositions of a fresh Python;
3. tells the launcher ``started PID`` and waits for ``go``, which brings the launcher's
   stdin, stdout and stderr: a launcher that gave up (a timeout) serves in-process
   instead, and this child leaves without a trace.

Then it takes the launch over: umask, working directory, the environment (replaced
whole: ``os.environ`` and the C environment), stdin/stdout/stderr (``dup2``, so the
handshake goes to Terraform's pipe and the logs to Terraform's stderr), ``sys.argv``,
the time zone and ``tempfile``'s cached directory; the logging configuration comes
from ``TF_LOG`` when the serve path sets it up, as in any launch. A thread watches the
socket pair: when the launcher dies, so does the child. It never returns into the
warm process's loop: every way out is ``os._exit``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from typing import NoReturn

from .protocol import Request

__all__ = ["GO_TIMEOUT", "run", "take_over"]

GO_TIMEOUT = 10.0
"""Seconds to wait for the launcher's ``go`` (it gives up after 2)."""
_RESET_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT)


def run(request: Request, fds: list[int], warm_descriptors: list[int]) -> NoReturn:
    """Serve the launch in ``request``; ``fds`` holds our end of the launcher's socket pair."""
    status = 1
    try:
        for fd in warm_descriptors:
            os.close(fd)
        _reset_signals()
        (control_fd,) = fds
        control = socket.socket(fileno=control_fd)
        control.settimeout(GO_TIMEOUT)
        control.sendall(b"started %d\n" % os.getpid())
        stdio = _receive_go(control)
        if stdio is None:
            os._exit(0)  # the launcher serves in-process, or is gone: do nothing at all
        control.settimeout(None)
        take_over(request, stdio)
        _exit_with_launcher(control)
        from provider.launch import serve_in_process

        status = serve_in_process()
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # exiting anyway; the status says it failed
                stream.flush()
        os._exit(status)


def take_over(request: Request, stdio: list[int]) -> None:
    """Become the launch: its umask, directory, environment, stdio, argv and time zone."""
    os.umask(request.umask)
    os.chdir(request.cwd)
    os.environb.clear()  # through putenv/unsetenv: the C environment follows
    os.environb.update(request.environ)
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    for fd in stdio:
        if fd > 2:
            os.close(fd)
    sys.argv = [os.fsdecode(arg) for arg in request.argv]
    time.tzset()
    tempfile.tempdir = None  # cached from the warm process's TMPDIR


def _reset_signals() -> None:
    signal.set_wakeup_fd(-1)
    for signum in _RESET_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _exit_with_launcher(control: socket.socket) -> None:
    """The launcher holds its end open while it lives; EOF means it died (SIGKILL, say)."""

    def watch() -> None:
        try:
            while control.recv(64):
                pass
        except OSError:
            pass
        os._exit(1)

    threading.Thread(target=watch, name="launcher-watch", daemon=True).start()


def _receive_go(control: socket.socket) -> list[int] | None:
    """The launcher's ``go`` and its stdin, stdout and stderr; None if it gave up or left."""
    try:
        data, ancillary, flags, _ = control.recvmsg(64, socket.CMSG_SPACE(3 * 4))
    except OSError:
        return None
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds += [
                int.from_bytes(payload[i : i + 4], sys.byteorder)
                for i in range(0, len(payload) - 3, 4)
            ]
    if data != b"go\n" or len(fds) != 3 or flags & socket.MSG_CTRUNC:
        for fd in fds:
            os.close(fd)
        return None
    return fds


def _exit_status(code: object) -> int:
    """As the interpreter maps ``sys.exit(code)`` to a status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
