"""Reading: ListOffsets and Fetch (read_committed up to the last stable offset; no fetch
sessions: see docs/fake-broker.md)."""
from __future__ import annotations

import asyncio
from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake import handlers as _h

LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3
READ_COMMITTED = 1
TOPIC_ID_VERSION = 13   # Fetch names topics by id from here on (KIP-516)


async def list_offsets(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Latest (-1), earliest (-2) and by timestamp (to the batch holding it)."""
    topics = []
    for t in body["topics"]:
        parts = []
        for p in t["partitions"]:
            log = broker.state.partition(t["name"], p["partition_index"])
            answer: dict[str, Any] = {"partition_index": p["partition_index"], "error_code": ErrorCode.NONE,
                                      "timestamp": -1, "offset": -1, "leader_epoch": 0}
            ts = p["timestamp"]
            if log is None:
                answer["error_code"] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            elif log.leader != broker.node_id:
                answer["error_code"] = ErrorCode.NOT_LEADER_OR_FOLLOWER
            elif ts == LATEST:
                answer["offset"] = (log.last_stable_offset if body.get("isolation_level", 0) == READ_COMMITTED
                                    else log.high_watermark)
            elif ts == EARLIEST:
                answer["offset"] = log.log_start_offset
            elif ts == MAX_TIMESTAMP:
                if log.batches:
                    best = max(log.batches, key=lambda b: b.max_timestamp)
                    answer["offset"], answer["timestamp"] = best.base_offset, best.max_timestamp
            else:
                answer["offset"] = log.offset_for_timestamp(ts)
                if answer["offset"] >= 0:
                    answer["timestamp"] = ts
            parts.append(answer)
        topics.append({"name": t["name"], "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}


def _answer(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    size = 0
    responses = []
    by_id = version >= TOPIC_ID_VERSION
    names = {t.topic_id: name for name, t in broker.state.topics.items()} if by_id else {}
    for t in body["topics"]:
        parts = []
        name = names.get(t["topic_id"]) if by_id else t["topic"]
        for p in t["partitions"]:
            log = broker.state.partition(name, p["partition"]) if name is not None else None
            answer: dict[str, Any] = {"partition_index": p["partition"], "error_code": ErrorCode.NONE,
                                      "high_watermark": -1, "last_stable_offset": -1,
                                      "log_start_offset": -1, "aborted_transactions": None,
                                      "preferred_read_replica": -1, "records": b""}
            if log is None:
                answer["error_code"] = (ErrorCode.UNKNOWN_TOPIC_ID if name is None
                                        else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            elif log.leader != broker.node_id:
                answer["error_code"] = ErrorCode.NOT_LEADER_OR_FOLLOWER
            else:
                offset = p["fetch_offset"]
                hw, lso = log.high_watermark, log.last_stable_offset
                answer.update(high_watermark=hw, last_stable_offset=lso, log_start_offset=log.log_start_offset)
                if offset < log.log_start_offset or offset > hw:
                    answer["error_code"] = ErrorCode.OFFSET_OUT_OF_RANGE
                elif body.get("isolation_level", 0) == READ_COMMITTED:
                    # Only below the last stable offset, with the aborted transactions in range.
                    answer["records"] = log.read(offset, p["partition_max_bytes"], end=lso)
                    answer["aborted_transactions"] = log.aborted_in(offset, lso)
                    size += len(answer["records"])
                else:
                    answer["records"] = log.read(offset, p["partition_max_bytes"])
                    size += len(answer["records"])
            parts.append(answer)
        responses.append({"topic": t.get("topic", ""), "topic_id": t.get("topic_id"), "partitions": parts})
    return responses, size


def _has_error(responses: list[dict[str, Any]]) -> bool:
    return any(p["error_code"] != ErrorCode.NONE for t in responses for p in t["partitions"])


async def fetch(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """The stored batches from each fetch offset; with fewer than ``min_bytes``, waits for an
    append up to ``max_wait_ms``, as the broker's delayed fetch does. Always a full (sessionless)
    response: session id 0 tells the client that no session was created."""
    responses, size = _answer(broker, version, body)
    deadline = asyncio.get_running_loop().time() + body["max_wait_ms"] / 1000
    # Like ReplicaManager.fetchMessages: answered at once when nothing is asked or an error is due.
    while size < max(body["min_bytes"], 1) and responses and not _has_error(responses):
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            break
        try:
            await asyncio.wait_for(broker.state.appended.wait(), remaining)
        except asyncio.TimeoutError:
            break
        responses, size = _answer(broker, version, body)
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "session_id": 0, "responses": responses}
