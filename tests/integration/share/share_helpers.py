"""Helpers of the share-group broker tests."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kafkaio import AcknowledgeType, Producer, ShareConsumer, ShareConsumerRecord
from kafkaio.retry import Deadline
from kafkaio.testing.broker import BrokerLauncherError, LocalKafkaCluster

SENTINEL = b"sentinel"
LOCK_DURATION_MS = 4000
"""The acquisition lock of the share tests' broker (``group.share.record.lock.duration.ms``)."""
SHARE_KAFKA_VERSION = "4.4.0"
SHARE_BROKER_PROPERTIES = {
    "group.share.min.record.lock.duration.ms": 1000,
    "group.share.record.lock.duration.ms": LOCK_DURATION_MS,
    "group.share.min.heartbeat.interval.ms": 500,
    "group.share.heartbeat.interval.ms": 1000,
    "group.share.min.session.timeout.ms": 6000,
    "group.share.session.timeout.ms": 10000,
    "group.share.assignment.interval.ms": 100,
    "offsets.topic.num.partitions": 3,
    "share.coordinator.state.topic.num.partitions": 3,
}
"""Broker settings of the share tests: a short acquisition lock, heartbeat and session."""


@contextmanager
def running_cluster(brokers: int = 1, **kwargs: Any) -> Iterator[LocalKafkaCluster]:
    """A Kafka 4.4.0 cluster of ``brokers`` nodes (``kwargs`` for :class:`LocalKafkaCluster`) for
    the block."""
    cluster = LocalKafkaCluster(brokers=brokers, version=SHARE_KAFKA_VERSION, **kwargs)
    try:
        cluster.start()
    except BrokerLauncherError as exc:
        pytest.fail(f"cannot start the Kafka {SHARE_KAFKA_VERSION} broker ({kwargs}): {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


async def produce(bootstrap: str, topic: str, count: int, prefix: str = "v") -> list[bytes]:
    """``count`` records spread over partitions 0 and 1; their values, in order."""
    values = [f"{prefix}{i}".encode() for i in range(count)]
    async with Producer(bootstrap_servers=bootstrap, linger_ms=5) as producer:
        futures = [await producer.send(topic, v, partition=i % 2) for i, v in enumerate(values)]
        for f in futures:
            await f
    return values


async def poll_until(consumer: ShareConsumer, count: int, timeout_ms: int = 60000) -> list[ShareConsumerRecord]:
    """Records from ``consumer`` until at least ``count`` arrived; fails at ``timeout_ms``."""
    got: list[ShareConsumerRecord] = []
    deadline = Deadline(timeout_ms)
    while len(got) < count:
        assert not deadline.expired, f"{len(got)} of {count} records arrived in {timeout_ms} ms"
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            got.extend(records)
    return got


async def left_over(bootstrap: str, topic: str, group: str) -> list[ShareConsumerRecord]:
    """What the group still delivers before a sentinel produced now to both partitions: records
    neither accepted nor rejected (records become available in offset order, so any such record
    comes with or before the sentinel of its partition)."""
    async with Producer(bootstrap_servers=bootstrap) as producer:
        for p in (0, 1):
            await (await producer.send(topic, SENTINEL, partition=p))
    got: list[ShareConsumerRecord] = []
    async with ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group) as consumer:
        deadline = Deadline(60000)
        while sum(r.value == SENTINEL for r in got) < 2:
            assert not deadline.expired, f"the sentinels did not arrive; got {got}"
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                got.extend(records)
    return [r for r in got if r.value != SENTINEL]


async def poll_acking(consumer: ShareConsumer, decide: Callable[[ShareConsumerRecord], AcknowledgeType],
                      done: Callable[[list[ShareConsumerRecord]], bool],
                      timeout_ms: int = 60000) -> list[ShareConsumerRecord]:
    """Poll an explicit-mode consumer, acknowledging each record as ``decide`` says, until
    ``done(everything so far)``; every delivery is returned, redeliveries included."""
    got: list[ShareConsumerRecord] = []
    deadline = Deadline(timeout_ms)
    while not done(got):
        assert not deadline.expired, f"not done after {timeout_ms} ms with {len(got)} deliveries"
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            for r in records:
                consumer.acknowledge(r, decide(r))
            got.extend(records)
    await consumer.commit()
    return got
