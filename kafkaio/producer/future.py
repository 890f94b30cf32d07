"""What ``send()`` hands back: a small awaitable per record over one future per batch.

A full ``asyncio.Future`` per record costs a few microseconds and a callback list; the producer
instead keeps one future per batch, resolved with ``(base_offset, log_append_time_ms)`` or an
exception, and gives each record a :class:`RecordFuture` of three slots (the batch, the record's
offset delta and its timestamp). Awaiting it waits on the batch future and derives the record's
:class:`RecordMetadata`.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable, Generator

from kafkaio._speedups import load as _load_speedups
from kafkaio.structs import CREATE_TIME, LOG_APPEND_TIME, RecordMetadata

from kafkaio._speedups.delivery import SPLIT_BASE_OFFSET, DeliveryBatch, follow_split

__all__ = ["RecordMetadata", "RecordFuture", "ManyFuture", "Run", "OpenBatch", "PartitionAppender", "UntrackedFutures", "CREATE_TIME", "LOG_APPEND_TIME",
           "now_ms", "try_append"]

# The per-record awaitable and the metadata derivation live in the speedups (compiled, or the
# pure twin kafkaio/_speedups/producer_py.py): they run once per record.
_impl = _load_speedups("producer")
if TYPE_CHECKING:  # both twins have this interface; the stub (_producer.pyi) describes it
    from kafkaio._speedups._producer import BatchWaiter as BatchWaiter
    from kafkaio._speedups._producer import OpenBatch as OpenBatch
    from kafkaio._speedups._producer import PartitionAppender as PartitionAppender
    from kafkaio._speedups._producer import RecordFuture as RecordFuture
    from kafkaio._speedups._producer import Run as Run
    from kafkaio._speedups._producer import UntrackedFutures as UntrackedFutures
    from kafkaio._speedups._producer import batch_position as batch_position
    from kafkaio._speedups._producer import try_append as try_append
else:
    RecordFuture = _impl.RecordFuture
    batch_position = _impl.batch_position  # which batch and offset delta a record future stands for
    try_append = _impl.try_append
    PartitionAppender = _impl.PartitionAppender  # the one append path (the accumulator owns it)
    OpenBatch = _impl.OpenBatch  # the accumulator's batch base: what the append path reads of it
    BatchWaiter = _impl.BatchWaiter  # what an awaiting task waits on: a caller's cancel stays its own
    Run = _impl.Run  # consecutive records of one send_many call in one batch
    UntrackedFutures = _impl.UntrackedFutures  # a batch's record futures left out of the cyclic GC
_runs_metadata: Callable[[list[Run], int], list[RecordMetadata]] = _impl.runs_metadata
now_ms: Callable[[], int] = _impl.now_ms  # a record's create time when none is given


class ManyFuture:
    """The delivery of the records of one ``send_many`` call, in input order.

    Holds :class:`Run` objects rather than one object per record.
    ``await`` returns ``list[RecordMetadata]``; if any record failed, the first error is raised after
    every batch involved has completed (so no failure goes unobserved).
    """

    __slots__ = ("_runs", "_timestamp")

    def __init__(self, runs: list[Run], timestamp: int) -> None:
        self._runs = runs
        self._timestamp = timestamp

    def _batches(self) -> list[DeliveryBatch]:
        seen: dict[int, DeliveryBatch] = {}
        for run in self._runs:
            seen.setdefault(id(run.batch), run.batch)
        return list(seen.values())

    def __await__(self) -> Generator[Any, None, list[RecordMetadata]]:
        for batch in self._batches():
            fut = batch.future
            if not fut.done():  # a split batch is decided once all its parts are
                batch.untracked.track_all()  # the waiting task is about to be kept by the batch
                yield BatchWaiter(fut)  # woken once the batch is decided, whatever its outcome
        exc = self.exception()
        if exc is not None:
            raise exc
        return _runs_metadata(self._runs, self._timestamp)

    def done(self) -> bool:
        """True once every record's delivery is decided."""
        return all(b.future.done() for b in self._batches())

    def exception(self) -> BaseException | None:
        """The error of the first record, in input order, that was not delivered; None if all were
        (without building their metadata); ``asyncio.InvalidStateError`` while some are undecided."""
        if not self.done():  # as a future's: no error is handed out while a record is undecided
            raise asyncio.InvalidStateError("the records' delivery is not decided yet")
        for run in self._runs:
            batch = run.batch
            fut = batch.future
            exc = fut.exception()
            if exc is None and fut.result()[0] == SPLIT_BASE_OFFSET:  # its records are in the parts
                for delta in range(run.first, run.first + run.count):
                    exc = follow_split(batch, delta)[0].future.exception()
                    if exc is not None:
                        break
            if exc is not None:
                batch.untracked.track_all()  # handed out: a frame raising it may hold a record of it
                return exc
        return None

    def __len__(self) -> int:
        return sum(run.count for run in self._runs)
