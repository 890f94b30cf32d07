"""Record batches: builder, reader, codecs, control records, legacy message sets.

The builder, the reader and ``ConsumerRecord`` come from ``kafkaio._speedups.load("records")`` (the
compiled ``_records`` when built, else its pure twin ``records_py``). They are resolved on first use,
so that the implementations can import the plain submodules (``enums``, ``codecs``, ``legacy``)
without an import cycle.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kafkaio.records._errors import CorruptRecordError
from kafkaio.records.enums import Compression, ControlType, TimestampType

if TYPE_CHECKING:  # what __getattr__ resolves to: the compiled module's stub types both implementations
    from kafkaio._speedups._records import Batch as Batch
    from kafkaio._speedups._records import BatchBuilder as BatchBuilder
    from kafkaio._speedups._records import ConsumerRecord as ConsumerRecord
    from kafkaio._speedups._records import read_batches as read_batches
    from kafkaio._speedups._records import rewrite_producer_state as rewrite_producer_state

_IMPL_NAMES = ("BatchBuilder", "read_batches", "Batch", "ConsumerRecord", "rewrite_producer_state")

__all__ = [*_IMPL_NAMES, "Compression", "ControlType", "TimestampType", "CorruptRecordError",
           "implementation"]


def implementation() -> Any:
    """The module providing the builder and reader (compiled or pure)."""
    from kafkaio._speedups import load

    return load("records")


def __getattr__(name: str) -> Any:
    if name in _IMPL_NAMES:
        value = getattr(implementation(), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kafkaio.records' has no attribute {name!r}")
