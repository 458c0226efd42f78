"""provider.api's public door: a sorted, complete __all__, and imports that point one way."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import provider.api

API_DIR = Path(provider.api.__file__).parent


def test_all_is_sorted_and_complete() -> None:
    assert provider.api.__all__ == sorted(provider.api.__all__)
    exported = set(provider.api.__all__)
    for module_info in pkgutil.iter_modules([str(API_DIR)]):
        if module_info.name == "retry" or module_info.name.startswith("_"):
            continue  # policy internals (provider.api.retry) and private helpers
        module = __import__(f"provider.api.{module_info.name}", fromlist=["__all__"])
        assert set(module.__all__) <= exported, module_info.name
    for name in provider.api.__all__:
        assert hasattr(provider.api, name)


def test_api_imports_nothing_of_ours_but_itself_and_the_version() -> None:
    for path in API_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("provider")
            ):
                imported = node.module
                assert imported.startswith("provider.api") or (
                    imported == "provider" and [a.name for a in node.names] == ["__version__"]
                ), f"{path.name} imports {imported}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("provider") or alias.name.startswith(
                        "provider.api"
                    )


def test_importing_the_api_pulls_in_no_terraform_side() -> None:
    code = "import json, sys, provider.api; print(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = {name for name in json.loads(output) if name.startswith("provider")}
    assert set(loaded) <= {
        "provider",
        "provider.api",
        "provider.api._config",
        "provider.api._deadline",
        "provider.api._failures",
        "provider.api._http11",
        "provider.api._sender",
        "provider.api.client",
        "provider.api.errors",
        "provider.api.models",
        "provider.api.retry",
    }
