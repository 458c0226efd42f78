"""Where Terraform's own CPU goes in a command against this provider: ``perf``, with Go names.

What it measures
    N ``humanitec_webhook`` resources as ``workload.py`` sets them up (warm start on), applied
    first (not measured), then each chosen command under ``perf record -a -g`` (all CPUs,
    call graphs). It prints the share of samples per process (Terraform, the provider's
    processes, this process, which serves the emulator, and idle), then Terraform's
    functions with the most samples, self and inclusive.

    Terraform's release binaries are stripped, so ``perf`` cannot name their functions; Go
    keeps its own symbol table (``.gopclntab``) for stack traces, and :class:`GoSymbols`
    reads the function names from it.

How to read it
    Shares of all samples on all CPUs over the command, idle included. A function's inclusive
    share counts each sample once however deep it recurs. At N=1000, ``apply`` and
    ``destroy`` spend most of Terraform's CPU writing the whole state out after each resource
    (``statemgr.(*Filesystem).WriteState``), so the size of each instance's state sets their
    pace.

Run: ``python -m benchmarks.terraform_profile [--n 1000] [COMMAND ...]`` (default
``destroy``) with commands from ``workload.COMMANDS``. Needs ``perf`` and the right to record
all CPUs (root, or ``kernel.perf_event_paranoid`` at most 0) and a Terraform executable
(the one on PATH): the bundled library's is not a program ``perf`` follows by name.
"""

from __future__ import annotations

import argparse
import bisect
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.lone import lone_workspace
from benchmarks.workload import ARGS

__all__ = ["GoSymbols", "summarize"]

_PCLNTAB_MAGICS = (0xFFFFFFF1, 0xFFFFFFF0)  # Go 1.20+, Go 1.18-1.19: the same layout here
_PT_LOAD = 1


class GoSymbols:
    """Function names of a Go executable by address, from its ``.gopclntab`` section."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        if data[:4] != b"\x7fELF" or data[4] != 2:
            raise ValueError(f"{path} is not a 64-bit ELF file")
        self.load_bias = _load_bias(data)
        table = _section(data, ".gopclntab")
        (magic,) = struct.unpack_from("<I", table, 0)
        if magic not in _PCLNTAB_MAGICS:
            raise ValueError(f"{path}: unknown .gopclntab magic {magic:#x}")
        nfunc, _nfiles, text_start, names_at, _cu, _files, _pc, functab_at = struct.unpack_from(
            "<8Q", table, 8
        )
        self._starts: list[int] = []
        self._names: list[str] = []
        for index in range(nfunc):
            entry, func_at = struct.unpack_from("<II", table, functab_at + 8 * index)
            (name_at,) = struct.unpack_from("<i", table, functab_at + func_at + 4)
            start = names_at + name_at
            self._starts.append(text_start + entry)
            self._names.append(table[start : table.index(b"\0", start)].decode("utf-8", "replace"))

    def name(self, address: int) -> str:
        """The function holding ``address`` (a virtual address), or ``?``."""
        index = bisect.bisect_right(self._starts, address) - 1
        return self._names[index] if index >= 0 else "?"

    def address(self, name: str) -> int:
        """The entry address of function ``name``."""
        return self._starts[self._names.index(name)]


def _section(data: bytes, wanted: str) -> bytes:
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(index: int) -> tuple[int, int, int]:
        name, _type, _flags, _addr, offset, size = struct.unpack_from(
            "<IIQQQQ", data, shoff + index * shentsize
        )
        return name, offset, size

    _, names_offset, _ = header(shstrndx)
    for index in range(shnum):
        name_at, offset, size = header(index)
        start = names_offset + name_at
        if data[start : data.index(b"\0", start)].decode() == wanted:
            return data[offset : offset + size]
    raise ValueError(f"no {wanted} section")


def _load_bias(data: bytes) -> int:
    """What turns a file offset into a virtual address: the first loaded segment's."""
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        kind, _flags, offset, vaddr = struct.unpack_from("<IIQQ", data, phoff + index * phentsize)
        if kind == _PT_LOAD:
            return int(vaddr - offset)
    raise ValueError("no loadable segment")


def summarize(samples: str, terraform: Path, own_pid: int, top: int) -> str:
    """The report for ``perf script -F comm,pid,ip,dso`` output."""
    symbols = GoSymbols(terraform)
    by_process: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for block in samples.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        total += 1
        comm, pid = lines[0].split()[:2]
        if comm == "swapper":
            by_process["idle"] += 1
            continue
        if pid.isdigit() and int(pid) == own_pid:
            by_process["the emulator (this process)"] += 1
            continue
        if comm != "terraform":
            by_process["provider" if comm.startswith(("python", "terraform-prov")) else comm] += 1
            continue
        by_process["terraform"] += 1
        frames = []
        for line in lines[1:]:
            ip_text, _, dso = line.strip().partition(" ")
            if dso.strip("()") == str(terraform):
                frames.append(symbols.name(int(ip_text, 16) + symbols.load_bias))
            elif "kernel" in dso:
                frames.append("[kernel]")
        if frames:
            own[frames[0]] += 1
            for frame in set(frames):
                inclusive[frame] += 1
    if not total:
        return "  no samples\n"
    out = [f"  {total} samples on all CPUs"]
    shares = [(p, n) for p, n in by_process.most_common() if n / total >= 0.01]
    rest = total - sum(n for _, n in shares)
    shares += [("others", rest)] if rest else []
    out.append("  by process: " + ", ".join(f"{p} {n / total:.0%}" for p, n in shares))
    for title, counter in (("Terraform, self", own), ("Terraform, inclusive", inclusive)):
        out.append(f"  top {top} {title}:")
        out += [f"    {n / total:6.1%}  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("commands", nargs="*", default=["destroy"])
    parser.add_argument("--n", type=int, default=1000, help="resources (default 1000)")
    parser.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    parser.add_argument("--frequency", type=int, default=999, help="samples/s per CPU")
    options = parser.parse_args(argv)
    unknown = [c for c in options.commands if c not in ARGS]
    if unknown:
        parser.error(f"unknown commands {unknown}: choose from {list(ARGS)}")
    perf, on_path = shutil.which("perf"), shutil.which("terraform")
    if not perf or not on_path:
        parser.error("needs perf and a terraform executable on PATH")
    terraform = Path(on_path).resolve()
    with (
        lone_workspace("provider", options.n, instrument=lambda _: None, prefix="tfprof") as (
            workspace,
            counter,
        ),
        tempfile.TemporaryDirectory(prefix="tfprof-") as tmp,
    ):
        workspace.measure("apply (create)", counter)
        for command in options.commands:
            data = Path(tmp) / "perf.data"
            recorder = subprocess.Popen(
                [perf, "record", "-q", "-a", "-g", "-F", str(options.frequency), "-o", str(data)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)  # perf is recording before the command starts
            run = workspace.measure(command, counter)
            recorder.send_signal(signal.SIGINT)
            recorder.wait()
            script = subprocess.run(
                [perf, "script", "-i", str(data), "-F", "comm,pid,ip,dso"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            print(f"{command} at N={options.n}: {run.wall:.2f} s wall")
            print(summarize(script.stdout, terraform, os.getpid(), options.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
