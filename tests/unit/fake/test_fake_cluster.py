"""kafkaio's real clients against the fake cluster: what they write is what the fake stored."""
from __future__ import annotations

from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import FakeCluster


async def test_produced_records_are_stored_in_order_with_their_producer_state() -> None:
    async with FakeCluster(topics={"t": 3}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            mds = [await p.send_and_wait("t", b"v%d" % i, key=b"k", partition=1) for i in range(3)]
        got = fake.records("t", 1)
    assert [md.offset for md in mds] == [0, 1, 2]
    assert [(r.offset, r.key, r.value, r.sequence) for r in got] == [
        (0, b"k", b"v0", 0), (1, b"k", b"v1", 1), (2, b"k", b"v2", 2)]
    assert len({(r.producer_id, r.producer_epoch) for r in got}) == 1
    assert got[0].producer_id >= 0  # idempotent by default, as in the Java client


async def test_partitions_are_led_by_several_brokers() -> None:
    async with FakeCluster(brokers=3, topics={"t": 3}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            for part in range(3):
                await p.send_and_wait("t", b"p%d" % part, partition=part)
        nodes = {i.node_id for i in fake.requests if i.api_key == ApiKey.PRODUCE}
        assert [[r.value for r in fake.records("t", part)] for part in range(3)] == [[b"p0"], [b"p1"], [b"p2"]]
    assert nodes == {0, 1, 2}


async def test_a_topic_is_created_on_first_use_when_auto_creation_is_on() -> None:
    async with FakeCluster() as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            await p.send_and_wait("new", b"x")
        assert [r.value for r in fake.records("new", 0)] == [b"x"]
