"""``create_topics(wait_for_leaders=True)`` returns once each partition's leader serves it: a
broker's metadata can name itself leader a moment before it accepts the partition's requests (a
KRaft broker publishes the metadata image before its replica manager applies it), and a produce in
that moment is refused with NOT_LEADER_OR_FOLLOWER."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio.admin import Admin, NewTopic
from kafkaio.errors import ErrorCode, KafkaTimeoutError, TopicExistsError
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.control import RequestInfo


class NotServingYet:
    """A ListOffsets control: each partition's leader refuses it ``refusals`` times
    (NOT_LEADER_OR_FOLLOWER), then answers offset 0."""

    def __init__(self, refusals: float) -> None:
        self.refusals = refusals
        self.refused: dict[tuple[str, int], int] = {}
        self.served: list[tuple[str, int]] = []

    def __call__(self, info: RequestInfo, body: dict[str, Any]) -> dict[str, Any]:
        topics = []
        for t in body["topics"]:
            parts = []
            for p in t["partitions"]:
                key = (t["name"], p["partition_index"])
                code = ErrorCode.NONE
                if self.refused.get(key, 0) < self.refusals:
                    self.refused[key] = self.refused.get(key, 0) + 1
                    code = ErrorCode.NOT_LEADER_OR_FOLLOWER
                else:
                    self.served.append(key)
                parts.append({"partition_index": p["partition_index"], "error_code": code,
                              "timestamp": -1, "offset": 0 if code == ErrorCode.NONE else -1, "leader_epoch": 0})
            topics.append({"name": t["name"], "partitions": parts})
        return {"throttle_time_ms": 0, "topics": topics}


async def test_wait_for_leaders_waits_until_every_leader_serves_its_partitions() -> None:
    leaders = NotServingYet(3)
    async with FakeCluster(brokers=2) as fake:
        fake.control(ApiKey.LIST_OFFSETS, leaders, persistent=True)
        async with Admin(bootstrap_servers=fake.bootstrap_servers, retry_backoff_ms=5) as admin:
            assert await admin.create_topics([NewTopic("fresh", 4, 1)], wait_for_leaders=True) == {"fresh": None}
            assert sorted(set(leaders.served)) == [("fresh", p) for p in range(4)]
            assert leaders.refused == {("fresh", p): 3 for p in range(4)}
            # without waiting, nothing asks the leaders
            await admin.create_topics([NewTopic("other", 1, 1)])
    assert ("other", 0) not in leaders.refused and ("other", 0) not in leaders.served


async def test_the_wait_lasts_until_the_deadline_whatever_retries_says() -> None:
    leaders = NotServingYet(3)
    async with FakeCluster(brokers=2) as fake:
        fake.control(ApiKey.LIST_OFFSETS, leaders, persistent=True)
        async with Admin(bootstrap_servers=fake.bootstrap_servers, retry_backoff_ms=5, retries=0) as admin:
            assert await admin.create_topics([NewTopic("fresh", 2, 1)], wait_for_leaders=True) == {"fresh": None}
    assert sorted(set(leaders.served)) == [("fresh", 0), ("fresh", 1)]


@pytest.mark.parametrize("raise_on_error", [True, False])
async def test_leaders_that_never_serve_time_the_wait_out_naming_the_created_topics(raise_on_error: bool) -> None:
    async with FakeCluster(brokers=2, topics={"existing": 1}) as fake:
        fake.control(ApiKey.LIST_OFFSETS, NotServingYet(float("inf")), persistent=True)
        async with Admin(bootstrap_servers=fake.bootstrap_servers, retry_backoff_ms=5) as admin:
            with pytest.raises(KafkaTimeoutError, match=r"created topics \['never'\]: the leader of .*never.* "
                                                        r"did not serve it in time; last error: .*NOT_LEADER") as info:
                await admin.create_topics([NewTopic("never", 2, 1), NewTopic("existing", 1, 1)],
                                          wait_for_leaders=True, timeout_ms=800, raise_on_error=raise_on_error)
    # the wait's error carries the create call's own results (docs/admin.md): what was created
    exc = info.value
    assert exc.results["never"] is None
    assert isinstance(exc.results["existing"], TopicExistsError)
    assert exc.failures == {"existing": exc.results["existing"]}
