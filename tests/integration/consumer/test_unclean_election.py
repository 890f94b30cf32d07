"""KIP-320 end to end: an unclean leader election truncates records a consumer already read; the
consumer notices through the new leader's diverging epoch instead of reading on (or skipping the
records written since at those offsets)."""
from __future__ import annotations

import asyncio

import pytest

import kafkaio
from kafkaio.admin import Admin, NewTopic
from kafkaio.errors import LogTruncationError
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.proxy import proxied_cluster

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # three brokers of its own


async def _wait_partition(admin: Admin, topic: str, leader: int, isr: list[int], timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    part = None
    while loop.time() < deadline:
        try:
            part = (await admin.describe_topics([topic]))[topic].partitions[0]  # type: ignore[union-attr]
            if part.leader == leader and sorted(part.isr) == sorted(isr):
                return
        except kafkaio.errors.KafkaError:
            pass   # no quorum or no leader for a moment
        await asyncio.sleep(0.5)
    raise AssertionError(f"{topic}: expected leader {leader}, isr {isr}; last seen {part}")


async def _read(consumer: kafkaio.Consumer, tp: TP, count: int) -> list:
    got: list = []
    while len(got) < count:
        got += (await consumer.getmany(timeout_ms=1000)).get(tp, [])
    return got


async def test_records_truncated_by_an_unclean_election_are_detected() -> None:
    async with proxied_cluster(3) as (cluster, _proxies):
        bootstrap = cluster.bootstrap_servers
        topic = unique()
        tp = TP(topic, 0)
        async with Admin(bootstrap) as admin:
            # nodes 2 (leader) and 3: node ids are index + 1; node 1 stays up for the quorum
            await admin.create_topics([NewTopic(topic, replica_assignments={0: [2, 3]}, configs={
                "unclean.leader.election.enable": "true", "min.insync.replicas": "1"})])
            await _wait_partition(admin, topic, 2, [2, 3])
            async with RawProducer(bootstrap) as raw:
                await raw.send_batch(topic, 0, [b"a%d" % i for i in range(10)])
            await asyncio.to_thread(cluster.stop_broker, 2)        # the follower, node 3
            await _wait_partition(admin, topic, 2, [2])
            async with RawProducer(bootstrap) as raw:              # only node 2 has 10..19
                await raw.send_batch(topic, 0, [b"b%d" % i for i in range(10, 20)])

            consumers = {reset: kafkaio.Consumer(bootstrap_servers=bootstrap, auto_offset_reset=reset,
                                                 metadata_max_age_ms=2000, request_timeout_ms=5000)
                         for reset in ("earliest", "none")}
            try:
                for c in consumers.values():
                    await c.start()
                    c.assign([tp])
                    c.seek(tp, 0)
                    assert [r.value for r in await _read(c, tp, 20)][-1] == b"b19"
                    assert await c.position(tp) == 20
                await asyncio.to_thread(cluster.kill_broker, 1)    # the leader, node 2
                await asyncio.to_thread(cluster.start_broker, 2)   # node 3, without 10..19
                await _wait_partition(admin, topic, 3, [3])        # elected uncleanly
                async with RawProducer(bootstrap) as raw:          # new records at offsets 10..14
                    await raw.send_batch(topic, 0, [b"c%d" % i for i in range(10, 15)])

                got = await asyncio.wait_for(_read(consumers["earliest"], tp, 5), 120)
                assert [(r.offset, r.value) for r in got] == [(10 + i, b"c%d" % (10 + i)) for i in range(5)], \
                    "back to where the logs diverge: the new records at 10..14, nothing skipped, not from 0"
                with pytest.raises(LogTruncationError) as info:
                    await asyncio.wait_for(_read(consumers["none"], tp, 1), 120)
                assert (info.value.offset, info.value.divergent_offset.offset) == (20, 10)
            finally:
                for c in consumers.values():
                    await c.stop()
