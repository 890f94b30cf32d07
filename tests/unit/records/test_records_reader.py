"""read_batches: laziness, partial trailing batches, control batches, and every kind of corruption."""
from __future__ import annotations

import struct

import cramjam
import pytest
from records_testlib import implementations, patch_header, with_records_section

from kafkaio.errors import CorruptRecordError
from kafkaio.records import Compression, ControlType, TimestampType


@pytest.fixture(params=implementations("records"))
def impl(request):
    return request.param


def _batch(impl, n=3, codec=Compression.NONE, base_offset=0, headers=None):
    b = impl.BatchBuilder(codec, 1 << 20)
    for i in range(n):
        b.append(1000 + i, b"k%d" % i, b"v%d" % i, headers)
    return patch_header(b.build(), ">q", 0, base_offset, fix_crc=False)  # base offset is outside the CRC


def test_reads_several_batches_and_stops_at_a_partial_trailing_one(impl):
    a, b = _batch(impl, 3, base_offset=10), _batch(impl, 2, Compression.GZIP, base_offset=13)
    data = a + b + a[:40]
    offsets = [[r.offset for r in batch.records("t", 0)] for batch in impl.read_batches(data)]
    assert offsets == [[10, 11, 12], [13, 14]]
    for cut in range(len(a)):  # every truncation of a lone batch: nothing, cleanly
        assert list(impl.read_batches(a[:cut])) == []


def test_accepts_bytes_bytearray_and_memoryview(impl):
    a = _batch(impl)
    for buf in (a, bytearray(a), memoryview(b"xx" + a)[2:]):
        assert [r.value for b in impl.read_batches(buf) for r in b.records("t", 0)] == [b"v0", b"v1", b"v2"]


def test_is_lazy(impl):
    data = _batch(impl) + b"\x00" * 8 + struct.pack(">i", -5) + b"\x00" * 20
    it = iter(impl.read_batches(data))
    assert next(it).base_offset == 0  # the corrupt second batch is not looked at yet
    with pytest.raises(CorruptRecordError):
        next(it)


def test_records_know_topic_partition_and_leader_epoch(impl):
    data = patch_header(_batch(impl), ">i", 12, 7, fix_crc=False)  # leader epoch sits before the CRC
    [rec, *_] = next(iter(impl.read_batches(data))).records("orders", 4)
    assert (rec.topic, rec.partition, rec.offset, rec.timestamp, rec.leader_epoch) == ("orders", 4, 0, 1000, 7)


def test_log_append_time_uses_the_batch_max_timestamp(impl):
    data = patch_header(_batch(impl), ">h", 21, 0x08)
    data = patch_header(data, ">q", 35, 5555)
    batch = next(iter(impl.read_batches(data)))
    assert batch.timestamp_type == TimestampType.LOG_APPEND_TIME
    assert {(r.timestamp, r.timestamp_type) for r in batch.records("t", 0)} == {(5555, TimestampType.LOG_APPEND_TIME)}


def test_raw_snappy_records_section_is_readable(impl):
    plain = _batch(impl)
    data = with_records_section(plain, bytes(cramjam.snappy.compress_raw(plain[61:])), attributes=2)
    assert [r.key for r in next(iter(impl.read_batches(data))).records("t", 0)] == [b"k0", b"k1", b"k2"]


def test_control_batch_exposes_its_type_and_hides_its_record(impl):
    b = impl.BatchBuilder(Compression.NONE, 1 << 20, transactional=True)
    b.append(1, struct.pack(">hh", 0, 1), struct.pack(">hi", 0, 3), None)
    data = patch_header(b.build(8, 1, -1), ">h", 21, 0x30)
    batch = next(iter(impl.read_batches(data)))
    assert batch.is_control and batch.control_type == ControlType.COMMIT and batch.records("t", 0) == []
    odd = with_records_section(data, data[61:].replace(struct.pack(">hh", 0, 1), struct.pack(">hh", 0, 99)))
    assert next(iter(impl.read_batches(odd))).control_type == ControlType.UNKNOWN


def test_bad_crc_is_corrupt_unless_checks_are_off(impl):
    data = bytearray(_batch(impl))
    data[-2] ^= 0x01  # the last value's "2" becomes "3"
    with pytest.raises(CorruptRecordError):
        list(impl.read_batches(bytes(data)))
    [batch] = list(impl.read_batches(bytes(data), check_crcs=False))
    assert not batch.is_valid()
    assert batch.records("t", 0)[-1].value == b"v3"


def _record_section_cases(plain: bytes) -> dict[str, bytes]:
    recs = plain[61:]
    return {
        "record length past the end": bytes([0x7E]) + recs[1:],
        "negative record length": bytes([0x03]) + recs[1:],
        "varint never ends": b"\xff" * len(recs),
        # record: [0] length, [1] attributes, [2] timestamp delta, [3] offset delta, [4] key length
        "key length past the record": recs[:4] + bytes([0x40]) + recs[5:],
        "key length below -1": recs[:4] + bytes([0x05]) + recs[5:],
        "bytes left over": recs + b"\x00\x00",
        "records missing": recs[: len(recs) // 2],
    }


@pytest.mark.parametrize("case", list(_record_section_cases(b"\x00" * 100)))
def test_corrupt_records_section(impl, case):
    plain = _batch(impl)
    data = with_records_section(plain, _record_section_cases(plain)[case])
    [batch] = list(impl.read_batches(data))
    with pytest.raises(CorruptRecordError):
        batch.records("t", 0)


@pytest.mark.parametrize("count", [-1, 4, 10_000, 2**31 - 1])
def test_wrong_or_absurd_record_counts(impl, count):
    data = patch_header(_batch(impl), ">i", 57, count)
    with pytest.raises(CorruptRecordError):
        next(iter(impl.read_batches(data))).records("t", 0)


@pytest.mark.parametrize("length", [-1, -2**31, 0, 13])
def test_negative_or_tiny_batch_length(impl, length):
    data = patch_header(_batch(impl), ">i", 8, length, fix_crc=False)
    with pytest.raises(CorruptRecordError):
        list(impl.read_batches(data))


def test_v2_batch_shorter_than_its_header(impl):
    data = struct.pack(">qi", 0, 30) + b"\x00\x00\x00\x00\x02" + b"\x00" * 26
    with pytest.raises(CorruptRecordError):
        list(impl.read_batches(data))


@pytest.mark.parametrize("magic", [3, 0x80, 0xFF])
def test_unknown_magic(impl, magic):
    data = bytearray(_batch(impl))
    data[16] = magic
    with pytest.raises(CorruptRecordError):
        list(impl.read_batches(bytes(data)))


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD, 5, 7])
def test_garbage_compressed_section(impl, codec):
    plain = _batch(impl)
    data = with_records_section(plain, b"\x82SNAPPY\x00\x00\x00\x00\x01" + b"\xfe" * 40, attributes=int(codec))
    with pytest.raises(CorruptRecordError):
        next(iter(impl.read_batches(data))).records("t", 0)


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
def test_truncated_compressed_section(impl, codec):
    full = _batch(impl, 20, codec)
    data = with_records_section(full, full[61:-5])
    with pytest.raises(CorruptRecordError):
        next(iter(impl.read_batches(data))).records("t", 0)


def test_headers_with_null_values_and_non_utf8_keys(impl):
    b = impl.BatchBuilder(Compression.NONE, 1 << 20)
    b.append(1, None, None, [("a", None), ("", b""), ("\u2603", b"x")])
    data = b.build()
    [rec] = next(iter(impl.read_batches(data))).records("t", 0)
    assert rec.headers == [("a", None), ("", b""), ("\u2603", b"x")]
    bad = with_records_section(data, data[61:].replace(b"\xe2\x98\x83", b"\xff\xfe\xfd"))
    [rec] = next(iter(impl.read_batches(bad))).records("t", 0)
    assert rec.headers[2][0] == "\ufffd\ufffd\ufffd"  # decoded leniently, as Java's String does


def test_consumer_record_fields_are_writable(impl):
    rec = impl.ConsumerRecord("t", 1, 2, 3, TimestampType.CREATE_TIME, b"k", b"v", [])
    rec.key, rec.value = "key", {"v": 1}
    rec.headers.append(("h", None))
    assert (rec.topic, rec.partition, rec.offset, rec.timestamp, rec.key, rec.value, rec.headers,
            rec.leader_epoch) == ("t", 1, 2, 3, "key", {"v": 1}, [("h", None)], -1)
    assert "ConsumerRecord(" in repr(rec)


def test_last_and_next_offset_of_a_header_past_the_long_range_are_exact(impl):
    # found by the fuzz test: the compiled reader summed in 64 bits and wrapped around
    data = patch_header(_batch(impl), ">q", 0, -(2**63))
    data = patch_header(data, ">i", 23, -(2**31))
    batch = next(impl.read_batches(data))
    assert (batch.last_offset, batch.next_offset) == (-(2**63) - 2**31, -(2**63) - 2**31 + 1)
