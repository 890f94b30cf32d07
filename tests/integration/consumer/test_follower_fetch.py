"""Fetching from the closest replica (KIP-392), against three brokers in three racks.

With ``client_rack`` set and brokers running the rack-aware replica selector, the leader answers a
fetch with no records and the id of a preferred read replica; the consumer must then fetch that
partition from that replica. Each broker sits behind its own FaultProxy (inter-broker replication
does not go through them), so the proxies' request counters show which broker the consumer asked.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, AsyncIterator

import pytest

from kafkaio import Consumer, Producer
from kafkaio.admin import Admin, NewTopic
from kafkaio.structs import TopicPartition
from kafkaio.testing.proxy import FaultProxy, proxied_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # three brokers of its own

FETCH = 1
RACKS = ("rack-a", "rack-b", "rack-c")


@pytest.fixture(scope="module")
async def racked() -> AsyncIterator[tuple[Any, list[FaultProxy]]]:
    async with proxied_cluster(3, racks=RACKS, broker_properties={
            "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector"}) as both:
        yield both


async def _topic_with_follower(admin: Admin) -> tuple[str, int, int]:
    """A new 1-partition topic on all three brokers: (name, leader index, a follower's index)."""
    topic = f"follower-fetch-{uuid.uuid4().hex[:8]}"
    await admin.create_topics([NewTopic(topic, 1, 3)], wait_for_leaders=True)
    for _ in range(100):
        part = (await admin.describe_topics([topic]))[topic].partitions[0]  # type: ignore[union-attr]
        if part.leader is not None and len(part.isr) == 3:
            leader = part.leader
            follower = next(r for r in part.replicas if r != leader)
            return topic, leader - 1, follower - 1  # node ids are index + 1
        await asyncio.sleep(0.1)
    raise AssertionError(f"{topic} never had all three replicas in sync")


async def _read(consumer: Consumer, count: int, timeout: float = 60.0) -> list[bytes]:
    got: list[bytes] = []

    async def loop() -> None:
        while len(got) < count:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got.extend(r.value for r in records)

    await asyncio.wait_for(loop(), timeout)
    return got


async def test_consumer_fetches_from_the_replica_in_its_rack(racked: tuple[Any, list[FaultProxy]]) -> None:
    cluster, proxies = racked
    async with Admin(bootstrap_servers=cluster.bootstrap_servers) as admin:
        topic, leader, follower = await _topic_with_follower(admin)
    tp = TopicPartition(topic, 0)
    values = [b"v%d" % i for i in range(200)]
    async with Producer(bootstrap_servers=cluster.bootstrap_servers, acks="all") as producer:
        for v in values:
            await producer.send(topic, v)
        await producer.flush()

    before = [p.requests_seen[FETCH] for p in proxies]
    async with Consumer(bootstrap_servers=cluster.bootstrap_servers, client_rack=RACKS[follower],
                        auto_offset_reset="earliest") as consumer:
        consumer.assign([tp])
        assert await _read(consumer, len(values)) == values
        fetches = [p.requests_seen[FETCH] - b for p, b in zip(proxies, before)]
        # the leader is asked first and names the replica; from then on the follower serves
        assert fetches[follower] >= 1, fetches
        assert fetches[leader] <= 3, fetches


async def test_consumer_without_a_rack_fetches_from_the_leader(racked: tuple[Any, list[FaultProxy]]) -> None:
    cluster, proxies = racked
    async with Admin(bootstrap_servers=cluster.bootstrap_servers) as admin:
        topic, leader, _ = await _topic_with_follower(admin)
    tp = TopicPartition(topic, 0)
    async with Producer(bootstrap_servers=cluster.bootstrap_servers, acks="all") as producer:
        await producer.send_and_wait(topic, b"one")
    before = [p.requests_seen[FETCH] for p in proxies]
    async with Consumer(bootstrap_servers=cluster.bootstrap_servers, auto_offset_reset="earliest") as consumer:
        consumer.assign([tp])
        assert await _read(consumer, 1) == [b"one"]
        fetches = [p.requests_seen[FETCH] - b for p, b in zip(proxies, before)]
        assert fetches[leader] >= 1 and sum(fetches) == fetches[leader], fetches


async def test_consumer_goes_back_to_the_leader_when_its_replica_stops(
        racked: tuple[Any, list[FaultProxy]]) -> None:
    cluster, proxies = racked
    async with Admin(bootstrap_servers=cluster.bootstrap_servers) as admin:
        topic, leader, follower = await _topic_with_follower(admin)
    tp = TopicPartition(topic, 0)
    async with Producer(bootstrap_servers=cluster.bootstrap_servers, acks=1) as producer, \
            Consumer(bootstrap_servers=cluster.bootstrap_servers, client_rack=RACKS[follower],
                     auto_offset_reset="earliest", metadata_max_age_ms=300000) as consumer:
        await producer.send_and_wait(topic, b"before")
        consumer.assign([tp])
        assert await _read(consumer, 1) == [b"before"]
        assert proxies[follower].requests_seen[FETCH] >= 1
        at_leader = proxies[leader].requests_seen[FETCH]
        await asyncio.to_thread(cluster.stop_broker, follower)
        try:
            await producer.send_and_wait(topic, b"after")
            assert await _read(consumer, 1) == [b"after"]
            assert proxies[leader].requests_seen[FETCH] > at_leader
        finally:
            await asyncio.to_thread(cluster.start_broker, follower)
