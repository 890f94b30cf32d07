"""The keyed produce runs of the many-partitions scenario against the broker: every record the
runner sends carries one of the scenario's keys, and each key lands in one partition only."""
from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest

from benchmarks.runner import run_job
from benchmarks.settings import Job, keys
from kafkaio import Consumer, TopicPartition

RECORDS = 400
KEYS = 16
PARTITIONS = 12


@pytest.mark.parametrize(("client", "api", "needs"), [
    ("kafkaio", "send", "kafkaio"), ("aiokafka", "send", "aiokafka"), ("confluent", "produce", "confluent_kafka"),
    ("franz-go", "Produce", None)])
async def test_keyed_runner_sends_every_record_with_a_key_one_partition_per_key(
        client: str, api: str, needs: str | None, bootstrap_servers: str,
        topic_factory: Callable[..., Awaitable[str]]) -> None:
    if needs is None:
        if shutil.which("go") is None:
            pytest.skip("no Go toolchain")
    else:
        pytest.importorskip(needs)
    topic = await topic_factory(partitions=PARTITIONS)
    job = Job(client=client, scenario="produce", api=api, bootstrap=bootstrap_servers, topic=topic,
              records=RECORDS, partitions=PARTITIONS, keys=KEYS, timeout_s=120)
    outcome = await asyncio.to_thread(run_job, job)
    assert outcome.ok, outcome.error
    consumer = Consumer(bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        seen: list[tuple[bytes | None, int]] = []
        while len(seen) < RECORDS + 1:  # the warm-up record (no key), then the measured ones
            for tp, recs in (await consumer.getmany(timeout_ms=1000)).items():
                seen += [(r.key, tp.partition) for r in recs]
    finally:
        await consumer.stop()
    keyed = [(k, p) for k, p in seen if k is not None]
    assert len(keyed) == RECORDS
    assert {k for k, _ in keyed} == set(keys(KEYS))
    partition_of: dict[bytes, set[int]] = {}
    for k, p in keyed:
        partition_of.setdefault(k, set()).add(p)
    assert all(len(ps) == 1 for ps in partition_of.values())
