"""Provider cold start, as Terraform experiences it, against interpreter baselines.

What it measures
    The time from ``Popen`` of the installed provider launcher to the moment the go-plugin
    handshake line (``1|6|tcp|127.0.0.1:PORT|grpc|CERT``) has been read from its stdout.
    Terraform pays this 3-5 times per command (once per provider launch).

How
    The provider is installed into a temporary filesystem mirror with ``install_into_mirror``
    and the launcher file itself is executed (``/bin/sh`` reads and checks the recorded venv
    Python, then execs it with ``-IS`` on ``launch.py``), with the environment go-plugin gives
    a plugin:
    ``TF_PLUGIN_MAGIC_COOKIE``, ``PLUGIN_PROTOCOL_VERSIONS=5,6`` and ``PLUGIN_CLIENT_CERT`` (a
    P-521 certificate shaped like go-plugin's AutoMTLS one, made with ``cryptography``). Once
    the line is read the process is killed (not timed) and its private temporary directory
    removed.

    Baselines, run with the same interpreter and environment, until the process exits:

    - ``python -I -c pass``: the interpreter alone;
    - ``python -I -c "import grpc"``: the floor for any grpcio-based provider;
    - ``python -I -c "import grpc, httpx, pydantic, cryptography.x509"``: what a provider that
      imported its SDKs eagerly would pay before it could even start serving.

    All four variants run round-robin (the starting variant rotates every round), after
    untimed warm-up rounds, so slow phases of a noisy machine hit every variant alike.

    Finally it checks which heavy modules are loaded on the start-up path: in a fresh
    ``python -I`` that builds the provider and its GetProviderSchema response in-process, and in
    a real launch run with ``-X importtime`` (killed once the handshake line is read).

How to read the output
    The first table gives median/min/max milliseconds per variant; a wide min-max range means the
    machine was busy. Only the ratios are meant to be compared across runs or machines:
    ``provider / import grpc`` is the provider's start-up relative to the unavoidable grpcio floor
    (1.0 would be free), ``provider / eager imports`` relative to a provider importing its SDKs
    eagerly (below 1.0 means lazy imports pay off). Each ratio is given as the ratio of the
    medians and, in brackets, as the median of the per-round ratios (each round's variants ran
    back to back); the two agreeing is a sign the figure is stable. The module section must say
    that none of the heavy modules is loaded; the script exits with status 1 otherwise.

Run: ``.venv/bin/python -m benchmarks.startup [--runs N]`` (default 15), or ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.private import private_installation
from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.install import InstallResult, install_into_mirror
from provider.plugin.serve import MAGIC_COOKIE_VALUE
from tests.goplugin import make_identity

TIMEOUT = 30.0
WARMUP_ROUNDS = 2
# Must not be imported on the start-up path (the brief's list, checked by the exit status).
FORBIDDEN = ("httpx", "pydantic", "cryptography", "starlette", "yaml")
# Also reported, for information: their dependencies and the rest of the emulator stack.
# grpc: only HUMANITEC_PROVIDER_SERVER=grpcio imports it; the native server does without.
ALSO_REPORTED = ("grpc", "pydantic_core", "httpcore", "anyio", "h11", "uvicorn", "idna", "certifi")

IN_PROCESS_PROBE = """\
import json, sys
import provider.cli, provider.plugin.serve
from provider.provider import HumanitecProvider
from provider.plugin.servicer import ProviderServicer
schema = ProviderServicer(HumanitecProvider()).handlers()["GetProviderSchema"](b"", None)
print(json.dumps({"schema_bytes": len(schema), "modules": sorted(sys.modules)}))
"""


def plugin_env(client_cert_pem: str, tmpdir: Path) -> dict[str, str]:
    """The environment go-plugin gives a plugin, minus the machine's own TF_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update(
        TF_PLUGIN_MAGIC_COOKIE=MAGIC_COOKIE_VALUE,
        PLUGIN_PROTOCOL_VERSIONS="5,6",
        PLUGIN_CLIENT_CERT=client_cert_pem,
        TMPDIR=str(tmpdir),  # the provider's socket directories go here; emptied after each run
    )
    return env


def empty_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def time_until_exit(argv: list[str], env: Mapping[str, str]) -> float:
    """Seconds from Popen to exit; the command must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, stderr = process.communicate(timeout=TIMEOUT)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{argv} failed ({process.returncode}): {stderr.decode(errors='replace')}")
    return elapsed


def time_until_handshake(argv: list[str], env: Mapping[str, str], tmpdir: Path) -> float:
    """Seconds from Popen to the handshake line read from stdout; then kill the process."""
    return launch_until_handshake(argv, env, tmpdir)[0]


def launch_until_handshake(
    argv: list[str], env: Mapping[str, str], tmpdir: Path
) -> tuple[float, str]:
    """Seconds from Popen to the handshake line, and what the launch wrote to stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.kill()
    _, stderr = process.communicate(timeout=TIMEOUT)
    empty_dir(tmpdir)
    if not line.startswith(b"1|6|tcp|127.0.0.1:"):
        raise SystemExit(
            f"no handshake line from {argv}: stdout {line!r}, "
            f"stderr {stderr.decode(errors='replace')}"
        )
    return elapsed, stderr.decode(errors="replace")


@dataclass(frozen=True)
class LaunchSetup:
    """A private installation to launch, with go-plugin's environment for it."""

    root: Path
    tmpdir: Path  # the launches' TMPDIR, emptied after each one
    installed: InstallResult
    env: dict[str, str]  # with a P-521 client certificate, as Terraform's
    warm_dir: Path


@contextlib.contextmanager
def launch_setup(prefix: str) -> Iterator[LaunchSetup]:
    """Install the provider into a temporary mirror of a private installation (warm processes
    included, stopped on the way out)."""
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        private_installation(Path(tmp)) as warm_dir,
    ):
        root = Path(tmp)
        tmpdir = root / "tmp"
        tmpdir.mkdir()
        installed = install_into_mirror(
            root / "mirror", source=PROVIDER_ADDRESS, version=__version__
        )
        env = plugin_env(make_identity(ec.SECP521R1()).cert_pem.decode(), tmpdir)
        yield LaunchSetup(root, tmpdir, installed, env, warm_dir)


@dataclass
class Variant:
    label: str
    measure: Callable[[], float]
    samples: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000


def run_round_robin(variants: list[Variant], runs: int, warmup: int = WARMUP_ROUNDS) -> None:
    for round_index in range(warmup + runs):
        shift = round_index % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            elapsed = variant.measure()
            if round_index >= warmup:
                variant.samples.append(elapsed)


def print_variants(variants: list[Variant]) -> None:
    """One row per variant: median, min and max milliseconds."""
    width = max(len(v.label) for v in variants)
    print(f"{'variant':<{width}}  {'median ms':>9}  {'min ms':>7}  {'max ms':>7}")
    for variant in variants:
        print(
            f"{variant.label:<{width}}  {variant.median_ms:>9.1f}  "
            f"{min(variant.samples) * 1000:>7.1f}  {max(variant.samples) * 1000:>7.1f}"
        )


def top_level(modules: list[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in modules}


def importtime_of_launch(
    launch_script: Path, env: Mapping[str, str], tmpdir: Path
) -> list[tuple[str, int]]:
    """(module, self-time us) for each module a real launch imports before its handshake line.

    ``launch_script`` is what the launcher execs Python on (``InstallResult.launch_script``).
    """
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-I", "-X", "importtime", str(launch_script)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        process.kill()
        process.wait(timeout=TIMEOUT)
        process.stdout.close()
        empty_dir(tmpdir)
        log.seek(0)
        text = log.read().decode(errors="replace")
    if not line.startswith(b"1|6|"):
        raise SystemExit(f"no handshake line under -X importtime: {line!r}\n{text}")
    modules = []
    for row in text.splitlines():
        if row.startswith("import time:") and row.count("|") == 2:
            self_us, _, name = row.removeprefix("import time:").split("|")
            if self_us.strip().isdigit():  # skip the header row
                modules.append((name.strip(), int(self_us)))
    return modules


def report_modules(launch_script: Path, env: Mapping[str, str], tmpdir: Path) -> bool:
    """Print which heavy modules the start-up path loads; True when none of FORBIDDEN is."""
    probe = subprocess.run(
        [sys.executable, "-I", "-c", IN_PROCESS_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    result = json.loads(probe.stdout)
    in_process = top_level(result["modules"])
    imports = importtime_of_launch(launch_script, env, tmpdir)
    launched = top_level([name for name, _ in imports])
    if "google" not in in_process or "google" not in launched:  # the probes must see imports
        raise SystemExit("module probes saw no protobuf import: cannot check the start-up path")
    print("\nHeavy modules on the start-up path (yes = loaded)")
    print(
        "  in-process: provider.cli + provider.plugin.serve imported, HumanitecProvider built, "
        f"GetProviderSchema answered ({result['schema_bytes']} bytes)"
    )
    print("  launch:     the real launcher under -X importtime, until its handshake line")
    print(f"  {'module':<14} {'in-process':>10} {'launch':>8}")
    ok = True
    for name in (*FORBIDDEN, *ALSO_REPORTED):
        loaded = (name in in_process, name in launched)
        if name in FORBIDDEN and any(loaded):
            ok = False
        yes_no = ["yes" if flag else "no" for flag in loaded]
        note = "  <-- must not be loaded" if name in FORBIDDEN and any(loaded) else ""
        print(f"  {name:<14} {yes_no[0]:>10} {yes_no[1]:>8}{note}")
    by_package: dict[str, int] = {}
    for name, self_us in imports:
        package = name.split(".", 1)[0]
        by_package[package] = by_package.get(package, 0) + self_us
    largest = sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:6]
    print(
        f"  the launch imported {len(imports)} modules; import self-time by top-level package "
        "(inflated by -X importtime): "
        + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in largest)
    )
    verdict = "OK: none" if ok else "FAIL: some"
    print(f"  {verdict} of {', '.join(FORBIDDEN)} loaded before the handshake / schema")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per variant (default 15)")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")

    python = sys.executable
    with launch_setup("bench-startup-") as setup:
        tmpdir, installed, env = setup.tmpdir, setup.installed, setup.env
        launcher = [str(installed.launcher)]

        def until_exit(code: str) -> Callable[[], float]:
            return lambda: time_until_exit([python, "-I", "-c", code], env)

        interpreter = Variant("python -I -c pass", until_exit("pass"))
        grpc_floor = Variant('python -I -c "import grpc"', until_exit("import grpc"))
        eager_code = "import grpc, httpx, pydantic, cryptography.x509"
        eager = Variant(f'python -I -c "{eager_code}"', until_exit(eager_code))
        provider = Variant(
            "provider launcher -> handshake line",
            lambda: time_until_handshake(launcher, env, tmpdir),
        )
        variants = [interpreter, grpc_floor, eager, provider]

        load_before = os.getloadavg()
        started = time.perf_counter()
        run_round_robin(variants, options.runs)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()

        print(
            f"Provider cold start: Popen -> handshake line read ({options.runs} runs per variant, "
            f"round-robin, {WARMUP_ROUNDS} warm-up rounds, {wall:.1f} s)"
        )
        print(
            f"python {sys.version.split()[0]} at {python}; {os.cpu_count()} CPUs; "
            f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
        )
        print(
            f"launcher {installed.launcher.name}: {installed.launcher.read_text().splitlines()[0]}"
        )
        print()
        print_variants(variants)
        print()
        print("ratio (of medians) [median of per-round ratios]   difference of medians")
        for baseline, name in ((grpc_floor, "import grpc"), (eager, "eager imports")):
            ratio = provider.median_ms / baseline.median_ms
            paired = statistics.median(
                p / b for p, b in zip(provider.samples, baseline.samples, strict=True)
            )
            delta = provider.median_ms - baseline.median_ms
            print(f"provider / {name:<14} {ratio:5.2f}  [{paired:5.2f}]   {delta:+7.1f} ms")

        ok = report_modules(installed.launch_script, env, tmpdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
