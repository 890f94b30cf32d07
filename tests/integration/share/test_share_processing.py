"""``processing()`` and ``process_concurrently`` against a Kafka 4.4 broker: accept on success,
release on an exception or a cancellation, reject after N deliveries, the lock renewed while a body
outlasts it, and a bounded number of records in flight."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio import ShareConsumer, ShareConsumerRecord, TopicPartition
from kafkaio.errors import InvalidRecordStateError, KafkaError
from kafkaio.share.processing import process_concurrently

from share_helpers import LOCK_DURATION_MS, left_over, poll_until, produce

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


class Boom(Exception):
    pass


def _explicit(bootstrap: str, topic: str, group: str, **kw: object) -> ShareConsumer:
    return ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group, share_acknowledgement_mode="explicit",
                         **kw)  # type: ignore[arg-type]


async def test_success_accepts_and_an_exception_releases_then_rejects_after_n(share_bootstrap: str,
                                                                              share_topic: str, share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 2)
    async with _explicit(share_bootstrap, share_topic, group, max_poll_records=1) as consumer:
        deliveries: list[tuple[int, int, int]] = []
        while len(deliveries) < 3:
            for r in await poll_until(consumer, 1):
                deliveries.append((r.partition, r.offset, r.delivery_count))
                if r.partition == 0:
                    async with consumer.processing(r):
                        pass
                    continue
                with pytest.raises(Boom):
                    async with consumer.processing(r, reject_after=2):
                        raise Boom()
        await consumer.commit()
    # partition 0's record accepted at once; partition 1's released once, then rejected at delivery 2
    assert sorted(deliveries) == [(0, 0, 1), (1, 0, 1), (1, 0, 2)]
    assert await left_over(share_bootstrap, share_topic, group) == []


async def test_a_cancelled_body_releases_its_record(share_bootstrap: str, share_topic: str, share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 1)
    started = asyncio.Event()
    async with _explicit(share_bootstrap, share_topic, group) as consumer:
        (record,) = await poll_until(consumer, 1)

        async def body(r: ShareConsumerRecord) -> None:
            async with consumer.processing(r):
                started.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(body(record))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await consumer.commit()
        (again,) = await poll_until(consumer, 1)
        assert (again.offset, again.delivery_count) == (record.offset, 2)
        async with consumer.processing(again):
            pass


async def _outlast_the_lock(bootstrap: str, topic: str, group: str, renew_interval_ms: int
                            ) -> tuple[ShareConsumerRecord, dict[TopicPartition, KafkaError | None]]:
    """Process one record for two and a half lock durations; the record and the commit's outcome."""
    async with _explicit(bootstrap, topic, group, max_poll_records=1) as worker:
        (record,) = await poll_until(worker, 1)
        assert worker.acquisition_lock_timeout_ms == LOCK_DURATION_MS
        async with worker.processing(record, renew_interval_ms=renew_interval_ms):
            await asyncio.sleep(LOCK_DURATION_MS * 5 / 2 / 1000)
        return record, await worker.commit()


async def test_a_long_body_keeps_its_record_by_renewing_the_lock(share_bootstrap: str, share_topic: str,
                                                                 share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 1)
    record, results = await _outlast_the_lock(share_bootstrap, share_topic, group, LOCK_DURATION_MS // 4)
    assert results == {TopicPartition(share_topic, record.partition): None}
    assert await left_over(share_bootstrap, share_topic, group) == []


async def test_without_renewal_the_lock_expires_and_the_late_accept_is_refused(share_bootstrap: str,
                                                                               share_topic: str, share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 1)
    record, results = await _outlast_the_lock(share_bootstrap, share_topic, group, LOCK_DURATION_MS * 10)
    assert isinstance(results[TopicPartition(share_topic, record.partition)], InvalidRecordStateError)
    (again,) = await left_over(share_bootstrap, share_topic, group)
    assert (again.partition, again.offset, again.delivery_count) == (record.partition, record.offset, 2)


async def test_process_concurrently_bounds_the_records_in_flight_and_redelivers_failures(
        share_bootstrap: str, share_topic: str, share_group) -> None:
    group = await share_group()
    values = await produce(share_bootstrap, share_topic, 40)
    in_flight = 0
    most_in_flight = 0
    done: set[bytes] = set()
    failed_once: set[bytes] = set()
    all_done = asyncio.Event()

    async def handler(r: ShareConsumerRecord) -> None:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        try:
            await asyncio.sleep(0.02)
            if r.offset % 5 == 0 and r.delivery_count == 1:
                failed_once.add(r.value)
                raise Boom()
            done.add(r.value)
            if len(done) == len(values):
                all_done.set()
        finally:
            in_flight -= 1

    consumer = _explicit(share_bootstrap, share_topic, group)
    await consumer.start()
    try:
        worker = asyncio.create_task(process_concurrently(consumer, handler, concurrency=4))
        await asyncio.wait_for(all_done.wait(), 90)
        await consumer.commit()
    finally:
        await consumer.close()
    await asyncio.wait_for(worker, 30)
    assert done == set(values) and most_in_flight == 4
    assert len(failed_once) == 8  # offsets 0 and 5 of each partition's 20
    assert await left_over(share_bootstrap, share_topic, group) == []


async def test_the_share_worker_example_runs(share_bootstrap: str, share_topic: str) -> None:
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = dict(os.environ, KAFKAIO_BOOTSTRAP=share_bootstrap, JOBS_TOPIC=share_topic, PYTHONPATH=str(root),
               PYTHONUNBUFFERED="1")
    proc = await asyncio.create_subprocess_exec(sys.executable, str(root / "examples" / "share_worker.py"), env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0 and "every job done: True" in out.decode(), out.decode()
