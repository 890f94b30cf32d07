"""One share consumer against a Kafka 4.4 broker: join, fetch, acknowledge, leave."""
from __future__ import annotations

import pytest

from kafkaio import Producer, ShareConsumer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_one_consumer_gets_every_record_once(share_bootstrap: str, share_topic: str, share_group) -> None:
    group = await share_group()
    async with Producer(bootstrap_servers=share_bootstrap) as producer:
        for i in range(20):
            await producer.send(share_topic, f"v{i}".encode(), partition=i % 2)
    got = []
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group) as consumer:
        while len(got) < 20:
            batches = await consumer.getmany(timeout_ms=5000)
            for records in batches.values():
                got.extend(records)
        assert all(r.delivery_count == 1 for r in got)
        results = await consumer.commit()
        assert results and all(err is None for err in results.values())
    assert sorted(r.value for r in got) == sorted(f"v{i}".encode() for i in range(20))
