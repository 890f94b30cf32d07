"""The admin client's core: connecting, one request to the broker that must answer it, and
retrying each item of a call until it has a final outcome or the deadline passes."""
from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Mapping, Sequence, Self, TypeVar, Unpack, cast

from kafkaio._loops import check_loop
from kafkaio.admin.results import GroupListing
from kafkaio.cluster import Cluster
from kafkaio.config import AdminConfig
from kafkaio.metrics import AdminMetrics
from kafkaio.metrics.clients import admin_metrics, admin_reader
from kafkaio.errors import (
    IllegalArgumentError,
    IllegalStateError,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    UnknownServerError,
    UnsupportedVersionError,
    error_for_code,
)
from kafkaio.lifecycle import ClientState, Lifecycle
from kafkaio.protocol import ApiKey
from kafkaio.retry import Backoff, Deadline, ExponentialBackoff
from kafkaio.settings import AdminSettings
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ListGroupsResponse, MetadataResponse

log = logging.getLogger("kafkaio.admin")

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
N = TypeVar("N", bound=int | None)  # where a call goes: a node id (None: any broker)


class Retry:
    """A per-item outcome that deserves another attempt."""

    __slots__ = ("error",)

    def __init__(self, error: KafkaError) -> None:
        self.error = error


def outcome(code: int, message: str | None, what: str, final: Iterable[int] = ()) -> KafkaError | Retry | None:
    """None for success; else the error, wrapped in Retry when retriable and not in ``final``."""
    if not code:
        return None
    err = error_for_code(code)(f"{what}: {message}" if message else what)
    if err.retriable and code not in final:
        return Retry(err)
    return err


def check(code: int, message: str | None, what: str) -> None:
    """Raise the error of a call answered as a whole (nothing for code 0); ``_single`` retries it
    when it is retriable."""
    err = outcome(code, message, what)
    if err is not None:
        raise err.error if isinstance(err, Retry) else err


def finish(results: dict[K, Any], raise_on_error: bool) -> dict[K, Any]:
    if raise_on_error:
        failed = {k: v for k, v in results.items() if isinstance(v, KafkaError)}
        if failed:
            raise carrying(next(iter(failed.values())), results)
    return results


def carrying(exc: KafkaError, results: dict[K, Any]) -> KafkaError:
    """``exc``, an error of a call over several items, with the call's results: ``exc.results``
    (every item's) and ``exc.failures`` (the failed items'), as docs/admin.md promises."""
    exc.results = results
    exc.failures = {k: v for k, v in results.items() if isinstance(v, KafkaError)}
    return exc


def group_tps(tps: Iterable[TopicPartition]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for tp in tps:
        out.setdefault(tp.topic, []).append(tp.partition)
    return out


def to_tp(value: Any) -> TopicPartition:
    if isinstance(value, TopicPartition):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return TopicPartition(str(value[0]), int(value[1]))
    raise IllegalArgumentError(f"expected a TopicPartition, got {value!r}")


class AdminCore:
    """The admin client's lifecycle and request machinery: one request to the right broker
    (``_call``), per-item retries until a deadline (``_drive``, ``_single``), fan-out by node
    (``_by_node``). The calls of each area are in the mixins that ``Admin`` combines."""

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
        self._life = Lifecycle("admin client", IllegalStateError)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it was started on
        self._metrics = admin_reader()
        self._counted: Cluster | None = None  # the cluster metrics() reads, also once closed
        self._retry_policy = ExponentialBackoff(self.config.retry_backoff_ms, self.config.retry_backoff_max_ms)

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any], **overrides: Any) -> Self:
        """Build from Java-style keys (``{"bootstrap.servers": "...", "request.timeout.ms": "5000"}``)."""
        return cls(config=AdminConfig.from_dotted(mapping, **overrides))

    async def start(self) -> Self:
        """Connect to the cluster (NoBrokersAvailableError when no bootstrap server answers).
        Idempotent; a start() during another waits for it; refused once close() began."""
        if not await self._life.begin_start():
            return self
        self._loop = asyncio.get_running_loop()
        cluster = Cluster(self.config)
        try:
            await cluster.bootstrap()
        except BaseException:
            await cluster.close()
            self._life.start_failed()
            raise
        self._cluster = self._counted = cluster
        self._life.started()
        return self

    async def close(self) -> None:
        """Close the connections and end every task; a close() during another returns when the
        client is closed."""
        if self._life.state is ClientState.STARTED:
            check_loop(self._loop, "admin client")
        await self._life.close(self._close)

    async def _close(self) -> None:
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            await cluster.close()

    def metrics(self) -> AdminMetrics:
        """The client's connections and what went over them (docs/metrics.md); call it from the
        event loop's thread."""
        return admin_metrics(self._metrics, self._counted)

    def __repr__(self) -> str:
        return f"<kafkaio.Admin {'started' if self._cluster is not None else 'not started'}>"

    def __del__(self) -> None:
        if getattr(self, "_cluster", None) is not None:
            warnings.warn(f"unclosed {self!r}: close() ends its connections and tasks", ResourceWarning,
                          source=self)

    async def __aenter__(self) -> Self:
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

    async def _call(self, node_id: int | None, api_key: int, build: Callable[[int], dict[str, Any]],
                    deadline: Deadline, max_version: int | None = None) -> dict[str, Any]:
        """One request to ``node_id`` (None: least loaded), its body built for the negotiated version
        (at most ``max_version``); the response (callers cast it to its type in
        :mod:`kafkaio.protocol.bodies`)."""
        return (await self._call_versioned(node_id, api_key, build, deadline, max_version))[1]

    async def _call_versioned(self, node_id: int | None, api_key: int, build: Callable[[int], dict[str, Any]],
                              deadline: Deadline, max_version: int | None = None) -> tuple[int, dict[str, Any]]:
        """:meth:`_call`, with the version the request was sent in (for answers that differ by version)."""
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
        if max_version is not None:
            version = min(version, max_version)
        left = deadline.remaining_ms()
        timeout = self.config.request_timeout_ms if left is None else max(1.0, min(left, self.config.request_timeout_ms))
        resp = await conn.request(api_key, build(version), version=version, timeout_ms=timeout)
        assert resp is not None
        return version, resp

    async def _drive(self, keys: Iterable[K], attempt: Callable[[list[K], Deadline], Awaitable[dict[K, Any]]],
                     deadline: Deadline, what: str) -> dict[K, Any]:
        """Run ``attempt`` over the pending keys until each has a final outcome.

        ``attempt`` returns key -> result, final exception, or Retry. Retriable failures of the
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
                out = {k: Retry(exc) for k in pending}
            retry: list[K] = []
            refresh = False
            for k in pending:
                r = out.get(k, Retry(UnknownServerError(f"{what}: the broker's answer did not mention {k!r}")))
                if isinstance(r, Retry):
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

    async def _metadata(self, topics: list[str] | None, deadline: Deadline,
                        node_id: int | None = None) -> MetadataResponse:
        """A Metadata response (never auto-creating topics); None asks for every topic."""
        def build(version: int) -> dict[str, Any]:
            return {"topics": None if topics is None else [{"name": t} for t in topics],
                    "allow_auto_topic_creation": False, "include_topic_authorized_operations": False}
        return cast("MetadataResponse", await self._call(node_id, ApiKey.METADATA, build, deadline))

    def _controller(self) -> int | None:
        # In KRaft every broker forwards admin requests to the active controller; the Metadata
        # "controller" is a live broker chosen for us, so prefer it and fall back to any broker.
        cid = self.cluster.metadata.controller_id
        return cid if cid is not None and cid >= 0 and cid in self.cluster.metadata.brokers else None

    async def _by_node(self, pending: list[K], route: Callable[[K], Awaitable[N] | N],
                       send: Callable[[N, list[K]], Awaitable[dict[K, Any]]]) -> dict[K, Any]:
        """Group ``pending`` by destination node and send to each node concurrently."""
        groups: dict[N, list[K]] = {}
        out: dict[K, Any] = {}
        for k in pending:
            try:
                routed = route(k)
                node = await routed if isinstance(routed, Awaitable) else routed
            except KafkaError as exc:
                out[k] = Retry(exc) if exc.retriable else exc
                continue
            groups.setdefault(node, []).append(k)

        async def one(node: N, keys: list[K]) -> dict[K, Any]:
            try:
                return await send(node, keys)
            except KafkaError as exc:
                return {k: (Retry(exc) if exc.retriable else exc) for k in keys}

        for part in await asyncio.gather(*(one(n, ks) for n, ks in groups.items())):
            out.update(part)
        return out

    async def _single(self, op: Callable[[Deadline], Awaitable[T]], deadline: Deadline, what: str) -> T:
        """Retry one whole operation on retriable errors; raise its final error."""
        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            return {what: await op(dl)}
        result = (await self._drive([what], attempt, deadline, what))[what]
        if isinstance(result, BaseException):
            raise result
        value: T = result
        return value

    async def _list_groups(self, states_filter: list[str], types_filter: list[str],
                          deadline: Deadline) -> list[GroupListing]:
        """ListGroups on every broker (with the broker-side filters), merged and sorted by group id."""
        await deadline.run(self.cluster.refresh_metadata(), "cluster metadata")

        async def attempt(pending: list[int], dl: Deadline) -> dict[int, Any]:
            async def send(node: int | None, keys: list[int]) -> dict[int, Any]:
                version, raw = await self._call_versioned(
                    node, ApiKey.LIST_GROUPS,
                    lambda v: {"states_filter": states_filter, "types_filter": types_filter}, dl)
                resp = cast("ListGroupsResponse", raw)
                if types_filter and version < 5:
                    raise UnsupportedVersionError(f"listing groups by type needs ListGroups v5 (Kafka 3.8 or newer); "
                                                  f"broker {node} offers up to v{version}")
                err = outcome(resp["error_code"], None, f"list groups on broker {node}")
                if err is not None:
                    return dict.fromkeys(keys, err)  # keys: [node] (routed to itself)
                listings = [GroupListing(g["group_id"], g["protocol_type"], g["group_state"], g["group_type"])
                            for g in resp["groups"]]
                return dict.fromkeys(keys, listings)
            return await self._by_node(pending, lambda n: n, send)

        per_node = await self._drive(list(self.cluster.metadata.brokers), attempt, deadline, "ListGroups")
        listings: dict[str, GroupListing] = {}
        for result in per_node.values():
            if isinstance(result, BaseException):
                raise result
            for g in result:
                listings[g.group_id] = g
        return sorted(listings.values(), key=lambda g: g.group_id)
