"""What a Kafka 4.x broker does when an idempotent producer's records are all gone: it no longer
answers UNKNOWN_PRODUCER_ID (KIP-360, Kafka 2.5), so the producer simply carries on.

* DeleteRecords up to the end of the log leaves the broker's in-memory producer state in place: the
  producer's next batch continues its sequence and is accepted.
* Only expiry (``producer.id.expiration.ms`` of inactivity) makes the broker forget the producer;
  then it has no entry for it and accepts whatever sequence comes next, where brokers before 2.5
  answered UNKNOWN_PRODUCER_ID.

In both cases every record is delivered once, in order, with the same producer id and epoch (an
UNKNOWN_PRODUCER_ID would have made the producer bump its epoch). The source references are in
docs/producer.md ("UNKNOWN_PRODUCER_ID on Kafka 4.x").
"""
from __future__ import annotations

import asyncio

import pytest
from producer_helpers import create_topic, unique

from kafkaio.admin import Admin
from kafkaio.consumer.consumer import Consumer
from kafkaio.producer.producer import Producer
from kafkaio.structs import TopicPartition
from kafkaio.testing.broker import LocalKafkaCluster

pytestmark = pytest.mark.integration


async def _send(p: Producer, topic: str, values: list[bytes]) -> list[int]:
    futs = [await p.send(topic, v) for v in values]
    return [(await f).offset for f in futs]


async def _read_from_log_start(bootstrap: str, tp: TopicPartition, count: int) -> list[tuple[int, bytes]]:
    """(offset, value) of the first ``count`` records from the partition's log start offset."""
    out: list[tuple[int, bytes]] = []
    async with Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest") as consumer:
        consumer.assign([tp])
        while len(out) < count:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 60)
            out.extend((r.offset, r.value) for r in batch.get(tp, ()))
    return out


async def test_delete_records_keeps_the_producer_state(bootstrap_servers: str, kafka_admin: Admin) -> None:
    topic = await create_topic(bootstrap_servers, unique("upid-delete"), 1)
    tp = TopicPartition(topic, 0)
    first = [b"a%03d" % i for i in range(20)]
    second = [b"b%03d" % i for i in range(20)]
    async with Producer(bootstrap_servers=bootstrap_servers, linger_ms=0, batch_size=256) as p:
        assert await _send(p, topic, first) == list(range(20))
        before = (await kafka_admin.describe_producers([tp]))[tp]
        assert [s.last_sequence for s in before] == [19]

        assert (await kafka_admin.delete_records({tp: -1}))[tp] == 20  # every record of the producer is gone
        # ... but not the broker's memory of it
        assert (await kafka_admin.describe_producers([tp]))[tp] == before

        assert await _send(p, topic, second) == list(range(20, 40))
        # same producer id and epoch (an UNKNOWN_PRODUCER_ID would have bumped the epoch), and the
        # sequence went on from 20 rather than restarting at 0
        after = (await kafka_admin.describe_producers([tp]))[tp]
        assert [(s.producer_id, s.producer_epoch, s.last_sequence) for s in after] == [
            (before[0].producer_id, before[0].producer_epoch, 39)]
    assert await _read_from_log_start(bootstrap_servers, tp, 20) == list(zip(range(20, 40), second))


@pytest.mark.slow
async def test_expired_producer_carries_on_after_delete_records() -> None:
    # Our own broker, forgetting idle producers after 1.5 s (Kafka's default is a day).
    cluster = LocalKafkaCluster(brokers=1, broker_properties={
        "producer.id.expiration.ms": 1500, "producer.id.expiration.check.interval.ms": 200})
    await asyncio.to_thread(cluster.start)
    try:
        bootstrap = cluster.bootstrap_servers
        topic = await create_topic(bootstrap, unique("upid-lost"), 1)
        tp = TopicPartition(topic, 0)
        first = [b"a%03d" % i for i in range(20)]
        second = [b"b%03d" % i for i in range(20)]
        async with Admin(bootstrap_servers=bootstrap) as admin, \
                Producer(bootstrap_servers=bootstrap, linger_ms=0, batch_size=256,
                         request_timeout_ms=5000, delivery_timeout_ms=120_000) as p:
            assert await _send(p, topic, first) == list(range(20))
            before = (await admin.describe_producers([tp]))[tp]
            assert (await admin.delete_records({tp: -1}))[tp] == 20

            # Idle past producer.id.expiration.ms, the broker forgets the producer entirely ...
            for _ in range(300):
                if not (await admin.describe_producers([tp]))[tp]:
                    break
                await asyncio.sleep(0.1)
            assert (await admin.describe_producers([tp]))[tp] == [], "the broker never expired the producer"

            # ... and the producer, which still expects sequence 20, is accepted as new: where a
            # pre-2.5 broker answered UNKNOWN_PRODUCER_ID, a 4.x broker takes any sequence.
            assert await _send(p, topic, second) == list(range(20, 40))
            after = (await admin.describe_producers([tp]))[tp]
            assert [(s.producer_id, s.producer_epoch, s.last_sequence) for s in after] == [
                (before[0].producer_id, before[0].producer_epoch, 39)]
        assert await _read_from_log_start(bootstrap, tp, 20) == list(zip(range(20, 40), second))
    finally:
        await asyncio.to_thread(cluster.stop)
