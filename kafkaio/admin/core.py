"""Admin client: topics, configs, cluster, consumer groups, records.

    async with Admin(bootstrap_servers="localhost:9092") as admin:
        await admin.create_topics([NewTopic("orders", num_partitions=6, replication_factor=3)])

Every call goes to the broker that must answer it (the controller for topic changes, the group
coordinator for group calls, the partition leader for records and offsets, the broker itself for
broker configs), retries retriable errors with the retry backoff until ``timeout_ms`` (default
``default_api_timeout_ms``), and reports errors per item: calls over many items return a dict
item -> result, where a failed item's result is the exception saying why. With
``raise_on_error=True`` (the default) the first failed item's exception is raised after all items
were tried; it carries the whole dict as ``exc.results``.
"""
from __future__ import annotations

import asyncio
import logging
import warnings
import uuid
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Awaitable, Callable, Hashable, Iterable, Mapping, Sequence, TypeVar, Unpack

from kafkaio._loops import check_loop
from kafkaio.cluster import Cluster
from kafkaio.config import AdminConfig
from kafkaio.settings import AdminSettings
from kafkaio.errors import (
    IllegalArgumentError,
    IllegalStateError,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    UnknownServerError,
    UnknownTopicOrPartitionError,
    UnsupportedVersionError,
    error_for_code,
)
from kafkaio.protocol import ApiKey, decode_versioned_struct
from kafkaio.retry import Backoff, Deadline, ExponentialBackoff
from kafkaio.structs import OffsetAndMetadata, TopicPartition

__all__ = [
    "Admin", "NewTopic", "NewPartitions", "ConfigResource", "ConfigResourceType", "ConfigSource",
    "ConfigEntry", "ConfigSynonym", "AlterConfigOp", "AlterConfigOpType", "OffsetSpec", "TopicDescription",
    "PartitionDescription", "Node", "ClusterDescription", "GroupListing", "GroupDescription",
    "MemberDescription", "ListOffsetsResult", "ProducerState", "ClientQuotaEntity",
    "ClientQuotaFilterComponent",
]

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

# Error codes this module treats specially.
UNKNOWN_TOPIC_OR_PARTITION = 3
LEADER_NOT_AVAILABLE = 5
REQUEST_TIMED_OUT = 7
GROUP_ID_NOT_FOUND = 69
UNSTABLE_OFFSET_COMMIT = 88
ZERO_UUID = uuid.UUID(int=0)


# ------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class NewTopic:
    """A topic to create. ``num_partitions``/``replication_factor`` -1 take the broker defaults;
    ``replica_assignments`` ({partition: [broker ids]}) replaces both."""

    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    replica_assignments: Mapping[int, list[int]] | None = None
    configs: Mapping[str, str | None] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise IllegalArgumentError(f"NewTopic name must be a non-empty string, got {self.name!r}")
        if self.replica_assignments is not None and (self.num_partitions != -1 or self.replication_factor != -1):
            raise IllegalArgumentError(f"topic {self.name!r}: give either replica_assignments or "
                                       "num_partitions/replication_factor, not both")
        if self.num_partitions == 0 or self.num_partitions < -1:
            raise IllegalArgumentError(f"topic {self.name!r}: num_partitions must be positive or -1")
        if self.replication_factor == 0 or self.replication_factor < -1:
            raise IllegalArgumentError(f"topic {self.name!r}: replication_factor must be positive or -1")


@dataclass(frozen=True)
class NewPartitions:
    """Grow a topic to ``total_count`` partitions; ``new_assignments`` lists the replicas of each
    new partition (optional)."""

    total_count: int
    new_assignments: list[list[int]] | None = None


class ConfigResourceType(IntEnum):
    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


class ConfigSource(IntEnum):
    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


class AlterConfigOpType(IntEnum):
    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


@dataclass(frozen=True)
class ConfigResource:
    """A thing with configs: ``ConfigResource("topic", "orders")``, ``ConfigResource("broker", "1")``
    (``""`` for the cluster-wide broker default)."""

    type: ConfigResourceType
    name: str

    def __init__(self, type: ConfigResourceType | str | int, name: str | int) -> None:
        if isinstance(type, str):
            try:
                type = ConfigResourceType[type.upper()]
            except KeyError:
                raise IllegalArgumentError(f"unknown config resource type {type!r}") from None
        object.__setattr__(self, "type", ConfigResourceType(type))
        object.__setattr__(self, "name", str(name))


@dataclass(frozen=True)
class AlterConfigOp:
    """One incremental change: set, delete, or append/subtract list elements."""

    name: str
    value: str | None = None
    op: AlterConfigOpType = AlterConfigOpType.SET

    def __init__(self, name: str, value: str | None = None, op: AlterConfigOpType | str | int = AlterConfigOpType.SET) -> None:
        if isinstance(op, str):
            try:
                op = AlterConfigOpType[op.upper()]
            except KeyError:
                raise IllegalArgumentError(f"unknown config operation {op!r}") from None
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "op", AlterConfigOpType(op))


class OffsetSpec(IntEnum):
    """What ``list_offsets`` looks up; a non-negative int instead means "first offset whose
    timestamp is at or after this (ms)"."""

    LATEST = -1
    EARLIEST = -2
    MAX_TIMESTAMP = -3


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Node:
    node_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True)
class ClusterDescription:
    cluster_id: str | None
    controller_id: int
    brokers: list[Node]


@dataclass(frozen=True)
class PartitionDescription:
    partition: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    offline_replicas: list[int]
    leader_epoch: int


@dataclass(frozen=True)
class TopicDescription:
    name: str
    topic_id: uuid.UUID | None
    is_internal: bool
    partitions: list[PartitionDescription]


@dataclass(frozen=True)
class ConfigSynonym:
    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True)
class ConfigEntry:
    name: str
    value: str | None  # None for sensitive settings and unset ones
    source: ConfigSource
    read_only: bool
    is_sensitive: bool
    synonyms: list[ConfigSynonym] = field(default_factory=list)
    config_type: int = 0
    documentation: str | None = None

    @property
    def is_default(self) -> bool:
        return self.source == ConfigSource.DEFAULT_CONFIG


@dataclass(frozen=True)
class GroupListing:
    group_id: str
    protocol_type: str
    state: str | None
    group_type: str | None


@dataclass(frozen=True)
class MemberDescription:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    assignment: list[TopicPartition]  # decoded from the consumer protocol ([] for other protocols)
    subscription: list[str] | None  # subscribed topics, when the metadata could be decoded
    raw_metadata: bytes = b""
    raw_assignment: bytes = b""
    member_epoch: int = -1  # consumer-protocol (KIP-848) groups only
    target_assignment: list[TopicPartition] | None = None  # KIP-848: where the member is heading


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    protocol_type: str
    protocol: str  # the assignor of the current generation (classic) or the server assignor (KIP-848)
    members: list[MemberDescription]
    coordinator: int
    authorized_operations: int | None = None
    group_type: str = "classic"  # "consumer" for KIP-848 groups
    group_epoch: int = -1  # KIP-848 groups only


@dataclass(frozen=True)
class ListOffsetsResult:
    offset: int
    timestamp: int
    leader_epoch: int


@dataclass(frozen=True)
class ProducerState:
    """What a partition leader remembers of one idempotent or transactional producer."""

    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    current_txn_start_offset: int  # -1 when no transaction is open on this partition


class ClientQuotaEntity:
    """Whom a client quota applies to: entity type -> name, e.g. ``{"client-id": "app-1"}`` or
    ``{"user": "alice", "client-id": "app-1"}``; a None name is that type's default entity.
    Types are ``USER``, ``CLIENT_ID`` and ``IP``. Hashable, equal when the mappings are equal."""

    USER = "user"
    CLIENT_ID = "client-id"
    IP = "ip"

    __slots__ = ("_entries",)

    def __init__(self, entries: Mapping[str, str | None]) -> None:
        if not isinstance(entries, Mapping) or not entries:
            raise IllegalArgumentError(f"a client quota entity is a non-empty mapping of type -> name, got {entries!r}")
        for k, v in entries.items():
            if not isinstance(k, str) or not k or (v is not None and not isinstance(v, str)):
                raise IllegalArgumentError(f"client quota entity entries are str -> str | None, got {k!r}: {v!r}")
        self._entries = tuple(sorted(entries.items()))

    @property
    def entries(self) -> dict[str, str | None]:
        return dict(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientQuotaEntity) and other._entries == self._entries

    def __hash__(self) -> int:
        return hash(self._entries)

    def __repr__(self) -> str:
        return f"ClientQuotaEntity({dict(self._entries)!r})"


@dataclass(frozen=True)
class ClientQuotaFilterComponent:
    """One condition of :meth:`Admin.describe_client_quotas` on one entity type; build it with
    ``of_entity`` (exactly this name), ``of_default_entity`` (the type's default entity) or
    ``of_entity_type`` (any named entity of the type)."""

    entity_type: str
    match_type: int  # 0 exact name, 1 the default entity, 2 any specified name (Kafka's numbers)
    match: str | None = None

    @classmethod
    def of_entity(cls, entity_type: str, name: str) -> "ClientQuotaFilterComponent":
        return cls(entity_type, 0, name)

    @classmethod
    def of_default_entity(cls, entity_type: str) -> "ClientQuotaFilterComponent":
        return cls(entity_type, 1, None)

    @classmethod
    def of_entity_type(cls, entity_type: str) -> "ClientQuotaFilterComponent":
        return cls(entity_type, 2, None)


# ------------------------------------------------------------------------------------ plumbing


class _Retry:
    """A per-item outcome that deserves another attempt."""

    __slots__ = ("error",)

    def __init__(self, error: KafkaError) -> None:
        self.error = error


def _outcome(code: int, message: str | None, what: str, final: Iterable[int] = ()) -> Any:
    """None for success; else the error, wrapped in _Retry when retriable and not in ``final``."""
    if not code:
        return None
    err = error_for_code(code)(f"{what}: {message}" if message else what)
    if err.retriable and code not in final:
        return _Retry(err)
    return err


def _finish(results: dict, raise_on_error: bool) -> dict:
    if raise_on_error:
        failed = [(k, v) for k, v in results.items() if isinstance(v, BaseException)]
        if failed:
            exc = failed[0][1]
            exc.results = results  # type: ignore[attr-defined]
            exc.failures = dict(failed)  # type: ignore[attr-defined]
            raise exc
    return results


def _group_tps(tps: Iterable[TopicPartition]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for tp in tps:
        out.setdefault(tp.topic, []).append(tp.partition)
    return out


def _tp(value: Any) -> TopicPartition:
    if isinstance(value, TopicPartition):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return TopicPartition(str(value[0]), int(value[1]))
    raise IllegalArgumentError(f"expected a TopicPartition, got {value!r}")


class Admin:
    """Asynchronous admin client; see the module docstring for routing, retries and errors."""

    def __init__(self, bootstrap_servers: str | Sequence[str] | None = None, *, config: AdminConfig | None = None,
                 **settings: Unpack[AdminSettings]) -> None:
        """``Admin("host:9092", request_timeout_ms=...)``, or ``Admin(config=AdminConfig(...))``."""
        if config is not None:
            if settings or bootstrap_servers is not None:
                raise IllegalArgumentError("pass either an AdminConfig or settings, not both")
            self.config: AdminConfig = config
        else:
            given: dict[str, Any] = dict(settings)
            if bootstrap_servers is not None:
                given["bootstrap_servers"] = bootstrap_servers
            self.config = AdminConfig.from_kwargs(**given)
        self._cluster: Cluster | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it was started on
        self._retry_policy = ExponentialBackoff(self.config.retry_backoff_ms, self.config.retry_backoff_max_ms)

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any], **overrides: Any) -> "Admin":
        """Build from Java-style keys (``{"bootstrap.servers": "...", "request.timeout.ms": "5000"}``)."""
        return cls(config=AdminConfig.from_dotted(mapping, **overrides))

    async def start(self) -> "Admin":
        """Connect to the cluster (NoBrokersAvailableError when no bootstrap server answers)."""
        if self._cluster is None:
            self._loop = asyncio.get_running_loop()
            cluster = Cluster(self.config)
            try:
                await cluster.bootstrap()
            except BaseException:
                await cluster.close()
                raise
            self._cluster = cluster
        return self

    async def close(self) -> None:
        if self._cluster is not None:
            check_loop(self._loop, "admin client")
            cluster, self._cluster = self._cluster, None
            await cluster.close()

    def __repr__(self) -> str:
        return f"<kafkaio.Admin {'started' if self._cluster is not None else 'not started'}>"

    def __del__(self) -> None:
        if getattr(self, "_cluster", None) is not None:
            warnings.warn(f"unclosed {self!r}: close() ends its connections and tasks", ResourceWarning,
                          source=self)

    async def __aenter__(self) -> "Admin":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            raise IllegalStateError("the admin client is not started (use 'async with Admin(...)' or start())")
        check_loop(self._loop, "admin client")
        return self._cluster

    # ---------------------------------------------------------------- request helpers

    def _deadline(self, timeout_ms: float | None) -> Deadline:
        return Deadline(self.config.default_api_timeout_ms if timeout_ms is None else timeout_ms)

    async def _call(self, node_id: int | None, api_key: int, build: Callable[[int], dict],
                    deadline: Deadline) -> tuple[int, dict]:
        """One request to ``node_id`` (None: least loaded), its body built for the negotiated version."""
        cluster = self.cluster
        if node_id is None:
            node_id = cluster.least_loaded_node()
            if node_id is None:
                await deadline.run(cluster.refresh_metadata(), "cluster metadata")
                node_id = cluster.least_loaded_node()
                if node_id is None:
                    raise LeaderNotAvailableError("no broker is known")
        conn = await deadline.run(cluster.connection(node_id), f"a connection to broker {node_id}")
        version = conn.version(api_key)
        left = deadline.remaining_ms()
        timeout = self.config.request_timeout_ms if left is None else max(1.0, min(left, self.config.request_timeout_ms))
        resp = await conn.request(api_key, build(version), version=version, timeout_ms=timeout)
        assert resp is not None
        return version, resp

    async def _drive(self, keys: Iterable[K], attempt: Callable[[list[K], Deadline], Awaitable[dict[K, Any]]],
                     deadline: Deadline, what: str) -> dict[K, Any]:
        """Run ``attempt`` over the pending keys until each has a final outcome.

        ``attempt`` returns key -> result, final exception, or _Retry. Retriable failures of the
        whole attempt (lost connection, timeout) retry every pending key. Keys still pending at
        the deadline (or after ``retries`` retries) end as KafkaTimeoutError naming the last error.
        """
        pending = list(dict.fromkeys(keys))
        results: dict[K, Any] = {}
        last: dict[K, BaseException] = {}
        backoff = Backoff(self._retry_policy)
        retries = 0
        while pending:
            try:
                out = await attempt(pending, deadline)
            except KafkaError as exc:
                if not exc.retriable:
                    results.update({k: exc for k in pending})
                    break
                out = {k: _Retry(exc) for k in pending}
            retry: list[K] = []
            refresh = False
            for k in pending:
                r = out.get(k, _Retry(UnknownServerError(f"{what}: the broker's answer did not mention {k!r}")))
                if isinstance(r, _Retry):
                    retry.append(k)
                    if not (isinstance(r.error, KafkaTimeoutError) and k in last):
                        last[k] = r.error  # keep the broker's reason rather than our own timeout
                    refresh = refresh or r.error.invalid_metadata
                else:
                    results[k] = r
            pending = retry
            if not pending:
                break
            retries += 1
            left = deadline.remaining()
            if (left is not None and left <= 0) or retries > self.config.retries:
                for k in pending:
                    results[k] = KafkaTimeoutError(f"{what} for {k!r} did not succeed in time; last error: {last[k]}")
                break
            if refresh:
                self.cluster.request_refresh()
            delay = backoff.fail()
            log.debug("retrying %s for %s in %.3fs", what, pending, delay)
            await asyncio.sleep(delay if left is None else min(delay, left))
        return results

    async def _metadata(self, topics: list[str] | None, deadline: Deadline, node_id: int | None = None) -> dict:
        """A Metadata response (never auto-creating topics); None asks for every topic."""
        def build(version: int) -> dict:
            return {"topics": None if topics is None else [{"name": t} for t in topics],
                    "allow_auto_topic_creation": False, "include_topic_authorized_operations": False}
        return (await self._call(node_id, ApiKey.METADATA, build, deadline))[1]

    def _controller(self) -> int | None:
        # In KRaft every broker forwards admin requests to the active controller; the Metadata
        # "controller" is a live broker chosen for us, so prefer it and fall back to any broker.
        cid = self.cluster.metadata.controller_id
        return cid if cid is not None and cid >= 0 and cid in self.cluster.metadata.brokers else None

    async def _by_node(self, pending: list[K], route: Callable[[K], Awaitable[int | None] | int | None],
                       send: Callable[[int | None, list[K]], Awaitable[dict[K, Any]]]) -> dict[K, Any]:
        """Group ``pending`` by destination node and send to each node concurrently."""
        groups: dict[int | None, list[K]] = {}
        out: dict[K, Any] = {}
        for k in pending:
            try:
                node = route(k)
                if asyncio.iscoroutine(node):
                    node = await node
            except KafkaError as exc:
                out[k] = _Retry(exc) if exc.retriable else exc
                continue
            groups.setdefault(node, []).append(k)  # type: ignore[arg-type]

        async def one(node: int | None, keys: list[K]) -> dict[K, Any]:
            try:
                return await send(node, keys)
            except KafkaError as exc:
                return {k: (_Retry(exc) if exc.retriable else exc) for k in keys}

        for part in await asyncio.gather(*(one(n, ks) for n, ks in groups.items())):
            out.update(part)
        return out

    # ---------------------------------------------------------------- topics

    async def create_topics(self, new_topics: Iterable[NewTopic], *, validate_only: bool = False,
                            timeout_ms: float | None = None, raise_on_error: bool = True,
                            wait_for_leaders: bool = False) -> dict[str, KafkaError | None]:
        """Create topics; returns topic -> None (created) or the error.

        ``wait_for_leaders=True`` also waits until every broker's metadata shows each created
        topic with a leader for every partition (convenient before producing to it at once).
        """
        topics = {t.name: t for t in new_topics}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            def build(version: int) -> dict:
                left = dl.remaining_ms()
                return {"topics": [_new_topic_body(topics[n]) for n in pending],
                        "timeout_ms": int(self.config.request_timeout_ms if left is None else left),
                        "validate_only": validate_only}
            _, resp = await self._call(self._controller(), ApiKey.CREATE_TOPICS, build, dl)
            # A broker-side timeout leaves the outcome unknown; like Java, report it rather than
            # retrying into TOPIC_ALREADY_EXISTS.
            return {t["name"]: _outcome(t["error_code"], t.get("error_message"), f"create topic {t['name']!r}",
                                        final=(REQUEST_TIMED_OUT,))
                    for t in resp["topics"]}

        results = await self._drive(topics, attempt, deadline, "CreateTopics")
        created = [n for n, r in results.items() if r is None]
        if wait_for_leaders and created and not validate_only:
            await self._wait_for_leaders(created, deadline)
        return _finish(results, raise_on_error)

    async def _wait_for_leaders(self, topics: list[str], deadline: Deadline) -> None:
        backoff = Backoff(self._retry_policy)
        while True:
            nodes = list(self.cluster.metadata.brokers) or [None]
            ready = True
            for node in nodes:
                try:
                    resp = await self._metadata(topics, deadline, node)
                except KafkaError as exc:
                    if not exc.retriable:
                        raise
                    ready = False
                    break
                for t in resp["topics"]:
                    if t["error_code"] or not t["partitions"] or any(p["leader_id"] < 0 for p in t["partitions"]):
                        ready = False
            if ready:
                return
            delay = backoff.fail()
            left = deadline.remaining()
            if left is not None and left <= 0:
                raise KafkaTimeoutError(f"created topics {topics} did not get leaders on every broker in time")
            await asyncio.sleep(delay if left is None else min(delay, left))

    async def delete_topics(self, topics: Iterable[str], *, timeout_ms: float | None = None,
                            raise_on_error: bool = True) -> dict[str, KafkaError | None]:
        """Delete topics by name; returns topic -> None (deleted) or the error
        (UnknownTopicOrPartitionError for a topic that does not exist)."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            def build(version: int) -> dict:
                left = int(self.config.request_timeout_ms if dl.remaining_ms() is None else dl.remaining_ms())  # type: ignore[arg-type]
                if version >= 6:
                    return {"topics": [{"name": n, "topic_id": ZERO_UUID} for n in pending], "timeout_ms": left}
                return {"topic_names": list(pending), "timeout_ms": left}
            _, resp = await self._call(self._controller(), ApiKey.DELETE_TOPICS, build, dl)
            return {r["name"]: _outcome(r["error_code"], r.get("error_message"), f"delete topic {r['name']!r}",
                                        final=(UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT))
                    for r in resp["responses"]}

        return _finish(await self._drive(topics, attempt, deadline, "DeleteTopics"), raise_on_error)

    async def list_topics(self, *, include_internal: bool = False, timeout_ms: float | None = None) -> list[str]:
        """Names of the topics in the cluster (sorted); internal ones (``__consumer_offsets``, ...)
        only with ``include_internal=True``."""
        deadline = self._deadline(timeout_ms)
        resp = await self._single(lambda dl: self._metadata(None, dl), deadline, "list topics")
        return sorted(t["name"] for t in resp["topics"]
                      if not t["error_code"] and (include_internal or not t.get("is_internal")))

    async def _single(self, op: Callable[[Deadline], Awaitable[Any]], deadline: Deadline, what: str) -> Any:
        """Retry one whole operation on retriable errors; raise its final error."""
        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            return {what: await op(dl)}
        result = (await self._drive([what], attempt, deadline, what))[what]
        if isinstance(result, BaseException):
            raise result
        return result

    async def describe_topics(self, topics: Iterable[str], *, timeout_ms: float | None = None,
                              raise_on_error: bool = True) -> dict[str, TopicDescription | KafkaError]:
        """Partitions, leaders, replicas, ISR and topic id of each topic."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            resp = await self._metadata(pending, dl)
            out: dict[str, Any] = {}
            for t in resp["topics"]:
                name = t["name"]
                code = t["error_code"]
                if code == LEADER_NOT_AVAILABLE and not t["partitions"]:
                    out[name] = _Retry(LeaderNotAvailableError(f"topic {name!r} is being created"))
                elif code and code != LEADER_NOT_AVAILABLE:
                    out[name] = _outcome(code, None, f"describe topic {name!r}", final=(UNKNOWN_TOPIC_OR_PARTITION,))
                else:
                    out[name] = _topic_description(t)
            return out

        return _finish(await self._drive(topics, attempt, deadline, "DescribeTopics"), raise_on_error)

    async def create_partitions(self, new_partitions: Mapping[str, NewPartitions | int], *,
                                validate_only: bool = False, timeout_ms: float | None = None,
                                raise_on_error: bool = True) -> dict[str, KafkaError | None]:
        """Grow topics to the given partition counts; topic -> None or the error."""
        wanted = {n: (p if isinstance(p, NewPartitions) else NewPartitions(int(p))) for n, p in new_partitions.items()}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            def build(version: int) -> dict:
                left = dl.remaining_ms()
                return {"topics": [{"name": n, "count": wanted[n].total_count,
                                    "assignments": None if wanted[n].new_assignments is None else
                                    [{"broker_ids": list(b)} for b in wanted[n].new_assignments]}  # type: ignore[union-attr]
                                   for n in pending],
                        "timeout_ms": int(self.config.request_timeout_ms if left is None else left),
                        "validate_only": validate_only}
            _, resp = await self._call(self._controller(), ApiKey.CREATE_PARTITIONS, build, dl)
            return {r["name"]: _outcome(r["error_code"], r.get("error_message"), f"create partitions of {r['name']!r}",
                                        final=(UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT))
                    for r in resp["results"]}

        return _finish(await self._drive(wanted, attempt, deadline, "CreatePartitions"), raise_on_error)

    # ---------------------------------------------------------------- cluster

    async def describe_cluster(self, *, timeout_ms: float | None = None) -> ClusterDescription:
        """Brokers, controller and cluster id."""
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> ClusterDescription:
            _, resp = await self._call(None, ApiKey.DESCRIBE_CLUSTER,
                                       lambda v: {"include_cluster_authorized_operations": False}, dl)
            err = _outcome(resp["error_code"], resp.get("error_message"), "describe cluster")
            if err is not None:
                raise err.error if isinstance(err, _Retry) else err
            brokers = [Node(b["broker_id"], b["host"], b["port"], b.get("rack")) for b in resp["brokers"]]
            return ClusterDescription(resp["cluster_id"], resp["controller_id"], sorted(brokers, key=lambda n: n.node_id))

        return await self._single(op, deadline, "describe cluster")

    # ---------------------------------------------------------------- configs

    @staticmethod
    def _config_node(resource: ConfigResource) -> int | None:
        # Broker and broker-logger configs are answered by that broker; the rest by any broker.
        if resource.type in (ConfigResourceType.BROKER, ConfigResourceType.BROKER_LOGGER) and resource.name:
            try:
                return int(resource.name)
            except ValueError:
                raise IllegalArgumentError(f"broker config resource name must be a node id, got {resource.name!r}") from None
        return None

    async def describe_configs(self, resources: Iterable[ConfigResource], *, include_synonyms: bool = False,
                               include_documentation: bool = False, timeout_ms: float | None = None,
                               raise_on_error: bool = True) -> dict[ConfigResource, dict[str, ConfigEntry] | KafkaError]:
        """Every config of each resource, with its source (``entry.is_default`` for defaults)."""
        resources = list(resources)
        for r in resources:
            self._config_node(r)  # reject a bad broker id before sending anything
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[ConfigResource], dl: Deadline) -> dict[ConfigResource, Any]:
            async def send(node: int | None, keys: list[ConfigResource]) -> dict[ConfigResource, Any]:
                _, resp = await self._call(node, ApiKey.DESCRIBE_CONFIGS, lambda v: {
                    "resources": [{"resource_type": int(r.type), "resource_name": r.name, "configuration_keys": None}
                                  for r in keys],
                    "include_synonyms": include_synonyms, "include_documentation": include_documentation}, dl)
                out: dict[ConfigResource, Any] = {}
                for res in resp["results"]:
                    key = ConfigResource(res["resource_type"], res["resource_name"])
                    err = _outcome(res["error_code"], res.get("error_message"), f"describe configs of {key}",
                                   final=(UNKNOWN_TOPIC_OR_PARTITION,))
                    out[key] = err if err is not None else {c["name"]: _config_entry(c) for c in res["configs"]}
                return out
            return await self._by_node(pending, self._config_node, send)

        return _finish(await self._drive(resources, attempt, deadline, "DescribeConfigs"), raise_on_error)

    async def incremental_alter_configs(
        self, changes: Mapping[ConfigResource, Iterable[AlterConfigOp] | Mapping[str, str | None]], *,
        validate_only: bool = False, timeout_ms: float | None = None, raise_on_error: bool = True,
    ) -> dict[ConfigResource, KafkaError | None]:
        """Apply config changes per resource; a plain mapping means set (None: delete, i.e. back to
        the default). Returns resource -> None or the error."""
        ops: dict[ConfigResource, list[AlterConfigOp]] = {}
        for resource, change in changes.items():
            if isinstance(change, Mapping):
                ops[resource] = [AlterConfigOp(k, v, AlterConfigOpType.DELETE if v is None else AlterConfigOpType.SET)
                                 for k, v in change.items()]
            else:
                ops[resource] = list(change)
            self._config_node(resource)
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[ConfigResource], dl: Deadline) -> dict[ConfigResource, Any]:
            async def send(node: int | None, keys: list[ConfigResource]) -> dict[ConfigResource, Any]:
                _, resp = await self._call(node, ApiKey.INCREMENTAL_ALTER_CONFIGS, lambda v: {
                    "resources": [{"resource_type": int(r.type), "resource_name": r.name,
                                   "configs": [{"name": o.name, "config_operation": int(o.op), "value": o.value}
                                               for o in ops[r]]} for r in keys],
                    "validate_only": validate_only}, dl)
                return {ConfigResource(r["resource_type"], r["resource_name"]):
                        _outcome(r["error_code"], r.get("error_message"), "alter configs of "
                                 f"{ConfigResource(r['resource_type'], r['resource_name'])}",
                                 final=(UNKNOWN_TOPIC_OR_PARTITION,))
                        for r in resp["responses"]}
            return await self._by_node(pending, self._config_node, send)

        return _finish(await self._drive(ops, attempt, deadline, "IncrementalAlterConfigs"), raise_on_error)

    # ---------------------------------------------------------------- consumer groups

    async def _coordinator(self, group_id: str, deadline: Deadline) -> int:
        left = deadline.remaining_ms()
        return await self.cluster.find_coordinator(group_id, 0, timeout_ms=left)

    async def list_consumer_groups(self, *, states: Iterable[str] | None = None,
                                   timeout_ms: float | None = None) -> list[GroupListing]:
        """Consumer groups known to every broker (optionally only in ``states``, e.g. "Stable")."""
        deadline = self._deadline(timeout_ms)
        await deadline.run(self.cluster.refresh_metadata(), "cluster metadata")
        states_filter = list(states or [])

        async def attempt(pending: list[int], dl: Deadline) -> dict[int, Any]:
            async def send(node: int | None, keys: list[int]) -> dict[int, Any]:
                _, resp = await self._call(node, ApiKey.LIST_GROUPS,
                                           lambda v: {"states_filter": states_filter, "types_filter": []}, dl)
                err = _outcome(resp["error_code"], None, f"list groups on broker {node}")
                if err is not None:
                    return {node: err}  # type: ignore[dict-item]
                return {node: [GroupListing(g["group_id"], g["protocol_type"], g.get("group_state"), g.get("group_type"))
                               for g in resp["groups"]]}  # type: ignore[dict-item]
            return await self._by_node(pending, lambda n: n, send)

        per_node = await self._drive(list(self.cluster.metadata.brokers), attempt, deadline, "ListGroups")
        listings: dict[str, GroupListing] = {}
        for node, result in per_node.items():
            if isinstance(result, BaseException):
                raise result
            for g in result:
                if g.protocol_type in ("consumer", ""):
                    listings[g.group_id] = g
        return sorted(listings.values(), key=lambda g: g.group_id)

    async def describe_consumer_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                       raise_on_error: bool = True) -> dict[str, GroupDescription | KafkaError]:
        """State, protocol, members and each member's decoded assignment, per group.

        Like the Java client, asks ConsumerGroupDescribe first (groups of the KIP-848 consumer
        protocol) and DescribeGroups for the rest (classic groups). A group that does not exist is
        described with state "Dead" and no members, as the broker reports it.
        """
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            async def send(node: int | None, keys: list[str]) -> dict[str, Any]:
                out: dict[str, Any] = {}
                try:
                    _, new = await self._call(node, ApiKey.CONSUMER_GROUP_DESCRIBE,
                                              lambda v: {"group_ids": keys, "include_authorized_operations": False}, dl)
                except UnsupportedVersionError:
                    new = {"groups": [{"group_id": k, "error_code": GROUP_ID_NOT_FOUND} for k in keys]}
                classic = []
                for g in new["groups"]:
                    if g["error_code"] == GROUP_ID_NOT_FOUND:  # not a consumer-protocol group
                        classic.append(g["group_id"])
                        continue
                    err = _outcome(g["error_code"], g.get("error_message"), f"describe group {g['group_id']!r}")
                    out[g["group_id"]] = err if err is not None else _consumer_group_description(g, node)  # type: ignore[arg-type]
                if not classic:
                    return out
                _, resp = await self._call(node, ApiKey.DESCRIBE_GROUPS,
                                           lambda v: {"groups": classic, "include_authorized_operations": False}, dl)
                for g in resp["groups"]:
                    err = _outcome(g["error_code"], None, f"describe group {g['group_id']!r}")
                    out[g["group_id"]] = err if err is not None else _group_description(g, node)  # type: ignore[arg-type]
                return out
            return await self._by_node(pending, lambda g: self._coordinator(g, dl), send)

        return _finish(await self._drive(group_ids, attempt, deadline, "DescribeGroups"), raise_on_error)

    async def list_consumer_group_offsets(self, group_id: str, partitions: Iterable[TopicPartition] | None = None, *,
                                          require_stable: bool = False, timeout_ms: float | None = None,
                                          ) -> dict[TopicPartition, OffsetAndMetadata | None]:
        """Committed offsets of ``group_id`` (all its partitions, or just ``partitions``; a
        partition without a committed offset maps to None)."""
        wanted = None if partitions is None else [_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> dict[TopicPartition, OffsetAndMetadata | None]:
            node = await self._coordinator(group_id, dl)
            topics = None if wanted is None else [{"name": t, "partition_indexes": ps} for t, ps in _group_tps(wanted).items()]

            def build(version: int) -> dict:
                if version >= 8:
                    return {"groups": [{"group_id": group_id, "topics": topics}], "require_stable": require_stable}
                return {"group_id": group_id, "topics": topics, "require_stable": require_stable}
            version, resp = await self._call(node, ApiKey.OFFSET_FETCH, build, dl)
            body = resp["groups"][0] if version >= 8 else resp
            err = _outcome(body.get("error_code", 0), None, f"offsets of group {group_id!r}")
            if err is not None:
                raise err.error if isinstance(err, _Retry) else err
            out: dict[TopicPartition, OffsetAndMetadata | None] = {}
            for t in body["topics"]:
                for p in t["partitions"]:
                    tp = TopicPartition(t["name"], p["partition_index"])
                    perr = _outcome(p["error_code"], None, f"offset of {tp} in group {group_id!r}")
                    if perr is not None:
                        raise perr.error if isinstance(perr, _Retry) else perr
                    off = p["committed_offset"]
                    out[tp] = None if off < 0 else OffsetAndMetadata(off, p.get("metadata") or "",
                                                                      p.get("committed_leader_epoch", -1))
            return out

        return await self._single(op, deadline, f"list offsets of group {group_id!r}")

    async def alter_consumer_group_offsets(self, group_id: str,
                                           offsets: Mapping[TopicPartition, OffsetAndMetadata | int], *,
                                           timeout_ms: float | None = None, raise_on_error: bool = True,
                                           ) -> dict[TopicPartition, KafkaError | None]:
        """Commit offsets for a group that has no active members (the broker refuses otherwise,
        UnknownMemberIdError); partition -> None or the error."""
        wanted = {_tp(tp): (o if isinstance(o, OffsetAndMetadata) else OffsetAndMetadata(int(o)))
                  for tp, o in offsets.items()}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            node = await self._coordinator(group_id, dl)
            body = {"group_id": group_id, "generation_id_or_member_epoch": -1, "member_id": "",
                    "group_instance_id": None,
                    "topics": [{"name": t, "partitions": [
                        {"partition_index": p, "committed_offset": wanted[TopicPartition(t, p)].offset,
                         "committed_leader_epoch": wanted[TopicPartition(t, p)].leader_epoch,
                         "committed_metadata": wanted[TopicPartition(t, p)].metadata} for p in ps]}
                        for t, ps in _group_tps(pending).items()]}
            _, resp = await self._call(node, ApiKey.OFFSET_COMMIT, lambda v: body, dl)
            return {TopicPartition(t["name"], p["partition_index"]):
                    _outcome(p["error_code"], None, f"commit {t['name']}-{p['partition_index']} for group {group_id!r}")
                    for t in resp["topics"] for p in t["partitions"]}

        return _finish(await self._drive(wanted, attempt, deadline, "OffsetCommit"), raise_on_error)

    async def delete_consumer_group_offsets(self, group_id: str, partitions: Iterable[TopicPartition], *,
                                            timeout_ms: float | None = None, raise_on_error: bool = True,
                                            ) -> dict[TopicPartition, KafkaError | None]:
        """Delete committed offsets of partitions the group no longer consumes; partition -> None
        or the error (GroupSubscribedToTopicError while the group still reads the topic)."""
        wanted = [_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            node = await self._coordinator(group_id, dl)
            _, resp = await self._call(node, ApiKey.OFFSET_DELETE, lambda v: {
                "group_id": group_id,
                "topics": [{"name": t, "partitions": [{"partition_index": p} for p in ps]}
                           for t, ps in _group_tps(pending).items()]}, dl)
            top = _outcome(resp["error_code"], None, f"delete offsets of group {group_id!r}")
            if top is not None:
                return {tp: top for tp in pending}
            return {TopicPartition(t["name"], p["partition_index"]):
                    _outcome(p["error_code"], None, f"delete offset of {t['name']}-{p['partition_index']} in {group_id!r}")
                    for t in resp["topics"] for p in t["partitions"]}

        return _finish(await self._drive(wanted, attempt, deadline, "OffsetDelete"), raise_on_error)

    async def delete_consumer_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                     raise_on_error: bool = True) -> dict[str, KafkaError | None]:
        """Delete empty groups and their offsets; group -> None or the error (GroupNotEmptyError,
        GroupIdNotFoundError)."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            async def send(node: int | None, keys: list[str]) -> dict[str, Any]:
                _, resp = await self._call(node, ApiKey.DELETE_GROUPS, lambda v: {"groups_names": keys}, dl)
                return {r["group_id"]: _outcome(r["error_code"], None, f"delete group {r['group_id']!r}")
                        for r in resp["results"]}
            return await self._by_node(pending, lambda g: self._coordinator(g, dl), send)

        return _finish(await self._drive(group_ids, attempt, deadline, "DeleteGroups"), raise_on_error)

    # ---------------------------------------------------------------- records and offsets

    async def _leaders(self, tps: list[TopicPartition], dl: Deadline) -> tuple[dict[TopicPartition, int], dict[TopicPartition, Any]]:
        """Current leader of each partition, from fresh metadata; failures per partition."""
        resp = await self._metadata(sorted({tp.topic for tp in tps}), dl)
        topics = {t["name"]: t for t in resp["topics"]}
        leaders: dict[TopicPartition, int] = {}
        failed: dict[TopicPartition, Any] = {}
        for tp in tps:
            t = topics.get(tp.topic)
            code = t["error_code"] if t is not None else UNKNOWN_TOPIC_OR_PARTITION
            parts = {p["partition_index"]: p for p in t["partitions"]} if t is not None else {}
            if code and code != LEADER_NOT_AVAILABLE:
                failed[tp] = _outcome(code, None, f"partition {tp}", final=(UNKNOWN_TOPIC_OR_PARTITION,))
            elif tp.partition not in parts:
                if parts:
                    failed[tp] = UnknownTopicOrPartitionError(f"topic {tp.topic!r} has no partition {tp.partition}")
                else:
                    failed[tp] = _Retry(LeaderNotAvailableError(f"topic {tp.topic!r} has no partitions yet"))
            elif parts[tp.partition]["leader_id"] < 0:
                failed[tp] = _Retry(LeaderNotAvailableError(f"partition {tp} has no leader"))
            else:
                leaders[tp] = parts[tp.partition]["leader_id"]
        return leaders, failed

    async def _to_leaders(self, pending: list[TopicPartition], dl: Deadline,
                          send: Callable[[int | None, list[TopicPartition]], Awaitable[dict[TopicPartition, Any]]],
                          ) -> dict[TopicPartition, Any]:
        leaders, failed = await self._leaders(pending, dl)
        out = await self._by_node(list(leaders), leaders.__getitem__, send)
        out.update(failed)
        return out

    async def delete_records(self, before_offsets: Mapping[TopicPartition, int], *, timeout_ms: float | None = None,
                             raise_on_error: bool = True) -> dict[TopicPartition, int | KafkaError]:
        """Delete records below the given offset of each partition (-1: everything up to the high
        watermark); partition -> the new low watermark, or the error."""
        wanted = {_tp(tp): int(o) for tp, o in before_offsets.items()}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            async def send(node: int | None, keys: list[TopicPartition]) -> dict[TopicPartition, Any]:
                def build(version: int) -> dict:
                    left = dl.remaining_ms()
                    return {"topics": [{"name": t, "partitions": [{"partition_index": p, "offset": wanted[TopicPartition(t, p)]}
                                                                  for p in ps]} for t, ps in _group_tps(keys).items()],
                            "timeout_ms": int(self.config.request_timeout_ms if left is None else left)}
                _, resp = await self._call(node, ApiKey.DELETE_RECORDS, build, dl)
                out: dict[TopicPartition, Any] = {}
                for t in resp["topics"]:
                    for p in t["partitions"]:
                        tp = TopicPartition(t["name"], p["partition_index"])
                        err = _outcome(p["error_code"], None, f"delete records of {tp}")
                        out[tp] = err if err is not None else p["low_watermark"]
                return out
            return await self._to_leaders(pending, dl, send)

        return _finish(await self._drive(wanted, attempt, deadline, "DeleteRecords"), raise_on_error)

    async def list_offsets(self, specs: Mapping[TopicPartition, OffsetSpec | int | str], *,
                           isolation_level: str = "read_uncommitted", timeout_ms: float | None = None,
                           raise_on_error: bool = True) -> dict[TopicPartition, ListOffsetsResult | KafkaError]:
        """Offsets by spec per partition: OffsetSpec.EARLIEST / LATEST / MAX_TIMESTAMP (or
        "earliest", "latest", "max_timestamp"), or a timestamp in ms (first offset at or after it;
        offset -1 when there is none)."""
        if isolation_level not in ("read_uncommitted", "read_committed"):
            raise IllegalArgumentError(f"isolation_level must be read_uncommitted or read_committed, got {isolation_level!r}")
        wanted = {_tp(tp): _offset_spec(s) for tp, s in specs.items()}
        level = 1 if isolation_level == "read_committed" else 0
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            async def send(node: int | None, keys: list[TopicPartition]) -> dict[TopicPartition, Any]:
                def build(version: int) -> dict:
                    left = dl.remaining_ms()
                    return {"replica_id": -1, "isolation_level": level,
                            "topics": [{"name": t, "partitions": [{"partition_index": p, "current_leader_epoch": -1,
                                                                   "timestamp": wanted[TopicPartition(t, p)]}
                                                                  for p in ps]} for t, ps in _group_tps(keys).items()],
                            "timeout_ms": int(self.config.request_timeout_ms if left is None else left)}
                _, resp = await self._call(node, ApiKey.LIST_OFFSETS, build, dl)
                out: dict[TopicPartition, Any] = {}
                for t in resp["topics"]:
                    for p in t["partitions"]:
                        tp = TopicPartition(t["name"], p["partition_index"])
                        err = _outcome(p["error_code"], None, f"list offsets of {tp}")
                        out[tp] = err if err is not None else ListOffsetsResult(p["offset"], p["timestamp"],
                                                                                 p.get("leader_epoch", -1))
                return out
            return await self._to_leaders(pending, dl, send)

        return _finish(await self._drive(wanted, attempt, deadline, "ListOffsets"), raise_on_error)


    async def describe_producers(self, partitions: Iterable[TopicPartition], *, timeout_ms: float | None = None,
                                 raise_on_error: bool = True) -> dict[TopicPartition, list[ProducerState] | KafkaError]:
        """The producers each partition's leader tracks (ids, epochs, last sequence numbers, open
        transactions): what idempotence and transactions look like from the broker's side."""
        wanted = [_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            async def send(node: int | None, keys: list[TopicPartition]) -> dict[TopicPartition, Any]:
                _, resp = await self._call(node, ApiKey.DESCRIBE_PRODUCERS, lambda v: {
                    "topics": [{"name": t, "partition_indexes": ps} for t, ps in _group_tps(keys).items()]}, dl)
                out: dict[TopicPartition, Any] = {}
                for t in resp["topics"]:
                    for p in t["partitions"]:
                        tp = TopicPartition(t["name"], p["partition_index"])
                        err = _outcome(p["error_code"], p.get("error_message"), f"describe producers of {tp}")
                        out[tp] = err if err is not None else [
                            ProducerState(a["producer_id"], a["producer_epoch"], a["last_sequence"], a["last_timestamp"],
                                          a["coordinator_epoch"], a["current_txn_start_offset"])
                            for a in p["active_producers"]]
                return out
            return await self._to_leaders(pending, dl, send)

        return _finish(await self._drive(wanted, attempt, deadline, "DescribeProducers"), raise_on_error)

    # ---------------------------------------------------------------- client quotas

    async def describe_client_quotas(self, components: Iterable[ClientQuotaFilterComponent] = (), *,
                                     strict: bool = False, timeout_ms: float | None = None,
                                     ) -> dict[ClientQuotaEntity, dict[str, float]]:
        """The quotas set on the entities matching every component (no components: all), as
        entity -> {quota key: value}, e.g. ``{"producer_byte_rate": 1048576.0}``. ``strict=True``
        leaves out entities that also name types the filter does not mention."""
        body = {"components": [{"entity_type": c.entity_type, "match_type": int(c.match_type), "match": c.match}
                               for c in components], "strict": strict}
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> dict[ClientQuotaEntity, dict[str, float]]:
            _, resp = await self._call(None, ApiKey.DESCRIBE_CLIENT_QUOTAS, lambda v: body, dl)
            err = _outcome(resp["error_code"], resp.get("error_message"), "describe client quotas")
            if err is not None:
                raise err.error if isinstance(err, _Retry) else err
            return {_quota_entity(e["entity"]): {v["key"]: v["value"] for v in e["values"]}
                    for e in resp["entries"] or ()}

        return await self._single(op, deadline, "describe client quotas")

    async def alter_client_quotas(
        self, alterations: Mapping[ClientQuotaEntity, Mapping[str, float | None]], *,
        validate_only: bool = False, timeout_ms: float | None = None, raise_on_error: bool = True,
    ) -> dict[ClientQuotaEntity, KafkaError | None]:
        """Set quotas per entity, ``{entity: {"producer_byte_rate": 1024.0}}``; a None value removes
        that quota. Returns entity -> None (applied) or the error."""
        ops: dict[ClientQuotaEntity, list[dict]] = {}
        for entity, change in alterations.items():
            if not isinstance(entity, ClientQuotaEntity):
                raise IllegalArgumentError(f"alter_client_quotas keys are ClientQuotaEntity, got {entity!r}")
            ops[entity] = [{"key": k, "value": 0.0 if v is None else float(v), "remove": v is None}
                        for k, v in change.items()]
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[ClientQuotaEntity], dl: Deadline) -> dict[ClientQuotaEntity, Any]:
            _, resp = await self._call(None, ApiKey.ALTER_CLIENT_QUOTAS, lambda v: {
                "entries": [{"entity": [{"entity_type": t, "entity_name": n} for t, n in e.entries.items()],
                             "ops": ops[e]} for e in pending],
                "validate_only": validate_only}, dl)
            out: dict[ClientQuotaEntity, Any] = {}
            for r in resp["entries"]:
                entity = _quota_entity(r["entity"])
                out[entity] = _outcome(r["error_code"], r.get("error_message"), f"alter client quotas of {entity}")
            return out

        return _finish(await self._drive(ops, attempt, deadline, "AlterClientQuotas"), raise_on_error)


# ------------------------------------------------------------------------------------ decoding


def _new_topic_body(t: NewTopic) -> dict:
    return {
        "name": t.name,
        "num_partitions": t.num_partitions,
        "replication_factor": t.replication_factor,
        "assignments": [{"partition_index": p, "broker_ids": list(b)} for p, b in sorted((t.replica_assignments or {}).items())],
        "configs": [{"name": k, "value": v} for k, v in (t.configs or {}).items()],
    }


def _topic_description(t: dict) -> TopicDescription:
    tid = t.get("topic_id")
    return TopicDescription(
        t["name"], None if tid in (None, ZERO_UUID) else tid, bool(t.get("is_internal")),
        sorted((PartitionDescription(p["partition_index"], p["leader_id"] if p["leader_id"] >= 0 else None,
                                     list(p["replica_nodes"]), list(p["isr_nodes"]), list(p.get("offline_replicas") or []),
                                     p.get("leader_epoch", -1)) for p in t["partitions"]), key=lambda p: p.partition))


def _config_entry(c: dict) -> ConfigEntry:
    return ConfigEntry(
        c["name"], c.get("value"), _config_source(c.get("config_source", -1)), bool(c.get("read_only")),
        bool(c.get("is_sensitive")),
        [ConfigSynonym(s["name"], s.get("value"), _config_source(s.get("source", 0))) for s in c.get("synonyms") or []],
        c.get("config_type", 0), c.get("documentation"))


def _config_source(code: int) -> ConfigSource:
    try:
        return ConfigSource(code)
    except ValueError:
        return ConfigSource.UNKNOWN


def _group_description(g: dict, coordinator: int) -> GroupDescription:
    consumer = g["protocol_type"] == "consumer"
    members = []
    for m in g["members"]:
        metadata, assignment = bytes(m["member_metadata"] or b""), bytes(m["member_assignment"] or b"")
        members.append(MemberDescription(
            m["member_id"], m.get("group_instance_id"), m["client_id"], m["client_host"],
            _decode_assignment(assignment) if consumer else [],
            _decode_subscription(metadata) if consumer else None, metadata, assignment))
    ops = g.get("authorized_operations")
    return GroupDescription(g["group_id"], g["group_state"], g["protocol_type"], g["protocol_data"], members,
                            coordinator, None if ops in (None, -2147483648) else ops)


def _consumer_group_description(g: dict, coordinator: int) -> GroupDescription:
    """A KIP-848 group, from ConsumerGroupDescribe (assignments arrive as structs, not bytes)."""
    def tps(assignment: dict | None) -> list[TopicPartition]:
        return sorted(TopicPartition(t["topic_name"], p) for t in (assignment or {}).get("topic_partitions") or []
                      for p in t["partitions"] or [])
    members = [MemberDescription(
        m["member_id"], m.get("instance_id"), m["client_id"], m["client_host"], tps(m.get("assignment")),
        list(m.get("subscribed_topic_names") or []), member_epoch=m.get("member_epoch", -1),
        target_assignment=tps(m.get("target_assignment"))) for m in g["members"]]
    ops = g.get("authorized_operations")
    return GroupDescription(g["group_id"], g["group_state"], "consumer", g.get("assignor_name") or "", members,
                            coordinator, None if ops in (None, -2147483648) else ops, group_type="consumer",
                            group_epoch=g.get("group_epoch", -1))


def _decode_assignment(data: bytes) -> list[TopicPartition]:
    """Partitions in a consumer-protocol assignment; [] when empty or not decodable (a member of a
    foreign client may put anything there)."""
    if not data:
        return []
    try:
        _, body = decode_versioned_struct("ConsumerProtocolAssignment", data)
    except KafkaError:
        return []
    return sorted(TopicPartition(a["topic"], p) for a in body["assigned_partitions"] or [] for p in a["partitions"] or [])


def _decode_subscription(data: bytes) -> list[str] | None:
    if not data:
        return None
    try:
        _, body = decode_versioned_struct("ConsumerProtocolSubscription", data)
    except KafkaError:
        return None
    return list(body["topics"] or [])


def _offset_spec(spec: OffsetSpec | int | str) -> int:
    if isinstance(spec, str):
        try:
            return int(OffsetSpec[spec.upper()])
        except KeyError:
            raise IllegalArgumentError(f"unknown offset spec {spec!r}; use earliest, latest, max_timestamp "
                                       "or a timestamp in ms") from None
    if isinstance(spec, bool) or not isinstance(spec, int) or spec < -3:
        raise IllegalArgumentError(f"offset spec must be an OffsetSpec or a timestamp >= 0, got {spec!r}")
    return int(spec)


def _quota_entity(parts: list[dict]) -> ClientQuotaEntity:
    return ClientQuotaEntity({p["entity_type"]: p["entity_name"] for p in parts})
