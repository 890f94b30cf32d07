"""The public ShareConsumer: a member of a share group (KIP-932).

```python
async with kafkaio.ShareConsumer("jobs", bootstrap_servers="localhost:9092", group_id="workers") as consumer:
    async for record in consumer:       # implicit mode: accepted at the next poll or commit
        await handle(record)
```

Many members read the same partitions; each record is acquired by one member for a time (the
broker's acquisition lock) and acknowledged one by one: ACCEPT, RELEASE (delivered again, with
``delivery_count`` + 1) or REJECT. The member state machine is :mod:`kafkaio.share.membership`,
the heartbeats :mod:`kafkaio.share.heartbeat`, the ShareFetch/ShareAcknowledge traffic
:mod:`kafkaio.share.fetcher`.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Unpack

from kafkaio._loops import check_loop
from kafkaio.cluster import Cluster
from kafkaio.config.share_consumer import ShareConsumerConfig
from kafkaio.errors import IllegalStateError, KafkaError
from kafkaio.lifecycle import ACTIVE as _ACTIVE
from kafkaio.lifecycle import ClientState, Lifecycle
from kafkaio.metrics import ShareConsumerMetrics
from kafkaio.metrics.clients import share_consumer_metrics, share_consumer_reader
from kafkaio.retry import Deadline
from kafkaio.share.acks import TopicIdPartition
from kafkaio.share.fetcher import AckCallback, ShareFetcher
from kafkaio.share.heartbeat import Heartbeat
from kafkaio.share.membership import MemberState, ShareMembership
from kafkaio.share.records import AcknowledgeType, ShareConsumerRecord
from kafkaio.structs import TopicPartition
from kafkaio.telemetry import TelemetryReporter, telemetry_instance_id
from kafkaio.telemetry.collect import resource_attributes

if TYPE_CHECKING:
    from kafkaio.settings import ShareConsumerSettings

log = logging.getLogger(__name__)

__all__ = ["ShareConsumer", "AcknowledgeType", "ShareConsumerRecord"]


class ShareConsumer:
    """An asyncio share-group consumer. Settings are the Java client's names with ``.`` -> ``_``."""

    def __init__(self, *topics: str, **settings: Unpack[ShareConsumerSettings]) -> None:
        self._init(ShareConsumerConfig.from_kwargs(**settings), topics)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | ShareConsumerConfig, *topics: str,
                    **overrides: Any) -> "ShareConsumer":
        """Build from Java-style dotted keys (``{"group.id": "g", "share.acknowledgement.mode": "explicit"}``)."""
        self = cls.__new__(cls)
        cfg = config if isinstance(config, ShareConsumerConfig) else \
            ShareConsumerConfig.from_dotted(config, **overrides)
        self._init(cfg, topics)
        return self

    def _init(self, config: ShareConsumerConfig, topics: tuple[str, ...]) -> None:
        self._config = config
        self._topics = tuple(topics)
        assert config.group_id is not None
        self._membership = ShareMembership(config.group_id, self._topics, config.client_rack)
        self._cluster: Cluster | None = None
        self._heartbeat: Heartbeat | None = None
        self._fetcher: ShareFetcher | None = None
        self._delivered: dict[tuple[str, int, int], ShareConsumerRecord] = {}
        self._ack_callback: AckCallback | None = None
        self._commits: set[asyncio.Task[dict[TopicPartition, KafkaError | None]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._life = Lifecycle("share consumer", IllegalStateError)
        self._metrics = share_consumer_reader()
        self._last_poll: float | None = None  # time.monotonic() of the last poll, for metrics()
        self._telemetry: TelemetryReporter | None = None  # with enable_metrics_push, once started

    def __repr__(self) -> str:
        return (f"<kafkaio.ShareConsumer group_id={self._config.group_id!r} "
                f"state={self._membership.state.name} client={self._life.state.value}>")

    def __del__(self) -> None:
        life = self.__dict__.get("_life")
        if life is not None and life.state in _ACTIVE:
            warnings.warn(f"unclosed {self!r}: close() acknowledges, leaves the group and ends its tasks",
                          ResourceWarning, source=self)

    @property
    def config(self) -> ShareConsumerConfig:
        return self._config

    @property
    def closed(self) -> bool:
        """True once close() began (or start() failed)."""
        return self._life.state in (ClientState.CLOSING, ClientState.CLOSED)

    @property
    def member_id(self) -> str:
        return self._membership.member_id

    @property
    def state(self) -> MemberState:
        """Where the member is in the group (Java's ``MemberState``)."""
        return self._membership.state

    @property
    def acquisition_lock_timeout_ms(self) -> int | None:
        """The broker's acquisition lock duration, as its last ShareFetch answer said (None before)."""
        ms = self._fetcher.acquisition_lock_timeout_ms if self._fetcher is not None else -1
        return ms if ms > 0 else None

    def metrics(self) -> ShareConsumerMetrics:
        """Records acquired, fetches, acknowledgements, rebalances and the connections, as the Java
        share consumer's metrics (docs/metrics.md); call it from the event loop's thread."""
        return share_consumer_metrics(self._metrics, self._fetcher, self._cluster,
                                      len(self._membership.assignment.partitions),
                                      self._membership.assignments_received, self._last_poll)

    async def client_instance_id(self, timeout: float) -> uuid.UUID | None:
        """The id the cluster gave this client for its telemetry (KIP-714, Java's ``clientInstanceId``),
        waiting up to ``timeout`` seconds for the first subscription; None if none came (no broker
        receives telemetry). :class:`IllegalStateError` with ``enable_metrics_push=False`` or before
        start()."""
        return await telemetry_instance_id(self._telemetry, self._config.enable_metrics_push, timeout)

    def assignment(self) -> set[TopicPartition]:
        """Partitions the coordinator assigned to this member (other members may share them)."""
        out = set()
        for tid, p in self._membership.assignment.partitions:
            name = self._topic_name(tid)
            if name is not None:
                out.add(TopicPartition(name, p))
        return out

    def set_acknowledgement_commit_callback(self, callback: AckCallback | None) -> None:
        """``callback(offsets_by_partition, error_or_None)`` after each acknowledgement answer."""
        self._ack_callback = callback

    def _acknowledged(self, offsets: dict[TopicPartition, set[int]], error: KafkaError | None) -> None:
        """The fetcher's report of an acknowledgement outcome, for the user's callback if one is set."""
        callback = self._ack_callback
        if callback is not None:
            callback(offsets, error)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, join the share group (UnsupportedVersionError when the broker has no share groups)."""
        if not self._topics:
            raise IllegalStateError("a share consumer needs topics: ShareConsumer('topic', group_id=...)")
        if not await self._life.begin_start():
            return
        cfg = self._config
        self._loop = asyncio.get_running_loop()
        self._cluster = Cluster(cfg)
        try:
            await self._cluster.bootstrap()
            self._cluster.set_topics(self._topics)
            await self._cluster.refresh_metadata(list(self._topics))
            self._fetcher = ShareFetcher(self._cluster, cfg, lambda: self._membership.member_id,
                                         self._topic_name, self._topic_id, self._acknowledged)
            self._heartbeat = Heartbeat(self._cluster, self._membership, cfg.retry_backoff_ms, cfg.request_timeout_ms)
            await self._heartbeat.join()
        except BaseException:
            await self._cluster.close()
            self._life.start_failed()
            await self._life.close(lambda: self._close(None))   # from NEW: closed, nothing to run
            raise
        self._life.started()
        if cfg.enable_metrics_push:
            self._telemetry = TelemetryReporter(self._cluster, "share_consumer", self.metrics, resource_attributes(
                "share_consumer", group_id=cfg.group_id, client_rack=cfg.client_rack), cfg.request_timeout_ms)
            self._telemetry.start()

    async def close(self, timeout_ms: int | None = None) -> None:
        """Acknowledge what is pending (implicit mode: accept the last poll's records), close the
        share sessions (the broker releases records still held), leave the group, end every task."""
        if self._life.state is ClientState.STARTED:
            check_loop(self._loop, "share consumer")
        await self._life.close(lambda: self._close(timeout_ms))

    async def _close(self, timeout_ms: int | None) -> None:
        deadline = Deadline(self._config.default_api_timeout_ms if timeout_ms is None else timeout_ms)
        if self._commits:  # commit_async() tasks end before the sessions close
            await asyncio.wait(list(self._commits), timeout=deadline.remaining())
        assert self._fetcher is not None and self._heartbeat is not None and self._cluster is not None
        try:
            self._acknowledge_implicitly()
            self._delivered.clear()
            await self._fetcher.close(deadline.remaining_ms() or 0)
            await self._heartbeat.leave(deadline.remaining_ms() or 0)
        finally:
            self._fetcher.arrived.set()
            telemetry, self._telemetry = self._telemetry, None
            try:
                if telemetry is not None:  # the terminating push, with the final counts
                    await telemetry.close()
            finally:
                await self._cluster.close()

    stop = close

    async def __aenter__(self) -> "ShareConsumer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check_running(self) -> None:
        state = self._life.state
        if state not in _ACTIVE:
            raise IllegalStateError("the share consumer is closed" if state is ClientState.CLOSED
                                    else "the share consumer is not started (use `async with` or await start())")
        check_loop(self._loop, "share consumer")
        if self._membership.fatal_error is not None:
            raise self._membership.fatal_error

    # -- polling --------------------------------------------------------------------------------

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None
                      ) -> dict[TopicPartition, list[ShareConsumerRecord]]:
        """Records acquired for this member, by partition, waiting up to ``timeout_ms`` for some.

        Implicit mode accepts every record the previous call returned; explicit mode requires
        each of them to have been acknowledged (IllegalStateError otherwise, as Java's poll)."""
        records = await self._poll(timeout_ms, max_records)
        out: dict[TopicPartition, list[ShareConsumerRecord]] = {}
        for r in records:
            out.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
        return out

    async def _poll(self, timeout_ms: float, max_records: int | None) -> list[ShareConsumerRecord]:
        self._check_running()
        assert self._fetcher is not None and self._heartbeat is not None
        self._last_poll = time.monotonic()
        if self._config.share_acknowledgement_mode == "explicit" and self._delivered:
            raise IllegalStateError(f"{len(self._delivered)} record(s) of the previous poll are not acknowledged "
                                    "(share_acknowledgement_mode=explicit): acknowledge() each before polling again")
        self._acknowledge_implicitly()
        limit = max_records or self._config.max_poll_records
        fetcher = self._fetcher
        deadline = Deadline(timeout_ms)
        while True:
            err = fetcher.take_error()
            if err is not None:
                raise err
            if self._membership.fatal_error is not None:
                raise self._membership.fatal_error
            if fetcher.has_records():
                break
            if self._life.state is not ClientState.STARTED:
                return []
            fetcher.arrived.clear()
            self._heartbeat.changed.clear()
            wanted = self._wanted_by_node()
            if wanted:
                fetcher.fetch(wanted, limit)
            elif fetcher.pending_acks:
                await fetcher.commit(self._config.request_timeout_ms)
            left = deadline.remaining()
            if left == 0:
                break
            waiters = [asyncio.ensure_future(fetcher.arrived.wait()), asyncio.ensure_future(self._heartbeat.changed.wait())]
            try:
                await asyncio.wait(waiters, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
        taken = fetcher.take(limit, whole_acquisitions=self._config.share_acquire_mode != "record_limit")
        for r in taken:
            self._delivered[(r.topic, r.partition, r.offset)] = r
        return taken

    async def getone(self) -> ShareConsumerRecord:
        """The next record (waiting as long as needed)."""
        while True:
            records = await self._poll(1000, 1)
            if records:
                return records[0]

    def __aiter__(self) -> AsyncIterator[ShareConsumerRecord]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ShareConsumerRecord]:
        while self._life.state is ClientState.STARTED:
            for record in await self._poll(1000, None):
                yield record

    def _wanted_by_node(self) -> dict[int, set[TopicIdPartition]]:
        assert self._cluster is not None
        wanted: dict[int, set[TopicIdPartition]] = {}
        for tid, p in self._membership.assignment.partitions:
            name = self._topic_name(tid)
            leader = self._cluster.leader_for(name, p) if name is not None else None
            if leader is None or leader < 0:
                self._cluster.request_refresh()
                continue
            wanted.setdefault(leader, set()).add((tid, p))
        return wanted

    # -- acknowledging --------------------------------------------------------------------------

    def acknowledge(self, record: ShareConsumerRecord, type: AcknowledgeType = AcknowledgeType.ACCEPT) -> None:
        """Acknowledge ``record`` (explicit mode): sent with the next fetch, commit() or close().

        RENEW extends the record's acquisition lock (KIP-1222) and leaves it to be acknowledged
        again; :meth:`renew` sends renewals at once."""
        self._check_running()
        if self._config.share_acknowledgement_mode != "explicit":
            raise IllegalStateError("acknowledge() needs share_acknowledgement_mode='explicit'")
        key = (record.topic, record.partition, record.offset)
        if key not in self._delivered:
            raise IllegalStateError(f"{record.topic}[{record.partition}]@{record.offset} was not delivered by the "
                                    "last poll, or is acknowledged already")
        assert self._fetcher is not None
        self._fetcher.acknowledge(record, AcknowledgeType(type))
        if type != AcknowledgeType.RENEW:
            del self._delivered[key]

    async def renew(self, record: ShareConsumerRecord, timeout_ms: int | None = None) -> None:
        """Extend ``record``'s acquisition lock now (RENEW, KIP-1222); raises if the broker refuses."""
        self.acknowledge(record, AcknowledgeType.RENEW)
        assert self._fetcher is not None
        results = await self._fetcher.renew(self._timeout(timeout_ms))
        _, err = results.get(TopicPartition(record.topic, record.partition), (set(), None))
        if err is not None:
            raise err

    def _acknowledge_implicitly(self) -> None:
        if self._config.share_acknowledgement_mode == "implicit" and self._delivered:
            assert self._fetcher is not None
            for r in self._delivered.values():
                self._fetcher.acknowledge(r, AcknowledgeType.ACCEPT)
            self._delivered.clear()

    async def commit(self, timeout_ms: int | None = None) -> dict[TopicPartition, KafkaError | None]:
        """Send the pending acknowledgements (implicit mode: the last poll's records) and wait: the
        outcome per partition, None where the broker took them."""
        self._check_running()
        self._acknowledge_implicitly()
        assert self._fetcher is not None
        results = await self._fetcher.commit(self._timeout(timeout_ms))
        return {tp: err for tp, (_, err) in results.items()}

    def commit_async(self) -> asyncio.Task[dict[TopicPartition, KafkaError | None]]:
        """Start :meth:`commit` in the background; the task's result is its outcome."""
        self._check_running()
        task = asyncio.get_running_loop().create_task(self.commit())
        self._commits.add(task)
        task.add_done_callback(self._commits.discard)
        return task

    def processing(self, record: ShareConsumerRecord, **options: Any) -> AbstractAsyncContextManager[ShareConsumerRecord]:
        """``async with consumer.processing(record):`` accepts on success, releases on an exception
        (rejects after ``reject_after`` deliveries) and renews the lock while the body runs long.
        See :func:`kafkaio.share.processing.processing`."""
        from kafkaio.share.processing import processing

        return processing(self, record, **options)

    def _timeout(self, timeout_ms: int | None) -> int:
        return self._config.default_api_timeout_ms if timeout_ms is None else timeout_ms

    # -- topic ids --------------------------------------------------------------------------------

    def _topic_name(self, topic_id: uuid.UUID) -> str | None:
        assert self._cluster is not None
        for name, t in self._cluster.metadata.topics.items():
            if t.topic_id == topic_id:
                return name
        self._cluster.request_refresh()
        return None

    def _topic_id(self, topic: str) -> uuid.UUID | None:
        assert self._cluster is not None
        t = self._cluster.metadata.topics.get(topic)
        return t.topic_id if t is not None else None
