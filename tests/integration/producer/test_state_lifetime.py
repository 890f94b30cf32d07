"""A long-lived producer's per-partition state has a lifetime: it goes when the topic is gone
(deleted, and dropped by metadata_max_idle_ms), and the sequences of a topic that still exists stay
(the broker remembers the producer there).

The module's broker does not create topics on a metadata request, so a deleted topic stays deleted.
"""
from __future__ import annotations

import asyncio
import uuid

import pytest

from kafkaio import Admin, Producer
from kafkaio.admin import NewTopic

pytestmark = [pytest.mark.integration, pytest.mark.proxied_broker(auto_create_topics=False)]


def _producer(bootstrap_servers: str, idle_ms: int = 5000) -> Producer:
    # 5000: the smallest idle time allowed (as in Java); refreshes often enough to see it act
    return Producer(bootstrap_servers=bootstrap_servers, metadata_max_idle_ms=idle_ms, metadata_max_age_ms=300)


def _entries(producer: Producer, topics: set[str]) -> dict[str, int]:
    """Per-partition (or per-topic) entries the producer holds for ``topics``, by kind."""
    appender = producer._accumulator.appender
    idem = producer._idem
    assert idem is not None
    return {
        "queues": sum(tp[0] in topics for tp in appender.queues),
        "sequences": sum(tp[0] in topics for tp in idem.tracked_partitions()),
        "partition_counts": sum(t in topics for t in appender.partition_counts),
        "sticky": sum(t in topics for t in appender.sticky),
    }


async def test_deleted_topics_release_their_per_partition_state(proxied_bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8]
    names = {f"gone-{run}-{i}" for i in range(40)}
    async with Admin(bootstrap_servers=proxied_bootstrap) as admin:
        await admin.create_topics([NewTopic(n, 2, 1) for n in names], wait_for_leaders=True)
        # all at once: a topic unused for metadata_max_idle_ms before the count below would
        # already be dropped, as it should be (10 s: on a busy machine these sends have taken 5)
        async with _producer(proxied_bootstrap, idle_ms=10_000) as producer:
            await asyncio.gather(*(producer.partitions_for(n) for n in names))
            futures = []
            for n in sorted(names):
                futures.append(await producer.send(n, b"keyless"))  # the sticky partitioner's state too
                futures.append(await producer.send(n, b"to-0", partition=0))
                futures.append(await producer.send(n, b"to-1", partition=1))
            await asyncio.gather(*futures)
            before = _entries(producer, names)
            assert before["queues"] == before["sequences"] == 80
            assert before["sticky"] == 40  # (partition counts are a cache cleared by each metadata update)

            await admin.delete_topics(sorted(names))
            for _ in range(400):  # dropped once deleted and idle
                if not any(_entries(producer, names).values()):
                    break
                await asyncio.sleep(0.1)
            assert _entries(producer, names) == {"queues": 0, "sequences": 0, "partition_counts": 0, "sticky": 0}
            assert not names & producer._cluster.tracked_topics


async def test_an_idle_topic_that_exists_keeps_its_sequences(proxied_bootstrap: str) -> None:
    topic = f"idle-live-{uuid.uuid4().hex[:8]}"
    async with Admin(bootstrap_servers=proxied_bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, 2, 1)], wait_for_leaders=True)
    async with _producer(proxied_bootstrap) as producer:
        for i in range(3):
            md = await producer.send_and_wait(topic, b"before-%d" % i, partition=0)
            assert md.offset == i
        for _ in range(150):
            if topic not in producer._cluster.tracked_topics:
                break
            await asyncio.sleep(0.1)
        assert topic not in producer._cluster.tracked_topics  # dropped as idle
        assert _entries(producer, {topic})["sequences"] == 1  # partition 0's, kept
        assert _entries(producer, {topic})["queues"] == 0     # the empty queue went
        # the next batch follows the broker's sequences: written after the others, not taken for
        # a duplicate of the first (which a sequence restarted at 0 would be)
        md = await producer.send_and_wait(topic, b"after", partition=0)
        assert md.offset == 3
        # the queue made again is the one send()'s common record finds (by partition, no key):
        # records after it are delivered, in order, after the others
        futures = [await producer.send(topic, b"again-%d" % i, partition=0) for i in range(5)]
        futures += [await producer.send(topic, b"keyless-%d" % i) for i in range(5)]
        delivered = [await f for f in futures]
        assert [md.offset for md in delivered[:5]] == [4, 5, 6, 7, 8]
        assert len({(md.partition, md.offset) for md in delivered}) == 10
