"""KIP-447 fencing across a rebalance that happens between a poll and send_offsets_to_transaction.

The Java consumer rebalances only inside poll(), so consumer.groupMetadata() there is always the
generation the records were polled under. kafkaio's consumer rebalances in the background: if
group_metadata() gave the generation of the moment, a transaction would commit the offsets of
records polled under a generation the group has since left, while the new generation already
hands the same records out again from the committed offsets: each would be processed twice (found
by the fault verifier, ctp seed 333003712 on three brokers).
"""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.errors import CommitFailedError, KafkaError
from kafkaio.structs import TopicPartition as TP

from txn_helpers import read_all, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration
SETTINGS = dict(heartbeat_interval_ms=300, session_timeout_ms=6000, enable_auto_commit=False,
                auto_offset_reset="earliest", isolation_level="read_committed",
                partition_assignment_strategy="range")


async def test_offsets_polled_before_a_rebalance_are_fenced(bootstrap_servers, topic_factory) -> None:
    source = await topic_factory(partitions=2)
    sink = await topic_factory(partitions=1)
    group = unique("g")
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as p:
        for i in range(20):
            await p.send(source, b"%d" % i, partition=i % 2)
    a = kafkaio.Consumer(source, bootstrap_servers=bootstrap_servers, group_id=group, client_id="A", **SETTINGS)
    b = kafkaio.Consumer(bootstrap_servers=bootstrap_servers, group_id=group, client_id="B", **SETTINGS)
    await a.start()
    await b.start()
    try:
        polled: dict[TP, list] = {}
        deadline = time.monotonic() + WAIT_S
        while not polled:
            assert time.monotonic() < deadline, "A got no records"
            polled = await a.getmany(timeout_ms=500)
        polled_under = a.group_metadata().generation_id

        b.subscribe([source])   # a rebalance A completes in the background, without polling
        deadline = time.monotonic() + WAIT_S
        while not b.assignment():
            assert time.monotonic() < deadline, "the rebalance did not complete"
            await b.getmany(timeout_ms=100)
        assert a._coordinator.generation > polled_under   # private: A's generation, moved on without a poll

        async with kafkaio.Producer(bootstrap_servers=bootstrap_servers, transactional_id=unique()) as txp:
            txp.begin_transaction()
            for tp, recs in polled.items():
                for r in recs:
                    await txp.send(sink, b"out-" + r.value, partition=0)
            offsets = {tp: recs[-1].offset + 1 for tp, recs in polled.items()}
            with pytest.raises(CommitFailedError):
                await txp.send_offsets_to_transaction(offsets, a.group_metadata())
            with pytest.raises(KafkaError):
                await txp.commit_transaction()
            await txp.abort_transaction()

        async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
            committed = await admin.list_consumer_group_offsets(group, list(polled))
        assert all(committed.get(tp) is None for tp in polled), f"offsets committed: {committed}"
        assert await read_all(bootstrap_servers, sink, 1) == [], "the aborted outputs are visible"
    finally:
        await a.stop()
        await b.stop()
