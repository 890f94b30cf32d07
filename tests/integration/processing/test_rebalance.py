"""Three Processors of one group, joining and leaving while 30k keyed records are handled (eager
range and cooperative-sticky): every record is handled exactly once and in order per key across
the handovers (revocation waits for the running records and commits the watermark with the records
done above it), and the committed offsets, read by an Admin client throughout, never move back."""
from __future__ import annotations

import asyncio
import random
import time
import uuid

import pytest

import kafkaio
from kafkaio.processing import Processor
from kafkaio.structs import TopicPartition

from processing_helpers import consumer_for, produce_keyed

pytestmark = pytest.mark.integration

N = 30_000
KEYS = 200
PARTITIONS = 6


class Member:
    def __init__(self, name: str, bootstrap: str, group: str, topic: str, strategy: str,
                 log: list[tuple[bytes, int, str, int, int]], rng: random.Random) -> None:
        self.name = name
        self.log = log
        self.rng = rng
        self.consumer = consumer_for(bootstrap, group, partition_assignment_strategy=strategy,
                                     client_id=name, max_poll_records=500)
        self.processor = Processor(self.consumer, self.handle, topics=[topic], ordering="key",
                                   max_in_flight=32, max_buffered_records=300, commit_interval_ms=200)
        self.task: asyncio.Task[None] | None = None

    async def handle(self, record: kafkaio.ConsumerRecord) -> None:
        if self.rng.random() < 0.3:
            await asyncio.sleep(self.rng.random() * 0.004)
        self.log.append((record.key, int(record.value), self.name, record.partition, record.offset))

    async def start(self) -> None:
        await self.consumer.start()
        self.task = asyncio.create_task(self.processor.run())

    async def leave(self) -> None:
        await self.processor.stop()
        assert self.task is not None
        await self.task
        await self.consumer.stop()


async def wait_for(log: list, count: int, deadline_s: float = 120) -> None:
    end = time.monotonic() + deadline_s
    while len(log) < count:
        assert time.monotonic() < end, f"only {len(log)} of {count} records handled"
        await asyncio.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
async def test_members_join_and_leave_order_and_watermarks_hold(strategy: str, bootstrap_servers: str,
                                                                 topic_factory) -> None:
    topic = await topic_factory(partitions=PARTITIONS)
    await produce_keyed(bootstrap_servers, topic, N, KEYS)
    group = f"rebal-{uuid.uuid4().hex[:8]}"
    log: list[tuple[bytes, int, str, int, int]] = []
    rng = random.Random(9)
    backwards: list[str] = []
    watching = True

    async def watch_commits() -> None:
        seen: dict[TopicPartition, int] = {}
        async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
            while watching:
                for tp, om in (await admin.list_consumer_group_offsets(group)).items():
                    if om is None:
                        continue
                    if om.offset < seen.get(tp, -1):
                        backwards.append(f"{tp}: {seen[tp]} -> {om.offset}")
                    seen[tp] = max(seen.get(tp, -1), om.offset)
                await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch_commits())
    a, b, c = (Member(n, bootstrap_servers, group, topic, strategy, log, rng) for n in "abc")
    await a.start()
    await wait_for(log, N // 5)
    await b.start()
    await wait_for(log, 2 * N // 5)
    await c.start()
    await wait_for(log, 3 * N // 5)
    await a.leave()
    await wait_for(log, 4 * N // 5)
    await b.leave()
    await wait_for(log, N)
    await c.leave()
    watching = False
    await watcher

    per_key: dict[bytes, list[int]] = {}
    handlers: dict[bytes, set[str]] = {}
    by_offset: dict[tuple[int, int], list[str]] = {}
    for key, seq, name, partition, offset in log:
        per_key.setdefault(key, []).append(seq)
        handlers.setdefault(key, set()).add(name)
        by_offset.setdefault((partition, offset), []).append(name)
    twice = {o: names for o, names in by_offset.items() if len(names) > 1}
    assert not twice, f"handled twice (partition, offset: by): {sorted(twice.items())[:20]}"
    for key, seqs in per_key.items():
        assert seqs == list(range(N // KEYS)), f"{key!r}: {seqs[:20]}..."
    assert any(len(names) > 1 for names in handlers.values()), "no key changed hands"
    assert not backwards, backwards
    async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    async with consumer_for(bootstrap_servers, f"{group}-ends") as probe:
        ends = await probe.end_offsets([TopicPartition(topic, p) for p in range(PARTITIONS)])
    assert {tp: om.offset for tp, om in committed.items() if om is not None} == ends
