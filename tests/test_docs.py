"""The generated docs are current, complete, and built from ``terraform fmt``-clean examples."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from provider import events, provider, settings, webhook, webhook_data
from provider.plugin.schema import Attribute, Schema

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = [sys.executable, str(ROOT / "scripts" / "bundled_terraform.py")]
PAGES = {
    Path("docs/index.md"): provider.SCHEMA,
    Path("docs/resources/webhook.md"): webhook.SCHEMA,
    Path("docs/data-sources/webhook.md"): webhook_data.WEBHOOK_SCHEMA,
    Path("docs/data-sources/webhooks.md"): webhook_data.WEBHOOKS_SCHEMA,
}


def load_render_docs() -> Callable[[], dict[Path, str]]:
    """``scripts/generate_docs.py`` is a script, not a package module: load it by path."""
    path = ROOT / "scripts" / "generate_docs.py"
    spec = importlib.util.spec_from_file_location("generate_docs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    render_docs: Callable[[], dict[Path, str]] = module.render_docs
    return render_docs


def attribute_names(attributes: Mapping[str, Attribute]) -> Iterator[str]:
    """Every attribute name, nested ones included."""
    for name, attribute in attributes.items():
        yield name
        if attribute.nested is not None:
            yield from attribute_names(attribute.nested.attributes)


def test_committed_docs_match_the_generator() -> None:
    rendered = load_render_docs()()
    committed = {p.relative_to(ROOT) for p in (ROOT / "docs").rglob("*.md")}
    assert committed == set(rendered), "docs/ has missing or extra pages: run `make docs`"
    stale = [
        path.as_posix()
        for path, text in rendered.items()
        if (ROOT / path).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale docs {stale}: run `make docs`"


@pytest.mark.parametrize(("page", "schema"), PAGES.items(), ids=[p.as_posix() for p in PAGES])
def test_every_attribute_is_documented(page: Path, schema: Schema) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    missing = [n for n in attribute_names(schema.attributes) if f"- `{n}` (" not in text]
    assert not missing, f"{page} does not document {missing}"


def test_provider_page_names_every_settings_variable() -> None:
    variables = set(re.findall(r"HUMANITEC_[A-Z_]+", settings.__doc__ or ""))
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert variables
    missing = sorted(v for v in variables if f"`{v}`" not in text)
    assert not missing, f"docs/index.md does not mention {missing} (provider/settings.py)"


def test_examples_are_terraform_fmt_clean(tmp_path: Path) -> None:
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=str(cli_config))
    on_path = shutil.which("terraform")
    terraform = [on_path] if on_path else BUNDLED
    result = subprocess.run(
        [*terraform, "fmt", "-check", "-diff", "-recursive", "examples"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"`terraform fmt -check -diff -recursive examples` failed; format the examples:\n"
        f"{result.stdout}{result.stderr}"
    )


def test_webhook_page_has_every_triggers_placeholders_from_the_catalogue() -> None:
    text = (ROOT / "docs" / "resources" / "webhook.md").read_text(encoding="utf-8")
    for event in events.EVENTS:
        heading = f"#### `{event.scope}` / `{event.type}`\n"
        assert heading in text
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("| `${")]
        assert rows == [
            f"| `${{{v.name}}}` | {v.description} | `{event.example(v)}` |" for v in event.variables
        ], event.name
    assert "| `${event}` | The event, as `scope.type`. | `deployment.finished` |" in text


def test_triggers_description_lists_every_catalogue_event() -> None:
    description = webhook.SCHEMA.attributes["triggers"].description
    rows = re.findall(r"^\| (\w+) +\| (\w+) +\|$", description, re.MULTILINE)
    assert rows[1:] == [(e.scope, e.type) for e in events.EVENTS]
