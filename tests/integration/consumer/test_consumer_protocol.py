"""The consumer group protocol (KIP-848, ``group_protocol="consumer"``) against a real Kafka 4.4.0
broker: members join and leave while records flow with every record consumed once and committed
offsets never moving backwards (the checks of test_group.py), revoke before assign in the listener,
leave on close, static members, a member killed without leaving, and the member epoch in commits and
group_metadata()."""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import kafkaio
from kafkaio.cluster import Cluster
from kafkaio.errors import CommitFailedError, ErrorCode, RebalanceInProgressError, UnsupportedAssignorError
from kafkaio.protocol import ApiKey, decode_response, encode_response
from kafkaio.structs import OffsetAndMetadata
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.broker import LocalKafkaCluster
from kafkaio.testing.proxy import proxied_cluster

from consumer_helpers import RawProducer, unique
from test_group import CLOSE_CASES, Member, members_after_stop, members_join_and_leave, produce_until, wait_until
from test_mixed_group import kafkaio_and_java_share_a_group

pytestmark = pytest.mark.integration

KAFKA_VERSION = "4.4.0"
# The broker owns heartbeat and session timing under this protocol; short ones keep tests quick.
BROKER_PROPERTIES = {
    "group.consumer.heartbeat.interval.ms": 500,
    "group.consumer.min.heartbeat.interval.ms": 500,
    "group.consumer.session.timeout.ms": 6000,
    "group.consumer.min.session.timeout.ms": 6000,
}
SETTINGS = dict(group_protocol="consumer", enable_auto_commit=False, auto_offset_reset="earliest",
                max_poll_records=50)


@pytest.fixture(scope="module")
def kip848_bootstrap() -> str:
    with LocalKafkaCluster(version=KAFKA_VERSION, broker_properties=BROKER_PROPERTIES) as cluster:
        yield cluster.bootstrap_servers


@pytest.fixture
async def producer_448(kip848_bootstrap: str):
    async with RawProducer(kip848_bootstrap) as p:
        yield p


class ConsumerProtocolMember(Member):
    """test_group's Member (commits in on_partitions_revoked, records what it saw and its
    listener's calls) on the consumer group protocol."""

    def __init__(self, name: str, bootstrap: str, topic: str, group: str, seen: list[tuple[str, int]],
                 rebalanced: asyncio.Event | None = None, **settings: object) -> None:
        super().__init__(name, bootstrap, topic, group, "range", seen, rebalanced)
        self.consumer = kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, client_id=name,
                                         **{**SETTINGS, **settings})


async def describe_group(cluster: Cluster, group: str) -> dict:
    """The broker's view of the group (ConsumerGroupDescribe)."""
    node = await cluster.find_coordinator(group, 0)
    resp = await cluster.request(node, ApiKey.CONSUMER_GROUP_DESCRIBE,
                                 {"group_ids": [group], "include_authorized_operations": False})
    (g,) = resp["groups"]
    assert g["error_code"] == 0, g
    return g


async def describe_member_epochs(cluster: Cluster, group: str) -> dict[str, int]:
    """member id -> member epoch, as the broker has them."""
    return {m["member_id"]: m["member_epoch"] for m in (await describe_group(cluster, group))["members"]}


def check_listener_order(m: Member) -> None:
    """Revoke before assign, never a partition assigned twice or revoked without being owned,
    never lost (nobody was fenced)."""
    owned: set[TP] = set()
    for kind, parts in m.events:
        assert kind != "lost", f"{m.name} lost {sorted(parts)}"
        if kind == "revoked":
            assert parts <= owned, (m.name, m.events)
            owned -= parts
        else:
            assert not (parts & owned), (m.name, m.events)
            owned |= parts


@pytest.mark.slow
async def test_members_join_and_leave_while_records_flow(kip848_bootstrap, producer_448) -> None:
    members = await members_join_and_leave(
        kip848_bootstrap, producer_448,
        lambda n, topic, group, seen, rebalanced: ConsumerProtocolMember(n, kip848_bootstrap, topic, group,
                                                                         seen, rebalanced))
    for m in members.values():
        check_listener_order(m)
        # a member that joined a running group was only ever given free partitions: the others
        # revoked theirs first (KIP-848 never hands a partition to two members)
        assert m.events[0][0] == "assigned"


async def test_commits_carry_the_member_epoch_and_close_leaves_the_group(kip848_bootstrap, producer_448) -> None:
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 3)
    for p in range(3):
        await producer_448.send_batch(topic, p, [b"%d" % i for i in range(10)])
    async with kafkaio.Consumer(topic, bootstrap_servers=kip848_bootstrap, group_id=group, **SETTINGS) as c:
        got = 0
        while got < 30:
            got += sum(len(v) for v in (await c.getmany(timeout_ms=1000)).values())
        await c.commit()   # OffsetCommit v9: the broker checks the member epoch
        meta = c.group_metadata()
        epochs = await describe_member_epochs(producer_448.cluster, group)
        assert epochs == {meta.member_id: meta.generation_id}
        assert meta.generation_id > 0
        assert c.assignment() == {TP(topic, p) for p in range(3)}
        assert {tp: (await c.committed(tp)).offset for tp in c.assignment()} == {TP(topic, p): 10 for p in range(3)}
        metrics = c.metrics()
        assert metrics.rebalance_total == 1 and metrics.commit_total >= 1
    assert await describe_member_epochs(producer_448.cluster, group) == {}


@pytest.mark.parametrize("static,operation,left", CLOSE_CASES)
async def test_stop_leaves_or_remains_in_the_group_as_asked(kip848_bootstrap, producer_448, static, operation,
                                                           left) -> None:
    """KIP-1092 on the consumer protocol: the leave heartbeat with epoch -1 to leave, -2 for a
    static member that remains; a dynamic member that remains sends none (the broker's session is
    6 s, far longer than the describe that follows the stop)."""
    assert await members_after_stop(kip848_bootstrap, producer_448, static, operation, **SETTINGS) == left


async def test_static_member_restart_keeps_its_partitions(kip848_bootstrap, producer_448) -> None:
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 4)
    seen: list[tuple[str, int]] = []
    a = ConsumerProtocolMember("A", kip848_bootstrap, topic, group, seen, group_instance_id="static-a").start()
    b = ConsumerProtocolMember("B", kip848_bootstrap, topic, group, seen, group_instance_id="static-b").start()
    a2 = None
    try:
        await wait_until(lambda: len(a.consumer.assignment()) == 2 and len(b.consumer.assignment()) == 2)
        before, b_events = a.consumer.assignment(), list(b.events)
        await a.stop()   # leaves with epoch -2: the broker keeps its place for the session timeout
        assert b.consumer.assignment() == {TP(topic, p) for p in range(4)} - before
        a2 = ConsumerProtocolMember("A2", kip848_bootstrap, topic, group, seen,
                                    group_instance_id="static-a").start()
        await wait_until(lambda: a2.consumer.assignment() == before)
        assert b.events == b_events, "B saw no rebalance"
        check_listener_order(b)
    finally:
        for m in (a, a2, b):
            if m is not None and not m.stop_event.is_set():
                await m.stop()


WORKER = """
import asyncio, sys
import kafkaio

class Listener(kafkaio.ConsumerRebalanceListener):
    def on_partitions_revoked(self, parts):
        print("revoked", sorted(p.partition for p in parts), flush=True)

    def on_partitions_assigned(self, parts):
        print("assigned", sorted(p.partition for p in parts), flush=True)

    def on_partitions_lost(self, parts):
        print("lost", sorted(p.partition for p in parts), flush=True)

async def main(bootstrap, topic, group):
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, group_protocol="consumer",
                                enable_auto_commit=False, auto_offset_reset="earliest") as c:
        c.subscribe([topic], listener=Listener())
        while True:
            await c.getmany(timeout_ms=200)

asyncio.run(main(*sys.argv[1:]))
"""


def start_worker(tmp_path: Path, bootstrap: str, topic: str, group: str) -> subprocess.Popen:
    """A consumer-protocol member in a process of its own, printing its listener's calls."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, str(script), bootstrap, topic, group], stdout=subprocess.PIPE,
                            env=env, text=True)


async def next_line(proc: subprocess.Popen, prefix: str, timeout: float = 60) -> str:
    """The worker's next output line starting with ``prefix`` (lines before it are skipped)."""
    async def read() -> str:
        while True:
            line = await asyncio.to_thread(proc.stdout.readline)
            assert line, "the worker ended"
            if line.startswith(prefix):
                return line.strip()
    return await asyncio.wait_for(read(), timeout)


async def test_killed_member_partitions_move_after_its_session_expires(kip848_bootstrap, producer_448, tmp_path: Path) -> None:
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 4)
    proc = start_worker(tmp_path, kip848_bootstrap, topic, group)
    survivor = None
    try:
        assert await next_line(proc, "assigned [") == "assigned [0, 1, 2, 3]"
        survivor = ConsumerProtocolMember("S", kip848_bootstrap, topic, group, []).start()
        await wait_until(lambda: len(survivor.consumer.assignment()) == 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # no leave heartbeat: the broker drops the member after its session timeout (6 s)
        await wait_until(lambda: survivor.consumer.assignment() == {TP(topic, p) for p in range(4)}, 60)
        check_listener_order(survivor)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if survivor is not None:
            await survivor.stop()


async def test_a_fenced_member_loses_its_partitions_and_rejoins_with_epoch_zero(kip848_bootstrap, producer_448,
                                                                                 tmp_path: Path) -> None:
    """SIGSTOP past the session timeout: the broker fences the member and hands its partitions to
    the other; on SIGCONT its heartbeat is refused, on_partitions_lost runs, and it joins again."""
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 4)
    proc = start_worker(tmp_path, kip848_bootstrap, topic, group)
    other = None
    try:
        assert await next_line(proc, "assigned [") == "assigned [0, 1, 2, 3]"
        other = ConsumerProtocolMember("O", kip848_bootstrap, topic, group, []).start()
        await wait_until(lambda: len(other.consumer.assignment()) == 2)
        revoked = await next_line(proc, "revoked")
        proc.send_signal(signal.SIGSTOP)
        await wait_until(lambda: other.consumer.assignment() == {TP(topic, p) for p in range(4)}, 60)
        epochs = await describe_member_epochs(producer_448.cluster, group)
        assert list(epochs) == [other.consumer.group_metadata().member_id]
        proc.send_signal(signal.SIGCONT)
        kept = sorted({0, 1, 2, 3} - set(json.loads(revoked.split(" ", 1)[1])))
        assert await next_line(proc, "lost") == f"lost {kept}"
        assert (await next_line(proc, "assigned")).startswith("assigned [")
        await wait_until(lambda: len(other.consumer.assignment()) == 2, 60)
        assert len(await describe_member_epochs(producer_448.cluster, group)) == 2
        check_listener_order(other)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()
        if other is not None:
            await other.stop()


async def test_other_consumers_commit_during_their_rebalance_is_refused_or_lands(kip848_bootstrap, producer_448) -> None:
    """A commit racing a revocation either commits (the partition was still owned) or raises
    RebalanceInProgressError with nothing committed; never CommitFailedError for a live member."""
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 6)
    for p in range(6):
        await producer_448.send_batch(topic, p, [b"%d" % i for i in range(50)])
    async with kafkaio.Consumer(topic, bootstrap_servers=kip848_bootstrap, group_id=group, **SETTINGS) as a:
        await wait_until(lambda: len(a.assignment()) == 6)
        async with kafkaio.Consumer(topic, bootstrap_servers=kip848_bootstrap, group_id=group, **SETTINGS) as b:
            while len(a.assignment()) != 3 or len(b.assignment()) != 3:
                await a.getmany(timeout_ms=100)
                owned = a.assignment()
                try:
                    await a.commit()
                except RebalanceInProgressError:
                    # the documented outcome for partitions revoked while the commit waited
                    assert not owned <= a.assignment(), "RebalanceInProgressError, yet nothing was revoked"
                await b.getmany(timeout_ms=100)
            assert a.assignment().isdisjoint(b.assignment())


async def test_send_offsets_to_transaction_carries_the_member_epoch(kip848_bootstrap, producer_448) -> None:
    """TxnOffsetCommit's GenerationIdOrMemberEpoch is the member epoch: accepted while current,
    refused (and nothing committed) when stale."""
    src, dst, group = unique(), unique(), unique("g")
    await producer_448.create_topic(src, 1)
    await producer_448.create_topic(dst, 1)
    await producer_448.send_batch(src, 0, [b"%d" % i for i in range(10)])
    tp = TP(src, 0)
    async with kafkaio.Consumer(src, bootstrap_servers=kip848_bootstrap, group_id=group, **SETTINGS) as c:
        while not await c.getmany(timeout_ms=500):
            pass
        meta = c.group_metadata()
        assert meta.generation_id > 0 and meta.member_id == c._coordinator.member.member_id  # noqa: SLF001
        async with kafkaio.Producer(bootstrap_servers=kip848_bootstrap, transactional_id=unique("tx")) as p:
            async with p.transaction():
                await p.send(dst, b"out")
                await p.send_offsets_to_transaction({tp: OffsetAndMetadata(7, "committed")}, meta)
            committed = await c.committed(tp)
            assert committed is not None and (committed.offset, committed.metadata) == (7, "committed")
            stale = meta._replace(generation_id=meta.generation_id + 5)
            p.begin_transaction()
            await p.send(dst, b"out")
            with pytest.raises(CommitFailedError, match="ILLEGAL_GENERATION"):
                await p.send_offsets_to_transaction({tp: OffsetAndMetadata(9)}, stale)
            await p.abort_transaction()
            assert (await c.committed(tp)).offset == 7


async def test_a_member_that_stops_polling_leaves_and_rejoins_on_its_next_poll(kip848_bootstrap, producer_448) -> None:
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 4)
    seen: list[tuple[str, int]] = []
    b = ConsumerProtocolMember("B", kip848_bootstrap, topic, group, seen).start()
    lost: list[set[TP]] = []

    class Listener(kafkaio.ConsumerRebalanceListener):
        def on_partitions_lost(self, parts):
            lost.append(set(parts))

    a = kafkaio.Consumer(bootstrap_servers=kip848_bootstrap, group_id=group,
                         **{**SETTINGS, "max_poll_interval_ms": 3000})
    await a.start()
    try:
        a.subscribe([topic], listener=Listener())
        while len(a.assignment()) != 2:
            await a.getmany(timeout_ms=200)
        mine = a.assignment()
        # no poll for longer than max_poll_interval_ms: A leaves, B takes everything
        await wait_until(lambda: b.consumer.assignment() == {TP(topic, p) for p in range(4)}, 30)
        await wait_until(lambda: lost == [mine], 10)
        assert a.assignment() == set()
        while len(a.assignment()) != 2:   # polling again rejoins
            await a.getmany(timeout_ms=200)
        check_listener_order(b)
    finally:
        await a.stop()
        await b.stop()


async def test_pattern_subscription_follows_new_topics(kip848_bootstrap, producer_448) -> None:
    prefix, group = unique("p"), unique("g")
    await producer_448.create_topic(prefix + "-a", 2)
    async with kafkaio.Consumer(bootstrap_servers=kip848_bootstrap, group_id=group,
                                **{**SETTINGS, "metadata_max_age_ms": 1000}) as c:
        c.subscribe(pattern=prefix + r"-.*")
        await wait_until(lambda: c.assignment() == {TP(prefix + "-a", 0), TP(prefix + "-a", 1)}, 30)
        await producer_448.create_topic(prefix + "-b", 1)
        want = {TP(prefix + "-a", 0), TP(prefix + "-a", 1), TP(prefix + "-b", 0)}
        await wait_until(lambda: c.assignment() == want, 30)


@pytest.mark.slow
@pytest.mark.parametrize("java_leads", [False, True], ids=["kafkaio-first", "java-first"])
async def test_kafkaio_and_java_share_a_consumer_protocol_group(kip848_bootstrap, producer_448, java_leads) -> None:
    await kafkaio_and_java_share_a_group(
        kip848_bootstrap, producer_448, {"group.protocol": "consumer", "auto.offset.reset": "earliest"},
        {"group_protocol": "consumer"}, java_leads, version=KAFKA_VERSION)


@pytest.mark.parametrize("assignor", ["range", "uniform"])
async def test_group_remote_assignor_is_the_one_the_broker_uses(kip848_bootstrap, producer_448, assignor) -> None:
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 2)
    async with kafkaio.Consumer(topic, bootstrap_servers=kip848_bootstrap, group_id=group,
                                group_remote_assignor=assignor, **SETTINGS) as c:
        await wait_until(lambda: len(c.assignment()) == 2, 30)
        assert (await describe_group(producer_448.cluster, group))["assignor_name"] == assignor


async def test_an_assignor_the_broker_lacks_is_raised_to_the_application(kip848_bootstrap, producer_448) -> None:
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 1)
    async with kafkaio.Consumer(topic, bootstrap_servers=kip848_bootstrap, group_id=group,
                                group_remote_assignor="no-such-assignor", **SETTINGS) as c:
        with pytest.raises(UnsupportedAssignorError):
            for _ in range(100):
                await c.getmany(timeout_ms=300)
        assert c.assignment() == set()


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
async def test_online_upgrade_from_the_classic_protocol_member_by_member(kip848_bootstrap, producer_448,
                                                                         strategy) -> None:
    """KIP-848's upgrade: a classic group whose members restart one by one on the consumer
    protocol (the broker converts the group when the first one joins, and serves the remaining
    classic members through the classic protocol) loses and duplicates nothing: every member
    commits in on_partitions_revoked."""
    topic, group = unique(), unique("g")
    await producer_448.create_topic(topic, 12)
    seen: list[tuple[str, int]] = []
    classic_settings = dict(heartbeat_interval_ms=300, session_timeout_ms=6000, enable_auto_commit=False,
                            auto_offset_reset="earliest", max_poll_records=50)

    def classic(name: str) -> Member:
        m = Member(name, kip848_bootstrap, topic, group, strategy, seen)
        m.consumer = kafkaio.Consumer(bootstrap_servers=kip848_bootstrap, group_id=group, client_id=name,
                                      partition_assignment_strategy=strategy, **classic_settings)
        return m

    def consumed_by(name: str, more_than: int) -> bool:
        return len(seen) > more_than and any(n == name for n, _ in seen[more_than:])

    loop = asyncio.get_running_loop()
    stop_producing = asyncio.Event()
    producer = loop.create_task(produce_until(producer_448, topic, 12, stop_producing))
    members = {"A": classic("A").start(), "B": classic("B").start(), "C": classic("C").start()}
    await wait_until(lambda: len(seen) > 300 and {n for n, _ in seen} >= {"A", "B", "C"})
    for name in "ABC":
        await members[name].stop()
        members[name + "2"] = ConsumerProtocolMember(name + "2", kip848_bootstrap, topic, group, seen).start()
        mark = len(seen)
        await wait_until(lambda: consumed_by(name + "2", mark), 90)
    g = await describe_group(producer_448.cluster, group)
    assert sorted(m["client_id"] for m in g["members"]) == ["A2", "B2", "C2"]
    stop_producing.set()
    total = await producer
    await wait_until(lambda: len(seen) >= total, timeout=90)
    await asyncio.sleep(1)   # anything extra (a duplicate) would show up now
    for name in ("A2", "B2", "C2"):
        await members[name].stop()
    counts = collections.Counter(v for _, v in seen)
    missing = [v for v in range(total) if v not in counts]
    dups = {v: c for v, c in counts.items() if c > 1}
    assert not missing, f"{len(missing)} records never consumed, e.g. {missing[:5]}"
    assert not dups, f"{len(dups)} records consumed twice, e.g. {list(dups.items())[:5]}"


async def test_a_subscription_pattern_is_matched_by_the_broker(kip848_bootstrap, producer_448) -> None:
    prefix, group = unique("r"), unique("g")
    await producer_448.create_topic(prefix + "-a", 2)
    await producer_448.create_topic(unique("other"), 1)
    async with kafkaio.Consumer(bootstrap_servers=kip848_bootstrap, group_id=group, **SETTINGS) as c:
        c.subscribe(pattern=kafkaio.SubscriptionPattern(prefix + "-.*"))
        await wait_until(lambda: c.assignment() == {TP(prefix + "-a", 0), TP(prefix + "-a", 1)}, 30)
        g = await describe_group(producer_448.cluster, group)
        assert [m["subscribed_topic_regex"] for m in g["members"]] == [prefix + "-.*"]
        assert [m["subscribed_topic_names"] for m in g["members"]] == [[]]
        await producer_448.create_topic(prefix + "-b", 1)
        want = {TP(prefix + "-a", 0), TP(prefix + "-a", 1), TP(prefix + "-b", 0)}
        await wait_until(lambda: c.assignment() == want, 60)
        assert c.subscription() == {prefix + "-a", prefix + "-b"}
        await producer_448.send_batch(prefix + "-b", 0, [b"x"])
        got = {}
        while not got:
            got = await c.getmany(timeout_ms=500)
        assert list(got) == [TP(prefix + "-b", 0)]


async def test_a_subscription_pattern_needs_the_consumer_protocol(kip848_bootstrap) -> None:
    async with kafkaio.Consumer(bootstrap_servers=kip848_bootstrap, group_id=unique("g")) as c:
        with pytest.raises(kafkaio.errors.IllegalStateError, match="group_protocol"):
            c.subscribe(pattern=kafkaio.SubscriptionPattern("a.*"))


def _stale_member_epoch(info, payload: bytes) -> bytes:
    """The broker's OffsetCommit response with every partition's error turned into
    STALE_MEMBER_EPOCH (the broker holds a newer epoch for the member than the commit carried)."""
    body = decode_response(ApiKey.OFFSET_COMMIT, info.api_version, payload)
    for t in body["topics"]:
        for p in t["partitions"]:
            p["error_code"] = ErrorCode.STALE_MEMBER_EPOCH
    return bytes(encode_response(ApiKey.OFFSET_COMMIT, info.api_version, info.correlation_id, body))[4:]


async def test_a_stale_epoch_on_the_commit_before_revocation_is_sent_again(caplog) -> None:
    """As Java's auto commit before revocation does, a commit answered STALE_MEMBER_EPOCH while the
    member is still in the group and still owns the partitions is sent again with its latest epoch,
    instead of the partitions being handed over uncommitted."""
    async with proxied_cluster(1, version=KAFKA_VERSION, broker_properties=BROKER_PROPERTIES) as (cluster, (proxy,)):
        bootstrap = cluster.bootstrap_servers
        topic, group = unique(), unique("g")
        async with RawProducer(bootstrap) as raw:
            await raw.create_topic(topic, 2)
            for p in range(2):
                await raw.send_batch(topic, p, [b"%d" % i for i in range(10)])
        settings = {**SETTINGS, "enable_auto_commit": True, "auto_commit_interval_ms": 600_000}
        async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group, **settings) as a:
            got = 0
            while got < 20:
                got += sum(len(r) for r in (await a.getmany(timeout_ms=500)).values())
            proxy.rewrite_responses(_stale_member_epoch, 1, api_key=ApiKey.OFFSET_COMMIT)
            commits = proxy.requests_seen[ApiKey.OFFSET_COMMIT]
            caplog.set_level(logging.WARNING, logger="kafkaio")
            async with kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group, **settings) as b:
                while len(a.assignment()) != 1 or len(b.assignment()) != 1:
                    await a.getmany(timeout_ms=100)
                    await b.getmany(timeout_ms=100)
                assert proxy.responses_rewritten[ApiKey.OFFSET_COMMIT] == 1
                assert proxy.requests_seen[ApiKey.OFFSET_COMMIT] - commits == 2   # the refused one, sent again
                assert not [r.getMessage() for r in caplog.records if "auto commit" in r.getMessage()]
                (moved,) = b.assignment()
                assert (await b.committed(moved)).offset == 10


async def test_nothing_is_handed_out_before_the_assigned_listener_returns(kip848_bootstrap, producer_448) -> None:
    """As on the classic protocols (tests/unit/fake/test_assigned_listener_fake.py): while an async
    on_partitions_assigned loads offsets stored outside Kafka, nothing of its partitions is fetched,
    and its seek is where the first record comes from."""
    topic = unique("assigned-listener")
    await producer_448.create_topic(topic, 1)
    await producer_448.send_batch(topic, 0, [str(i).encode() for i in range(10)])
    started, release = asyncio.Event(), asyncio.Event()
    c = kafkaio.Consumer(bootstrap_servers=kip848_bootstrap, group_id=unique("g"), **{**SETTINGS,
                         "enable_auto_commit": False, "auto_offset_reset": "earliest"})

    class ExternalOffsets(kafkaio.ConsumerRebalanceListener):
        async def on_partitions_assigned(self, assigned: set[TP]) -> None:
            if not assigned:
                return
            started.set()
            await release.wait()
            for tp in assigned:
                c.seek(tp, 5)

    await c.start()
    try:
        c.subscribe([topic], listener=ExternalOffsets())
        while not started.is_set():
            assert not await c.getmany(timeout_ms=50)
        for _ in range(20):
            assert not await c.getmany(timeout_ms=50)
        release.set()
        batch: dict = {}
        while not batch:
            batch = await c.getmany(timeout_ms=50)
        assert batch[TP(topic, 0)][0].offset == 5
    finally:
        release.set()   # stop() waits for the listener
        await c.stop()
