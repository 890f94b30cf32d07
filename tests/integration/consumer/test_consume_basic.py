"""Consuming against a real broker: getmany/async for, commits, the seek family, offsets lookups,
pause/resume, deserializers, manual assignment, auto_offset_reset."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.errors import CommitFailedError, IllegalStateError, NoOffsetForPartitionError, OffsetOutOfRangeError
from kafkaio.records import Compression
from kafkaio.structs import OffsetAndMetadata, TopicPartition as TP

from consumer_helpers import unique

pytestmark = pytest.mark.integration


async def drain(consumer: kafkaio.Consumer, want: int, timeout: float = 30.0) -> list:
    got: list = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            got.extend(records)
    return got


async def test_getmany_returns_everything_in_partition_order(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 3)
    await raw_producer.send_numbered(topic, 3, 900, per_batch=50)
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_poll_records=100) as c:
        got = await drain(c, 900)
        assert sorted(int(r.value) for r in got) == list(range(900))
        for p in range(3):
            offsets = [r.offset for r in got if r.partition == p]
            assert offsets == list(range(300)), "each partition in order, no gaps, no repeats"
        batch = await c.getmany(timeout_ms=200)
        assert batch == {}
        assert all(len(v) <= 100 for v in batch.values())
        for p in range(3):
            assert await c.position(TP(topic, p)) == 300
            assert c.highwater(TP(topic, p)) == 300
            assert c.lag(TP(topic, p)) == 0


async def test_max_records_is_respected(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"x"] * 50)
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="earliest") as c:
        first = {}
        while not first:
            first = await c.getmany(timeout_ms=1000, max_records=7)
        assert sum(map(len, first.values())) == 7
        assert await c.position(TP(topic, 0)) == 7


async def test_async_for_with_commit_commits_what_was_handed_out(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    group = unique("g")
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [str(i).encode() for i in range(20)], compression=Compression.LZ4)
    tp = TP(topic, 0)
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False) as c:
        async for record in c:
            if record.offset == 4:
                await c.commit()
                break
        # The record at offset 4 was handed out: the committed offset is the next one, 5.
        assert await c.committed(tp) == OffsetAndMetadata(5, "", record.leader_epoch)
        await c.commit({tp: 11})
        assert (await c.committed(tp)).offset == 11
        await c.commit({tp: OffsetAndMetadata(12, "meta")})
        assert (await c.committed(tp)).metadata == "meta"
    # A new member of the group starts where the group committed.
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False) as c:
        r = await asyncio.wait_for(c.getone(), 30)
        assert r.offset == 12 and r.value == b"12"


async def test_commit_async_calls_back(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"a", b"b"])
    tp = TP(topic, 0)
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="earliest", enable_auto_commit=False) as c:
        await drain(c, 2)
        done = asyncio.get_running_loop().create_future()
        c.commit_async(callback=lambda offsets, err: done.set_result((offsets, err)))
        offsets, err = await asyncio.wait_for(done, 30)
        assert err is None and offsets[tp].offset == 2
        assert (await c.committed(tp)).offset == 2


async def test_seek_family_and_offset_lookups(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    tp = TP(topic, 0)
    base = int(time.time() * 1000) - 100_000
    for i in range(5):   # five batches of ten, timestamps base + i*1000
        await raw_producer.send_batch(topic, 0, [f"{i}-{j}".encode() for j in range(10)], timestamp_ms=base + i * 1000)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                enable_auto_commit=False) as c:
        c.assign([tp])
        assert c.assignment() == {tp}
        assert await c.beginning_offsets([tp]) == {tp: 0}
        assert await c.end_offsets([tp]) == {tp: 50}
        found = await c.offsets_for_times({tp: base + 2500})
        assert found[tp].offset == 30 and found[tp].timestamp == base + 3000
        assert (await c.offsets_for_times({tp: base + 10**9}))[tp] is None
        # auto_offset_reset=latest with nothing committed
        assert await c.position(tp) == 50
        c.seek(tp, 42)
        assert (await drain(c, 1))[0].offset == 42
        await c.seek_to_beginning(tp)
        assert await c.position(tp) == 0
        assert (await drain(c, 1))[0].offset == 0
        await c.seek_to_end()
        assert await c.position(tp) == 50
        await c.commit({tp: 7})
        c.seek(tp, 30)
        assert await c.seek_to_committed(tp) == {tp: 7}
        got = await drain(c, 43)
        assert [r.offset for r in got] == list(range(7, 50))


async def test_pause_resume(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 2)
    await raw_producer.send_numbered(topic, 2, 40)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest") as c:
        t0, t1 = TP(topic, 0), TP(topic, 1)
        c.assign([t0, t1])
        c.pause(t1)
        assert c.paused() == {t1}
        got = await drain(c, 20, timeout=5)
        assert {r.partition for r in got} == {0} and len(got) == 20
        assert await c.getmany(timeout_ms=300) == {}
        c.resume(t1)
        got = await drain(c, 20)
        assert {r.partition for r in got} == {1} and [r.offset for r in got] == list(range(20))


async def test_pause_after_prefetch_does_not_lose_records(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [str(i).encode() for i in range(100)])
    tp = TP(topic, 0)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest") as c:
        c.assign([tp])
        first = await drain(c, 1)
        batch = await c.getmany(max_records=9)   # the rest of the fetch is buffered ahead of us
        c.pause(tp)
        c.resume(tp)
        rest = await drain(c, 100 - 1 - sum(map(len, batch.values())))
        offsets = [r.offset for r in first] + [r.offset for v in batch.values() for r in v] + [r.offset for r in rest]
        assert offsets == list(range(100))


async def test_deserializers_and_from_config(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"1", b"2"], keys=[b"k", None])
    c = kafkaio.Consumer.from_config({"bootstrap.servers": consumer_bootstrap, "group.id": unique("g"),
                                      "auto.offset.reset": "earliest", "enable.auto.commit": "false"},
                                     topic, value_deserializer=lambda v: int(v),
                                     key_deserializer=lambda k: None if k is None else k.decode())
    async with c:
        got = await drain(c, 2)
        assert [(r.key, r.value) for r in got] == [("k", 1), (None, 2)]


async def test_auto_offset_reset_none_raises(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"x"])
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="none") as c:
        with pytest.raises(NoOffsetForPartitionError):
            for _ in range(60):
                await c.getmany(timeout_ms=500)


async def test_out_of_range_with_reset_none_surfaces(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"x"] * 3)
    tp = TP(topic, 0)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="none") as c:
        c.assign([tp])
        c.seek(tp, 1000)
        with pytest.raises(OffsetOutOfRangeError):
            for _ in range(60):
                await c.getmany(timeout_ms=500)


async def test_out_of_range_resets_to_earliest(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"x"] * 3)
    tp = TP(topic, 0)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest") as c:
        c.assign([tp])
        c.seek(tp, 1000)
        got = await drain(c, 3)
        assert [r.offset for r in got] == [0, 1, 2]


async def test_misuse_is_a_clear_error(consumer_bootstrap) -> None:
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap) as c:
        with pytest.raises(IllegalStateError, match="group_id"):
            c.subscribe(["x"])
        with pytest.raises(IllegalStateError, match="group_id"):
            await c.commit()
        with pytest.raises(IllegalStateError, match="not assigned"):
            c.seek(TP("nope", 0), 1)
    with pytest.raises(IllegalStateError):
        await c.getmany()


async def test_commit_after_leaving_for_poll_timeout_fails_clearly(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"x"] * 5)
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_poll_interval_ms=1500, heartbeat_interval_ms=200,
                                session_timeout_ms=6000) as c:
        await drain(c, 5)
        await asyncio.sleep(3)   # "processing" longer than max_poll_interval_ms: the member leaves
        with pytest.raises(CommitFailedError, match="max_poll_interval_ms"):
            await c.commit()
        # Asking for records again rejoins and gets the partition back.
        await c.getmany(timeout_ms=100)
        for _ in range(100):
            if c.assignment():
                break
            await asyncio.sleep(0.1)
        assert c.assignment() == {TP(topic, 0)}


async def test_auto_offset_reset_by_duration_starts_at_the_first_record_that_recent(
        consumer_bootstrap, raw_producer) -> None:
    """KIP-1106: by_duration:PT1H starts at the first record at most an hour old, in a group
    without a committed offset and after an out-of-range position alike."""
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    now = int(time.time() * 1000)
    stamps = [now - 3 * 3600_000, now - 2 * 3600_000, now - 1800_000, now - 60_000]
    async with kafkaio.Producer(bootstrap_servers=consumer_bootstrap) as producer:
        for i, ts in enumerate(stamps):
            await producer.send_and_wait(topic, b"r%d" % i, partition=0, timestamp_ms=ts)
    tp = TP(topic, 0)
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="by_duration:PT1H", enable_auto_commit=False) as c:
        got = await drain(c, 2)
        assert [(r.offset, r.value) for r in got] == [(2, b"r2"), (3, b"r3")]
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="by_duration:P1D") as c:
        c.assign([tp])
        c.seek(tp, 1000)  # out of range: reset by the duration, which reaches back past every record
        got = await drain(c, 4)
        assert [r.offset for r in got] == [0, 1, 2, 3]


async def test_auto_offset_reset_by_duration_with_no_record_that_recent_starts_at_the_end(
        consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    old = int(time.time() * 1000) - 2 * 3600_000
    async with kafkaio.Producer(bootstrap_servers=consumer_bootstrap) as producer:
        for i in range(3):
            await producer.send_and_wait(topic, b"old%d" % i, partition=0, timestamp_ms=old)
        async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap,
                                    auto_offset_reset="by_duration:PT10M") as c:
            tp = TP(topic, 0)
            c.assign([tp])
            assert await c.position(tp) == 3
            await producer.send_and_wait(topic, b"new", partition=0)
            got = await drain(c, 1)
            assert [(r.offset, r.value) for r in got] == [(3, b"new")]
