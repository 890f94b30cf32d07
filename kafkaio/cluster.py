"""Cluster metadata, bootstrap, routing and the connection pool.

``Cluster`` is what every client (producer, consumer, admin) shares:

- **bootstrap**: contact the ``bootstrap_servers`` until one answers a Metadata request;
  :class:`NoBrokersAvailableError` naming every address tried (and why it failed) otherwise.
- **metadata cache**: an immutable :class:`ClusterMetadata` snapshot, replaced on every refresh,
  so readers always see one consistent view. Refreshed every ``metadata_max_age_ms``, and on
  demand (:meth:`Cluster.request_refresh`) after errors that call for it, never more often than
  the retry backoff allows; concurrent requests for a refresh share one Metadata round trip. A
  partition whose reported leader epoch is older than the cached one is ignored (KIP-320: a
  lagging broker must not move us back to an old leader).
- **connection pool**: one connection per (broker, purpose) so that a long-poll fetch never
  queues in front of a produce request or a heartbeat.
- **reconnect backoff** per broker, exponential with jitter (``reconnect_backoff_ms`` ..
  ``reconnect_backoff_max_ms``); the connection setup timeout grows the same way
  (``socket_connection_setup_timeout_ms`` .. ``_max_ms``). An authentication failure is
  remembered for ``reconnect_backoff_max_ms`` and re-raised without reconnecting, so a wrong
  password does not turn into a reconnect storm.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Literal, cast, overload

from kafkaio._speedups import load as _load_speedups
from kafkaio.config import CommonConfig, ConsumerConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import (
    AuthenticationError,
    ErrorCode,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NoBrokersAvailableError,
    RebootstrapRequiredError,
    UnknownTopicOrPartitionError,
    error_for_code,
)
from kafkaio.metrics.network import ConnectionTotals
from kafkaio.protocol import ApiKey
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.retry import Backoff, Deadline, ExponentialBackoff, retry_async
from kafkaio.tls import build_ssl_context
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio._speedups._metadata_cell import MetadataCell
    from kafkaio.protocol.bodies import FindCoordinatorResponse, FindCoordinatorResponseCoordinators, MetadataResponse
else:
    MetadataCell = _load_speedups("metadata_cell").MetadataCell  # compiled, or its pure twin

log = logging.getLogger(__name__)

PURPOSES = ("default", "produce", "fetch", "group")
COORDINATOR_KEY_GROUP = 0
COORDINATOR_KEY_TRANSACTION = 1


# ------------------------------------------------------------------------------------ metadata


@dataclass(frozen=True, slots=True)
class BrokerMetadata:
    node_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True, slots=True)
class PartitionMetadata:
    topic: str
    partition: int
    leader: int  # -1 when there is no leader
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    offline_replicas: tuple[int, ...]
    error_code: int = 0


@dataclass(frozen=True, slots=True)
class TopicMetadata:
    name: str
    topic_id: uuid.UUID | None  # None: no id known (older versions, or the broker has none)
    is_internal: bool
    partitions: dict[int, PartitionMetadata]
    error_code: int = 0


@dataclass(frozen=True)
class ClusterMetadata:
    """One consistent snapshot of what the cluster told us."""

    brokers: dict[int, BrokerMetadata] = field(default_factory=dict)
    topics: dict[str, TopicMetadata] = field(default_factory=dict)
    controller_id: int = -1
    cluster_id: str | None = None
    # Topics asked for whose last answer was an error (e.g. UNKNOWN_TOPIC_OR_PARTITION).
    topic_errors: dict[str, int] = field(default_factory=dict)
    updated_at: float = 0.0  # time.monotonic() of the refresh that produced this snapshot
    version: int = 0  # increases by one per successful refresh
    # topic -> its partitions that have a leader, sorted: computed once per snapshot (the sticky
    # partitioner asks on every draw)
    _available: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def leader_for(self, topic: str, partition: int) -> int | None:
        """Leader node id, or None when unknown or leaderless."""
        info = self.topics.get(topic)
        if info is None:
            return None
        part = info.partitions.get(partition)
        if part is None or part.leader < 0:
            return None
        return part.leader

    def partitions_for(self, topic: str) -> list[int] | None:
        """Sorted partition ids of ``topic``, or None when the topic is not known."""
        info = self.topics.get(topic)
        return None if info is None else sorted(info.partitions)

    def available_partitions_for(self, topic: str) -> list[int]:
        """Partition ids of ``topic`` that currently have a leader, sorted (a list of the caller's)."""
        return list(self.available_partitions(topic))

    def available_partitions(self, topic: str) -> tuple[int, ...]:
        """Partition ids of ``topic`` that currently have a leader, sorted; computed once per snapshot."""
        parts = self._available.get(topic)
        if parts is None:
            info = self.topics.get(topic)
            if info is None:
                return ()
            parts = self._available[topic] = tuple(sorted(p for p, m in info.partitions.items() if m.leader >= 0))
        return parts

    def broker(self, node_id: int) -> BrokerMetadata | None:
        return self.brokers.get(node_id)


def _is_retriable(exc: BaseException) -> bool:
    return isinstance(exc, KafkaError) and exc.retriable


# ------------------------------------------------------------------------------------- cluster


class Cluster:
    """Metadata cache and connection pool shared by one client (see module docstring)."""

    def __init__(self, config: CommonConfig) -> None:
        self.config = config
        self._bootstrap = config.bootstrap_addresses()
        self._ssl_context = build_ssl_context(config)  # once: ConfigError now for bad files
        #: the current metadata, the one object each refresh writes it into (``metadata`` reads and
        #: writes it); made once, so the readers that need the metadata per record or per request
        #: hold it and read ``current`` (the producer's append path as a C field)
        self.metadata_cell: MetadataCell[ClusterMetadata] = MetadataCell(ClusterMetadata())
        self._topics: set[str] = set()
        self._all_topics = False
        # only a consumer may be configured not to create topics by asking for their metadata
        self._allow_auto_create = not isinstance(config, ConsumerConfig) or config.allow_auto_create_topics
        self._conns: dict[tuple[int, str], BrokerConnection] = {}
        #: connections opened, closed and failed, and what the closed ones did (kafkaio.metrics)
        self.connection_totals = ConnectionTotals()
        self._connecting: dict[tuple[int, str], asyncio.Task[BrokerConnection]] = {}
        self._extra_brokers: dict[int, BrokerMetadata] = {}  # learned from FindCoordinator
        self._reconnect_policy = ExponentialBackoff(
            config.reconnect_backoff_ms, config.reconnect_backoff_max_ms)
        self._setup_policy = ExponentialBackoff(
            config.socket_connection_setup_timeout_ms, config.socket_connection_setup_timeout_max_ms)
        self._retry_policy = ExponentialBackoff(
            config.retry_backoff_ms, config.retry_backoff_max_ms)
        self._node_backoff: dict[int, Backoff] = {}
        self._auth_failure: tuple[AuthenticationError, float] | None = None
        self._refresh_backoff = Backoff(self._retry_policy)
        self._rebootstrap_required = False   # a broker refused to be the node we meant (KIP-1242)
        self._refresh_wanted = asyncio.Event()
        self._updated = asyncio.Event()
        self._refresh_inflight: tuple[asyncio.Task[None], frozenset[str] | None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._max_age = config.metadata_max_age_ms / 1000.0
        self._request_timeout_ms = float(config.request_timeout_ms)
        self._closed = False

    @property
    def metadata(self) -> ClusterMetadata:
        """The current metadata (replaced, never changed in place, by each refresh)."""
        return self.metadata_cell.current

    @metadata.setter
    def metadata(self, metadata: ClusterMetadata) -> None:
        self.metadata_cell.current = metadata

    def __repr__(self) -> str:
        return (f"<Cluster brokers={sorted(self.metadata.brokers)} topics={len(self.metadata.topics)} "
                f"connections={len(self._conns)}>")

    # --------------------------------------------------------------------------- bootstrap

    async def bootstrap(self, timeout_ms: float | None = None) -> None:
        """Fetch the first metadata from any bootstrap server; start the periodic refresh.

        Tries every address in turn (with the reconnect backoff between rounds) until one
        answers or ``timeout_ms`` (default ``request_timeout_ms``) passes, then raises
        :class:`NoBrokersAvailableError` naming each address and its last error. An
        authentication or TLS failure is raised at once: trying again would fail the same way.
        """
        self._check_open()
        deadline = Deadline(self._request_timeout_ms if timeout_ms is None else timeout_ms)
        await self._bootstrap_metadata(deadline)
        if self._refresher is None:
            self._refresher = asyncio.get_running_loop().create_task(
                self._refresh_loop(), name="kafkaio-metadata-refresh")

    async def _bootstrap_metadata(self, deadline: Deadline) -> None:
        errors: dict[str, str] = {}
        backoff = Backoff(self._reconnect_policy)
        warned = False
        while True:
            for index, (host, port) in enumerate(self._bootstrap):
                address = f"{host}:{port}"
                self._raise_recent_auth_failure()
                try:
                    await self._metadata_via_address(host, port, -(index + 1), deadline)
                    return
                except AuthenticationError as exc:
                    self._remember_auth_failure(exc)
                    raise
                except (KafkaError, OSError) as exc:
                    # Our own deadline cutting an attempt short says less than an earlier error.
                    if not (deadline.expired and address in errors):
                        errors[address] = str(exc) or exc.__class__.__name__
                    log.debug("bootstrap server %s failed: %s", address, exc)
                if deadline.expired:
                    break
            left = deadline.remaining()
            if left is not None and left <= 0 or deadline.expired:
                tried = "; ".join(f"{h}:{p} ({errors.get(f'{h}:{p}', 'not reached before the deadline')})"
                                  for h, p in self._bootstrap)
                raise NoBrokersAvailableError(f"no bootstrap server answered in time; tried {tried}")
            if not warned:
                # once, at the first failed round: an unreachable cluster must not be silent for
                # the whole wait (max_block_ms, 60 s by default for the producer)
                warned = True
                tried = "; ".join(f"{a} ({e})" for a, e in errors.items())
                wait = f"for up to {left * 1000:.0f} ms more" if left is not None else "until it answers"
                log.warning("kafkaio: no bootstrap server answered yet: %s; retrying %s", tried, wait)
            delay = backoff.fail()
            await asyncio.sleep(min(delay, left) if left is not None else delay)

    async def _metadata_via_address(self, host: str, port: int, node_id: int, deadline: Deadline) -> None:
        left_ms = deadline.remaining_ms()
        setup_ms = float(self.config.socket_connection_setup_timeout_ms)
        conn = BrokerConnection(host, port, node_id, self.config, ssl_context=self._ssl_context,
                                setup_timeout_ms=setup_ms if left_ms is None else min(setup_ms, left_ms))
        connected = False
        try:
            try:
                await deadline.run(conn.connect(), f"connecting to {host}:{port}")
            except (KafkaError, OSError):
                self.connection_totals.errors += 1
                raise
            connected = True
            self.connection_totals.created += 1
            timeout_ms = deadline.remaining_ms()
            resp = cast("MetadataResponse", await conn.request(
                ApiKey.METADATA, self._metadata_body(self._wanted_topics()),
                timeout_ms=None if timeout_ms is None else min(timeout_ms, self._request_timeout_ms)))
            self._apply_metadata(resp, self._wanted_topics())
        finally:
            await conn.close()
            if connected:
                self.connection_totals.add(conn)

    # ---------------------------------------------------------------------------- metadata

    def _wanted_topics(self) -> frozenset[str] | None:
        """None means every topic in the cluster."""
        if self._all_topics:
            return None
        return frozenset(self._topics)

    def _metadata_body(self, topics: frozenset[str] | None) -> dict[str, Any]:
        return {
            "topics": None if topics is None else [{"name": t} for t in sorted(topics)],
            "allow_auto_topic_creation": self._allow_auto_create,
            "include_topic_authorized_operations": False,
        }

    def add_topics(self, topics: Iterable[str]) -> bool:
        """Track ``topics`` in every future refresh; True if any was new (call request_refresh)."""
        new = set(topics) - self._topics
        self._topics |= new
        return bool(new)

    def forget_topics(self, topics: Iterable[str]) -> None:
        """Stop tracking ``topics`` (the producer's idle ones); a later send tracks a topic again."""
        gone = self._topics.intersection(topics)
        if gone:
            log.debug("no longer tracking metadata of idle topic(s) %s", sorted(gone))
            self._topics -= gone

    def set_topics(self, topics: Iterable[str]) -> None:
        """Track exactly ``topics`` (e.g. a consumer's new subscription)."""
        self._topics = set(topics)

    def set_all_topics(self, enabled: bool) -> None:
        """Fetch metadata for every topic (pattern subscriptions, admin listings)."""
        self._all_topics = enabled

    @property
    def tracked_topics(self) -> frozenset[str]:
        return frozenset(self._topics)

    async def refresh_metadata(self, topics: list[str] | None = None) -> ClusterMetadata:
        """Refresh now (tracking ``topics`` from now on) and return the new snapshot.

        Concurrent callers share one in-flight refresh when it already covers their topics.
        Raises :class:`KafkaConnectionError`/:class:`NoBrokersAvailableError` when no broker answers.
        """
        self._check_open()
        if topics:
            self.add_topics(topics)
        wanted = self._wanted_topics()
        inflight = self._refresh_inflight
        if inflight is not None:
            task, covering = inflight
            if covering is None or (wanted is not None and wanted <= covering):
                await asyncio.shield(task)
                return self.metadata
            try:
                await asyncio.shield(task)
            except KafkaError:
                pass
        task = asyncio.get_running_loop().create_task(self._do_refresh(wanted))
        self._refresh_inflight = (task, wanted)
        try:
            await asyncio.shield(task)
        finally:
            if self._refresh_inflight is not None and self._refresh_inflight[0] is task:
                self._refresh_inflight = None
        return self.metadata

    async def _do_refresh(self, topics: frozenset[str] | None) -> None:
        body = self._metadata_body(topics)
        errors: list[str] = []
        if self._rebootstrap_required:
            # a broker refused to be the node our metadata names (KIP-1242): as Java 4.4, the
            # metadata comes from the bootstrap servers again
            self._rebootstrap_required = False
            log.info("kafkaio: a broker is not the node of cluster %s that the metadata names; "
                     "bootstrapping again", self.metadata.cluster_id)
            if await self._rebootstrap(errors):
                return
        for node_id in self._refresh_candidates():
            try:
                conn = await self.connection(node_id, "default", wait_backoff=False)
                resp = cast("MetadataResponse", await conn.request(ApiKey.METADATA, body))
            except AuthenticationError:
                self._refresh_backoff.fail()
                raise
            except KafkaError as exc:
                errors.append(f"{node_id}: {exc}")
                continue
            self._apply_metadata(resp, topics)
            self._refresh_backoff.reset()
            return
        # Every known broker failed: go back to the bootstrap servers (KIP-899 rebootstrap).
        if self.config.metadata_recovery_strategy != "none" and await self._rebootstrap(errors):
            return
        self._refresh_backoff.fail()
        raise KafkaConnectionError("metadata refresh failed; " + "; ".join(errors) if errors
                                   else "metadata refresh failed: no known broker")

    async def _rebootstrap(self, errors: list[str]) -> bool:
        """Metadata from the bootstrap servers; False (the reason added to ``errors``) when none answered."""
        try:
            await self._bootstrap_metadata(Deadline(self._request_timeout_ms))
        except NoBrokersAvailableError as exc:
            errors.append(str(exc))
            return False
        self._refresh_backoff.reset()
        return True

    def _refresh_candidates(self) -> list[int]:
        """Known brokers, least loaded (connected, fewest in flight) first, then by backoff."""
        brokers = list(self.metadata.brokers)
        random.shuffle(brokers)

        def load(node_id: int) -> tuple[int, float, int]:
            conn = self._conns.get((node_id, "default"))
            if conn is not None and conn.connected:
                return (0, 0.0, conn.in_flight_count)
            backoff = self._node_backoff.get(node_id)
            return (1, backoff.remaining() if backoff else 0.0, 0)

        return sorted(brokers, key=load)

    def least_loaded_node(self) -> int | None:
        """A broker to send a request that any broker can answer."""
        candidates = self._refresh_candidates()
        return candidates[0] if candidates else None

    def _apply_metadata(self, resp: MetadataResponse, requested: frozenset[str] | None) -> None:
        code = resp["error_code"]
        if code:
            raise error_for_code(code)("Metadata request failed")
        old = self.metadata
        brokers = {b["node_id"]: BrokerMetadata(b["node_id"], b["host"], b["port"], b["rack"])
                   for b in resp["brokers"]}
        # A full refresh replaces the topic map; a partial one keeps topics it did not ask about.
        topics: dict[str, TopicMetadata] = {} if requested is None else {
            name: info for name, info in old.topics.items() if name not in requested and name in self._topics}
        topic_errors: dict[str, int] = {}
        for t in resp["topics"]:
            name = t["name"]
            if name is None:
                continue
            t_code = t["error_code"]
            if t_code and t_code != ErrorCode.LEADER_NOT_AVAILABLE:
                topic_errors[name] = t_code
                continue
            previous = old.topics.get(name)
            parts: dict[int, PartitionMetadata] = {}
            # an older version, or a broker that gives no ids, says the zero id: no id known
            topic_id = None if t["topic_id"] == ZERO_UUID else t["topic_id"]
            for p in t["partitions"]:
                pid = p["partition_index"]
                part = PartitionMetadata(
                    name, pid, p["leader_id"], p["leader_epoch"], tuple(p["replica_nodes"]),
                    tuple(p["isr_nodes"]), tuple(p["offline_replicas"]), p["error_code"])
                if previous is not None and previous.topic_id == topic_id:
                    # (a topic created again under a new id starts its leader epochs afresh)
                    cached = previous.partitions.get(pid)
                    if cached is not None and 0 <= part.leader_epoch < cached.leader_epoch:
                        part = cached  # stale answer from a lagging broker
                parts[pid] = part
            if t_code == ErrorCode.LEADER_NOT_AVAILABLE and not parts:
                topic_errors[name] = t_code
                continue
            topics[name] = TopicMetadata(name, topic_id, t["is_internal"], parts, t_code)
        self.metadata = ClusterMetadata(
            brokers=brokers, topics=topics, controller_id=resp["controller_id"],
            cluster_id=resp["cluster_id"], topic_errors=topic_errors,
            updated_at=time.monotonic(), version=old.version + 1)
        self._close_moved_brokers(old.brokers, brokers)
        self._updated.set()
        self._updated = asyncio.Event()

    def _close_moved_brokers(self, old: dict[int, BrokerMetadata], new: dict[int, BrokerMetadata]) -> None:
        for node_id, info in old.items():
            now = new.get(node_id)
            if now is not None and (now.host, now.port) != (info.host, info.port):
                for (nid, _purpose), conn in list(self._conns.items()):
                    if nid == node_id:
                        log.info("broker %s moved to %s:%s; dropping its connections", node_id, now.host, now.port)
                        asyncio.get_running_loop().create_task(conn.close())

    def request_refresh(self) -> None:
        """Ask for a metadata refresh soon (coalesced, and no sooner than the backoff allows)."""
        self._refresh_wanted.set()

    async def next_update(self) -> ClusterMetadata:
        """Wait for the next successful metadata refresh, without asking for one."""
        await self._updated.wait()
        return self.metadata

    async def wait_for_update(self, timeout_ms: float | None = None) -> ClusterMetadata:
        """Wait for the next successful metadata refresh (requesting one); KafkaTimeoutError."""
        event = self._updated
        self.request_refresh()
        await Deadline(timeout_ms).run(event.wait(), "a metadata update")
        return self.metadata

    async def _refresh_loop(self) -> None:
        failures, failing_since = 0, 0.0
        while not self._closed:
            age = time.monotonic() - self.metadata.updated_at
            try:
                await within(self._refresh_wanted.wait(), max(0.0, self._max_age - age))
            except asyncio.TimeoutError:
                pass
            # At most one refresh per retry backoff, exponentially longer after failures.
            await self._refresh_backoff.wait()
            self._refresh_wanted.clear()
            if self._closed:
                return
            try:
                await self.refresh_metadata()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep refreshing; callers see errors on their requests
                # Once per outage at WARNING: the loop retries every backoff, for as long as it lasts.
                failing_since = failing_since or time.monotonic()
                failures += 1
                log.log(logging.WARNING if failures == 1 else logging.DEBUG,
                        "metadata refresh failed (retrying until it works; further failures at DEBUG): %s", exc)
                self._refresh_wanted.set()
            else:
                if failures:
                    log.info("metadata refresh works again, after %d failed attempt(s) over %.1f s",
                             failures, time.monotonic() - failing_since)
                    failures, failing_since = 0, 0.0
                # Even after success, wait retry_backoff_ms before the next on-demand refresh.
                self._refresh_backoff.fail()
                self._refresh_backoff.attempts = 0

    async def wait_for_topic(self, topic: str, timeout_ms: float | None = None) -> list[int]:
        """Partition ids of ``topic`` once the metadata knows it (auto-creation allowing).

        Raises :class:`UnknownTopicOrPartitionError` when the topic still does not exist after
        ``timeout_ms`` (default ``request_timeout_ms``), the topic's own error if it is not
        retriable (e.g. TOPIC_AUTHORIZATION_FAILED), or :class:`KafkaTimeoutError`.
        """
        deadline = Deadline(self._request_timeout_ms if timeout_ms is None else timeout_ms)
        backoff = Backoff(self._retry_policy)
        first = True
        warned = False
        last_error: BaseException | None = None
        while True:
            if not first or topic not in self.metadata.topics:
                try:
                    await deadline.run(self.refresh_metadata([topic]), f"metadata of topic {topic!r}")
                except KafkaTimeoutError:
                    break
                except KafkaError as exc:
                    if not exc.retriable:
                        raise
                    last_error = exc
            first = False
            info = self.metadata.topics.get(topic)
            if info is not None and info.partitions:
                return sorted(info.partitions)
            code = self.metadata.topic_errors.get(topic)
            if code:
                err = error_for_code(code)
                if not err.retriable:
                    raise err(f"topic {topic!r}")
            left = deadline.remaining()
            if left is not None and left <= 0:
                break
            if not warned:
                # once per wait, as Java's "Error while fetching metadata ... {topic=...}" warning
                warned = True
                why = error_for_code(code).__name__ if code else (f"{last_error}" if last_error else "not in the metadata")
                log.warning("kafkaio: topic %r is not available (%s); waiting up to %.0f ms more for it",
                            topic, why, (left or 0.0) * 1000 if left is not None else float("inf"))
            delay = backoff.fail()
            await asyncio.sleep(delay if left is None else min(delay, left))
        code = self.metadata.topic_errors.get(topic)
        if code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
            raise UnknownTopicOrPartitionError(f"topic {topic!r} not present in metadata after {timeout_ms} ms")
        raise KafkaTimeoutError(f"timed out waiting for metadata of topic {topic!r}"
                                + (f" (last error: {last_error})" if last_error else ""))

    def leader_for(self, topic: str, partition: int) -> int | None:
        return self.metadata.leader_for(topic, partition)

    # ----------------------------------------------------------------------- connections

    def _address(self, node_id: int) -> tuple[str, int]:
        info = self.metadata.brokers.get(node_id) or self._extra_brokers.get(node_id)
        if info is None:
            self.request_refresh()  # e.g. a leader id from newer metadata than ours
            raise KafkaConnectionError(f"broker {node_id} is not in the cluster metadata")
        return info.host, info.port

    def open_connections(self) -> list[BrokerConnection]:
        """The pool's connections (for metrics)."""
        return list(self._conns.values())

    def ready_connection(self, node_id: int, purpose: str = "default") -> BrokerConnection | None:
        """The open, ready connection to ``node_id`` for ``purpose``, or None (nothing is opened)."""
        conn = self._conns.get((node_id, purpose))
        return conn if conn is not None and conn.connected else None

    async def connection(self, node_id: int, purpose: str = "default", *, wait_backoff: bool = True) -> BrokerConnection:
        """A ready connection to ``node_id`` for ``purpose``, opening one if needed.

        Concurrent callers for the same (node, purpose) share one connection attempt. After a
        failed attempt, the next waits out the reconnect backoff (or, with
        ``wait_backoff=False``, fails at once with :class:`KafkaConnectionError`).
        """
        conn = self.ready_connection(node_id, purpose)
        if conn is not None:
            return conn
        key = (node_id, purpose)
        self._check_open()
        task = self._connecting.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._open(node_id, purpose, wait_backoff))
            self._connecting[key] = task
            task.add_done_callback(functools.partial(self._connect_done, key))
        return await asyncio.shield(task)

    def _connect_done(self, key: tuple[int, str], task: asyncio.Task[BrokerConnection]) -> None:
        if self._connecting.get(key) is task:
            del self._connecting[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter got it; no "never retrieved" warning

    def _raise_recent_auth_failure(self) -> None:
        """Re-raise an authentication failure seen less than reconnect_backoff_max_ms ago."""
        if self._auth_failure is not None:
            error, until = self._auth_failure
            if time.monotonic() < until:
                raise type(error)(error.message)
            self._auth_failure = None

    def _remember_auth_failure(self, error: AuthenticationError) -> None:
        self._auth_failure = (error, time.monotonic() + self._reconnect_policy.max_ms / 1000.0)

    async def _open(self, node_id: int, purpose: str, wait_backoff: bool) -> BrokerConnection:
        self._raise_recent_auth_failure()
        backoff = self._node_backoff.get(node_id)
        if backoff is None:
            backoff = self._node_backoff[node_id] = Backoff(self._reconnect_policy)
        if backoff.remaining() > 0:
            if not wait_backoff:
                raise KafkaConnectionError(f"broker {node_id} is in reconnect backoff")
            await backoff.wait()
        host, port = self._address(node_id)
        conn = BrokerConnection(host, port, node_id, self.config, purpose=purpose, ssl_context=self._ssl_context,
                                setup_timeout_ms=self._setup_policy.backoff_ms(backoff.attempts),
                                cluster_id=self.metadata.cluster_id)
        try:
            await conn.connect()
        except RebootstrapRequiredError:
            # KIP-1242: the address now serves another node or cluster; the metadata is stale
            self.connection_totals.errors += 1
            backoff.fail()
            self._rebootstrap_required = True
            self.request_refresh()
            raise
        except AuthenticationError as exc:
            self.connection_totals.errors += 1
            backoff.fail()
            self._remember_auth_failure(exc)
            raise
        except KafkaError:
            self.connection_totals.errors += 1
            backoff.fail()
            self.request_refresh()  # the broker may have moved or gone
            raise
        self.connection_totals.created += 1
        backoff.reset()
        if self._closed:
            await conn.close()
            self.connection_totals.add(conn)
            self._check_open()
        self._conns[(node_id, purpose)] = conn
        conn.add_close_callback(self._forget_connection)
        return conn

    def _forget_connection(self, conn: BrokerConnection) -> None:
        self.connection_totals.add(conn)
        key = (conn.node_id, conn.purpose)
        if self._conns.get(key) is conn:
            del self._conns[key]
        if isinstance(conn.close_error, AuthenticationError):
            # a refused re-authentication (KIP-368): new connections fail the same way for now
            self._remember_auth_failure(conn.close_error)
        elif conn.close_error is not None and not self._closed:
            self.request_refresh()  # a broken connection often means a leader moved

    @overload
    async def request(self, node_id: int | None, api_key: int, body: dict[str, Any], *, purpose: str = "default",
                      version: int | None = None, timeout_ms: float | None = None,
                      expect_response: Literal[True] = True) -> dict[str, Any]: ...

    @overload
    async def request(self, node_id: int | None, api_key: int, body: dict[str, Any], *, purpose: str = "default",
                      version: int | None = None, timeout_ms: float | None = None,
                      expect_response: bool) -> dict[str, Any] | None: ...

    async def request(
        self,
        node_id: int | None,
        api_key: int,
        body: dict[str, Any],
        *,
        purpose: str = "default",
        version: int | None = None,
        timeout_ms: float | None = None,
        expect_response: bool = True,
    ) -> dict[str, Any] | None:
        """Send one request to ``node_id`` (None: the least loaded broker). Not retried here."""
        if node_id is None:
            node_id = self.least_loaded_node()
            if node_id is None:
                raise NoBrokersAvailableError("no broker is known; call bootstrap() first")
        conn = self._conns.get((node_id, purpose))
        if conn is None or not conn.connected:
            conn = await self.connection(node_id, purpose)
        return await conn.request(api_key, body, version=version, timeout_ms=timeout_ms,
                                  expect_response=expect_response)

    # ----------------------------------------------------------------------- coordinators

    async def find_coordinator(self, key: str, key_type: int = COORDINATOR_KEY_GROUP,
                               timeout_ms: float | None = None, backoff: ExponentialBackoff | None = None) -> int:
        """Node id of the group (``key_type`` 0) or transaction (1) coordinator for ``key``.

        Retries retriable errors (COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS,
        NOT_COORDINATOR, lost connections) with ``backoff`` (default the retry backoff) until
        ``timeout_ms`` (default ``request_timeout_ms``).
        """
        deadline = Deadline(self._request_timeout_ms if timeout_ms is None else timeout_ms)

        async def attempt() -> int:
            node_id = self.least_loaded_node()
            if node_id is None:
                await self.refresh_metadata()
                node_id = self.least_loaded_node()
                if node_id is None:
                    raise NoBrokersAvailableError("no broker known to ask for a coordinator")
            conn = await self.connection(node_id)
            version = conn.version(ApiKey.FIND_COORDINATOR)
            if version >= 4:
                body = {"key_type": key_type, "coordinator_keys": [key]}
            else:
                body = {"key": key, "key_type": key_type}
            resp = cast("FindCoordinatorResponse", await conn.request(ApiKey.FIND_COORDINATOR, body, version=version))
            entry: FindCoordinatorResponse | FindCoordinatorResponseCoordinators = \
                resp["coordinators"][0] if version >= 4 else resp
            code = entry["error_code"]
            if code:
                raise error_for_code(code)(f"FindCoordinator for {key!r}: {entry['error_message'] or ''}".rstrip(": "))
            found = BrokerMetadata(entry["node_id"], entry["host"], entry["port"])
            if self.metadata.brokers.get(found.node_id) != found:
                self._extra_brokers[found.node_id] = found
            return found.node_id

        kind = "transaction" if key_type == COORDINATOR_KEY_TRANSACTION else "group"
        return await retry_async(attempt, backoff=self._retry_policy if backoff is None else backoff,
                                 deadline=deadline, is_retriable=_is_retriable,
                                 what=f"the {kind} coordinator of {key!r}")

    # ---------------------------------------------------------------------------- close

    def _check_open(self) -> None:
        if self._closed:
            raise KafkaConnectionError("the cluster client is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Stop refreshing and close every connection (requests in flight fail)."""
        if self._closed:
            return
        self._closed = True
        tasks = [t for t in (self._refresher, *self._connecting.values()) if t is not None]
        if self._refresh_inflight is not None:
            tasks.append(self._refresh_inflight[0])
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except BaseException:  # noqa: BLE001 - cancelled or already failed; we are closing
                pass
        conns, self._conns = list(self._conns.values()), {}
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
