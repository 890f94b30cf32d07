"""KIP-1242 (Kafka 4.4): a connection to a known node carries the cluster id and node id the client
means to reach, and a broker that is not that node refuses it (REBOOTSTRAP_REQUIRED); the client
then bootstraps again instead of going on with another cluster's broker under stale metadata."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio import NewTopic, Producer
from kafkaio.admin import Admin
from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import KafkaTimeoutError, RebootstrapRequiredError
from kafkaio.protocol import ApiKey
from kafkaio.testing.broker import LocalKafkaCluster
from kafkaio.testing.capabilities import BrokerCapabilities
from kafkaio.structs import TopicPartition
from kafkaio.testing.proxy import FaultProxy, proxied_cluster

pytestmark = pytest.mark.integration


async def _node(bootstrap: str) -> tuple[str, int, str, int]:
    """(host, port, cluster id, node id) of the first broker, as the metadata names it."""
    cluster = Cluster(CommonConfig.from_kwargs(bootstrap_servers=bootstrap))
    try:
        await cluster.bootstrap()
        meta = cluster.metadata
        node = min(meta.brokers)
        b = meta.brokers[node]
        assert meta.cluster_id is not None
        return b.host, b.port, meta.cluster_id, node
    finally:
        await cluster.close()


async def _connect(host: str, port: int, node: int, cluster_id: str, **kw: object) -> BrokerConnection:
    conn = BrokerConnection(host, port, node, CommonConfig.from_kwargs(bootstrap_servers=f"{host}:{port}", **kw),
                            cluster_id=cluster_id)
    await conn.connect()
    return conn


async def test_a_broker_that_is_not_the_expected_node_refuses_the_connection(
        bootstrap_servers: str, broker_capabilities: BrokerCapabilities) -> None:
    host, port, cluster_id, node = await _node(bootstrap_servers)
    conn = await _connect(host, port, node, cluster_id)   # the node we meant: accepted
    checks = (broker_capabilities.max_version(ApiKey.API_VERSIONS) or 0) >= 5
    assert conn.version(ApiKey.API_VERSIONS) == (5 if checks else conn.version(ApiKey.API_VERSIONS))
    await conn.close()
    for wrong_cluster, wrong_node in ((cluster_id + "x", node), (cluster_id, node + 100)):
        if checks:
            with pytest.raises(RebootstrapRequiredError, match="KIP-1242") as info:
                await _connect(host, port, wrong_node, wrong_cluster)
            assert info.value.retriable and info.value.invalid_metadata
        else:   # before Kafka 4.4 the broker does not check: nothing changes
            await (await _connect(host, port, wrong_node, wrong_cluster)).close()
    # the check is the client's to switch off (metadata_cluster_check_enable, or no rebootstrapping)
    for off in ({"metadata_cluster_check_enable": False}, {"metadata_recovery_strategy": "none"}):
        await (await _connect(host, port, node, cluster_id + "x", **off)).close()


@pytest.mark.slow
async def test_a_misrouted_address_never_gets_the_records_of_another_cluster(
        broker_capabilities: BrokerCapabilities) -> None:
    """Cluster A's node is reached through the address its metadata advertises (a proxy); the
    bootstrap address stays A's. The advertised address is then pointed at cluster B, which has
    a topic of the same name. The producer's next connection to "node 1 of A" is refused by B's
    broker (KIP-1242), so its record never lands in B: it bootstraps again from A's address and,
    the advertised address still being wrong, the record times out instead."""
    if (broker_capabilities.max_version(ApiKey.API_VERSIONS) or 0) < 5:
        pytest.skip("KIP-1242 needs ApiVersions v5 (Kafka 4.4+)")
    async with proxied_cluster(1, auto_create_topics=False) as (a, (advertised,)):
        b = LocalKafkaCluster(brokers=1, start_timeout=300.0, auto_create_topics=False)
        await asyncio.to_thread(b.start)
        real_a = a.brokers[0]
        bootstrap = await FaultProxy((real_a.host, real_a.port)).start()
        try:
            for cluster in (a, b):
                async with Admin(bootstrap_servers=cluster.bootstrap_servers) as admin:
                    await admin.create_topics([NewTopic("t", 1, 1)], wait_for_leaders=True)
            async with Producer(bootstrap_servers=bootstrap.bootstrap_servers, delivery_timeout_ms=8000,
                                request_timeout_ms=4000, linger_ms=0) as p:
                assert (await p.send_and_wait("t", b"to-a")).offset == 0
                target = b.brokers[0]
                advertised.set_target(target.host, target.port)
                advertised.cut()   # node 1 of A, as the metadata names it, is now B's broker
                with pytest.raises(KafkaTimeoutError):
                    await asyncio.wait_for(p.send_and_wait("t", b"misrouted"), 60)
            async with Admin(bootstrap_servers=b.bootstrap_servers) as admin:
                ends = await admin.list_offsets({TopicPartition("t", 0): "latest"})
            assert ends[TopicPartition("t", 0)].offset == 0, "a record for cluster A landed in cluster B"
        finally:
            await bootstrap.stop()
            await asyncio.to_thread(b.stop)
