"""Admin client against real brokers: topics, configs, cluster, groups, records, retries under faults."""
from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import AsyncIterator, Awaitable, Callable, Iterator, TypeVar

import pytest

from kafkaio.admin import (
    Admin,
    AlterConfigOp,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
)
from kafkaio.errors import (
    GroupIdNotFoundError,
    GroupNotEmptyError,
    IllegalArgumentError,
    InvalidPartitionsError,
    InvalidReplicationFactorError,
    KafkaTimeoutError,
    OffsetOutOfRangeError,
    TopicExistsError,
    UnknownMemberIdError,
    UnknownTopicOrPartitionError,
)
from kafkaio.protocol import ApiKey, encode_versioned_struct
from kafkaio.records import BatchBuilder
from kafkaio.structs import OffsetAndMetadata, TopicPartition
from kafkaio.testing.capabilities import CONSUMER_PROTOCOL, BrokerCapabilities
from kafkaio.testing.proxy import FaultProxy, proxied_cluster

PRODUCE_BY_NAME = 11  # raw Produce requests here name their topic: v11 is on every broker from 3.9 (v13+ names topics by id)

T = TypeVar("T")
NOW = int(time.time() * 1000)


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    """Re-run ``check`` until it stops failing its assertions: metadata and config changes reach
    the other brokers a moment after the controller acknowledges them (as with the Java client)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


def name(prefix: str) -> str:
    return f"admin-{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def admin(bootstrap_servers: str) -> AsyncIterator[Admin]:
    async with Admin(bootstrap_servers=bootstrap_servers, client_id="admin-tests") as a:
        yield a


@pytest.fixture(scope="module")
def cluster3_bootstrap() -> Iterator[str]:
    """A 3-broker cluster: $KAFKAIO_BOOTSTRAP_3 when set, else our own for this module."""
    if os.environ.get("KAFKAIO_BOOTSTRAP_3"):
        yield os.environ["KAFKAIO_BOOTSTRAP_3"]
        return
    from kafkaio.testing.broker import LocalKafkaCluster

    with LocalKafkaCluster(brokers=3, start_timeout=300.0) as cluster:
        yield cluster.bootstrap_servers


@pytest.fixture
async def admin3(cluster3_bootstrap: str) -> AsyncIterator[Admin]:
    async with Admin(bootstrap_servers=cluster3_bootstrap) as a:
        yield a


# --------------------------------------------------------------------------- helpers on lower layers


async def produce(admin: Admin, tp: TopicPartition, timestamps: list[int],
                  producer: tuple[int, int, int] = (-1, -1, -1)) -> None:
    """Append one record per timestamp to ``tp`` (acks=all) through the leader; ``producer`` is
    (producer id, epoch, base sequence) for an idempotent batch."""
    builder = BatchBuilder(batch_size=1 << 20)
    for i, ts in enumerate(timestamps):
        builder.append(ts, f"k{i}".encode(), f"v{i}".encode(), [])
    for _ in range(50):
        # a topic just created can refuse the first produce while its leadership settles
        # (LEADER_NOT_AVAILABLE 5, NOT_LEADER_OR_FOLLOWER 6: nothing written); ask again
        leader = (await admin.describe_topics([tp.topic]))[tp.topic].partitions[tp.partition].leader
        resp = await admin.cluster.request(leader, ApiKey.PRODUCE, {
            "transactional_id": None, "acks": -1, "timeout_ms": 30000,
            "topic_data": [{"name": tp.topic, "partition_data": [{"index": tp.partition,
                                                                  "records": builder.build(*producer)}]}]}, version=PRODUCE_BY_NAME)
        assert resp is not None
        if resp["responses"][0]["partition_responses"][0]["error_code"] not in (5, 6):
            break
        await asyncio.sleep(0.1)
    assert resp["responses"][0]["partition_responses"][0]["error_code"] == 0


class GroupMember:
    """A classic-protocol consumer group member driven by hand (JoinGroup/SyncGroup/LeaveGroup)."""

    def __init__(self, admin: Admin, group: str) -> None:
        self.admin, self.group, self.member_id = admin, group, ""
        self.node = -1

    async def join(self, topic: str, partitions: list[int]) -> None:
        cluster = self.admin.cluster
        self.node = await cluster.find_coordinator(self.group)
        metadata = encode_versioned_struct("ConsumerProtocolSubscription", 0, {"topics": [topic], "user_data": None})
        for _ in range(50):
            resp = await cluster.request(self.node, ApiKey.JOIN_GROUP, {
                "group_id": self.group, "session_timeout_ms": 30000, "rebalance_timeout_ms": 30000,
                "member_id": self.member_id, "protocol_type": "consumer",
                "protocols": [{"name": "range", "metadata": metadata}]})
            assert resp is not None
            if resp["error_code"] in (14, 15, 16):
                # COORDINATOR_LOAD_IN_PROGRESS, _NOT_AVAILABLE, NOT_COORDINATOR: on a broker's first
                # group the offsets topic is still being created; look the coordinator up again
                await asyncio.sleep(0.1)
                self.node = await cluster.find_coordinator(self.group)
                continue
            self.member_id = resp["member_id"]
            if resp["error_code"] == 79:  # MEMBER_ID_REQUIRED: rejoin with the id we were given
                continue
            assert resp["error_code"] == 0, resp
            break
        assignment = encode_versioned_struct("ConsumerProtocolAssignment", 0, {
            "assigned_partitions": [{"topic": topic, "partitions": partitions}], "user_data": None})
        sync = await cluster.request(self.node, ApiKey.SYNC_GROUP, {
            "group_id": self.group, "generation_id": resp["generation_id"], "member_id": self.member_id,
            "protocol_type": "consumer", "protocol_name": "range",
            "assignments": [{"member_id": self.member_id, "assignment": assignment}]})
        assert sync is not None and sync["error_code"] == 0, sync

    async def leave(self) -> None:
        await self.admin.cluster.request(self.node, ApiKey.LEAVE_GROUP, {
            "group_id": self.group, "member_id": self.member_id,
            "members": [{"member_id": self.member_id, "group_instance_id": None}]})


# --------------------------------------------------------------------------- topics


async def test_create_describe_list_delete_topic(admin: Admin) -> None:
    t = name("life")
    assert await admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1)],
                                     wait_for_leaders=True) == {t: None}
    desc = (await admin.describe_topics([t]))[t]
    assert desc.name == t and not desc.is_internal
    assert desc.topic_id is not None and isinstance(desc.topic_id, uuid.UUID)
    assert [p.partition for p in desc.partitions] == [0, 1, 2]
    for p in desc.partitions:
        assert p.leader is not None and p.replicas == [p.leader] and p.isr == [p.leader]
    assert t in await admin.list_topics()
    assert await admin.delete_topics([t]) == {t: None}

    async def gone() -> None:
        assert isinstance((await admin.describe_topics([t], raise_on_error=False))[t], UnknownTopicOrPartitionError)
    await eventually(gone)
    with pytest.raises(UnknownTopicOrPartitionError):
        await admin.describe_topics([t])


async def test_per_item_errors_do_not_hide_successes(admin: Admin) -> None:
    good, existing = name("good"), name("exists")
    await admin.create_topics([NewTopic(existing, 1, 1)])
    results = await admin.create_topics(
        [NewTopic(good, 1, 1), NewTopic(existing, 1, 1), NewTopic(name("badrf"), 1, 50)], raise_on_error=False)
    assert results[good] is None
    assert isinstance(results[existing], TopicExistsError)
    bad = [v for k, v in results.items() if k.startswith("admin-badrf")][0]
    assert isinstance(bad, InvalidReplicationFactorError)
    # With raise_on_error (the default) the first failure is raised, carrying every outcome.
    other = name("good2")
    with pytest.raises(TopicExistsError) as info:
        await admin.create_topics([NewTopic(other, 1, 1), NewTopic(existing, 1, 1)])
    assert info.value.results[other] is None  # type: ignore[attr-defined]

    async def exists() -> None:
        assert not isinstance((await admin.describe_topics([other], raise_on_error=False))[other], Exception)
    await eventually(exists)
    deleted = await admin.delete_topics([good, existing, other, name("missing")], raise_on_error=False)
    assert [k for k, v in deleted.items() if v is None] == [good, existing, other]
    assert isinstance([v for v in deleted.values() if v is not None][0], UnknownTopicOrPartitionError)


async def test_validate_only_creates_nothing(admin: Admin) -> None:
    t = name("validate")
    assert await admin.create_topics([NewTopic(t, 2, 1)], validate_only=True) == {t: None}
    assert isinstance((await admin.describe_topics([t], raise_on_error=False))[t], UnknownTopicOrPartitionError)


async def test_describe_topics_reports_each_topic(admin: Admin, topic: str) -> None:
    missing = name("missing")
    results = await admin.describe_topics([topic, missing], raise_on_error=False)
    assert results[topic].partitions[0].leader is not None  # type: ignore[union-attr]
    assert isinstance(results[missing], UnknownTopicOrPartitionError)


async def test_create_partitions(admin: Admin, topic: str) -> None:
    assert await admin.create_partitions({topic: 3}) == {topic: None}

    async def grown() -> None:
        assert len((await admin.describe_topics([topic]))[topic].partitions) == 3  # type: ignore[union-attr]
    await eventually(grown)
    res = await admin.create_partitions({topic: NewPartitions(2), name("nope"): 4}, raise_on_error=False)
    assert isinstance(res[topic], InvalidPartitionsError)
    assert isinstance([v for k, v in res.items() if k != topic][0], UnknownTopicOrPartitionError)


async def test_new_topic_rejects_contradictory_arguments() -> None:
    with pytest.raises(IllegalArgumentError):
        NewTopic("x", num_partitions=2, replica_assignments={0: [1]})
    with pytest.raises(IllegalArgumentError):
        NewTopic("", 1, 1)
    with pytest.raises(IllegalArgumentError):
        NewTopic("x", 0, 1)


# --------------------------------------------------------------------------- configs


async def test_topic_configs_at_creation_and_incremental_changes(admin: Admin) -> None:
    t = name("configs")
    await admin.create_topics([NewTopic(t, 1, 1, configs={"retention.ms": "3600000"})], wait_for_leaders=True)
    res = ConfigResource("topic", t)
    entries = (await admin.describe_configs([res]))[res]
    assert entries["retention.ms"].value == "3600000"
    assert entries["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG and not entries["retention.ms"].is_default
    assert entries["cleanup.policy"].is_default and entries["cleanup.policy"].value == "delete"

    await admin.incremental_alter_configs({res: [AlterConfigOp("cleanup.policy", "compact", "append"),
                                                 AlterConfigOp("retention.ms", op="delete"),
                                                 AlterConfigOp("segment.ms", "600000")]})

    async def first_change() -> None:
        entries = (await admin.describe_configs([res]))[res]
        assert set(entries["cleanup.policy"].value.split(",")) == {"delete", "compact"}  # type: ignore[index,union-attr]
        assert entries["retention.ms"].is_default  # type: ignore[index]
        assert entries["segment.ms"].value == "600000"  # type: ignore[index]
    await eventually(first_change)

    await admin.incremental_alter_configs({res: [AlterConfigOp("cleanup.policy", "delete", "subtract")]})
    await admin.incremental_alter_configs({res: {"segment.ms": None, "max.message.bytes": "2000000"}})

    async def second_change() -> None:
        entries = (await admin.describe_configs([res], include_synonyms=True))[res]
        assert entries["cleanup.policy"].value == "compact"  # type: ignore[index]
        assert entries["segment.ms"].is_default  # type: ignore[index]
        assert entries["max.message.bytes"].value == "2000000"  # type: ignore[index]
        assert any(s.source == ConfigSource.DYNAMIC_TOPIC_CONFIG for s in entries["max.message.bytes"].synonyms)  # type: ignore[index]
    await eventually(second_change)
    await admin.delete_topics([t])


async def test_config_errors_are_per_resource(admin: Admin, topic: str) -> None:
    good, missing = ConfigResource("topic", topic), ConfigResource("topic", name("missing"))
    described = await admin.describe_configs([good, missing], raise_on_error=False)
    assert "retention.ms" in described[good]  # type: ignore[operator]
    assert isinstance(described[missing], UnknownTopicOrPartitionError)
    altered = await admin.incremental_alter_configs({good: {"retention.ms": "120000"},
                                                     missing: {"retention.ms": "1"}}, raise_on_error=False)
    assert altered[good] is None and isinstance(altered[missing], UnknownTopicOrPartitionError)
    bad = await admin.incremental_alter_configs({good: {"no.such.config": "1"}}, raise_on_error=False)
    assert bad[good] is not None
    with pytest.raises(IllegalArgumentError):
        await admin.describe_configs([ConfigResource("broker", "not-a-node")])


# --------------------------------------------------------------------------- cluster


async def test_describe_cluster(admin: Admin) -> None:
    desc = await admin.describe_cluster()
    assert desc.cluster_id
    ids = [b.node_id for b in desc.brokers]
    assert ids and sorted(ids) == ids
    assert set(ids) == set(admin.cluster.metadata.brokers)
    assert desc.controller_id in ids or desc.controller_id == -1


# --------------------------------------------------------------------------- records and offsets


async def test_list_offsets_and_delete_records(admin: Admin, topic_factory) -> None:  # type: ignore[no-untyped-def]
    topic = await topic_factory(partitions=2)
    tp, empty = TopicPartition(topic, 0), TopicPartition(topic, 1)
    # Recent timestamps: records dated 1970 would be removed by the broker's retention at any moment.
    await produce(admin, tp, [NOW + 1000, NOW + 2000, NOW + 5000, NOW + 3000, NOW + 4000])
    offsets = await admin.list_offsets({tp: OffsetSpec.EARLIEST})
    assert offsets[tp].offset == 0  # type: ignore[union-attr]
    assert (await admin.list_offsets({tp: "latest"}))[tp].offset == 5  # type: ignore[union-attr]
    by_ts = await admin.list_offsets({tp: NOW + 2500, empty: 0})
    assert by_ts[tp].offset == 2 and by_ts[tp].timestamp == NOW + 5000  # type: ignore[union-attr]
    assert by_ts[empty].offset == -1  # type: ignore[union-attr]
    assert (await admin.list_offsets({tp: NOW + 9999}))[tp].offset == -1  # type: ignore[union-attr]
    top = (await admin.list_offsets({tp: OffsetSpec.MAX_TIMESTAMP}))[tp]
    assert (top.offset, top.timestamp) == (2, NOW + 5000)  # type: ignore[union-attr]

    assert await admin.delete_records({tp: 3}) == {tp: 3}
    assert (await admin.list_offsets({tp: "earliest"}))[tp].offset == 3  # type: ignore[union-attr]
    assert await admin.delete_records({tp: -1}) == {tp: 5}
    results = await admin.delete_records({tp: 99, TopicPartition(topic, 7): 0}, raise_on_error=False)
    assert isinstance(results[tp], OffsetOutOfRangeError)  # beyond the high watermark
    assert isinstance(results[TopicPartition(topic, 7)], UnknownTopicOrPartitionError)
    with pytest.raises(IllegalArgumentError):
        await admin.list_offsets({tp: "soonest"})


async def test_describe_producers_shows_idempotent_state(admin: Admin, topic: str) -> None:
    for _ in range(100):
        init = await admin.cluster.request(None, ApiKey.INIT_PRODUCER_ID,
                                           {"transactional_id": None, "transaction_timeout_ms": 60000})
        # a broker just started may still load its coordinator state (COORDINATOR_LOAD_IN_PROGRESS
        # 14, COORDINATOR_NOT_AVAILABLE 15): ask again
        if init is None or init["error_code"] not in (14, 15):
            break
        await asyncio.sleep(0.1)
    assert init is not None and init["error_code"] == 0
    pid, epoch = init["producer_id"], init["producer_epoch"]
    tp = TopicPartition(topic, 0)
    assert await admin.describe_producers([tp]) == {tp: []}
    await produce(admin, tp, [NOW] * 3, (pid, epoch, 0))
    await produce(admin, tp, [NOW] * 2, (pid, epoch, 3))
    [state] = (await admin.describe_producers([tp]))[tp]  # type: ignore[misc]
    assert (state.producer_id, state.producer_epoch, state.last_sequence) == (pid, epoch, 4)
    assert state.current_txn_start_offset == -1
    missing = TopicPartition(topic, 5)
    assert isinstance((await admin.describe_producers([missing], raise_on_error=False))[missing],
                      UnknownTopicOrPartitionError)


# --------------------------------------------------------------------------- consumer groups


async def test_group_offsets_lifecycle(admin: Admin, topic_factory) -> None:  # type: ignore[no-untyped-def]
    topic = await topic_factory(partitions=2)
    group = name("group")
    tp0, tp1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    assert await admin.alter_consumer_group_offsets(group, {tp0: 5, tp1: OffsetAndMetadata(7, "meta")}) == \
        {tp0: None, tp1: None}
    committed = await admin.list_consumer_group_offsets(group)
    assert committed == {tp0: OffsetAndMetadata(5, "", -1), tp1: OffsetAndMetadata(7, "meta", -1)}
    assert await admin.list_consumer_group_offsets(group, [tp0, TopicPartition(topic, 9)]) == \
        {tp0: OffsetAndMetadata(5, "", -1), TopicPartition(topic, 9): None}
    listing = {g.group_id: g for g in await admin.list_consumer_groups()}
    assert listing[group].state == "Empty"
    desc = (await admin.describe_consumer_groups([group]))[group]
    assert desc.state == "Empty" and desc.members == []  # type: ignore[union-attr]
    assert desc.coordinator in admin.cluster.metadata.brokers  # type: ignore[union-attr]

    assert await admin.delete_consumer_group_offsets(group, [tp0]) == {tp0: None}
    assert await admin.list_consumer_group_offsets(group) == {tp1: OffsetAndMetadata(7, "meta", -1)}
    deleted = await admin.delete_consumer_groups([group, name("never")], raise_on_error=False)
    assert deleted[group] is None
    assert isinstance([v for k, v in deleted.items() if k != group][0], GroupIdNotFoundError)
    assert group not in {g.group_id for g in await admin.list_consumer_groups()}


async def test_active_group_description_and_protection(admin: Admin, topic_factory) -> None:  # type: ignore[no-untyped-def]
    topic = await topic_factory(partitions=3)
    group = name("active")
    member = GroupMember(admin, group)
    await member.join(topic, [0, 2])
    try:
        desc = (await admin.describe_consumer_groups([group]))[group]
        assert desc.state == "Stable" and desc.protocol_type == "consumer" and desc.protocol == "range"  # type: ignore[union-attr]
        [m] = desc.members  # type: ignore[union-attr]
        assert m.member_id == member.member_id
        assert m.assignment == [TopicPartition(topic, 0), TopicPartition(topic, 2)]
        assert m.subscription == [topic]
        stable = await admin.list_consumer_groups(states=["Stable"])
        assert group in {g.group_id for g in stable}
        # An active group can be neither deleted nor have its offsets altered by the admin.
        with pytest.raises(GroupNotEmptyError):
            await admin.delete_consumer_groups([group])
        with pytest.raises(UnknownMemberIdError):
            await admin.alter_consumer_group_offsets(group, {TopicPartition(topic, 0): 1})
    finally:
        await member.leave()
    assert (await admin.describe_consumer_groups([group]))[group].state == "Empty"  # type: ignore[union-attr]
    assert await admin.delete_consumer_groups([group]) == {group: None}


async def test_consumer_protocol_group_is_described(admin: Admin, topic_factory,  # type: ignore[no-untyped-def]
                                                    broker_capabilities: BrokerCapabilities) -> None:
    """A KIP-848 group (driven by hand with ConsumerGroupHeartbeat) is described through
    ConsumerGroupDescribe: DescribeGroups alone would call it Dead."""
    broker_capabilities.require(CONSUMER_PROTOCOL)
    topic = await topic_factory(partitions=2)
    group = name("kip848")
    beat = {"group_id": group, "member_id": uuid.uuid4().hex[:22], "member_epoch": 0, "rebalance_timeout_ms": 30000,
            "subscribed_topic_names": [topic], "topic_partitions": []}
    joined: dict = {}

    async def join() -> None:
        # The first group of a fresh broker creates __consumer_offsets: until its coordinator has
        # loaded the partition it answers NOT_COORDINATOR, which a client retries.
        joined["node"] = await admin.cluster.find_coordinator(group)
        resp = await admin.cluster.request(joined["node"], ApiKey.CONSUMER_GROUP_HEARTBEAT, beat)
        assert resp is not None and resp["error_code"] == 0, resp
        joined["resp"] = resp
    await eventually(join)
    node, resp = joined["node"], joined["resp"]
    member_id, epoch = resp["member_id"], resp["member_epoch"]
    try:
        async def assigned() -> None:
            nonlocal epoch
            # Keep heartbeating like a live member: the coordinator may compute the assignment
            # after answering the first heartbeat.
            hb = await admin.cluster.request(node, ApiKey.CONSUMER_GROUP_HEARTBEAT, {
                **beat, "member_id": member_id, "member_epoch": epoch, "subscribed_topic_names": None,
                "rebalance_timeout_ms": -1, "topic_partitions": None})
            assert hb is not None and hb["error_code"] == 0, hb
            epoch = hb["member_epoch"]
            desc = (await admin.describe_consumer_groups([group]))[group]
            assert desc.group_type == "consumer" and desc.protocol_type == "consumer"  # type: ignore[union-attr]
            [m] = desc.members  # type: ignore[union-attr]
            assert m.member_id == member_id and m.subscription == [topic]
            assert m.target_assignment == [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        await eventually(assigned)
        listing = {g.group_id: g for g in await admin.list_consumer_groups()}
        assert listing[group].group_type == "consumer"
        # KIP-1043: by type on the broker, by protocol type here.
        assert group in {g.group_id for g in await admin.list_groups(types=["consumer"])}
        assert group not in {g.group_id for g in await admin.list_groups(types=["classic", "share"])}
        assert group in {g.group_id for g in await admin.list_groups(protocol_types=["consumer"])}
        assert group not in {g.group_id for g in await admin.list_groups(protocol_types=["connect"])}
    finally:
        await admin.cluster.request(node, ApiKey.CONSUMER_GROUP_HEARTBEAT,
                                    {**beat, "member_id": member_id, "member_epoch": -1, "topic_partitions": None})
    await eventually(lambda: _assert_empty(admin, group))
    assert await admin.delete_consumer_groups([group]) == {group: None}


async def _assert_empty(admin: Admin, group: str) -> None:
    assert (await admin.describe_consumer_groups([group]))[group].members == []  # type: ignore[union-attr]


async def test_internal_topics_only_on_request(admin: Admin, topic: str) -> None:
    group = name("internal")
    await admin.alter_consumer_group_offsets(group, {TopicPartition(topic, 0): 0})  # makes __consumer_offsets exist
    assert "__consumer_offsets" not in await admin.list_topics()
    assert "__consumer_offsets" in await admin.list_topics(include_internal=True)
    desc = (await admin.describe_topics(["__consumer_offsets"]))["__consumer_offsets"]
    assert desc.is_internal
    await admin.delete_consumer_groups([group])


async def test_not_started_and_config_errors() -> None:
    from kafkaio.errors import ConfigError, IllegalStateError

    with pytest.raises(ConfigError, match="request_timeout"):
        Admin(bootstrap_servers="127.0.0.1:1", request_timeout=5)
    with pytest.raises(IllegalStateError):
        await Admin(bootstrap_servers="127.0.0.1:1").list_topics()
    a = Admin.from_config({"bootstrap.servers": "127.0.0.1:1", "default.api.timeout.ms": "45000"})
    assert a.config.default_api_timeout_ms == 45000
    assert Admin("h:1,h:2", client_id="x").config.bootstrap_servers == ("h:1", "h:2")
    assert Admin(config=a.config).config is a.config
    with pytest.raises(IllegalArgumentError):
        Admin("h:1", config=a.config)


# --------------------------------------------------------------------------- three brokers


@pytest.mark.cluster3
async def test_replication_factor_and_leader_placement(admin3: Admin) -> None:
    t = name("rf3")
    await admin3.create_topics([NewTopic(t, num_partitions=3, replication_factor=3)], wait_for_leaders=True)
    desc = (await admin3.describe_topics([t]))[t]
    brokers = set(admin3.cluster.metadata.brokers)
    assert len(brokers) >= 3
    for p in desc.partitions:
        assert len(p.replicas) == 3 and set(p.replicas) <= brokers
        assert sorted(p.isr) == sorted(p.replicas)
        assert p.leader == p.replicas[0]  # a new partition is led by its preferred replica
    await admin3.delete_topics([t])


@pytest.mark.cluster3
async def test_explicit_replica_assignment(admin3: Admin) -> None:
    t = name("assign")
    ids = sorted(admin3.cluster.metadata.brokers)[:3]
    a, b, c = ids
    await admin3.create_topics([NewTopic(t, replica_assignments={0: [b, c], 1: [c, a], 2: [a, b]})],
                               wait_for_leaders=True)
    desc = (await admin3.describe_topics([t]))[t]
    assert [p.replicas for p in desc.partitions] == [[b, c], [c, a], [a, b]]
    assert [p.leader for p in desc.partitions] == [b, c, a]
    await admin3.create_partitions({t: NewPartitions(4, [[c, b]])})

    async def grown() -> None:
        desc = (await admin3.describe_topics([t]))[t]
        assert len(desc.partitions) == 4 and desc.partitions[3].replicas == [c, b]  # type: ignore[union-attr]
    await eventually(grown)
    await admin3.delete_topics([t])


@pytest.mark.cluster3
async def test_broker_configs_are_asked_of_each_broker(admin3: Admin) -> None:
    resources = [ConfigResource("broker", n) for n in sorted(admin3.cluster.metadata.brokers)]
    described = await admin3.describe_configs(resources)
    for res in resources:
        entries = described[res]
        # Each broker reports its own node.id: the request went to that broker.
        assert entries["node.id"].value == res.name  # type: ignore[index]
        assert entries["node.id"].source == ConfigSource.STATIC_BROKER_CONFIG  # type: ignore[index]
        assert entries["num.io.threads"].source in (ConfigSource.DEFAULT_CONFIG, ConfigSource.STATIC_BROKER_CONFIG)  # type: ignore[index]
    # A dynamic per-broker change, then back to the default.
    res = resources[1]
    await admin3.incremental_alter_configs({res: {"log.cleaner.threads": "2"}})

    async def applied() -> None:
        entry = (await admin3.describe_configs([res]))[res]["log.cleaner.threads"]  # type: ignore[index]
        assert entry.value == "2" and entry.source == ConfigSource.DYNAMIC_BROKER_CONFIG
    await eventually(applied)
    await admin3.incremental_alter_configs({res: {"log.cleaner.threads": None}})

    async def reverted() -> None:
        entry = (await admin3.describe_configs([res]))[res]["log.cleaner.threads"]  # type: ignore[index]
        assert entry.source != ConfigSource.DYNAMIC_BROKER_CONFIG
    await eventually(reverted)


@pytest.mark.cluster3
async def test_list_offsets_and_delete_records_go_to_each_leader(admin3: Admin) -> None:
    t = name("leaders")
    await admin3.create_topics([NewTopic(t, num_partitions=3, replication_factor=2)], wait_for_leaders=True)
    tps = [TopicPartition(t, p) for p in range(3)]
    for i, tp in enumerate(tps):
        await produce(admin3, tp, [NOW] * (i + 2))
    latest = await admin3.list_offsets({tp: "latest" for tp in tps})
    assert [latest[tp].offset for tp in tps] == [2, 3, 4]  # type: ignore[union-attr]
    assert await admin3.delete_records({tp: 1 for tp in tps}) == {tp: 1 for tp in tps}
    await admin3.delete_topics([t])


# --------------------------------------------------------------------------- retries under real faults


@pytest.fixture(scope="module")
async def faulty() -> AsyncIterator[tuple[object, FaultProxy]]:
    async with proxied_cluster(brokers=1) as (cluster, proxies):
        yield cluster, proxies[0]


@pytest.mark.slow
async def test_retries_lost_responses_and_cut_connections(faulty: tuple[object, FaultProxy]) -> None:
    _, proxy = faulty
    async with Admin(bootstrap_servers=proxy.bootstrap_servers, request_timeout_ms=1500,
                     default_api_timeout_ms=60000) as admin:
        t = name("faults")
        # The broker creates the topic but the answer is lost: the retry meets TOPIC_ALREADY_EXISTS,
        # which is reported (as the Java client does) rather than hidden.
        proxy.drop_responses(1, api_key=ApiKey.CREATE_TOPICS)
        res = await admin.create_topics([NewTopic(t, 2, 1)], raise_on_error=False)
        assert res[t] is None or isinstance(res[t], TopicExistsError)
        assert proxy.responses_dropped[ApiKey.CREATE_TOPICS] == 1
        await admin.create_topics([NewTopic(name("warm"), 1, 1)], wait_for_leaders=True)

        # Idempotent calls simply succeed after a lost response or a cut connection.
        proxy.drop_responses(1, api_key=ApiKey.DESCRIBE_CONFIGS)
        res_t = ConfigResource("topic", t)
        assert "retention.ms" in (await admin.describe_configs([res_t]))[res_t]  # type: ignore[operator]
        assert proxy.responses_dropped[ApiKey.DESCRIBE_CONFIGS] == 1

        before = proxy.requests_seen[ApiKey.LIST_OFFSETS]
        proxy.cut_after_requests(1, api_key=ApiKey.LIST_OFFSETS)
        tp = TopicPartition(t, 0)
        assert (await admin.list_offsets({tp: "latest"}))[tp].offset == 0  # type: ignore[union-attr]
        assert proxy.requests_seen[ApiKey.LIST_OFFSETS] >= before + 2  # the cut one and the retry

        proxy.pause()
        with pytest.raises(KafkaTimeoutError):
            await admin.describe_topics([t], timeout_ms=3000)
        proxy.resume()
        assert (await admin.describe_topics([t]))[t].name == t


@pytest.mark.slow
@pytest.mark.cluster3
async def test_calls_follow_leaders_and_coordinators_when_a_broker_dies() -> None:
    """Our own 3-broker cluster: kill the leader of a partition and the group coordinator; the
    admin client finds the new leader / coordinator from fresh metadata and carries on."""
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(brokers=3, start_timeout=300.0)
    await asyncio.to_thread(cluster.start)
    try:
        async with Admin(bootstrap_servers=cluster.bootstrap_servers, request_timeout_ms=5000) as admin:
            t, group = name("failover"), name("failover-group")
            await admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=3)], wait_for_leaders=True)
            tp = TopicPartition(t, 0)
            await produce(admin, tp, [NOW] * 3)
            await admin.alter_consumer_group_offsets(group, {tp: 2})
            old_leader = (await admin.describe_topics([t]))[t].partitions[0].leader
            victim = next(i for i, b in enumerate(cluster.brokers) if b.node_id == old_leader)
            await asyncio.to_thread(cluster.kill_broker, victim)

            async def moved() -> None:
                assert (await admin.describe_topics([t]))[t].partitions[0].leader not in (None, old_leader)
            await eventually(moved, timeout=60)
            assert (await admin.list_offsets({tp: "latest"}))[tp].offset == 3  # type: ignore[union-attr]
            assert await admin.delete_records({tp: 1}) == {tp: 1}
            # The group's coordinator may have been on the dead broker: found again, offsets intact.
            # A stable read, as a consumer makes: without it, a coordinator that has just taken over
            # answers from its log up to the high watermark, which may not yet cover the commit.
            assert await admin.list_consumer_group_offsets(group, require_stable=True) == {tp: OffsetAndMetadata(2, "", -1)}
            assert await admin.delete_consumer_groups([group]) == {group: None}
    finally:
        await asyncio.to_thread(cluster.stop)


async def test_describing_a_group_that_does_not_exist(admin: Admin) -> None:
    """A missing group is GroupIdNotFoundError where the broker says so (DescribeGroups v6, Kafka
    4.0+), and state Dead with no members where it describes it that way (older brokers)."""
    group = name("never-joined")
    conn = await admin.cluster.connection(await admin.cluster.find_coordinator(group))
    says_not_found = conn.version(ApiKey.DESCRIBE_GROUPS) >= 6
    result = (await admin.describe_consumer_groups([group], raise_on_error=False))[group]
    if says_not_found:
        assert isinstance(result, GroupIdNotFoundError), result
        with pytest.raises(GroupIdNotFoundError):
            await admin.describe_consumer_groups([group])
    else:
        assert not isinstance(result, Exception) and result.state == "Dead" and result.members == [], result
