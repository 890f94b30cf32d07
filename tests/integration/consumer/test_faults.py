"""Faults injected for real between the consumer and its broker (our TCP proxy, a restarted broker):
the consumer goes on from where it was, never skipping or repeating a record."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP
from kafkaio.testing.proxy import proxied_cluster

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_cuts_lost_responses_delays_and_a_broker_restart(tmp_path) -> None:
    async with proxied_cluster(1, broker_properties={"group.initial.rebalance.delay.ms": 0}) as (cluster, proxies):
        proxy = proxies[0]
        topic, group = unique(), unique("g")
        per_partition = 1000
        async with RawProducer(cluster.bootstrap_servers) as raw:
            await raw.create_topic(topic, 3)
            await raw.send_numbered(topic, 3, 3 * per_partition, per_batch=20)

        got: dict[int, list[int]] = {0: [], 1: [], 2: []}

        def total() -> int:
            return sum(map(len, got.values()))

        async with kafkaio.Consumer(topic, bootstrap_servers=cluster.bootstrap_servers, group_id=group,
                                    enable_auto_commit=False, auto_offset_reset="earliest",
                                    request_timeout_ms=4000, fetch_max_wait_ms=200,
                                    max_partition_fetch_bytes=4096, session_timeout_ms=30000,
                                    heartbeat_interval_ms=1000, reconnect_backoff_ms=50) as c:
            faults = [
                (300, lambda: proxy.cut()),
                (600, lambda: proxy.drop_responses(2, api_key=ApiKey.FETCH)),
                (900, lambda: proxy.cut_after_requests(2, api_key=ApiKey.FETCH)),
                (1200, lambda: proxy.delay(300)),
                (1400, lambda: proxy.delay(0)),
                (1600, lambda: proxy.drop_responses(1, api_key=ApiKey.OFFSET_COMMIT)),
                (1900, "restart"),
            ]
            deadline = time.monotonic() + 240
            while total() < 3 * per_partition and time.monotonic() < deadline:
                batch = await c.getmany(timeout_ms=500, max_records=50)
                for tp, records in batch.items():
                    got[tp.partition].extend(r.offset for r in records)
                if batch:
                    await c.commit()
                while faults and total() >= faults[0][0]:
                    _, fault = faults.pop(0)
                    if fault == "restart":
                        await asyncio.to_thread(cluster.restart_broker, 0)
                    else:
                        fault()
            assert not faults, "every fault was injected"
            for p in range(3):
                assert got[p] == list(range(per_partition)), f"partition {p}: skipped or repeated records"
                assert (await c.committed(TP(topic, p))).offset == per_partition
