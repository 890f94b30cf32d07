"""Topic housekeeping for the runs: create a fresh topic per run, fill the consume topics, count
what a topic holds, delete it afterwards. Uses confluent-kafka's admin client (librdkafka), so the
harness does not depend on the client under test."""
from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient, TopicMetadata


# librdkafka logs of the harness's own clients: warnings and errors only. At its default (info) the
# admin client printed a "partition count changed from 6 to 0" notice for every deleted topic and
# every disconnect. The clients under test run in their own processes and keep their own settings.
_QUIET = {"log_level": 4}


class Topics:
    """Creates and deletes benchmark topics on one cluster. ``close()`` it before the cluster
    stops, or its admin client keeps reconnecting to the stopped broker and logs every refusal."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        # imported here: the report code imports this module, and its tests run without the
        # [bench] extra installed
        from confluent_kafka.admin import AdminClient

        self._admin: AdminClient | None = AdminClient({"bootstrap.servers": bootstrap, **_QUIET})

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            raise RuntimeError("Topics is closed")
        return self._admin

    def close(self) -> None:
        """Let go of the admin client; librdkafka destroys it (and its connections) at once."""
        self._admin = None

    def __enter__(self) -> "Topics":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create(self, prefix: str, partitions: int, replication_factor: int = 1,
               config: dict[str, str] | None = None) -> str:
        """A new topic named ``<prefix>-<random>`` with ``partitions`` partitions (each on
        ``replication_factor`` brokers, with the topic ``config``), once every partition has a
        leader and all its replicas in sync."""
        return self.create_many(prefix, partitions, 1, replication_factor, config)[0]

    def create_many(self, prefix: str, partitions: int, count: int, replication_factor: int = 1,
                    config: dict[str, str] | None = None) -> list[str]:
        """``count`` new topics as ``create`` makes one, in one CreateTopics request, returned
        once every partition of every one has a leader and all its replicas in sync, and its
        leader answers for it (``_wait_answered``)."""
        from confluent_kafka.admin import NewTopic

        names = [f"{prefix}-{uuid.uuid4().hex[:8]}" for _ in range(count)]
        futures = self.admin.create_topics([NewTopic(name, num_partitions=partitions,
                                                     replication_factor=replication_factor, config=config or {})
                                            for name in names])
        for name in names:
            futures[name].result(60)
        # asked one topic at a time: librdkafka's answer for all topics lacked the new ones for
        # over a second after they were created, the answer for one topic had them at once
        pending = list(names)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = [name for name in pending if not self._ready(
                self.admin.list_topics(name, timeout=10).topics.get(name), partitions, replication_factor)]
            if not pending:
                self._wait_answered(names, partitions, deadline)
                return names
            time.sleep(0.1)
        raise RuntimeError(f"topics {', '.join(pending)}: not every partition has a leader and its replicas "
                           "in sync after 60 s")

    def _wait_answered(self, names: list[str], partitions: int, deadline: float) -> None:
        """Wait until the leader of every partition of ``names`` answers a ListOffsets request for
        it. The metadata names a new partition's leader before that broker has made its log: it
        made the 1,000 logs of a 1,000-partition topic over 5-12 s, refusing the partitions it had
        not made yet, and a client that wrote meanwhile backed off for 27-42 s of its run."""
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        pending = [TopicPartition(name, p) for name in names for p in range(partitions)]
        while True:
            answers = self.admin.list_offsets({tp: OffsetSpec.latest() for tp in pending}, request_timeout=10)
            pending = [tp for tp, answer in answers.items() if answer.exception(30) is not None]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} partition(s) of {', '.join(names)}: no answer from their "
                                   "leader 60 s after the topics were made")
            time.sleep(0.1)

    @staticmethod
    def _ready(topic: TopicMetadata | None, partitions: int, replication_factor: int) -> bool:
        return topic is not None and topic.error is None and len(topic.partitions) == partitions and all(
            p.leader >= 0 and len(p.isrs) == replication_factor for p in topic.partitions.values())

    def delete(self, name: str) -> None:
        self.delete_many([name])

    def delete_many(self, names: list[str]) -> None:
        """Delete the topics in one DeleteTopics request, and wait for the broker's answer."""
        if not names:
            return
        futures = self.admin.delete_topics(list(names))
        for name in names:
            try:
                futures[name].result(60)
            except Exception:  # already gone, or the broker is down: nothing left to clean
                pass

    def count(self, name: str) -> int:
        """Records in the topic (sum of high watermarks less low ones; the topics are never truncated)."""
        return sum(high - low for low, high in self._watermarks(name))

    def ends(self, name: str) -> list[int]:
        """Each partition's end offset (high watermark), by partition number."""
        return [high for _, high in self._watermarks(name)]

    def _watermarks(self, name: str) -> list[tuple[int, int]]:
        """(low, high) watermark of each partition of the topic, by partition number."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "bench-count", **_QUIET})
        try:
            md = consumer.list_topics(name, timeout=30)
            return [consumer.get_watermark_offsets(TopicPartition(name, p), timeout=30)
                    for p in sorted(md.topics[name].partitions)]
        finally:
            consumer.close()
