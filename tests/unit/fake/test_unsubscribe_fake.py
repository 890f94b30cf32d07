"""unsubscribe() while the coordinator parks the member's JoinGroup: the member leaves for good.

The LeaveGroup makes the coordinator answer the parked join (UNKNOWN_MEMBER_ID). That answer
belongs to a join the member gave up: acted on, the member would join again with an empty
subscription as a member that never syncs or heartbeats, forcing one more rebalance on the group
when its session expires.
"""
from __future__ import annotations

import asyncio
from typing import Any

import kafkaio
from kafkaio.consumer.consumer import Consumer
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import FakeCluster, RequestInfo

SETTINGS = dict(heartbeat_interval_ms=20, session_timeout_ms=10000, enable_auto_commit=False,
                auto_offset_reset="earliest", fetch_max_wait_ms=10, retry_backoff_ms=10,
                partition_assignment_strategy="range")


async def poll_in_background(c: Consumer, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await c.getmany(timeout_ms=20)


async def test_unsubscribe_during_a_parked_join_leaves_without_joining_again() -> None:
    release = asyncio.Event()
    c_revoking = asyncio.Event()
    joins: list[tuple[str, str]] = []   # (client id, member id sent)

    class SlowToRejoin(kafkaio.ConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked: Any) -> None:
            c_revoking.set()
            await release.wait()

    def count_joins(info: RequestInfo, body: dict[str, Any]) -> None:
        joins.append((info.client_id, body["member_id"]))

    async with FakeCluster(topics={"t": 2}) as fake:
        fake.control(ApiKey.JOIN_GROUP, count_joins, persistent=True)
        group = fake.state.groups
        a, b, c = [Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", client_id=n, **SETTINGS)
                   for n in "ABC"]
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        for m in (a, b, c):
            await m.start()
        try:
            a.subscribe(["t"])
            c.subscribe(["t"], listener=SlowToRejoin())
            tasks.append(asyncio.ensure_future(poll_in_background(c, stop)))
            while not (len(a.assignment()) == 1 and len(c.assignment()) == 1):
                await a.getmany(timeout_ms=20)
            b.subscribe(["t"])
            tasks.append(asyncio.ensure_future(poll_in_background(b, stop)))
            a_polls = asyncio.ensure_future(poll_in_background(a, stop))
            await c_revoking.wait()
            member_id = a._coordinator.member_id
            while group["g"].members[member_id].join is None:
                await asyncio.sleep(0.01)          # A's JoinGroup is parked: C has not rejoined
            joins_before = len(joins)
            a.unsubscribe()
            while member_id in group["g"].members or a._coordinator.generation != -1:
                await asyncio.sleep(0.01)          # A's LeaveGroup went through, and its answer
            await asyncio.sleep(0.3)               # room for a join the parked answer would start
            assert [j for j in joins[joins_before:] if j[0] == "A"] == [], "A joined again after unsubscribe()"
            assert (a._coordinator.generation, a._coordinator.member_id) == (-1, "")
            assert len(group["g"].members) == 2, list(group["g"].members)
            release.set()
            while not (len(b.assignment()) == 1 and len(c.assignment()) == 1):
                await asyncio.sleep(0.01)          # the group settles on B and C
            assert len(group["g"].members) == 2 and a.assignment() == set()
            a_polls.cancel()
        finally:
            release.set()
            stop.set()
            await asyncio.gather(*tasks)
            for m in (a, b, c):
                await m.stop()
