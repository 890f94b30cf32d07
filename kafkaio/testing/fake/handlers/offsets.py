"""Committed offsets: OffsetCommit (checked against the group's generation and members, as the
broker does) and OffsetFetch."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake import handlers as _h

COMMIT_TOPIC_ID_VERSION = 10   # OffsetCommit names topics by id from here on
FETCH_TOPIC_ID_VERSION = 10    # and OffsetFetch


async def offset_commit(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Store each partition's offset for the group (on its coordinator only)."""
    group = body["group_id"]
    not_here = broker.state.coordinator_for(group) != broker.node_id
    stored = broker.state.committed.setdefault(group, {})
    stored_ids = broker.state.committed_ids.setdefault(group, {})
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
                key = (name, p["partition_index"])
                stored[key] = (p["committed_offset"], p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
                if by_id:
                    stored_ids[key] = t["topic_id"]
                else:
                    stored_ids.pop(key, None)
            parts.append({"partition_index": p["partition_index"], "error_code": code})
        topics.append({"name": t.get("name", ""), "topic_id": t.get("topic_id"), "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}


def _group_offsets(broker: "_h.BrokerView", group: str, topics: list[dict[str, Any]] | None, by_id: bool
                   ) -> tuple[int, list[dict[str, Any]]]:
    if broker.state.coordinator_for(group) != broker.node_id:
        return ErrorCode.NOT_COORDINATOR, []
    stored = broker.state.committed.get(group, {})
    stored_ids = broker.state.committed_ids.get(group, {})
    ids = {name: t.topic_id for name, t in broker.state.topics.items()}
    names = {tid: name for name, tid in ids.items()}
    if topics is None:  # all the group's committed partitions
        by_topic: dict[str, list[int]] = {}
        for (stored_name, index) in stored:
            by_topic.setdefault(stored_name, []).append(index)
        topics = [{"name": n, "topic_id": ids.get(n), "partition_indexes": sorted(ps)} for n, ps in by_topic.items()]
    out = []
    for t in topics:
        name: str | None = names.get(t["topic_id"]) if by_id else t["name"]
        parts = []
        for index in t["partition_indexes"]:
            offset, epoch, meta = stored.get((name, index), (-1, -1, "")) if name is not None else (-1, -1, "")
            committed_under = stored_ids.get((name, index)) if name is not None else None
            if by_id and committed_under is not None and committed_under != t["topic_id"]:
                offset, epoch, meta = -1, -1, ""   # committed to another topic of that name
            code = ErrorCode.UNKNOWN_TOPIC_ID if name is None else ErrorCode.NONE
            parts.append({"partition_index": index, "committed_offset": offset,
                          "committed_leader_epoch": epoch, "metadata": meta, "error_code": code})
        out.append({"name": t.get("name", ""), "topic_id": t.get("topic_id"), "partitions": parts})
    return ErrorCode.NONE, out


async def offset_fetch(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """The committed offsets of one group (v1-7) or of several (v8+; topics by id from v10, an
    unknown id is UNKNOWN_TOPIC_ID); -1 where none. v9's member id and epoch are not checked: the
    fake has no consumer-protocol groups."""
    by_id = version >= FETCH_TOPIC_ID_VERSION
    if version >= 8:
        groups = []
        for g in body["groups"]:
            code, topics = _group_offsets(broker, g["group_id"], g.get("topics"), by_id)
            groups.append({"group_id": g["group_id"], "topics": topics, "error_code": code})
        return {"throttle_time_ms": 0, "groups": groups}
    code, topics = _group_offsets(broker, body["group_id"], body.get("topics"), by_id)
    return {"throttle_time_ms": 0, "topics": topics, "error_code": code}
