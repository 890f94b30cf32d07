"""Kafka's variable-length integers (pure-Python twin of ``_varint``).

``varint``/``varlong`` are zigzag-encoded signed 32/64-bit integers (protobuf style, 7 bits per byte,
least significant group first); ``unsigned_varint`` is the same without zigzag. A varint is at most 5
bytes and a varlong at most 10: longer or truncated input raises ``CorruptRecordError``.
"""
from __future__ import annotations

from kafkaio.records._errors import CorruptRecordError

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _encode_unsigned(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _size_unsigned(v: int) -> int:
    n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


def _decode_unsigned(buf: bytes | bytearray | memoryview, pos: int, max_bytes: int) -> tuple[int, int]:
    result = shift = 0
    end = len(buf)
    if pos < 0:
        raise IndexError("negative position")
    for i in range(max_bytes):
        if pos >= end:
            raise CorruptRecordError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    raise CorruptRecordError(f"varint longer than {max_bytes} bytes")


def _check(value: int, lo: int, hi: int, what: str) -> None:
    if not lo <= value <= hi:
        raise OverflowError(f"{value} does not fit in a {what}")


def encode_varint(value: int) -> bytes:
    """Zigzag varint of a signed 32-bit integer."""
    _check(value, _INT32_MIN, _INT32_MAX, "varint")
    return _encode_unsigned(((value << 1) ^ (value >> 31)) & 0xFFFFFFFF)


def encode_varlong(value: int) -> bytes:
    """Zigzag varint of a signed 64-bit integer."""
    _check(value, _INT64_MIN, _INT64_MAX, "varlong")
    return _encode_unsigned(((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF)


def encode_unsigned_varint(value: int) -> bytes:
    """Unsigned varint of a 32-bit unsigned integer."""
    _check(value, 0, 0xFFFFFFFF, "unsigned varint")
    return _encode_unsigned(value)


def size_of_varint(value: int) -> int:
    """Encoded length of ``encode_varint(value)``."""
    _check(value, _INT32_MIN, _INT32_MAX, "varint")
    return _size_unsigned(((value << 1) ^ (value >> 31)) & 0xFFFFFFFF)


def size_of_varlong(value: int) -> int:
    """Encoded length of ``encode_varlong(value)``."""
    _check(value, _INT64_MIN, _INT64_MAX, "varlong")
    return _size_unsigned(((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF)


def size_of_unsigned_varint(value: int) -> int:
    """Encoded length of ``encode_unsigned_varint(value)``."""
    _check(value, 0, 0xFFFFFFFF, "unsigned varint")
    return _size_unsigned(value)


def decode_varint(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """Read a zigzag varint at ``pos``: ``(value, position after it)``."""
    u, pos = _decode_unsigned(buf, pos, 5)
    u &= 0xFFFFFFFF  # Java keeps the low 32 bits of a 5-byte varint
    return (u >> 1) ^ -(u & 1), pos


def decode_varlong(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """Read a zigzag varlong at ``pos``: ``(value, position after it)``."""
    u, pos = _decode_unsigned(buf, pos, 10)
    u &= 0xFFFFFFFFFFFFFFFF
    return (u >> 1) ^ -(u & 1), pos


def decode_unsigned_varint(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """Read an unsigned varint at ``pos``: ``(value, position after it)``."""
    u, pos = _decode_unsigned(buf, pos, 5)
    return u & 0xFFFFFFFF, pos
