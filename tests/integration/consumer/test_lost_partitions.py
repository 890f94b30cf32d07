"""A member that loses its partitions (issue 18.2) stops handing out their records at once: nothing
buffered for them is returned by the next getmany(), and on_partitions_lost runs before any further
record is handed out."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration


async def test_after_a_poll_timeout_leave_no_buffered_record_of_the_lost_partitions_is_handed_out(
        proxied_bootstrap, fault_proxy) -> None:
    topic, group = unique(), unique("g")
    async with RawProducer(proxied_bootstrap) as raw:
        await raw.create_topic(topic, 1)
        await raw.send_numbered(topic, 1, 200)
    tp = TP(topic, 0)
    events: list[str] = []

    class Recorder(kafkaio.ConsumerRebalanceListener):
        def on_partitions_assigned(self, assigned):
            events.append("assigned")

        def on_partitions_lost(self, lost):
            events.append("lost")

    async with kafkaio.Consumer(bootstrap_servers=proxied_bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=10,
                                max_poll_interval_ms=1500, rebalance_timeout_ms=10000,
                                heartbeat_interval_ms=200, session_timeout_ms=10000) as c:
        c.subscribe([topic], listener=Recorder())
        deadline = time.monotonic() + WAIT_S
        while not (await c.getmany(timeout_ms=100)).get(tp):
            assert time.monotonic() < deadline, "nothing consumed"
        events.append("records")   # 10 handed out, the rest of the fetch stays buffered

        leaves = fault_proxy.requests_seen[ApiKey.LEAVE_GROUP]
        # Stop polling: after max_poll_interval_ms the member leaves the group.
        await fault_proxy.wait_for_requests(leaves + 1, api_key=ApiKey.LEAVE_GROUP, timeout=WAIT_S)
        while True:
            assert time.monotonic() < deadline + WAIT_S, "no records after rejoining"
            batch = await c.getmany(timeout_ms=100)
            if batch.get(tp):
                events.append("records")
                break
    after_leave = events[events.index("records") + 1:]
    assert after_leave[0] == "lost", f"records of lost partitions handed out before on_partitions_lost: {events}"
