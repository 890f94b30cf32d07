"""Group membership through the fault proxy: what a lost membership request costs the member."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.consumer.coordinator import MemberState
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration


class Recorder(kafkaio.ConsumerRebalanceListener):
    def __init__(self) -> None:
        self.lost: list[set[TP]] = []
        self.revoked: list[set[TP]] = []

    def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self.revoked.append(revoked)

    def on_partitions_lost(self, lost: set[TP]) -> None:
        self.lost.append(lost)


async def test_a_lost_sync_group_does_not_cost_the_member_its_session(proxied_bootstrap, fault_proxy) -> None:
    """After JoinGroup is answered the member heartbeats while its SyncGroup is out (Java's
    COMPLETING_REBALANCE): a SyncGroup lost on the way waits for its request timeout, longer than
    the session, and the member must still be in the group when it joins again, keeping its
    partitions (no on_partitions_lost, same member id)."""
    first, second, group = unique(), unique(), unique("g")
    async with RawProducer(proxied_bootstrap) as raw:
        await raw.create_topic(first, 2)
        await raw.create_topic(second, 1)
    listener = Recorder()
    c = kafkaio.Consumer(bootstrap_servers=proxied_bootstrap, group_id=group, enable_auto_commit=False,
                         partition_assignment_strategy="cooperative-sticky", session_timeout_ms=6000,
                         heartbeat_interval_ms=300, request_timeout_ms=15000, auto_offset_reset="earliest")
    await c.start()
    try:
        c.subscribe([first], listener=listener)
        deadline = time.monotonic() + WAIT_S
        while len(c.assignment()) != 2:
            assert time.monotonic() < deadline, "no assignment"
            await c.getmany(timeout_ms=100)
        member = c._coordinator.member_id   # private: the only place the member id is shown
        syncs = fault_proxy.requests_seen[ApiKey.SYNC_GROUP]
        fault_proxy.drop_requests(1, api_key=ApiKey.SYNC_GROUP)
        c.subscribe([first, second], listener=listener)   # a rejoin whose SyncGroup is lost
        # the lost SyncGroup (not counted as seen) times out after 15 s; then the join after it
        await fault_proxy.wait_for_requests(syncs + 1, api_key=ApiKey.SYNC_GROUP, timeout=WAIT_S)
        deadline = time.monotonic() + WAIT_S
        while len(c.assignment()) != 3 or c._coordinator.state is not MemberState.STABLE:
            assert time.monotonic() < deadline, "the rejoin did not complete"
            await c.getmany(timeout_ms=100)
        assert listener.lost == [], "the member's session expired while its SyncGroup was out"
        assert c._coordinator.member_id == member
    finally:
        await c.stop()


async def test_a_new_assignment_is_fetched_without_waiting_for_the_fetch_loop_timer(consumer_bootstrap) -> None:
    """The fetch loop sleeps up to fetch_max_wait_ms + 1 s when it has nothing to fetch; an
    assignment from a rebalance must wake it (its positions looked up and fetched at once), not
    wait for that timer. With fetch_max_wait_ms at 60 s the timer would outlast the wait below."""
    topic, group = unique(), unique("g")
    async with RawProducer(consumer_bootstrap) as raw:
        await raw.create_topic(topic, 1)
        await raw.send_batch(topic, 0, [b"%d" % i for i in range(5)])
    async with kafkaio.Consumer(topic, bootstrap_servers=consumer_bootstrap, group_id=group,
                                auto_offset_reset="earliest", fetch_max_wait_ms=60000,
                                request_timeout_ms=90000, enable_auto_commit=False) as c:
        got = await c.getmany(timeout_ms=30000)
        assert [r.value for r in got.get(TP(topic, 0), [])] == [b"%d" % i for i in range(5)]
