"""The produce runs of the many-partitions and headers scenarios against the broker: every record
a keyed run sends carries one of the scenario's keys, each key in one partition only; every record
of a headers run carries the scenario's headers."""
from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest

from benchmarks.runner import run_job
from benchmarks.settings import Job, headers, keys
from kafkaio import Consumer, TopicPartition

RECORDS = 400
KEYS = 16
PARTITIONS = 12


RUNNERS = [("kafkaio", "send", "kafkaio"), ("aiokafka", "send", "aiokafka"),
           ("confluent", "produce", "confluent_kafka"), ("franz-go", "Produce", None)]


def _require(needs: str | None) -> None:
    if needs is None:
        if shutil.which("go") is None:
            pytest.skip("no Go toolchain")
    else:
        pytest.importorskip(needs)


async def _run_and_read(job: Job) -> list[tuple[bytes | None, int, list[tuple[str, bytes]]]]:
    """Run ``job``, then read its topic back: (key, partition, headers) of every record, the
    warm-up record (no key, no headers) first."""
    outcome = await asyncio.to_thread(run_job, job)
    assert outcome.ok, outcome.error
    consumer = Consumer(bootstrap_servers=job.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(job.topic, p) for p in range(job.partitions)])
        seen: list[tuple[bytes | None, int, list[tuple[str, bytes]]]] = []
        while len(seen) < job.records + 1:
            for tp, recs in (await consumer.getmany(timeout_ms=1000)).items():
                seen += [(r.key, tp.partition, [(h[0], bytes(h[1] or b"")) for h in (r.headers or ())]) for r in recs]
    finally:
        await consumer.stop()
    assert len(seen) == job.records + 1
    return seen


@pytest.mark.parametrize(("client", "api", "needs"), RUNNERS)
async def test_keyed_runner_sends_every_record_with_a_key_one_partition_per_key(
        client: str, api: str, needs: str | None, bootstrap_servers: str,
        topic_factory: Callable[..., Awaitable[str]]) -> None:
    _require(needs)
    topic = await topic_factory(partitions=PARTITIONS)
    seen = await _run_and_read(Job(client=client, scenario="produce", api=api, bootstrap=bootstrap_servers,
                                   topic=topic, records=RECORDS, partitions=PARTITIONS, keys=KEYS, timeout_s=120))
    keyed = [(k, p) for k, p, _ in seen if k is not None]
    assert len(keyed) == RECORDS
    assert {k for k, _ in keyed} == set(keys(KEYS))
    partition_of: dict[bytes, set[int]] = {}
    for k, p in keyed:
        partition_of.setdefault(k, set()).add(p)
    assert all(len(ps) == 1 for ps in partition_of.values())


@pytest.mark.parametrize(("client", "api", "needs"), [*RUNNERS, ("kafkaio", "send_many", "kafkaio")])
async def test_headers_runner_sends_the_headers_on_every_record(
        client: str, api: str, needs: str | None, bootstrap_servers: str,
        topic_factory: Callable[..., Awaitable[str]]) -> None:
    _require(needs)
    topic = await topic_factory(partitions=6)
    seen = await _run_and_read(Job(client=client, scenario="produce", api=api, bootstrap=bootstrap_servers,
                                   topic=topic, records=RECORDS, headers=2, timeout_s=120))
    with_headers = [h for _, _, h in seen if h]
    assert len(with_headers) == RECORDS
    assert all(h == headers(2) for h in with_headers)
