"""OffsetFetch as a consumer sends it: the request for its one group, and the answer read back.

Versions 8+ put the group in a list (one entry here) with a group-level error code; 9+ carry the
member id and epoch of a consumer-protocol member (KIP-848), which the broker checks; 10 names
topics by id only. The request holds every version's fields and the codec writes those of the
version negotiated; the answer is read back for whichever version it came in.
"""
from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from kafkaio.errors import KafkaProtocolError
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.structs import OffsetAndMetadata, TopicPartition


class PartitionOffset(NamedTuple):
    """One partition of the answer: its error code, and its committed offset (None when none)."""

    tp: TopicPartition
    error_code: int
    committed: OffsetAndMetadata | None


class OffsetFetchAnswer(NamedTuple):
    """The group's error code (0: none; then the partitions carry theirs) and its partitions."""

    error_code: int
    partitions: list[PartitionOffset]


def offset_fetch_request(group_id: str, topics: dict[str, list[int]], topic_ids: dict[str, uuid.UUID],
                         member_id: str | None, member_epoch: int) -> dict[str, Any]:
    """The request for ``topics`` (name -> partitions; ``topic_ids`` the ids known, for v10) of
    ``group_id``, with the offsets pending a transaction held back (``require_stable``)."""
    return {
        "group_id": group_id,
        "topics": [{"name": t, "partition_indexes": ps} for t, ps in topics.items()],
        "groups": [{"group_id": group_id, "member_id": member_id, "member_epoch": member_epoch,
                    "topics": [{"name": t, "topic_id": topic_ids.get(t, ZERO_UUID), "partition_indexes": ps}
                               for t, ps in topics.items()]}],
        "require_stable": True,
    }


def read_offset_fetch(resp: dict[str, Any], group_id: str, names: dict[uuid.UUID, str]) -> OffsetFetchAnswer:
    """``resp`` for ``group_id``; a v10 answer's topic ids are named through ``names``, the ids
    the request named."""
    if resp["groups"]:  # v8+ (before, the decoder fills an empty list)
        group = next((g for g in resp["groups"] if g["group_id"] == group_id), None)
        if group is None:
            raise KafkaProtocolError(f"the OffsetFetch answer does not name group {group_id!r}")
    else:
        group = resp
    partitions = []
    for t in group["topics"]:
        name = t["name"] or names.get(t["topic_id"])  # v10 names topics by id only
        if name is None:
            raise KafkaProtocolError(f"the OffsetFetch answer names topic id {t['topic_id']}, which was not asked for")
        for p in t["partitions"]:
            offset = p["committed_offset"]
            committed = None if offset < 0 else OffsetAndMetadata(
                offset, p.get("metadata") or "", p.get("committed_leader_epoch", -1))
            partitions.append(PartitionOffset(TopicPartition(name, p["partition_index"]), p["error_code"], committed))
    return OffsetFetchAnswer(group.get("error_code", 0), partitions)
