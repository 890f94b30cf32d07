"""stop() while a commit_async() waits for a rebalance to complete: the commit stops waiting.

A commit answered REBALANCE_IN_PROGRESS waits for the member to be stable again; stop() waits
for the commit_async() calls under way before it closes. Without a word to the commit, stop()
would wait for the rebalance (or the commit's whole default_api_timeout_ms) first.
"""
from __future__ import annotations

import asyncio
from typing import Any

from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import RebalanceInProgressError
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.fake import DROP, FakeCluster, RequestInfo

REBALANCE_IN_PROGRESS = 27


async def test_stop_ends_a_commit_waiting_for_a_rebalance() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        c = Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False,
                     heartbeat_interval_ms=20, retry_backoff_ms=10, default_api_timeout_ms=120_000,
                     request_timeout_ms=60_000)
        await c.start()
        while c.assignment() != {TP("t", 0)}:
            await c.getmany(timeout_ms=20)

        def rebalancing(info: RequestInfo, body: dict[str, Any]) -> Any:
            return {"topics": [{"name": t["name"], "partitions": [
                {"partition_index": p["partition_index"], "error_code": REBALANCE_IN_PROGRESS}
                for p in t["partitions"]]} for t in body["topics"]]}

        joins = fake.control(ApiKey.JOIN_GROUP, lambda info, body: DROP, persistent=True)
        fake.control(ApiKey.OFFSET_COMMIT, rebalancing)
        outcomes: list[BaseException | None] = []
        commit = c.commit_async({TP("t", 0): 5}, callback=lambda offsets, error: outcomes.append(error))
        while not joins.hits:
            await asyncio.sleep(0.01)      # the commit asked for the rejoin, which never completes
        await asyncio.sleep(0.1)           # the commit waits for the member to be stable again
        assert not commit.done()
        stop = asyncio.ensure_future(c.stop())
        done, _ = await asyncio.wait([stop], timeout=30)   # a liveness bound, far below the commit's 120 s
        assert stop in done, "stop() waited for the commit's rebalance"
        await stop
        assert commit.done() and len(outcomes) == 1 and isinstance(outcomes[0], RebalanceInProgressError)
