"""The emulator reuses provider.api's models and the event catalogue, never the Terraform side."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import provider.emulator

EMULATOR_DIR = Path(provider.emulator.__file__).parent


def test_emulator_imports_only_itself_the_api_models_and_the_event_catalogue() -> None:
    for path in EMULATOR_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] == "provider":
                    assert name.startswith(
                        ("provider.emulator", "provider.api.models", "provider.events")
                    ), f"{path.name} imports {name}"


def test_all_is_sorted() -> None:
    assert provider.emulator.__all__ == sorted(provider.emulator.__all__)


def test_the_cli_commands_load_no_server() -> None:
    # humanitec-emulator env|deploy|deliveries start in a fresh process each time.
    code = (
        "import json, sys\n"
        "import provider.emulator.cli\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(json.loads(done.stdout)) & {"starlette", "uvicorn", "pydantic"} == set()


def test_lazy_exports_resolve() -> None:
    for name in provider.emulator.__all__:
        assert getattr(provider.emulator, name).__name__ == name
