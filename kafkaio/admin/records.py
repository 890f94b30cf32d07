"""Admin calls sent to partition leaders: DeleteRecords, ListOffsets, DescribeProducers."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, Literal, Mapping, TYPE_CHECKING, cast, overload

from kafkaio.admin.core import AdminCore, Retry, finish, group_tps, outcome, to_tp
from kafkaio.admin.inputs import OffsetSpec
from kafkaio.admin.results import ListOffsetsResult, ProducerState
from kafkaio.errors import (
    ErrorCode,
    IllegalArgumentError,
    KafkaError,
    LeaderNotAvailableError,
    UnknownTopicOrPartitionError,
)
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        DeleteRecordsResponse,
        DescribeProducersResponse,
        ListOffsetsResponse,
    )


class RecordsAdmin(AdminCore):
    """Calls on partitions, each sent to the partition's leader."""

    async def _leaders(self, tps: list[TopicPartition], dl: Deadline) -> tuple[dict[TopicPartition, int], dict[TopicPartition, Any]]:
        """Current leader of each partition, from fresh metadata; failures per partition."""
        resp = await self._metadata(sorted({tp.topic for tp in tps}), dl)
        topics = {t["name"]: t for t in resp["topics"]}
        leaders: dict[TopicPartition, int] = {}
        failed: dict[TopicPartition, Any] = {}
        for tp in tps:
            t = topics.get(tp.topic)
            code = t["error_code"] if t is not None else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            parts = {p["partition_index"]: p for p in t["partitions"]} if t is not None else {}
            if code and code != ErrorCode.LEADER_NOT_AVAILABLE:
                failed[tp] = outcome(code, None, f"partition {tp}", final=(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,))
            elif tp.partition not in parts:
                if parts:
                    failed[tp] = UnknownTopicOrPartitionError(f"topic {tp.topic!r} has no partition {tp.partition}")
                else:
                    failed[tp] = Retry(LeaderNotAvailableError(f"topic {tp.topic!r} has no partitions yet"))
            elif parts[tp.partition]["leader_id"] < 0:
                failed[tp] = Retry(LeaderNotAvailableError(f"partition {tp} has no leader"))
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

    @overload
    async def delete_records(self, before_offsets: Mapping[TopicPartition, int], *, timeout_ms: float | None = None,
                             raise_on_error: Literal[True] = True) -> dict[TopicPartition, int]: ...

    @overload
    async def delete_records(self, before_offsets: Mapping[TopicPartition, int], *, timeout_ms: float | None = None,
                             raise_on_error: bool) -> dict[TopicPartition, int | KafkaError]: ...

    async def delete_records(self, before_offsets: Mapping[TopicPartition, int], *, timeout_ms: float | None = None,
                             raise_on_error: bool = True) -> dict[TopicPartition, Any]:
        """Delete records below the given offset of each partition (-1: everything up to the high
        watermark); partition -> the new low watermark, or the error."""
        wanted = {to_tp(tp): int(o) for tp, o in before_offsets.items()}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            async def send(node: int | None, keys: list[TopicPartition]) -> dict[TopicPartition, Any]:
                def build(version: int) -> dict[str, Any]:
                    left = dl.remaining_ms()
                    return {"topics": [{"name": t, "partitions": [{"partition_index": p, "offset": wanted[TopicPartition(t, p)]}
                                                                  for p in ps]} for t, ps in group_tps(keys).items()],
                            "timeout_ms": int(self.config.request_timeout_ms if left is None else left)}
                resp = cast("DeleteRecordsResponse", await self._call(node, ApiKey.DELETE_RECORDS, build, dl))
                out: dict[TopicPartition, Any] = {}
                for t in resp["topics"]:
                    for p in t["partitions"]:
                        tp = TopicPartition(t["name"], p["partition_index"])
                        err = outcome(p["error_code"], None, f"delete records of {tp}")
                        out[tp] = err if err is not None else p["low_watermark"]
                return out
            return await self._to_leaders(pending, dl, send)

        return finish(await self._drive(wanted, attempt, deadline, "DeleteRecords"), raise_on_error)

    @overload
    async def list_offsets(self, specs: Mapping[TopicPartition, OffsetSpec | int | str], *,
                           isolation_level: str = "read_uncommitted", timeout_ms: float | None = None,
                           raise_on_error: Literal[True] = True) -> dict[TopicPartition, ListOffsetsResult]: ...

    @overload
    async def list_offsets(self, specs: Mapping[TopicPartition, OffsetSpec | int | str], *,
                           isolation_level: str = "read_uncommitted", timeout_ms: float | None = None,
                           raise_on_error: bool) -> dict[TopicPartition, ListOffsetsResult | KafkaError]: ...

    async def list_offsets(self, specs: Mapping[TopicPartition, OffsetSpec | int | str], *,
                           isolation_level: str = "read_uncommitted", timeout_ms: float | None = None,
                           raise_on_error: bool = True) -> dict[TopicPartition, Any]:
        """Offsets by spec per partition: OffsetSpec.EARLIEST / LATEST / MAX_TIMESTAMP (or
        "earliest", "latest", "max_timestamp"), or a timestamp in ms (first offset at or after it;
        offset -1 when there is none)."""
        if isolation_level not in ("read_uncommitted", "read_committed"):
            raise IllegalArgumentError(f"isolation_level must be read_uncommitted or read_committed, got {isolation_level!r}")
        wanted = {to_tp(tp): _offset_spec(s) for tp, s in specs.items()}
        level = 1 if isolation_level == "read_committed" else 0
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            async def send(node: int | None, keys: list[TopicPartition]) -> dict[TopicPartition, Any]:
                def build(version: int) -> dict[str, Any]:
                    left = dl.remaining_ms()
                    return {"replica_id": -1, "isolation_level": level,
                            "topics": [{"name": t, "partitions": [{"partition_index": p, "current_leader_epoch": -1,
                                                                   "timestamp": wanted[TopicPartition(t, p)]}
                                                                  for p in ps]} for t, ps in group_tps(keys).items()],
                            "timeout_ms": int(self.config.request_timeout_ms if left is None else left)}
                resp = cast("ListOffsetsResponse", await self._call(node, ApiKey.LIST_OFFSETS, build, dl))
                out: dict[TopicPartition, Any] = {}
                for t in resp["topics"]:
                    for p in t["partitions"]:
                        tp = TopicPartition(t["name"], p["partition_index"])
                        err = outcome(p["error_code"], None, f"list offsets of {tp}")
                        out[tp] = err if err is not None else ListOffsetsResult(p["offset"], p["timestamp"],
                                                                                 p["leader_epoch"])
                return out
            return await self._to_leaders(pending, dl, send)

        return finish(await self._drive(wanted, attempt, deadline, "ListOffsets"), raise_on_error)

    @overload
    async def describe_producers(self, partitions: Iterable[TopicPartition], *, timeout_ms: float | None = None,
                                 raise_on_error: Literal[True] = True) -> dict[TopicPartition, list[ProducerState]]: ...

    @overload
    async def describe_producers(self, partitions: Iterable[TopicPartition], *, timeout_ms: float | None = None,
                                 raise_on_error: bool) -> dict[TopicPartition, list[ProducerState] | KafkaError]: ...

    async def describe_producers(self, partitions: Iterable[TopicPartition], *, timeout_ms: float | None = None,
                                 raise_on_error: bool = True) -> dict[TopicPartition, Any]:
        """The producers each partition's leader tracks (ids, epochs, last sequence numbers, open
        transactions): what idempotence and transactions look like from the broker's side."""
        wanted = [to_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            async def send(node: int | None, keys: list[TopicPartition]) -> dict[TopicPartition, Any]:
                resp = cast("DescribeProducersResponse", await self._call(
                    node, ApiKey.DESCRIBE_PRODUCERS,
                    lambda v: {"topics": [{"name": t, "partition_indexes": ps} for t, ps in group_tps(keys).items()]},
                    dl))
                out: dict[TopicPartition, Any] = {}
                for t in resp["topics"]:
                    for p in t["partitions"]:
                        tp = TopicPartition(t["name"], p["partition_index"])
                        err = outcome(p["error_code"], p["error_message"], f"describe producers of {tp}")
                        out[tp] = err if err is not None else [
                            ProducerState(a["producer_id"], a["producer_epoch"], a["last_sequence"], a["last_timestamp"],
                                          a["coordinator_epoch"], a["current_txn_start_offset"])
                            for a in p["active_producers"]]
                return out
            return await self._to_leaders(pending, dl, send)

        return finish(await self._drive(wanted, attempt, deadline, "DescribeProducers"), raise_on_error)


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
