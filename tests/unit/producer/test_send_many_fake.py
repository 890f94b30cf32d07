"""``send_many`` against the fake broker: the appender's loop takes the common items, the general
path the others, and together they behave as the per-item path: same records, order, errors."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio import Producer
from kafkaio.errors import RecordTooLargeError, SerializationError
from kafkaio.testing.fake import FakeCluster

# every item form send_many takes, common ones (bytes, None, headers as list or tuple of
# (str, bytes | None) tuples) mixed with those only the general path takes (str and bytearray,
# headers as a mapping, as lists, with str values)
MIXED: list[Any] = [
    b"v0", None, (None, b"v2"), (b"k3", None), (b"k4", b"v4", [("trace", b"abc"), ("none", None)]),
    "v5", (b"k6", bytearray(b"v6")), ("k7", b"v7", {"m": b"1", "n": None}), (None, b"v8", (("t", b""),)),
    (None, b"v9", [["as-list", b"x"]]), (None, b"v10", [("str-value", "s")]), (b"k11", b"v11", []),
    (b"k12", b"v12", None), (None, None, ()), (None, b"v14", {}),
]
# what each of MIXED is in the log: (key, value, headers)
STORED = [
    (None, b"v0", []), (None, None, []), (None, b"v2", []), (b"k3", None, []),
    (b"k4", b"v4", [("trace", b"abc"), ("none", None)]), (None, b"v5", []), (b"k6", b"v6", []),
    (b"k7", b"v7", [("m", b"1"), ("n", None)]), (None, b"v8", [("t", b"")]), (None, b"v9", [("as-list", b"x")]),
    (None, b"v10", [("str-value", b"s")]), (b"k11", b"v11", []), (b"k12", b"v12", []), (None, None, []),
    (None, b"v14", []),
]


async def test_every_item_form_is_stored_in_order() -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            await p.send_and_wait("t", b"first")  # an open batch may exist when send_many starts
            mds = await (await p.send_many("t", MIXED * 3, timestamp_ms=1_700_000_000_000))
    assert [(md.partition, md.offset) for md in mds] == [(0, i) for i in range(1, 1 + 3 * len(MIXED))]
    assert {md.timestamp for md in mds} == {1_700_000_000_000}
    got = [(r.key, r.value, r.headers) for r in fake.records("t", 0)]
    assert got == [(None, b"first", [])] + STORED * 3


async def test_records_past_a_full_batch_start_new_ones_in_order() -> None:
    values = [b"%04d" % i + b"x" * 60 for i in range(400)]
    hdrs = [("h", b"y")]
    items: list[Any] = [(None, v, hdrs) if i % 2 else v for i, v in enumerate(values)]
    async with FakeCluster(brokers=1, topics={"t": 3}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, batch_size=1024, linger_ms=5) as p:
            many = await p.send_many("t", items)
            keyed = await p.send_many("t", [(b"key-%d" % (i % 7), v) for i, v in enumerate(values)])
            explicit = await p.send_many("t", values, partition=2)
            mds, kmds, emds = await many, await keyed, await explicit
    want = {(md.partition, md.offset): (v, h) for md, v, h in zip(
        mds + kmds + emds, values * 3, [hdrs if i % 2 else [] for i in range(400)] + [[]] * 800)}
    assert len(want) == 1200
    got = {(part, r.offset): (r.value, r.headers) for part in range(3) for r in fake.records("t", part)}
    assert got == want
    assert {md.partition for md in mds} == {0, 1, 2}  # sticky partitions moved on as batches filled
    assert {md.partition for md in emds} == {2} and [md.offset for md in emds] == sorted(md.offset for md in emds)
    assert len(fake.batches("t", 2)) > 3  # the records filled many batches


@pytest.mark.parametrize("bad,error,words", [
    (b"x" * 5000, RecordTooLargeError, "max_request_size"),
    ((None, b"x", [("h", b"y" * 5000)]), RecordTooLargeError, "max_request_size"),
    ((None, b"x", [("h", 17)]), SerializationError, "headers"),
    ((None, b"x", 17), SerializationError, "headers"),
    (17, SerializationError, "value"),
], ids=["value", "header", "header-value", "headers", "item"])
async def test_an_item_raising_mid_call_keeps_the_records_before_it(bad: Any, error: type, words: str) -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, max_request_size=4096, batch_size=1024) as p:
            before = [(None, b"b%d" % i, [("h", b"v")]) for i in range(30)]
            with pytest.raises(error) as info:
                await p.send_many("t", before + [bad, b"after"])
            assert words in str(info.value)
            md = await p.send_and_wait("t", b"next")
    assert [r.value for r in fake.records("t", 0)] == [b"b%d" % i for i in range(30)] + [b"next"]
    assert md.offset == 30
