"""BatchBuilder: batch.size accounting, codecs, producer state, argument checking."""
from __future__ import annotations

import struct

import pytest
from records_testlib import implementations

from kafkaio._speedups.checksums_py import crc32c
from kafkaio.records import Compression, TimestampType


@pytest.fixture(params=implementations("records"))
def impl(request):
    return request.param


def test_header_fields_as_java_writes_them(impl):
    b = impl.BatchBuilder(Compression.NONE, 16384)
    b.append(2000, b"k", b"v", None)
    b.append(1000, None, b"w", None)  # earlier than the first: negative delta, max stays 2000
    data = b.build(producer_id=9, producer_epoch=3, base_sequence=11)
    (base_offset, length, leader_epoch, magic, crc, attributes, last_delta, base_ts, max_ts, pid, epoch, seq,
     count) = struct.unpack_from(">qiibIhiqqqhii", data)
    assert (base_offset, length, leader_epoch, magic) == (0, len(data) - 12, -1, 2)
    assert crc == crc32c(data[21:])
    assert (attributes, last_delta, base_ts, max_ts, count) == (0, 1, 2000, 2000, 2)
    assert (pid, epoch, seq) == (9, 3, 11)
    # first record: length 8, attributes 0, ts delta 0, offset delta 0, key "k", value "v", no headers
    assert data[61:70] == bytes([16, 0, 0, 0, 2]) + b"k" + bytes([2]) + b"v" + bytes([0])


def test_first_record_always_fits_and_later_ones_respect_batch_size(impl):
    b = impl.BatchBuilder(Compression.NONE, 100)
    assert b.append(1, None, b"x" * 500, None) == 0  # larger than batch_size, but first
    assert b.append(1, None, b"y", None) == -1
    assert b.record_count == 1
    b = impl.BatchBuilder(Compression.NONE, 100)
    sizes = []
    while (delta := b.append(1, None, b"z" * 10, None)) != -1:
        assert delta == len(sizes)
        sizes.append(b.estimated_size())
    assert sizes[-1] <= 100 < sizes[-1] + (sizes[-1] - sizes[-2])
    assert len(b.build()) == b.estimated_size()


def test_estimated_size_counts_uncompressed_bytes(impl):
    b = impl.BatchBuilder(Compression.ZSTD, 1 << 20)
    assert b.estimated_size() == 61
    for _ in range(100):
        b.append(5, b"key", b"a" * 100, [("h", b"v")])
    assert b.estimated_size() > 100 * 100
    assert len(b.build()) < b.estimated_size() // 10


@pytest.mark.parametrize("codec", list(Compression))
def test_round_trip_every_codec(impl, codec):
    b = impl.BatchBuilder(codec, 1 << 20, transactional=True)
    for i in range(50):
        b.append(1000 + i, None if i % 3 == 0 else b"k%d" % i, None if i % 5 == 0 else b"v" * i,
                 [("n", None), ("i", str(i).encode())] if i % 2 else None)
    [batch] = list(impl.read_batches(b.build(5, 0, 100)))
    assert batch.compression == codec and batch.is_transactional
    recs = batch.records("t", 0)
    assert [r.offset for r in recs] == list(range(50))
    assert recs[8].key == b"k8" and recs[8].value == b"v" * 8 and recs[8].headers == []
    assert recs[9].headers == [("n", None), ("i", b"9")]
    assert recs[0].key is None and recs[0].value is None
    assert all(r.timestamp_type == TimestampType.CREATE_TIME for r in recs)


def test_snappy_uses_xerial_framing_as_kafka_writes(impl):
    b = impl.BatchBuilder(Compression.SNAPPY, 1 << 20)
    b.append(1, None, b"x" * 100_000, None)  # more than one 32 KiB xerial block
    data = b.build()
    assert data[61:69] == b"\x82SNAPPY\x00" and struct.unpack_from(">ii", data, 69) == (1, 1)
    assert [r.value for r in next(impl.read_batches(data)).records("t", 0)] == [b"x" * 100_000]


def test_lz4_frame_has_independent_blocks_and_no_checksums(impl):
    b = impl.BatchBuilder(Compression.LZ4, 1 << 20)
    b.append(1, None, b"x" * 1000, None)
    frame = b.build()[61:]
    assert frame[:4] == b"\x04\x22\x4d\x18"
    flg, bd = frame[4], frame[5]
    assert flg == 0b0110_0000  # version 01, independent blocks, no checksums, no content size
    assert bd == 0x40  # 64 KiB maximum block size


def test_compression_levels_are_applied_and_checked(impl):
    payload = bytes(range(256)) * 200
    sizes = {}
    for level in (1, 19):
        b = impl.BatchBuilder(Compression.ZSTD, 1 << 20, compression_level=level)
        b.append(1, None, payload, None)
        sizes[level] = len(b.build())
    assert sizes[19] <= sizes[1]
    with pytest.raises(ValueError):
        impl.BatchBuilder(Compression.GZIP, 100, compression_level=10)
    with pytest.raises(ValueError):
        impl.BatchBuilder(Compression.NONE, 100, compression_level=1)
    with pytest.raises(ValueError):
        impl.BatchBuilder(7, 100)
    with pytest.raises(ValueError):
        impl.BatchBuilder(Compression.NONE, 100, magic=1)


def test_build_again_with_other_producer_state_recomputes_the_crc(impl):
    b = impl.BatchBuilder(Compression.LZ4, 1 << 20)
    b.append(1, b"k", b"v", None)
    first = b.build()
    second = b.build(producer_id=77, producer_epoch=2, base_sequence=5)
    assert first[:43] != second[:43] and first[57:] == second[57:]
    assert struct.unpack_from(">qhi", second, 43) == (77, 2, 5)
    assert b.build() == first
    assert impl.rewrite_producer_state(first, 77, 2, 5) == second
    [batch] = list(impl.read_batches(second))
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (77, 2, 5)
    with pytest.raises(ValueError):
        impl.rewrite_producer_state(b"\x00" * 20, 1, 1, 1)


def test_empty_builder_builds_nothing(impl):
    assert impl.BatchBuilder(Compression.GZIP, 100).build() == b""


def test_bytes_like_inputs_and_type_errors(impl):
    b = impl.BatchBuilder(Compression.NONE, 1 << 20)
    b.append(1, bytearray(b"k"), memoryview(b"xvx")[1:2], [("h", bytearray(b"hv"))])
    [rec] = next(impl.read_batches(b.build())).records("t", 0)
    assert (rec.key, rec.value, rec.headers) == (b"k", b"v", [("h", b"hv")])
    for bad in ("text", 5, 1.5):
        with pytest.raises(TypeError):
            b.append(1, bad, None, None)
        with pytest.raises(TypeError):
            b.append(1, None, bad, None)
    with pytest.raises(TypeError):
        b.append(1, None, None, [(b"bytes-key", b"v")])
    with pytest.raises(ValueError):
        b.append(-2, None, None, None)
    assert b.record_count == 1  # failed appends left nothing behind


def test_append_after_build_extends_the_batch(impl):
    b = impl.BatchBuilder(Compression.NONE, 1 << 20)
    b.append(1, None, b"a", None)
    one = b.build()
    b.append(2, None, b"b", None)
    two = b.build()
    assert one != two
    assert [r.value for r in next(impl.read_batches(two)).records("t", 0)] == [b"a", b"b"]


@pytest.mark.parametrize("batch_size", [100, 16384, 70000])
def test_first_record_larger_than_the_batch_size_grows_the_buffer(impl, batch_size):
    b = impl.BatchBuilder(Compression.NONE, batch_size)
    big = bytes(range(256)) * 400  # 100 KiB: past the initial buffer and past 64 KiB
    assert b.append(5, b"k", big, None) == 0
    assert b.append(6, b"k", b"v", None) == -1
    data = b.build()
    assert [(r.key, r.value) for r in next(impl.read_batches(data)).records("t", 0)] == [(b"k", big)]
    assert b.append(7, None, b"", None) == -1  # after build too, the batch stays full


def test_append_returns_each_offset_delta_past_the_cached_ones(impl):
    b = impl.BatchBuilder(Compression.NONE, 1 << 20)
    assert [b.append(7, None, b"", None) for _ in range(5000)] == list(range(5000))


@pytest.mark.parametrize("batch_size", [16384, 1 << 20])  # the compiled builder hands out small buffers
@pytest.mark.parametrize("codec", [Compression.NONE, Compression.LZ4])
@pytest.mark.parametrize("producer_state", [True, False])
def test_append_after_build_keeps_earlier_records_and_batches(impl, codec, batch_size, producer_state):
    b = impl.BatchBuilder(codec, batch_size)
    b.append(1, b"k1", b"a" * 300, None)
    state = {"producer_id": 5, "producer_epoch": 1, "base_sequence": 0} if producer_state else {}
    first = b.build(**state)
    snapshot = bytearray(first)
    assert b.build(**state) == first
    b.append(2, None, b"b", [("h", b"x")])
    second = b.build()
    assert first == snapshot  # the first batch did not change under the second
    assert [r.value for r in next(impl.read_batches(first)).records("t", 0)] == [b"a" * 300]
    recs = next(impl.read_batches(second)).records("t", 0)
    assert [(r.key, r.value, r.headers) for r in recs] == [(b"k1", b"a" * 300, []), (None, b"b", [("h", b"x")])]
    assert b.build(producer_id=6, producer_epoch=2, base_sequence=3)[61:] == second[61:]


def test_no_timestamp_and_extreme_timestamps(impl):
    b = impl.BatchBuilder(Compression.NONE, 1 << 20)
    b.append(-1, None, b"a", None)
    b.append(2**63 - 1, None, b"b", None)  # delta overflows a Java long: wraps, as Java's does
    recs = next(impl.read_batches(b.build())).records("t", 0)
    assert [r.timestamp for r in recs] == [-1, 2**63 - 1]


def test_batches_can_be_built_and_read_from_several_threads_at_once(impl):
    # compression releases the GIL, so a producer may compress in worker threads: shared codec
    # contexts would corrupt each other's output
    import threading

    failures = []

    def work(n):
        try:
            for i in range(30):
                for codec in (Compression.ZSTD, Compression.LZ4, Compression.GZIP, Compression.SNAPPY):
                    b = impl.BatchBuilder(codec, 1 << 20)
                    value = bytes([n]) * 3000 + b"%d" % i
                    b.append(i, None, value, None)
                    assert next(impl.read_batches(b.build())).records("t", 0)[0].value == value
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_every_header_form_writes_the_bytes_of_the_normalized_one(impl):
    """Headers as a list or tuple of (str, bytes | None) tuples are written as they are, other forms
    after conversion: every form of the same headers gives the same batch, bad ones the same error."""
    want = [("trace", b"abc"), ("none", None), ("\u00e9-utf8", b"")]
    forms = [want, tuple(want), [list(h) for h in want], [("trace", bytearray(b"abc")), ("none", None), ("\u00e9-utf8", b"")],
             [("trace", memoryview(b"abc")), ("none", None), ("\u00e9-utf8", b"")], iter(want), (h for h in want)]
    built = []
    for form in forms:
        b = impl.BatchBuilder(Compression.NONE, 16384)
        b.append(1000, b"k", b"v", form)
        b.append(1000, b"k", b"v", None)
        built.append(b.build())
    assert len(set(built)) == 1
    for bad, error in (([(b"bytes-key", b"v")], TypeError), ([("h", 17)], TypeError), ([("h", b"v", b"x")], ValueError)):
        b = impl.BatchBuilder(Compression.NONE, 16384)
        with pytest.raises(error):
            b.append(1000, b"k", b"v", bad)
        assert b.record_count == 0
