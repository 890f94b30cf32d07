"""The franz-go benchmark runner (benchmarks/franzgo) against the broker: what it says it produced
is in the topic, and it reads back every record with its value. Needs the Go toolchain."""
from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest

from benchmarks.clients import franzgo_bench
from benchmarks.runner import run_job
from benchmarks.settings import Job, ProduceConfig
from kafkaio import Consumer, TopicPartition

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="no Go toolchain")

RECORDS = 3000


async def _end_offsets(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = Consumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def test_franzgo_runner_produces_every_record_and_reads_them_back(
        bootstrap_servers: str, topic_factory: Callable[..., Awaitable[str]]) -> None:
    assert franzgo_bench.unavailable_reason() is None
    topic = await topic_factory(partitions=6)
    job = Job(client="franz-go", scenario="produce", api="Produce", bootstrap=bootstrap_servers,
              topic=topic, records=RECORDS, produce=ProduceConfig(compression_type="lz4"), timeout_s=120)
    produced = await asyncio.to_thread(run_job, job)
    assert produced.ok, produced.error
    assert produced.result["records"] == RECORDS and produced.result["errors"] == 0
    assert produced.maxrss_kb > 0
    # the warm-up record, then the measured ones
    assert await _end_offsets(bootstrap_servers, topic, 6) == RECORDS + 1

    read = await asyncio.to_thread(run_job, Job(
        client="franz-go", scenario="consume", api="PollRecords", bootstrap=bootstrap_servers, topic=topic,
        records=RECORDS + 1, timeout_s=120))
    assert read.ok, read.error
    assert read.result["records"] == RECORDS + 1
    assert read.result["bytes"] == (RECORDS + 1) * job.record_size

