"""The collector (Java's ``FetchCollector``): hands the application the records of the fetch
buffer's completed fetches, moving each partition's position past them.

Records are decoded one batch at a time as they are needed (from a memoryview of the response: no
copy), deserialized once per decoded batch (never per handed-out record, so that a failure stops
the partition in front of the bad record instead of after the whole batch), and handed out
round-robin between partitions, as the Java client does. An error waiting in a completed fetch
(a corrupt batch, an undeserializable record, OFFSET_OUT_OF_RANGE with ``auto_offset_reset=none``)
is raised once the records before it are handed out. No I/O and no awaits: the consumer calls it
from getone()/getmany()/``async for``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kafkaio.consumer.fetch_buffer import CompletedFetch, FetchBuffer
from kafkaio.errors import OffsetOutOfRangeError, SerializationError

if TYPE_CHECKING:
    import asyncio

    from kafkaio.config import ConsumerConfig
    from kafkaio.consumer.subscription import PartitionState, SubscriptionState
    from kafkaio.records import ConsumerRecord
    from kafkaio.structs import TopicPartition

log = logging.getLogger(__name__)

__all__ = ["FetchCollector"]


class FetchCollector:
    """Drains the fetch buffer into records for the application.

    ``wakeup`` tells the fetcher that buffer space was freed (or partitions came back), so that it
    fetches again."""

    def __init__(self, config: ConsumerConfig, subscriptions: SubscriptionState, buffer: FetchBuffer,
                 wakeup: Callable[[], None]) -> None:
        self._subs = subscriptions
        self._buffer = buffer
        self._wakeup = wakeup
        self._cur_chunk: CompletedFetch | None = None     # next_record()'s fast path
        self._cur_state: PartitionState | None = None
        self._key_deserializer = config.key_deserializer
        self._value_deserializer = config.value_deserializer
        self._deserializing = self._key_deserializer is not None or self._value_deserializer is not None
        # kafkaio.metrics: records (and their batches' bytes) handed out, counted per batch as the
        # consumer starts handing it out
        self.records_consumed = 0
        self.bytes_consumed = 0

    @property
    def records_available(self) -> asyncio.Event:
        """Set when the fetch buffer has something new for the application's readers."""
        return self._buffer.records_available

    def has_records(self) -> bool:
        return self._buffer.has_records()

    def close(self) -> None:
        """Forget the batch in progress (the fetcher releases the buffer)."""
        self._cur_chunk = None
        self._cur_state = None

    def next_record(self) -> ConsumerRecord | None:
        """One record for getone()/async for, or None.

        The common case is the cached current chunk: a few attribute checks, no dict, no await.
        """
        chunk = self._cur_chunk
        st = self._cur_state
        if chunk is not None and st is not None:
            i = chunk.idx
            recs = chunk.records
            if i < len(recs) and chunk.epoch == st.epoch and not (st.paused or st.revoking) and st.error is None:
                rec = recs[i]
                chunk.idx = i + 1
                st.position = rec.offset + 1
                st.position_epoch = rec.leader_epoch
                return rec
        self._cur_chunk = None
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        buffer = self._buffer
        while buffer.has_records():
            if self.drain(1, out):
                for tp, records in out.items():
                    st = self._subs.assignment.get(tp)
                    if st is not None and st.error is None:
                        self._cur_state = st
                        self._cur_chunk = buffer.peek(st)
                    return records[0]
        return None

    def drain(self, max_records: int, out: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        """Move up to ``max_records`` buffered records into ``out``; returns how many."""
        total = 0
        buffer = self._buffer
        while total < max_records:
            st = buffer.first_ready()
            if st is None:
                break
            if st.error is not None and (st.revoking or self._subs.assignment.get(st.tp) is not st):
                # the error of a past assignment (revoked, or revoked and assigned again: a new
                # state): it is not the application's any more, as for Java's collector
                st.error = None
                buffer.unready()
                buffer.release_stale(self._subs.assignment, (st.tp,))
                continue
            if st.error is not None:
                if total:
                    break  # give the app what it has; the error comes with the next call
                err, st.error = st.error, None
                buffer.unready()
                raise err
            n = self._drain_partition(st, max_records - total, out)
            total += n
            if st.error is not None:
                continue  # stopped in front of a bad record: raise now, or with the next call
            if n == 0 or buffer.peek(st) is None:
                buffer.unready()
            else:
                buffer.requeue()   # round-robin between partitions, as the Java client does
        if total:
            self._wakeup()
        return total

    def _drain_partition(self, st: PartitionState, budget: int, out: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        assignment = self._subs.assignment
        if st.revoking or assignment.get(st.tp) is not st:
            self._buffer.release_stale(assignment, (st.tp,))
            return 0
        if st.paused:
            return 0  # the prefetched data is kept for resume(), as the Java consumer keeps it
        taken = 0
        buffer = self._buffer
        tp = st.tp
        while (chunk := buffer.peek(st)) is not None:
            recs = chunk.records
            i = chunk.idx
            if i >= len(recs):
                if chunk.error is not None:
                    # Everything before the bad record is handed out; the position is on it. The
                    # prefetched rest is dropped and fetched again from there, so until the app
                    # seeks past it every read fails the same way (as the Java consumer's poll).
                    st.error, chunk.error = chunk.error, None
                    buffer.rewind(st)
                    break
                if chunk.out_of_range:
                    self._out_of_range(st, chunk)
                    break
                if chunk.batches:
                    batch = chunk.batches[0]
                    recs = batch.records(tp.topic, tp.partition)
                    pos = st.position
                    start = 0
                    while start < len(recs) and recs[start].offset < pos:
                        start += 1  # only the first batch after a seek starts before the position
                    if self._deserializing:
                        recs = self._deserialize(chunk, tp, recs, start)
                    self.records_consumed += len(recs) - start
                    self.bytes_consumed += batch.size_in_bytes
                    chunk.batches.popleft()
                    chunk.records = recs
                    chunk.idx = start
                    continue
                buffer.pop(st)
                if st.position is None or st.position < chunk.end_offset:
                    st.position = chunk.end_offset
                continue
            if taken >= budget:
                break
            j = min(len(recs), i + budget - taken)
            part = recs[i:j] if (i or j != len(recs)) else recs
            chunk.idx = j
            last = part[-1]
            st.position = last.offset + 1
            st.position_epoch = last.leader_epoch
            taken += len(part)
            lst = out.get(tp)
            if lst is None:
                out[tp] = part
            else:
                lst.extend(part)
        return taken

    def _deserialize(self, chunk: CompletedFetch, tp: TopicPartition, recs: list[Any], start: int) -> list[Any]:
        """Deserialize ``recs[start:]`` in place; on a failure keep only the records before it and
        leave a :class:`SerializationError` on the chunk."""
        kd, vd = self._key_deserializer, self._value_deserializer
        for i in range(start, len(recs)):
            r = recs[i]
            what = "key_deserializer"
            try:
                if kd is not None:
                    r.key = kd(r.key)
                what = "value_deserializer"
                if vd is not None:
                    r.value = vd(r.value)
            except Exception as exc:  # noqa: BLE001 - any user error becomes a typed one
                err = SerializationError(f"{what} failed for the record at offset {r.offset} of {tp} "
                                         f"({type(exc).__name__}: {exc}); seek to offset {r.offset + 1} "
                                         f"to skip it")
                err.__cause__ = exc
                err.topic_partition = tp
                err.offset = r.offset
                chunk.error = err
                return recs[:i]
        return recs

    def _out_of_range(self, st: PartitionState, chunk: CompletedFetch) -> None:
        """The position reached an OFFSET_OUT_OF_RANGE answer: reset it, or (``none``) raise."""
        offset = chunk.end_offset
        if st.position != offset:
            # not for the position any more (cannot happen while chunks are consumed in order, and
            # a seek makes the chunk stale): forget it and fetch again from the position
            self._buffer.rewind(st)
            return
        reset = self._subs.default_reset
        if reset is None:
            err = OffsetOutOfRangeError(
                f"offset {offset} of {st.tp} is out of range and auto_offset_reset is none")
            err.topic_partition = st.tp
            err.offset = offset
            st.error = err
            self._buffer.rewind(st)   # fetched again, and raised again, until the application seeks
            return
        log.info("offset %s of %s out of range; resetting (auto_offset_reset=%s)", offset, st.tp,
                 self._subs.default_reset_name)
        st.request_reset(reset)

    def resume(self, tps: set[TopicPartition]) -> None:
        """Hand out again the data prefetched for these partitions before they were paused."""
        assignment = self._subs.assignment
        self._buffer.resume(st for tp in tps if (st := assignment.get(tp)) is not None)
        self._wakeup()

    def discard(self, tps: set[TopicPartition] | None = None) -> None:
        """Drop buffered data (after revocation); fetching resumes from the position."""
        self._buffer.discard(st for st in self._subs.assignment.values() if tps is None or st.tp in tps)
        self._wakeup()
