"""kafkaio's Cluster and BrokerConnection against the fake: metadata and routing over several
brokers, pipelined requests answered in order, and a lost answer that closes the connection."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import KafkaConnectionError
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import DROP, DROP_RESPONSE, FakeCluster, RequestInfo


def _metadata_request(topic: str) -> dict[str, Any]:
    return {"topics": [{"name": topic}], "allow_auto_topic_creation": False}


async def test_bootstrap_finds_every_broker_and_each_partitions_leader() -> None:
    async with FakeCluster(brokers=3, topics={"t": 6}) as fake:
        cluster = Cluster(CommonConfig.from_kwargs(bootstrap_servers=fake.bootstrap_servers))
        try:
            await cluster.bootstrap()
            assert sorted(await cluster.wait_for_topic("t", 5000)) == list(range(6))
            leaders = [cluster.leader_for("t", p) for p in range(6)]
            brokers = set(cluster.metadata.brokers)
        finally:
            await cluster.close()
    assert brokers == {0, 1, 2}
    assert leaders == [0, 1, 2, 0, 1, 2]


async def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    async with FakeCluster(topics={"a": 1, "b": 2}) as fake:
        host, port = fake.bootstrap_servers.split(":")
        conn = BrokerConnection(host, int(port), 0, CommonConfig.from_kwargs(bootstrap_servers=fake.bootstrap_servers))
        await conn.connect()
        try:
            answers = await asyncio.gather(*(conn.request(ApiKey.METADATA, _metadata_request(t))
                                             for t in ("a", "b", "a")))
        finally:
            await conn.close()
        conns = {i.connection_id for i in fake.requests}
    assert [[len(t["partitions"]) for t in r["topics"]] for r in answers] == [[1], [2], [1]]
    assert len(conns) == 1


@pytest.mark.parametrize("action", [DROP, DROP_RESPONSE])
async def test_a_lost_answer_followed_by_a_later_one_fails_both_requests_with_a_closed_connection(
        action: object) -> None:
    async with FakeCluster(topics={"a": 1, "b": 1}) as fake:
        def lose_a(info: RequestInfo, body: dict[str, Any]) -> object:
            return action if body["topics"][0]["name"] == "a" else None

        host, port = fake.bootstrap_servers.split(":")
        conn = BrokerConnection(host, int(port), 0, CommonConfig.from_kwargs(bootstrap_servers=fake.bootstrap_servers))
        await conn.connect()
        fake.control(ApiKey.METADATA, lose_a)
        try:
            first = asyncio.ensure_future(conn.request(ApiKey.METADATA, _metadata_request("a")))
            second = asyncio.ensure_future(conn.request(ApiKey.METADATA, _metadata_request("b")))
            results = await asyncio.gather(first, second, return_exceptions=True)
        finally:
            await conn.close()
    # b's answer, arriving first, shows that a's was lost: the connection is closed at once
    # (not at a's request timeout) and both requests fail with it, to be retried in order
    assert [type(r) for r in results] == [KafkaConnectionError, KafkaConnectionError], results
    assert "lost" in str(results[0])
