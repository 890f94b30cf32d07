"""Where the record layer (and the compiled varint module) gets ``CorruptRecordError`` from:
``kafkaio.errors`` owns the class."""
from __future__ import annotations

from kafkaio.errors import CorruptRecordError

__all__ = ["CorruptRecordError"]
