"""Transactions (protocol version 1): AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn.
InitProducerId for a transactional id is in produce.py; the rules are in txn.py."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake import handlers as _h
from kafkaio.testing.fake import txn as _txn


def _not_here(broker: "_h.BrokerView", key: str) -> bool:
    return broker.state.coordinator_for(key) != broker.node_id


async def add_partitions_to_txn(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    tid = body["v3_and_below_transactional_id"]
    code, txn = _txn.check(broker.state, tid, body["v3_and_below_producer_id"],
                           body["v3_and_below_producer_epoch"])
    if _not_here(broker, tid):
        code = ErrorCode.NOT_COORDINATOR
    results = []
    for t in body["v3_and_below_topics"]:
        parts = []
        for p in t["partitions"]:
            pcode = code
            if pcode == ErrorCode.NONE and broker.state.partition(t["name"], p) is None:
                pcode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            parts.append({"partition_index": p, "partition_error_code": pcode})
        results.append({"name": t["name"], "results_by_partition": parts})
    if txn is not None and code == ErrorCode.NONE and all(
            p["partition_error_code"] == ErrorCode.NONE for r in results for p in r["results_by_partition"]):
        for t in body["v3_and_below_topics"]:
            txn.partitions.update((t["name"], p) for p in t["partitions"])
    return {"throttle_time_ms": 0, "results_by_topic_v3_and_below": results}


async def add_offsets_to_txn(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    tid = body["transactional_id"]
    code, txn = _txn.check(broker.state, tid, body["producer_id"], body["producer_epoch"])
    if _not_here(broker, tid):
        code = ErrorCode.NOT_COORDINATOR
    if txn is not None and code == ErrorCode.NONE:
        txn.groups.add(body["group_id"])
    return {"throttle_time_ms": 0, "error_code": code}


async def txn_offset_commit(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Offsets held with the transaction, committed to the group by its EndTxn(commit)."""
    code, txn = _txn.check(broker.state, body["transactional_id"], body["producer_id"], body["producer_epoch"])
    if broker.state.coordinator_for(body["group_id"]) != broker.node_id:
        code = ErrorCode.NOT_COORDINATOR
    elif txn is not None and body["group_id"] not in txn.groups:
        code = ErrorCode.INVALID_TXN_STATE
    topics = []
    for t in body["topics"]:
        parts = []
        for p in t["partitions"]:
            if code == ErrorCode.NONE and txn is not None:
                txn.offsets.setdefault(body["group_id"], {})[(t["name"], p["partition_index"])] = (
                    p["committed_offset"], p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
            parts.append({"partition_index": p["partition_index"], "error_code": code})
        topics.append({"name": t["name"], "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}


async def end_txn(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    tid = body["transactional_id"]
    code, txn = _txn.check(broker.state, tid, body["producer_id"], body["producer_epoch"])
    if _not_here(broker, tid):
        code = ErrorCode.NOT_COORDINATOR
    if txn is not None and code == ErrorCode.NONE:
        code = _txn.end(broker.state, txn, bool(body["committed"]))
    return {"throttle_time_ms": 0, "error_code": code}
