"""The dedup guard: a record whose id the store has seen is not handled; ids are remembered once
the handler returned (by default where the record was first read, or derived from the record)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

import kafkaio
from kafkaio.processing import DedupGuard, InMemoryLRUStore, Processor

from processing_helpers import consumer_for

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("by_value", [False, True], ids=["position", "record-id"])
async def test_seen_records_are_skipped_and_handled_ones_remembered(by_value: bool, bootstrap_servers: str,
                                                                    topic_factory) -> None:
    topic = await topic_factory(partitions=1)
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as producer:
        await (await producer.send_many(topic, [(f"k{i}".encode(), f"id-{i}".encode()) for i in range(10)]))
    store = InMemoryLRUStore()
    for i in range(0, 10, 2):                      # handled before, by someone
        await store.remember(f"id-{i}".encode() if by_value else (topic, 0, i))
    guard = DedupGuard(store, record_id=(lambda r: r.value) if by_value else None)
    handled: list[int] = []
    done = asyncio.Event()

    async def handler(record: kafkaio.ConsumerRecord) -> None:
        handled.append(record.offset)
        if len(handled) == 5:
            done.set()

    async with consumer_for(bootstrap_servers, f"dedup-{uuid.uuid4().hex[:8]}") as consumer:
        async with Processor(consumer, handler, topics=[topic], dedup=guard) as proc:
            runner = asyncio.create_task(proc.run())
            await asyncio.wait_for(done.wait(), 60)
            while proc.metrics().skipped_duplicates_total < 5:
                await asyncio.sleep(0.05)
            await proc.stop()
            await runner
    assert sorted(handled) == [1, 3, 5, 7, 9]
    assert len(store) == 10                        # the handled ones are remembered too
    assert await store.seen(b"id-3" if by_value else (topic, 0, 3))

