"""Retries against a real broker: a handler that fails the first k times per record ends every
record exactly once in success or in the dead-letter topic; a record read from a retry topic is
never handled before the due time in its header; dead-letter records carry the documented headers."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest

import kafkaio
from kafkaio.processing import Processor, RetryPolicy
from kafkaio.processing import dead_letter as h

from processing_helpers import consumer_for

pytestmark = pytest.mark.integration

N = 240
IN_PLACE = 2
DELAYS_MS = (700, 1200)
TRIES = IN_PLACE * (1 + len(DELAYS_MS))     # before the dead-letter topic


class Flaky(Exception):
    pass


def failures_of(ident: int) -> int:
    """Record ``ident`` fails this many times before it succeeds (some never within TRIES)."""
    return ident % (TRIES + 2)


@pytest.mark.slow
async def test_fail_k_times_ends_in_success_or_dead_letter_exactly_once(bootstrap_servers: str,
                                                                        topic_factory) -> None:
    topic = await topic_factory(partitions=3)
    for n in range(1, len(DELAYS_MS) + 1):
        await topic_factory(partitions=2, name=f"{topic}-retry-{n}")
    await topic_factory(partitions=1, name=f"{topic}-dlt")
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as producer:
        sent = await (await producer.send_many(topic, [(f"k{i % 7}".encode(), str(i).encode()) for i in range(N)]))
    where = {i: (md.partition, md.offset) for i, md in enumerate(sent)}

    calls: dict[int, int] = {}
    succeeded: list[int] = []
    early: list[str] = []

    async def handler(record: kafkaio.ConsumerRecord) -> None:
        now_ms = time.time() * 1000
        ident = int(record.value)
        due = dict(record.headers).get(h.DUE_MS)
        if record.topic != topic:
            assert due is not None, "a retry-topic record without a due time"
            if now_ms < int(due):
                early.append(f"{ident} handled {int(due) - now_ms:.0f} ms before due")
        calls[ident] = calls.get(ident, 0) + 1
        if calls[ident] <= failures_of(ident):
            raise Flaky(f"record {ident} attempt {calls[ident]}")
        succeeded.append(ident)

    expect_dead = {i for i in range(N) if failures_of(i) >= TRIES}
    policy = RetryPolicy(attempts=IN_PLACE, retry_backoff_ms=5, retry_topic_delays_ms=DELAYS_MS,
                         retriable=lambda exc: isinstance(exc, Flaky))
    group = f"retry-{uuid.uuid4().hex[:8]}"
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as producer, \
            consumer_for(bootstrap_servers, group, metadata_max_age_ms=1000) as consumer:
        async with Processor(consumer, handler, topics=[topic], retry=policy, producer=producer) as proc:
            runner = asyncio.create_task(proc.run())
            deadline = time.monotonic() + 120
            while len(succeeded) + proc.metrics().dead_letter_total < N and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await proc.stop()
            await runner
        metrics = proc.metrics()

    dead: dict[int, dict[str, bytes]] = {}
    async with consumer_for(bootstrap_servers, f"{group}-check") as reader:
        reader.subscribe([f"{topic}-dlt"])
        while len(dead) < len(expect_dead):
            for records in (await reader.getmany(timeout_ms=2000)).values():
                for r in records:
                    ident = int(r.value)
                    assert ident not in dead, f"{ident} dead-lettered twice"
                    dead[ident] = {k: v for k, v in r.headers}
    assert not early, early[:5]
    assert sorted(succeeded) == sorted(set(succeeded)), "a record succeeded twice"
    assert set(succeeded) == set(range(N)) - expect_dead
    assert set(dead) == expect_dead
    for ident in range(N):
        assert calls[ident] == min(failures_of(ident) + 1, TRIES), ident
    assert metrics.dead_letter_total == len(expect_dead)
    assert metrics.retries_in_place_total > 0 and metrics.retry_topic_sends_total > 0
    for ident, headers in dead.items():
        partition, offset = where[ident]
        assert headers[h.ORIGINAL_TOPIC] == topic.encode()
        assert headers[h.ORIGINAL_PARTITION] == str(partition).encode()
        assert headers[h.ORIGINAL_OFFSET] == str(offset).encode()
        assert headers[h.ATTEMPTS] == str(TRIES).encode()
        assert headers[h.EXCEPTION_TYPE] == f"{Flaky.__module__}.Flaky".encode()
        assert headers[h.EXCEPTION_MESSAGE] == f"record {ident} attempt {TRIES}".encode()
        assert b"raise Flaky" in headers[h.EXCEPTION_TRACEBACK]
