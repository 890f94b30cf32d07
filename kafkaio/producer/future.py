"""What ``send()`` hands back: a small awaitable per record over one future per batch.

A full ``asyncio.Future`` per record costs a few microseconds and a callback list; the producer
instead keeps one future per batch, resolved with ``(base_offset, log_append_time_ms)`` or an
exception, and gives each record a :class:`RecordFuture` of three slots (the batch, the record's
offset delta and its timestamp). Awaiting it waits on the batch future and derives the record's
:class:`RecordMetadata`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generator, NamedTuple

if TYPE_CHECKING:
    from kafkaio.producer.accumulator import ProducerBatch

__all__ = ["RecordMetadata", "RecordFuture", "ManyFuture", "CREATE_TIME", "LOG_APPEND_TIME"]

CREATE_TIME = 0
LOG_APPEND_TIME = 1


class RecordMetadata(NamedTuple):
    """Where a record was written: its topic, partition and offset, and its timestamp.

    ``offset`` is -1 when it is unknown (``acks=0``, or a retry the broker recognised as a duplicate
    of an earlier write without telling the offset). ``timestamp`` is the record's create time, or the
    broker's log append time when the topic uses ``message.timestamp.type=LogAppendTime``
    (``timestamp_type`` then is 1).
    """

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int = CREATE_TIME


def _follow_split(batch: ProducerBatch, delta: int) -> tuple[ProducerBatch, int]:
    # a rare path (kafkaio.producer.split), imported late: that module imports the accumulator
    from kafkaio.producer.split import follow_split
    return follow_split(batch, delta)


def _metadata(batch: ProducerBatch, delta: int, timestamp: int) -> RecordMetadata:
    base_offset, log_append_time = batch.future.result()
    if base_offset == -2:  # the batch was split after MESSAGE_TOO_LARGE: the record is in a part
        batch, delta = _follow_split(batch, delta)
        base_offset, log_append_time = batch.future.result()
    offset = base_offset + delta if base_offset >= 0 else -1
    if log_append_time >= 0:
        return RecordMetadata(batch.topic, batch.partition, offset, log_append_time, LOG_APPEND_TIME)
    return RecordMetadata(batch.topic, batch.partition, offset, timestamp, CREATE_TIME)


class RecordFuture:
    """The delivery of one record: ``await`` it for :class:`RecordMetadata` or a typed error.

    Offers the parts of the ``asyncio.Future`` API that users rely on: ``done()``, ``result()``,
    ``exception()``, ``add_done_callback(fn)`` (``fn`` receives this object).
    """

    __slots__ = ("_batch", "_delta", "_timestamp")

    def __init__(self, batch: ProducerBatch, delta: int, timestamp: int) -> None:
        self._batch = batch
        self._delta = delta
        self._timestamp = timestamp

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        fut = self._batch.future
        if not fut.done():
            yield from fut
        return _metadata(self._batch, self._delta, self._timestamp)

    def done(self) -> bool:
        """True once the record was delivered or failed."""
        return self._batch.future.done()

    def cancelled(self) -> bool:
        """Always False: a record handed to the producer cannot be cancelled."""
        return False

    def result(self) -> RecordMetadata:
        """The metadata; raises the delivery error, or ``asyncio.InvalidStateError`` if pending."""
        return _metadata(self._batch, self._delta, self._timestamp)

    def exception(self) -> BaseException | None:
        """The delivery error, None on success; ``asyncio.InvalidStateError`` while pending."""
        fut = self._batch.future
        exc = fut.exception()
        if exc is None and fut.result()[0] == -2:  # split after MESSAGE_TOO_LARGE
            return _follow_split(self._batch, self._delta)[0].future.exception()
        return exc

    def add_done_callback(self, fn: Callable[[RecordFuture], Any]) -> None:
        """Call ``fn(self)`` once the record's delivery is decided."""
        self._batch.future.add_done_callback(lambda _f: fn(self))

    @property
    def topic(self) -> str:
        return self._batch.topic

    @property
    def partition(self) -> int:
        return self._batch.partition

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<RecordFuture {self._batch.topic}-{self._batch.partition} delta={self._delta} {state}>"


class ManyFuture:
    """The delivery of the records of one ``send_many`` call, in input order.

    Holds runs ``[batch, first offset delta, count]`` rather than one object per record.
    ``await`` returns ``list[RecordMetadata]``; if any record failed, the first error is raised after
    every batch involved has completed (so no failure goes unobserved).
    """

    __slots__ = ("_runs", "_timestamp")

    def __init__(self, runs: list[list], timestamp: int) -> None:
        self._runs = runs
        self._timestamp = timestamp

    def _batches(self) -> list[ProducerBatch]:
        seen: dict[int, ProducerBatch] = {}
        for run in self._runs:
            seen.setdefault(id(run[0]), run[0])
        return list(seen.values())

    def __await__(self) -> Generator[Any, None, list[RecordMetadata]]:
        batches = self._batches()
        for batch in batches:
            fut = batch.future
            if not fut.done():
                try:
                    yield from fut
                except Exception:  # noqa: BLE001 - raised below, after all batches completed
                    pass
        for batch in batches:
            exc = batch.future.exception()
            if exc is not None:
                raise exc
        ts = self._timestamp
        return [_metadata(b, d, ts) for b, first, count in self._runs for d in range(first, first + count)]

    def done(self) -> bool:
        """True once every record's delivery is decided."""
        return all(b.future.done() for b in self._batches())

    def __len__(self) -> int:
        return sum(run[2] for run in self._runs)
