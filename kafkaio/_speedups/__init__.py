"""The one switch between the Cython speedups and their pure-Python twins.

Every accelerated module ``_<name>.pyx`` has a twin ``<name>_py.py`` with the same public functions
and the same behaviour. ``load(name)`` returns the compiled module when it was built and
``KAFKAIO_NO_EXTENSIONS`` is not set, otherwise the twin.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType

_DISABLED = os.environ.get("KAFKAIO_NO_EXTENSIONS", "") not in ("", "0")
_loaded: dict[str, ModuleType] = {}
_compiled_used: dict[str, bool] = {}


def load(name: str) -> ModuleType:
    """Return the implementation of speedup module ``name`` (compiled if allowed and built)."""
    mod = _loaded.get(name)
    if mod is not None:
        return mod
    if not _DISABLED:
        try:
            mod = importlib.import_module(f"{__name__}._{name}")
            _compiled_used[name] = True
        except ImportError:
            mod = None
    if mod is None:
        mod = importlib.import_module(f"{__name__}.{name}_py")
        _compiled_used[name] = False
    _loaded[name] = mod
    return mod


def speedups_enabled() -> bool:
    """True when the compiled modules are in use (they are built and not disabled)."""
    if _DISABLED:
        return False
    try:
        importlib.import_module(f"{__name__}._varint")
    except ImportError:
        return False
    return True
