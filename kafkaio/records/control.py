"""Control records: the transaction markers (and KRaft's own control types) in control batches.

A control record's key is ``version int16, type int16``; its value (for markers) is
``version int16, coordinator_epoch int32``. Control batches hold exactly one control record.
"""
from __future__ import annotations

import struct

from kafkaio._speedups.varint_py import decode_varint, decode_varlong
from kafkaio.records._errors import CorruptRecordError
from kafkaio.records.enums import ControlType

_KEY = struct.Struct(">hh")


def control_type_of(records: bytes | memoryview, record_count: int) -> ControlType:
    """The type of the first control record in a (decompressed) records section of a control batch."""
    if record_count < 1:
        raise CorruptRecordError("control batch without a control record")
    length, pos = decode_varint(records, 0)
    if length < 1 or length > len(records) - pos:
        raise CorruptRecordError(f"control record length {length} past the end of the batch")
    end = pos + length
    pos += 1  # record attributes
    _, pos = decode_varlong(records, pos)
    _, pos = decode_varint(records, pos)
    key_len, pos = decode_varint(records, pos)
    if key_len < 4 or key_len > end - pos:
        raise CorruptRecordError(f"control record key length {key_len} invalid")
    version, ctype = _KEY.unpack_from(records, pos)
    if version < 0:
        raise CorruptRecordError(f"invalid control record version {version}")
    try:
        return ControlType(ctype)
    except ValueError:
        return ControlType.UNKNOWN
