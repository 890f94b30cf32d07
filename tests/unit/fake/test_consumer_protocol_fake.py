"""The consumer-protocol member (KIP-848) against the fake cluster, the broker's answers scripted
by a control on ConsumerGroupHeartbeat: the assignment is resolved through the metadata's topic ids,
acknowledged in the next heartbeat, a broker without the protocol is an error raised once, and an
unexpected error in the heartbeat task reaches the
application without stopping the heartbeats; commits name topics by id (OffsetCommit v10), and so do
lookups (OffsetFetch v10), with the member's id and epoch, retried on a stale epoch."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio.consumer.consumer import Consumer
from kafkaio.consumer.membership import Membership
from kafkaio.errors import ErrorCode, UnknownMemberIdError, UnsupportedVersionError
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
    assert all(t["topic_id"] == topic_id and t["name"] == "" for _, b in commits for t in b["topics"])



def _record_lookups(fake: FakeCluster) -> list[tuple[int, dict[str, Any]]]:
    """(version, body) of every OffsetFetch the fake receives from now on."""
    seen: list[tuple[int, dict[str, Any]]] = []
    fake.control(ApiKey.OFFSET_FETCH, lambda info, body: seen.append((info.version, body)), persistent=True)
    return seen


async def _joined(fake: FakeCluster, **config: Any) -> Any:
    """A consumer-protocol member of group "g" holding partitions 0 and 1 of "t" at epoch 1."""
    offer_consumer_group_heartbeat(fake)
    fake.control(ApiKey.CONSUMER_GROUP_HEARTBEAT, ScriptedCoordinator(fake.state.topics["t"].topic_id),
                 persistent=True)
    c = Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g", group_protocol="consumer",
                 enable_auto_commit=False, **config)
    await c.start()
    await wait_for(lambda: c.assignment() == {TopicPartition("t", 0), TopicPartition("t", 1)})
    for tp in sorted(c.assignment()):   # the member's own lookups of its new partitions, done
        await c.position(tp)
    return c


async def test_a_consumer_protocol_member_looks_up_by_topic_id_with_its_member_epoch() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        topic_id = fake.state.topics["t"].topic_id
        fake.state.committed["g"] = {("t", 0): (5, -1, "m")}
        lookups = _record_lookups(fake)
        c = await _joined(fake)
        try:
            committed = await c.committed(TopicPartition("t", 0))
            member_id = c._coordinator.member_id   # noqa: SLF001
        finally:
            await c.stop()
    assert committed is not None and (committed.offset, committed.metadata) == (5, "m")
    assert lookups and {v for v, _ in lookups} == {10}
    groups = [g for _, b in lookups for g in b["groups"]]
    assert all((g["member_id"], g["member_epoch"]) == (member_id, 1) for g in groups)
    assert all(t["topic_id"] == topic_id and t["name"] == "" for g in groups for t in g["topics"])


async def test_a_lookup_names_topics_at_v9_where_the_broker_stops_there() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        def stop_at_v9(info: Any, body: dict[str, Any]) -> dict[str, Any]:
            keys = [{"api_key": k, "min_version": lo, "max_version": 9 if k == ApiKey.OFFSET_FETCH else hi}
                    for k in (*HANDLERS, ApiKey.CONSUMER_GROUP_HEARTBEAT) for lo, hi in [client_versions(k)]]
            return {"error_code": 0, "api_keys": keys, "throttle_time_ms": 0}
        fake.control(ApiKey.API_VERSIONS, stop_at_v9, persistent=True)   # consulted before _joined's
        fake.state.committed["g"] = {("t", 1): (7, -1, "")}
        lookups = _record_lookups(fake)
        c = await _joined(fake)
        try:
            committed = await c.committed(TopicPartition("t", 1))
        finally:
            await c.stop()
    assert committed is not None and committed.offset == 7
    assert lookups and {v for v, _ in lookups} == {9}
    groups = [g for _, b in lookups for g in b["groups"]]
    assert all(g["member_epoch"] == 1 and t["name"] == "t" for g in groups for t in g["topics"])


def _group_error(code: int) -> Any:
    """An OffsetFetch control answering ``code`` for the group (v8+)."""
    def answer(info: Any, body: dict[str, Any]) -> dict[str, Any]:
        return {"throttle_time_ms": 0, "groups": [
            {"group_id": g["group_id"], "topics": [], "error_code": code} for g in body["groups"]]}
    return answer


async def test_a_lookup_refused_for_a_stale_member_epoch_is_sent_again() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        fake.state.committed["g"] = {("t", 0): (3, -1, "")}
        c = await _joined(fake, retry_backoff_ms=20)
        try:
            lookups = _record_lookups(fake)
            stale = fake.control(ApiKey.OFFSET_FETCH, _group_error(ErrorCode.STALE_MEMBER_EPOCH))
            committed = await c.committed(TopicPartition("t", 0))
        finally:
            await c.stop()
    # as Java's CommitRequestManager: retried while the member holds an epoch
    assert stale.hits == 1 and len(lookups) == 2
    assert committed is not None and committed.offset == 3


async def test_a_lookup_refused_for_an_unknown_member_is_raised() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        c = await _joined(fake, retry_backoff_ms=20)
        try:
            fake.control(ApiKey.OFFSET_FETCH, _group_error(ErrorCode.UNKNOWN_MEMBER_ID))
            with pytest.raises(UnknownMemberIdError):
                await c.committed(TopicPartition("t", 0))
        finally:
            await c.stop()


async def test_a_topic_created_again_is_not_read_with_the_old_topics_committed_offset() -> None:
    tp = TopicPartition("t", 0)
    async with FakeCluster(topics={"t": 1}) as fake:
        old_id = fake.state.topics["t"].topic_id
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", group_protocol="consumer",
                            enable_auto_commit=False, retry_backoff_ms=20, metadata_max_age_ms=60_000) as c:
            c.assign([tp])
            await c.position(tp)              # the metadata has the topic's id: the commit names it
            await c.commit({tp: 5})
            lookups = _record_lookups(fake)
            assert (await c.committed(tp)).offset == 5
            del fake.state.topics["t"]        # deleted, its committed offsets left behind ...
            fake.create_topic("t", 1)         # ... and created again, under a new id
            new_id = fake.state.topics["t"].topic_id
            # the old id is unknown now (UNKNOWN_TOPIC_ID: the metadata is refreshed), and the
            # offset committed under it is not the new topic's
            assert await c.committed(tp) is None
    ids = [t["topic_id"] for _, b in lookups for g in b["groups"] for t in g["topics"]]
    assert ids[0] == old_id and ids[-1] == new_id and {v for v, _ in lookups} == {10}
