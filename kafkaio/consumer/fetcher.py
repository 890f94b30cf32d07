"""The fetcher: keeps one Fetch in flight per broker it reads from, ahead of the application.

Each broker gets its own loop that sends a Fetch for every fetchable partition read from it
(assigned, positioned, not paused, with less than two ``max_partition_fetch_bytes`` already
buffered), routes the response to the partitions, and immediately sends the next one. So fetching
overlaps with the application's processing (prefetch), bounded to about one fetch's worth per
partition.

A partition is read from its leader, or (KIP-392, with ``client_rack`` set and a rack-aware
``replica.selector.class`` on the brokers) from the replica the leader names in its answer: the
leader then returns no records, only ``preferred_read_replica``. As the Java client does, that
replica is used until ``metadata_max_age_ms`` passes, it leaves the metadata, a fetch from it fails,
or it reports an error for the partition; then the partition goes back to its leader (an
OFFSET_OUT_OF_RANGE from a replica is retried at the leader instead of resetting the position, since
the replica may only be behind).

Responses are not decoded on arrival: only the batch headers are walked (to find the next fetch
offset and, with read_committed, to drop aborted transactions); records are decoded when the
application asks for them, from a memoryview of the response (no copy).

Correctness rules (as the Java client's Fetcher):
- a response is applied only if the partition is still assigned and neither seeked nor reset since
  the request left (``PartitionState.epoch``) and its fetch offset is unchanged;
- an error of a fetch acts on the partition's *position*, the next offset the application gets:
  the records fetched before it are handed out first, then OFFSET_OUT_OF_RANGE resets the position
  by ``auto_offset_reset`` (with ``none``: :class:`OffsetOutOfRangeError` naming the position), and
  other errors, such as a corrupt batch, are raised. Until then the partition fetches no further;
- leadership errors (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, ...) refresh metadata and retry
  from the same offset, so nothing is skipped or repeated.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from kafkaio.consumer.fetch_session import FetchPlan, FetchSession, Wanted, forgotten_body, topics_body
from kafkaio.consumer.offsets import PositionKeeper, current_leader_epoch
from kafkaio.consumer.subscription import PartitionState, SubscriptionState
from kafkaio.errors import (
    CorruptRecordError,
    ErrorCode,
    KafkaError,
    LogTruncationError,
    OffsetOutOfRangeError,
    SerializationError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.records import read_batches
from kafkaio.structs import OffsetAndMetadata, TopicPartition

if TYPE_CHECKING:
    from kafkaio.cluster import Cluster
    from kafkaio.config import ConsumerConfig
    from kafkaio.records import ConsumerRecord

log = logging.getLogger(__name__)

FETCH_MAX_VERSION = 18      # the newest the Java 4.4 client sends
FETCH_TOPIC_ID_VERSION = 13  # from here on topics are named by id (KIP-516)
READ_UNCOMMITTED, READ_COMMITTED = 0, 1
PREFETCH_FETCHES = 2


class _Chunk:
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


class Fetcher:
    """Fetch loops per leader plus the buffer the consumer drains."""

    def __init__(self, cluster: Cluster, config: ConsumerConfig, subscriptions: SubscriptionState,
                 positions: PositionKeeper) -> None:
        self._cluster = cluster
        self._config = config
        self._subs = subscriptions
        self._positions = positions
        self._isolation = READ_COMMITTED if config.isolation_level == "read_committed" else READ_UNCOMMITTED
        self._check_crcs = config.check_crcs
        self._ready: deque[PartitionState] = deque()   # partitions with buffered chunks, FIFO
        self.records_available = asyncio.Event()
        self._wakeup = asyncio.Event()                 # something may have become fetchable
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._backoff_s = config.retry_backoff_ms / 1000.0
        self.fatal_error: BaseException | None = None
        self._sessions: dict[int, FetchSession] = {}   # KIP-227, per broker
        self._use_sessions = True
        self._cur_chunk: _Chunk | None = None     # next_record()'s fast path
        # Applied once per decoded batch (never per handed-out record), so that a failure can stop
        # the partition in front of the bad record instead of after the whole batch.
        self._key_deserializer = getattr(config, "key_deserializer", None)
        self._value_deserializer = getattr(config, "value_deserializer", None)
        self._deserializing = self._key_deserializer is not None or self._value_deserializer is not None
        self._cur_state: PartitionState | None = None
        # kafkaio.metrics: records (and their batches' bytes) handed out, counted per batch as the
        # consumer starts handing it out; fetch responses and their latency summed (seconds)
        self.records_consumed = 0
        self.bytes_consumed = 0
        self.fetch_responses = 0
        self.fetch_latency_total_s = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kafkaio-fetcher")

    async def close(self) -> None:
        self._closed = True
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
        self._in_flight.clear()
        # Release every fetched batch now, in plain refcount order: batches hold views of fetch
        # responses, and leaving them to the cycle collector (e.g. at interpreter exit) has been
        # seen to crash the reader's buffer release.
        self._cur_chunk = None
        self._cur_state = None
        for st in self._subs.assignment.values():
            st.buffer.clear()
            st.buffered_bytes = 0
        self._ready.clear()

    def wakeup(self) -> None:
        self._wakeup.set()

    # -- the loop ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        # Positions are looked up beside the fetches, never before them: only partitions with a
        # position are fetched, and one waiting for its committed offset or reset holds no other.
        positions = self._positions
        changed = self._subs.changed   # a new assignment: look its positions up at once
        while not self._closed:
            self._wakeup.clear()
            changed.clear()
            positions.update()
            self._raise_failed(positions.take_failed())
            by_node = self._fetchable_by_node()
            for node, states in by_node.items():
                if node not in self._in_flight:
                    self._in_flight[node] = asyncio.get_running_loop().create_task(
                        self._fetch_from(node, states), name=f"kafkaio-fetch-{node}")
            own: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wakeup.wait()),
                                              asyncio.ensure_future(changed.wait()),
                                              positions.next_settled()]
            try:
                await asyncio.wait([*own, *self._in_flight.values()],
                                   timeout=self._config.fetch_max_wait_ms / 1000.0 + 1.0,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in own:
                    w.cancel()

    def _raise_failed(self, failed: list[PartitionState]) -> None:
        """Partitions that could get no position: their error goes to the application's next read."""
        for st in failed:
            self._ready.append(st)
        if failed:
            self.records_available.set()

    def _fetchable_by_node(self) -> dict[int, list[PartitionState]]:
        # Up to two fetches' worth per partition: the next response is on its way while the
        # application works through the current one, and memory stays bounded.
        limit = self._config.max_partition_fetch_bytes * PREFETCH_FETCHES
        out: dict[int, list[PartitionState]] = {}
        missing_leader = False
        now = 0.0
        for st in self._subs.assignment.values():
            if not st.fetchable or st.buffered_bytes >= limit:
                continue
            if st.preferred_replica is not None:
                now = now or time.monotonic()
                node = self._read_replica(st, now)
                if node is not None:
                    out.setdefault(node, []).append(st)
                    continue
            leader = self._cluster.leader_for(st.tp.topic, st.tp.partition)
            if leader is None or leader < 0:
                missing_leader = True
                continue
            out.setdefault(leader, []).append(st)
        if missing_leader:
            self._cluster.request_refresh()
        return out

    def _read_replica(self, st: PartitionState, now: float) -> int | None:
        """The preferred read replica of ``st`` while it is still valid, else None (and forgotten)."""
        replica = st.preferred_replica
        assert replica is not None
        if now >= st.preferred_until or self._cluster.metadata.broker(replica) is None:
            st.preferred_replica = None
            return None
        return replica

    async def _fetch_from(self, node: int, states: list[PartitionState]) -> None:
        try:
            await self._fetch_once(node, states)
        except asyncio.CancelledError:
            raise
        except KafkaError as exc:
            log.debug("fetch from broker %s failed: %s", node, exc)
            self._forget_replica(node, states)
            if exc.invalid_metadata or exc.retriable:
                self._cluster.request_refresh()
            await asyncio.sleep(self._backoff_s)
        except Exception as exc:  # noqa: BLE001 - surfaced to the application, never swallowed
            log.exception("kafkaio fetcher failed")
            self.fatal_error = exc
            self.records_available.set()
        finally:
            self._in_flight.pop(node, None)
            self._wakeup.set()

    @staticmethod
    def _forget_replica(node: int, states: list[PartitionState]) -> None:
        """A fetch from ``node`` failed: partitions read from it as their preferred replica go back
        to their leader (which may name the same replica again once it answers)."""
        for st in states:
            if st.preferred_replica == node:
                log.info("fetch from replica %s of %s failed; fetching from the leader", node, st.tp)
                st.preferred_replica = None

    def _plan(self, session: FetchSession, states: list[PartitionState], ids_allowed: bool) -> FetchPlan:
        meta = self._cluster.metadata
        topics = meta.topics
        ids: dict[str, uuid.UUID] = {}
        wanted: list[Wanted] = []
        max_bytes = self._config.max_partition_fetch_bytes
        for st in states:
            offset = st.fetch_offset
            if offset is None:
                continue
            tp = st.tp
            tid = ids.get(tp.topic)
            if tid is None:
                info = topics.get(tp.topic)
                tid = ids[tp.topic] = (info.topic_id if info is not None else None) or ZERO_UUID
            wanted.append((tp, tid, offset, current_leader_epoch(meta, tp), st.fetch_epoch, st.epoch, max_bytes))
        return session.build(wanted, ids_allowed)

    async def _fetch_once(self, node: int, states: list[PartitionState]) -> None:
        cfg = self._config
        session = self._sessions.get(node)
        if session is None:
            session = self._sessions[node] = FetchSession(self._use_sessions)
        try:
            conn = await self._cluster.connection(node, purpose="fetch")
            offered = conn.version(ApiKey.FETCH)
            if offered < 7:
                session.enabled = False
            plan = self._plan(session, states, offered >= FETCH_TOPIC_ID_VERSION)
            # as the Java client: by id at the newest version, by name at the last version with names
            version = min(offered, FETCH_MAX_VERSION if plan.use_topic_ids else FETCH_TOPIC_ID_VERSION - 1)
            body = {
                "replica_id": -1,
                "max_wait_ms": cfg.fetch_max_wait_ms,
                "min_bytes": cfg.fetch_min_bytes,
                "max_bytes": cfg.fetch_max_bytes,
                "isolation_level": self._isolation,
                "session_id": plan.session_id,
                "session_epoch": plan.session_epoch,
                "topics": topics_body(plan.send),
                "forgotten_topics_data": forgotten_body(plan.forget),
                "rack_id": cfg.client_rack,
            }
            asked = time.monotonic()
            resp = await conn.request(ApiKey.FETCH, body, version=version,
                                      timeout_ms=cfg.request_timeout_ms + cfg.fetch_max_wait_ms)
            self.fetch_latency_total_s += time.monotonic() - asked
            self.fetch_responses += 1
        except BaseException:
            session.reset()   # we cannot know what the broker cached
            raise
        if resp.get("error_code"):
            # FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR
            # (retriable, with a metadata refresh, as the Java client), ...
            session.reset()
            err = error_for_code(resp["error_code"])
            raise err(f"fetch from broker {node}")
        session.response(resp.get("session_id", 0))
        sent = plan.expected
        names = plan.topic_names
        got_data = False
        for topic_resp in resp["responses"]:
            topic = names.get(topic_resp["topic_id"]) if plan.use_topic_ids else topic_resp["topic"]
            if topic is None:
                continue   # an id this session never sent (Java drops it too)
            for p in topic_resp["partitions"]:
                tp = TopicPartition(topic, p["partition_index"])
                req = sent.get(tp)
                st = self._subs.assignment.get(tp)
                if req is None or st is None or st.epoch != req[0] or st.fetch_offset != req[1]:
                    continue  # reassigned, seeked or reset while in flight: drop
                if self._apply(st, p):
                    got_data = True
        if got_data:
            self.records_available.set()

    def _apply(self, st: PartitionState, p: dict[str, Any]) -> bool:
        code = p["error_code"]
        if code:
            self._partition_error(st, code)
            return False
        diverging = p.get("diverging_epoch")
        if diverging is not None and diverging.get("epoch", -1) >= 0:
            self._diverged(st, diverging["epoch"], diverging["end_offset"])
            return False
        replica = p.get("preferred_read_replica", -1)
        if replica is not None and replica >= 0:
            # the leader sends no records with this: the next fetch goes to that replica
            if replica != st.preferred_replica:
                log.debug("%s: fetching from replica %s (client_rack %r)", st.tp, replica,
                          self._config.client_rack)
            st.preferred_replica = replica
            st.preferred_until = time.monotonic() + self._config.metadata_max_age_ms / 1000.0
        st.highwater = p["high_watermark"]
        lso = p.get("last_stable_offset", -1)
        if lso is not None and lso >= 0:
            st.last_stable_offset = lso
        lso_start = p.get("log_start_offset", -1)
        if lso_start is not None and lso_start >= 0:
            st.log_start_offset = lso_start
        records = p.get("records")
        if not records:
            return False
        fetch_offset = st.fetch_offset
        assert fetch_offset is not None
        aborted = None
        if self._isolation == READ_COMMITTED and p.get("aborted_transactions"):
            aborted = sorted((a["first_offset"], a["producer_id"]) for a in p["aborted_transactions"])
        batches: deque[Any] = deque()
        nbytes = 0
        next_offset = fetch_offset
        next_epoch = st.fetch_epoch
        aborted_pids: set[int] = set()
        try:
            for batch in read_batches(records, self._check_crcs):
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
            # the good batches before it are handed out first; the error then stops the partition
            corrupt = CorruptRecordError(f"{st.tp} at offset {next_offset}: {exc}")
            if batches:
                self._buffer_chunk(st, _Chunk(batches, next_offset, nbytes, st.epoch))
            self._stop_at(st, next_offset, corrupt)
            return True
        if next_offset == fetch_offset:
            return False
        st.fetch_offset = next_offset
        st.fetch_epoch = next_epoch
        if not batches and not st.buffer:
            st.position = next_offset   # only control/aborted batches, nothing pending: step over them
            return False
        self._buffer_chunk(st, _Chunk(batches, next_offset, nbytes, st.epoch))
        return bool(batches)

    def _buffer_chunk(self, st: PartitionState, chunk: _Chunk) -> None:
        st.buffer.append(chunk)
        st.buffered_bytes += chunk.nbytes
        self._ready.append(st)

    def _stop_at(self, st: PartitionState, offset: int, error: KafkaError | None) -> None:
        """Queue ``error`` (None: OFFSET_OUT_OF_RANGE) behind the buffered records of ``st``, for
        when its position reaches ``offset``; fetch no more of ``st`` until then."""
        chunk = _Chunk(deque(), offset, 0, st.epoch)
        chunk.error = error
        chunk.out_of_range = error is None
        self._buffer_chunk(st, chunk)
        # None stops fetching (not ``fetchable``); a seek, reset, pause or the error itself (via
        # drop_buffer) sets it again.
        st.fetch_offset = None
        self.records_available.set()

    def _partition_error(self, st: PartitionState, code: int) -> None:
        replica = st.preferred_replica
        if replica is not None:
            # any error from a preferred replica sends the partition back to its leader
            st.preferred_replica = None
            if code == ErrorCode.OFFSET_OUT_OF_RANGE:
                # a replica can be behind the leader: retry there before resetting anything
                log.info("offset %s of %s out of range at replica %s; retrying at the leader",
                         st.fetch_offset, st.tp, replica)
                return
        offset = st.fetch_offset
        assert offset is not None
        if code == ErrorCode.OFFSET_OUT_OF_RANGE:
            self._stop_at(st, offset, None)
            return
        err = error_for_code(code)
        if err.retriable or err.invalid_metadata:
            self._cluster.request_refresh()
            return
        self._stop_at(st, offset, err(f"fetching {st.tp} at offset {offset}"))

    def _diverged(self, st: PartitionState, epoch: int, end_offset: int) -> None:
        """KIP-320: the leader's log diverges from what we fetched at ``end_offset``, the end of
        ``epoch``, the last leader epoch both agree on (an unclean election truncated the log)."""
        position = st.position
        if position is None:
            return   # a reset is pending: it finds a valid offset
        if st.preferred_replica is not None:
            # a follower (KIP-392) may only be behind: as with OFFSET_OUT_OF_RANGE, ask the leader
            log.info("%s: replica %s reports a diverging epoch; fetching from the leader", st.tp,
                     st.preferred_replica)
            st.preferred_replica = None
            return
        if end_offset >= position:
            # Only prefetched records are gone: fetch again from the position, naming the epoch the
            # leader agrees with (the position's own one may not be in its log at all).
            log.info("%s: the log diverges at offset %s (epoch %s), past the position %s; "
                     "fetching again from there", st.tp, end_offset, epoch, position)
            st.drop_buffer()
            st.position_epoch = st.fetch_epoch = epoch
            return
        if self._subs.default_reset is not None:
            # as Java: with a reset policy, go back to the first offset known to diverge
            log.warning("%s: truncation detected at position %s; the log diverges at offset %s "
                        "(epoch %s): continuing from there", st.tp, position, end_offset, epoch)
            st.seek(end_offset, epoch)
            return
        err = LogTruncationError(f"{st.tp}: truncation detected at position {position}: the log diverges "
                                 f"at offset {end_offset} (leader epoch {epoch}) and auto_offset_reset is none")
        err.topic_partition = st.tp
        err.offset = position
        err.divergent_offset = OffsetAndMetadata(end_offset, "", epoch)
        st.drop_buffer()
        st.error = err   # raised again after each fetch until the application seeks
        self._ready.append(st)
        self.records_available.set()

    def _out_of_range(self, st: PartitionState, chunk: _Chunk) -> None:
        """The position reached an OFFSET_OUT_OF_RANGE answer: reset it, or (``none``) raise."""
        offset = chunk.end_offset
        if st.position != offset:
            # not for the position any more (cannot happen while chunks are consumed in order, and
            # a seek drops the chunk): forget it and fetch again from the position
            st.drop_buffer()
            return
        reset = self._subs.default_reset
        if reset is None:
            err = OffsetOutOfRangeError(
                f"offset {offset} of {st.tp} is out of range and auto_offset_reset is none")
            err.topic_partition = st.tp
            err.offset = offset
            st.error = err
            st.drop_buffer()   # fetched again, and raised again, until the application seeks
            return
        log.info("offset %s of %s out of range; resetting (auto_offset_reset=%s)", offset, st.tp,
                 self._subs.default_reset_name)
        st.request_reset(reset)

    # -- draining (called by the consumer, no awaits) --------------------------------------------------

    def has_records(self) -> bool:
        return bool(self._ready)

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
        ready = self._ready
        while ready:
            if self.drain(1, out):
                for tp, records in out.items():
                    st = self._subs.assignment.get(tp)
                    if st is not None and st.buffer and st.error is None:
                        self._cur_state = st
                        self._cur_chunk = st.buffer[0]
                    return records[0]
        return None

    def drain(self, max_records: int, out: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        """Move up to ``max_records`` buffered records into ``out``; returns how many."""
        total = 0
        ready = self._ready
        while ready and total < max_records:
            st = ready[0]
            if st.error is not None:
                if total:
                    break  # give the app what it has; the error comes with the next call
                err, st.error = st.error, None
                ready.popleft()
                raise err
            n = self._drain_partition(st, max_records - total, out)
            total += n
            if st.error is not None:
                continue  # stopped in front of a bad record: raise now, or with the next call
            if not st.buffer:
                ready.popleft()
            elif n == 0:
                ready.popleft()
            else:
                ready.rotate(-1)   # round-robin between partitions, as the Java client does
        if total:
            self._wakeup.set()
        return total

    def _drain_partition(self, st: PartitionState, budget: int, out: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        if st.revoking or st.tp not in self._subs.assignment:
            st.drop_buffer()
            return 0
        if st.paused:
            return 0  # the prefetched data is kept for resume(), as the Java consumer keeps it
        taken = 0
        buf = st.buffer
        tp = st.tp
        while buf:
            chunk: _Chunk = buf[0]
            if chunk.epoch != st.epoch:
                buf.popleft()
                continue
            recs = chunk.records
            i = chunk.idx
            if i >= len(recs):
                if chunk.error is not None:
                    # Everything before the bad record is handed out; the position is on it. The
                    # prefetched rest is dropped and fetched again from there, so until the app
                    # seeks past it every read fails the same way (as the Java consumer's poll).
                    st.error, chunk.error = chunk.error, None
                    st.drop_buffer()
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
                buf.popleft()
                st.buffered_bytes -= chunk.nbytes
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

    def _deserialize(self, chunk: _Chunk, tp: TopicPartition, recs: list[Any], start: int) -> list[Any]:
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

    def resume(self, tps: set[TopicPartition]) -> None:
        """Hand out again the data prefetched for these partitions before they were paused."""
        ready = self._ready
        for tp in tps:
            st = self._subs.assignment.get(tp)
            if st is not None and st.buffer and st not in ready:
                ready.append(st)
        self._wakeup.set()

    def discard(self, tps: set[TopicPartition] | None = None) -> None:
        """Drop buffered data (after revocation); fetching resumes from the position."""
        for st in self._subs.assignment.values():
            if tps is None or st.tp in tps:
                st.drop_buffer()
        self._ready = deque(st for st in self._ready if st.buffer or st.error is not None)
        self._wakeup.set()

