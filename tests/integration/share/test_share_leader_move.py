"""A share partition's leader moves (its broker is stopped, in a 3-broker Kafka 4.4 cluster with
replication factor 3): the share consumer follows the new leader, and no record is lost or
accepted twice."""
from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from kafkaio import Producer, ShareConsumer
from kafkaio.admin import Admin, ConfigResource, ConfigResourceType, NewTopic
from kafkaio.errors import KafkaError
from kafkaio.retry import Deadline
from kafkaio.structs import TopicPartition

from share_helpers import SHARE_BROKER_PROPERTIES, running_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

REPLICATED = {
    **SHARE_BROKER_PROPERTIES,
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,
    "share.coordinator.state.topic.replication.factor": 3,
    "share.coordinator.state.topic.min.isr": 2,
    "transaction.state.log.replication.factor": 3,
}


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    async with Producer(bootstrap_servers=bootstrap, acks="all", linger_ms=5) as producer:
        futures = [await producer.send(topic, v, partition=i % 2) for i, v in enumerate(values)]
        for f in futures:
            await f


async def _accept_until(consumer: ShareConsumer, wanted: set[bytes], accepted: Counter[bytes],
                        timeout_ms: int = 120000) -> None:
    """Poll and commit (implicit acceptance) until every value of ``wanted`` was accepted; a value
    counts only when the broker confirmed its partition's acknowledgement."""
    deadline = Deadline(timeout_ms)
    while not wanted <= set(accepted):
        assert not deadline.expired, f"{len(wanted - set(accepted))} records never accepted"
        batch = await consumer.getmany(timeout_ms=1000)
        results: dict[TopicPartition, KafkaError | None] = await consumer.commit() if batch else {}
        for tp, records in batch.items():
            if results.get(tp) is None:
                accepted.update(r.value for r in records)


async def test_a_leader_move_loses_no_record_and_accepts_none_twice() -> None:
    with running_cluster(brokers=3, broker_properties=REPLICATED) as cluster:
        bootstrap = cluster.bootstrap_servers
        topic, group = f"share-move-{uuid.uuid4().hex[:8]}", f"share-move-{uuid.uuid4().hex[:8]}"
        async with Admin(bootstrap_servers=bootstrap) as admin:
            await admin.create_topics([NewTopic(topic, 2, 3)], timeout_ms=60000, wait_for_leaders=True)
            await admin.incremental_alter_configs(
                {ConfigResource(ConfigResourceType.GROUP, group): {"share.auto.offset.reset": "earliest"}})
            leader = (await admin.describe_topics([topic]))[topic].partitions[0].leader
        before = [f"before-{i}".encode() for i in range(200)]
        after = [f"after-{i}".encode() for i in range(200)]
        accepted: Counter[bytes] = Counter()
        await _produce(bootstrap, topic, before)
        async with ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                 request_timeout_ms=5000) as consumer:
            await _accept_until(consumer, set(before), accepted)
            victim = next(i for i, b in enumerate(cluster.brokers) if b.node_id == leader)
            await asyncio.to_thread(cluster.stop_broker, victim)
            await _produce(bootstrap, topic, after)
            await _accept_until(consumer, set(after), accepted)
        assert set(accepted) == set(before) | set(after)
        assert [v for v, n in accepted.items() if n > 1] == []
