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
from typing import Any

from kafkaio.consumer.subscription import _RESET_NAMES, BY_DURATION, EARLIEST, LATEST, SubscriptionState
from kafkaio.errors import (
    KafkaError,
    KafkaTimeoutError,
    NoOffsetForPartitionError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.structs import OffsetAndMetadata, TopicPartition

log = logging.getLogger(__name__)

LIST_OFFSETS_MAX_VERSION = 8


class OffsetLookup:
    """ListOffsets by timestamp (or EARLIEST / LATEST), grouped per leader, with retries."""

    def __init__(self, cluster: Any, config: Any) -> None:
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

    async def _list_from(self, node: int, tps: dict[TopicPartition, int]
                         ) -> tuple[dict[TopicPartition, tuple[int, int, int]], KafkaError | None]:
        topics: dict[str, list[dict[str, Any]]] = {}
        for tp, ts in tps.items():
            topics.setdefault(tp.topic, []).append(
                {"partition_index": tp.partition, "current_leader_epoch": -1, "timestamp": ts})
        body = {"replica_id": -1, "isolation_level": self._isolation,
                "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}
        conn = await self._cluster.connection(node, purpose="default")
        version = min(conn.version(ApiKey.LIST_OFFSETS), LIST_OFFSETS_MAX_VERSION)
        resp = await conn.request(ApiKey.LIST_OFFSETS, body, version=version)
        out: dict[TopicPartition, tuple[int, int, int]] = {}
        error: KafkaError | None = None
        for t in resp["topics"]:
            for p in t["partitions"]:
                tp = TopicPartition(t["name"], p["partition_index"])
                code = p["error_code"]
                if code == 0:
                    out[tp] = (p["offset"], p["timestamp"], p.get("leader_epoch", -1))
                    continue
                err = error_for_code(code)
                if err.retriable or err.invalid_metadata:
                    error = err(f"listing offsets of {tp}")
                else:
                    raise err(f"listing offsets of {tp}")
        return out, error


class PositionKeeper:
    """Gives every assigned partition a position: committed offset, else auto_offset_reset."""

    def __init__(self, subscriptions: SubscriptionState, lookup: OffsetLookup, coordinator: Any) -> None:
        self._subs = subscriptions
        self._lookup = lookup
        self._coordinator = coordinator    # None without group_id
        self._lock = asyncio.Lock()

    async def ensure_positions(self) -> None:
        async with self._lock:
            await self._fetch_committed()
            await self._reset_positions()

    async def _fetch_committed(self) -> None:
        missing = self._subs.needing_position()
        if not missing:
            return
        committed: dict[TopicPartition, OffsetAndMetadata | None] = {}
        if self._coordinator is not None:
            committed = await self._coordinator.fetch_committed(missing)
        for tp in missing:
            st = self._subs.assignment.get(tp)
            if st is None or st.position is not None or st.reset_to is not None:
                continue
            oam = committed.get(tp)
            if oam is not None and oam.offset >= 0:
                st.seek(oam.offset, oam.leader_epoch)
            elif self._subs.default_reset is None:
                st.error = NoOffsetForPartitionError(
                    f"no committed offset for {tp} and auto_offset_reset is none")
                st.reset_to = None
                st.position = None
                st.fetch_offset = None
                self._flag_error(st)
            else:
                st.request_reset(self._subs.default_reset)

    def _flag_error(self, st: Any) -> None:
        fetcher = getattr(self, "fetcher", None)
        if fetcher is not None:
            fetcher._ready.append(st)
            fetcher.records_available.set()

    async def _reset_positions(self) -> None:
        pending = {st.tp: st.reset_to for st in self._subs.needing_reset()}
        if not pending:
            return
        epochs = {tp: self._subs.assignment[tp].epoch for tp in pending}
        timestamps = {tp: self._reset_timestamp(strategy) for tp, strategy in pending.items()}  # type: ignore[arg-type]
        found = await self._lookup.list_offsets(timestamps)
        # by_duration: no record at or after the time yet, so start at the end (KIP-1106)
        past_end = {tp: LATEST for tp, (offset, _ts, _epoch) in found.items() if offset < 0}
        if past_end:
            found.update(await self._lookup.list_offsets(past_end))
        for tp, (offset, _ts, leader_epoch) in found.items():
            st = self._subs.assignment.get(tp)
            if st is None or st.epoch != epochs[tp] or st.reset_to is None:
                continue  # seeked or revoked meanwhile
            log.debug("reset %s (%s) to offset %s", tp, _RESET_LABELS.get(pending[tp], pending[tp]), offset)
            st.seek(offset, leader_epoch)

    def _reset_timestamp(self, strategy: int) -> int:
        """The ListOffsets timestamp of a reset strategy."""
        if strategy == BY_DURATION:
            assert self._subs.reset_duration_ms is not None
            return max(0, int(time.time() * 1000) - self._subs.reset_duration_ms)
        return strategy


_RESET_LABELS = {strategy: name for name, strategy in _RESET_NAMES.items()}


def timestamps_for(tps: Iterable[TopicPartition], which: int) -> dict[TopicPartition, int]:
    assert which in (EARLIEST, LATEST)
    return {tp: which for tp in tps}
