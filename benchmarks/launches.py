"""Record every provider process Terraform starts: its wall time, CPU time and peak RSS.

Terraform is the parent of its provider processes and reaps them itself, so their resource
usage is invisible from outside (``RUSAGE_CHILDREN`` of the Terraform process is not ours to
read, and sampling ``/proc/PID/stat`` misses the work done after the last sample). Instead the
installed launcher is moved aside and a tiny exec wrapper takes its place: it forks, runs the
real launcher with the same argv, stdio, environment and working directory, reaps it with
``wait4`` (which gives ``ru_utime``, ``ru_stime`` and ``ru_maxrss`` of that child and of
whatever it reaped) and appends one line to the file named by ``BENCH_LAUNCH_LOG``, if set
(Terraform passes its environment down to providers). It exits with the child's status.

The wrapper is C, compiled here with the system's ``cc`` (about 1 ms per launch); without a C
compiler it is a ``python -I -S`` script (about 10 ms per launch, which the report mentions).
It ignores SIGINT as the provider does: Terraform drives cancellation over gRPC.

A provider process that a warm fork server forks is not the launcher's child: here only its
launcher is seen. ``warm_usage.py`` reads the rest from the warm process.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOG_VARIABLE", "Launch", "read_launches", "wrap_launcher"]

LOG_VARIABLE = "BENCH_LAUNCH_LOG"

_C_SOURCE = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    (void)argc;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    signal(SIGINT, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0) { perror("bench wrapper: fork"); return 127; }
    if (pid == 0) { execv(REAL_LAUNCHER, argv); perror("bench wrapper: exec"); _exit(127); }
    int status = 0;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {}
    clock_gettime(CLOCK_MONOTONIC, &end);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const char *log = getenv("BENCH_LAUNCH_LOG");
    if (log && *log) {
        FILE *file = fopen(log, "a");
        if (file) {
            fprintf(file, "%d %.6f %ld.%06ld %ld.%06ld %ld %d\n", (int)pid,
                    (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9,
                    (long)usage.ru_utime.tv_sec, (long)usage.ru_utime.tv_usec,
                    (long)usage.ru_stime.tv_sec, (long)usage.ru_stime.tv_usec,
                    usage.ru_maxrss, code);
            fclose(file);
        }
    }
    return code;
}
"""

_PY_SOURCE = """\
import os, signal, sys, time
start = time.monotonic()
signal.signal(signal.SIGINT, signal.SIG_IGN)
pid = os.fork()
if pid == 0:
    try:
        os.execv({real!r}, sys.argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
code = os.waitstatus_to_exitcode(status)
code = code if code >= 0 else 128 - code
log = os.environ.get("BENCH_LAUNCH_LOG")
if log:
    with open(log, "a") as file:
        file.write(f"{{pid}} {{wall:.6f}} {{usage.ru_utime:.6f}} {{usage.ru_stime:.6f}} "
                   f"{{usage.ru_maxrss}} {{code}}\\n")
sys.exit(code)
"""


@dataclass(frozen=True)
class Launch:
    """One provider process, from the wrapper's line."""

    pid: int
    wall: float
    user: float
    system: float
    max_rss_kib: int
    exit_code: int

    @property
    def cpu(self) -> float:
        return self.user + self.system


def wrap_launcher(launcher: Path, *, use_c: bool = True) -> str:
    """Move ``launcher`` to ``<launcher>.real`` and put the wrapper in its place; say which.

    The C wrapper when ``use_c`` and a C compiler is on PATH, else the Python one.
    """
    real = launcher.with_name(launcher.name + ".real")
    launcher.rename(real)
    compiler = (shutil.which("cc") or shutil.which("gcc")) if use_c else None
    if compiler:
        source = launcher.with_name("wrapper.c")
        real_literal = '"' + str(real).replace("\\", "\\\\").replace('"', '\\"') + '"'
        source.write_text(_C_SOURCE, encoding="utf-8")
        subprocess.run(
            [compiler, "-O2", f"-DREAL_LAUNCHER={real_literal}", "-o", str(launcher), str(source)],
            check=True,
            capture_output=True,
        )
        source.unlink()
        return f"C exec wrapper ({compiler})"
    launcher.write_text(
        f"#!{sys.executable} -IS\n" + _PY_SOURCE.format(real=str(real)), encoding="utf-8"
    )
    launcher.chmod(0o755)
    return "Python exec wrapper (no C compiler found: adds ~10 ms to each launch)"


def read_launches(log: Path) -> list[Launch]:
    """The launches a command made, in the order they ended."""
    if not log.exists():
        return []
    launches = []
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, wall, user, system, rss, code = line.split()
        launches.append(
            Launch(int(pid), float(wall), float(user), float(system), int(rss), int(code))
        )
    return launches
