"""Admin calls on share groups against a Kafka 4.4 broker: list, describe, start offsets (with
lag), alter and delete them."""
from __future__ import annotations

import pytest

from kafkaio import ShareConsumer, TopicPartition
from kafkaio.admin import Admin

from share_helpers import poll_until, produce

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_share_group_admin_calls(share_bootstrap: str, share_topic: str, share_group, share_admin: Admin) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 10)  # offsets 0-4 on each partition
    tp0, tp1 = TopicPartition(share_topic, 0), TopicPartition(share_topic, 1)
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group) as consumer:
        await poll_until(consumer, 10)
        await consumer.commit()
        desc = (await share_admin.describe_share_groups([group]))[group]
        assert not isinstance(desc, Exception)
        assert [m.member_id for m in desc.members] == [consumer.member_id]
        (member,) = desc.members
        assert member.subscribed_topics == [share_topic] and member.assignment == [tp0, tp1]
        assert group in [g.group_id for g in await share_admin.list_share_groups()]
    offsets = await share_admin.list_share_group_offsets(group)
    # every record accepted: nothing left to deliver on either partition (KIP-1226's lag)
    assert {tp: o.lag for tp, o in offsets.items() if o is not None} == {tp0: 0, tp1: 0}

    # the group is empty now: move partition 0's start back to offset 2; those records come again
    assert await share_admin.alter_share_group_offsets(group, {tp0: 2}) == {tp0: None}
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group) as consumer:
        again = await poll_until(consumer, 3)
        assert sorted((r.partition, r.offset) for r in again) == [(0, 2), (0, 3), (0, 4)]
        await consumer.commit()

    assert await share_admin.delete_share_group_offsets(group, [share_topic]) == {share_topic: None}
    after = await share_admin.list_share_group_offsets(group, [tp0, tp1])
    assert all(o is None for o in after.values())
