"""Consumer groups against a real broker: members join and leave while records flow; commits in
on_partitions_revoked make every record consumed exactly once across the group, no member is
handed a record of a partition outside its assignment, and the committed offsets (read by a client
of their own after every rebalance) never move backwards; with
cooperative-sticky only the partitions that move are revoked; static membership; patterns."""
from __future__ import annotations

import asyncio
import collections
import time

import pytest

import kafkaio
from kafkaio.errors import GroupIdNotFoundError, RebalanceInProgressError
from kafkaio.structs import GroupMembershipOperation
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import unique

pytestmark = pytest.mark.integration

GROUP_SETTINGS = dict(heartbeat_interval_ms=300, session_timeout_ms=6000, enable_auto_commit=False,
                      auto_offset_reset="earliest", max_poll_records=50)


class Member:
    """A consumer that records what it consumed and commits in on_partitions_revoked."""

    def __init__(self, name: str, bootstrap: str, topic: str, group: str, strategy: str,
                 seen: list[tuple[str, int]], rebalanced: asyncio.Event | None = None) -> None:
        self.name = name
        rebalanced = rebalanced or asyncio.Event()
        self.events: list[tuple[str, frozenset[TP]]] = []
        self.seen = seen
        member = self

        class Listener(kafkaio.ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                member.events.append(("revoked", frozenset(revoked)))
                await member.consumer.commit()   # everything handed out so far, before losing them
                rebalanced.set()

            def on_partitions_assigned(self, assigned):
                member.events.append(("assigned", frozenset(assigned)))
                rebalanced.set()

            def on_partitions_lost(self, lost):
                member.events.append(("lost", frozenset(lost)))

        self.consumer = kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group,
                                         partition_assignment_strategy=strategy, client_id=name,
                                         **GROUP_SETTINGS)
        self.consumer_topic = topic
        self.listener = Listener()
        self.task: asyncio.Task | None = None
        self.stop_event = asyncio.Event()
        self.commits_during_rebalance = 0

    async def run(self) -> None:
        c = self.consumer
        await c.start()
        c.subscribe([self.consumer_topic], listener=self.listener)
        try:
            while not self.stop_event.is_set():
                batch = await c.getmany(timeout_ms=200)
                foreign = set(batch) - c.assignment()
                assert not foreign, f"{self.name} was handed records of {foreign}, not assigned to it"
                for records in batch.values():
                    for r in records:
                        self.seen.append((self.name, int(r.value)))
                if batch:
                    try:
                        await c.commit()
                    except RebalanceInProgressError:
                        # Documented outcome of a commit whose partitions a rebalance revoked
                        # meanwhile: nothing was committed, the revoke listener committed them.
                        # Any other error (CommitFailedError above all) fails the test.
                        self.commits_during_rebalance += 1
        finally:
            await c.stop()

    def start(self) -> "Member":
        self.task = asyncio.get_running_loop().create_task(self.run())
        return self

    async def stop(self) -> None:
        self.stop_event.set()
        await self.task


async def produce_until(raw_producer, topic: str, partitions: int, stop: asyncio.Event,
                        per_batch: int = 10) -> int:
    """Produce numbered records round-robin over the partitions until ``stop`` is set (at least
    one round); return how many were produced. Records keep flowing for as long as members join
    and leave, however slow the machine is."""
    n = 0
    while True:
        for p in range(partitions):
            vals = [str(i).encode() for i in range(n, n + per_batch)]
            await raw_producer.send_batch(topic, p, vals)
            n += len(vals)
        if stop.is_set():
            return n
        await asyncio.sleep(0.1)


async def watch_commits(bootstrap: str, group: str, tps: list[TP], rebalanced: asyncio.Event,
                        stop: asyncio.Event) -> int:
    """After every rebalance (and once at the end), read the group's committed offsets with a
    client of its own and check that none moved backwards; returns how many reads were made."""
    last: dict[TP, int] = {}
    reads = 0
    async with kafkaio.Admin(bootstrap) as admin:
        while True:
            done = stop.is_set()
            rebalanced.clear()
            got = await admin.list_consumer_group_offsets(group, tps)
            reads += 1
            for tp, oam in got.items():
                if oam is None:
                    continue
                assert oam.offset >= last.get(tp, -1), f"committed offset of {tp} went back from {last[tp]} to {oam.offset}"
                last[tp] = oam.offset
            if done:
                return reads
            waiters = [asyncio.ensure_future(rebalanced.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            await asyncio.sleep(0.2)   # let the rebalance's commits land


async def wait_until(pred, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def members_join_and_leave(bootstrap: str, raw_producer, make_member) -> dict[str, Member]:
    """Members A and B join a 12-partition topic, C joins, B leaves, D joins, A leaves, while
    records flow; every record is consumed exactly once and committed offsets never go back.
    ``make_member(name, topic, group, seen, rebalanced)`` builds each member; returns them."""
    topic, group = unique(), unique("g")
    await raw_producer.create_topic(topic, 12)
    seen: list[tuple[str, int]] = []
    rebalanced, watching = asyncio.Event(), asyncio.Event()
    members = {n: make_member(n, topic, group, seen, rebalanced) for n in "ABCD"}
    watcher = asyncio.get_running_loop().create_task(
        watch_commits(bootstrap, group, [TP(topic, p) for p in range(12)], rebalanced, watching))
    stop_producing = asyncio.Event()
    producer: asyncio.Task[int] | None = None
    try:
        members["A"].start()
        members["B"].start()
        producer = asyncio.get_running_loop().create_task(
            produce_until(raw_producer, topic, 12, stop_producing))
        # Each step waits until the members that joined have really been consuming (on a loaded
        # machine a member's first join can take seconds), so every member takes part.
        def consumed_by(*names: str) -> bool:
            who = {name for name, _ in seen}
            return all(n in who for n in names)

        await wait_until(lambda: len(seen) > 300 and consumed_by("A", "B"))
        members["C"].start()
        await wait_until(lambda: len(seen) > 1500 and consumed_by("C"))
        await members["B"].stop()
        members["D"].start()
        await wait_until(lambda: len(seen) > 3000 and consumed_by("D"))
        await members["A"].stop()
        stop_producing.set()
        total = await producer
        await wait_until(lambda: len(seen) >= total, timeout=90)
        await asyncio.sleep(1)   # anything extra (a duplicate) would show up now
        await members["C"].stop()
        await members["D"].stop()
        watching.set()
        assert await watcher >= 4, "committed offsets were read after the rebalances"
    finally:
        # a failed step must not leave members running: the test would hang in teardown
        stop_producing.set()
        watching.set()
        for m in members.values():
            m.stop_event.set()
        leftovers = [t for t in (producer, watcher, *(m.task for m in members.values())) if t is not None]
        await asyncio.wait_for(asyncio.gather(*leftovers, return_exceptions=True), 120)

    counts = collections.Counter(v for _, v in seen)
    missing = [v for v in range(total) if v not in counts]
    dups = {v: c for v, c in counts.items() if c > 1}
    assert not missing, f"{len(missing)} records never consumed, e.g. {missing[:5]}"
    assert not dups, f"{len(dups)} records consumed twice, e.g. {list(dups.items())[:5]}"
    assert {name for name, _ in seen} >= {"A", "B", "C", "D"}
    return members


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["range", "roundrobin", "cooperative-sticky"])
async def test_members_join_and_leave_while_records_flow(consumer_bootstrap, raw_producer, strategy) -> None:
    members = await members_join_and_leave(
        consumer_bootstrap, raw_producer,
        lambda n, topic, group, seen, rebalanced: Member(n, consumer_bootstrap, topic, group, strategy,
                                                         seen, rebalanced))
    if strategy == "cooperative-sticky":
        for m in members.values():
            owned: set[TP] = set()
            pending_revoked: set[TP] = set()
            for kind, parts in m.events:
                assert kind != "lost", f"{m.name} lost partitions {parts}"
                if kind == "revoked":
                    assert parts <= owned, (m.name, [(k, sorted(x.partition for x in p)) for k, p in m.events])
                    if len(m.events) and (kind, parts) != m.events[-1]:
                        # Only partitions that move are revoked: never everything it had (unless leaving).
                        assert parts != owned or len(owned) <= 1, f"{m.name} revoked all of {sorted(owned)}"
                    owned -= parts
                    pending_revoked = set(parts)
                else:
                    assert not (parts & owned), "cooperative assignments only add partitions"
                    assert not (parts & pending_revoked), f"{m.name} got back {parts & pending_revoked} it just revoked"
                    owned |= parts
                    pending_revoked = set()


UPGRADED, NOT_YET = ["cooperative-sticky", "range"], ["range"]


@pytest.mark.slow
async def test_rolling_upgrade_from_eager_to_cooperative_while_records_flow(consumer_bootstrap, raw_producer) -> None:
    """Halfway through the documented two-step upgrade: A, C and D offer cooperative-sticky and
    range, B only range. While B is in the group it can only agree on eager range; when B leaves
    it switches to cooperative-sticky. Across both protocols every record is consumed exactly
    once and committed offsets never go back (checked by members_join_and_leave)."""
    strategies = {"A": UPGRADED, "B": NOT_YET, "C": UPGRADED, "D": UPGRADED}
    members = await members_join_and_leave(
        consumer_bootstrap, raw_producer,
        lambda n, topic, group, seen, rebalanced: Member(n, consumer_bootstrap, topic, group, strategies[n],  # type: ignore[arg-type]
                                                         seen, rebalanced))
    # C joined while B (range only) was a member: the rebalance was eager, so A revoked everything.
    a_revoked = [parts for kind, parts in members["A"].events if kind == "revoked"]
    assert a_revoked and len(a_revoked[0]) > 1, members["A"].events
    assert all(kind != "lost" for m in members.values() for kind, _ in m.events)


async def test_a_group_agrees_on_the_protocol_every_member_offers(consumer_bootstrap, raw_producer) -> None:
    """Range while a member offers only range; cooperative-sticky once every member offers it."""
    topic, group = unique(), unique("g")
    await raw_producer.create_topic(topic, 4)
    a = kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=group, client_id="a",
                         partition_assignment_strategy=UPGRADED, **GROUP_SETTINGS)
    b = kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=group, client_id="b",
                         partition_assignment_strategy=NOT_YET, **GROUP_SETTINGS)
    async with kafkaio.Admin(consumer_bootstrap) as admin:
        async def protocol_and_sizes() -> tuple[str, list[int]]:
            try:
                desc = (await admin.describe_consumer_groups([group]))[group]
            except GroupIdNotFoundError:
                return "", []  # DescribeGroups v6 (KIP-1043): the first member has not joined yet
            return desc.protocol, sorted(len(m.assignment) for m in desc.members)  # type: ignore[union-attr]

        async def poll_until(consumers: list[kafkaio.Consumer], want: tuple[str, list[int]]) -> None:
            deadline = time.monotonic() + 60
            while (got := await protocol_and_sizes()) != want:
                assert time.monotonic() < deadline, f"group at {got}, expected {want}"
                for c in consumers:
                    await c.getmany(timeout_ms=100)

        async with a, b:
            a.subscribe([topic])
            b.subscribe([topic])
            await poll_until([a, b], ("range", [2, 2]))
            await b.stop()
            await poll_until([a], ("cooperative-sticky", [4]))
            assert a.assignment() == {TP(topic, p) for p in range(4)}


CLOSE_CASES = [  # (static member?, operation, members left in the group right after stop())
    (False, GroupMembershipOperation.DEFAULT, 0), (False, GroupMembershipOperation.LEAVE_GROUP, 0),
    (False, GroupMembershipOperation.REMAIN_IN_GROUP, 1), (True, GroupMembershipOperation.DEFAULT, 1),
    (True, GroupMembershipOperation.LEAVE_GROUP, 0), (True, GroupMembershipOperation.REMAIN_IN_GROUP, 1),
]


async def members_after_stop(bootstrap: str, raw_producer, static: bool,
                             operation: GroupMembershipOperation, **settings) -> int:
    """A member joins, consumes, and stops with ``operation``; how many members the coordinator
    still has right after (its session is far longer than the test)."""
    topic, group = unique(), unique("g")
    await raw_producer.create_topic(topic, 2)
    await raw_producer.send_numbered(topic, 2, 10)
    c = kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group,
                         group_instance_id="static-1" if static else None, **settings)
    await c.start()
    try:
        c.subscribe([topic])
        await wait_until_consumed(c)
    finally:
        await c.stop(group_membership_operation=operation)
    async with kafkaio.Admin(bootstrap) as admin:
        desc = (await admin.describe_consumer_groups([group]))[group]
        return len(desc.members)  # type: ignore[union-attr]


async def wait_until_consumed(c: kafkaio.Consumer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await c.getmany(timeout_ms=200):
        assert time.monotonic() < deadline, "nothing consumed"


@pytest.mark.parametrize("static,operation,left", CLOSE_CASES)
async def test_stop_leaves_or_remains_in_the_group_as_asked(consumer_bootstrap, raw_producer, static, operation,
                                                           left) -> None:
    """KIP-1092 on the classic protocol: LeaveGroup (with the instance id for a static member)
    unless the member remains; a dynamic member that remains is dropped by its session timeout."""
    settings = {**GROUP_SETTINGS, "session_timeout_ms": 45000, "heartbeat_interval_ms": 1000}
    assert await members_after_stop(consumer_bootstrap, raw_producer, static, operation, **settings) == left


def test_stop_names_the_setting_when_the_operation_is_unknown() -> None:
    with pytest.raises(ValueError, match="group_membership_operation must be one of"):
        asyncio.run(kafkaio.Consumer(bootstrap_servers="localhost:1").stop(group_membership_operation="linger"))


async def test_static_member_restart_keeps_its_partitions_without_rebalance(consumer_bootstrap, raw_producer) -> None:
    topic, group = unique(), unique("g")
    await raw_producer.create_topic(topic, 4)
    settings = dict(bootstrap_servers=consumer_bootstrap, group_id=group, session_timeout_ms=30000,
                    heartbeat_interval_ms=500, auto_offset_reset="earliest")
    a = kafkaio.Consumer(topic, group_instance_id="static-a", **settings)
    b = kafkaio.Consumer(topic, group_instance_id="static-b", **settings)
    await a.start()
    await b.start()
    try:
        await wait_until(lambda: len(a.assignment()) + len(b.assignment()) == 4 and a.assignment() and b.assignment())
        await asyncio.sleep(1)
        before_a = a.assignment()
        gen_b = b.group_metadata().generation_id
        await a.stop()   # a static member does not leave the group on close
        a2 = kafkaio.Consumer(topic, group_instance_id="static-a", **settings)
        await a2.start()
        try:
            await wait_until(lambda: bool(a2.assignment()))
            assert a2.assignment() == before_a
            await asyncio.sleep(2)
            assert b.group_metadata().generation_id == gen_b, "b was not disturbed by a's restart"
        finally:
            await a2.stop()
    finally:
        await b.stop()


async def test_pattern_subscription_picks_up_new_topics(consumer_bootstrap, raw_producer) -> None:
    prefix = unique("pat")
    await raw_producer.create_topic(f"{prefix}-one", 1)
    await raw_producer.send_batch(f"{prefix}-one", 0, [b"1"])
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="earliest", metadata_max_age_ms=1000) as c:
        c.subscribe(pattern=f"{prefix}-.*")
        got = []
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            for recs in (await c.getmany(timeout_ms=500)).values():
                got.extend(recs)
        assert [r.topic for r in got] == [f"{prefix}-one"]
        await raw_producer.create_topic(f"{prefix}-two", 1)
        await raw_producer.send_batch(f"{prefix}-two", 0, [b"2"])
        deadline = time.monotonic() + 40
        while len(got) < 2 and time.monotonic() < deadline:
            for recs in (await c.getmany(timeout_ms=500)).values():
                got.extend(recs)
        assert sorted(r.topic for r in got) == [f"{prefix}-one", f"{prefix}-two"]
        assert c.subscription() == {f"{prefix}-one", f"{prefix}-two"}


async def test_pattern_skips_internal_topics_not_every_name_with_two_underscores(
        consumer_bootstrap, raw_producer) -> None:
    """exclude_internal_topics (Java's exclude.internal.topics) is about the broker's internal topics:
    a user topic named ``__something`` matches a pattern; ``__consumer_offsets`` only when the
    setting is False."""
    user_topic = f"__{unique('under')}"
    await raw_producer.create_topic(user_topic, 1)
    await raw_producer.send_batch(user_topic, 0, [b"u"])
    pattern = f"{user_topic}|__consumer_offsets"

    async def subscription_of(consumer: kafkaio.Consumer, want: set[str]) -> set[str]:
        deadline = time.monotonic() + 30
        while consumer.subscription() != want and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=200)
        return consumer.subscription()

    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="earliest", metadata_max_age_ms=1000) as c:
        c.subscribe(pattern=pattern)
        assert await subscription_of(c, {user_topic}) == {user_topic}
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=unique("g"),
                                auto_offset_reset="latest", metadata_max_age_ms=1000,
                                exclude_internal_topics=False) as c:
        c.subscribe(pattern=pattern)
        want = {user_topic, "__consumer_offsets"}
        assert await subscription_of(c, want) == want


async def test_unsubscribe_revokes_commits_and_leaves_then_resubscribe(consumer_bootstrap, raw_producer) -> None:
    t1, t2, group = unique(), unique(), unique("g")
    await raw_producer.create_topic(t1, 2)
    await raw_producer.create_topic(t2, 1)
    await raw_producer.send_numbered(t1, 2, 10)
    await raw_producer.send_batch(t2, 0, [b"x"])
    revoked: list[set] = []

    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", heartbeat_interval_ms=300,
                                session_timeout_ms=30000) as c:
        class Listener(kafkaio.ConsumerRebalanceListener):
            async def on_partitions_revoked(self, parts):
                revoked.append(set(parts))
                await c.commit()

        c.subscribe([t1], listener=Listener())
        got = 0
        deadline = time.monotonic() + 30
        while got < 10 and time.monotonic() < deadline:
            got += sum(map(len, (await c.getmany(timeout_ms=300)).values()))
        assert got == 10
        c.unsubscribe()
        assert await c.getmany(timeout_ms=200) == {}
        await wait_until(lambda: not c.assignment())
        assert revoked == [{TP(t1, 0), TP(t1, 1)}]
        # A new member takes over at once (we left; no session timeout to wait for) at our commits.
        async with kafkaio.Consumer(t1, bootstrap_servers=consumer_bootstrap, group_id=group,
                                    auto_offset_reset="earliest", heartbeat_interval_ms=300) as other:
            await wait_until(lambda: len(other.assignment()) == 2, timeout=20)
            for p in (0, 1):
                assert await other.position(TP(t1, p)) == 5
        c.subscribe([t2])
        r = await asyncio.wait_for(c.getone(), 60)
        assert r.topic == t2
