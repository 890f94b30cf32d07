"""The Kafka wire primitives: fixed-width integers, varints, strings, bytes, arrays, uuids.

Encoders append to a ``bytearray`` (``out``); decoders read ``(buf, pos)`` and return
``(value, new_pos)``. ``buf`` is ``bytes`` or a ``memoryview`` of bytes. Every length read from
the wire is checked against the end of the buffer; a violation raises
:class:`~kafkaio.errors.KafkaProtocolError`. Fixed-width reads rely on ``struct.unpack_from``,
which raises ``struct.error`` past the end: the message decoder turns that into the same error.
"""
from __future__ import annotations

import struct
import uuid
from typing import Any

from kafkaio.errors import KafkaProtocolError

INT8 = struct.Struct(">b")
INT16 = struct.Struct(">h")
INT32 = struct.Struct(">i")
INT64 = struct.Struct(">q")
UINT16 = struct.Struct(">H")
UINT32 = struct.Struct(">I")
FLOAT64 = struct.Struct(">d")
BOOL = struct.Struct(">?")

# Struct format character of each fixed-width schema type (used to merge runs of them).
FIXED_FORMATS: dict[str, str] = {
    "int8": "b", "int16": "h", "int32": "i", "int64": "q",
    "uint16": "H", "uint32": "I", "float64": "d", "bool": "?",
}

_pack_i16 = INT16.pack
_pack_i32 = INT32.pack
_unpack_i16 = INT16.unpack_from
_unpack_i32 = INT32.unpack_from

ZERO_UUID = uuid.UUID(int=0)
_NULL16 = b"\xff\xff"
_NULL32 = b"\xff\xff\xff\xff"


def _corrupt(what: str, pos: int) -> KafkaProtocolError:
    return KafkaProtocolError(f"malformed {what} at byte {pos}")


# --- varints ------------------------------------------------------------------------------------


def write_uvarint(out: bytearray, value: int) -> None:
    """Append ``value`` (0 <= value < 2**64) as an unsigned LEB128 varint."""
    if value < 0x80:
        if value < 0:
            raise KafkaProtocolError(f"unsigned varint cannot hold {value}")
        out.append(value)
        return
    if value >> 64:
        raise KafkaProtocolError(f"unsigned varint cannot hold {value}")
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def read_uvarint(buf: Any, pos: int, max_bytes: int = 5) -> tuple[int, int]:
    """Read an unsigned varint of at most ``max_bytes`` bytes (5 for 32-bit, 10 for 64-bit)."""
    try:
        b = buf[pos]
    except IndexError:
        raise _corrupt("varint (truncated)", pos) from None
    if b < 0x80:
        return b, pos + 1
    result = b & 0x7F
    shift = 7
    end = len(buf)
    start = pos
    pos += 1
    while True:
        if pos >= end:
            raise _corrupt("varint (truncated)", start)
        if pos - start >= max_bytes:
            raise _corrupt("varint (too long)", start)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def write_varint(out: bytearray, value: int) -> None:
    """Append a signed 32-bit int as a zigzag varint."""
    if not -0x80000000 <= value <= 0x7FFFFFFF:
        raise KafkaProtocolError(f"varint out of range: {value}")
    write_uvarint(out, ((value << 1) ^ (value >> 31)) & 0xFFFFFFFF)


def read_varint(buf: Any, pos: int) -> tuple[int, int]:
    """Read a zigzag varint (signed 32-bit)."""
    v, pos = read_uvarint(buf, pos, 5)
    if v >> 32:
        raise _corrupt("varint (overflow)", pos)
    return (v >> 1) ^ -(v & 1), pos


def write_varlong(out: bytearray, value: int) -> None:
    """Append a signed 64-bit int as a zigzag varlong."""
    if not -0x8000000000000000 <= value <= 0x7FFFFFFFFFFFFFFF:
        raise KafkaProtocolError(f"varlong out of range: {value}")
    write_uvarint(out, ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF)


def read_varlong(buf: Any, pos: int) -> tuple[int, int]:
    """Read a zigzag varlong (signed 64-bit)."""
    v, pos = read_uvarint(buf, pos, 10)
    if v >> 64:
        raise _corrupt("varlong (overflow)", pos)
    return (v >> 1) ^ -(v & 1), pos


def read_uvarint32(buf: Any, pos: int) -> tuple[int, int]:
    """Read an unsigned varint that must fit in 32 bits."""
    b = buf[pos] if pos < len(buf) else 0x80  # 0x80: let the general reader report truncation
    if b < 0x80:
        return b, pos + 1
    v, pos = read_uvarint(buf, pos, 5)
    if v >> 32:
        raise _corrupt("unsigned varint (overflow)", pos)
    return v, pos


# --- strings ------------------------------------------------------------------------------------


# The writers are flat (no helper calls on the common path): they run once per field per message.


def _not_str(value: Any) -> KafkaProtocolError:
    return KafkaProtocolError(f"expected str, got {type(value).__name__}")


def write_string(out: bytearray, value: str) -> None:
    if not isinstance(value, str):
        raise _not_str(value)
    data = value.encode("utf-8")
    n = len(data)
    if n > 0x7FFF:
        raise KafkaProtocolError(f"string too long ({n} bytes)")
    out += _pack_i16(n)
    out += data


def write_nullable_string(out: bytearray, value: str | None) -> None:
    if value is None:
        out += _NULL16
    else:
        write_string(out, value)


def write_compact_string(out: bytearray, value: str) -> None:
    if not isinstance(value, str):
        raise _not_str(value)
    data = value.encode("utf-8")
    n = len(data) + 1
    if n < 0x80:
        out.append(n)
    else:
        write_uvarint(out, n)
    out += data


def write_compact_nullable_string(out: bytearray, value: str | None) -> None:
    if value is None:
        out.append(0)
    else:
        write_compact_string(out, value)


def _read_utf8(buf: Any, pos: int, n: int) -> tuple[str, int]:
    end = pos + n
    if end > len(buf):
        raise _corrupt("string (length past end)", pos)
    try:
        return str(buf[pos:end], "utf-8"), end
    except UnicodeDecodeError:
        raise _corrupt("string (invalid UTF-8)", pos) from None


def read_string(buf: Any, pos: int) -> tuple[str, int]:
    (n,) = _unpack_i16(buf, pos)
    if n < 0:
        raise _corrupt("string (negative length)", pos)
    return _read_utf8(buf, pos + 2, n)


def read_nullable_string(buf: Any, pos: int) -> tuple[str | None, int]:
    (n,) = _unpack_i16(buf, pos)
    if n < 0:
        if n == -1:
            return None, pos + 2
        raise _corrupt("string (negative length)", pos)
    return _read_utf8(buf, pos + 2, n)


def read_compact_string(buf: Any, pos: int) -> tuple[str, int]:
    n, p = read_uvarint32(buf, pos)
    if n == 0:
        raise _corrupt("compact string (null where not allowed)", pos)
    return _read_utf8(buf, p, n - 1)


def read_compact_nullable_string(buf: Any, pos: int) -> tuple[str | None, int]:
    n, p = read_uvarint32(buf, pos)
    if n == 0:
        return None, p
    return _read_utf8(buf, p, n - 1)


# --- bytes --------------------------------------------------------------------------------------


_BYTES_TYPES = (bytes, bytearray, memoryview)


def _not_bytes(value: Any) -> KafkaProtocolError:
    return KafkaProtocolError(f"expected bytes, got {type(value).__name__}")


def write_bytes(out: bytearray, value: bytes) -> None:
    if not isinstance(value, _BYTES_TYPES):
        raise _not_bytes(value)
    out += _pack_i32(len(value))
    out += value


def write_nullable_bytes(out: bytearray, value: bytes | None) -> None:
    if value is None:
        out += _NULL32
        return
    if not isinstance(value, _BYTES_TYPES):
        raise _not_bytes(value)
    out += _pack_i32(len(value))
    out += value


def write_compact_bytes(out: bytearray, value: bytes) -> None:
    if not isinstance(value, _BYTES_TYPES):
        raise _not_bytes(value)
    n = len(value) + 1
    if n < 0x80:
        out.append(n)
    else:
        write_uvarint(out, n)
    out += value


def write_compact_nullable_bytes(out: bytearray, value: bytes | None) -> None:
    if value is None:
        out.append(0)
    else:
        write_compact_bytes(out, value)


def _slice(buf: Any, pos: int, n: int, what: str) -> tuple[Any, int]:
    end = pos + n
    if end > len(buf):
        raise _corrupt(f"{what} (length past end)", pos)
    return buf[pos:end], end


def read_bytes(buf: Any, pos: int) -> tuple[bytes, int]:
    (n,) = _unpack_i32(buf, pos)
    if n < 0:
        raise _corrupt("bytes (negative length)", pos)
    v, end = _slice(buf, pos + 4, n, "bytes")
    return bytes(v), end


def read_nullable_bytes(buf: Any, pos: int) -> tuple[bytes | None, int]:
    (n,) = _unpack_i32(buf, pos)
    if n < 0:
        if n == -1:
            return None, pos + 4
        raise _corrupt("bytes (negative length)", pos)
    v, end = _slice(buf, pos + 4, n, "bytes")
    return bytes(v), end


def read_compact_bytes(buf: Any, pos: int) -> tuple[bytes, int]:
    n, p = read_uvarint32(buf, pos)
    if n == 0:
        raise _corrupt("compact bytes (null where not allowed)", pos)
    v, end = _slice(buf, p, n - 1, "bytes")
    return bytes(v), end


def read_compact_nullable_bytes(buf: Any, pos: int) -> tuple[bytes | None, int]:
    n, p = read_uvarint32(buf, pos)
    if n == 0:
        return None, p
    v, end = _slice(buf, p, n - 1, "bytes")
    return bytes(v), end


# Records are nullable bytes on the wire; decoding hands back a zero-copy view of the payload.


def read_records(buf: Any, pos: int) -> tuple[Any, int]:
    (n,) = _unpack_i32(buf, pos)
    if n < 0:
        if n == -1:
            return None, pos + 4
        raise _corrupt("records (negative length)", pos)
    return _slice(buf, pos + 4, n, "records")


def read_compact_records(buf: Any, pos: int) -> tuple[Any, int]:
    n, p = read_uvarint32(buf, pos)
    if n == 0:
        return None, p
    return _slice(buf, p, n - 1, "records")


# --- uuid ---------------------------------------------------------------------------------------


def write_uuid(out: bytearray, value: uuid.UUID | bytes | None) -> None:
    if value is None:
        out += ZERO_UUID.bytes
    elif isinstance(value, uuid.UUID):
        out += value.bytes
    elif isinstance(value, (bytes, bytearray)) and len(value) == 16:
        out += value
    else:
        raise KafkaProtocolError(f"expected a uuid.UUID or 16 bytes, got {type(value).__name__}")


_UUID = uuid.UUID
_UUID_UNKNOWN_SAFETY = uuid.SafeUUID.unknown
_new_object = object.__new__
_set_slot = object.__setattr__
_int_from_bytes = int.from_bytes


def read_uuid(buf: Any, pos: int) -> tuple[uuid.UUID, int]:
    end = pos + 16
    if end > len(buf):
        raise _corrupt("uuid (truncated)", pos)
    # The UUID built from its two slots, as uuid's own unpickling does: UUID(bytes=...) checks
    # its five keyword arguments and copies the bytes first, a third of decoding a Produce
    # response (every response names its topics by id from Produce v13 and Fetch v13 on).
    u = _new_object(_UUID)
    _set_slot(u, "int", _int_from_bytes(buf[pos:end], "big"))
    _set_slot(u, "is_safe", _UUID_UNKNOWN_SAFETY)
    return u, end


# --- tagged fields ------------------------------------------------------------------------------


def read_tagged_fields(buf: Any, pos: int) -> tuple[list[tuple[int, int, int]], int]:
    """The tagged fields at ``pos``: ``(tag, start, end)`` of each, in order, and the position
    after them. Tags must ascend and every field must end within ``buf``."""
    n, pos = read_uvarint32(buf, pos)
    if n > len(buf) - pos:
        raise KafkaProtocolError(f"malformed tagged fields at byte {pos}")
    found = []
    last = -1
    for _ in range(n):
        tag, pos = read_uvarint32(buf, pos)
        size, pos = read_uvarint32(buf, pos)
        end = pos + size
        if end > len(buf) or tag <= last:
            raise KafkaProtocolError(f"malformed tagged field {tag} at byte {pos}")
        last = tag
        found.append((tag, pos, end))
        pos = end
    return found, pos


# --- array lengths ------------------------------------------------------------------------------


def read_array_length(buf: Any, pos: int, compact: bool, nullable: bool) -> tuple[int, int]:
    """Read an array's element count; -1 means null. A count that cannot fit in the remaining
    bytes (every element takes at least one byte) is rejected before any element is decoded."""
    if compact:
        b = buf[pos] if pos < len(buf) else 0x80
        if b < 0x80:
            n, p = b - 1, pos + 1
        else:
            n, p = read_uvarint32(buf, pos)
            n -= 1
    else:
        (n,) = _unpack_i32(buf, pos)
        p = pos + 4
    if n < 0:
        if n == -1 and nullable:
            return -1, p
        raise _corrupt("array (null or negative length)", pos)
    if n > len(buf) - p:
        raise _corrupt("array (length past end)", pos)
    return n, p
