"""The latency scenario's floor runner against the broker: every round trip is an accepted
idempotent Produce (the broker's answer is checked), on asyncio and on uvloop, and the records are
in the log with consecutive offsets."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from benchmarks.clients._common import LATENCY_WARMUP
from benchmarks.runner import run_job
from benchmarks.settings import Job
from kafkaio import Consumer, TopicPartition

SENDS = 300


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_floor_round_trips_are_accepted_produce_requests(
        loop: str, bootstrap_servers: str, topic_factory: Callable[..., Awaitable[str]]) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    topic = await topic_factory(partitions=1)
    job = Job(client="floor", scenario="latency", api="bare Protocol round trip", loop=loop,
              bootstrap=bootstrap_servers, topic=topic, records=SENDS, partitions=1, timeout_s=120)
    outcome = await asyncio.to_thread(run_job, job)
    assert outcome.ok, outcome.error
    assert outcome.result["errors"] == 0
    assert outcome.result["records"] == SENDS
    consumer = Consumer(bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        end = await consumer.position(tp)
    finally:
        await consumer.stop()
    assert end == LATENCY_WARMUP + SENDS  # the warm-up and the measured sends, one record each
