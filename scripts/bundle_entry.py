"""The release bundle's entry point (``scripts/release.py`` freezes it with PyInstaller).

It serves in-process through :func:`provider.cli.main`: a frozen bundle has no
virtualenv for :mod:`provider.launch`'s faster paths to reuse.
"""

from __future__ import annotations

import sys

from provider.cli import main

if __name__ == "__main__":
    sys.exit(main())
