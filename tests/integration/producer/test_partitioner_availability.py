"""partitioner_availability_timeout_ms against two brokers, one of which stops answering.

Each broker sits behind its own FaultProxy. Pausing one proxy holds every produce request sent to
that broker: the producer reaches its in-flight limit there and its batches wait. Past the timeout,
records without a key must go to the partition of the broker that still answers; once the paused
broker answers again, everything is delivered, nothing lost.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, AsyncIterator

import pytest

from kafkaio import Producer
from kafkaio.admin import Admin, NewTopic
from kafkaio.testing.proxy import FaultProxy, proxied_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # two brokers of its own


@pytest.fixture(scope="module")
async def two_brokers() -> AsyncIterator[tuple[Any, list[FaultProxy]]]:
    async with proxied_cluster(2) as both:
        yield both


async def test_keyless_records_avoid_the_broker_that_stopped_answering(
        two_brokers: tuple[Any, list[FaultProxy]]) -> None:
    cluster, proxies = two_brokers
    topic = f"availability-{uuid.uuid4().hex[:8]}"
    async with Admin(bootstrap_servers=cluster.bootstrap_servers) as admin:
        # partition 0 on node 1 (behind proxies[0]), partition 1 on node 2
        await admin.create_topics([NewTopic(topic, replica_assignments={0: [1], 1: [2]})],
                                  wait_for_leaders=True)
    async with Producer(bootstrap_servers=cluster.bootstrap_servers, partitioner_availability_timeout_ms=300,
                        batch_size=2048, linger_ms=0, request_timeout_ms=60000,
                        delivery_timeout_ms=120000) as producer:
        for p in (0, 1):  # connections and metadata in place
            await producer.send_and_wait(topic, b"warm", partition=p)
        proxies[0].pause()
        paused_at = time.monotonic()
        sent: list[tuple[float, Any]] = []
        try:
            while time.monotonic() - paused_at < 3.0:
                for _ in range(10):
                    sent.append((time.monotonic() - paused_at, await producer.send(topic, b"x" * 100)))
                await asyncio.sleep(0.005)
        finally:
            proxies[0].resume()
        await producer.flush()
        results = [(t, await fut) for t, fut in sent]  # every record delivered
    late = [md.partition for t, md in results if t > 1.5]
    assert late and set(late) == {1}, f"{late.count(0)} of {len(late)} late records went to the paused broker"
    assert any(md.partition == 0 for _, md in results)  # it was used before it stopped answering
