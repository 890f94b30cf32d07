"""The public Consumer.

```python
async with kafkaio.Consumer("orders", bootstrap_servers="localhost:9092", group_id="orders-processor",
                            enable_auto_commit=False, auto_offset_reset="earliest") as consumer:
    async for record in consumer:
        await handle(record)
        await consumer.commit()          # commits what has been handed to the application so far
```

The consumer wires together the cluster metadata and connections (:mod:`kafkaio.cluster`), the
fetch path (the fetcher prefetching into the fetch buffer, the collector handing out lazily
decoded records), the subscription state, and the group coordinator
(membership, rebalances, commits). "Consumed" means "handed to the application": a record's
partition position moves past it when ``getone()``/``async for`` returns it or ``getmany()``
returns its batch, and a commit without offsets commits exactly those positions. Deserializers run
in the collector, once per decoded batch, so that a failing record stops its partition in front of
it (see :meth:`Consumer.getmany`).
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Unpack

from kafkaio._loops import check_loop
from kafkaio.cluster import Cluster
from kafkaio.config import ConsumerConfig
from kafkaio.consumer.consumer_group import ConsumerGroupCoordinator
from kafkaio.consumer.coordinator import ConsumerGroupMetadata, GroupCoordinator, MemberState
from kafkaio.consumer.fetch_buffer import FetchBuffer
from kafkaio.consumer.fetch_collector import FetchCollector
from kafkaio.consumer.fetcher import Fetcher
from kafkaio.consumer.offsets import OffsetLookup, PositionKeeper, timestamps_for
from kafkaio.consumer.subscription import (
    EARLIEST,
    LATEST,
    ConsumerRebalanceListener,
    SubscriptionPattern,
    SubscriptionState,
)
from kafkaio.errors import (
    ConfigError,
    ErrorCode,
    IllegalStateError,
    KafkaError,
    KafkaTimeoutError,
    TopicAuthorizationError,
)
from kafkaio.health import ConsumerState, Health
from kafkaio.lifecycle import ACTIVE as _ACTIVE
from kafkaio.lifecycle import ClientState, Lifecycle
from kafkaio.metrics import ConsumerMetrics
from kafkaio.metrics.clients import consumer_metrics, consumer_reader
from kafkaio.settings import ConsumerSettings
from kafkaio.structs import GroupMembershipOperation, OffsetAndMetadata, TopicPartition
from kafkaio.telemetry import TelemetryReporter, telemetry_instance_id
from kafkaio.telemetry.collect import resource_attributes
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.records import ConsumerRecord

log = logging.getLogger(__name__)

__all__ = ["Consumer", "ConsumerRebalanceListener", "OffsetAndTimestamp", "ConsumerGroupMetadata"]


class OffsetAndTimestamp(NamedTuple):
    """Result of offsets_for_times(): the earliest offset whose timestamp is >= the one asked for."""

    offset: int
    timestamp: int
    leader_epoch: int = -1


class Consumer:
    """An asyncio Kafka consumer. Settings are the Java client's names with ``.`` -> ``_``."""

    def __init__(self, *topics: str, **settings: Unpack[ConsumerSettings]) -> None:
        self._init(ConsumerConfig.from_kwargs(**settings), topics)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | ConsumerConfig, *topics: str, **overrides: Any) -> "Consumer":
        """Build from Java-style dotted keys (``{"group.id": "g", "auto.offset.reset": "earliest"}``)."""
        self = cls.__new__(cls)
        cfg = config if isinstance(config, ConsumerConfig) else ConsumerConfig.from_dotted(config, **overrides)
        self._init(cfg, topics)
        return self

    def _init(self, config: ConsumerConfig, topics: Iterable[str]) -> None:
        self._config = config
        self._initial_topics = list(topics)
        for topic in self._initial_topics:
            if not isinstance(topic, str):
                hint = " (pass topics as separate arguments: Consumer('a', 'b') or Consumer(*topics))" \
                    if isinstance(topic, (list, tuple, set)) else ""
                raise ConfigError(f"topics: expected topic names (str), got {type(topic).__name__} "
                                  f"{topic!r:.80}{hint}")
        if self._initial_topics and config.group_id is None:
            raise ConfigError("group_id: required to subscribe to topics; use assign() to consume without a group")
        self._subs = SubscriptionState(config.auto_offset_reset, config.auto_offset_reset_duration_ms)
        self._cluster: Cluster | None = None
        self._fetcher: Fetcher | None = None
        self._collector: FetchCollector | None = None
        self._metrics = consumer_reader()
        self._coordinator: GroupCoordinator | None = None
        self._lookup: OffsetLookup | None = None
        self._positions: PositionKeeper | None = None
        self._telemetry: TelemetryReporter | None = None  # with enable_metrics_push, once started
        self._life = Lifecycle("consumer", IllegalStateError)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it was started on
        # True from start() until stop() begins: records are handed out only then. stop() clears it
        # first, so readers waiting at that moment wake at once (see getmany/getone).
        self._open = False
        self._pending_commits: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"<kafkaio.Consumer group_id={self._config.group_id!r} state={self._life.state.value}>"

    def __del__(self) -> None:
        # Reads nothing but this object's own state, touches no loop: it may run in any thread, in
        # any garbage collection, after the loop closed.
        life = self.__dict__.get("_life")
        if life is not None and life.state in _ACTIVE:
            warnings.warn(f"unclosed {self!r}: stop() commits, leaves the group and ends its tasks",
                          ResourceWarning, source=self)

    @property
    def config(self) -> ConsumerConfig:
        return self._config

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the cluster and start fetching (and, with a subscription, joining the group).
        Idempotent; a start() during another waits for it; refused once stop() began."""
        if not await self._life.begin_start():
            return
        self._loop = asyncio.get_running_loop()
        try:
            self._cluster = Cluster(self._config)
            await self._cluster.bootstrap()
            self._build()
        except BaseException:
            await self._abandon_start()
            self._life.start_failed()
            raise
        self._life.started()
        self._open = True
        # Nothing below awaits or can fail but by a bug: the tasks start once the start is recorded.
        if self._coordinator is not None:
            self._coordinator.start()
        assert self._fetcher is not None
        self._fetcher.start()
        if self._telemetry is not None:
            self._telemetry.start()

    def _build(self) -> None:
        """Make the parts that run on the bootstrapped cluster and apply the initial subscription
        (which may refuse a topic name), starting no task yet."""
        cfg = self._config
        cluster = self._live_cluster
        self._lookup = OffsetLookup(cluster, cfg)
        self._positions = PositionKeeper(self._subs, self._lookup, cfg)
        # a fetch goes fetcher -> buffer -> collector -> application
        buffer = FetchBuffer()
        self._fetcher = Fetcher(cluster, cfg, self._subs, self._positions, buffer)
        collector = self._collector = FetchCollector(cfg, self._subs, buffer, self._fetcher.wakeup)
        if cfg.group_id is not None:
            kind = ConsumerGroupCoordinator if cfg.group_protocol == "consumer" else GroupCoordinator
            self._coordinator = kind(cluster, cfg, self._subs, collector.discard,
                                     readers=buffer.records_available)
            self._positions.use_group(self._coordinator)
        if self._initial_topics:
            self._subs.subscribe(self._initial_topics)
            self._subscription_changed()
        if cfg.enable_metrics_push:
            self._telemetry = TelemetryReporter(cluster, "consumer", self.metrics, resource_attributes(
                "consumer", group_id=cfg.group_id, group_instance_id=cfg.group_instance_id,
                client_rack=cfg.client_rack), cfg.request_timeout_ms)

    async def _abandon_start(self) -> None:
        """Undo a start() that failed part way: no part is kept, no task or connection is left."""
        fetcher, positions, cluster = self._fetcher, self._positions, self._cluster
        self._cluster = self._fetcher = self._collector = self._coordinator = None
        self._lookup = self._positions = self._telemetry = None
        if fetcher is not None:
            await fetcher.close()
        if positions is not None:
            await positions.close()
        if cluster is not None:
            await cluster.close()

    async def stop(self, *, group_membership_operation: GroupMembershipOperation | str
                   = GroupMembershipOperation.DEFAULT) -> None:
        """Commit (with auto commit), revoke, leave the group, close connections. Idempotent.

        ``group_membership_operation`` (KIP-1092, as Java's ``CloseOptions``): ``DEFAULT`` leaves
        the group unless the member is static (``group_instance_id``); ``LEAVE_GROUP`` leaves it
        either way (a static member for good, its partitions reassigned at once);
        ``REMAIN_IN_GROUP`` keeps the membership until the session times out (a dynamic member
        sends no leave).

        ``commit_async()`` calls under way finish first; one waiting for a rebalance to complete
        gives up with :class:`RebalanceInProgressError` instead of holding stop().

        Readers waiting when stop() begins return at once, as aiokafka's do: ``getmany()`` returns
        ``{}``, ``getone()`` raises :class:`IllegalStateError`, ``async for`` ends. From then on
        no record is handed out.
        """
        membership = _membership_operation(group_membership_operation)
        if self._life.state is ClientState.STARTED:
            check_loop(self._loop, "consumer")
        await self._life.close(lambda: self._stop(membership))

    async def _stop(self, membership: GroupMembershipOperation) -> None:
        self._open = False
        if self._collector is not None:
            self._collector.records_available.set()   # wake the waiting readers
        # Still "running" while the coordinator closes: on_partitions_revoked may commit.
        try:
            if self._pending_commits:
                if self._coordinator is not None:
                    self._coordinator.stop_waiting()   # else a commit waiting for a rebalance holds stop()
                await asyncio.gather(*self._pending_commits, return_exceptions=True)
            if self._coordinator is not None:
                await self._coordinator.close(membership)
        finally:
            if self._collector is not None:
                self._collector.close()
            if self._fetcher is not None:
                await self._fetcher.close()
            if self._positions is not None:
                await self._positions.close()
            telemetry, self._telemetry = self._telemetry, None
            if telemetry is not None:  # the terminating push, with the final counts
                await telemetry.close()
            await self._live_cluster.close()

    close = stop

    async def __aenter__(self) -> "Consumer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def _live_cluster(self) -> Cluster:
        """The cluster, which exists once the consumer started."""
        cluster = self._cluster
        assert cluster is not None
        return cluster

    def _check_running(self) -> None:
        state = self._life.state
        if state not in _ACTIVE:
            raise IllegalStateError("the consumer is stopped" if state is ClientState.CLOSED
                                    else "the consumer is not started (use `async with` or await start())")
        check_loop(self._loop, "consumer")

    async def _ensure_positions(self) -> None:
        assert self._positions is not None
        await self._positions.ensure_positions()

    # -- subscription ---------------------------------------------------------------------------------

    def subscribe(self, topics: Iterable[str] | str = (),
                  pattern: str | re.Pattern[str] | SubscriptionPattern | None = None,
                  listener: ConsumerRebalanceListener | None = None) -> None:
        """Subscribe to topics (a list) or to every topic matching ``pattern``; needs a group_id.
        A ``str`` or ``re.Pattern`` is matched by this client against the topics it sees; a
        :class:`SubscriptionPattern` by the broker (``group_protocol="consumer"`` only)."""
        if self._config.group_id is None:
            raise IllegalStateError("subscribe() needs a group_id; use assign() to consume without a group")
        if isinstance(pattern, SubscriptionPattern) and self._config.group_protocol != "consumer":
            raise IllegalStateError("a SubscriptionPattern is matched by the broker under "
                                    "group_protocol='consumer' only; pass a str or re.Pattern instead")
        if listener is not None and not isinstance(listener, ConsumerRebalanceListener):
            raise IllegalStateError("listener must be a kafkaio.ConsumerRebalanceListener")
        self._subs.subscribe(topics, pattern, listener)
        if self._life.state not in _ACTIVE:
            self._initial_topics = []
            return
        self._subscription_changed()

    def _subscription_changed(self) -> None:
        """Tell the cluster (which topics' metadata to keep) and the coordinator of the new
        subscription."""
        if self._subs.mode == self._subs.TOPICS:
            self._live_cluster.add_topics(self._subs.topics)
            self._live_cluster.request_refresh()
        if self._coordinator is not None:
            self._coordinator.subscription_changed()

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Consume exactly these partitions, without group membership (commits still go to group_id)."""
        self._subs.assign_manually(partitions)
        if self._life.state in _ACTIVE:
            self._live_cluster.add_topics({tp.topic for tp in self._subs.assignment})
            self._live_cluster.request_refresh()
            self._wake_fetcher()

    def unsubscribe(self) -> None:
        """Drop the subscription or manual assignment.

        A group member stops handing out records at once; in the background it calls
        ``on_partitions_revoked`` (where committing still works), then leaves the group.
        """
        was_group = self._subs.uses_group
        owned = self._subs.assigned()
        if self._collector is not None:
            self._collector.discard()
        if was_group and self._coordinator is not None and self._life.state in _ACTIVE:
            for st in self._subs.assignment.values():
                st.revoking = True
            # The listener's commit needs the partitions still assigned: clear them afterwards.
            task = self._coordinator.unsubscribed(owned)
            self._pending_commits.add(task)
            task.add_done_callback(self._pending_commits.discard)
            self._subs.mode = self._subs.NONE
            self._subs.topics = set()
            self._subs.pattern = None
            self._subs.regex = None
        else:
            self._subs.unsubscribe()

    def subscription(self) -> set[str]:
        return set(self._subs.topics) if self._subs.uses_group else set()

    @property
    def state(self) -> ConsumerState:
        """Where the consumer is: created, stable, rebalancing, lost, fenced or closed."""
        life = self._life.state
        if life is ClientState.CLOSED or (life in _ACTIVE and not self._open):
            return ConsumerState.CLOSED
        if life not in _ACTIVE:
            return ConsumerState.CREATED
        coordinator = self._coordinator
        if coordinator is None or not self._subs.uses_group:
            return ConsumerState.STABLE
        if coordinator.fenced:
            return ConsumerState.FENCED
        if coordinator.partitions_lost:
            return ConsumerState.LOST
        if coordinator.state == MemberState.STABLE:
            return ConsumerState.STABLE
        return ConsumerState.REBALANCING

    def health(self) -> Health:
        """For a liveness check: unhealthy when created or closed, fenced, when the application has
        not polled within ``max_poll_interval_ms``, or when a group member's heartbeats have not been
        accepted for ``session_timeout_ms`` (the group has then given its partitions away)."""
        state = self.state
        now_mono, now = time.monotonic(), time.time()
        coordinator = self._coordinator
        last_poll = last_heartbeat = None
        reason = ""
        if coordinator is not None and self._subs.uses_group:
            last_poll = now - (now_mono - coordinator.last_poll)
            if coordinator.last_heartbeat is not None:
                last_heartbeat = now - (now_mono - coordinator.last_heartbeat)
        cfg = self._config
        if state in (ConsumerState.CREATED, ConsumerState.CLOSED, ConsumerState.FENCED):
            reason = f"the consumer is {state.value}"
        elif last_poll is not None and now - last_poll > cfg.max_poll_interval_ms / 1000.0:
            reason = (f"no getmany()/getone() for {now - last_poll:.0f} s (max_poll_interval_ms="
                      f"{cfg.max_poll_interval_ms})")
        elif (state is ConsumerState.STABLE and last_heartbeat is not None
              and now - last_heartbeat > cfg.session_timeout_ms / 1000.0):
            reason = (f"no heartbeat accepted for {now - last_heartbeat:.0f} s (session_timeout_ms="
                      f"{cfg.session_timeout_ms})")
        return Health(not reason, state, reason, last_poll=last_poll, last_heartbeat=last_heartbeat)

    def metrics(self) -> ConsumerMetrics:
        """Records consumed, fetches, lag, commits, rebalances and the connections, as the Java
        consumer's metrics (docs/metrics.md); call it from the event loop's thread."""
        return consumer_metrics(self._metrics, self._fetcher, self._collector, self._coordinator, self._cluster,
                                sorted(self._subs.assigned()), self.lag)

    async def client_instance_id(self, timeout: float) -> uuid.UUID | None:
        """The id the cluster gave this client for its telemetry (KIP-714, Java's ``clientInstanceId``),
        waiting up to ``timeout`` seconds for the first subscription; None if none came (no broker
        receives telemetry). :class:`IllegalStateError` with ``enable_metrics_push=False`` or before
        start()."""
        return await telemetry_instance_id(self._telemetry, self._config.enable_metrics_push, timeout)

    def assignment(self) -> set[TopicPartition]:
        """Partitions currently assigned to this consumer."""
        return self._subs.assigned()

    # -- consuming ------------------------------------------------------------------------------------

    def _before_poll(self) -> FetchCollector:
        self._check_running()
        if not self._open:
            raise IllegalStateError("the consumer is stopping")
        self._subs.in_progress = None   # asking for more: done with what it was handed
        if self._coordinator is not None:
            self._coordinator.poll()
        collector = self._collector
        assert collector is not None  # made by start(), which _check_running() saw
        if self._live_cluster.metadata.topic_errors:
            self._raise_topic_errors()
        return collector

    def _raise_topic_errors(self) -> None:
        """As Java's poll(): topics of the subscription or assignment the metadata says this client
        may not read raise :class:`TopicAuthorizationError` (on every read while that holds; the
        metadata is refreshed each time, so a granted ACL ends it)."""
        errors = self._live_cluster.metadata.topic_errors
        denied = sorted(t for t in self._subs.topics if errors.get(t) == ErrorCode.TOPIC_AUTHORIZATION_FAILED)
        if denied:
            self._live_cluster.request_refresh()
            err = TopicAuthorizationError(f"not authorized to access topics: {denied}")
            err.unauthorized_topics = set(denied)
            raise err

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None
                      ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Records by partition, at most ``max_records`` (default ``max_poll_records``) in all.

        Waits up to ``timeout_ms`` when nothing is buffered, or until ``stop()`` begins (then it
        returns ``{}``; called after that, it raises :class:`IllegalStateError`). Returning records moves each
        partition's position past them ("consumed"). A record the key/value deserializer fails on
        raises :class:`~kafkaio.errors.SerializationError` (``.topic_partition``, ``.offset``, the
        deserializer's exception as ``__cause__``) once the records before it are returned; the
        position stays on it until you ``seek(tp, err.offset + 1)``.
        """
        collector = self._before_poll()
        limit = max_records or self._config.max_poll_records
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        if not collector.drain(limit, out) and timeout_ms > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_ms / 1000.0
            event = collector.records_available
            while True:
                event.clear()
                if collector.drain(limit, out):
                    break
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    await within(event.wait(), left)
                except asyncio.TimeoutError:
                    break
                if not self._open:
                    break   # stop() began: return what we have (nothing), as aiokafka does
                collector = self._before_poll()
            if self._coordinator is not None:
                # a rebalance may have completed while this call waited: the caller now sees it
                self._coordinator.mark_polled()
        if out:
            self._subs.in_progress = out
        return out

    async def getone(self) -> ConsumerRecord:
        """The next record (waits as long as needed; raises :class:`IllegalStateError` when ``stop()``
        begins meanwhile)."""
        collector = self._before_poll()
        while True:
            rec = collector.next_record()
            if rec is not None:
                self._subs.in_progress = rec
                return rec
            event = collector.records_available
            event.clear()
            rec = collector.next_record()
            if rec is not None:
                self._subs.in_progress = rec
                return rec
            try:
                await within(event.wait(), 1.0)
            except asyncio.TimeoutError:
                pass
            collector = self._before_poll()

    def __aiter__(self) -> "Consumer":
        return self

    async def __anext__(self) -> ConsumerRecord:
        # Fast path: a buffered record costs no await and no dict.
        if self._open:
            coordinator = self._coordinator
            if coordinator is not None:
                coordinator.poll()
            collector = self._collector
            if collector is not None:  # open implies a collector
                rec = collector.next_record()
                if rec is not None:
                    self._subs.in_progress = rec
                    return rec
        else:
            raise StopAsyncIteration
        try:
            return await self.getone()
        except IllegalStateError:
            if not self._open:
                raise StopAsyncIteration from None
            raise

    # -- commits --------------------------------------------------------------------------------------

    def _require_group(self) -> GroupCoordinator:
        self._check_running()
        if self._coordinator is None:
            raise IllegalStateError("committing needs a group_id")
        return self._coordinator

    @staticmethod
    def _normalize_offsets(offsets: Mapping[TopicPartition, OffsetAndMetadata | int]
                           ) -> dict[TopicPartition, OffsetAndMetadata]:
        out = {}
        for tp, v in offsets.items():
            tp = TopicPartition(*tp)
            if isinstance(v, int):
                v = OffsetAndMetadata(v)
            elif not isinstance(v, OffsetAndMetadata):
                v = OffsetAndMetadata(*v)
            if v.offset < 0:
                raise IllegalStateError(f"cannot commit negative offset {v.offset} for {tp}")
            out[tp] = v
        return out

    async def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata | int] | None = None) -> None:
        """Commit and wait for the broker.

        Without ``offsets``: the positions of every assigned partition, i.e. everything handed to the
        application so far. With ``offsets``: those, where each offset is the *next* one to read
        (``record.offset + 1``). Only partitions assigned to this member, and still assigned when
        the commit goes out, are committed (docs/consumer.md, "Commits during rebalances"): raises
        :class:`CommitFailedError` when the member lost them (or never had them),
        :class:`RebalanceInProgressError` when a rebalance revoked them meanwhile or does not
        complete in time; either way nothing is written. Partitions kept through a rebalance are
        committed under the new generation.
        """
        coordinator = self._require_group()
        if offsets is None:
            commit = coordinator.consumed_offsets()
        else:
            commit = self._normalize_offsets(offsets)
        await coordinator.commit(commit)

    def commit_async(self, offsets: Mapping[TopicPartition, OffsetAndMetadata | int] | None = None,
                     callback: Callable[[dict[TopicPartition, OffsetAndMetadata], BaseException | None], Any] | None = None
                     ) -> asyncio.Task[None]:
        """Commit without waiting; ``callback(offsets, error_or_None)`` runs when the broker answers.

        The offsets are captured now. Returns the task (awaiting it is optional).
        """
        coordinator = self._require_group()
        commit = coordinator.consumed_offsets() if offsets is None else self._normalize_offsets(offsets)
        # What the member owns is captured with the offsets, not when the task first runs: a
        # rebalance in between must not let these offsets go out for partitions lost meanwhile.
        refused: KafkaError | None = None
        target = None
        try:
            target = coordinator.commit_target(commit) if commit else None
        except KafkaError as exc:
            refused = exc

        async def run() -> None:
            error: BaseException | None = refused
            if error is None:
                try:
                    await coordinator.commit(commit, target=target)
                except KafkaError as exc:
                    error = exc
            if callback is not None:
                res = callback(commit, error)
                if asyncio.iscoroutine(res):
                    await res
            elif error is not None:
                log.warning("asynchronous commit failed: %s", error)

        task = asyncio.get_running_loop().create_task(run())
        self._pending_commits.add(task)
        task.add_done_callback(self._pending_commits.discard)
        return task

    async def committed(self, tp: TopicPartition) -> OffsetAndMetadata | None:
        """The group's committed offset for ``tp`` (None when none)."""
        coordinator = self._require_group()
        return (await coordinator.fetch_committed([tp])).get(tp)

    def group_metadata(self) -> ConsumerGroupMetadata:
        """For a transactional producer's send_offsets_to_transaction()."""
        return self._require_group().group_metadata()

    # -- positions ------------------------------------------------------------------------------------

    def _wake_fetcher(self) -> None:
        if self._fetcher is not None:
            self._fetcher.wakeup()

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Continue ``tp`` at ``offset`` (the next record handed out)."""
        if offset < 0:
            raise IllegalStateError(f"seek offset must be >= 0, got {offset}")
        self._subs.state(TopicPartition(*tp)).seek(offset)
        self._wake_fetcher()

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self._reset(partitions, EARLIEST)

    async def seek_to_end(self, *partitions: TopicPartition) -> None:
        self._reset(partitions, LATEST)

    def _reset(self, partitions: tuple[TopicPartition, ...], where: int) -> None:
        tps = [TopicPartition(*tp) for tp in partitions] or list(self._subs.assignment)
        for tp in tps:
            self._subs.state(tp).request_reset(where)
        self._wake_fetcher()

    async def seek_to_committed(self, *partitions: TopicPartition) -> dict[TopicPartition, int | None]:
        """Seek to the committed offsets; partitions without one are left where they are."""
        coordinator = self._require_group()
        tps = [TopicPartition(*tp) for tp in partitions] or list(self._subs.assignment)
        committed = await coordinator.fetch_committed(tps)
        out: dict[TopicPartition, int | None] = {}
        for tp in tps:
            oam = committed.get(tp)
            out[tp] = None if oam is None else oam.offset
            if oam is not None and tp in self._subs.assignment:
                self._subs.state(tp).seek(oam.offset, oam.leader_epoch)
        self._wake_fetcher()
        return out

    async def position(self, tp: TopicPartition) -> int:
        """The offset of the next record this consumer hands out for ``tp``."""
        self._check_running()
        tp = TopicPartition(*tp)
        st = self._subs.state(tp)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.default_api_timeout_ms / 1000.0
        while st.position is None:
            if st.error is not None:
                err, st.error = st.error, None
                raise err
            await self._ensure_positions()
            if st.position is None:
                if loop.time() > deadline:
                    raise KafkaTimeoutError(f"no position for {tp} within default_api_timeout_ms")
                await asyncio.sleep(self._config.retry_backoff_ms / 1000.0)
            st = self._subs.state(tp)
        return st.position

    def highwater(self, tp: TopicPartition) -> int | None:
        """The partition's high watermark as of the last fetch (None before the first)."""
        return self._subs.state(TopicPartition(*tp)).highwater

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return self._subs.state(TopicPartition(*tp)).last_stable_offset

    def lag(self, tp: TopicPartition) -> int | None:
        """Records between the position and the end (LSO with read_committed), as of the last fetch."""
        st = self._subs.state(TopicPartition(*tp))
        end = st.last_stable_offset if self._config.isolation_level == "read_committed" else st.highwater
        if end is None or st.position is None:
            return None
        return max(0, end - st.position)

    async def offsets_for_times(self, timestamps: Mapping[TopicPartition, int]
                                ) -> dict[TopicPartition, OffsetAndTimestamp | None]:
        """For each partition, the earliest offset whose timestamp is >= the given one (ms)."""
        self._check_running()
        for tp, ts in timestamps.items():
            if ts < 0:
                raise IllegalStateError(f"timestamp for {tp} must be >= 0, got {ts}")
        assert self._lookup is not None
        found = await self._lookup.list_offsets({TopicPartition(*tp): ts for tp, ts in timestamps.items()})
        return {tp: (None if off < 0 else OffsetAndTimestamp(off, ts, epoch))
                for tp, (off, ts, epoch) in found.items()}

    async def beginning_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        self._check_running()
        assert self._lookup is not None
        found = await self._lookup.list_offsets(timestamps_for(map(lambda t: TopicPartition(*t), partitions), EARLIEST))
        return {tp: v[0] for tp, v in found.items()}

    async def end_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """The next offset to be written (read_committed: the last stable offset)."""
        self._check_running()
        assert self._lookup is not None
        found = await self._lookup.list_offsets(timestamps_for(map(lambda t: TopicPartition(*t), partitions), LATEST))
        return {tp: v[0] for tp, v in found.items()}

    # -- flow control ---------------------------------------------------------------------------------

    def pause(self, *partitions: TopicPartition) -> None:
        """Stop handing out (and fetching) these partitions until resume(); their position stays.

        Records already fetched for them are kept, and handed out after resume() without being
        fetched again."""
        for tp in partitions:
            self._subs.state(TopicPartition(*tp)).paused = True

    def resume(self, *partitions: TopicPartition) -> None:
        """Hand out and fetch these paused partitions again, from where they stopped."""
        tps = {TopicPartition(*tp) for tp in partitions}
        for tp in tps:
            self._subs.state(tp).paused = False
        if self._collector is not None:
            self._collector.resume(tps)

    def paused(self) -> set[TopicPartition]:
        return {tp for tp, st in self._subs.assignment.items() if st.paused}

    async def topics(self) -> set[str]:
        """Every topic in the cluster (a metadata request)."""
        self._check_running()
        self._live_cluster.set_all_topics(True)
        try:
            meta = await self._live_cluster.refresh_metadata()
        finally:
            self._live_cluster.set_all_topics(self._subs.mode == self._subs.PATTERN)
        return set(meta.topics)

    async def partitions_for_topic(self, topic: str) -> set[int]:
        self._check_running()
        return set(await self._live_cluster.wait_for_topic(topic))


def _membership_operation(value: GroupMembershipOperation | str) -> GroupMembershipOperation:
    try:
        return GroupMembershipOperation(value)
    except ValueError:
        choices = ", ".join(repr(op.value) for op in GroupMembershipOperation)
        raise ValueError(f"group_membership_operation must be one of {choices}, not {value!r}") from None
