"""The fetcher (Java's ``FetchRequestManager``): keeps one Fetch in flight per broker it reads
from, ahead of the application, and routes each answer to the partitions: their data into the
fetch buffer (``fetch_buffer.py``) as completed fetches, their errors onto their positions. The
collector (``fetch_collector.py``) hands the buffered records out.

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
offset and, with read_committed, to drop aborted transactions: ``read_completed``); records are
decoded when the application asks for them, from a memoryview of the response (no copy).

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
from typing import TYPE_CHECKING, Any, cast

from kafkaio.consumer.fetch_buffer import CompletedFetch, FetchBuffer, read_completed
from kafkaio.consumer.fetch_session import FetchPlan, FetchSession, Wanted, forgotten_body, topics_body
from kafkaio.consumer.offsets import PositionKeeper, current_leader_epoch
from kafkaio.consumer.subscription import PartitionState, SubscriptionState
from kafkaio.errors import (
    CorruptRecordError,
    ErrorCode,
    KafkaError,
    LogTruncationError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.structs import OffsetAndMetadata, TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import FetchResponse
    from kafkaio.protocol.bodies import FetchResponseResponsesPartitions as FetchPartitionResponse
    from kafkaio.cluster import Cluster
    from kafkaio.config import ConsumerConfig

log = logging.getLogger(__name__)

FETCH_MAX_VERSION = 18      # the newest the Java 4.4 client sends
FETCH_TOPIC_ID_VERSION = 13  # from here on topics are named by id (KIP-516)
READ_UNCOMMITTED, READ_COMMITTED = 0, 1
PREFETCH_FETCHES = 2


class Fetcher:
    """Fetch loops per broker, filling ``buffer`` with the completed fetches."""

    def __init__(self, cluster: Cluster, config: ConsumerConfig, subscriptions: SubscriptionState,
                 positions: PositionKeeper, buffer: FetchBuffer) -> None:
        self._cluster = cluster
        self._config = config
        self._subs = subscriptions
        self._positions = positions
        self._buffer = buffer
        self._isolation = READ_COMMITTED if config.isolation_level == "read_committed" else READ_UNCOMMITTED
        self._check_crcs = config.check_crcs
        self._wakeup = asyncio.Event()                 # something may have become fetchable
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._backoff_s = config.retry_backoff_ms / 1000.0
        self._sessions: dict[int, FetchSession] = {}   # KIP-227, per broker
        self._use_sessions = True
        # kafkaio.metrics: fetch responses and their latency summed (seconds)
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
        self._buffer.clear()

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
            # what was fetched for an old position or assignment is released, not only skipped
            self._buffer.release_stale(self._subs.assignment)
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
            if st.error is not None:
                self.fail(st, st.error)

    def _fetchable_by_node(self) -> dict[int, list[PartitionState]]:
        # Up to two fetches' worth per partition: the next response is on its way while the
        # application works through the current one, and memory stays bounded.
        limit = self._config.max_partition_fetch_bytes * PREFETCH_FETCHES
        buffered = self._buffer.buffered_bytes
        out: dict[int, list[PartitionState]] = {}
        missing_leader = False
        now = 0.0
        for st in self._subs.assignment.values():
            if not st.fetchable or buffered(st) >= limit:
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
            for st in states:
                self.fail(st, exc)
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
            resp = cast("FetchResponse", await conn.request(
                ApiKey.FETCH, body, version=version, timeout_ms=cfg.request_timeout_ms + cfg.fetch_max_wait_ms))
            self.fetch_latency_total_s += time.monotonic() - asked
            self.fetch_responses += 1
        except BaseException:
            session.reset()   # we cannot know what the broker cached
            raise
        if resp["error_code"]:
            # FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR
            # (retriable, with a metadata refresh, as the Java client), ...
            session.reset()
            err = error_for_code(resp["error_code"])
            raise err(f"fetch from broker {node}")
        session.response(resp["session_id"])
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
            self._buffer.records_available.set()

    def fail(self, st: PartitionState, exc: BaseException) -> None:
        """``exc`` is raised to the application's next read of ``st`` (before its buffered records,
        which are fetched again from the position)."""
        self._buffer.fail(st, exc)

    def _apply(self, st: PartitionState, p: FetchPartitionResponse) -> bool:
        code = p["error_code"]
        if code:
            self._partition_error(st, code)
            return False
        diverging = p["diverging_epoch"]
        if diverging["epoch"] >= 0:
            self._diverged(st, diverging["epoch"], diverging["end_offset"])
            return False
        replica = p["preferred_read_replica"]
        if replica >= 0:
            # the leader sends no records with this: the next fetch goes to that replica
            if replica != st.preferred_replica:
                log.debug("%s: fetching from replica %s (client_rack %r)", st.tp, replica,
                          self._config.client_rack)
            st.preferred_replica = replica
            st.preferred_until = time.monotonic() + self._config.metadata_max_age_ms / 1000.0
        st.highwater = p["high_watermark"]
        lso = p["last_stable_offset"]
        if lso >= 0:
            st.last_stable_offset = lso
        lso_start = p["log_start_offset"]
        if lso_start >= 0:
            st.log_start_offset = lso_start
        records = p["records"]
        if not records:
            return False
        fetch_offset = st.fetch_offset
        assert fetch_offset is not None
        aborted = p["aborted_transactions"] if self._isolation == READ_COMMITTED else None
        batches, nbytes, next_offset, next_epoch, corrupt = read_completed(
            records, fetch_offset, st.fetch_epoch, self._check_crcs, aborted)
        if corrupt is not None:
            # the good batches before it are handed out first; the error then stops the partition
            if batches:
                self._buffer.add(st, CompletedFetch(batches, next_offset, nbytes, st.epoch))
            self._buffer.stop_at(st, next_offset, CorruptRecordError(f"{st.tp} at offset {next_offset}: {corrupt}"))
            return True
        if next_offset == fetch_offset:
            return False
        st.fetch_offset = next_offset
        st.fetch_epoch = next_epoch
        if not batches and self._buffer.peek(st) is None:
            st.position = next_offset   # only control/aborted batches, nothing pending: step over them
            return False
        self._buffer.add(st, CompletedFetch(batches, next_offset, nbytes, st.epoch))
        return bool(batches)

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
            self._buffer.stop_at(st, offset, None)
            return
        err = error_for_code(code)
        if err.retriable or err.invalid_metadata:
            self._cluster.request_refresh()
            return
        self._buffer.stop_at(st, offset, err(f"fetching {st.tp} at offset {offset}"))

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
            self._buffer.rewind(st)
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
        self.fail(st, err)   # raised again after each fetch until the application seeks
