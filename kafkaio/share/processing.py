"""Per-record processing for share consumers: ``async with consumer.processing(record)`` and a
worker helper running a handler over polled records with a bounded number in flight."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from kafkaio._logthrottle import Throttled
from kafkaio.errors import IllegalStateError, KafkaError, UnsupportedVersionError
from kafkaio.share.records import AcknowledgeType, ShareConsumerRecord

if TYPE_CHECKING:
    from kafkaio.share.consumer import ShareConsumer

log = logging.getLogger(__name__)
_cannot_renew = Throttled(log, interval_s=3600.0)
_renew_failed = Throttled(log)


@asynccontextmanager
async def processing(consumer: ShareConsumer, record: ShareConsumerRecord, *, reject_after: int | None = None,
                     renew_interval_ms: int | None = None) -> AsyncIterator[ShareConsumerRecord]:
    """Acknowledge ``record`` by how the body ends: ACCEPT when it returns, RELEASE when it raises
    or is cancelled (REJECT instead once ``record.delivery_count >= reject_after``). While the body
    runs, the acquisition lock is renewed every ``renew_interval_ms`` (default: half the broker's
    lock duration) where the broker supports RENEW (KIP-1222). Needs explicit acknowledgement mode."""
    if consumer.config.share_acknowledgement_mode != "explicit":
        raise IllegalStateError("processing() needs share_acknowledgement_mode='explicit'")
    if reject_after is not None and reject_after < 1:
        raise ValueError(f"reject_after must be at least 1, got {reject_after}")
    interval_ms = renew_interval_ms or (consumer.acquisition_lock_timeout_ms or 30000) // 2
    renewer = asyncio.get_running_loop().create_task(_renew_forever(consumer, record, interval_ms))
    try:
        yield record
    except BaseException:
        kind = (AcknowledgeType.REJECT if reject_after is not None and record.delivery_count >= reject_after
                else AcknowledgeType.RELEASE)
        await _stop(renewer)
        consumer.acknowledge(record, kind)
        raise
    else:
        await _stop(renewer)
        consumer.acknowledge(record, AcknowledgeType.ACCEPT)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _renew_forever(consumer: ShareConsumer, record: ShareConsumerRecord, interval_ms: int) -> None:
    while True:
        await asyncio.sleep(interval_ms / 1000)
        try:
            await consumer.renew(record)
        except UnsupportedVersionError:
            _cannot_renew.log(logging.INFO, "the broker cannot renew acquisition locks (KIP-1222); %s[%d]@%d "
                              "and others may be redelivered if processing outlasts their lock",
                              record.topic, record.partition, record.offset)
            return
        except KafkaError as exc:
            _renew_failed.log(logging.WARNING, "renewing the lock of %s[%d]@%d failed: %r", record.topic,
                              record.partition, record.offset, exc)


async def process_concurrently(consumer: ShareConsumer,
                               handler: Callable[[ShareConsumerRecord], Awaitable[object]], *,
                               concurrency: int = 10, poll_timeout_ms: int = 1000,
                               reject_after: int | None = None) -> None:
    """Run ``handler`` on every record the consumer acquires, at most ``concurrency`` at once, each
    under :func:`processing` (a handler exception releases its record and is logged). Returns when
    the consumer is closed; cancelling it releases the records in flight."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    slots = asyncio.Semaphore(concurrency)
    handler_failed = Throttled(log)

    async def one(record: ShareConsumerRecord) -> None:
        async with slots:
            try:
                async with processing(consumer, record, reject_after=reject_after):
                    await handler(record)
            except Exception:
                handler_failed.log(logging.ERROR, "handler failed on %s[%d]@%d (delivery %d); released",
                                   record.topic, record.partition, record.offset, record.delivery_count,
                                   exc_info=True)

    while True:
        try:
            batches = await consumer.getmany(timeout_ms=poll_timeout_ms)
        except KafkaError:
            if consumer.closed:
                return
            raise
        if consumer.closed:
            return
        records = [r for rs in batches.values() for r in rs]
        if records:
            await asyncio.gather(*(one(r) for r in records))
