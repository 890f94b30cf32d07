"""Fake-broker twins of the consumer group reliability tests of issue 18
(tests/integration/consumer/test_commit_safety.py and test_lost_partitions.py): a lost and retried
commit never rewinds the partition's new owner (18.1); a member that left on a poll timeout hands
out nothing of its lost partitions before on_partitions_lost (18.2); an offset lookup is answered
while the coordinator parks the member's join (18.3).

The fake runs the group coordinator's generation checks and parks joins as Kafka does
(groups.py); committed offsets are read from the fake's own state, not through the client.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

import kafkaio
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import CommitFailedError, KafkaConnectionError, KafkaTimeoutError, RebalanceInProgressError
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.fake import DROP, FakeCluster, RequestInfo

SETTINGS = dict(heartbeat_interval_ms=20, session_timeout_ms=10000, enable_auto_commit=False,
                auto_offset_reset="earliest", fetch_max_wait_ms=10, retry_backoff_ms=10)


async def poll_until(c: Consumer, done: Callable[[], bool]) -> None:
    """Poll ``c`` (its records are dropped) until ``done()``."""
    while not done():
        await c.getmany(timeout_ms=20)


async def poll_in_background(c: Consumer, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await c.getmany(timeout_ms=20)


async def test_a_retried_commit_never_rewinds_the_partition_new_owner() -> None:
    tps = [TP("t", 0), TP("t", 1)]
    async with FakeCluster(topics={"t": 2}) as fake:
        def committed() -> dict[TP, int | None]:
            stored = fake.state.committed.get("g", {})
            return {tp: stored[(tp.topic, tp.partition)][0] if (tp.topic, tp.partition) in stored else None
                    for tp in tps}

        # A's retries wait longer than its heartbeat interval: its heartbeat, sharing the
        # coordinator connection, then goes first on each new connection and learns of B's join.
        # With the retry first, the heartbeat's answer after each dropped commit only shows the
        # loss (closing the connection again), and A could take up to its commit deadline to rejoin.
        a = Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", client_id="A",
                     partition_assignment_strategy="cooperative-sticky", request_timeout_ms=1500,
                     **{**SETTINGS, "retry_backoff_ms": 100})
        b = Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", client_id="B",
                     partition_assignment_strategy="cooperative-sticky", **SETTINGS)
        stop = asyncio.Event()
        await a.start()
        await b.start()
        try:
            a.subscribe(["t"])
            await poll_until(a, lambda: a.assignment() == set(tps))
            # Every OffsetCommit is lost until B has its partition: A's commit is retried (at its
            # request timeout, or at once when a later answer on its connection shows the loss)
            # until the rebalance has moved a partition away from it.
            losing = [True]
            dropped = asyncio.Event()

            def lose_commits(info: RequestInfo, body: dict[str, Any]) -> object:
                if losing[0]:
                    dropped.set()
                    return DROP
                return None

            fake.control(ApiKey.OFFSET_COMMIT, lose_commits, persistent=True)
            a_commit = asyncio.get_running_loop().create_task(a.commit({tp: 50 for tp in tps}))
            await dropped.wait()

            b.subscribe(["t"])
            a_polls = asyncio.get_running_loop().create_task(poll_in_background(a, stop))
            await poll_until(b, lambda: len(b.assignment()) == 1 and len(a.assignment()) == 1)
            (moved,) = b.assignment()
            (kept,) = a.assignment()
            losing[0] = False
            await b.commit({moved: 100})
            assert committed()[moved] == 100

            # it fails (committing nothing) by the generation check, or, when its deadline comes
            # first, with the loss of its last request (the connection closed on the lost answer)
            with pytest.raises((CommitFailedError, RebalanceInProgressError, KafkaConnectionError,
                                KafkaTimeoutError)):
                await a_commit
            after = committed()
            assert after[moved] == 100, "A's stale retry rewound the new owner's committed offset"
            assert after[kept] is None, "a failed commit must commit nothing"
            stop.set()
            await a_polls
        finally:
            stop.set()
            await a.stop()
            await b.stop()


async def test_offset_lookup_is_answered_while_the_coordinator_parks_a_join() -> None:
    """Issue 18.3: while the fake parks A's JoinGroup (member C is slow to rejoin, as Kafka parks
    it), A's OffsetFetch must not wait behind it on a shared connection."""
    release = asyncio.Event()
    c_revoking = asyncio.Event()
    joins_parked = asyncio.Event()
    joins: list[RequestInfo] = []

    class SlowToRejoin(kafkaio.ConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked: Any) -> None:
            c_revoking.set()
            await release.wait()  # eager: C's JoinGroup only goes out after this returns

    def count_joins(info: RequestInfo, body: dict[str, Any]) -> None:
        joins.append(info)
        if sum(i.client_id == "A" for i in joins) >= 3:  # A's first join (with its id) and rejoin
            joins_parked.set()

    async with FakeCluster(topics={"t": 2}) as fake:
        fake.control(ApiKey.JOIN_GROUP, count_joins, persistent=True)
        members = [Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", client_id=name,
                            partition_assignment_strategy="range", **SETTINGS) for name in "ABC"]
        a, b, c = members
        stop = asyncio.Event()
        for m in members:
            await m.start()
        tasks: list[asyncio.Task] = []
        try:
            a.subscribe(["t"])
            c.subscribe(["t"], listener=SlowToRejoin())
            tasks.append(asyncio.get_running_loop().create_task(poll_in_background(c, stop)))
            await poll_until(a, lambda: len(a.assignment()) == 1 and len(c.assignment()) == 1)
            await a.commit()
            b.subscribe(["t"])
            tasks.append(asyncio.get_running_loop().create_task(poll_in_background(b, stop)))
            tasks.append(asyncio.get_running_loop().create_task(poll_in_background(a, stop)))
            await c_revoking.wait()
            await joins_parked.wait()
            assert fake.state.groups["g"].state == "PreparingRebalance"  # A's join is parked for C
            # Without a connection of its own, the lookup would wait behind the parked JoinGroup
            # until `release`, which only comes after it: the test would hang, not fail slowly.
            got = await a.committed(TP("t", 0))
            assert got is None or got.offset >= 0
            release.set()
            while sum(len(m.assignment()) for m in members) != 2:  # 3 members, 2 partitions
                await asyncio.sleep(0.01)  # every member is polled by its background task
        finally:
            release.set()
            stop.set()
            await asyncio.gather(*tasks)
            for m in members:
                await m.stop()


async def test_after_a_poll_timeout_leave_no_buffered_record_of_the_lost_partitions_is_handed_out() -> None:
    """Issue 18.2: a member that stops polling leaves the group at max_poll_interval_ms; the records
    it still has buffered for its partitions are not handed out after that, and
    on_partitions_lost runs before any record of the next assignment."""
    tp = TP("t", 0)
    events: list[str] = []
    left = asyncio.Event()

    class Recorder(kafkaio.ConsumerRebalanceListener):
        def on_partitions_assigned(self, assigned: Any) -> None:
            events.append("assigned")

        def on_partitions_lost(self, lost: Any) -> None:
            events.append("lost")

    def see_leave(info: RequestInfo, body: dict[str, Any]) -> None:
        left.set()

    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=5) as p:
            for i in range(200):
                await p.send("t", b"%d" % i, partition=0)
        fake.control(ApiKey.LEAVE_GROUP, see_leave, persistent=True)
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False,
                            auto_offset_reset="earliest", max_poll_records=10, max_poll_interval_ms=200,
                            rebalance_timeout_ms=10000, heartbeat_interval_ms=20, session_timeout_ms=10000,
                            fetch_max_wait_ms=10) as c:
            c.subscribe(["t"], listener=Recorder())
            while not (await c.getmany(timeout_ms=20)).get(tp):
                pass
            events.append("records")  # 10 handed out, the rest of the fetch stays buffered
            await left.wait()  # not polling: the member leaves after max_poll_interval_ms
            while not (await c.getmany(timeout_ms=20)).get(tp):
                pass
            events.append("records")
    after_leave = events[events.index("records") + 1:]
    assert after_leave[0] == "lost", f"records of lost partitions handed out before on_partitions_lost: {events}"
