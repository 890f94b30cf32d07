"""Committed offsets: OffsetCommit (checked against the group's generation and members, as the
broker does) and OffsetFetch."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake import handlers as _h

COMMIT_TOPIC_ID_VERSION = 10   # OffsetCommit names topics by id from here on


async def offset_commit(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Store each partition's offset for the group (on its coordinator only)."""
    group = body["group_id"]
    not_here = broker.state.coordinator_for(group) != broker.node_id
    stored = broker.state.committed.setdefault(group, {})
    members = broker.state.groups.get(group)
    group_error = ErrorCode.NONE if members is None else members.commit_error(
        body.get("generation_id_or_member_epoch", -1), body.get("member_id", ""))
    topics = []
    by_id = version >= COMMIT_TOPIC_ID_VERSION
    names = {t.topic_id: name for name, t in broker.state.topics.items()} if by_id else {}
    for t in body["topics"]:
        parts = []
        name = names.get(t["topic_id"]) if by_id else t["name"]
        for p in t["partitions"]:
            code: int = ErrorCode.NONE
            if not_here:
                code = ErrorCode.NOT_COORDINATOR
            elif group_error != ErrorCode.NONE:
                code = group_error
            elif name is None:
                code = ErrorCode.UNKNOWN_TOPIC_ID
            elif broker.state.partition(name, p["partition_index"]) is None:
                code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            else:
                stored[(name, p["partition_index"])] = (
                    p["committed_offset"], p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
            parts.append({"partition_index": p["partition_index"], "error_code": code})
        topics.append({"name": t.get("name", ""), "topic_id": t.get("topic_id"), "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}


def _group_offsets(broker: "_h.BrokerView", group: str, topics: list[dict[str, Any]] | None
                   ) -> tuple[int, list[dict[str, Any]]]:
    if broker.state.coordinator_for(group) != broker.node_id:
        return ErrorCode.NOT_COORDINATOR, []
    stored = broker.state.committed.get(group, {})
    if topics is None:  # all the group's committed partitions
        by_topic: dict[str, list[int]] = {}
        for (name, index) in stored:
            by_topic.setdefault(name, []).append(index)
        topics = [{"name": n, "partition_indexes": sorted(ps)} for n, ps in by_topic.items()]
    out = []
    for t in topics:
        parts = []
        for index in t["partition_indexes"]:
            offset, epoch, meta = stored.get((t["name"], index), (-1, -1, ""))
            parts.append({"partition_index": index, "committed_offset": offset,
                          "committed_leader_epoch": epoch, "metadata": meta, "error_code": ErrorCode.NONE})
        out.append({"name": t["name"], "partitions": parts})
    return ErrorCode.NONE, out


async def offset_fetch(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """The committed offsets of one group (v1-7) or of several (v8+); -1 where none."""
    if version >= 8:
        groups = []
        for g in body["groups"]:
            code, topics = _group_offsets(broker, g["group_id"], g.get("topics"))
            groups.append({"group_id": g["group_id"], "topics": topics, "error_code": code})
        return {"throttle_time_ms": 0, "groups": groups}
    code, topics = _group_offsets(broker, body["group_id"], body.get("topics"))
    return {"throttle_time_ms": 0, "topics": topics, "error_code": code}
