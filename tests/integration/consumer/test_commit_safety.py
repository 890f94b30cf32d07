"""Commits while the group rebalances, through the fault proxy (issue 18).

The invariants, checked with a separate Admin client: a committed offset never moves backwards
because of a stale commit, a commit never lands for a partition its sender no longer owns, and a
commit of partitions the member keeps through a cooperative rebalance is not failed by it. Group
membership traffic (a JoinGroup the broker parks) never holds up commits and offset lookups.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest

import kafkaio
from kafkaio.consumer.coordinator import MemberState
from kafkaio.errors import CommitFailedError, OffsetMetadataTooLargeError, RebalanceInProgressError
from kafkaio.protocol import ApiKey
from kafkaio.structs import OffsetAndMetadata
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SETTINGS = dict(heartbeat_interval_ms=300, session_timeout_ms=10000, enable_auto_commit=False,
                auto_offset_reset="earliest", reconnect_backoff_ms=50)
WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration


def consumer(bootstrap: str, group: str, strategy: str, name: str, **kw: object) -> kafkaio.Consumer:
    settings = {**SETTINGS, **kw}
    return kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, client_id=name,
                            partition_assignment_strategy=strategy, **settings)


async def poll_until(c: kafkaio.Consumer, done: Callable[[], bool]) -> None:
    """Poll ``c`` (its records are dropped) until ``done()``."""
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, "condition not reached"
        await c.getmany(timeout_ms=100)


async def poll_in_background(c: kafkaio.Consumer, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await c.getmany(timeout_ms=100)


async def committed(bootstrap: str, group: str, tps: list[TP]) -> dict[TP, int | None]:
    """The group's committed offsets, read by a client of its own."""
    async with kafkaio.Admin(bootstrap) as admin:
        got = await admin.list_consumer_group_offsets(group, tps)
    return {tp: None if got.get(tp) is None else got[tp].offset for tp in tps}


async def test_a_retried_commit_never_rewinds_the_partition_new_owner(proxied_bootstrap, fault_proxy) -> None:
    """Issue 18.1: A's commit is lost and retried after its partition moved to B, which committed
    further; the retry must not go out under A's new generation and rewind B's offset."""
    topic, group = unique(), unique("g")
    async with RawProducer(proxied_bootstrap) as raw:
        await raw.create_topic(topic, 2)
        await raw.send_numbered(topic, 2, 400)
    tps = [TP(topic, 0), TP(topic, 1)]
    # The retry comes after request_timeout_ms: long enough for the whole rebalance to finish first.
    # Heartbeats share A's coordinator connection with the commit; the answer to one sent after a
    # lost commit closes that connection (the commit's answer never came). With commit retries
    # further apart than heartbeats, a heartbeat goes first on each new connection and A learns of
    # the rebalance; with retries as frequent as heartbeats, which goes first is a race.
    a = consumer(proxied_bootstrap, group, "cooperative-sticky", "A", request_timeout_ms=15000,
                 default_api_timeout_ms=60000, retry_backoff_ms=1000)
    b = consumer(proxied_bootstrap, group, "cooperative-sticky", "B")
    stop = asyncio.Event()
    await a.start()
    await b.start()
    try:
        a.subscribe([topic])
        await poll_until(a, lambda: a.assignment() == set(tps))
        # Every OffsetCommit is lost until B has the partition: A's commit is retried (after a
        # timeout, or at once when a later response on the connection shows the request was
        # lost) until the rebalance has moved a partition away from it.
        losing = [True]
        fault_proxy.drop_requests(None, api_key=ApiKey.OFFSET_COMMIT, predicate=lambda _info: losing[0])
        a_commit = asyncio.get_running_loop().create_task(a.commit({tp: 50 for tp in tps}))
        while fault_proxy.requests_dropped[ApiKey.OFFSET_COMMIT] < 1:
            await asyncio.sleep(0.05)

        b.subscribe([topic])
        a_polls = asyncio.get_running_loop().create_task(poll_in_background(a, stop))
        await poll_until(b, lambda: len(b.assignment()) == 1 and len(a.assignment()) == 1)
        (moved,) = b.assignment()
        (kept,) = a.assignment()
        losing[0] = False
        await b.commit({moved: 100})
        assert (await committed(proxied_bootstrap, group, [moved]))[moved] == 100

        with pytest.raises((CommitFailedError, RebalanceInProgressError)):
            await a_commit
        after = await committed(proxied_bootstrap, group, tps)
        assert after[moved] == 100, "A's stale retry rewound the new owner's committed offset"
        assert after[kept] is None, "a failed commit must commit nothing"
        stop.set()
        await a_polls
    finally:
        stop.set()
        await a.stop()
        await b.stop()


@contextlib.asynccontextmanager
async def older_commit_lost_once(bootstrap: str, fault_proxy) -> AsyncIterator[tuple[kafkaio.Consumer, str, TP, asyncio.Task[None]]]:
    """A member of a new group owning the one partition of a new topic, and its commit of offset
    10 whose first OffsetCommit is lost: yielded once that attempt failed, while the commit waits
    retry_backoff_ms (8 s: a newer commit is answered well inside it) to go again."""
    topic, group = unique(), unique("g")
    async with RawProducer(bootstrap) as raw:
        await raw.create_topic(topic, 1)
        await raw.send_numbered(topic, 1, 50)
    tp = TP(topic, 0)
    a = consumer(bootstrap, group, "range", "A", request_timeout_ms=3000,
                 default_api_timeout_ms=60000, retry_backoff_ms=8000)
    await a.start()
    try:
        a.subscribe([topic])
        await poll_until(a, lambda: a.assignment() == {tp})
        links = fault_proxy.open_connections
        fault_proxy.drop_requests(1, api_key=ApiKey.OFFSET_COMMIT)
        older = asyncio.get_running_loop().create_task(a.commit({tp: 10}))
        # the attempt fails when its connection closes (its request timed out, or a heartbeat's
        # answer showed that the commit's was lost)
        deadline = time.monotonic() + WAIT_S
        while fault_proxy.open_connections >= links:
            assert time.monotonic() < deadline, "the lost commit's connection was never closed"
            await asyncio.sleep(0.05)
        assert not older.done()
        yield a, group, tp, older
    finally:
        await a.stop()


async def test_a_retried_commit_never_overwrites_the_members_newer_commit(proxied_bootstrap, fault_proxy) -> None:
    """The older of two commits of one member is lost and goes again after the newer one landed
    (as an auto commit retried after the commit made before a rebalance, both under the same
    generation, which the broker accepts): the retry leaves the partition to the newer commit
    instead of rewinding it."""
    async with older_commit_lost_once(proxied_bootstrap, fault_proxy) as (a, group, tp, older):
        await a.commit({tp: 20})
        assert (await committed(proxied_bootstrap, group, [tp]))[tp] == 20
        await older
        assert (await committed(proxied_bootstrap, group, [tp]))[tp] == 20, "the older commit's retry rewound it"


async def test_a_retried_commit_left_to_a_newer_commit_that_failed_raises(proxied_bootstrap, fault_proxy) -> None:
    """The older commit's retry leaves its partition to a newer commit of the member, which the
    broker refuses (OFFSET_METADATA_TOO_LARGE): neither offset is committed, so the older commit
    raises the newer one's error instead of returning."""
    async with older_commit_lost_once(proxied_bootstrap, fault_proxy) as (a, group, tp, older):
        too_large = "x" * 8192   # the broker's offset.metadata.max.bytes is 4096
        with pytest.raises(OffsetMetadataTooLargeError):
            await a.commit({tp: OffsetAndMetadata(20, too_large)})
        with pytest.raises(OffsetMetadataTooLargeError, match="newer commit"):
            await older
        assert (await committed(proxied_bootstrap, group, [tp]))[tp] is None


async def test_commit_during_the_members_own_cooperative_rejoin_completes(proxied_bootstrap, fault_proxy) -> None:
    """Issue 18.8: a commit sent while this member's JoinGroup is in flight (the broker answers it
    under the next generation: ILLEGAL_GENERATION) of partitions the member keeps must complete,
    not raise CommitFailedError."""
    mine, other, group = unique(), unique(), unique("g")
    async with RawProducer(proxied_bootstrap) as raw:
        await raw.create_topic(mine, 2)
        await raw.create_topic(other, 1)
        await raw.send_numbered(mine, 2, 200)
    tps = [TP(mine, 0), TP(mine, 1)]
    a = consumer(proxied_bootstrap, group, "cooperative-sticky", "A")
    # B subscribes to another topic: the group rebalances, A keeps both its partitions throughout.
    b = consumer(proxied_bootstrap, group, "cooperative-sticky", "B")
    stop = asyncio.Event()
    await a.start()
    await b.start()
    try:
        a.subscribe([mine])
        seen: set[TP] = set()
        deadline = time.monotonic() + WAIT_S
        while seen != set(tps):
            assert time.monotonic() < deadline, "A consumed nothing"
            seen |= {tp for tp, recs in (await a.getmany(timeout_ms=100)).items() if recs}
        positions = {tp: await a.position(tp) for tp in tps}

        joins = fault_proxy.requests_seen[ApiKey.JOIN_GROUP]
        fault_proxy.delay(3000, api_key=ApiKey.JOIN_GROUP)   # A's rejoin stays in flight a while
        b.subscribe([other])
        b_polls = asyncio.get_running_loop().create_task(poll_in_background(b, stop))
        # B's two JoinGroups (the first one gets MEMBER_ID_REQUIRED), then A's rejoin.
        await fault_proxy.wait_for_requests(joins + 3, api_key=ApiKey.JOIN_GROUP, timeout=WAIT_S)
        await a.commit()
        assert await committed(proxied_bootstrap, group, tps) == positions
        assert a.assignment() == set(tps)
        fault_proxy.delay(0)
        stop.set()
        await b_polls
    finally:
        fault_proxy.delay(0)
        stop.set()
        await a.stop()
        await b.stop()


async def test_offset_lookup_is_answered_while_the_broker_parks_a_join(proxied_bootstrap, fault_proxy) -> None:
    """Issue 18.3: while the broker parks A's JoinGroup (member C is slow to rejoin), A's
    OffsetFetch must not wait behind it on a shared connection."""
    topic, group = unique(), unique("g")
    async with RawProducer(proxied_bootstrap) as raw:
        await raw.create_topic(topic, 2)
    release = asyncio.Event()
    c_revoking = asyncio.Event()

    class SlowToRejoin(kafkaio.ConsumerRebalanceListener):
        async def on_partitions_revoked(self, revoked):
            c_revoking.set()
            await release.wait()   # eager: C's JoinGroup only goes out after this returns

    a = consumer(proxied_bootstrap, group, "range", "A")
    b = consumer(proxied_bootstrap, group, "range", "B")
    c = consumer(proxied_bootstrap, group, "range", "C")
    stop = asyncio.Event()
    for m in (a, b, c):
        await m.start()
    tasks: list[asyncio.Task] = []
    try:
        a.subscribe([topic])
        c.subscribe([topic], listener=SlowToRejoin())
        tasks.append(asyncio.get_running_loop().create_task(poll_in_background(c, stop)))
        await poll_until(a, lambda: len(a.assignment()) == 1 and len(c.assignment()) == 1)
        await a.commit()
        joins = fault_proxy.requests_seen[ApiKey.JOIN_GROUP]
        b.subscribe([topic])
        tasks.append(asyncio.get_running_loop().create_task(poll_in_background(b, stop)))
        tasks.append(asyncio.get_running_loop().create_task(poll_in_background(a, stop)))
        await asyncio.wait_for(c_revoking.wait(), WAIT_S)
        # B's two JoinGroups and A's: the broker holds A's until C joins, i.e. until `release`.
        await fault_proxy.wait_for_requests(joins + 3, api_key=ApiKey.JOIN_GROUP, timeout=WAIT_S)
        # Without its own connection, the lookup waits behind the parked JoinGroup for as long
        # as C is held: the bound below is never reached when membership traffic is apart.
        got = await asyncio.wait_for(a.committed(TP(topic, 0)), 20)
        assert got is None or isinstance(got, OffsetAndMetadata)
        release.set()
        deadline = time.monotonic() + WAIT_S
        while sum(len(m.assignment()) for m in (a, b, c)) != 2:   # 3 members, 2 partitions
            assert time.monotonic() < deadline, "the rebalance did not complete after C rejoined"
            await asyncio.sleep(0.1)
    finally:
        release.set()
        stop.set()
        await asyncio.gather(*tasks)
        for m in (a, b, c):
            await m.stop()


async def test_commit_is_answered_while_the_broker_parks_the_members_join(proxied_bootstrap, fault_proxy) -> None:
    """Issue 18.3, the commit: A keeps its partition through a cooperative rebalance whose
    JoinGroup the broker parks (member C is slow to rejoin); A's commit must not wait behind it."""
    mine, other, group = unique(), unique(), unique("g")
    async with RawProducer(proxied_bootstrap) as raw:
        await raw.create_topic(mine, 2)
        await raw.create_topic(other, 1)
        await raw.send_numbered(mine, 2, 200)
    armed, c_blocked, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    class SlowAfterAssignment(kafkaio.ConsumerRebalanceListener):
        async def on_partitions_assigned(self, assigned):
            if armed.is_set():
                c_blocked.set()
                await release.wait()   # C's membership task waits here: it rejoins only after

    # A's request timeout is longer than the bound below: a commit queued behind the parked
    # JoinGroup is not rescued by a timeout closing the connection.
    a = consumer(proxied_bootstrap, group, "cooperative-sticky", "A", request_timeout_ms=40000)
    c = consumer(proxied_bootstrap, group, "cooperative-sticky", "C")
    b1 = consumer(proxied_bootstrap, group, "cooperative-sticky", "B1")
    b2 = consumer(proxied_bootstrap, group, "cooperative-sticky", "B2")
    members = (a, c, b1, b2)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task] = []
    for m in members:
        await m.start()
    try:
        a.subscribe([mine])
        c.subscribe([mine], listener=SlowAfterAssignment())
        tasks.append(loop.create_task(poll_in_background(c, stop)))
        await poll_until(a, lambda: len(a.assignment()) == 1 and len(c.assignment()) == 1)
        (kept,) = a.assignment()
        # poll_until may have drained the partition while A still held both: write more, so that
        # A has consumed something of it (a position past the start) when it commits below.
        async with RawProducer(proxied_bootstrap) as raw:
            await raw.send_batch(mine, kept.partition, [b"more-%d" % i for i in range(20)])
        deadline = time.monotonic() + WAIT_S
        while not (await a.getmany(timeout_ms=100)).get(kept):
            assert time.monotonic() < deadline, "A consumed nothing"
        position = await a.position(kept)

        armed.set()
        b1.subscribe([other])   # a first rebalance: C ends up waiting in on_partitions_assigned
        tasks.append(loop.create_task(poll_in_background(b1, stop)))
        await asyncio.wait_for(c_blocked.wait(), WAIT_S)
        joins = fault_proxy.requests_seen[ApiKey.JOIN_GROUP]
        b2.subscribe([other])   # a second one: A rejoins, the broker holds its JoinGroup for C
        tasks.append(loop.create_task(poll_in_background(b2, stop)))
        await fault_proxy.wait_for_requests(joins + 3, api_key=ApiKey.JOIN_GROUP, timeout=WAIT_S)
        coordinator = a._coordinator   # private: the only way to see that A's JoinGroup is parked
        deadline = time.monotonic() + WAIT_S
        while coordinator.state is not MemberState.PREPARING_REBALANCE:
            assert time.monotonic() < deadline, "A did not rejoin"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)   # let the JoinGroup go out first (ordering only, nothing is timed)

        # Sharing the JoinGroup's connection, the commit would wait for as long as C is held:
        # the bound is never reached when membership traffic is apart.
        await asyncio.wait_for(a.commit(), 20)
        assert coordinator.state is MemberState.PREPARING_REBALANCE, "the scenario needs A's JoinGroup parked during the commit"
        assert await committed(proxied_bootstrap, group, [kept]) == {kept: position}
        release.set()
        deadline = time.monotonic() + WAIT_S
        while not (b2.assignment() or b1.assignment()) or a.assignment() != {kept}:
            assert time.monotonic() < deadline, "the rebalance did not complete, or A lost its partition"
            await asyncio.sleep(0.1)
    finally:
        release.set()
        stop.set()
        await asyncio.gather(*tasks)
        for m in members:
            await m.stop()
