"""``create_topics(wait_for_leaders=True)`` returns once each partition's leader serves it: a
broker's metadata can name itself leader a moment before it accepts the partition's requests (a
KRaft broker publishes the metadata image before its replica manager applies it), and a produce in
that moment is refused with NOT_LEADER_OR_FOLLOWER."""
from __future__ import annotations

from typing import Any

from kafkaio.admin import Admin, NewTopic
from kafkaio.errors import ErrorCode
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake.control import RequestInfo

REFUSALS = 3  # ListOffsets answers per partition refused before the leader serves it


async def test_wait_for_leaders_waits_until_every_leader_serves_its_partitions() -> None:
    refused: dict[tuple[str, int], int] = {}
    served: list[tuple[str, int]] = []

    def not_yet(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any]:
        topics = []
        for t in body["topics"]:
            parts = []
            for p in t["partitions"]:
                key = (t["name"], p["partition_index"])
                code = ErrorCode.NONE
                if refused.get(key, 0) < REFUSALS:
                    refused[key] = refused.get(key, 0) + 1
                    code = ErrorCode.NOT_LEADER_OR_FOLLOWER
                else:
                    served.append(key)
                parts.append({"partition_index": p["partition_index"], "error_code": code,
                              "timestamp": -1, "offset": 0 if code == ErrorCode.NONE else -1, "leader_epoch": 0})
            topics.append({"name": t["name"], "partitions": parts})
        return {"throttle_time_ms": 0, "topics": topics}

    async with FakeCluster(brokers=2) as fake:
        fake.control(ApiKey.LIST_OFFSETS, not_yet, persistent=True)
        async with Admin(bootstrap_servers=fake.bootstrap_servers, retry_backoff_ms=5) as admin:
            assert await admin.create_topics([NewTopic("fresh", 4, 1)], wait_for_leaders=True) == {"fresh": None}
            assert sorted(set(served)) == [("fresh", p) for p in range(4)]
            assert refused == {("fresh", p): REFUSALS for p in range(4)}
            # without waiting, nothing asks the leaders
            await admin.create_topics([NewTopic("other", 1, 1)])
    assert ("other", 0) not in refused and ("other", 0) not in served
