"""Requests to the share-partition leaders: ShareFetch (acquiring records, carrying pending
acknowledgements) and ShareAcknowledge, one share session and one request at a time per broker."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

from kafkaio._logthrottle import Throttled
from kafkaio.cluster import Cluster
from kafkaio.config.share_consumer import ShareConsumerConfig
from kafkaio.errors import (
    ErrorCode,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    UnsupportedVersionError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.records import read_batches
from kafkaio.share.acks import PendingAcks, TopicIdPartition, encode_batches
from kafkaio.share.records import GAP, AcknowledgeType, ShareConsumerRecord
from kafkaio.share.session import ShareSession
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ShareAcknowledgeResponse, ShareFetchResponse
    from kafkaio.protocol.bodies import ShareFetchResponseResponsesPartitions as ShareFetchPartition

log = logging.getLogger(__name__)

_ACQUIRE_MODES = {"batch_optimized": 0, "record_limit": 1}
# Partition errors after which the leader may have moved: refresh metadata.
_LEADER_MOVED = frozenset({ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                           ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_TOPIC_ID,
                           ErrorCode.LEADER_NOT_AVAILABLE})

AckResults = dict[TopicPartition, tuple[set[int], KafkaError | None]]
AckCallback = Callable[[dict[TopicPartition, set[int]], "KafkaError | None"], Any]


class ShareFetcher:
    """Share sessions per broker, the records fetched but not yet handed out, and the
    acknowledgements waiting to go to each broker."""

    def __init__(self, cluster: Cluster, config: ShareConsumerConfig, member_id: Callable[[], str],
                 topic_name: Callable[[uuid.UUID], str | None], topic_id: Callable[[str], uuid.UUID | None],
                 on_acknowledged: AckCallback | None = None) -> None:
        self._cluster = cluster
        self._config = config
        assert config.group_id is not None
        self._group_id: str = config.group_id
        self._member_id = member_id
        self._topic_name = topic_name
        self._topic_id = topic_id
        self._sessions: dict[int, ShareSession] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._acks: dict[int, PendingAcks] = {}
        self._renews: dict[int, PendingAcks] = {}
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._acking: set[asyncio.Task[AckResults]] = set()   # acknowledgement exchanges under way
        self._records: deque[ShareConsumerRecord] = deque()   # fetched, not yet handed out
        self.arrived = asyncio.Event()
        self.acquisition_lock_timeout_ms = -1
        self._on_acknowledged = on_acknowledged  # told of each partition's acknowledgement outcome
        self._error: KafkaError | None = None  # a fatal fetch error, raised by the next poll
        self._unreadable = Throttled(log)
        self._ack_failed = Throttled(log)
        # counters for ShareConsumer.metrics() (kafkaio.metrics.clients.ShareFetcherCounters)
        self.records_consumed = 0
        self.bytes_consumed = 0
        self.fetch_responses = 0
        self.fetch_latency_total_s = 0.0
        self.acknowledgements_sent = 0
        self.acknowledgements_failed = 0

    # -- acknowledgements -------------------------------------------------------------------------

    def acknowledge(self, record: ShareConsumerRecord, ack_type: int) -> None:
        """Queue ``ack_type`` for ``record``, to its leader with the next request there."""
        tid = self._topic_id(record.topic)
        assert tid is not None, f"no topic id known for {record.topic}"
        table = self._renews if ack_type == AcknowledgeType.RENEW else self._acks
        table.setdefault(record.node_id, PendingAcks()).add((tid, record.partition), record.offset, ack_type)

    @property
    def pending_acks(self) -> int:
        return sum(len(p) for p in self._acks.values()) + sum(len(p) for p in self._renews.values())

    # -- fetching ---------------------------------------------------------------------------------

    def fetch(self, wanted: dict[int, set[TopicIdPartition]], max_records: int) -> None:
        """Start one ShareFetch to every broker leading a partition of ``wanted`` (by node), unless
        one is already in flight there; records are kept for :meth:`take`, and :attr:`arrived` is set."""
        for node_id, parts in wanted.items():
            if node_id not in self._inflight:
                task = asyncio.get_running_loop().create_task(self._fetch_once(node_id, parts, max_records))
                self._inflight[node_id] = task
                task.add_done_callback(self._fetch_done)
        # a broker no longer leading any wanted partition: its session's partitions are forgotten
        # on the next fetch there; acknowledgements still pending for it go with commit()

    def _fetch_done(self, task: asyncio.Task[None]) -> None:
        for node_id, t in list(self._inflight.items()):
            if t is task:
                del self._inflight[node_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("share fetch failed", exc_info=task.exception())

    @property
    def fetching(self) -> bool:
        return bool(self._inflight)

    def has_records(self) -> bool:
        """Whether fetched records wait to be handed out."""
        return bool(self._records)

    def take_error(self) -> KafkaError | None:
        """The fatal fetch error for the next poll to raise, once; None if there is none."""
        err, self._error = self._error, None
        return err

    def take(self, limit: int, whole_acquisitions: bool) -> list[ShareConsumerRecord]:
        """Hand out up to ``limit`` fetched records, oldest first. With ``whole_acquisitions``
        (``share_acquire_mode=batch_optimized``) the records acquired together with the last one
        taken (same partition, same fetch) come along past ``limit``."""
        records = self._records
        taken: list[ShareConsumerRecord] = []
        while records and (len(taken) < limit or whole_acquisitions and taken and
                           records[0].partition == taken[-1].partition and
                           records[0].topic == taken[-1].topic and
                           records[0].acquired_at == taken[-1].acquired_at):
            taken.append(records.popleft())
        return taken

    async def _fetch_once(self, node_id: int, parts: set[TopicIdPartition], max_records: int) -> None:
        try:
            await self._fetch_locked(node_id, parts, max_records)
        finally:
            self.arrived.set()  # records or not: a waiting poll decides whether to fetch again

    async def _fetch_locked(self, node_id: int, parts: set[TopicIdPartition], max_records: int) -> None:
        lock = self._locks.setdefault(node_id, asyncio.Lock())
        async with lock:
            session = self._sessions.setdefault(node_id, ShareSession())
            acks = self._acks.pop(node_id, PendingAcks()) if session.open else PendingAcks()
            taken = acks.take()
            cfg = self._config
            body = session.fetch_body(
                self._group_id, self._member_id(), parts, {tp: encode_batches(a) for tp, a in taken.items()},
                max_wait_ms=cfg.fetch_max_wait_ms, min_bytes=cfg.fetch_min_bytes, max_bytes=cfg.fetch_max_bytes,
                max_records=max_records, acquire_mode=_ACQUIRE_MODES[cfg.share_acquire_mode])
            sent_at = time.monotonic()
            try:
                resp = cast("ShareFetchResponse", await self._request(
                    node_id, ApiKey.SHARE_FETCH, body, timeout_ms=cfg.request_timeout_ms + cfg.fetch_max_wait_ms))
            except (KafkaConnectionError, KafkaTimeoutError) as exc:
                # unknown whether the broker applied it: the session is gone either way on a lost link
                session.reset()
                self._report(taken, exc)
                self._cluster.request_refresh()
                return
            except KafkaError as exc:
                session.reset()
                self._report(taken, exc)
                self._error = exc
                return
            code = resp["error_code"]
            session.answered(code)
            if code:
                failure = error_for_code(code)(f"ShareFetch to node {node_id}: {resp['error_message'] or ''}")
                self._report(taken, failure)
                log.warning("%s", failure)
                return
            now = time.monotonic()
            self.fetch_responses += 1
            self.fetch_latency_total_s += now - sent_at
            if resp["acquisition_lock_timeout_ms"] > 0:
                self.acquisition_lock_timeout_ms = resp["acquisition_lock_timeout_ms"]
            by_partition: dict[TopicIdPartition, KafkaError | None] = {}
            for topic in resp["responses"]:
                name = self._topic_name(topic["topic_id"])
                for p in topic["partitions"]:
                    tp = (topic["topic_id"], p["partition_index"])
                    ack_code = p["acknowledge_error_code"]
                    by_partition[tp] = error_for_code(ack_code)(p["acknowledge_error_message"] or "") \
                        if ack_code else None
                    if p["error_code"]:
                        if p["error_code"] in _LEADER_MOVED:
                            self._cluster.request_refresh()
                        log.debug("ShareFetch %s[%d] from node %d: %s", name, tp[1], node_id,
                                  error_for_code(p["error_code"]).__name__)
                        continue
                    if name is None:
                        continue
                    self._collect(node_id, name, tp, p, now)
            self._report_by_partition(taken, by_partition)

    def _collect(self, node_id: int, topic: str, tp: TopicIdPartition, p: ShareFetchPartition, now: float) -> None:
        ranges = p["acquired_records"]
        if not ranges:
            return
        data = p["records"]
        seen: set[int] = set()
        cfg = self._config
        kd, vd = cfg.key_deserializer, cfg.value_deserializer
        partition = tp[1]
        out: list[ShareConsumerRecord] = []
        if data:
            self.bytes_consumed += len(data)
            i = 0
            for batch in read_batches(data, cfg.check_crcs):
                for r in batch.records(topic, partition):
                    off = r.offset
                    while i < len(ranges) and ranges[i]["last_offset"] < off:
                        i += 1
                    if i == len(ranges):
                        break
                    rng = ranges[i]
                    if off < rng["first_offset"]:
                        continue
                    seen.add(off)
                    key, value = r.key, r.value
                    try:
                        if kd is not None:
                            key = kd(key)
                        if vd is not None:
                            value = vd(value)
                    except Exception:
                        # the record cannot be handed out: release it for a consumer that can read it
                        self._unreadable.log(logging.ERROR, "deserializing %s[%d]@%d failed; releasing it", topic, partition, off,
                                            exc_info=True)
                        self._acks.setdefault(node_id, PendingAcks()).add(tp, off, AcknowledgeType.RELEASE)
                        continue
                    out.append(ShareConsumerRecord(topic, partition, off, r.timestamp, r.timestamp_type, key,
                                                   value, list(r.headers), r.leader_epoch, rng["delivery_count"],
                                                   node_id, now))
        for rng in ranges:  # acquired offsets without a record (markers, compacted away): acknowledge as gaps
            for off in range(rng["first_offset"], rng["last_offset"] + 1):
                if off not in seen:
                    self._acks.setdefault(node_id, PendingAcks()).add(tp, off, GAP)
        self.records_consumed += len(out)
        self._records.extend(out)

    # -- acknowledging ----------------------------------------------------------------------------

    async def commit(self, timeout_ms: float) -> AckResults:
        """Send every pending acknowledgement (ShareAcknowledge per broker) and wait for the answers."""
        nodes = set(self._acks) | set(self._renews)
        return await self._settled([self._acknowledge(n, timeout_ms) for n in nodes])

    async def renew(self, timeout_ms: float) -> AckResults:
        """Send the pending RENEW acknowledgements now."""
        return await self._settled([self._acknowledge(n, timeout_ms, renew_only=True) for n in list(self._renews)])

    async def _settled(self, exchanges: list[Coroutine[Any, Any, AckResults]]) -> AckResults:
        """The merged results of ``exchanges``, run as tasks that a cancelled caller leaves running:
        acknowledgements taken from the pending ones are sent and their answers reported (the
        callback) and applied to the session whatever happens to the caller. Stopped, the exchange
        would leave them unreported, and the session's epoch behind the broker's."""
        tasks = [asyncio.ensure_future(exchange) for exchange in exchanges]
        for task in tasks:
            self._acking.add(task)
            task.add_done_callback(self._acking.discard)
        together = asyncio.gather(*tasks)
        together.add_done_callback(_retrieved)   # a cancelled caller never reads its outcome
        results: AckResults = {}
        for out in await asyncio.shield(together):
            results.update(out)
        return results

    async def _acknowledge(self, node_id: int, timeout_ms: float, *, renew_only: bool = False,
                           final: bool = False) -> AckResults:
        results: AckResults = {}
        async with self._locks.setdefault(node_id, asyncio.Lock()):
            session = self._sessions.get(node_id)
            rounds = [(True, self._renews.pop(node_id, PendingAcks()).take())]
            if not renew_only:
                rounds.append((False, self._acks.pop(node_id, PendingAcks()).take()))
            for renew, taken in rounds:
                last = final and not renew
                if not taken and not last:
                    continue
                if renew and taken:
                    self._check_renew_supported(node_id)
                if session is None or not session.open:
                    err = KafkaConnectionError(f"no share session with node {node_id}: acknowledgements not sent "
                                               "(the records' locks expire on the broker)")
                    results.update(self._report(taken, err))
                    continue
                body = session.acknowledge_body(self._group_id, self._member_id(),
                                                {tp: encode_batches(a) for tp, a in taken.items()},
                                                renew=renew, final=last)
                try:
                    resp = cast("ShareAcknowledgeResponse", await self._request(
                        node_id, ApiKey.SHARE_ACKNOWLEDGE, body, timeout_ms=timeout_ms))
                except KafkaError as exc:
                    session.reset()
                    results.update(self._report(taken, exc))
                    continue
                code = resp["error_code"]
                session.answered(code)
                if code:
                    results.update(self._report(taken, error_for_code(code)(
                        f"ShareAcknowledge to node {node_id}: {resp['error_message'] or ''}")))
                    continue
                by_partition: dict[TopicIdPartition, KafkaError | None] = {}
                for topic in resp["responses"]:
                    for p in topic["partitions"]:
                        c = p["error_code"]
                        by_partition[(topic["topic_id"], p["partition_index"])] = \
                            error_for_code(c)(p["error_message"] or "") if c else None
                results.update(self._report_by_partition(taken, by_partition))
        return results

    def _check_renew_supported(self, node_id: int) -> None:
        conn = self._cluster.ready_connection(node_id, "share")
        if conn is not None and conn.version(ApiKey.SHARE_ACKNOWLEDGE) < 2:
            raise UnsupportedVersionError(f"node {node_id} cannot renew acquisition locks: RENEW needs "
                                          "ShareAcknowledge v2 (Kafka 4.2 or later, KIP-1222)")

    async def close(self, timeout_ms: float) -> None:
        """Send what is pending and close every share session (the broker releases what this member
        still holds through it). In-flight fetches are awaited first: they may hold acquired records;
        so are acknowledgements under way, whose answers the final ones' session epochs follow."""
        await _finished([*self._acking, *self._inflight.values()], timeout_ms)
        # records fetched but never handed out: released with the sessions' close
        self._records.clear()
        nodes = [n for n, s in self._sessions.items() if s.open] + [n for n in self._acks if n not in self._sessions]
        await asyncio.gather(*(self._acknowledge(n, timeout_ms, final=True) for n in set(nodes)),
                             return_exceptions=True)

    async def _request(self, node_id: int, api_key: ApiKey, body: dict[str, Any], timeout_ms: float) -> dict[str, Any]:
        resp = await self._cluster.request(node_id, api_key, body, purpose="share", timeout_ms=timeout_ms)
        assert resp is not None
        return resp

    # -- results ----------------------------------------------------------------------------------

    def _report(self, taken: dict[TopicIdPartition, dict[int, int]], error: KafkaError) -> AckResults:
        return self._report_by_partition(taken, {tp: error for tp in taken})

    def _report_by_partition(self, taken: dict[TopicIdPartition, dict[int, int]],
                             errors: dict[TopicIdPartition, KafkaError | None]) -> AckResults:
        results: AckResults = {}
        for tp, acks in taken.items():
            offsets = {o for o, t in acks.items() if t != GAP}
            if not offsets:
                continue
            name = self._topic_name(tp[0]) or str(tp[0])
            err = errors.get(tp)
            results[TopicPartition(name, tp[1])] = (offsets, err)
            if err is None:
                self.acknowledgements_sent += len(offsets)
            else:
                self.acknowledgements_failed += len(offsets)
                self._ack_failed.log(logging.WARNING, "acknowledging %s[%d] offsets %s failed: %r", name, tp[1],
                                     sorted(offsets)[:10], err)
        if self._on_acknowledged is not None:
            for tpn, (offsets, err) in results.items():
                self._on_acknowledged({tpn: offsets}, err)
        return results


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark ``future``'s exception as read (asyncio logs one nobody read)."""
    if not future.cancelled():
        future.exception()


async def _finished(tasks: list[asyncio.Task[Any]], timeout_ms: float) -> None:
    """``tasks`` ended: awaited up to ``timeout_ms``, then cancelled."""
    if tasks:
        await asyncio.wait(tasks, timeout=timeout_ms / 1000)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
