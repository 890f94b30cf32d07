"""A share group's ``share.isolation.level`` (a group config, KIP-932) against a Kafka 4.4 broker:
read_committed delivers only committed transactions' records, never an aborted one's nor a
transaction marker; read_uncommitted (the default) delivers every record."""
from __future__ import annotations

import uuid

import pytest

from kafkaio import Producer, ShareConsumer

from share_helpers import left_over, poll_until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

COMMITTED = [f"{name}{i}".encode() for name in "ac" for i in range(10)]
ABORTED = [f"b{i}".encode() for i in range(10)]


async def _three_transactions(bootstrap: str, topic: str) -> None:
    """Transactions a (committed), b (aborted) and c (committed) of ten records each over both
    partitions, so that b's records and markers sit between a's and c's. Every send is awaited
    before the transaction ends: an abort fails the records not yet sent, and b's would then never
    reach the log."""
    async with Producer(bootstrap_servers=bootstrap, transactional_id=f"share-txn-{uuid.uuid4().hex[:8]}") as p:
        for name, commit in (("a", True), ("b", False), ("c", True)):
            p.begin_transaction()
            futures = [await p.send(topic, f"{name}{i}".encode(), partition=i % 2) for i in range(10)]
            for f in futures:
                await f  # in the log before the marker
            if commit:
                await p.commit_transaction()
            else:
                await p.abort_transaction()


@pytest.mark.parametrize("isolation,expected", [("read_committed", COMMITTED),
                                                ("read_uncommitted", COMMITTED + ABORTED)])
async def test_share_isolation_level_decides_whether_aborted_records_are_delivered(
        share_bootstrap: str, share_topic: str, share_group, isolation: str, expected: list[bytes]) -> None:
    group = await share_group(share_isolation_level=isolation)
    await _three_transactions(share_bootstrap, share_topic)
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group) as consumer:
        got = await poll_until(consumer, len(expected))
        await consumer.commit()
    assert sorted(r.value for r in got) == sorted(expected)
    # Nothing else is pending for the group: no aborted record (nor marker) waits to be delivered.
    assert await left_over(share_bootstrap, share_topic, group) == []
