"""Where the record layer gets ``CorruptRecordError`` from.

``kafkaio.errors`` (another layer) owns the class; until it exists this module stands in with a
compatible local definition so that the record layer stays importable on its own.
"""
from __future__ import annotations

try:
    from kafkaio.errors import CorruptRecordError
except ImportError:  # pragma: no cover - shim until kafkaio/errors.py lands
    class CorruptRecordError(Exception):  # type: ignore[no-redef]
        """A record batch failed validation (Kafka error code 2, CORRUPT_MESSAGE)."""

        errno = 2
        retriable = True
        invalid_metadata = False

__all__ = ["CorruptRecordError"]
