"""One share consumer against a Kafka 4.4 broker: join, fetch, acknowledge, leave."""
from __future__ import annotations

import pytest

from kafkaio import Producer, ShareConsumer
from kafkaio.share.membership import MemberState
from kafkaio.testing.tasks import client_tasks

from share_helpers import left_over

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_one_consumer_gets_every_record_once(share_bootstrap: str, share_topic: str, share_group) -> None:
    group = await share_group()
    async with Producer(bootstrap_servers=share_bootstrap) as producer:
        for i in range(20):
            await producer.send(share_topic, f"v{i}".encode(), partition=i % 2)
    got = []
    before = set(client_tasks())  # the session's admin (share_group) keeps its own
    consumer = ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group)
    async with consumer:
        assert consumer.state in (MemberState.ACKNOWLEDGING, MemberState.STABLE)
        while len(got) < 20:
            batches = await consumer.getmany(timeout_ms=5000)
            for records in batches.values():
                got.extend(records)
        assert all(r.delivery_count == 1 for r in got)
        # implicit mode: the records of the last poll are accepted by the commit close() waits for
        pending = consumer.commit_async()
    assert pending.done()
    results = pending.result()
    assert results and all(err is None for err in results.values())
    assert sorted(r.value for r in got) == sorted(f"v{i}".encode() for i in range(20))
    assert await left_over(share_bootstrap, share_topic, group) == []
    # close() left the group (the leave heartbeat was answered) and ended every task
    assert consumer.state is MemberState.UNSUBSCRIBED and set(client_tasks()) <= before
