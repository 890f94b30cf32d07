"""kafkaio's Consumer (assign, no group) reading what the Producer wrote to the fake cluster."""
from __future__ import annotations

import asyncio
from typing import Any

from kafkaio.consumer.consumer import Consumer
from kafkaio.producer.producer import Producer
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster


async def _consume(bootstrap: str, tp: TopicPartition, n: int, **settings: object) -> list:
    out: list = []
    async with Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", **settings) as c:
        c.assign([tp])
        while len(out) < n:
            batches = await c.getmany(timeout_ms=1000)
            for records in batches.values():
                out.extend(records)
    return out


async def test_an_assigned_consumer_reads_what_was_produced_in_order() -> None:
    async with FakeCluster(brokers=2, topics={"t": 2}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            for i in range(5):
                await p.send_and_wait("t", b"v%d" % i, key=b"k%d" % i, partition=1)
        got = await _consume(fake.bootstrap_servers, TopicPartition("t", 1), 5)
    assert [(r.offset, r.key, r.value) for r in got] == [(i, b"k%d" % i, b"v%d" % i) for i in range(5)]


async def test_a_fetch_waiting_for_data_is_answered_when_records_arrive() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, auto_offset_reset="earliest",
                            fetch_max_wait_ms=10_000) as c:
            c.assign([TopicPartition("t", 0)])
            assert await c.getmany(timeout_ms=20) == {}  # nothing yet; a fetch now waits in the fake
            async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
                await p.send_and_wait("t", b"late")
            got: list = []
            while not got:
                for records in (await c.getmany(timeout_ms=5000)).values():
                    got.extend(records)
    assert [r.value for r in got] == [b"late"]


async def test_committed_offsets_are_kept_per_group() -> None:
    tp = TopicPartition("t", 0)
    async with FakeCluster(brokers=3, topics={"t": 1}) as fake:
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g",
                            enable_auto_commit=False) as c:
            c.assign([tp])
            await c.commit({tp: 42})
            committed = await c.committed(tp)
        assert fake.state.committed["g"][("t", 0)][0] == 42
    assert committed is not None and committed.offset == 42


async def _poll_until(consumers: list[Consumer], got: list, done: Any) -> None:
    """Poll every consumer, adding the records they return to ``got``, until ``done()``."""
    while not done():
        for batches in await asyncio.gather(*(c.getmany(timeout_ms=50) for c in consumers)):
            for records in batches.values():
                got.extend(records)


async def test_a_group_splits_the_partitions_and_the_survivor_takes_them_all_back() -> None:
    # heartbeat_interval_ms is short so that members learn of a rebalance at once;
    # fetch_max_wait_ms is short because kafkaio's fetcher looks up new partitions' positions
    # only on its next loop turn (up to fetch_max_wait_ms + 1 s after an assignment).
    settings = dict(bootstrap_servers=None, group_id="g", auto_offset_reset="earliest",
                    enable_auto_commit=False, fetch_max_wait_ms=10, heartbeat_interval_ms=20)
    tps = {TopicPartition("t", p) for p in range(4)}
    async with FakeCluster(topics={"t": 4}) as fake:
        settings["bootstrap_servers"] = fake.bootstrap_servers
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            for i in range(8):
                await p.send_and_wait("t", b"v%d" % i, partition=i % 4)
        async with Consumer("t", **settings) as c1:
            async with Consumer("t", **settings) as c2:
                got: list = []
                await _poll_until([c1, c2], got, lambda: len(c1.assignment()) + len(c2.assignment()) == 4
                                        and c1.assignment() and c2.assignment())
                assert not c1.assignment() & c2.assignment()
                assert c1.assignment() | c2.assignment() == tps
                await _poll_until([c1, c2], got, lambda: len({r.value for r in got}) == 8)
            positions: list[int] = []
            while positions != [2] * 4:  # the survivor owns and has consumed every partition
                await _poll_until([c1], got, lambda: c1.assignment() == tps)
                for records in (await c1.getmany(timeout_ms=50)).values():
                    got.extend(records)
                positions = [await c1.position(tp) for tp in sorted(tps)]
            await c1.commit()
        committed = {tp: fake.state.committed["g"][(tp.topic, tp.partition)][0] for tp in tps}
    # nothing was committed before the rebalances, so records may come twice (at least once)
    assert {r.value for r in got} == {b"v%d" % i for i in range(8)}
    assert committed == {tp: 2 for tp in tps}


async def test_a_fetch_in_flight_during_a_seek_is_not_handed_out() -> None:
    from kafkaio.protocol import ApiKey
    from kafkaio.testing.fake import DELAY

    tp = TopicPartition("t", 0)
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            for i in range(10):
                await p.send_and_wait("t", b"v%d" % i, partition=0)
        delayed = fake.control(ApiKey.FETCH, lambda info, body: DELAY(300))
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, fetch_max_wait_ms=50) as c:
            c.assign([tp])
            c.seek(tp, 0)
            while delayed.hits == 0:   # the fetch from 0 reached the fake, which holds it 300 ms
                assert await c.getmany(timeout_ms=10) == {}
            c.seek(tp, 6)
            got: list = []
            while len(got) < 4:
                for records in (await c.getmany(timeout_ms=1000)).values():
                    got.extend(records)
    assert [r.offset for r in got] == [6, 7, 8, 9], "nothing of the fetch from offset 0"
