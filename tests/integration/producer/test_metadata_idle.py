"""metadata_max_idle_ms: a producer stops refreshing the metadata of topics it no longer sends to.

The broker under test creates topics on a metadata request (auto.create.topics.enable=true, the
broker default), so a producer that kept asking for a deleted topic would bring it back.
"""
from __future__ import annotations

import asyncio
import uuid

import pytest

from kafkaio import Admin, Producer
from kafkaio.admin import NewTopic

pytestmark = pytest.mark.integration


async def _exists(admin: Admin, topic: str) -> bool:
    return topic in await admin.list_topics()


def _producer(bootstrap_servers: str) -> Producer:
    # the smallest idle time allowed (as in Java), refreshes often enough to see it act
    return Producer(bootstrap_servers=bootstrap_servers, metadata_max_idle_ms=5000, metadata_max_age_ms=300)


async def test_an_idle_topic_is_dropped_from_refreshes_and_not_recreated(bootstrap_servers: str) -> None:
    topic = f"idle-{uuid.uuid4().hex[:8]}"
    async with Admin(bootstrap_servers=bootstrap_servers) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1)], wait_for_leaders=True)
        async with _producer(bootstrap_servers) as producer:
            await producer.send_and_wait(topic, b"one")
            cluster = producer._cluster  # what the producer asks the broker for on each refresh
            assert topic in cluster.tracked_topics
            for _ in range(150):
                if topic not in cluster.tracked_topics:
                    break
                await asyncio.sleep(0.1)
            assert topic not in cluster.tracked_topics

            await admin.delete_topics([topic])
            for _ in range(100):
                if not await _exists(admin, topic):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.0)  # several periodic refreshes of the producer
            assert not await _exists(admin, topic)

            # sending again asks for it again (and the broker creates it, as for any new topic)
            md = await producer.send_and_wait(topic, b"two")
            assert md.topic == topic and md.offset == 0
            assert topic in cluster.tracked_topics


async def test_a_topic_in_use_stays_tracked(bootstrap_servers: str) -> None:
    topic = f"busy-{uuid.uuid4().hex[:8]}"
    async with _producer(bootstrap_servers) as producer:
        await producer.send_and_wait(topic, b"first")  # created by the broker on first use
        for _ in range(70):  # 7 s of sending, past the idle time
            await producer.send_and_wait(topic, b"x")
            assert topic in producer._cluster.tracked_topics
            await asyncio.sleep(0.1)
