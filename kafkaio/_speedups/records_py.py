"""Record batch v2: builder and reader (pure-Python twin of ``_records``).

The layout, as the Java client writes it (big-endian, offsets in bytes)::

    0  base_offset int64          27 base_timestamp int64       53 base_sequence int32
    8  batch_length int32         35 max_timestamp int64        57 record_count int32
    12 partition_leader_epoch     43 producer_id int64          61 records (maybe compressed)
    16 magic int8 (2)             51 producer_epoch int16
    17 crc uint32 (CRC-32C of bytes 21..end)
    21 attributes int16 (bits 0-2 codec, 3 log-append time, 4 transactional, 5 control)
    23 last_offset_delta int32

    record: length varint, attributes int8, timestamp_delta varlong, offset_delta varint,
            key (varint length, -1 = null), value (same), header count varint,
            headers: key (varint length + UTF-8), value (varint length, -1 = null)

The compiled twin must produce the same bytes and decode to the same values; the tests check it.
"""
from __future__ import annotations

import struct
from typing import Any, Iterator, Sequence

from kafkaio._speedups.checksums_py import crc32c
from kafkaio._speedups.varint_py import decode_varint, decode_varlong, encode_varint, encode_varlong
from kafkaio.records import legacy
from kafkaio.records._errors import CorruptRecordError
from kafkaio.records.codecs import check_level, compress, decompress
from kafkaio.records.control import control_type_of
from kafkaio.records.enums import Compression, ControlType, TimestampType

HEADER_SIZE = 61
_LOG_OVERHEAD = 12  # base_offset + batch_length
_MIN_RECORD_SIZE = 7  # length, attributes, ts delta, offset delta, key len, value len, header count
_HEADER = struct.Struct(">qiibIhiqqqhii")
_PRODUCER_STATE = struct.Struct(">qhi")
_CRC = struct.Struct(">I")
_INT64_MASK = (1 << 64) - 1
_TS_TYPES = (TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME)

Header = tuple[str, "bytes | None"]


def _wrap64(v: int) -> int:
    """Java ``long`` arithmetic: wrap to a signed 64-bit value."""
    v &= _INT64_MASK
    return v - (1 << 64) if v >> 63 else v


class ConsumerRecord:
    """One record as the consumer hands it out; attributes are writable (deserializers replace them)."""

    __slots__ = ("topic", "partition", "offset", "timestamp", "timestamp_type", "key", "value", "_headers",
                 "leader_epoch")

    def __init__(self, topic: str, partition: int, offset: int, timestamp: int, timestamp_type: int,
                 key: Any, value: Any, headers: list[Header], leader_epoch: int = -1) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestamp_type = timestamp_type
        self.key = key
        self.value = value
        self._headers = headers
        self.leader_epoch = leader_epoch

    @property
    def headers(self) -> list[Header]:
        """``list[tuple[str, bytes | None]]`` (an empty list when the record has none, as compiled)."""
        if self._headers is None:
            self._headers = []
        return self._headers

    @headers.setter
    def headers(self, value: list[Header]) -> None:
        self._headers = value

    def __repr__(self) -> str:
        return (f"ConsumerRecord(topic={self.topic!r}, partition={self.partition}, offset={self.offset}, "
                f"timestamp={self.timestamp}, timestamp_type={self.timestamp_type!r}, key={self.key!r}, "
                f"value={self.value!r}, headers={self.headers!r}, leader_epoch={self.leader_epoch})")


def _as_bytes(data: Any, what: str) -> bytes:
    if type(data) is bytes:
        return data
    try:
        return memoryview(data).tobytes()
    except TypeError:
        raise TypeError(f"record {what} must be bytes-like or None, not {type(data).__name__}") from None


def _write_bytes(out: bytearray, data: Any, what: str) -> None:
    if data is None:
        out += b"\x01"  # varint -1
    else:
        b = _as_bytes(data, what)
        out += encode_varint(len(b))
        out += b


class BatchBuilder:
    """Appends records into one growing buffer and turns them into a record batch v2."""

    def __init__(self, compression: int = Compression.NONE, batch_size: int = 16384,
                 compression_level: int | None = None, transactional: bool = False, magic: int = 2) -> None:
        if magic != 2:
            raise ValueError(f"only record batch magic 2 can be written, not {magic}")
        if compression not in (0, 1, 2, 3, 4):
            raise ValueError(f"unknown compression codec {compression!r}")
        check_level(compression, compression_level)
        self._codec = int(compression)
        self._level = compression_level
        self._batch_size = batch_size
        self._transactional = bool(transactional)
        self._records = bytearray()
        self._count = 0
        self._base_ts = 0
        self._max_ts = -1
        self._built: bytes | None = None

    @property
    def record_count(self) -> int:
        """Number of records appended so far."""
        return self._count

    def estimated_size(self) -> int:
        """Size of the batch so far, before compression (what ``batch_size`` is compared with)."""
        return HEADER_SIZE + len(self._records)

    def append(self, timestamp_ms: int, key: Any, value: Any, headers: Sequence[Header] | None = None) -> int:
        """Append a record; its offset delta, or -1 when it does not fit (the first record always fits)."""
        if not isinstance(timestamp_ms, int):
            raise TypeError(f"record timestamp must be an int, not {type(timestamp_ms).__name__}")
        if not -0x8000000000000000 <= timestamp_ms <= 0x7FFFFFFFFFFFFFFF:
            raise OverflowError("record timestamp does not fit in 64 bits")
        if timestamp_ms < -1:
            raise ValueError(f"invalid negative timestamp {timestamp_ms}")
        if self._count == 0x7FFFFFFF:
            return -1
        base = timestamp_ms if self._count == 0 else self._base_ts
        body = bytearray(b"\x00")
        body += encode_varlong(_wrap64(timestamp_ms - base))
        body += encode_varint(self._count)
        _write_bytes(body, key, "key")
        _write_bytes(body, value, "value")
        if headers is not None and not isinstance(headers, (list, tuple)):
            headers = list(headers)  # any iterable of pairs, as the compiled builder takes
        if headers:
            body += encode_varint(len(headers))
            for hkey, hvalue in headers:
                if type(hkey) is not str:
                    raise TypeError(f"header keys must be str, not {type(hkey).__name__}")
                kb = hkey.encode("utf-8")
                body += encode_varint(len(kb))
                body += kb
                _write_bytes(body, hvalue, "header value")
        else:
            body += b"\x00"
        size_prefix = encode_varint(len(body))
        if self._count and HEADER_SIZE + len(self._records) + len(size_prefix) + len(body) > self._batch_size:
            return -1
        self._records += size_prefix
        self._records += body
        self._base_ts = base
        if timestamp_ms > self._max_ts:
            self._max_ts = timestamp_ms
        self._built = None
        delta = self._count
        self._count += 1
        return delta

    def build(self, producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1) -> bytes:
        """The finished batch (compressed and CRC'd); b"" when no record was appended."""
        if self._count == 0:
            return b""
        if self._built is None:
            payload = bytes(self._records)
            if self._codec:
                payload = compress(self._codec, payload, self._level)
            attributes = self._codec | (0x10 if self._transactional else 0)
            header = _HEADER.pack(0, HEADER_SIZE - _LOG_OVERHEAD + len(payload), -1, 2, 0, attributes,
                                  self._count - 1, self._base_ts, self._max_ts, -1, -1, -1, self._count)
            self._built = header + payload
        return rewrite_producer_state(self._built, producer_id, producer_epoch, base_sequence)


def rewrite_producer_state(data: bytes, producer_id: int, producer_epoch: int, base_sequence: int) -> bytes:
    """A copy of batch ``data`` with new producer id, epoch and base sequence, and its CRC recomputed."""
    if len(data) < HEADER_SIZE or data[16] != 2:
        raise ValueError("not a record batch v2")
    out = bytearray(data)
    _PRODUCER_STATE.pack_into(out, 43, producer_id, producer_epoch, base_sequence)
    _CRC.pack_into(out, 17, crc32c(memoryview(out)[21:]))
    return bytes(out)


def _read_bytes(buf: Any, pos: int, end: int, what: str) -> tuple[bytes | None, int]:
    n, pos = decode_varint(buf, pos)
    if n < 0:
        if n != -1:
            raise CorruptRecordError(f"negative {what} length {n}")
        return None, pos
    if n > end - pos:
        raise CorruptRecordError(f"{what} length {n} past the end of the record")
    return bytes(buf[pos:pos + n]), pos + n


def _check_count(count: int, available: int) -> None:
    if count < 0 or count > available // _MIN_RECORD_SIZE:
        raise CorruptRecordError(f"record count {count} impossible for {available} bytes of records")


class Batch:
    """A record batch v2 inside a fetched record set; records are decoded when asked for."""

    __slots__ = ("_buf", "_pos", "_size", "base_offset", "partition_leader_epoch", "magic", "crc",
                 "attributes", "last_offset_delta", "base_timestamp", "max_timestamp", "producer_id",
                 "producer_epoch", "base_sequence", "record_count")
    base_offset: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    def __init__(self, buf: memoryview, pos: int, size: int) -> None:
        self._buf = buf
        self._pos = pos
        self._size = size
        (self.base_offset, _, self.partition_leader_epoch, self.magic, self.crc, self.attributes,
         self.last_offset_delta, self.base_timestamp, self.max_timestamp, self.producer_id,
         self.producer_epoch, self.base_sequence, self.record_count) = _HEADER.unpack_from(buf, pos)

    @property
    def size_in_bytes(self) -> int:
        """Bytes the batch occupies in the record set, header included."""
        return self._size

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> Compression | int:
        return Compression(self.attributes & 0x07) if self.attributes & 0x07 <= 4 else self.attributes & 0x07

    @property
    def timestamp_type(self) -> TimestampType:
        return _TS_TYPES[(self.attributes >> 3) & 1]

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & 0x10)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & 0x20)

    def is_valid(self) -> bool:
        """Whether the stored CRC-32C matches the batch bytes."""
        return crc32c(self._buf[self._pos + 21:self._pos + self._size]) == self.crc

    def _records_section(self) -> bytes | memoryview:
        data = self._buf[self._pos + HEADER_SIZE:self._pos + self._size]
        codec = self.attributes & 0x07
        return decompress(codec, data) if codec else data

    @property
    def control_type(self) -> ControlType | None:
        """For a control batch, the type of its control record (ABORT/COMMIT markers); else None."""
        if not self.attributes & 0x20:
            return None
        return control_type_of(self._records_section(), self.record_count)

    def records(self, topic: str, partition: int) -> list[ConsumerRecord]:
        """The batch's records (an empty list for control batches, which the user never sees)."""
        if self.attributes & 0x20:
            return []
        data = self._records_section()
        end = len(data)
        count = self.record_count
        _check_count(count, end)
        base_offset = self.base_offset
        base_ts = self.base_timestamp
        log_append = self.attributes & 0x08
        ts_type = _TS_TYPES[1 if log_append else 0]
        epoch = self.partition_leader_epoch
        out = []
        pos = 0
        for _ in range(count):
            length, pos = decode_varint(data, pos)
            if length < 0 or length > end - pos:
                raise CorruptRecordError(f"record length {length} past the end of the batch")
            rec_end = pos + length
            if length < 1:
                raise CorruptRecordError("record too short")
            pos += 1  # record attributes: unused
            ts_delta, pos = decode_varlong(data, pos)
            off_delta, pos = decode_varint(data, pos)
            key, pos = _read_bytes(data, pos, rec_end, "key")
            value, pos = _read_bytes(data, pos, rec_end, "value")
            nheaders, pos = decode_varint(data, pos)
            if nheaders < 0 or nheaders > rec_end - pos:
                raise CorruptRecordError(f"invalid header count {nheaders}")
            headers = []
            for _h in range(nheaders):
                hkey, pos = _read_bytes(data, pos, rec_end, "header key")
                if hkey is None:
                    raise CorruptRecordError("null header key")
                hkey_str = hkey.decode("utf-8", "replace")  # as Java decodes header keys
                hvalue, pos = _read_bytes(data, pos, rec_end, "header value")
                headers.append((hkey_str, hvalue))
            if pos != rec_end:
                raise CorruptRecordError(f"record length {length} disagrees with its content")
            ts = self.max_timestamp if log_append else _wrap64(base_ts + ts_delta)
            out.append(ConsumerRecord(topic, partition, base_offset + off_delta, ts, ts_type, key, value,
                                      headers, epoch))
        if pos != end:
            raise CorruptRecordError("bytes left over after the batch's last record")
        return out

    def __repr__(self) -> str:
        return (f"Batch(base_offset={self.base_offset}, last_offset={self.last_offset}, "
                f"records={self.record_count}, compression={self.compression!r}, "
                f"control={self.is_control}, transactional={self.is_transactional})")


def read_batches(buf: Any, check_crcs: bool = True) -> Iterator[Any]:
    """The batches of a fetched record set, one by one; stops quietly at a partial trailing batch."""
    view = memoryview(buf)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    end = len(view)
    pos = 0
    while end - pos >= _LOG_OVERHEAD:
        (length,) = struct.unpack_from(">i", view, pos + 8)
        if length < legacy.MIN_MESSAGE_SIZE_V0:
            raise CorruptRecordError(f"record batch size {length} smaller than the minimum")
        if end - pos < 17:
            return
        magic = view[pos + 16]
        if magic > 2:
            raise CorruptRecordError(f"invalid magic byte {magic} in record batch")
        size = length + _LOG_OVERHEAD
        if end - pos < size:
            return
        if magic == 2:
            if size < HEADER_SIZE:
                raise CorruptRecordError(f"record batch size {length} smaller than the v2 header")
            batch = Batch(view, pos, size)
            if check_crcs and not batch.is_valid():
                raise CorruptRecordError(f"CRC mismatch in record batch at offset {batch.base_offset}")
            yield batch
        else:
            yield legacy.LegacyBatch(view, pos, size, check_crcs)
        pos += size
