"""The objects the reader hands out behave exactly like ordinary Python objects of their type.

The compiled reader builds key and value ``bytes`` in place rather than through
``PyBytes_FromStringAndSize`` (a speed measure); these tests pin that such objects are
indistinguishable from ones Python made: type, length, size, hash, equality, slicing, pickling.
"""
from __future__ import annotations

import gc
import pickle
import sys

import pytest
from records_testlib import implementations

from kafkaio.records import Compression


@pytest.fixture(params=implementations("records"))
def impl(request):
    return request.param


SIZES = [0, 1, 2, 3, 7, 8, 15, 16, 31, 100, 255, 256, 511, 512, 513, 4096, 70000]


def _decode(impl, pairs, codec=Compression.NONE):
    b = impl.BatchBuilder(codec, 1 << 22)
    for i, (key, value) in enumerate(pairs):
        assert b.append(1000 + i, key, value, None) == i
    return [r for batch in impl.read_batches(b.build()) for r in batch.records("t", 3)]


@pytest.mark.parametrize("codec", [Compression.NONE, Compression.LZ4])
def test_keys_and_values_are_ordinary_bytes_of_every_size(impl, codec):
    pairs = [(bytes(range(n % 256)) * (n // 256 + 1), bytes([n % 251]) * n) for n in SIZES]
    pairs = [(k[:n], v) for (k, v), n in zip(pairs, SIZES)]
    records = _decode(impl, pairs, codec)
    assert len(records) == len(pairs)
    for rec, (key, value) in zip(records, pairs):
        for got, want in ((rec.key, key), (rec.value, value)):
            assert type(got) is bytes
            assert got == want and len(got) == len(want)
            assert hash(got) == hash(bytes(bytearray(want)))  # the cached hash starts unset
            assert sys.getsizeof(got) == sys.getsizeof(bytes(bytearray(want)))
            assert got[1:] == want[1:] and got + b"!" == want + b"!"
            assert pickle.loads(pickle.dumps(got)) == want
            assert {got: 1}[want] == 1


def test_values_outlive_the_record_and_the_buffer(impl):
    data = bytearray()
    b = impl.BatchBuilder(Compression.NONE, 1 << 20)
    b.append(1, b"key-one", b"value-one" * 20, None)
    data += b.build()
    records = [r for batch in impl.read_batches(data) for r in batch.records("t", 0)]
    key, value = records[0].key, records[0].value
    del records, b
    data[:] = b"\x00" * len(data)  # the source buffer is overwritten: the bytes are copies
    gc.collect()
    assert key == b"key-one" and value == b"value-one" * 20
    assert sys.getrefcount(value) == 2  # only `value` and getrefcount's argument


def _batch_bytes(impl, n, key=b"k", value=b"v", headers=None, codec=Compression.NONE):
    b = impl.BatchBuilder(codec, 1 << 22)
    for i in range(n):
        b.append(1000 + i, key, value, headers)
    return b.build()


def test_reused_records_carry_nothing_over(impl):
    # the compiled reader reuses the memory of freed records: nothing of a previous record may show
    rich = _batch_bytes(impl, 1500, b"key" * 20, b"value" * 40, [("h", b"x"), ("n", None)])
    bare = _batch_bytes(impl, 1500, None, None, None)
    for _ in range(3):
        kept = [r for batch in impl.read_batches(rich) for r in batch.records("rich", 7)]
        assert all(r.headers == [("h", b"x"), ("n", None)] for r in kept)
        del kept[::2]  # free every other record, and later all of them, in two different orders
        for batch in impl.read_batches(bare):
            records = batch.records("bare", 1)
            assert [r.offset for r in records] == list(range(1500))
            for r in records:
                assert (r.topic, r.partition, r.key, r.value, r.headers) == ("bare", 1, None, None, [])
                assert r.timestamp == 1000 + r.offset and r.leader_epoch == -1
        del kept


def test_records_made_or_subclassed_by_users_free_and_reuse_safely(impl):
    cls = impl.ConsumerRecord

    class WithDict(cls):
        pass

    class Slotted(cls):
        __slots__ = ("extra",)

    made = [kind("t", 0, i, i, None, b"k", b"v", [], 3) for i in range(1200) for kind in (cls, WithDict, Slotted)]
    for r in made[2::3]:
        r.extra = r.offset
    assert [type(r) for r in made[:3]] == [cls, WithDict, Slotted]
    del made  # more than the pool holds, of three types; only exact records may be reused
    records = [r for batch in impl.read_batches(_batch_bytes(impl, 3000)) for r in batch.records("x", 2)]
    assert all(type(r) is cls and (r.topic, r.key, r.value, r.headers) == ("x", b"k", b"v", []) for r in records)
    assert pickle.loads(pickle.dumps(records[5])).offset == 5
    s = Slotted("t", 0, 1, 1, None, None, None, [])
    s.extra = "e"
    assert (s.extra, s.headers, s.leader_epoch) == ("e", [], -1)
