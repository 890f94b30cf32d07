"""Transactions: AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn.
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


TXN_V2_VERSION = 5             # TxnOffsetCommit and EndTxn from here on follow transaction v2 (KIP-890)
TXN_OFFSET_TOPIC_ID_VERSION = 6  # TxnOffsetCommit names topics by id from here on (KIP-1319)


def _member_error(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> int:
    """The group's verdict on the committing member, as Kafka's OffsetMetadataManager decides for a
    transactional commit: no group check without group metadata (a bare group id); a group that does
    not exist is GROUP_ID_NOT_FOUND from v6 (ILLEGAL_GENERATION before); a rebalance in progress
    does not stop a transactional commit."""
    generation, member = body.get("generation_id_or_member_epoch", -1), body.get("member_id", "")
    if generation < 0 and member == "":
        return ErrorCode.NONE
    group = broker.state.groups.get(body["group_id"])
    if group is None:
        return (ErrorCode.GROUP_ID_NOT_FOUND if version >= TXN_OFFSET_TOPIC_ID_VERSION
                else ErrorCode.ILLEGAL_GENERATION)
    code = group.commit_error(generation, member)
    return ErrorCode.NONE if code == ErrorCode.REBALANCE_IN_PROGRESS else code


async def txn_offset_commit(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Offsets held with the transaction, committed to the group by its EndTxn(commit). Under
    transaction v2 (v5+) the request adds the group to the transaction itself; v6 names topics by id."""
    state = broker.state
    group_id = body["group_id"]
    code, txn = _txn.check(state, body["transactional_id"], body["producer_id"], body["producer_epoch"])
    implicit = version >= TXN_V2_VERSION and state.transaction_version >= 2
    if state.coordinator_for(group_id) != broker.node_id:
        code = ErrorCode.NOT_COORDINATOR
    elif code == ErrorCode.NONE:
        code = _member_error(broker, version, body)
    if txn is not None and code == ErrorCode.NONE and group_id not in txn.groups:
        if implicit:
            txn.groups.add(group_id)
        else:
            code = ErrorCode.INVALID_TXN_STATE
    by_id = version >= TXN_OFFSET_TOPIC_ID_VERSION
    names = {t.topic_id: name for name, t in state.topics.items()} if by_id else {}
    topics = []
    for t in body["topics"]:
        name = names.get(t["topic_id"]) if by_id else t["name"]
        parts = []
        for p in t["partitions"]:
            pcode = code
            if pcode == ErrorCode.NONE and name is None:
                pcode = ErrorCode.UNKNOWN_TOPIC_ID
            if pcode == ErrorCode.NONE and txn is not None and name is not None:
                key = (name, p["partition_index"])
                txn.offsets.setdefault(group_id, {})[key] = (
                    p["committed_offset"], p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
                if by_id:
                    txn.offset_ids.setdefault(group_id, {})[key] = t["topic_id"]
                else:
                    txn.offset_ids.get(group_id, {}).pop(key, None)
            parts.append({"partition_index": p["partition_index"], "error_code": pcode})
        topics.append({"name": t.get("name", ""), "topic_id": t.get("topic_id"), "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}


async def end_txn(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    tid = body["transactional_id"]
    code, txn = _txn.check(broker.state, tid, body["producer_id"], body["producer_epoch"])
    if _not_here(broker, tid):
        code = ErrorCode.NOT_COORDINATOR
    v2 = version >= TXN_V2_VERSION and broker.state.transaction_version >= 2
    if v2 and code == ErrorCode.PRODUCER_FENCED:
        retried = _txn.retried_end(broker.state, tid, body["producer_id"], body["producer_epoch"],
                                   bool(body["committed"]))
        if retried is not None:
            return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "producer_id": retried.producer_id,
                    "producer_epoch": retried.epoch}
    if txn is not None and code == ErrorCode.NONE:
        code = _txn.end(broker.state, txn, bool(body["committed"]), bump=v2)
    if txn is None or code != ErrorCode.NONE or not v2:
        return {"throttle_time_ms": 0, "error_code": code}
    # transaction v2: every EndTxn hands the producer its next epoch
    return {"throttle_time_ms": 0, "error_code": code, "producer_id": txn.producer_id, "producer_epoch": txn.epoch}
