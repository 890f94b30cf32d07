"""Admin calls on consumer groups: listing, describing (classic and KIP-848), their offsets,
deleting."""
from __future__ import annotations

from typing import Any, Iterable, Literal, Mapping, TYPE_CHECKING, cast, overload

from kafkaio.admin.core import AdminCore, Retry, check, finish, group_tps, outcome, to_tp
from kafkaio.admin.results import GroupDescription, GroupListing, MemberDescription
from kafkaio.errors import ErrorCode, KafkaError, UnsupportedVersionError
from kafkaio.protocol import ApiKey, decode_versioned_struct
from kafkaio.retry import Deadline
from kafkaio.structs import OffsetAndMetadata, TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        ConsumerGroupDescribeResponse,
        ConsumerGroupDescribeResponseGroups,
        ConsumerGroupDescribeResponseGroupsMembersAssignment,
        ConsumerGroupDescribeResponseGroupsMembersTargetAssignment,
        ConsumerProtocolAssignment,
        ConsumerProtocolSubscription,
        DeleteGroupsResponse,
        DescribeGroupsResponse,
        DescribeGroupsResponseGroups,
        OffsetCommitResponse,
        OffsetDeleteResponse,
        OffsetFetchResponse,
    )

OFFSET_COMMIT_BY_NAME = 9   # the last OffsetCommit version naming topics by name
OFFSET_FETCH_BY_NAME = 9    # the last OffsetFetch version naming topics by name


class GroupsAdmin(AdminCore):
    """Consumer groups and their committed offsets, at each group's coordinator."""

    async def _coordinator(self, group_id: str, deadline: Deadline) -> int:
        left = deadline.remaining_ms()
        return await self.cluster.find_coordinator(group_id, 0, timeout_ms=left)

    async def list_consumer_groups(self, *, states: Iterable[str] | None = None,
                                   timeout_ms: float | None = None) -> list[GroupListing]:
        """Consumer groups known to every broker (optionally only in ``states``, e.g. "Stable")."""
        listings = await self._list_groups(list(states or []), [], self._deadline(timeout_ms))
        return [g for g in listings if g.protocol_type in ("consumer", "")]

    async def list_groups(self, *, types: Iterable[str] | None = None, states: Iterable[str] | None = None,
                          protocol_types: Iterable[str] | None = None,
                          timeout_ms: float | None = None) -> list[GroupListing]:
        """Groups of every kind known to every broker (KIP-1043, Java's ``Admin.listGroups``),
        optionally only of ``types`` ("classic", "consumer", "share", "streams") and in ``states``
        (both filtered by the broker), and of ``protocol_types`` (e.g. "consumer"; filtered here).

        Filtering by type needs ListGroups v5 (Kafka 3.8+): :class:`UnsupportedVersionError` on older
        brokers."""
        wanted_types = [t.lower() for t in types or []]
        listings = await self._list_groups(list(states or []), wanted_types, self._deadline(timeout_ms))
        if protocol_types is None:
            return listings
        wanted_protocols = set(protocol_types)
        return [g for g in listings if g.protocol_type in wanted_protocols]

    @overload
    async def describe_consumer_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                       raise_on_error: Literal[True] = True) -> dict[str, GroupDescription]: ...

    @overload
    async def describe_consumer_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                       raise_on_error: bool) -> dict[str, GroupDescription | KafkaError]: ...

    async def describe_consumer_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                       raise_on_error: bool = True) -> dict[str, Any]:
        """State, protocol, members and each member's decoded assignment, per group.

        Like the Java client, asks ConsumerGroupDescribe first (groups of the KIP-848 consumer
        protocol) and DescribeGroups for the rest (classic groups, and every group on a broker
        that does not offer the consumer protocol). A group that does not exist is a
        GroupIdNotFoundError on Kafka 4.0+ (DescribeGroups v6); older brokers describe it with
        state "Dead" and no members.
        """
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            async def send(node: int, keys: list[str]) -> dict[str, Any]:
                out: dict[str, Any] = {}
                try:
                    new = cast("ConsumerGroupDescribeResponse", await self._call(
                        node, ApiKey.CONSUMER_GROUP_DESCRIBE,
                        lambda v: {"group_ids": keys, "include_authorized_operations": False}, dl))
                except UnsupportedVersionError:
                    new = None   # a broker without the consumer protocol: every group is a classic one
                classic = list(keys) if new is None else []
                for g in new["groups"] if new is not None else ():
                    # GROUP_ID_NOT_FOUND: not a consumer-protocol group. UNSUPPORTED_VERSION: a broker
                    # without the consumer protocol enabled (3.x's default) answers every group so.
                    if g["error_code"] in (ErrorCode.GROUP_ID_NOT_FOUND, ErrorCode.UNSUPPORTED_VERSION):
                        classic.append(g["group_id"])
                        continue
                    err = outcome(g["error_code"], g["error_message"], f"describe group {g['group_id']!r}")
                    out[g["group_id"]] = err if err is not None else _consumer_group_description(g, node)
                if not classic:
                    return out
                resp = cast("DescribeGroupsResponse", await self._call(
                    node, ApiKey.DESCRIBE_GROUPS,
                    lambda v: {"groups": classic, "include_authorized_operations": False}, dl))
                for c in resp["groups"]:
                    err = outcome(c["error_code"], None, f"describe group {c['group_id']!r}")
                    out[c["group_id"]] = err if err is not None else _group_description(c, node)
                return out
            return await self._by_node(pending, lambda g: self._coordinator(g, dl), send)

        return finish(await self._drive(group_ids, attempt, deadline, "DescribeGroups"), raise_on_error)

    async def list_consumer_group_offsets(self, group_id: str, partitions: Iterable[TopicPartition] | None = None, *,
                                          require_stable: bool = False, timeout_ms: float | None = None,
                                          ) -> dict[TopicPartition, OffsetAndMetadata | None]:
        """Committed offsets of ``group_id`` (all its partitions, or just ``partitions``; a
        partition without a committed offset maps to None).

        ``require_stable=True`` asks for the offsets as a consumer sees them: the coordinator waits
        for pending transactional commits and for its own log to be replicated. Without it (the
        default, as in the Java admin client), the answer is read at the coordinator's high
        watermark, so a coordinator that has just taken over from a failed broker may briefly
        answer without commits that are in its log."""
        wanted = None if partitions is None else [to_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> dict[TopicPartition, OffsetAndMetadata | None]:
            node = await self._coordinator(group_id, dl)
            topics = None if wanted is None else [{"name": t, "partition_indexes": ps} for t, ps in group_tps(wanted).items()]

            def build(version: int) -> dict[str, Any]:
                if version >= 8:
                    return {"groups": [{"group_id": group_id, "topics": topics}], "require_stable": require_stable}
                return {"group_id": group_id, "topics": topics, "require_stable": require_stable}
            # by name, as Java's admin client (ListConsumerGroupOffsetsHandler)
            version, raw = await self._call_versioned(node, ApiKey.OFFSET_FETCH, build, dl, OFFSET_FETCH_BY_NAME)
            resp = cast("OffsetFetchResponse", raw)
            body = resp["groups"][0] if version >= 8 else resp
            check(body["error_code"], None, f"offsets of group {group_id!r}")
            out: dict[TopicPartition, OffsetAndMetadata | None] = {}
            for t in body["topics"]:
                for p in t["partitions"]:
                    tp = TopicPartition(t["name"], p["partition_index"])
                    perr = outcome(p["error_code"], None, f"offset of {tp} in group {group_id!r}")
                    if perr is not None:
                        raise perr.error if isinstance(perr, Retry) else perr
                    off = p["committed_offset"]
                    out[tp] = None if off < 0 else OffsetAndMetadata(off, p["metadata"] or "",
                                                                      p["committed_leader_epoch"])
            return out

        return await self._single(op, deadline, f"list offsets of group {group_id!r}")

    async def alter_consumer_group_offsets(self, group_id: str,
                                           offsets: Mapping[TopicPartition, OffsetAndMetadata | int], *,
                                           timeout_ms: float | None = None, raise_on_error: bool = True,
                                           ) -> dict[TopicPartition, KafkaError | None]:
        """Commit offsets for a group that has no active members (the broker refuses otherwise,
        UnknownMemberIdError); partition -> None or the error."""
        wanted = {to_tp(tp): (o if isinstance(o, OffsetAndMetadata) else OffsetAndMetadata(int(o)))
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
                        for t, ps in group_tps(pending).items()]}
            # by name, as Java's admin client (v10+ would need every topic's id)
            resp = cast("OffsetCommitResponse", await self._call(
                node, ApiKey.OFFSET_COMMIT, lambda v: body, dl, OFFSET_COMMIT_BY_NAME))
            return {TopicPartition(t["name"], p["partition_index"]):
                    outcome(p["error_code"], None, f"commit {t['name']}-{p['partition_index']} for group {group_id!r}")
                    for t in resp["topics"] for p in t["partitions"]}

        return finish(await self._drive(wanted, attempt, deadline, "OffsetCommit"), raise_on_error)

    async def delete_consumer_group_offsets(self, group_id: str, partitions: Iterable[TopicPartition], *,
                                            timeout_ms: float | None = None, raise_on_error: bool = True,
                                            ) -> dict[TopicPartition, KafkaError | None]:
        """Delete committed offsets of partitions the group no longer consumes; partition -> None
        or the error (GroupSubscribedToTopicError while the group still reads the topic)."""
        wanted = [to_tp(p) for p in partitions]
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[TopicPartition], dl: Deadline) -> dict[TopicPartition, Any]:
            node = await self._coordinator(group_id, dl)
            resp = cast("OffsetDeleteResponse", await self._call(node, ApiKey.OFFSET_DELETE, lambda v: {
                "group_id": group_id,
                "topics": [{"name": t, "partitions": [{"partition_index": p} for p in ps]}
                           for t, ps in group_tps(pending).items()]}, dl))
            top = outcome(resp["error_code"], None, f"delete offsets of group {group_id!r}")
            if top is not None:
                return {tp: top for tp in pending}
            return {TopicPartition(t["name"], p["partition_index"]):
                    outcome(p["error_code"], None, f"delete offset of {t['name']}-{p['partition_index']} in {group_id!r}")
                    for t in resp["topics"] for p in t["partitions"]}

        return finish(await self._drive(wanted, attempt, deadline, "OffsetDelete"), raise_on_error)

    async def delete_consumer_groups(self, group_ids: Iterable[str], *, timeout_ms: float | None = None,
                                     raise_on_error: bool = True) -> dict[str, KafkaError | None]:
        """Delete empty groups and their offsets; group -> None or the error (GroupNotEmptyError,
        GroupIdNotFoundError)."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[str], dl: Deadline) -> dict[str, Any]:
            async def send(node: int | None, keys: list[str]) -> dict[str, Any]:
                resp = cast("DeleteGroupsResponse", await self._call(
                    node, ApiKey.DELETE_GROUPS, lambda v: {"groups_names": keys}, dl))
                return {r["group_id"]: outcome(r["error_code"], r["error_message"], f"delete group {r['group_id']!r}")
                        for r in resp["results"]}
            return await self._by_node(pending, lambda g: self._coordinator(g, dl), send)

        return finish(await self._drive(group_ids, attempt, deadline, "DeleteGroups"), raise_on_error)


def _group_description(g: DescribeGroupsResponseGroups, coordinator: int) -> GroupDescription:
    consumer = g["protocol_type"] == "consumer"
    members = []
    for m in g["members"]:
        metadata, assignment = bytes(m["member_metadata"] or b""), bytes(m["member_assignment"] or b"")
        members.append(MemberDescription(
            m["member_id"], m["group_instance_id"], m["client_id"], m["client_host"],
            _decode_assignment(assignment) if consumer else [],
            _decode_subscription(metadata) if consumer else None, metadata, assignment))
    ops = g["authorized_operations"]
    return GroupDescription(g["group_id"], g["group_state"], g["protocol_type"], g["protocol_data"], members,
                            coordinator, None if ops == -2147483648 else ops)


def _consumer_group_description(g: ConsumerGroupDescribeResponseGroups, coordinator: int) -> GroupDescription:
    """A KIP-848 group, from ConsumerGroupDescribe (assignments arrive as structs, not bytes)."""
    def tps(assignment: ConsumerGroupDescribeResponseGroupsMembersAssignment
            | ConsumerGroupDescribeResponseGroupsMembersTargetAssignment) -> list[TopicPartition]:
        return sorted(TopicPartition(t["topic_name"], p) for t in assignment["topic_partitions"]
                      for p in t["partitions"])
    members = [MemberDescription(
        m["member_id"], m["instance_id"], m["client_id"], m["client_host"], tps(m["assignment"]),
        list(m["subscribed_topic_names"] or []), member_epoch=m["member_epoch"],
        target_assignment=tps(m["target_assignment"])) for m in g["members"]]
    ops = g["authorized_operations"]
    return GroupDescription(g["group_id"], g["group_state"], "consumer", g["assignor_name"], members,
                            coordinator, None if ops == -2147483648 else ops, group_type="consumer",
                            group_epoch=g["group_epoch"])


def _decode_assignment(data: bytes) -> list[TopicPartition]:
    """Partitions in a consumer-protocol assignment; [] when empty or not decodable (a member of a
    foreign client may put anything there)."""
    if not data:
        return []
    try:
        _, decoded = decode_versioned_struct("ConsumerProtocolAssignment", data)
    except KafkaError:
        return []
    body = cast("ConsumerProtocolAssignment", decoded)
    return sorted(TopicPartition(a["topic"], p) for a in body["assigned_partitions"] for p in a["partitions"])


def _decode_subscription(data: bytes) -> list[str] | None:
    if not data:
        return None
    try:
        _, decoded = decode_versioned_struct("ConsumerProtocolSubscription", data)
    except KafkaError:
        return None
    return list(cast("ConsumerProtocolSubscription", decoded)["topics"])
