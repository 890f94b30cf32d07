"""kafkaio's Consumer (assign, no group) reading what the Producer wrote to the fake cluster."""
from __future__ import annotations

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
