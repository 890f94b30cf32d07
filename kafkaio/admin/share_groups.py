"""Admin calls on share groups (KIP-932): listing, describing, and their start offsets."""
from __future__ import annotations

from typing import Any, Iterable, Literal, Mapping, TYPE_CHECKING, cast, overload

from kafkaio.admin.core import AdminCore, check, finish, group_tps, outcome, to_tp
from kafkaio.admin.results import GroupListing, ShareGroupDescription, ShareMemberDescription, SharePartitionOffset
from kafkaio.errors import KafkaError
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        AlterShareGroupOffsetsResponse,
        DeleteShareGroupOffsetsResponse,
        DescribeShareGroupOffsetsResponse,
        ShareGroupDescribeResponse,
        ShareGroupDescribeResponseGroups,
    )


class ShareGroupsAdmin(AdminCore):
    """Share groups and their start offsets, at each group's coordinator."""

    async def _share_coordinator(self, group_id: str, deadline: Deadline) -> int:
        return await self.cluster.find_coordinator(group_id, 0, timeout_ms=deadline.remaining_ms())

    async def list_share_groups(self, *, timeout_ms: float | None = None) -> list[GroupListing]:
        """Share groups known to every broker (ListGroups filtered on the share type)."""
        return await self._list_groups([], ["share"], self._deadline(timeout_ms))

    @overload
    async def describe_share_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                    raise_on_error: Literal[True] = True) -> dict[str, ShareGroupDescription]: ...

    @overload
    async def describe_share_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                    raise_on_error: bool) -> dict[str, ShareGroupDescription | KafkaError]: ...

    async def describe_share_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                    raise_on_error: bool = True) -> dict[str, Any]:
        """State, epochs, assignor and members (with their assignments) of each share group."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            async def send(node: int | None, keys: list[str]) -> dict[str, Any]:
                resp = cast("ShareGroupDescribeResponse", await self._call(
                    node, ApiKey.SHARE_GROUP_DESCRIBE,
                    lambda v: {"group_ids": keys, "include_authorized_operations": False}, dl))
                out: dict[str, Any] = {}
                for g in resp["groups"]:
                    err = outcome(g["error_code"], g["error_message"], f"describe share group {g['group_id']!r}")
                    out[g["group_id"]] = err if err is not None else _share_group_description(g, node or -1)
                return out
            return await self._by_node(pending, lambda g: self._share_coordinator(g, dl), send)

        return finish(await self._drive(group_ids, attempt, deadline, "ShareGroupDescribe"), raise_on_error)

    async def list_share_group_offsets(self, group_id: str, partitions: Iterable[TopicPartition] | None = None, *,
                                       timeout_ms: float | None = None) -> dict[TopicPartition, SharePartitionOffset | None]:
        """The share group's start offset (and lag) per partition: all its partitions, or just
        ``partitions`` (None where the group has no state for one)."""
        wanted = None if partitions is None else [to_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> dict[TopicPartition, SharePartitionOffset | None]:
            node = await self._share_coordinator(group_id, dl)
            topics = None if wanted is None else [{"topic_name": t, "partitions": ps}
                                                  for t, ps in group_tps(wanted).items()]
            resp = cast("DescribeShareGroupOffsetsResponse", await self._call(
                node, ApiKey.DESCRIBE_SHARE_GROUP_OFFSETS,
                lambda v: {"groups": [{"group_id": group_id, "topics": topics}]}, dl))
            body = resp["groups"][0]
            check(body["error_code"], body["error_message"], f"share offsets of group {group_id!r}")
            out: dict[TopicPartition, SharePartitionOffset | None] = {}
            for t in body["topics"]:
                for p in t["partitions"]:
                    tp = TopicPartition(t["topic_name"], p["partition_index"])
                    check(p["error_code"], p["error_message"], f"share offset of {tp} in group {group_id!r}")
                    start = p["start_offset"]
                    out[tp] = None if start < 0 else SharePartitionOffset(start, p["leader_epoch"], p["lag"])
            return out

        return await self._single(op, deadline, f"list share offsets of group {group_id!r}")

    async def alter_share_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int], *,
                                        timeout_ms: float | None = None, raise_on_error: bool = True,
                                        ) -> dict[TopicPartition, KafkaError | None]:
        """Move the start offset of partitions of a share group that has no active members (the
        broker refuses otherwise); partition -> None or the error."""
        wanted = {to_tp(tp): int(o) for tp, o in offsets.items()}
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            node = await self._share_coordinator(group_id, dl)
            body = {"group_id": group_id, "topics": [
                {"topic_name": t, "partitions": [{"partition_index": p, "start_offset": wanted[TopicPartition(t, p)]}
                                                 for p in ps]} for t, ps in group_tps(pending).items()]}
            resp = cast("AlterShareGroupOffsetsResponse", await self._call(
                node, ApiKey.ALTER_SHARE_GROUP_OFFSETS, lambda v: body, dl))
            top = outcome(resp["error_code"], resp["error_message"], f"alter share offsets of group {group_id!r}")
            if top is not None:
                return {tp: top for tp in pending}
            return {TopicPartition(t["topic_name"], p["partition_index"]):
                    outcome(p["error_code"], p["error_message"],
                            f"alter share offset of {t['topic_name']}-{p['partition_index']} in {group_id!r}")
                    for t in resp["responses"] for p in t["partitions"]}

        return finish(await self._drive(wanted, attempt, deadline, "AlterShareGroupOffsets"), raise_on_error)

    async def delete_share_group_offsets(self, group_id: str, topics: Iterable[str], *,
                                         timeout_ms: float | None = None, raise_on_error: bool = True,
                                         ) -> dict[str, KafkaError | None]:
        """Delete a share group's state for whole topics (the group then starts them afresh, per
        share.auto.offset.reset); topic -> None or the error."""
        wanted = list(dict.fromkeys(topics))
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            node = await self._share_coordinator(group_id, dl)
            resp = cast("DeleteShareGroupOffsetsResponse", await self._call(
                node, ApiKey.DELETE_SHARE_GROUP_OFFSETS,
                lambda v: {"group_id": group_id, "topics": [{"topic_name": t} for t in pending]}, dl))
            top = outcome(resp["error_code"], resp["error_message"], f"delete share offsets of group {group_id!r}")
            if top is not None:
                return {t: top for t in pending}
            return {r["topic_name"]: outcome(r["error_code"], r["error_message"],
                                             f"delete share offsets of {r['topic_name']} in {group_id!r}")
                    for r in resp["responses"]}

        return finish(await self._drive(wanted, attempt, deadline, "DeleteShareGroupOffsets"), raise_on_error)


def _share_group_description(g: ShareGroupDescribeResponseGroups, coordinator: int) -> ShareGroupDescription:
    members = [ShareMemberDescription(
        m["member_id"], m["client_id"], m["client_host"], m["rack_id"], m["member_epoch"],
        list(m["subscribed_topic_names"]),
        sorted(TopicPartition(t["topic_name"], p) for t in m["assignment"]["topic_partitions"] for p in t["partitions"]))
        for m in g["members"]]
    return ShareGroupDescription(g["group_id"], g["group_state"], g["group_epoch"], g["assignment_epoch"],
                                 g["assignor_name"], members, coordinator)
