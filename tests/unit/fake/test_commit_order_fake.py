"""An older commit that waits to find the group coordinator is never sent after a newer one.

The commit ledger leaves a retry out of partitions a newer commit was asked for; the offsets an
attempt sends must also be read after its last wait, or an attempt that backs off inside the
coordinator lookup writes its older offsets after the newer commit landed (the committed offset
moves backwards). Committed offsets are read from the fake's own state, not through the client.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio.consumer.consumer import Consumer
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.fake import FakeCluster, RequestInfo

TP0 = TP("t", 0)
NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE = 16, 15


def _not_coordinator(info: RequestInfo, body: dict[str, Any]) -> Any:
    return {"topics": [{"name": t["name"], "partitions": [
        {"partition_index": p["partition_index"], "error_code": NOT_COORDINATOR} for p in t["partitions"]]}
        for t in body["topics"]]}


@pytest.mark.parametrize("membership", ["assign", "subscribe"])
async def test_an_older_commit_waiting_for_the_coordinator_never_lands_after_a_newer_one(membership: str) -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        def committed() -> int:
            return int(fake.state.committed["g"][("t", 0)][0])

        settings: dict[str, Any] = dict(bootstrap_servers=fake.bootstrap_servers, group_id="g",
                                        enable_auto_commit=False, retry_backoff_ms=300,
                                        retry_backoff_max_ms=300, heartbeat_interval_ms=3000)
        c = Consumer(*(["t"] if membership == "subscribe" else []), **settings)
        await c.start()
        try:
            if membership == "assign":
                c.assign([TP0])
            while c.assignment() != {TP0}:
                await c.getmany(timeout_ms=20)
            await c.commit({TP0: 10})           # the coordinator is known
            assert committed() == 10
            sent: list[int] = []
            lookups_fail = asyncio.Event()
            lookups_fail.set()
            looked_up = asyncio.Event()

            def record(info: RequestInfo, body: dict[str, Any]) -> None:
                sent.append(body["topics"][0]["partitions"][0]["committed_offset"])

            def coordinator_not_available(info: RequestInfo, body: dict[str, Any]) -> Any:
                if not lookups_fail.is_set():
                    return None
                looked_up.set()
                return {"coordinators": [{"key": "g", "node_id": -1, "host": "", "port": -1,
                                          "error_code": COORDINATOR_NOT_AVAILABLE, "error_message": None}],
                        "error_code": COORDINATOR_NOT_AVAILABLE, "node_id": -1, "host": "", "port": -1}

            fake.control(ApiKey.OFFSET_COMMIT, record, persistent=True)
            fake.control(ApiKey.OFFSET_COMMIT, _not_coordinator)    # the older commit's first attempt
            fake.control(ApiKey.FIND_COORDINATOR, coordinator_not_available, persistent=True)
            older = c.commit_async({TP0: 100})
            # the heartbeat is seconds away: the lookup is the older commit's, which now backs off in it
            await looked_up.wait()
            lookups_fail.clear()
            await c.commit({TP0: 200})          # the newer commit finds the coordinator and lands
            assert committed() == 200
            await older
            assert committed() == 200, f"offsets in the broker's order {sent}: the older commit landed last"
            assert sent[-1] == 200, sent
        finally:
            await c.stop()
