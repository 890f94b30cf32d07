"""Legacy message sets (magic 0 and 1), which old topics may still hold: reading, and writing for tests.

A legacy entry is ``offset int64, size int32`` followed by a message::

    crc uint32 (CRC-32 of magic..end), magic int8, attributes int8 (bits 0-2 codec, bit 3 log-append
    time), [timestamp int64, magic 1 only], key (int32 length, -1 = null), value (same)

A compressed message is a wrapper whose value is a compressed message set. Inside a magic 1 wrapper
the inner offsets are relative and the wrapper carries the absolute offset of the last inner message;
inside a magic 0 wrapper they are absolute. Like the Java client, each top-level entry is presented as
one "batch" with the same attributes as a record batch v2 (without producer state).

This path is rare and never hot, so it is shared by the compiled and the pure reader.
"""
from __future__ import annotations

import struct
import zlib
from typing import Any, Iterable

from kafkaio.records._errors import CorruptRecordError
from kafkaio.records.codecs import compress, decompress, fix_legacy_lz4_header
from kafkaio.records.enums import Compression, TimestampType

MIN_MESSAGE_SIZE_V0 = 14  # crc, magic, attributes, key length, value length
_MIN_SIZE = {0: 14, 1: 22}
_ENTRY = struct.Struct(">qi")
_CRC_MAGIC_ATTRS = struct.Struct(">IbB")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")


def _records_type() -> Any:
    from kafkaio._speedups import load  # late: the record implementation imports this module

    return load("records").ConsumerRecord


class _Message:
    __slots__ = ("offset", "magic", "attributes", "timestamp", "key", "value")

    def __init__(self, offset: int, magic: int, attributes: int, timestamp: int, key: bytes | None,
                 value: bytes | None) -> None:
        self.offset = offset
        self.magic = magic
        self.attributes = attributes
        self.timestamp = timestamp
        self.key = key
        self.value = value


def _parse_message(view: memoryview, pos: int, size: int, check_crcs: bool) -> _Message:
    """Parse the entry at ``pos`` whose total size (offset and size fields included) is ``size``."""
    end = pos + size
    (offset, _length) = _ENTRY.unpack_from(view, pos)
    crc, magic, attributes = _CRC_MAGIC_ATTRS.unpack_from(view, pos + 12)
    if magic not in (0, 1):
        raise CorruptRecordError(f"invalid magic byte {magic} in legacy message")
    if size - 12 < _MIN_SIZE[magic]:
        raise CorruptRecordError(f"legacy message size {size - 12} below the minimum for magic {magic}")
    if check_crcs and zlib.crc32(view[pos + 16:end]) != crc:
        raise CorruptRecordError(f"CRC mismatch in legacy message at offset {offset}")
    p = pos + 18
    timestamp = -1
    if magic == 1:
        (timestamp,) = _INT64.unpack_from(view, p)
        p += 8
    fields: list[bytes | None] = []
    for what in ("key", "value"):
        if p + 4 > end:
            raise CorruptRecordError(f"legacy message {what} length past the end")
        (n,) = _INT32.unpack_from(view, p)
        p += 4
        if n < 0:
            if n != -1:
                raise CorruptRecordError(f"negative legacy message {what} length {n}")
            fields.append(None)
        elif n > end - p:
            raise CorruptRecordError(f"legacy message {what} length {n} past the end")
        else:
            fields.append(bytes(view[p:p + n]))
            p += n
    if p != end:
        raise CorruptRecordError("legacy message size disagrees with its content")
    return _Message(offset, magic, attributes, timestamp, fields[0], fields[1])


def _inner_messages(wrapper: _Message, check_crcs: bool) -> list[_Message]:
    if wrapper.value is None:
        raise CorruptRecordError("compressed legacy message without a value")
    codec = wrapper.attributes & 0x07
    try:
        data = memoryview(decompress(codec, wrapper.value))
    except CorruptRecordError:
        if codec != Compression.LZ4 or wrapper.magic != 0:
            raise
        # magic 0 LZ4 from Kafka < 0.10 carries a wrongly computed descriptor checksum
        data = memoryview(decompress(codec, fix_legacy_lz4_header(wrapper.value)))
    out: list[_Message] = []
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 12:
            raise CorruptRecordError("truncated message inside a compressed legacy message")
        (length,) = _INT32.unpack_from(data, pos + 8)
        if length < MIN_MESSAGE_SIZE_V0 or length > end - pos - 12:
            raise CorruptRecordError(f"invalid inner legacy message size {length}")
        msg = _parse_message(data, pos, length + 12, check_crcs)
        if msg.attributes & 0x07:
            raise CorruptRecordError("nested compression in a legacy message set")
        out.append(msg)
        pos += length + 12
    if not out:
        raise CorruptRecordError("empty compressed legacy message")
    if wrapper.magic == 1:
        base = wrapper.offset - out[-1].offset
        if base < 0:
            raise CorruptRecordError(f"invalid wrapper offset {wrapper.offset} in a compressed v1 message")
        for m in out:
            m.offset += base
    return out


class LegacyBatch:
    """A top-level legacy entry seen as a batch (a single message, or a compressed wrapper's content)."""

    is_control = False
    is_transactional = False
    producer_id = -1
    producer_epoch = -1
    base_sequence = -1
    partition_leader_epoch = -1
    control_type = None

    def __init__(self, view: memoryview, pos: int, size: int, check_crcs: bool) -> None:
        self._wrapper = _parse_message(view, pos, size, check_crcs)
        self._check_crcs = check_crcs
        self._inner: list[_Message] | None = None
        self.size_in_bytes = size
        self.magic = self._wrapper.magic
        self.last_offset = self._wrapper.offset
        self.next_offset = self._wrapper.offset + 1
        self.max_timestamp = self._wrapper.timestamp

    def _messages(self) -> list[_Message]:
        if self._inner is None:
            self._inner = _inner_messages(self._wrapper, self._check_crcs) if self.compression else [self._wrapper]
        return self._inner

    @property
    def compression(self) -> int:
        codec = self._wrapper.attributes & 0x07
        if codec > 3:
            raise CorruptRecordError(f"invalid codec {codec} in legacy message")
        return Compression(codec)

    @property
    def timestamp_type(self) -> TimestampType:
        if self.magic == 0:
            return TimestampType.NO_TIMESTAMP_TYPE
        return TimestampType.LOG_APPEND_TIME if self._wrapper.attributes & 0x08 else TimestampType.CREATE_TIME

    @property
    def base_offset(self) -> int:
        return self._messages()[0].offset

    @property
    def record_count(self) -> int:
        return len(self._messages())

    def records(self, topic: str, partition: int) -> list[Any]:
        """The entry's records as ConsumerRecords."""
        record_type = _records_type()
        ts_type = self.timestamp_type
        log_append = ts_type == TimestampType.LOG_APPEND_TIME
        out = []
        for m in self._messages():
            ts = self._wrapper.timestamp if log_append else m.timestamp
            out.append(record_type(topic, partition, m.offset, ts, ts_type, m.key, m.value, [], -1))
        return out

    def __repr__(self) -> str:
        return f"LegacyBatch(magic={self.magic}, last_offset={self.last_offset})"


def encode_message(offset: int, magic: int, attributes: int, timestamp: int, key: bytes | None,
                   value: bytes | None) -> bytes:
    """One legacy entry (offset, size, message) with its CRC-32 (for tests and tools)."""
    body = bytearray(struct.pack(">bB", magic, attributes))
    if magic == 1:
        body += _INT64.pack(timestamp)
    for data in (key, value):
        if data is None:
            body += _INT32.pack(-1)
        else:
            body += _INT32.pack(len(data)) + data
    message = struct.pack(">I", zlib.crc32(body)) + bytes(body)
    return _ENTRY.pack(offset, len(message)) + message


def encode_message_set(messages: Iterable[tuple[int, int, bytes | None, bytes | None]], magic: int,
                       compression: int = Compression.NONE, log_append_time: int | None = None) -> bytes:
    """A legacy message set of ``(offset, timestamp, key, value)`` entries, optionally compressed the way
    old brokers stored it (one wrapper; relative inner offsets for magic 1). For tests and tools."""
    entries = list(messages)
    if not compression:
        return b"".join(encode_message(o, magic, 0, ts, k, v) for o, ts, k, v in entries)
    base = entries[0][0]
    inner = b"".join(
        encode_message(o - base if magic == 1 else o, magic, 0, ts, k, v) for o, ts, k, v in entries
    )
    attrs = int(compression) | (0x08 if log_append_time is not None else 0)
    wrapper_ts = log_append_time if log_append_time is not None else max(e[1] for e in entries)
    return encode_message(entries[-1][0], magic, attrs, wrapper_ts, None, compress(compression, inner))
