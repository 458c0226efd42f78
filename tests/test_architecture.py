"""The rooms and their one-way doors, and what the provider loads at start-up.

``plugin/`` knows Terraform and nothing of Humanitec; ``api/`` knows HTTP and
Humanitec and nothing of Terraform. Terraform launches the provider 3-5 times
per command and the first launches only read the schema, so serving the
schema must not load the HTTP client, the models or cryptography.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tests.fresh import fresh_python

PACKAGE = Path(__file__).resolve().parents[1] / "provider"


def imported_modules(directory: Path) -> list[tuple[str, str]]:
    """(file, absolute module) for every import of a ``provider`` module under ``directory``."""
    found = []
    for path in sorted(directory.rglob("*.py")):
        if "_proto" in path.parts:
            continue
        package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")
                if node.level:
                    base = base[: len(base) - node.level + 1]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                names = [f"{module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(path.name, n) for n in names if n.split(".")[0] == "provider"]
    return found


@pytest.mark.parametrize(
    ("room", "allowed"),
    [
        ("plugin", ("provider.plugin",)),
        ("api", ("provider.api", "provider.__version__")),
        ("emulator", ("provider.emulator", "provider.api", "provider.events")),
    ],
    ids=["plugin", "api", "emulator"],
)
def test_rooms_import_only_what_their_doors_allow(room: str, allowed: tuple[str, ...]) -> None:
    imports = imported_modules(PACKAGE / room)
    assert imports, "the scan found no imports at all"
    strays = [(f, m) for f, m in imports if not m.startswith(allowed)]
    assert strays == []


def test_serving_the_schema_loads_no_heavy_dependency() -> None:
    printed = fresh_python(
        "import json, sys",
        "from provider.cli import _make_provider",
        "from provider.plugin.servicer import ProviderServicer",
        "import provider.plugin.serve, provider.plugin._native",
        "ProviderServicer(_make_provider()).handlers()['GetProviderSchema'](b'', None)",
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))",
    )
    loaded = set(json.loads(printed))
    assert {"google", "hpack", "provider"} <= loaded
    # grpcio is only for HUMANITEC_PROVIDER_SERVER=grpcio; the native server does without it.
    heavy = {"grpc", "httpx", "pydantic", "cryptography", "starlette", "uvicorn", "yaml", "msgpack"}
    assert loaded & heavy == set()


def test_protobufs_pure_python_backend_stays_unloaded_until_used() -> None:
    # descriptor_pool imports it for the pure-Python backend only; it costs ~10% of a cold start.
    printed = fresh_python(
        "import sys",
        "import provider.plugin.serve",
        "from provider.plugin._proto import tfplugin6_pb2",
        "tfplugin6_pb2.GetProviderSchema.Response.FromString(b'')",
        "loaded = {m for m in ('google.protobuf.text_format', 'pickle') if m in sys.modules}",
        "from google.protobuf.internal import python_message",
        "print(sorted(loaded), callable(python_message._AttachFieldHelpers))",
    )
    assert printed.split() == ["[]", "True"]


CTY_ORDER = ["types", "wire", "compiled", "msgpack_codec", "json_codec"]
"""provider.plugin.cty's modules, each importing only those before it (codecs: not each other)."""


def test_cty_modules_import_one_way() -> None:
    cty = PACKAGE / "plugin" / "cty"
    assert sorted(p.stem for p in cty.glob("*.py")) == sorted([*CTY_ORDER, "__init__"])
    for file, module in imported_modules(cty):
        if file == "__init__.py":
            continue
        importer, imported = Path(file).stem, module.split(".")[3]
        allowed = {"types": [], "wire": ["types"], "compiled": ["types", "wire"]}.get(
            importer, ["types", "wire", "compiled"]
        )
        assert imported in allowed, f"{file} imports {module}"


def test_no_module_imports_a_private_name_of_another() -> None:
    """A leading underscore means "this file only": another module reaching for it couples
    the two behind the public interface's back."""

    def is_module(module: str) -> bool:  # a package-private module, e.g. api._failures, is fine
        path = PACKAGE.parent.joinpath(*module.split("."))
        return path.with_suffix(".py").exists() or path.is_dir()

    strays = [
        (file, module)
        for file, module in imported_modules(PACKAGE)
        if module.rsplit(".", 1)[-1].startswith("_")
        and not module.rsplit(".", 1)[-1].startswith("__")
        and not is_module(module)
    ]
    assert strays == []
