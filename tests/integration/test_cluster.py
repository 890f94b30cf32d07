"""Cluster against real brokers: bootstrap, metadata cache and refresh, the connection pool,
coordinators, and finding new leaders when a broker of a 3-node cluster stops and restarts."""
from __future__ import annotations

import asyncio
import socket

import pytest

from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.errors import (
    KafkaConnectionError,
    NoBrokersAvailableError,
    UnknownTopicOrPartitionError,
)
from kafkaio.protocol import ApiKey, decode_response, encode_response
from kafkaio.protocol.bodies import MetadataResponse

pytestmark = pytest.mark.integration

FETCH_BY_NAME = 12  # these raw Fetch requests name their topic (v13+ would need its id)


def _config(bootstrap: str, **kw: object) -> CommonConfig:
    return CommonConfig.from_kwargs(bootstrap_servers=bootstrap, **kw)


def _dead_address() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on it any more: connections are refused
    return f"127.0.0.1:{port}"


async def test_bootstrap_fills_metadata_and_finds_topic(bootstrap_servers: str, topic: str) -> None:
    cluster = Cluster(_config(bootstrap_servers))
    try:
        await cluster.bootstrap()
        meta = cluster.metadata
        assert meta.brokers and meta.cluster_id
        assert meta.controller_id in meta.brokers or meta.controller_id == -1
        partitions = await cluster.wait_for_topic(topic, timeout_ms=20000)
        assert partitions and partitions == sorted(partitions)
        info = cluster.metadata.topics[topic]
        assert info.topic_id is not None
        leader = cluster.leader_for(topic, partitions[0])
        assert leader in cluster.metadata.brokers
        part = info.partitions[partitions[0]]
        assert part.leader_epoch >= 0 and leader in part.replicas and leader in part.isr
        assert topic in cluster.tracked_topics
    finally:
        await cluster.close()


async def test_bootstrap_skips_dead_address_and_uses_live_one(bootstrap_servers: str) -> None:
    cluster = Cluster(_config(f"{_dead_address()},{bootstrap_servers}"))
    try:
        await cluster.bootstrap(timeout_ms=20000)
        assert cluster.metadata.brokers
    finally:
        await cluster.close()


async def test_bootstrap_failure_names_every_address() -> None:
    first, second = _dead_address(), _dead_address()
    cluster = Cluster(_config(f"{first},{second}", reconnect_backoff_ms=20, reconnect_backoff_max_ms=50))
    try:
        with pytest.raises(NoBrokersAvailableError) as info:
            await cluster.bootstrap(timeout_ms=500)
        assert first in str(info.value) and second in str(info.value)
    finally:
        await cluster.close()


async def test_unknown_topic_without_auto_creation(bootstrap_servers: str) -> None:
    from kafkaio.config import ConsumerConfig

    config = ConsumerConfig.from_kwargs(bootstrap_servers=bootstrap_servers, allow_auto_create_topics=False)
    cluster = Cluster(config)
    try:
        await cluster.bootstrap()
        with pytest.raises(UnknownTopicOrPartitionError, match="kafkaio-never-created"):
            await cluster.wait_for_topic("kafkaio-never-created", timeout_ms=600)
        assert cluster.metadata.topic_errors["kafkaio-never-created"] == 3
    finally:
        await cluster.close()


async def test_concurrent_refreshes_are_coalesced(bootstrap_servers: str, topic: str) -> None:
    cluster = Cluster(_config(bootstrap_servers))
    try:
        await cluster.bootstrap()
        await cluster.wait_for_topic(topic)
        before = cluster.metadata.version
        snapshots = await asyncio.gather(*(cluster.refresh_metadata() for _ in range(20)))
        # One Metadata round trip served all twenty callers.
        assert cluster.metadata.version == before + 1
        assert all(s is snapshots[0] for s in snapshots)
        cluster.request_refresh()
        cluster.request_refresh()
        updated = await cluster.wait_for_update(timeout_ms=10000)
        assert updated.version > before + 1
    finally:
        await cluster.close()


async def test_metadata_is_refreshed_every_max_age(bootstrap_servers: str) -> None:
    cluster = Cluster(_config(bootstrap_servers, metadata_max_age_ms=200))
    try:
        await cluster.bootstrap()
        first = cluster.metadata
        for _ in range(100):  # nobody asks for a refresh: the age alone triggers them
            if cluster.metadata.version >= first.version + 2:
                break
            await asyncio.sleep(0.1)
        assert cluster.metadata.version >= first.version + 2
        assert cluster.metadata.updated_at > first.updated_at
    finally:
        await cluster.close()


async def test_connections_are_kept_apart_by_purpose(bootstrap_servers: str, topic: str) -> None:
    cluster = Cluster(_config(bootstrap_servers))
    try:
        await cluster.bootstrap()
        await cluster.wait_for_topic(topic)
        leader = cluster.leader_for(topic, 0)
        fetch_conn = await cluster.connection(leader, "fetch")
        produce_conn = await cluster.connection(leader, "produce")
        assert fetch_conn is not produce_conn
        assert await cluster.connection(leader, "fetch") is fetch_conn  # pooled
        # A long poll on the fetch connection (empty topic: held for 10 s) ...
        long_poll = asyncio.ensure_future(cluster.request(leader, ApiKey.FETCH, {
            "replica_id": -1, "max_wait_ms": 10000, "min_bytes": 1, "max_bytes": 1 << 20,
            "topics": [{"topic": topic, "partitions": [
                {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]},
            purpose="fetch", version=FETCH_BY_NAME, timeout_ms=40000))
        await asyncio.sleep(0.2)
        # ... does not hold up a request on the produce connection: it completes first.
        resp = await cluster.request(leader, ApiKey.METADATA, {"topics": [{"name": topic}]}, purpose="produce")
        assert resp["topics"][0]["name"] == topic
        assert not long_poll.done()
        long_poll.cancel()
    finally:
        await cluster.close()


async def test_find_coordinator(bootstrap_servers: str) -> None:
    cluster = Cluster(_config(bootstrap_servers))
    try:
        await cluster.bootstrap()
        node = await cluster.find_coordinator("kafkaio-test-group", 0, timeout_ms=30000)
        assert node in cluster.metadata.brokers
        conn = await cluster.connection(node, "group")
        assert conn.connected and conn.purpose == "group"
    finally:
        await cluster.close()


async def test_close_fails_later_requests(bootstrap_servers: str) -> None:
    cluster = Cluster(_config(bootstrap_servers))
    await cluster.bootstrap()
    node = next(iter(cluster.metadata.brokers))
    conn = await cluster.connection(node)
    await cluster.close()
    assert conn.closed
    with pytest.raises(KafkaConnectionError, match="closed"):
        await cluster.request(node, ApiKey.METADATA, {"topics": []})


async def test_broken_connection_is_replaced(bootstrap_servers: str) -> None:
    cluster = Cluster(_config(bootstrap_servers, reconnect_backoff_ms=10))
    try:
        await cluster.bootstrap()
        node = next(iter(cluster.metadata.brokers))
        first = await cluster.connection(node)
        await first.close()
        second = await cluster.connection(node)
        assert second is not first and second.connected
    finally:
        await cluster.close()


@pytest.mark.slow
@pytest.mark.cluster3
async def test_new_leaders_found_after_broker_stop_and_restart() -> None:
    from kafkaio.testing.broker import LocalKafkaCluster

    brokers = LocalKafkaCluster(brokers=3, broker_properties={
        "default.replication.factor": "3", "num.partitions": "3", "min.insync.replicas": "1"})
    await asyncio.to_thread(brokers.start)
    cluster = Cluster(_config(brokers.bootstrap_servers, metadata_max_age_ms=60000,
                              retry_backoff_ms=50, reconnect_backoff_ms=20, request_timeout_ms=10000))
    try:
        await cluster.bootstrap()
        topic = "kafkaio-leader-move"
        partitions = await cluster.wait_for_topic(topic, timeout_ms=60000)
        assert len(partitions) == 3
        # Wait until every partition has a leader and three in-sync replicas.
        for _ in range(100):
            parts = cluster.metadata.topics[topic].partitions
            if all(p.leader >= 0 and len(p.isr) == 3 for p in parts.values()):
                break
            await asyncio.sleep(0.2)
            await cluster.refresh_metadata()
        old_leader = cluster.leader_for(topic, 0)
        old_epoch = cluster.metadata.topics[topic].partitions[0].leader_epoch
        index = [b.node_id for b in brokers.brokers].index(old_leader)
        await asyncio.to_thread(brokers.stop_broker, index)

        # A request to the stopped leader fails with a retriable error ...
        with pytest.raises(KafkaConnectionError) as info:
            await cluster.request(old_leader, ApiKey.METADATA, {"topics": []})
        assert info.value.retriable
        # ... and refreshed metadata names a live new leader with a newer epoch.
        new_leader = None
        for _ in range(200):
            try:
                await cluster.refresh_metadata()
            except KafkaConnectionError as exc:
                # while the cluster settles a refresh may fail, but only with an error worth retrying
                assert exc.retriable, exc
            new_leader = cluster.leader_for(topic, 0)
            if new_leader not in (None, old_leader):
                break
            await asyncio.sleep(0.1)
        assert new_leader not in (None, old_leader)
        assert cluster.metadata.topics[topic].partitions[0].leader_epoch > old_epoch
        resp = await cluster.request(new_leader, ApiKey.LIST_OFFSETS, {
            "replica_id": -1, "topics": [{"name": topic, "partitions": [{"partition_index": 0, "timestamp": -1}]}]})
        assert resp["topics"][0]["partitions"][0]["error_code"] == 0

        await asyncio.to_thread(brokers.start_broker, index)
        # The restarted broker comes back into the metadata and we can talk to it again.
        for _ in range(300):
            try:
                await cluster.refresh_metadata()
            except KafkaConnectionError as exc:
                # while the cluster settles a refresh may fail, but only with an error worth retrying
                assert exc.retriable, exc
            if old_leader in cluster.metadata.brokers and old_leader in cluster.metadata.topics[topic].partitions[0].isr:
                break
            await asyncio.sleep(0.2)
        assert old_leader in cluster.metadata.topics[topic].partitions[0].isr
        conn = await cluster.connection(old_leader)
        assert conn.connected
    finally:
        await cluster.close()
        await asyncio.to_thread(brokers.stop)


def _decoded(body: dict) -> MetadataResponse:
    """``body`` as a Metadata v12 answer reaches the cluster: every field, through the codec."""
    payload = bytes(encode_response(ApiKey.METADATA, 12, 0, body))[4:]
    return decode_response(ApiKey.METADATA, 12, payload)  # type: ignore[return-value]


def _metadata_response(leader: int, epoch: int, port: int = 9092) -> MetadataResponse:
    return _decoded({"brokers": [{"node_id": n, "host": "127.0.0.1", "port": port + n, "rack": None} for n in (1, 2)],
            "cluster_id": "c", "controller_id": 1, "topics": [
                {"error_code": 0, "name": "t", "is_internal": False, "partitions": [
                    {"error_code": 0, "partition_index": 0, "leader_id": leader, "leader_epoch": epoch,
                     "replica_nodes": [1, 2], "isr_nodes": [1, 2], "offline_replicas": []}]},
                {"error_code": 3, "name": "gone", "partitions": []}]})


async def test_metadata_with_an_older_leader_epoch_is_ignored() -> None:
    """KIP-320: a lagging broker's answer must not move a partition back to an old leader."""
    cluster = Cluster(_config("127.0.0.1:9"))
    cluster._apply_metadata(_metadata_response(leader=2, epoch=5), frozenset({"t", "gone"}))
    assert cluster.leader_for("t", 0) == 2
    assert cluster.metadata.topic_errors == {"gone": 3} and "gone" not in cluster.metadata.topics
    cluster._apply_metadata(_metadata_response(leader=1, epoch=4), frozenset({"t"}))  # stale
    assert cluster.leader_for("t", 0) == 2
    assert cluster.metadata.topics["t"].partitions[0].leader_epoch == 5
    cluster._apply_metadata(_metadata_response(leader=1, epoch=6), frozenset({"t"}))  # newer
    assert cluster.leader_for("t", 0) == 1
    assert cluster.metadata.version == 3
    await cluster.close()


async def test_rebootstrap_when_every_known_broker_is_gone(bootstrap_servers: str) -> None:
    """Metadata naming only brokers that no longer answer: the refresh goes back to bootstrap."""
    cluster = Cluster(_config(bootstrap_servers, reconnect_backoff_ms=10, request_timeout_ms=10000))
    try:
        await cluster.bootstrap()
        real = dict(cluster.metadata.brokers)
        host, port = _dead_address().rsplit(":", 1)
        cluster._apply_metadata(_decoded({"brokers": [{"node_id": 99, "host": host, "port": int(port)}],
                                          "cluster_id": "stale", "controller_id": 99, "topics": []}), frozenset())
        assert list(cluster.metadata.brokers) == [99]
        meta = await cluster.refresh_metadata()
        assert meta.brokers == real and meta.cluster_id != "stale"
    finally:
        await cluster.close()


async def test_no_rebootstrap_when_recovery_strategy_is_none(bootstrap_servers: str) -> None:
    cluster = Cluster(_config(bootstrap_servers, reconnect_backoff_ms=10, metadata_recovery_strategy="none"))
    try:
        await cluster.bootstrap()
        host, port = _dead_address().rsplit(":", 1)
        cluster._apply_metadata(_decoded({"brokers": [{"node_id": 99, "host": host, "port": int(port)}],
                                          "cluster_id": "stale", "controller_id": 99, "topics": []}), frozenset())
        with pytest.raises(KafkaConnectionError, match="99"):
            await cluster.refresh_metadata()
        assert cluster.metadata.cluster_id == "stale"
    finally:
        await cluster.close()
