"""Splitting a batch the broker refused with MESSAGE_TOO_LARGE into smaller batches.

The broker checks a batch against the topic's ``max.message.bytes`` as a whole, so one oversized
record takes every record that happened to share its batch down with it. Like the Java producer,
the sender then splits the refused batch (it was not written) and sends the parts again, in order,
at the front of the partition's queue; only a single-record batch that is still too large fails.

The batch keeps only its built bytes, so the records are decoded back from them (a rare path). A
batch is split into two halves of (about) equal record counts: a half that is still too large is
split again, so an oversized record ends up alone after ``log2(records)`` rounds. (Splitting by
``batch_size`` would not terminate when ``batch_size`` is above the topic limit.)

Each record's future keeps pointing at the original batch: :func:`split_batch` records, per offset
delta, the part and the delta within it (``ProducerBatch.split_parts``); when every part is done
the original batch's future resolves with :data:`SPLIT_BASE_OFFSET` and the record futures follow
``split_parts`` to their part (:func:`follow_split`, in ``kafkaio._speedups.delivery`` beside
``record_metadata``, which both speedup twins share).
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from kafkaio._speedups.delivery import SPLIT_BASE_OFFSET, follow_split
from kafkaio.producer.accumulator import ProducerBatch

if TYPE_CHECKING:
    from kafkaio.records import BatchBuilder
    from kafkaio._speedups._records import Header

__all__ = ["SPLIT_BASE_OFFSET", "split_batch", "follow_split", "when_parts_done"]


def split_batch(batch: ProducerBatch, new_builder: Callable[[], BatchBuilder]) -> list[ProducerBatch]:
    """Re-encode the records of ``batch`` (more than one) into two parts, in order.

    The parts keep their builders (the caller builds them, with sequences when idempotent) and their
    futures are new; ``batch.split_parts`` maps each record of ``batch`` to its part. ``batch``'s own
    future is left pending (the caller resolves it once every part is done).
    """
    from kafkaio.records import read_batches

    assert batch.data is not None
    records = [r for b in read_batches(batch.data, check_crcs=False)
               for r in b.records(batch.topic, batch.partition)]
    if len(records) < 2:
        raise ValueError(f"cannot split a batch of {len(records)} record(s)")
    half = len(records) // 2
    loop = batch.future.get_loop()
    mapping: list[tuple[ProducerBatch, int]] = []
    parts: list[ProducerBatch] = []
    for chunk in (records[:half], records[half:]):
        builder = new_builder()
        part = ProducerBatch(batch.topic, batch.partition, builder, loop.create_future(),
                             batch.created_ms, 0.0, 0)
        part.deadline_ms = batch.deadline_ms  # the records' delivery timeout keeps running
        for r in chunk:
            delta = _append_unbounded(builder, r.timestamp, r.key, r.value, r.headers)
            mapping.append((part, delta))
        part.record_count = builder.record_count
        part.last_error = batch.last_error
        parts.append(part)
    batch.untracked.track_all()  # its records now reach the parts' futures (waiters, errors)
    batch.split_parts = mapping
    return parts


def _append_unbounded(builder: BatchBuilder, timestamp: int, key: bytes | None, value: bytes | None,
                      headers: list[Header] | None) -> int:
    delta: int = builder.append(timestamp, key, value, headers)
    if delta < 0:
        # cannot happen: a part holds a subset of records that fitted one batch of the same builder
        raise ValueError("the batch builder refused a record while splitting a batch")
    return delta


def when_parts_done(parts: list[ProducerBatch], done: Callable[[], None]) -> None:
    """Call ``done()`` once every part's future is resolved (success or failure)."""
    remaining = [len(parts)]

    def one_done(_f: asyncio.Future[tuple[int, int]]) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done()

    for p in parts:
        p.future.add_done_callback(one_done)
