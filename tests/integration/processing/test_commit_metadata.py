"""The records finished above the completed watermark travel in the commit metadata: a restart
handles the unfinished record below them and skips them (with the metadata off, it handles them
again); the watermark itself stays on the unfinished record."""
from __future__ import annotations

import asyncio
import uuid

import pytest

import kafkaio
from kafkaio.processing import Processor
from kafkaio.structs import TopicPartition

from processing_helpers import consumer_for

pytestmark = pytest.mark.integration


async def run_once(bootstrap: str, topic: str, group: str, metadata: bool, hold_offset: int | None,
                   want: int) -> list[int]:
    """Handle until ``want`` records finished; the record at ``hold_offset`` never finishes (it is
    cancelled by the stop)."""
    handled: list[int] = []
    enough = asyncio.Event()

    async def handler(record: kafkaio.ConsumerRecord) -> None:
        if record.offset == hold_offset:
            await asyncio.Event().wait()
        handled.append(record.offset)
        if len(handled) >= want:
            enough.set()

    async with consumer_for(bootstrap, group) as consumer:
        async with Processor(consumer, handler, topics=[topic], ordering="key", stop_timeout_ms=200,
                             commit_done_in_metadata=metadata) as proc:
            runner = asyncio.create_task(proc.run())
            await asyncio.wait_for(enough.wait(), 60)
            await proc.stop()
            await runner
    return handled


@pytest.mark.parametrize("metadata", [True, False], ids=["metadata", "no-metadata"])
async def test_restart_skips_records_done_above_the_watermark(metadata: bool, bootstrap_servers: str,
                                                              topic_factory) -> None:
    topic = await topic_factory(partitions=1)
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as producer:
        await (await producer.send_many(topic, [(f"k{i}".encode(), b"v") for i in range(10)]))
    group = f"meta-{uuid.uuid4().hex[:8]}"
    first = await run_once(bootstrap_servers, topic, group, metadata, hold_offset=3, want=9)
    assert sorted(first) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
        committed = (await admin.list_consumer_group_offsets(group))[TopicPartition(topic, 0)]
    assert committed is not None and committed.offset == 3
    second = await run_once(bootstrap_servers, topic, group, metadata, hold_offset=None,
                            want=1 if metadata else 7)
    assert sorted(second) == ([3] if metadata else [3, 4, 5, 6, 7, 8, 9])
