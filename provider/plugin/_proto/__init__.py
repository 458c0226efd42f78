"""Generated tfplugin6 and go-plugin stubs (``make proto``), and one import-time saving.

protobuf's ``descriptor_pool`` imports ``internal.python_message`` (which pulls in
``text_format``, the pure-Python decoder and ``pickle``) only for the pure-Python backend:
``python -I -X importtime -c "import provider.plugin.serve"`` showed the stubs' first import
at 27-37 ms cumulative with it and 12 ms without. With the upb backend nothing touches it, so it is loaded lazily:
the first attribute access, if any ever comes, imports it for real.
"""

from __future__ import annotations

import importlib.util
import sys


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    # Bound on its package too, or ``from package import module`` would go through the import
    # system, whose check of ``module.__spec__`` is an attribute access that loads it.
    package, _, child = name.rpartition(".")
    setattr(sys.modules[package], child, module)


_defer("google.protobuf.internal.python_message")
