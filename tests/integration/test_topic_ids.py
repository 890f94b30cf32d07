"""Topic ids on the wire (KIP-516) against real brokers: Fetch v13+ names topics by id where the
broker offers it (every supported release does), v12 by name where it does not; Produce v13 by id
where the broker offers it (4.1+), by name below (3.9 stops at 11); OffsetCommit v10 by id for a
member of a consumer-protocol group (KIP-848) where the broker offers it (4.4; 4.1 stops at 9), and
so is its OffsetFetch (v10; the classic protocol stays at 9 by name), which carries the member epoch
the broker checks; TxnOffsetCommit v6 by id under transaction v2 where the broker offers it (4.4)
and the producer knows every topic's id, else by name (v5; classic transactions, 3.9, stop at 4); and
a topic deleted and created again (a new id) while a consumer reads it and a producer writes it, or
after its offset was committed.

Each test runs against Kafka 4.4.0, 4.1.2 and 3.9.1 (a module-scoped proxied broker per version;
the proxy counts the request versions the client sent)."""
from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from kafkaio.admin import Admin, NewTopic
from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import ErrorCode, TopicAlreadyExistsError
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey, decode_response, encode_response
from kafkaio.structs import TopicPartition
from kafkaio.testing.broker import LocalKafkaCluster
from kafkaio.testing.proxy import FaultProxy, RequestInfo, proxied_cluster

pytestmark = [pytest.mark.integration]

VERSIONS = ["4.4.0", "4.1.2", "3.9.1"]
_names = itertools.count()


class Broker:
    def __init__(self, version: str, cluster: LocalKafkaCluster, proxy: FaultProxy) -> None:
        self.version = version
        self.cluster = cluster
        self.proxy = proxy
        self.bootstrap = cluster.bootstrap_servers


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=VERSIONS)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    async with proxied_cluster(1, version=request.param, auto_create_topics=False) as (cluster, proxies):
        yield Broker(request.param, cluster, proxies[0])


async def _new_topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"ids-{next(_names)}-{uuid.uuid4().hex[:8]}"
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=60_000, wait_for_leaders=True)
    return name


async def _filled_topic(bootstrap: str, records: int) -> str:
    """A new two-partition topic with ``records`` records, v0, v1, ... alternating partitions."""
    topic = await _new_topic(bootstrap, 2)
    async with Producer(bootstrap_servers=bootstrap, linger_ms=0) as p:
        for i in range(records):
            await p.send_and_wait(topic, b"v%d" % i, partition=i % 2)
    return topic


async def _offered(bootstrap: str, api_key: ApiKey) -> int:
    """The highest version of ``api_key`` both kafkaio and the broker speak."""
    cluster = Cluster(CommonConfig.from_kwargs(bootstrap_servers=bootstrap))
    try:
        await cluster.bootstrap()
        node = next(iter(cluster.metadata.brokers))
        return (await cluster.connection(node)).version(api_key)
    finally:
        await cluster.close()


async def _read(consumer: Consumer, n: int) -> list[Any]:
    out: list[Any] = []
    while len(out) < n:
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            out.extend(records)
    return out


async def test_fetch_names_topics_by_id(broker: Broker) -> None:
    topic = await _new_topic(broker.bootstrap, 2)
    async with Producer(bootstrap_servers=broker.bootstrap, linger_ms=0) as p:
        for i in range(10):
            await p.send_and_wait(topic, b"v%d" % i, partition=i % 2)
    seen = broker.proxy.versions_seen[ApiKey.FETCH]
    before = dict(seen)
    async with Consumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest") as c:
        c.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        got = await _read(c, 10)
    assert sorted(r.value for r in got) == sorted(b"v%d" % i for i in range(10))
    used = {v for v, n in seen.items() if n > before.get(v, 0)}
    offered = await _offered(broker.bootstrap, ApiKey.FETCH)
    assert offered >= 13, f"Kafka {broker.version} offers Fetch v13+"
    assert used == {offered}, f"Fetch versions sent to Kafka {broker.version}: {used}"


async def test_consumer_offset_resets_use_the_newest_list_offsets_version(broker: Broker) -> None:
    """As Java 4.4's consumer: ListOffsets at the newest version both sides speak (v11 on 4.4),
    with request_timeout_ms as the broker's timeout for offsets in remote storage (v10+)."""
    topic = await _filled_topic(broker.bootstrap, 10)
    seen = broker.proxy.versions_seen[ApiKey.LIST_OFFSETS]
    before = dict(seen)
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    async with Consumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest") as c:
        c.assign(tps)
        got = await _read(c, 10)
        assert await c.end_offsets(tps) == {tps[0]: 5, tps[1]: 5}
        assert (await c.offsets_for_times({tps[0]: 0}))[tps[0]].offset == 0
    assert sorted(r.value for r in got) == sorted(b"v%d" % i for i in range(10))
    used = {v for v, n in seen.items() if n > before.get(v, 0)}
    offered = await _offered(broker.bootstrap, ApiKey.LIST_OFFSETS)
    assert offered >= (11 if broker.version.startswith("4.4") else 8)
    assert used == {offered}, f"ListOffsets versions sent to Kafka {broker.version}: {used}"


async def test_produce_uses_the_newest_version_the_broker_offers(broker: Broker) -> None:
    topic = await _new_topic(broker.bootstrap, 2)
    seen = broker.proxy.versions_seen[ApiKey.PRODUCE]
    before = dict(seen)
    async with Producer(bootstrap_servers=broker.bootstrap, linger_ms=0) as p:
        mds = [await p.send_and_wait(topic, b"v%d" % i, partition=i % 2) for i in range(6)]
    assert [(m.topic, m.partition, m.offset) for m in mds] == [(topic, i % 2, i // 2) for i in range(6)]
    used = {v for v, n in seen.items() if n > before.get(v, 0)}
    offered = await _offered(broker.bootstrap, ApiKey.PRODUCE)
    assert used == {offered}, f"Produce versions sent to Kafka {broker.version}: {used}"
    assert offered >= 13 or broker.version.startswith("3."), "Kafka 4.1+ offers Produce v13"
    async with Consumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest") as c:
        c.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        got = await _read(c, 6)
    assert sorted((r.partition, r.offset, r.value) for r in got) == sorted(
        (i % 2, i // 2, b"v%d" % i) for i in range(6))


async def test_a_consumer_protocol_member_commits_by_topic_id(broker: Broker) -> None:
    if broker.version.startswith("3."):
        pytest.skip(f"Kafka {broker.version} has no consumer group protocol (KIP-848, Kafka 4.0+)")
    topic = await _new_topic(broker.bootstrap, 2)
    group = f"ids-group-{uuid.uuid4().hex[:8]}"
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    seen = broker.proxy.versions_seen[ApiKey.OFFSET_COMMIT]
    before = dict(seen)
    async with Consumer(topic, bootstrap_servers=broker.bootstrap, group_id=group, group_protocol="consumer",
                        enable_auto_commit=False) as c:
        while c.assignment() != set(tps):
            await c.getmany(timeout_ms=200)
        await c.commit({tps[0]: 3, tps[1]: 4})
        committed = [await c.committed(tp) for tp in tps]
        assert [o.offset if o is not None else None for o in committed] == [3, 4]
    async with Admin(bootstrap_servers=broker.bootstrap) as admin:
        stored = await admin.list_consumer_group_offsets(group)
    assert {tp: o.offset for tp, o in stored.items() if o is not None} == {tps[0]: 3, tps[1]: 4}
    used = {v for v, n in seen.items() if n > before.get(v, 0)}
    offered = await _offered(broker.bootstrap, ApiKey.OFFSET_COMMIT)
    assert used == {offered}, f"OffsetCommit versions sent to Kafka {broker.version}: {used}"
    if broker.version.startswith("4.4"):
        assert offered == 10


def _used(seen: Any, before: dict[int, int]) -> set[int]:
    return {v for v, n in seen.items() if n > before.get(v, 0)}


@pytest.mark.parametrize("group_protocol", ["classic", "consumer"])
async def test_committed_offsets_are_looked_up_at_the_newest_version_the_protocol_uses(
        broker: Broker, group_protocol: str) -> None:
    if group_protocol == "consumer" and broker.version.startswith("3."):
        pytest.skip(f"Kafka {broker.version} has no consumer group protocol (KIP-848, Kafka 4.0+)")
    topic = await _filled_topic(broker.bootstrap, 8)
    group = f"ids-lookup-{uuid.uuid4().hex[:8]}"
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    seen = broker.proxy.versions_seen[ApiKey.OFFSET_FETCH]
    before = dict(seen)
    config: dict[str, Any] = dict(bootstrap_servers=broker.bootstrap, group_id=group, group_protocol=group_protocol,
                                  enable_auto_commit=False, auto_offset_reset="earliest")
    async with Consumer(topic, **config) as c:
        while c.assignment() != set(tps):
            await c.getmany(timeout_ms=200)
        await c.commit({tps[0]: 3, tps[1]: 2})
        assert [(await c.committed(tp)).offset for tp in tps] == [3, 2]   # type: ignore[union-attr]
    # a new member starts where the group committed (its positions come from a lookup)
    async with Consumer(topic, **config) as c:
        got = await _read(c, 3)
    assert sorted((r.partition, r.offset) for r in got) == [(0, 3), (1, 2), (1, 3)]
    offered = await _offered(broker.bootstrap, ApiKey.OFFSET_FETCH)
    # by id (10) for a consumer-protocol member where the broker offers it, by name (9) otherwise
    expected = offered if group_protocol == "consumer" else min(offered, 9)
    assert _used(seen, before) == {expected}, f"OffsetFetch versions sent to Kafka {broker.version}"
    if broker.version.startswith("4.4"):
        assert offered == 10


async def test_the_broker_checks_a_lookups_member_epoch_and_topic_id(broker: Broker) -> None:
    if broker.version.startswith("3."):
        pytest.skip(f"Kafka {broker.version} has no consumer group protocol (KIP-848, Kafka 4.0+)")
    topic = await _new_topic(broker.bootstrap, 1)
    group = f"ids-epoch-{uuid.uuid4().hex[:8]}"
    async with Consumer(topic, bootstrap_servers=broker.bootstrap, group_id=group, group_protocol="consumer",
                        enable_auto_commit=False) as c:
        while not c.assignment():
            await c.getmany(timeout_ms=200)
        await c.getmany(timeout_ms=0)
        member_id, epoch = c.group_metadata().member_id, c.group_metadata().generation_id
        cluster = Cluster(CommonConfig.from_kwargs(bootstrap_servers=broker.bootstrap))
        try:
            await cluster.bootstrap()
            conn = await cluster.connection(await cluster.find_coordinator(group, 0, timeout_ms=30_000))

            async def lookup(member: str, member_epoch: int) -> int:
                resp = await conn.request(ApiKey.OFFSET_FETCH, {"groups": [
                    {"group_id": group, "member_id": member, "member_epoch": member_epoch,
                     "topics": [{"name": topic, "partition_indexes": [0]}]}], "require_stable": True}, version=9)
                code: int = resp["groups"][0]["error_code"]
                return code
            assert await lookup(member_id, epoch) == ErrorCode.NONE
            assert await lookup(member_id, epoch + 5) == ErrorCode.STALE_MEMBER_EPOCH
            assert await lookup("no-such-member", epoch) == ErrorCode.UNKNOWN_MEMBER_ID
            if conn.version(ApiKey.OFFSET_FETCH) >= 10:
                # a topic id the broker does not know is a partition-level UNKNOWN_TOPIC_ID
                resp = await conn.request(ApiKey.OFFSET_FETCH, {"groups": [
                    {"group_id": group, "member_id": member_id, "member_epoch": epoch,
                     "topics": [{"topic_id": uuid.uuid4(), "partition_indexes": [0]}]}], "require_stable": True},
                    version=10)
                answer = resp["groups"][0]
                assert answer["error_code"] == ErrorCode.NONE
                assert [p["error_code"] for t in answer["topics"] for p in t["partitions"]] == [
                    ErrorCode.UNKNOWN_TOPIC_ID]
        finally:
            await cluster.close()


async def test_a_topic_created_again_is_not_read_with_the_old_topics_committed_offset(broker: Broker) -> None:
    if broker.version.startswith("3."):
        pytest.skip(f"Kafka {broker.version} has no consumer group protocol (KIP-848, Kafka 4.0+)")
    topic = await _new_topic(broker.bootstrap)
    tp = TopicPartition(topic, 0)
    group = f"ids-recreate-{uuid.uuid4().hex[:8]}"
    seen = broker.proxy.versions_seen[ApiKey.OFFSET_FETCH]
    async with Producer(bootstrap_servers=broker.bootstrap, linger_ms=0) as p:
        for i in range(8):
            await p.send_and_wait(topic, b"old-%d" % i)
    async with Consumer(bootstrap_servers=broker.bootstrap, group_id=group, group_protocol="consumer",
                        enable_auto_commit=False, metadata_max_age_ms=300_000) as c:
        c.assign([tp])
        await c.position(tp)              # the metadata has the topic's id
        await c.commit({tp: 5})
        assert (await c.committed(tp)).offset == 5   # type: ignore[union-attr]
        await _recreate(broker.bootstrap, topic)
        before = dict(seen)
        assert await c.committed(tp) is None
    offered = await _offered(broker.bootstrap, ApiKey.OFFSET_FETCH)
    # by the id the metadata has then (the old one: UNKNOWN_TOPIC_ID, a refresh, the new one), or
    # by name while it knows no id for the topic (as Java)
    used = _used(seen, before)
    assert used and used <= {9, offered}
    async with Admin(bootstrap_servers=broker.bootstrap) as admin:
        stored = await admin.list_consumer_group_offsets(group)
    assert stored.get(tp) is None, "the broker keeps a deleted topic's committed offsets"


def _cap_fetch_at_12(info: RequestInfo, payload: bytes) -> bytes:
    """The broker's ApiVersions answer with Fetch capped at v12 (a broker from before KIP-516).
    A refusal of the version asked for (a v0 answer with the broker's range) goes through as it is."""
    body = decode_response(ApiKey.API_VERSIONS, info.api_version, payload)
    if body["error_code"]:
        return payload
    for key in body["api_keys"]:
        if key["api_key"] == ApiKey.FETCH:
            key["max_version"] = 12
    return bytes(encode_response(ApiKey.API_VERSIONS, info.api_version, info.correlation_id, body)[4:])


async def test_fetch_names_topics_by_name_below_v13(broker: Broker) -> None:
    topic = await _new_topic(broker.bootstrap)
    async with Producer(bootstrap_servers=broker.bootstrap, linger_ms=0) as p:
        for i in range(5):
            await p.send_and_wait(topic, b"v%d" % i)
    proxy = broker.proxy
    seen = proxy.versions_seen[ApiKey.FETCH]
    before = dict(seen)
    proxy.rewrite_responses(_cap_fetch_at_12, count=None, api_key=ApiKey.API_VERSIONS)
    try:
        async with Consumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest") as c:
            c.assign([TopicPartition(topic, 0)])
            got = await _read(c, 5)
    finally:
        proxy.reset()
    assert [r.value for r in got] == [b"v%d" % i for i in range(5)]
    assert {v for v, n in seen.items() if n > before.get(v, 0)} == {12}


async def _recreate(bootstrap: str, topic: str) -> None:
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.delete_topics([topic], timeout_ms=60_000)
        for _ in range(600):   # the deletion completes in the background
            try:
                await admin.create_topics([NewTopic(topic, 1, 1)], timeout_ms=60_000, wait_for_leaders=True)
                return
            except TopicAlreadyExistsError:
                await asyncio.sleep(0.1)
        raise AssertionError(f"{topic} could not be created again")


async def test_a_topic_deleted_and_created_again_is_read_and_written_under_its_new_id(broker: Broker) -> None:
    topic = await _new_topic(broker.bootstrap)
    tp = TopicPartition(topic, 0)
    acked: dict[bytes, int] = {}    # value -> offset, of the records written after the re-creation
    recreated = asyncio.Event()
    stop = asyncio.Event()
    async with Producer(bootstrap_servers=broker.bootstrap, linger_ms=0, delivery_timeout_ms=120_000) as p, \
            Consumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest") as c:
        for i in range(20):
            await p.send_and_wait(topic, b"old-%d" % i)
        c.assign([tp])
        assert len(await _read(c, 20)) == 20

        async def write() -> None:
            for i in itertools.count():
                if stop.is_set():
                    return
                after = recreated.is_set()
                md = await p.send_and_wait(topic, (b"new-%d" if after else b"mid-%d") % i)
                if after:
                    acked[b"new-%d" % i] = md.offset
                await asyncio.sleep(0.05)

        writer = asyncio.create_task(write())
        await _recreate(broker.bootstrap, topic)
        recreated.set()
        got: list[Any] = []
        while sum(1 for r in got if r.value.startswith(b"new-")) < 5:
            assert not writer.done() or writer.exception() is None
            got.extend(await _read(c, 1))
        stop.set()
        await writer
    news = [r for r in got if r.value.startswith(b"new-")]
    # every new record read is where the producer was told it was written, in order
    assert all(acked[r.value] == r.offset for r in news)
    assert [r.offset for r in news] == sorted({r.offset for r in news})


# What send_offsets_to_transaction sends, as Java 4.4 picks it: v6 names topics by id under
# transaction v2 when the producer's metadata has every topic's id, v5 by name otherwise, and classic
# transactions stop at 4 (3.9 has not finalized transaction v2).
TXN_OFFSET_COMMIT_BY_ID = {"4.4.0": 6, "4.1.2": 5, "3.9.1": 4}
TXN_OFFSET_COMMIT_BY_NAME = {"4.4.0": 5, "4.1.2": 5, "3.9.1": 4}


@pytest.mark.parametrize("knows_input", [True, False], ids=["input-known", "input-unknown"])
@pytest.mark.parametrize("group_protocol", ["classic", "consumer"])
async def test_offsets_sent_to_a_transaction_name_topics_by_id_where_java_does(
        broker: Broker, group_protocol: str, knows_input: bool) -> None:
    if group_protocol == "consumer" and broker.version.startswith("3."):
        pytest.skip(f"Kafka {broker.version} has no consumer group protocol (KIP-848, Kafka 4.0+)")
    source, sink = await _filled_topic(broker.bootstrap, 6), await _new_topic(broker.bootstrap, 1)
    group = f"ids-txn-{uuid.uuid4().hex[:8]}"
    tps = [TopicPartition(source, 0), TopicPartition(source, 1)]
    seen = broker.proxy.versions_seen[ApiKey.TXN_OFFSET_COMMIT]
    before = dict(seen)
    async with Producer(bootstrap_servers=broker.bootstrap, linger_ms=0,
                        transactional_id=f"ids-txn-{uuid.uuid4().hex[:8]}") as p:
        if knows_input:
            assert await p.partitions_for(source) == {0, 1}  # now its metadata has the topic's id
        async with Consumer(source, bootstrap_servers=broker.bootstrap, group_id=group,
                            group_protocol=group_protocol, enable_auto_commit=False,
                            auto_offset_reset="earliest", isolation_level="read_committed") as c:
            got = await _read(c, 6)
            async with p.transaction():
                for r in got:
                    await p.send(sink, r.value, partition=0)
                await p.send_offsets_to_transaction(
                    {tp: max(r.offset for r in got if r.partition == tp.partition) + 1 for tp in tps},
                    c.group_metadata())
    async with Admin(bootstrap_servers=broker.bootstrap) as admin:
        # stable: the coordinator applies transactional offsets once the commit's marker is written
        stored = await admin.list_consumer_group_offsets(group, tps, require_stable=True)
    assert {tp: o.offset for tp, o in stored.items() if o is not None} == {tps[0]: 3, tps[1]: 3}
    async with Consumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                        isolation_level="read_committed") as c:
        c.assign([TopicPartition(sink, 0)])
        assert sorted(r.value for r in await _read(c, 6)) == sorted(b"v%d" % i for i in range(6))
    expected = (TXN_OFFSET_COMMIT_BY_ID if knows_input else TXN_OFFSET_COMMIT_BY_NAME)[broker.version]
    assert _used(seen, before) == {expected}, f"TxnOffsetCommit versions sent to Kafka {broker.version}"
