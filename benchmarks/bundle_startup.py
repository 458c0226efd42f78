"""The release bundle's cold start beside the pip-installed launcher's and the grpc floor.

What it measures
    Popen -> go-plugin handshake line read, as ``startup.py`` does, for:

    - the release bundle: the executable of ``dist/terraform-provider-humanitec_*.zip``
      (``make release``), unpacked as Terraform unpacks it;
    - the virtualenv launcher written by ``install_into_mirror`` (``/bin/sh`` + ``python -IS``),
      cold (``HUMANITEC_PROVIDER_WARM=0``: the bundle never uses a warm process, so this is the
      like-for-like row) and, for reference, warm;

    and, until exit, ``python -I -c "import grpc"`` (the floor for any grpcio provider).
    Round-robin after warm-up rounds, so a noisy machine slows every variant alike.

How to read the output
    Compare the bundle with the launcher: the difference of medians is what shipping a
    PyInstaller bundle instead of a pip install costs on each of Terraform's 3-5 launches per
    command (the goal: under 30 ms). The ratios to ``import grpc`` compare across machines.

Run: ``.venv/bin/python -m benchmarks.bundle_startup [--zip dist/…zip] [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import zipfile
from pathlib import Path

from benchmarks.startup import (
    Variant,
    launch_setup,
    print_variants,
    run_round_robin,
    time_until_exit,
    time_until_handshake,
)
from provider import __version__
from provider.install import platform_dir

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_ZIP = ROOT / "dist" / f"terraform-provider-humanitec_{__version__}_{platform_dir()}.zip"


def unpack(archive: Path, target: Path) -> Path:
    """Unpack as Terraform does (modes kept); return the executable."""
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            path = Path(opened.extract(info, target))
            path.chmod((info.external_attr >> 16) & 0o777 or 0o644)
    return target / f"terraform-provider-humanitec_v{__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="the release zip")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per variant")
    options = parser.parse_args(argv)
    if not options.zip.is_file():
        parser.error(f"{options.zip} not found: run `make release` first")
    with launch_setup("bench-bundle-") as setup:
        tmpdir, installed, env = setup.tmpdir, setup.installed, setup.env
        bundle = unpack(options.zip, setup.root / "bundle")
        bundle_v = Variant(
            "release bundle -> handshake", lambda: time_until_handshake([str(bundle)], env, tmpdir)
        )
        cold_env = {**env, "HUMANITEC_PROVIDER_WARM": "0"}
        launcher_v = Variant(
            "venv launcher, cold -> handshake",
            lambda: time_until_handshake([str(installed.launcher)], cold_env, tmpdir),
        )
        warm_v = Variant(
            "venv launcher, warm -> handshake",
            lambda: time_until_handshake([str(installed.launcher)], env, tmpdir),
        )
        grpc_v = Variant(
            'python -I -c "import grpc"',
            lambda: time_until_exit([sys.executable, "-I", "-c", "import grpc"], env),
        )
        variants = [bundle_v, launcher_v, warm_v, grpc_v]
        run_round_robin(variants, options.runs)
    size = options.zip.stat().st_size / 1e6
    print(
        f"Cold start, Popen -> handshake ({options.runs} runs each, round-robin); {size:.1f} MB zip"
    )
    print_variants(variants)
    paired = statistics.median(
        b - v for b, v in zip(bundle_v.samples, launcher_v.samples, strict=True)
    )
    print(
        f"\nbundle - cold launcher: {bundle_v.median_ms - launcher_v.median_ms:+.1f} ms "
        f"(median of per-round differences {paired * 1000:+.1f} ms); "
        f"bundle / import grpc {bundle_v.median_ms / grpc_v.median_ms:.2f}, "
        f"launcher / import grpc {launcher_v.median_ms / grpc_v.median_ms:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
