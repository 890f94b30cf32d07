"""With a transactional producer, a record's hand-off to the dead-letter (or a retry) topic and
the commit that marks it finished are one transaction: the dead-letter record is read back with
read_committed exactly once, and the committed offsets (with the records finished above the
watermark in their metadata) reach the end of the log."""
from __future__ import annotations

import asyncio
import uuid

import pytest

import kafkaio
from kafkaio.errors import ConfigError
from kafkaio.processing import Processor, RetryPolicy
from kafkaio.structs import TopicPartition

from processing_helpers import consumer_for

pytestmark = pytest.mark.integration

N = 60


class Rejected(Exception):
    pass


async def test_dead_letters_go_out_in_the_commit_transaction(bootstrap_servers: str, topic_factory,
                                                             txn_version: int) -> None:
    topic = await topic_factory(partitions=2)
    await topic_factory(partitions=1, name=f"{topic}-retry-1")
    await topic_factory(partitions=1, name=f"{topic}-dlt")
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as plain:
        await (await plain.send_many(topic, [(f"k{i % 5}".encode(), str(i).encode()) for i in range(N)]))
    calls: dict[int, int] = {}
    succeeded: set[int] = set()

    async def handler(record: kafkaio.ConsumerRecord) -> None:
        ident = int(record.value)
        calls[ident] = calls.get(ident, 0) + 1
        if ident % 3 == 0:
            raise Rejected(f"{ident}")              # always: retry topic, then dead letter
        if ident % 3 == 1 and calls[ident] == 1:
            raise Rejected(f"{ident} once")         # once: succeeds from the retry topic
        succeeded.add(ident)

    policy = RetryPolicy(retry_topic_delays_ms=(200,))
    group = f"eos-{uuid.uuid4().hex[:8]}"
    producer = kafkaio.Producer(bootstrap_servers=bootstrap_servers, transactional_id=f"{group}-handoff")
    async with producer, consumer_for(bootstrap_servers, group, isolation_level="read_committed") as consumer:
        async with Processor(consumer, handler, topics=[topic], retry=policy, producer=producer) as proc:
            runner = asyncio.create_task(proc.run())
            for _ in range(1200):
                if len(succeeded) + proc.metrics().dead_letter_total >= N:
                    break
                await asyncio.sleep(0.05)
            await proc.stop()
            await runner
        metrics = proc.metrics()
    dead: list[int] = []
    async with consumer_for(bootstrap_servers, f"{group}-check", isolation_level="read_committed") as reader:
        reader.subscribe([f"{topic}-dlt"])
        for _ in range(20):
            for records in (await reader.getmany(timeout_ms=500)).values():
                dead.extend(int(r.value) for r in records)
            if len(dead) >= N // 3:
                break
    assert sorted(dead) == [i for i in range(N) if i % 3 == 0]
    assert succeeded == {i for i in range(N) if i % 3}
    assert metrics.dead_letter_total == N // 3 and metrics.retry_topic_sends_total == 2 * N // 3
    async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    async with consumer_for(bootstrap_servers, f"{group}-ends") as probe:
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1), TopicPartition(f"{topic}-retry-1", 0)]
        ends = await probe.end_offsets(tps)
    got = {tp: om.offset for tp, om in committed.items() if om is not None}
    assert {tp: got.get(tp) for tp in tps[:2]} == {tp: ends[tp] for tp in tps[:2]}
    # the retry topic holds transaction markers after its records: the watermark is at the last
    # record + 1, at most the end
    assert got[tps[2]] <= ends[tps[2]] and got[tps[2]] >= 2 * N // 3


def test_a_transactional_producer_needs_a_read_committed_consumer() -> None:
    consumer = kafkaio.Consumer(bootstrap_servers="localhost:1", group_id="g", enable_auto_commit=False)
    producer = kafkaio.Producer(bootstrap_servers="localhost:1", transactional_id="t")
    with pytest.raises(ConfigError, match="^isolation_level:"):
        Processor(consumer, lambda r: asyncio.sleep(0), retry=RetryPolicy(), producer=producer)
