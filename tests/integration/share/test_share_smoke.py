"""One share consumer against a Kafka 4.4 broker: join, fetch, acknowledge, leave."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio import Producer, ShareConsumer
from kafkaio.errors import IllegalStateError
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


async def test_a_second_close_returns_only_once_the_share_consumer_is_closed(
        share_bootstrap: str, share_topic: str, share_group) -> None:
    group = await share_group()
    before = set(client_tasks())
    consumer = ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group)
    await consumer.start()
    await consumer.getmany(timeout_ms=100)
    first = asyncio.ensure_future(consumer.close())
    await asyncio.sleep(0)   # the first close() has begun and waits for the broker
    await consumer.close()
    # the second caller saw the whole close: the group left, every task of the consumer ended
    assert consumer.state is MemberState.UNSUBSCRIBED
    assert set(client_tasks()) - {first} <= before
    await first
    with pytest.raises(IllegalStateError):
        await consumer.start()
