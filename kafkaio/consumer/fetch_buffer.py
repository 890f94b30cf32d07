"""Completed fetches waiting to be handed out (Java's ``FetchBuffer`` and ``CompletedFetch``).

A partition's part of a Fetch response becomes a :class:`CompletedFetch`: its record batches, not
yet decoded (only their headers were walked, by :func:`read_completed`, which also drops aborted
transactions under read_committed and control batches), or an error to raise once the position
reaches it. They wait in the partition's ``buffer`` (its :class:`PartitionState`), and the
:class:`FetchBuffer` keeps the partitions that have some, in the order they became ready, for the
collector (``fetch_collector.py``) to drain. No I/O: the fetcher fills it, the collector empties it.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from kafkaio.errors import CorruptRecordError, KafkaError
from kafkaio.records import read_batches

if TYPE_CHECKING:
    from kafkaio.consumer.subscription import PartitionState
    from kafkaio.records import ConsumerRecord

__all__ = ["CompletedFetch", "FetchBuffer", "FetchedBatches", "read_completed"]


class CompletedFetch:
    """Batches fetched for one partition, decoded one batch at a time as the app consumes."""

    __slots__ = ("batches", "records", "idx", "end_offset", "nbytes", "epoch", "error", "out_of_range")

    def __init__(self, batches: deque[Any], end_offset: int, nbytes: int, epoch: int) -> None:
        self.batches = batches
        self.records: list[ConsumerRecord] = []
        self.idx = 0
        # Where the position goes once the chunk is drained: past trailing control records and
        # aborted batches too, as the Java client's position does.
        self.end_offset = end_offset
        self.nbytes = nbytes
        self.epoch = epoch
        # A record of the last decoded batch that cannot be deserialized: ``records`` stops just
        # before it, and the error is raised once the records before it are handed out.
        self.error: KafkaError | None = None
        # A chunk with no records that stands for OFFSET_OUT_OF_RANGE at ``end_offset``: what it
        # means (reset or error) is decided when the position reaches it.
        self.out_of_range = False


class FetchedBatches(NamedTuple):
    """What :func:`read_completed` found in a partition's records."""

    batches: deque[Any]              # the data batches to hand out, in order
    nbytes: int                      # their size
    next_offset: int                 # the next offset to fetch (past control and aborted batches)
    next_epoch: int                  # the partition leader epoch of the batch before it
    corrupt: CorruptRecordError | None  # a corrupt batch at ``next_offset`` stopped the walk


def read_completed(records: Any, fetch_offset: int, fetch_epoch: int, check_crcs: bool,
                   aborted_transactions: Iterable[Mapping[str, Any]] | None) -> FetchedBatches:
    """Walk the batch headers of a partition's fetched ``records`` from ``fetch_offset``.

    Batches wholly before ``fetch_offset`` (a compressed batch fetched mid-way) and control batches
    are skipped; with ``aborted_transactions`` (read_committed: the response's list of
    ``first_offset``/``producer_id``), so are the batches of aborted transactions, each up to its
    producer's ABORT marker. A corrupt batch ends the walk: the good batches before it are kept."""
    aborted = None
    if aborted_transactions:
        aborted = sorted((a["first_offset"], a["producer_id"]) for a in aborted_transactions)
    batches: deque[Any] = deque()
    nbytes = 0
    next_offset = fetch_offset
    next_epoch = fetch_epoch
    aborted_pids: set[int] = set()
    try:
        for batch in read_batches(records, check_crcs):
            nxt = batch.next_offset
            if nxt <= fetch_offset:
                continue  # wholly before our position (a compressed batch fetched mid-way)
            next_offset = nxt
            next_epoch = batch.partition_leader_epoch
            if aborted is not None:
                while aborted and aborted[0][0] <= batch.last_offset:
                    aborted_pids.add(aborted.pop(0)[1])
                if batch.is_transactional and batch.producer_id in aborted_pids:
                    if batch.is_control:
                        aborted_pids.discard(batch.producer_id)  # the ABORT marker ends it
                    continue
            if batch.is_control:
                continue
            batches.append(batch)
            nbytes += batch.size_in_bytes
    except CorruptRecordError as exc:
        return FetchedBatches(batches, nbytes, next_offset, next_epoch, exc)
    return FetchedBatches(batches, nbytes, next_offset, next_epoch, None)


class FetchBuffer:
    """The partitions with completed fetches (or an error) to hand out, first ready first.

    ``records_available`` is set when there is something new for the application's readers."""

    def __init__(self) -> None:
        self.ready: deque[PartitionState] = deque()
        self.records_available = asyncio.Event()

    def has_records(self) -> bool:
        return bool(self.ready)

    def add(self, st: PartitionState, completed: CompletedFetch) -> None:
        """Queue ``completed`` behind what ``st`` already holds."""
        st.buffer.append(completed)
        st.buffered_bytes += completed.nbytes
        self.ready.append(st)

    def stop_at(self, st: PartitionState, offset: int, error: KafkaError | None) -> None:
        """Queue ``error`` (None: OFFSET_OUT_OF_RANGE) behind the buffered records of ``st``, for
        when its position reaches ``offset``; fetch no more of ``st`` until then."""
        completed = CompletedFetch(deque(), offset, 0, st.epoch)
        completed.error = error
        completed.out_of_range = error is None
        self.add(st, completed)
        # None stops fetching (not ``fetchable``); a seek, reset, pause or the error itself (via
        # drop_buffer) sets it again.
        st.fetch_offset = None
        self.records_available.set()

    def fail(self, st: PartitionState, exc: BaseException) -> None:
        """Raise ``exc`` to the application's next read of ``st``, before its buffered records
        (which are dropped: fetched again from the position)."""
        st.drop_buffer()
        st.error = exc
        self.ready.append(st)
        self.records_available.set()

    def resume(self, states: Iterable[PartitionState]) -> None:
        """Hand out again the data prefetched for these partitions before they were paused."""
        ready = self.ready
        for st in states:
            if st.buffer and st not in ready:
                ready.append(st)

    def discard(self, states: Iterable[PartitionState]) -> None:
        """Drop the buffered data of ``states``; fetching resumes from their positions."""
        for st in states:
            st.drop_buffer()
        self.ready = deque(st for st in self.ready if st.buffer or st.error is not None)

    def clear(self, states: Iterable[PartitionState]) -> None:
        """Release every buffered batch now (closing), in plain refcount order: batches hold views
        of fetch responses, and leaving them to the cycle collector (e.g. at interpreter exit) has
        been seen to crash the reader's buffer release."""
        for st in states:
            st.buffer.clear()
            st.buffered_bytes = 0
        self.ready.clear()
