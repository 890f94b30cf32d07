"""Checksums of the record formats, computed once per batch.

CRC-32C (batch v2) comes from the ``crc32c`` package, which uses the CPU's CRC instructions and
releases the GIL on large buffers; CRC-32 (legacy magic 0/1 messages) comes from zlib. There is no
compiled twin: both are already C.
"""
from __future__ import annotations

import zlib

from crc32c import crc32c as _crc32c


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data`` as an unsigned 32-bit integer."""
    return _crc32c(data)


def crc32(data: bytes | bytearray | memoryview) -> int:
    """CRC-32 (IEEE, zlib's) of ``data`` as an unsigned 32-bit integer."""
    return zlib.crc32(data)
