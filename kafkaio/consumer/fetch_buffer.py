"""Completed fetches waiting to be handed out (Java's ``FetchBuffer`` and ``CompletedFetch``).

A partition's part of a Fetch response becomes a :class:`CompletedFetch`: its record batches, not
yet decoded (only their headers were walked, by :func:`read_completed`, which also drops aborted
transactions under read_committed and control batches), or an error to raise once the position
reaches it. The :class:`FetchBuffer` is their only holder: per partition, the completed fetches and
their bytes, and the partitions that have some, in the order they became ready, for the collector
(``fetch_collector.py``) to drain. No I/O: the fetcher fills it, the collector empties it.
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
    from kafkaio.structs import TopicPartition

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


class _Fetched:
    """One partition's completed fetches, oldest first, the bytes of their batches, and the
    partition state they were fetched for."""

    __slots__ = ("state", "chunks", "nbytes")

    def __init__(self, state: PartitionState) -> None:
        self.state = state
        self.chunks: deque[CompletedFetch] = deque()
        self.nbytes = 0


class FetchBuffer:
    """The completed fetches not yet handed out, per partition, and the partitions with some (or
    with an error) in the order the collector hands them out.

    A completed fetch belongs to the partition state it was fetched for (a partition assigned again
    gets a new state) and carries the epoch that state had then. A seek, a reset or a rewind gives
    the state a new epoch, so a completed fetch is current only while its epoch is its state's; the
    stale ones, always in front of the current ones, are dropped here when the partition is next
    looked at (:meth:`peek`, :meth:`buffered_bytes`, :meth:`release_stale`): a seek never reaches
    into the buffer. A method given a state that is not the one the data was fetched for (a state of
    an earlier assignment) sees nothing and drops nothing; :meth:`release_stale`, which knows the
    assignment, releases the data of earlier states. ``records_available`` is set when there is
    something new for the application's readers."""

    def __init__(self) -> None:
        self._fetched: dict[TopicPartition, _Fetched] = {}
        self._ready: deque[PartitionState] = deque()
        self.records_available = asyncio.Event()

    # -- filling (the fetcher) ----------------------------------------------------------------------

    def add(self, st: PartitionState, completed: CompletedFetch) -> None:
        """Queue ``completed`` behind what ``st`` already holds."""
        fetched = self._fetched.get(st.tp)
        if fetched is None or fetched.state is not st:
            fetched = self._fetched[st.tp] = _Fetched(st)   # an earlier state's data is released
        fetched.chunks.append(completed)
        fetched.nbytes += completed.nbytes
        self._ready.append(st)

    def stop_at(self, st: PartitionState, offset: int, error: KafkaError | None) -> None:
        """Queue ``error`` (None: OFFSET_OUT_OF_RANGE) behind the buffered records of ``st``, for
        when its position reaches ``offset``; fetch no more of ``st`` until then."""
        completed = CompletedFetch(deque(), offset, 0, st.epoch)
        completed.error = error
        completed.out_of_range = error is None
        self.add(st, completed)
        # None stops fetching (not ``fetchable``); a seek, reset, pause or the error itself (via
        # rewind) sets it again.
        st.fetch_offset = None
        self.records_available.set()

    def fail(self, st: PartitionState, exc: BaseException) -> None:
        """Raise ``exc`` to the application's next read of ``st``, before its buffered records
        (which are dropped: fetched again from the position)."""
        self.rewind(st)
        st.error = exc
        self._ready.append(st)
        self.records_available.set()

    def buffered_bytes(self, st: PartitionState) -> int:
        """The bytes of the current completed fetches of ``st``."""
        fetched = self._current(st)
        return 0 if fetched is None else fetched.nbytes

    def release_stale(self, assignment: Mapping[TopicPartition, PartitionState],
                      tps: Iterable[TopicPartition] | None = None) -> None:
        """Drop the completed fetches (of ``tps``, or of every partition) that are not current: all
        of a partition no longer assigned, fetched for an earlier state of it, or being revoked
        (which then fetches again from its position, as after :meth:`rewind`); the stale ones of
        the others."""
        for tp in list(self._fetched) if tps is None else tps:
            fetched = self._fetched.get(tp)
            if fetched is None:
                continue
            st = assignment.get(tp)
            if st is None or fetched.state is not st:
                del self._fetched[tp]
            elif st.revoking:
                self.rewind(st)
            else:
                self._current(st)

    # -- draining (the collector) ------------------------------------------------------------------

    def has_records(self) -> bool:
        return bool(self._ready)

    def first_ready(self) -> PartitionState | None:
        """The partition to hand out from next."""
        return self._ready[0] if self._ready else None

    def unready(self) -> None:
        """The first ready partition has nothing more to hand out for now."""
        self._ready.popleft()

    def requeue(self) -> None:
        """The first ready partition goes behind the others (round-robin, as the Java client)."""
        self._ready.rotate(-1)

    def peek(self, st: PartitionState) -> CompletedFetch | None:
        """The oldest current completed fetch of ``st``, or None."""
        fetched = self._fetched.get(st.tp)
        if fetched is None or fetched.state is not st:
            return None
        chunk = fetched.chunks[0]
        if chunk.epoch == st.epoch:
            return chunk   # the common case, once per decoded batch: no stale data in front
        fetched = self._current(st)
        return None if fetched is None else fetched.chunks[0]

    def pop(self, st: PartitionState) -> None:
        """The completed fetch :meth:`peek` returned for ``st`` is used up."""
        fetched = self._fetched[st.tp]
        done = fetched.chunks.popleft()
        fetched.nbytes -= done.nbytes
        if not fetched.chunks:
            del self._fetched[st.tp]

    def rewind(self, st: PartitionState) -> None:
        """Drop every completed fetch of ``st``; fetching resumes from its position."""
        if self._holds(st):
            del self._fetched[st.tp]
        st.rewind()

    def resume(self, states: Iterable[PartitionState]) -> None:
        """Hand out again the data prefetched for these partitions before they were paused."""
        ready = self._ready
        for st in states:
            if st not in ready and self._current(st) is not None:
                ready.append(st)

    def discard(self, states: Iterable[PartitionState]) -> None:
        """Drop the buffered data of ``states``; fetching resumes from their positions."""
        for st in states:
            self.rewind(st)
        self._ready = deque(st for st in self._ready if self._holds(st) or st.error is not None)

    def clear(self) -> None:
        """Release every buffered batch now (closing), in plain refcount order: batches hold views
        of fetch responses, and leaving them to the cycle collector (e.g. at interpreter exit) has
        been seen to crash the reader's buffer release."""
        for fetched in self._fetched.values():
            fetched.chunks.clear()
        self._fetched.clear()
        self._ready.clear()

    def _holds(self, st: PartitionState) -> bool:
        fetched = self._fetched.get(st.tp)
        return fetched is not None and fetched.state is st

    def _current(self, st: PartitionState) -> _Fetched | None:
        """What ``st`` holds once the stale completed fetches in front are dropped; None if nothing."""
        fetched = self._fetched.get(st.tp)
        if fetched is None or fetched.state is not st:
            return None
        chunks = fetched.chunks
        epoch = st.epoch
        while chunks[0].epoch != epoch:
            fetched.nbytes -= chunks.popleft().nbytes
            if not chunks:
                del self._fetched[st.tp]
                return None
        return fetched
