"""The implementations of the producer's hot path under test: the pure twin, and the compiled module
when it was built; ``impl`` runs a test once with each."""
from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import kafkaio.producer.future  # noqa: F401 - defines RecordMetadata before the speedups load it


def _implementations() -> list[ModuleType]:
    mods = [importlib.import_module("kafkaio._speedups.producer_py")]
    try:
        mods.append(importlib.import_module("kafkaio._speedups._producer"))
    except ImportError:  # not built: the twin alone is checked
        pass
    return mods


IMPLS = _implementations()


@pytest.fixture(params=IMPLS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    return request.param


def metadata_cell(impl: ModuleType) -> type:
    """The ``MetadataCell`` type ``impl``'s appender reads: the compiled one for the compiled module
    (it reads the cell's C field), the twin for the twin."""
    compiled = not impl.__name__.endswith("_py")
    return importlib.import_module("kafkaio._speedups._metadata_cell" if compiled
                                   else "kafkaio._speedups.metadata_cell_py").MetadataCell
