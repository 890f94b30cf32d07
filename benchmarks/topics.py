"""Topic housekeeping for the runs: create a fresh topic per run, fill the consume topics, count
what a topic holds, delete it afterwards. Uses confluent-kafka's admin client (librdkafka), so the
harness does not depend on the client under test."""
from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


class Topics:
    """Creates and deletes benchmark topics on one cluster."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    def create(self, prefix: str, partitions: int) -> str:
        """A new topic named ``<prefix>-<random>`` with ``partitions`` partitions, once every
        partition has a leader."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        futures = self.admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        futures[name].result(60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            md = self.admin.list_topics(name, timeout=10)
            topic = md.topics.get(name)
            if topic is not None and topic.error is None and len(topic.partitions) == partitions and all(
                p.leader >= 0 for p in topic.partitions.values()
            ):
                return name
            time.sleep(0.1)
        raise RuntimeError(f"topic {name} has no leaders after 60 s")

    def delete(self, name: str) -> None:
        futures = self.admin.delete_topics([name])
        try:
            futures[name].result(60)
        except Exception:  # already gone, or the broker is down: nothing left to clean
            pass

    def count(self, name: str) -> int:
        """Records in the topic (sum of high watermarks; the topics are never truncated)."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "bench-count"})
        try:
            md = consumer.list_topics(name, timeout=30)
            total = 0
            for p in md.topics[name].partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=30)
                total += high - low
            return total
        finally:
            consumer.close()
