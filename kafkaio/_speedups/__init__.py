"""The one switch between the Cython speedups and their pure-Python twins.

Every accelerated module ``_<name>.pyx`` has a twin ``<name>_py.py`` with the same public functions
and the same behaviour. ``load(name)`` returns the compiled module when it was built and
``KAFKAIO_NO_EXTENSIONS`` is not set, otherwise the twin.

A build that compiled extensions (a platform wheel, ``pip install`` with a compiler) installs
``_compiled.txt`` beside this file, naming them. When one of those is missing, ``import kafkaio`` logs
one WARNING on the ``kafkaio`` logger; when one is there but fails to import (a broken ``.so``), the
``load()`` that falls back, or ``speedups_enabled()``, logs it (still one WARNING in all): the user expected compiled code and would
otherwise get the slower twins without a word. The pure wheel
(``KAFKAIO_NO_EXTENSIONS=1`` at build time) and in-place development builds have no marker and never
warn; ``KAFKAIO_NO_EXTENSIONS=1`` at run time is a choice and never warns either.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from types import ModuleType

__all__ = ["COMPILED", "expected_compiled", "load", "speedups_enabled"]

#: The modules that have a compiled version (``_<name>.pyx``); the others (``checksums``) are twins only.
COMPILED = ("hashing", "metadata_cell", "produce_codec", "producer", "records", "varint")

_DISABLED = os.environ.get("KAFKAIO_NO_EXTENSIONS", "") not in ("", "0")
_MARKER = os.path.join(os.path.dirname(__file__), "_compiled.txt")
_loaded: dict[str, ModuleType] = {}
_compiled_used: dict[str, bool] = {}
_warned = False


def expected_compiled() -> frozenset[str]:
    """The module names this installation's build compiled (empty for pure and in-place builds)."""
    try:
        with open(_MARKER, encoding="ascii") as f:
            return frozenset(line.strip() for line in f if line.strip())
    except OSError:
        return frozenset()


def _warn_missing(name: str, why: object) -> None:
    global _warned
    if _warned or _DISABLED or name not in expected_compiled():
        return
    _warned = True
    logging.getLogger("kafkaio").warning(
        "kafkaio: this installation was built with compiled speedups, but kafkaio._speedups._%s cannot "
        "be imported (%s); using the slower pure-Python twins. Reinstall kafkaio, or set "
        "KAFKAIO_NO_EXTENSIONS=1 to choose the pure-Python code and silence this warning.", name, why)


def _check_installed() -> None:
    """At import: warn once if a module the build compiled is not installed at all."""
    for name in sorted(expected_compiled()):
        if importlib.util.find_spec(f"{__name__}._{name}") is None:
            _warn_missing(name, "its binary is missing")
            return


def load(name: str) -> ModuleType:
    """Return the implementation of speedup module ``name`` (compiled if allowed and built)."""
    mod = _loaded.get(name)
    if mod is not None:
        return mod
    if not _DISABLED:
        try:
            mod = importlib.import_module(f"{__name__}._{name}")
            _compiled_used[name] = True
        except ImportError as exc:
            mod = None
            _warn_missing(name, exc)
    if mod is None:
        mod = importlib.import_module(f"{__name__}.{name}_py")
        _compiled_used[name] = False
    _loaded[name] = mod
    return mod


def speedups_enabled() -> bool:
    """True when the compiled modules are in use: every one of them is built and none is disabled."""
    if _DISABLED:
        return False
    for name in COMPILED:
        try:
            importlib.import_module(f"{__name__}._{name}")
        except ImportError as exc:
            _warn_missing(name, exc)
            return False
    return True


if not _DISABLED:
    _check_installed()
