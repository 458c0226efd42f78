"""terraform-provider-humanitec: a Terraform provider for Humanitec webhooks, in Python.

Layout (arrows point one way only)::

    plugin/    the Terraform plugin protocol, generic: knows Terraform, not Humanitec
    api/       the Humanitec API client and models: knows HTTP, not Terraform
    provider.py, webhook.py
               the glue: provider configuration and the humanitec_webhook resource
    emulator/  a local Humanitec webhook API for tests, the demo and offline use
"""

from __future__ import annotations

__version__: str  # an annotation only (no typing import): __getattr__ below binds it

DISTRIBUTION = "terraform-provider-humanitec"


def __getattr__(name: str) -> str:
    """``__version__``, read on first use from the installed metadata.

    pyproject.toml is the one place the version is written; reading it here on
    first use keeps ``importlib.metadata`` (~10 ms of imports) off the start-up path.
    """
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version(DISTRIBUTION)
    except PackageNotFoundError:  # a checkout on sys.path, never installed
        found = _checkout_version()
    globals()["__version__"] = found
    return found


def _checkout_version() -> str:
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    with pyproject.open("rb") as file:
        checkout: str = tomllib.load(file)["project"]["version"]
    return checkout
