"""The consumer-protocol member (KIP-848) against the fake cluster, the broker's answers scripted
by a control on ConsumerGroupHeartbeat: the assignment is resolved through the metadata's topic ids,
acknowledged in the next heartbeat, a broker without the protocol is an error raised once, and an
unexpected error in the heartbeat task reaches the
application without stopping the heartbeats; commits name topics by id (OffsetCommit v10)."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio.consumer.consumer import Consumer
from kafkaio.consumer.membership import Membership
from kafkaio.errors import UnsupportedVersionError
from kafkaio.protocol import ApiKey, client_versions
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.handlers import HANDLERS


class ScriptedCoordinator:
    """Answers every heartbeat: epoch 1 and partitions 0 and 1 of ``topic_id``; records requests."""

    def __init__(self, topic_id: Any) -> None:
        self.topic_id = topic_id
        self.requests: list[dict[str, Any]] = []

    def __call__(self, info: Any, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(body)
        return {"error_code": 0, "member_id": body["member_id"], "member_epoch": 1,
                "heartbeat_interval_ms": 50,
                "assignment": {"topic_partitions": [{"topic_id": self.topic_id, "partitions": [0, 1]}]}}


def offer_consumer_group_heartbeat(fake: FakeCluster) -> None:
    """The fake's ApiVersions answer plus ConsumerGroupHeartbeat, which a control answers."""
    def api_versions(info: Any, body: dict[str, Any]) -> dict[str, Any]:
        keys = [{"api_key": k, "min_version": lo, "max_version": hi}
                for k in (*HANDLERS, ApiKey.CONSUMER_GROUP_HEARTBEAT) for lo, hi in [client_versions(k)]]
        return {"error_code": 0, "api_keys": keys, "throttle_time_ms": 0}
    fake.control(ApiKey.API_VERSIONS, api_versions, persistent=True)


async def wait_for(pred: Any, timeout: float = 10.0) -> None:
    async def loop() -> None:
        while not pred():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(loop(), timeout)


async def test_the_assignment_is_resolved_by_topic_id_and_acknowledged() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        coordinator = ScriptedCoordinator(fake.state.topics["t"].topic_id)
        offer_consumer_group_heartbeat(fake)
        fake.control(ApiKey.CONSUMER_GROUP_HEARTBEAT, coordinator, persistent=True)
        async with Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g",
                            group_protocol="consumer", enable_auto_commit=False) as c:
            await wait_for(lambda: c.assignment() == {TopicPartition("t", 0), TopicPartition("t", 1)})
            await wait_for(lambda: any(r.get("topic_partitions") for r in coordinator.requests))
            join, ack = coordinator.requests[0], next(r for r in coordinator.requests if r.get("topic_partitions"))
            assert join["member_epoch"] == 0 and join["subscribed_topic_names"] == ["t"]
            assert ack["member_epoch"] == 1
            assert ack["topic_partitions"] == [{"topic_id": coordinator.topic_id, "partitions": [0, 1]}]
            await c.getmany(timeout_ms=0)   # group_metadata() is the generation of the last poll
            assert c.group_metadata().generation_id == 1
        assert coordinator.requests[-1]["member_epoch"] == -1   # left on close


async def test_an_unexpected_error_in_the_heartbeat_task_is_raised_and_heartbeats_go_on(monkeypatch) -> None:
    original = Membership.on_response
    calls = {"n": 0}

    def on_response(self: Membership, resp: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("a bug in the member")
        return original(self, resp)

    monkeypatch.setattr(Membership, "on_response", on_response)
    async with FakeCluster(topics={"t": 2}) as fake:
        coordinator = ScriptedCoordinator(fake.state.topics["t"].topic_id)
        offer_consumer_group_heartbeat(fake)
        fake.control(ApiKey.CONSUMER_GROUP_HEARTBEAT, coordinator, persistent=True)
        async with Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g",
                            group_protocol="consumer", enable_auto_commit=False) as c:
            with pytest.raises(RuntimeError, match="a bug in the member"):
                for _ in range(200):
                    await c.getmany(timeout_ms=50)
            sent = len(coordinator.requests)
            await wait_for(lambda: len(coordinator.requests) > sent + 2)


async def test_a_broker_without_the_consumer_group_protocol_is_raised_not_retried() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:   # the fake offers no ConsumerGroupHeartbeat
        async with Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g",
                            group_protocol="consumer") as c:
            with pytest.raises(UnsupportedVersionError, match="group_protocol='classic'"):
                for _ in range(200):
                    await c.getmany(timeout_ms=50)
            assert c._coordinator.member.state.value == "fatal"   # noqa: SLF001


async def test_a_consumer_protocol_member_commits_by_topic_id_at_v10() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        topic_id = fake.state.topics["t"].topic_id
        offer_consumer_group_heartbeat(fake)
        fake.control(ApiKey.CONSUMER_GROUP_HEARTBEAT, ScriptedCoordinator(topic_id), persistent=True)
        commits: list[tuple[int, dict[str, Any]]] = []
        fake.control(ApiKey.OFFSET_COMMIT, lambda info, body: commits.append((info.version, body)), persistent=True)
        async with Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g",
                            group_protocol="consumer", enable_auto_commit=False) as c:
            await wait_for(lambda: c.assignment() == {TopicPartition("t", 0), TopicPartition("t", 1)})
            await c.commit({TopicPartition("t", 0): 5, TopicPartition("t", 1): 7})
        assert fake.state.committed["g"][("t", 0)][0] == 5 and fake.state.committed["g"][("t", 1)][0] == 7
    assert commits and {v for v, _ in commits} == {10}
    assert all(t["topic_id"] == topic_id and "name" not in t for _, b in commits for t in b["topics"])

