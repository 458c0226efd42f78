"""Where a provider process spends its time under a real Terraform command: py-spy, summarized.

Sets up the emulator and N ``humanitec_webhook`` resources as ``workload.py`` does, applies
them (not profiled), then runs the chosen commands with every provider launch under ``py-spy
record`` (``--threads``, active samples only, so idle waits do not count) and prints, over all
launches of each command: the share of samples per thread (``tls-proxy``, ``rpc``, ``main``),
and the functions with the most samples, inclusive and self.

Run: ``python -m benchmarks.profile [--n 300] [--rate 250] [COMMAND ...]`` with commands from
``workload.COMMANDS`` (default: ``plan -refresh=false``, ``plan``). Needs ``py-spy`` (a dev
dependency) and ptrace rights on the provider processes.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
from collections import Counter
from pathlib import Path

from benchmarks.lone import lone_workspace
from benchmarks.workload import ARGS

PROFILE_VARIABLE = "BENCH_PROFILE_DIR"
_THREAD = re.compile(r"^(?:process \d+:[^;]*;)?thread \((?:0x)?[0-9A-Fa-f]+\);?")
# py-spy reports native thread ids, not names: a thread is known by what it runs.
_ROLES = (
    ("_Served.run", "connection (TLS, HTTP/2, inline RPCs)"),
    ("_pool.py", "rpc pool (API-calling RPCs)"),
    ("_tls.py", "tls proxy (grpcio server)"),
    ("grpc/_server.py", "grpc server loop"),
)


def profiling_launcher(launcher: Path, py_spy: str, rate: int, *, gil: bool = False) -> None:
    """Replace ``launcher`` by a script that runs it under py-spy when BENCH_PROFILE_DIR is set."""
    real = launcher.with_name(launcher.name + ".real")
    launcher.rename(real)
    # py-spy attaches to the running launch: run under py-spy, its banner would reach stdout,
    # which Terraform reads for the handshake line. Samples start a few ms after exec.
    spy = (
        f"{shlex.quote(py_spy)} record --threads --nonblocking -r {rate} --format raw "
        f"{'--gil ' if gil else ''}"
        f'-o "${PROFILE_VARIABLE}/$child.txt" --pid "$child" >/dev/null 2>&1 &'
    )
    launcher.write_text(
        "#!/bin/sh\n"
        f'if [ -z "${PROFILE_VARIABLE}" ]; then exec {shlex.quote(str(real))} "$@"; fi\n'
        f'{shlex.quote(str(real))} "$@" &\n'
        "child=$!\n"
        f"{spy}\n"
        'wait "$child"; code=$?\n'
        "wait\n"
        'exit "$code"\n',
        encoding="utf-8",
    )
    launcher.chmod(0o755)


def summarize(directory: Path, top: int) -> str:
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for file in directory.glob("*.txt"):
        for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            match = _THREAD.match(stack)
            role = next((r for marker, r in _ROLES if marker in stack), "main")
            threads[role] += count
            frames = stack[match.end() :].split(";") if match else stack.split(";")
            frames = [re.sub(r" \((.*):\d+\)$", r" (\1)", f) for f in frames if f]
            total += count
            for frame in set(frames):
                inclusive[frame] += count
            if frames:
                own[frames[-1]] += count
    if not total:
        return "  no samples (is ptrace allowed?)\n"
    lines = [f"  {total} active samples in {len(list(directory.glob('*.txt')))} launches"]
    lines.append(
        "  by thread: " + ", ".join(f"{t} {n / total:.0%}" for t, n in threads.most_common())
    )
    for title, counter in (("inclusive", inclusive), ("self", own)):
        lines.append(f"  top {top} {title}:")
        lines += [f"    {n / total:6.1%}  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("commands", nargs="*", default=["plan -refresh=false", "plan"])
    parser.add_argument("--n", type=int, default=300, help="resources (default 300)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second (default 250)")
    parser.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL: Python's CPU, without idle waits "
        "that py-spy counts as active (select, locks)",
    )
    parser.add_argument(
        "--keep", type=Path, help="copy py-spy's raw samples (one file per launch) here"
    )
    options = parser.parse_args(argv)
    unknown = [c for c in options.commands if c not in ARGS]
    if unknown:
        parser.error(f"unknown commands {unknown}: choose from {list(ARGS)}")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        parser.error("py-spy is not installed (pip install py-spy)")

    def instrument(launcher: Path) -> None:
        profiling_launcher(launcher, py_spy, options.rate, gil=options.gil)

    # Cold: py-spy follows the launcher, and a warm launch's work is in another process.
    with lone_workspace("cold", options.n, instrument=instrument, prefix="profile") as (
        workspace,
        counter,
    ):
        root = workspace.path
        if "apply (create)" not in options.commands:
            workspace.measure("apply (create)", counter)
        for command in options.commands:
            directory = root / f"profile-{len(os.listdir(root))}"
            directory.mkdir()
            workspace.env[PROFILE_VARIABLE] = str(directory)
            run = workspace.measure(command, counter)
            del workspace.env[PROFILE_VARIABLE]
            # The py-spy launcher writes no launch log: Terraform's CPU holds its launches'.
            print(
                f"{command} at N={options.n}: {run.wall:.2f} s wall, {run.terraform_cpu:.2f} s "
                "CPU of Terraform, its provider processes and py-spy"
            )
            print(summarize(directory, options.top))
            if options.keep:
                shutil.copytree(directory, options.keep / command.replace(" ", "_"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
