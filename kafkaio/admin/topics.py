"""Admin calls on topics and the cluster: CreateTopics, DeleteTopics, CreatePartitions, Metadata,
DescribeCluster."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Iterable, Literal, Mapping, TYPE_CHECKING, cast, overload

from kafkaio.admin.core import Retry, carrying, check, finish, outcome
from kafkaio.admin.inputs import NewPartitions, NewTopic, OffsetSpec
from kafkaio.admin.records import RecordsAdmin
from kafkaio.admin.results import ClusterDescription, Node, PartitionDescription, TopicDescription
from kafkaio.errors import (
    ErrorCode,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    UnknownTopicOrPartitionError,
)
from kafkaio.protocol import ApiKey
from kafkaio.retry import Backoff, Deadline
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        CreatePartitionsResponse,
        CreateTopicsResponse,
        DeleteTopicsResponse,
        DescribeClusterResponse,
        MetadataResponseTopics,
    )

ZERO_UUID = uuid.UUID(int=0)


class TopicsAdmin(RecordsAdmin):  # waiting for leaders asks them for offsets
    """Creating, deleting, listing and describing topics; growing partitions; the cluster."""

    async def create_topics(self, new_topics: Iterable[NewTopic], *, validate_only: bool = False,
                            timeout_ms: float | None = None, raise_on_error: bool = True,
                            wait_for_leaders: bool = False) -> dict[str, KafkaError | None]:
        """Create topics; returns topic -> None (created) or the error.

        ``wait_for_leaders=True`` also waits until every broker's metadata shows each created
        topic with a leader for every partition and each leader answers for its partitions
        (convenient before producing to it at once). When that wait fails (``KafkaTimeoutError``
        at the deadline, or any error of its requests), its error is raised whatever
        ``raise_on_error`` says, carrying the create call's results (``exc.results``,
        ``exc.failures``): the topics were created.
        """
        topics = {t.name: t for t in new_topics}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            def build(version: int) -> dict[str, Any]:
                left = dl.remaining_ms()
                return {"topics": [_new_topic_body(topics[n]) for n in pending],
                        "timeout_ms": int(self.config.request_timeout_ms if left is None else left),
                        "validate_only": validate_only}
            resp = cast("CreateTopicsResponse", await self._call(self._controller(), ApiKey.CREATE_TOPICS, build, dl))
            # A broker-side timeout leaves the outcome unknown; like Java, report it rather than
            # retrying into TOPIC_ALREADY_EXISTS.
            return {t["name"]: outcome(t["error_code"], t["error_message"], f"create topic {t['name']!r}",
                                        final=(ErrorCode.REQUEST_TIMED_OUT,))
                    for t in resp["topics"]}

        results = await self._drive(topics, attempt, deadline, "CreateTopics")
        created = [n for n, r in results.items() if r is None]
        if wait_for_leaders and created and not validate_only:
            try:
                await self._wait_for_leaders(created, deadline)
            except KafkaError as exc:
                carrying(exc, results)
                raise
        return finish(results, raise_on_error)

    async def _wait_for_leaders(self, topics: list[str], deadline: Deadline) -> None:
        """Every broker's metadata names a leader for each partition of ``topics``, then each leader
        answers a ListOffsets for them: a broker publishes the metadata naming it leader a moment
        before it serves the partition (NOT_LEADER_OR_FOLLOWER meanwhile). Both waits last until
        the deadline, whatever ``retries`` says: a refusal here is the moment being waited out."""
        partitions = await self._leaders_in_metadata(topics, deadline)
        await self._leaders_serving(topics, partitions, deadline)

    async def _leaders_serving(self, topics: list[str], partitions: list[TopicPartition], deadline: Deadline) -> None:
        backoff = Backoff(self._retry_policy)
        while True:
            answers = await self.list_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST),
                                              timeout_ms=deadline.remaining_ms(), raise_on_error=False)
            refused = {tp: r for tp, r in answers.items() if isinstance(r, KafkaError)}
            if not refused:
                return
            tp, exc = next(iter(refused.items()))
            if not exc.retriable:
                raise exc
            partitions = sorted(refused)
            await _again(backoff, deadline, f"created topics {topics}: the leader of {tp} did not serve it in "
                                            f"time; last error: {exc}")

    async def _leaders_in_metadata(self, topics: list[str], deadline: Deadline) -> list[TopicPartition]:
        backoff = Backoff(self._retry_policy)
        while True:
            nodes: list[int | None] = [*self.cluster.metadata.brokers] or [None]
            ready = True
            partitions: list[TopicPartition] = []
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
                    if t["name"] is not None:  # asked by name, so named in the answer
                        partitions += [TopicPartition(t["name"], p["partition_index"]) for p in t["partitions"]]
            if ready:
                return sorted(set(partitions))
            await _again(backoff, deadline, f"created topics {topics} did not get leaders on every broker in time")

    async def delete_topics(self, topics: Iterable[str], *, timeout_ms: float | None = None,
                            raise_on_error: bool = True) -> dict[str, KafkaError | None]:
        """Delete topics by name; returns topic -> None (deleted) or the error
        (UnknownTopicOrPartitionError for a topic that does not exist)."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            def build(version: int) -> dict[str, Any]:
                remaining = dl.remaining_ms()
                left = int(self.config.request_timeout_ms if remaining is None else remaining)
                if version >= 6:
                    return {"topics": [{"name": n, "topic_id": ZERO_UUID} for n in pending], "timeout_ms": left}
                return {"topic_names": list(pending), "timeout_ms": left}
            resp = cast("DeleteTopicsResponse", await self._call(self._controller(), ApiKey.DELETE_TOPICS, build, dl))
            # named in the answer as in the request (only a deletion by id is answered without one)
            return {r["name"]: outcome(r["error_code"], r["error_message"], f"delete topic {r['name']!r}",
                                        final=(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.REQUEST_TIMED_OUT))
                    for r in resp["responses"] if r["name"] is not None}

        return finish(await self._drive(topics, attempt, deadline, "DeleteTopics"), raise_on_error)

    async def list_topics(self, *, include_internal: bool = False, timeout_ms: float | None = None) -> list[str]:
        """Names of the topics in the cluster (sorted); internal ones (``__consumer_offsets``, ...)
        only with ``include_internal=True``."""
        deadline = self._deadline(timeout_ms)
        resp = await self._single(lambda dl: self._metadata(None, dl), deadline, "list topics")
        return sorted(t["name"] for t in resp["topics"]
                      if t["name"] is not None and not t["error_code"] and (include_internal or not t["is_internal"]))

    @overload
    async def describe_topics(self, topics: Iterable[str], *, timeout_ms: float | None = None,
                              raise_on_error: Literal[True] = True) -> dict[str, TopicDescription]: ...

    @overload
    async def describe_topics(self, topics: Iterable[str], *, timeout_ms: float | None = None,
                              raise_on_error: bool) -> dict[str, TopicDescription | KafkaError]: ...

    async def describe_topics(self, topics: Iterable[str], *, timeout_ms: float | None = None,
                              raise_on_error: bool = True) -> dict[str, Any]:
        """Partitions, leaders, replicas, ISR and topic id of each topic."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            resp = await self._metadata(pending, dl)
            out: dict[str, Any] = {}
            for t in resp["topics"]:
                name = t["name"]
                if name is None:
                    continue   # only a topic asked for by id is answered without its name
                code = t["error_code"]
                if code == ErrorCode.LEADER_NOT_AVAILABLE and not t["partitions"]:
                    out[name] = Retry(LeaderNotAvailableError(f"topic {name!r} is being created"))
                elif code and code != ErrorCode.LEADER_NOT_AVAILABLE:
                    out[name] = outcome(code, None, f"describe topic {name!r}", final=(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,))
                else:
                    out[name] = _topic_description(t, name)
            return out

        return finish(await self._drive(topics, attempt, deadline, "DescribeTopics"), raise_on_error)

    async def create_partitions(self, new_partitions: Mapping[str, NewPartitions | int], *,
                                validate_only: bool = False, timeout_ms: float | None = None,
                                raise_on_error: bool = True) -> dict[str, KafkaError | None]:
        """Grow topics to the given partition counts; topic -> None or the error."""
        wanted = {n: (p if isinstance(p, NewPartitions) else NewPartitions(int(p))) for n, p in new_partitions.items()}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            def build(version: int) -> dict[str, Any]:
                left = dl.remaining_ms()
                return {"topics": [{"name": n, "count": wanted[n].total_count,
                                    "assignments": _assignments(wanted[n])} for n in pending],
                        "timeout_ms": int(self.config.request_timeout_ms if left is None else left),
                        "validate_only": validate_only}
            resp = cast("CreatePartitionsResponse",
                        await self._call(self._controller(), ApiKey.CREATE_PARTITIONS, build, dl))
            return {r["name"]: outcome(r["error_code"], r["error_message"], f"create partitions of {r['name']!r}",
                                        final=(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.REQUEST_TIMED_OUT))
                    for r in resp["results"]}

        return finish(await self._drive(wanted, attempt, deadline, "CreatePartitions"), raise_on_error)

    async def describe_cluster(self, *, timeout_ms: float | None = None) -> ClusterDescription:
        """Brokers, controller and cluster id."""
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> ClusterDescription:
            resp = cast("DescribeClusterResponse", await self._call(
                None, ApiKey.DESCRIBE_CLUSTER, lambda v: {"include_cluster_authorized_operations": False}, dl))
            check(resp["error_code"], resp["error_message"], "describe cluster")
            brokers = [Node(b["broker_id"], b["host"], b["port"], b["rack"]) for b in resp["brokers"]]
            return ClusterDescription(resp["cluster_id"], resp["controller_id"], sorted(brokers, key=lambda n: n.node_id))

        return await self._single(op, deadline, "describe cluster")


async def _again(backoff: Backoff, deadline: Deadline, timed_out: str) -> None:
    """Wait the next backoff of a wait for leaders, within ``deadline``; once it has passed, raise
    ``KafkaTimeoutError(timed_out)``."""
    delay = backoff.fail()
    left = deadline.remaining()
    if left is not None and left <= 0:
        raise KafkaTimeoutError(timed_out)
    await asyncio.sleep(delay if left is None else min(delay, left))


def _assignments(p: NewPartitions) -> list[dict[str, Any]] | None:
    """CreatePartitions' replica assignments of the new partitions (None: the broker chooses)."""
    if p.new_assignments is None:
        return None
    return [{"broker_ids": list(b)} for b in p.new_assignments]


def _new_topic_body(t: NewTopic) -> dict[str, Any]:
    return {
        "name": t.name,
        "num_partitions": t.num_partitions,
        "replication_factor": t.replication_factor,
        "assignments": [{"partition_index": p, "broker_ids": list(b)} for p, b in sorted((t.replica_assignments or {}).items())],
        "configs": [{"name": k, "value": v} for k, v in (t.configs or {}).items()],
    }


def _topic_description(t: MetadataResponseTopics, name: str) -> TopicDescription:
    tid = t["topic_id"]
    return TopicDescription(
        name, None if tid == ZERO_UUID else tid, t["is_internal"],
        sorted((PartitionDescription(p["partition_index"], p["leader_id"] if p["leader_id"] >= 0 else None,
                                     list(p["replica_nodes"]), list(p["isr_nodes"]), list(p["offline_replicas"]),
                                     p["leader_epoch"]) for p in t["partitions"]), key=lambda p: p.partition))
