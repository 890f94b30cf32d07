"""Fake-broker twin of tests/integration/consumer/test_commit_safety.py's first scenario (issue
18.1): a member's commit is lost and retried after its partition moved to another member, which
committed further; the retry must not rewind the new owner's committed offset.

The fake runs the group coordinator's generation checks (groups.py), so a stale commit is refused
as Kafka refuses it; the committed offsets are read from the fake's own state, not via the client.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import CommitFailedError, RebalanceInProgressError
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.fake import DROP, FakeCluster, RequestInfo

SETTINGS = dict(heartbeat_interval_ms=20, session_timeout_ms=10000, enable_auto_commit=False,
                auto_offset_reset="earliest", fetch_max_wait_ms=10, retry_backoff_ms=10)


async def poll_until(c: Consumer, done: Callable[[], bool]) -> None:
    """Poll ``c`` (its records are dropped) until ``done()``."""
    while not done():
        await c.getmany(timeout_ms=20)


async def poll_in_background(c: Consumer, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await c.getmany(timeout_ms=20)


async def test_a_retried_commit_never_rewinds_the_partition_new_owner() -> None:
    tps = [TP("t", 0), TP("t", 1)]
    async with FakeCluster(topics={"t": 2}) as fake:
        def committed() -> dict[TP, int | None]:
            stored = fake.state.committed.get("g", {})
            return {tp: stored[(tp.topic, tp.partition)][0] if (tp.topic, tp.partition) in stored else None
                    for tp in tps}

        a = Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", client_id="A",
                     partition_assignment_strategy="cooperative-sticky", request_timeout_ms=1500,
                     **SETTINGS)
        b = Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", client_id="B",
                     partition_assignment_strategy="cooperative-sticky", **SETTINGS)
        stop = asyncio.Event()
        await a.start()
        await b.start()
        try:
            a.subscribe(["t"])
            await poll_until(a, lambda: a.assignment() == set(tps))
            # Every OffsetCommit is lost until B has its partition: A's commit is retried (at its
            # request timeout, or at once when a later answer on its connection shows the loss)
            # until the rebalance has moved a partition away from it.
            losing = [True]
            dropped = asyncio.Event()

            def lose_commits(info: RequestInfo, body: dict[str, Any]) -> object:
                if losing[0]:
                    dropped.set()
                    return DROP
                return None

            fake.control(ApiKey.OFFSET_COMMIT, lose_commits, persistent=True)
            a_commit = asyncio.get_running_loop().create_task(a.commit({tp: 50 for tp in tps}))
            await dropped.wait()

            b.subscribe(["t"])
            a_polls = asyncio.get_running_loop().create_task(poll_in_background(a, stop))
            await poll_until(b, lambda: len(b.assignment()) == 1 and len(a.assignment()) == 1)
            (moved,) = b.assignment()
            (kept,) = a.assignment()
            losing[0] = False
            await b.commit({moved: 100})
            assert committed()[moved] == 100

            with pytest.raises((CommitFailedError, RebalanceInProgressError)):
                await a_commit
            after = committed()
            assert after[moved] == 100, "A's stale retry rewound the new owner's committed offset"
            assert after[kept] is None, "a failed commit must commit nothing"
            stop.set()
            await a_polls
        finally:
            stop.set()
            await a.stop()
            await b.stop()
