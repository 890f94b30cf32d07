"""A pool of async workers on a share group (KIP-932): many consumers read the same partitions and
each job is handed to one of them at a time. A job whose handler raises is released and retried
(with ``delivery_count`` + 1, maybe by another worker); after three failed deliveries it is rejected.
While a handler runs longer than the broker's acquisition lock, the lock is renewed.

    KAFKAIO_BOOTSTRAP=localhost:9092 JOBS_TOPIC=jobs python examples/share_worker.py

Needs a broker with share groups (Kafka 4.2 or later; ``KAFKAIO_BOOTSTRAP`` unset starts a local
one). The example creates the topic, sets the group to start from the earliest job, queues 100 jobs
and processes them with 8 in flight, failing each tenth job's first delivery on purpose.
"""
from __future__ import annotations

import asyncio
import os

import kafkaio
from kafkaio.admin import ConfigResource, NewTopic
from kafkaio.errors import TopicExistsError
from kafkaio.share.processing import process_concurrently
from kafkaio.testing.broker import bootstrap_or_local

JOBS = 100


class TransientError(Exception):
    """A failure worth retrying (a timeout of a downstream service, say)."""


async def prepare(bootstrap: str, topic: str, group: str) -> None:
    """Create the topic and make the share group start from the earliest record (the group
    config share.auto.offset.reset; its default, latest, would skip jobs queued before it started)."""
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        try:
            await admin.create_topics([NewTopic(topic, 2, 1)], wait_for_leaders=True)
        except TopicExistsError:
            pass
        await admin.incremental_alter_configs({ConfigResource("group", group): {"share.auto.offset.reset": "earliest"}})


async def run(bootstrap: str) -> bool:
    topic = os.environ.get("JOBS_TOPIC", "jobs")
    group = os.environ.get("JOBS_GROUP", f"{topic}-workers")
    await prepare(bootstrap, topic, group)
    async with kafkaio.Producer(bootstrap_servers=bootstrap) as producer:
        for i in range(JOBS):
            await producer.send(topic, f"job-{i}".encode())

    done: set[bytes] = set()
    all_done = asyncio.Event()

    async def handle(job: kafkaio.ShareConsumerRecord) -> None:
        await asyncio.sleep(0.01)  # the work
        assert isinstance(job.value, bytes)
        if job.value.endswith(b"0") and job.delivery_count == 1:
            raise TransientError(f"{job.value!r} failed on its first delivery")
        done.add(job.value)
        if len(done) == JOBS:
            all_done.set()

    async with kafkaio.ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                     share_acknowledgement_mode="explicit") as consumer:
        workers = asyncio.create_task(process_concurrently(consumer, handle, concurrency=8, reject_after=3))
        try:
            await asyncio.wait_for(all_done.wait(), 120)
            await consumer.commit()
        finally:
            workers.cancel()
            await asyncio.gather(workers, return_exceptions=True)
    print(f"every job done: {len(done) == JOBS}")
    return len(done) == JOBS


def main() -> None:
    with bootstrap_or_local(version="4.4.0") as bootstrap:
        ok = asyncio.run(run(bootstrap))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
