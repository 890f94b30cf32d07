"""Batches written by the Java client (``java_vectors/GenVectors.java``, kafka-clients 4.1.2) decode to
exactly what Java put in them, and kafkaio's uncompressed batch is byte-identical to Java's."""
from __future__ import annotations

import pathlib

import pytest
from records_testlib import fields, implementations

from kafkaio.records import Compression, ControlType, TimestampType

VECTORS = pathlib.Path(__file__).parent / "java_vectors"
TS = 1700000000000
BIG = bytes(ord("a") + i % 7 for i in range(3000))
# (timestamp, key, value, headers) exactly as GenVectors.records()
JAVA_RECORDS = [
    (TS, b"k0", b"v0", []),
    (TS + 5, None, b"value-1", [("h1", b"x"), ("h2", None)]),
    (TS - 10, b"k2", None, [("\u00fcn\u00ef", bytes(range(256)))]),
    (TS + 1, b"k3", BIG, []),
    (TS + 2, b"", b"", []),
]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


@pytest.fixture(params=implementations("records"))
def impl(request):
    return request.param


def _read(impl, name):
    return list(impl.read_batches((VECTORS / name).read_bytes()))


def _expected(base_offset, ts_type, magic=2, log_append_time=None):
    out = []
    for i, (ts, key, value, headers) in enumerate(JAVA_RECORDS):
        if magic == 0:
            ts, ts_type = -1, TimestampType.NO_TIMESTAMP_TYPE
        elif log_append_time is not None:
            ts = log_append_time
        out.append(("t", 3, base_offset + i, ts, int(ts_type), "TimestampType", key, value,
                    headers if magic == 2 else [], -1))
    return out


@pytest.mark.parametrize("codec", CODECS)
def test_java_v2_batches_decode(impl, codec):
    [batch] = _read(impl, f"v2-{codec}.bin")
    assert batch.compression == Compression[codec.upper()]
    assert (batch.base_offset, batch.last_offset, batch.next_offset) == (0, 4, 5)
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (-1, -1, -1)
    assert not batch.is_control and not batch.is_transactional and batch.control_type is None
    assert batch.max_timestamp == TS + 5
    assert [fields(r) for r in batch.records("t", 3)] == _expected(0, TimestampType.CREATE_TIME)


def test_java_log_append_time_batch_reports_the_batch_max_timestamp(impl):
    [batch] = _read(impl, "v2-logappend-lz4.bin")
    assert batch.timestamp_type == TimestampType.LOG_APPEND_TIME
    assert [fields(r) for r in batch.records("t", 3)] == _expected(
        0, TimestampType.LOG_APPEND_TIME, log_append_time=1234567)


def test_java_transactional_idempotent_batch(impl):
    [batch] = _read(impl, "v2-txn-zstd.bin")
    assert batch.is_transactional and not batch.is_control
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (1234, 5, 42)
    assert [r.offset for r in batch.records("t", 3)] == [77, 78, 79, 80, 81]


@pytest.mark.parametrize("name,kind,offset", [("v2-control-commit.bin", ControlType.COMMIT, 81),
                                              ("v2-control-abort.bin", ControlType.ABORT, 82)])
def test_java_transaction_markers(impl, name, kind, offset):
    [batch] = _read(impl, name)
    assert batch.is_control and batch.is_transactional
    assert batch.control_type == kind
    assert (batch.base_offset, batch.producer_id, batch.producer_epoch) == (offset, 1234, 5)
    assert batch.records("t", 3) == []  # markers never reach the user


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_java_legacy_message_sets_decode(impl, magic, codec):
    batches = _read(impl, f"v{magic}-{codec}.bin")
    records = [r for b in batches for r in b.records("t", 3)]
    assert [fields(r) for r in records] == _expected(100, TimestampType.CREATE_TIME, magic)
    assert len(batches) == (5 if codec == "none" else 1)  # a compressed wrapper is one batch
    assert batches[-1].last_offset == 104 and batches[-1].next_offset == 105


def test_java_legacy_log_append_time_wrapper(impl):
    [batch] = _read(impl, "v1-logappend-gzip.bin")
    assert batch.timestamp_type == TimestampType.LOG_APPEND_TIME
    assert [fields(r) for r in batch.records("t", 3)] == _expected(
        100, TimestampType.LOG_APPEND_TIME, 1, log_append_time=1234567)


def test_uncompressed_batch_is_byte_identical_to_java(impl):
    builder = impl.BatchBuilder(Compression.NONE, 1 << 20)
    for i, (ts, key, value, headers) in enumerate(JAVA_RECORDS):
        assert builder.append(ts, key, value, headers) == i
    assert builder.build() == (VECTORS / "v2-none.bin").read_bytes()


def test_producer_state_rewrite_matches_java_framing(impl):
    # Java's transactional batch differs from ours only by codec, producer state and base offset:
    # rebuilding it uncompressed with the same state gives the same header fields.
    builder = impl.BatchBuilder(Compression.NONE, 1 << 20, transactional=True)
    for ts, key, value, headers in JAVA_RECORDS:
        builder.append(ts, key, value, headers)
    [ours] = list(impl.read_batches(builder.build(1234, 5, 42)))
    [java] = _read(impl, "v2-txn-zstd.bin")
    for attr in ("producer_id", "producer_epoch", "base_sequence", "is_transactional", "last_offset_delta",
                 "base_timestamp", "max_timestamp", "record_count", "partition_leader_epoch"):
        assert getattr(ours, attr) == getattr(java, attr), attr


def _murmur2_vectors():
    for line in (VECTORS / "murmur2.txt").read_text().splitlines():
        data, value = line.split()
        yield bytes.fromhex("" if data == "-" else data), int(value)


@pytest.mark.parametrize("data,expected", list(_murmur2_vectors()))
@pytest.mark.parametrize("hashing", implementations("hashing"))
def test_murmur2_matches_java_utils(hashing, data, expected):
    assert hashing.murmur2(data) == expected
