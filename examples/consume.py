"""Consuming with kafkaio: a group member with manual commits, a rebalance listener that commits
before partitions are taken away, getmany() batches and async-for, seeking and lag.

    python examples/consume.py                      # starts a local broker (needs Java + Maven)
    KAFKAIO_BOOTSTRAP=host:port python examples/consume.py
"""
from __future__ import annotations

import asyncio
import json
import uuid

import kafkaio
from kafkaio.errors import KafkaError
from kafkaio.testing.broker import bootstrap_or_local


class CommitOnRevoke(kafkaio.ConsumerRebalanceListener):
    """Commit what was consumed before losing partitions: the new owner starts right after it."""

    def __init__(self, consumer: kafkaio.Consumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: set[kafkaio.TopicPartition]) -> None:
        await self.consumer.commit()

    def on_partitions_assigned(self, assigned: set[kafkaio.TopicPartition]) -> None:
        print("assigned:", sorted(tp.partition for tp in assigned))


async def run(bootstrap: str) -> None:
    topic = f"example-orders-{uuid.uuid4().hex[:8]}"
    group = f"example-processor-{uuid.uuid4().hex[:8]}"
    # Production clusters run with auto.create.topics.enable=false: create the topic first.
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, num_partitions=3, replication_factor=1)],
                                  wait_for_leaders=True)
    async with kafkaio.Producer(bootstrap_servers=bootstrap, value_serializer=lambda v: json.dumps(v).encode()) as producer:
        await (await producer.send_many(topic, [{"order": i, "total": i * 1.5} for i in range(100)]))

    # A deserializer gets None for a null value (a tombstone), which json.loads would fail on.
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest",
                                value_deserializer=lambda v: None if v is None else json.loads(v)) as consumer:
        consumer.subscribe([topic], listener=CommitOnRevoke(consumer))
        total = 0.0
        seen = 0
        # Batches: pay the asyncio cost once per batch, commit after the whole batch is handled.
        while seen < 50:
            batches = await consumer.getmany(timeout_ms=1000, max_records=25)
            for tp, records in batches.items():
                for record in records:
                    total += record.value["total"]
                    seen += 1
            if batches:
                await consumer.commit()          # everything handed out so far
        # One record at a time: commit a specific offset (the next one to read).
        async for record in consumer:
            total += record.value["total"]
            seen += 1
            tp = kafkaio.TopicPartition(record.topic, record.partition)
            await consumer.commit({tp: record.offset + 1})
            if seen == 100:
                break
        print(f"consumed {seen} orders, total {total:.2f}")
        for tp in sorted(consumer.assignment()):
            committed = await consumer.committed(tp)  # None: the group has no offset for tp
            print(tp.partition, "committed", committed.offset if committed else None, "lag", consumer.lag(tp))
        # Replay one partition from the start.
        tp = min(consumer.assignment())
        await consumer.seek_to_beginning(tp)
        print("replaying from", await consumer.position(tp))


def main() -> None:
    with bootstrap_or_local(broker_properties={"num.partitions": 3}) as bootstrap:
        try:
            asyncio.run(run(bootstrap))
        except KafkaError as exc:
            raise SystemExit(f"failed: {exc}") from exc


if __name__ == "__main__":
    main()
