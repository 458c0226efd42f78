"""Regenerate the committed protobuf stubs in ``provider/plugin/_proto/``.

Run ``.venv/bin/python scripts/generate_proto.py`` (``make proto``) after editing
anything in ``proto/``. ``tests/plugin/test_proto_stubs.py`` regenerates into a
temporary directory and fails when the committed files differ.

Choices, and why:

- Only ``*_pb2.py`` and ``*_pb2.pyi`` are generated. The servicer registers its
  handlers from the service descriptors, so ``*_pb2_grpc.py`` is not needed; it
  would also pin a minimum grpcio version at import time.
- Stubs come from mypy-protobuf rather than protoc's ``--pyi_out``. Its stubs
  restrict ``HasField``/``ClearField``/``WhichOneof`` to the message's real field
  names, give enums distinct ``ValueType``s, mark classes ``@final`` and carry
  the ``.proto`` comments as docstrings; ``--pyi_out`` accepts any string, plain
  dicts for message fields and strings for enums, so mypy catches far less.
- protoc runs as ``python -m grpc_tools.protoc`` in a subprocess. That entry point
  adds the bundled well-known types (``google/protobuf/timestamp.proto``) to the
  include path, and importing ``grpc_tools.protoc`` in-process would install
  import hooks in the caller (e.g. the pytest process).
- Output is deterministic: inputs are named relative to ``proto/``, so no
  absolute path reaches the serialized descriptors, and neither generator writes
  timestamps. Files are generated into a scratch directory first, so a failed run
  leaves the committed stubs untouched. Nothing is post-processed: neither proto
  imports the other, so no generated module imports a sibling by top-level name.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "provider" / "plugin" / "_proto"
PROTOS = ("tfplugin6.proto", "grpc_controller.proto")
OUTPUTS = tuple(f"{Path(proto).stem}_pb2{suffix}" for proto in PROTOS for suffix in (".py", ".pyi"))


def _mypy_plugin() -> Path:
    """Locate protoc-gen-mypy next to the running interpreter (the venv's bin)."""
    plugin = Path(sys.executable).parent / "protoc-gen-mypy"
    if not plugin.is_file():
        raise SystemExit(f"{plugin} not found; install the dev extras: pip install -e '.[dev]'")
    return plugin


def generate(out_dir: Path) -> None:
    """Write the generated stubs listed in ``OUTPUTS`` into ``out_dir``.

    Other files in ``out_dir`` (such as ``__init__.py``) are left alone.
    """
    with tempfile.TemporaryDirectory(prefix="proto-gen-") as scratch:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"--proto_path={PROTO_DIR}",
                f"--python_out={scratch}",
                f"--plugin=protoc-gen-mypy={_mypy_plugin()}",
                f"--mypy_out=quiet:{scratch}",
                *PROTOS,
            ],
            check=True,
            cwd=PROTO_DIR,
        )
        produced = sorted(p.name for p in Path(scratch).iterdir())
        if produced != sorted(OUTPUTS):
            raise RuntimeError(f"protoc produced {produced}, expected {sorted(OUTPUTS)}")
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            shutil.copyfile(Path(scratch) / name, out_dir / name)


if __name__ == "__main__":
    generate(OUT_DIR)
    print(f"wrote {', '.join(OUTPUTS)} to {OUT_DIR.relative_to(ROOT)}")
