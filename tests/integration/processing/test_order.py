"""The Processor against a real broker: order per key on 100k records with random handler delays,
each record handled exactly once in a clean run, the committed watermarks at the end of every
partition, and the bound on handlers running at once kept."""
from __future__ import annotations

import asyncio
import random
import uuid

import pytest

import kafkaio
from kafkaio.processing import Processor
from kafkaio.structs import TopicPartition

from processing_helpers import consumer_for, produce_keyed

pytestmark = pytest.mark.integration

N_RECORDS = 100_000
N_KEYS = 1000
PARTITIONS = 6


@pytest.mark.slow
async def test_order_per_key_and_exactly_once_on_100k_records(bootstrap_servers: str, topic_factory) -> None:
    topic = await topic_factory(partitions=PARTITIONS)
    await produce_keyed(bootstrap_servers, topic, N_RECORDS, N_KEYS)
    rng = random.Random(5)
    last: dict[bytes, int] = {}
    handled: set[tuple[int, int]] = set()
    running = 0
    most_running = 0
    errors: list[str] = []
    finished = asyncio.Event()

    async def handler(record: kafkaio.ConsumerRecord) -> None:
        nonlocal running, most_running
        running += 1
        most_running = max(most_running, running)
        try:
            seq = int(record.value)
            await asyncio.sleep(rng.random() * 0.002 if rng.random() < 0.5 else 0)
            if last.get(record.key, -1) != seq - 1:
                errors.append(f"key {record.key!r}: {seq} after {last.get(record.key)}")
            last[record.key] = seq
            ident = (record.partition, record.offset)
            if ident in handled:
                errors.append(f"handled twice: {ident}")
            handled.add(ident)
            if len(handled) == N_RECORDS:
                finished.set()
        finally:
            running -= 1

    group = f"proc-{uuid.uuid4().hex[:8]}"
    async with consumer_for(bootstrap_servers, group, max_poll_records=2000) as consumer:
        async with Processor(consumer, handler, topics=[topic], ordering="key", max_in_flight=64) as proc:
            runner = asyncio.create_task(proc.run())
            await asyncio.wait_for(finished.wait(), 240)
            await proc.stop()
            await runner
        assert proc.metrics().handled_total == N_RECORDS
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(tps)
    assert not errors, errors[:10]
    assert len(handled) == N_RECORDS
    assert all(seq == N_RECORDS // N_KEYS - 1 for seq in last.values()) and len(last) == N_KEYS
    assert 1 < most_running <= 64
    async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    assert {tp: om.offset for tp, om in committed.items() if om is not None} == ends
