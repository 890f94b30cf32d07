"""Offset lookups: ListOffsets against partition leaders, and establishing positions.

A newly assigned partition gets its position from the group's committed offset; without one (or
without a group) it is reset by ``auto_offset_reset``: earliest, latest, ``by_duration:<ISO-8601
duration>`` (KIP-1106: the first offset whose record is at most that old, or the end when there is
none yet), or none, which raises :class:`NoOffsetForPartitionError` to the application.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kafkaio.consumer.subscription import (
    RESET_NAMES,
    BY_DURATION,
    EARLIEST,
    LATEST,
    PartitionState,
    SubscriptionState,
)
from kafkaio.errors import (
    ErrorCode,
    KafkaError,
    KafkaTimeoutError,
    NoOffsetForPartitionError,
    UnstableOffsetCommitError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.structs import OffsetAndMetadata, TopicPartition

if TYPE_CHECKING:
    from kafkaio.cluster import Cluster, ClusterMetadata
    from kafkaio.config import ConsumerConfig
    from kafkaio.consumer.coordinator import GroupCoordinator

log = logging.getLogger(__name__)


class OffsetLookup:
    """ListOffsets by timestamp (or EARLIEST / LATEST), grouped per leader, with retries."""

    def __init__(self, cluster: Cluster, config: ConsumerConfig) -> None:
        self._cluster = cluster
        self._config = config
        self._isolation = 1 if config.isolation_level == "read_committed" else 0

    async def list_offsets(self, timestamps: dict[TopicPartition, int],
                           timeout_ms: int | None = None) -> dict[TopicPartition, tuple[int, int, int]]:
        """{tp: (offset, timestamp, leader_epoch)}; offset -1 when no record has such a timestamp."""
        loop = asyncio.get_running_loop()
        timeout_ms = self._config.default_api_timeout_ms if timeout_ms is None else timeout_ms
        deadline = loop.time() + timeout_ms / 1000.0
        remaining = dict(timestamps)
        result: dict[TopicPartition, tuple[int, int, int]] = {}
        backoff = self._config.retry_backoff_ms / 1000.0
        last_error: BaseException | None = None
        while remaining:
            if loop.time() > deadline:
                raise KafkaTimeoutError(
                    f"offsets of {sorted(remaining)} not found within {timeout_ms} ms"
                    + (f" (last error: {last_error})" if last_error else ""))
            by_leader: dict[int, dict[TopicPartition, int]] = {}
            for tp, ts in remaining.items():
                leader = self._cluster.leader_for(tp.topic, tp.partition)
                if leader is None or leader < 0:
                    continue
                by_leader.setdefault(leader, {})[tp] = ts
            if not by_leader:
                await self._cluster.refresh_metadata(sorted({tp.topic for tp in remaining}))
                if not any(self._cluster.leader_for(tp.topic, tp.partition) not in (None, -1)
                           for tp in remaining):
                    await asyncio.sleep(backoff)
                continue
            results = await asyncio.gather(*(self._list_from(node, tps) for node, tps in by_leader.items()),
                                           return_exceptions=True)
            retry = False
            for res in results:
                if isinstance(res, BaseException):
                    if isinstance(res, KafkaError) and (res.retriable or res.invalid_metadata):
                        last_error = res
                        retry = True
                        continue
                    raise res
                done, err = res
                for tp, value in done.items():
                    result[tp] = value
                    remaining.pop(tp, None)
                if err is not None:
                    last_error = err
                    retry = True
            if retry and remaining:
                self._cluster.request_refresh()
                await asyncio.sleep(backoff)
        return result

    def by_leader(self, tps: Iterable[TopicPartition]) -> tuple[dict[int, list[TopicPartition]], list[TopicPartition]]:
        """({leader: partitions}, partitions without a known leader)."""
        out: dict[int, list[TopicPartition]] = {}
        leaderless: list[TopicPartition] = []
        for tp in tps:
            leader = self._cluster.leader_for(tp.topic, tp.partition)
            if leader is None or leader < 0:
                leaderless.append(tp)
            else:
                out.setdefault(leader, []).append(tp)
        return out, leaderless

    def request_refresh(self) -> None:
        self._cluster.request_refresh()

    def topic_error(self, topic: str) -> KafkaError | None:
        """The error the metadata holds for ``topic`` when retrying cannot help (e.g.
        TOPIC_AUTHORIZATION_FAILED), else None."""
        code = self._cluster.metadata.topic_errors.get(topic)
        if not code:
            return None
        err = error_for_code(code)
        if err.retriable or err.invalid_metadata:
            return None
        return err(f"topic {topic!r}")

    async def list_at(self, node: int, timestamps: dict[TopicPartition, int]
                      ) -> tuple[dict[TopicPartition, tuple[int, int, int]], KafkaError | None]:
        """One ListOffsets to ``node``: what it found, and a retriable error if some partition had one."""
        return await self._list_from(node, timestamps)

    async def _list_from(self, node: int, tps: dict[TopicPartition, int]
                         ) -> tuple[dict[TopicPartition, tuple[int, int, int]], KafkaError | None]:
        topics: dict[str, list[dict[str, Any]]] = {}
        meta = self._cluster.metadata
        for tp, ts in tps.items():
            # KIP-320: a leader that is behind our metadata (or ahead of it) answers
            # UNKNOWN/FENCED_LEADER_EPOCH, retried after a refresh, instead of a stale offset
            topics.setdefault(tp.topic, []).append(
                {"partition_index": tp.partition, "current_leader_epoch": current_leader_epoch(meta, tp),
                 "timestamp": ts})
        # As Java 4.4's consumer: the newest version both sides speak, with the request timeout as
        # the broker's bound on looking up offsets in remote storage (v10+)
        body = {"replica_id": -1, "isolation_level": self._isolation,
                "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()],
                "timeout_ms": int(self._config.request_timeout_ms)}
        conn = await self._cluster.connection(node, purpose="default")
        resp = await conn.request(ApiKey.LIST_OFFSETS, body)
        out: dict[TopicPartition, tuple[int, int, int]] = {}
        error: KafkaError | None = None
        for t in resp["topics"]:
            for p in t["partitions"]:
                tp = TopicPartition(t["name"], p["partition_index"])
                code = p["error_code"]
                if code == ErrorCode.NONE:
                    out[tp] = (p["offset"], p["timestamp"], p["leader_epoch"])
                    continue
                err = error_for_code(code)
                if err.retriable or err.invalid_metadata:
                    error = err(f"listing offsets of {tp}")
                else:
                    raise err(f"listing offsets of {tp}")
        return out, error


class PositionKeeper:
    """Gives every assigned partition a position: committed offset, else auto_offset_reset.

    Off the fetch path and per partition, as Java's consumer: each lookup (an OffsetFetch for the
    partitions without a position, a ListOffsets per leader for those awaiting a reset) runs as a
    task of its own, and the fetcher fetches every partition that has a position meanwhile. A
    partition whose committed offset is held by an open transaction (UNSTABLE_OFFSET_COMMIT), or
    whose reset waits for a leader or an answer, holds only itself. A lookup makes one attempt;
    what it does not settle is tried again after ``retry_backoff_ms`` by the next :meth:`update`.
    """

    def __init__(self, subscriptions: SubscriptionState, lookup: OffsetLookup, config: ConsumerConfig) -> None:
        self._subs = subscriptions
        self._lookup = lookup
        self._coordinator: GroupCoordinator | None = None  # committed offsets come from here; None without group_id
        self._backoff_s = config.retry_backoff_ms / 1000.0
        self._busy: set[TopicPartition] = set()      # partitions with a lookup in flight
        self._tasks: set[asyncio.Task[None]] = set()
        # Partitions whose committed offset was pending a transaction: asked for one by one, so
        # that the answer for the others is not held by them.
        self._alone: set[TopicPartition] = set()
        # Partitions that failed for good (no committed offset and auto_offset_reset=none): the
        # fetcher takes them (take_failed) to raise their error to the application.
        self._failed: list[PartitionState] = []
        self._waiters: list[asyncio.Future[None]] = []   # next_settled() futures
        self._closed = False

    def use_group(self, coordinator: GroupCoordinator) -> None:
        """Take committed offsets from this group coordinator."""
        self._coordinator = coordinator

    # -- driving ---------------------------------------------------------------------------------

    def update(self, asked: bool = False) -> None:
        """Start lookups for the assigned partitions that need one and have none in flight
        (``asked``: for position(), also those still awaiting on_partitions_assigned)."""
        if self._closed:
            return   # nothing may outlive close(), e.g. through position() in a revocation listener
        missing = [tp for tp in self._subs.needing_position(asked)
                   if tp not in self._busy and self._subs.assignment[tp].error is None]
        if missing:
            self._alone &= set(self._subs.assignment)
            together = [tp for tp in missing if tp not in self._alone]
            if together:
                self._spawn(self._fetch_committed(together), together)
            for tp in missing:
                if tp in self._alone:
                    self._spawn(self._fetch_committed([tp]), [tp])
        resets = [st for st in self._subs.needing_reset(asked) if st.tp not in self._busy and st.error is None]
        if resets:
            by_leader, leaderless = self._lookup.by_leader([st.tp for st in resets])
            for node, tps in by_leader.items():
                self._spawn(self._reset(node, tps), tps)
            waiting = []
            for tp in leaderless:
                err = self._lookup.topic_error(tp.topic)
                if err is None:
                    waiting.append(tp)
                else:
                    # e.g. not authorized to DESCRIBE the topic: no leader will ever show up, and
                    # the application must hear why (raised by its next read, looked up again after)
                    self._fail(self._subs.assignment[tp], err)
            if waiting:
                self._lookup.request_refresh()
                self._spawn(asyncio.sleep(self._backoff_s), waiting)   # then look again

    def take_failed(self) -> list[PartitionState]:
        """Partitions whose lookup failed for good since the last call (their ``error`` is set)."""
        failed, self._failed = self._failed, []
        return failed

    def next_settled(self) -> asyncio.Future[None]:
        """A future done when the next lookup ends (its partitions may have a position then)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters = [w for w in self._waiters if not w.done()]   # callers cancel theirs
        self._waiters.append(fut)
        return fut

    async def ensure_positions(self) -> None:
        """Start the lookups needed and wait until one of those in flight ends (for position())."""
        self.update(asked=True)
        if self._tasks:
            await self.next_settled()

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass

    def _spawn(self, coro: Any, tps: list[TopicPartition]) -> None:
        busy = set(tps)
        self._busy |= busy
        task = asyncio.get_running_loop().create_task(coro, name="kafkaio-positions")
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._busy -= busy
            self._tasks.discard(t)
            waiters, self._waiters = self._waiters, []
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
            if not t.cancelled() and t.exception() is not None:
                log.warning("kafkaio consumer: looking up positions of %s failed: %r", sorted(busy), t.exception())

        task.add_done_callback(done)

    # -- committed offsets -------------------------------------------------------------------------

    async def _fetch_committed(self, tps: list[TopicPartition]) -> None:
        # the states asked for: a partition revoked and assigned again meanwhile has a new one,
        # and an answer from before that may be older than what the group committed since
        asked = {tp: self._subs.assignment.get(tp) for tp in tps}
        committed: dict[TopicPartition, OffsetAndMetadata | None] = {}
        if self._coordinator is not None:
            try:
                # one attempt (timeout 0): the retry is ours, partition by partition
                committed = await self._coordinator.fetch_committed(tps, timeout_ms=0)
            except UnstableOffsetCommitError:
                if len(tps) > 1:
                    self._alone.update(tps)   # ask again one by one: the others are not held
                    return
                log.debug("committed offset of %s is pending a transaction; asking again", tps[0])
                await asyncio.sleep(self._backoff_s)
                return
            except KafkaError as exc:
                if not (exc.retriable or exc.invalid_metadata):
                    # e.g. GROUP_AUTHORIZATION_FAILED: retrying cannot help; the application's next
                    # read raises it (as Java's poll()), and the lookup is tried again after that
                    for tp, st in asked.items():
                        if st is not None and self._subs.assignment.get(tp) is st:
                            self._fail(st, exc)
                    return
                await asyncio.sleep(self._backoff_s)
                return
        self._alone.difference_update(tps)
        for tp, st in asked.items():
            if st is not None and self._subs.assignment.get(tp) is st:
                self._apply_committed(st, committed.get(tp))

    def _fail(self, st: PartitionState, exc: BaseException) -> None:
        """``st`` gets no position for now: ``exc`` goes to the application's next read."""
        st.error = exc
        self._failed.append(st)

    def _apply_committed(self, st: PartitionState, oam: OffsetAndMetadata | None) -> None:
        tp = st.tp
        if st.position is not None or st.reset_to is not None:
            return   # seeked or reset meanwhile
        if oam is not None and oam.offset >= 0:
            st.seek(oam.offset, oam.leader_epoch)
        elif self._subs.default_reset is None:
            self._fail(st, NoOffsetForPartitionError(f"no committed offset for {tp} and auto_offset_reset is none"))
        else:
            st.request_reset(self._subs.default_reset)

    # -- resets ------------------------------------------------------------------------------------

    async def _reset(self, node: int, tps: list[TopicPartition]) -> None:
        """One ListOffsets to ``node`` for partitions awaiting a reset; applies what it finds."""
        pending: dict[TopicPartition, tuple[PartitionState, int, int]] = {}   # tp -> (state, strategy, epoch)
        for tp in tps:
            st = self._subs.assignment.get(tp)
            if st is not None and st.reset_to is not None:
                pending[tp] = (st, st.reset_to, st.epoch)
        if not pending:
            return
        timestamps = {tp: self._reset_timestamp(strategy) for tp, (_st, strategy, _e) in pending.items()}
        try:
            found, error = await self._lookup.list_at(node, timestamps)
            # by_duration: no record at or after the time yet, so start at the end (KIP-1106)
            past_end = {tp: LATEST for tp, (offset, _ts, _epoch) in found.items() if offset < 0}
            if past_end:
                at_end, error2 = await self._lookup.list_at(node, past_end)
                found.update(at_end)
                error = error or error2
        except KafkaError as exc:
            if not (exc.retriable or exc.invalid_metadata):
                log.warning("kafkaio consumer: cannot reset %s: %s", tps, exc)
            self._lookup.request_refresh()
            await asyncio.sleep(self._backoff_s)
            return
        for tp, (offset, _ts, leader_epoch) in found.items():
            st, strategy, epoch = pending[tp]
            if self._subs.assignment.get(tp) is not st or st.epoch != epoch or st.reset_to is None or offset < 0:
                continue  # revoked, seeked or reset again meanwhile
            log.debug("reset %s (%s) to offset %s", tp, _RESET_LABELS.get(strategy, strategy), offset)
            st.seek(offset, leader_epoch)
        if error is not None:
            self._lookup.request_refresh()
            await asyncio.sleep(self._backoff_s)

    def _reset_timestamp(self, strategy: int) -> int:
        """The ListOffsets timestamp of a reset strategy."""
        if strategy == BY_DURATION:
            assert self._subs.reset_duration_ms is not None
            return max(0, int(time.time() * 1000) - self._subs.reset_duration_ms)
        return strategy


_RESET_LABELS = {strategy: name for name, strategy in RESET_NAMES.items()}


def timestamps_for(tps: Iterable[TopicPartition], which: int) -> dict[TopicPartition, int]:
    assert which in (EARLIEST, LATEST)
    return {tp: which for tp in tps}


def current_leader_epoch(meta: ClusterMetadata, tp: TopicPartition) -> int:
    """The partition's leader epoch in the metadata ``meta`` (-1: unknown), for requests that name
    it so that the broker can tell a stale client or a stale leader (KIP-320)."""
    try:
        return meta.topics[tp.topic].partitions[tp.partition].leader_epoch
    except (AttributeError, KeyError, IndexError, TypeError):
        return -1
