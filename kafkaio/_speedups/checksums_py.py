"""Checksums of the record formats, computed once per batch.

CRC-32C (batch v2) comes from the ``crc32c`` package, which uses the CPU's CRC instructions and
releases the GIL on large buffers; CRC-32 (legacy magic 0/1 messages) comes from zlib. There is no
compiled twin: both are already C.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable

_crc32c: Callable[[bytes | bytearray | memoryview], int] | None = None


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data`` as an unsigned 32-bit integer."""
    global _crc32c
    if _crc32c is None:
        # imported on first use: the package reads its own metadata at import, tens of milliseconds
        # in every process that imports kafkaio
        from crc32c import crc32c as package_crc32c
        _crc32c = package_crc32c
    return _crc32c(data)


def crc32(data: bytes | bytearray | memoryview) -> int:
    """CRC-32 (IEEE, zlib's) of ``data`` as an unsigned 32-bit integer."""
    return zlib.crc32(data)
