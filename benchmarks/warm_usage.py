"""What a warm launch costs beyond its launcher: the warm children's and the warm process's CPU.

With warm start, the provider process Terraform talks to is a fork of the per-user warm
process, not a child of its launcher: the exec wrapper (``launches.py``) sees only the
launcher's own CPU (16-34 ms a launch in the warm runs of ``results/latest.json``, ``make
bench --runs 2`` at 18:23 on 2 December), and ``wait4`` on Terraform sees nothing of the
child. Two sources fill the gap, read around one command (:func:`snapshot` before,
:func:`since` after):

- the warm process reaps each child with ``wait4`` and appends its CPU and peak RSS to its
  private log, ``KEY.log`` in the warm directory (``provider/warm/server.py``)::

      child 1234: exit 0 (cpu 0.104 s user, 0.021 s system; max rss 40.1 MiB)

  It logs that before it tells the launcher how the child ended, so by the time Terraform
  has exited every child of the command is in the log. A new warm process truncates the log
  and writes its own first line: a log that got shorter, or whose first line changed, is
  read from its start;
- the warm process's own CPU (``utime + stime`` in ``/proc/PID/stat``, in clock ticks; not
  its children's, which the log gives), its pid from its lock file ``KEY.lock``: accepting,
  forking, reaping, and preparing the next child's TLS certificate. A warm process that
  appeared during the command (started by one of its launches) counts from zero: its
  imports are that command's cost. One that exited during it is not counted (it only exits
  idle, after ``HUMANITEC_PROVIDER_WARM_IDLE`` seconds without a launch).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tests.warm import warm_pids

__all__ = [
    "CHILD_END",
    "NO_WARM",
    "Snapshot",
    "WarmChild",
    "WarmUsage",
    "process_cpu",
    "since",
    "snapshot",
]

CHILD_END = re.compile(
    r"child (\d+): (?:exit|signal) -?\d+ "
    r"\(cpu ([\d.]+) s user, ([\d.]+) s system; max rss ([\d.]+) MiB\)$"
)
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class WarmChild:
    """One provider process forked by the warm process, from its log line."""

    pid: int
    user: float
    system: float
    max_rss_kib: int

    @property
    def cpu(self) -> float:
        return self.user + self.system


@dataclass(frozen=True)
class WarmUsage:
    """The warm side of one command: its children, and the warm processes' own CPU."""

    children: tuple[WarmChild, ...]
    server_cpu: float
    servers_started: int  # warm processes that appeared during the command

    @property
    def cpu(self) -> float:
        return sum(child.cpu for child in self.children) + self.server_cpu


NO_WARM = WarmUsage((), 0.0, 0)
"""A cold command's: nothing ran warm."""


@dataclass(frozen=True)
class Snapshot:
    """Where each log ended, and each warm process's CPU so far, before a command."""

    directory: Path
    logs: dict[Path, tuple[int, bytes]]  # size, first line
    cpu: dict[int, float]


def snapshot(directory: Path) -> Snapshot:
    """The state of the warm processes in ``directory``, to compare with after a command."""
    logs = {path: (len(text), _first_line(text)) for path, text in _logs(directory).items()}
    return Snapshot(directory, logs, _server_cpu(directory))


def since(before: Snapshot) -> WarmUsage:
    """The children that ended, and the warm processes' CPU, since ``before`` was taken."""
    children = []
    for path, text in _logs(before.directory).items():
        size, first = before.logs.get(path, (0, b""))
        if len(text) < size or _first_line(text) != first:
            size = 0  # a new warm process truncated it: all of it is new
        complete = text[size:].rpartition(b"\n")[0]
        for line in complete.decode(errors="replace").splitlines():
            found = CHILD_END.search(line)
            if found:
                pid, user, system, rss = found.groups()
                kib = round(float(rss) * 1024)
                children.append(WarmChild(int(pid), float(user), float(system), kib))
    after = _server_cpu(before.directory)
    server_cpu = sum(cpu - before.cpu.get(pid, 0.0) for pid, cpu in after.items())
    started = len(after.keys() - before.cpu.keys())
    return WarmUsage(tuple(children), server_cpu, started)


def _logs(directory: Path) -> dict[Path, bytes]:
    logs = {}
    for path in directory.glob("*.log"):
        try:
            logs[path] = path.read_bytes()
        except OSError:
            continue
    return logs


def _first_line(text: bytes) -> bytes:
    """A warm process's first line names it (``warm process PID for KEY``)."""
    return text.partition(b"\n")[0]


def process_cpu(pid: int) -> float:
    """User + system seconds of every thread of ``pid`` so far, without its reaped children's
    (``/proc/PID/stat``, in clock ticks); ``OSError`` once it has exited, a zombie included."""
    fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    if fields[0] in (b"Z", b"X"):
        raise ProcessLookupError(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime: fields 14, 15


def _server_cpu(directory: Path) -> dict[int, float]:
    """CPU seconds (user + system, without reaped children) of each warm process, by pid."""
    cpu = {}
    for pid in warm_pids(directory) if directory.is_dir() else []:
        with contextlib.suppress(OSError):  # exited
            cpu[pid] = process_cpu(pid)
    return cpu
