"""acks=all with fewer in-sync replicas than min.insync.replicas: NOT_ENOUGH_REPLICAS is retried
until delivery_timeout_ms, and succeeds once the replica is back (two brokers of our own)."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest
from producer_helpers import create_topic, read_partition, unique

from kafkaio.errors import KafkaTimeoutError
from kafkaio.producer.producer import Producer
from kafkaio.testing.broker import LocalKafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
async def two_brokers() -> AsyncIterator[LocalKafkaCluster]:
    cluster = LocalKafkaCluster(brokers=2, auto_create_topics=False)
    await asyncio.to_thread(cluster.start)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


async def test_not_enough_replicas_is_retried_until_timeout_or_recovery(two_brokers: LocalKafkaCluster) -> None:
    bootstrap = two_brokers.bootstrap_servers
    topic = await create_topic(bootstrap, unique("isr"), 1, replication=2, configs={"min.insync.replicas": "2"})
    async with Producer(bootstrap_servers=bootstrap, linger_ms=0, request_timeout_ms=1000,
                        delivery_timeout_ms=3000, retry_backoff_ms=50, retry_backoff_max_ms=200) as short, \
            Producer(bootstrap_servers=bootstrap, linger_ms=0, request_timeout_ms=2000,
                     delivery_timeout_ms=120_000, retry_backoff_ms=50, retry_backoff_max_ms=500) as patient:
        await patient.send_and_wait(topic, b"both-replicas")
        await short._cluster.refresh_metadata([topic])
        leader = patient._cluster.leader_for(topic, 0)
        follower_index = next(i for i, b in enumerate(two_brokers.brokers) if b.node_id != leader)
        await asyncio.to_thread(two_brokers.stop_broker, follower_index)
        # the broker now refuses acks=all writes: retried until the delivery timeout
        doomed = await short.send(topic, b"doomed")
        with pytest.raises(KafkaTimeoutError) as info:
            await doomed
        assert "NOT_ENOUGH_REPLICAS" in str(info.value)
        assert doomed._batch.attempts > 2
        # a patient record keeps being retried and lands once the follower is back in sync
        survivor = await patient.send(topic, b"survivor")
        await asyncio.sleep(1)
        assert not survivor.done()
        await asyncio.to_thread(two_brokers.start_broker, follower_index)
        md = await asyncio.wait_for(survivor, 100)
    values = [r.value for r in await read_partition(bootstrap, topic, 0)]
    assert values == [b"both-replicas", b"survivor"]
    assert md.offset == 1


async def test_leader_failover_mid_stream_loses_and_duplicates_nothing(two_brokers: LocalKafkaCluster) -> None:
    bootstrap = two_brokers.bootstrap_servers
    topic = await create_topic(bootstrap, unique("failover"), 1, replication=2,
                               configs={"min.insync.replicas": "1"})
    n = 2000
    async with Producer(bootstrap_servers=bootstrap, linger_ms=2, batch_size=1024, request_timeout_ms=5000,
                        delivery_timeout_ms=120_000, retry_backoff_ms=50) as p:
        await p.send_and_wait(topic, b"%06d" % 0)
        leader = p._cluster.leader_for(topic, 0)
        leader_index = next(i for i, b in enumerate(two_brokers.brokers) if b.node_id == leader)
        futs = []

        async def produce() -> None:
            for i in range(1, n):
                futs.append(await p.send(topic, b"%06d" % i))
                if i % 50 == 0:
                    await asyncio.sleep(0.01)

        producing = asyncio.ensure_future(produce())
        while len(futs) < n // 4:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(two_brokers.stop_broker, leader_index)  # leadership moves
        await producing
        await p.flush()
        assert [f for f in futs if f.exception() is not None] == []
        assert p._cluster.leader_for(topic, 0) != leader  # the producer followed the new leader
    values = [r.value for r in await read_partition(bootstrap, topic, 0)]
    assert values == [b"%06d" % i for i in range(n)]
    await asyncio.to_thread(two_brokers.start_broker, leader_index)
