"""Writing: InitProducerId and Produce (with the broker's idempotence checks, in state.py)."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake import handlers as _h
from kafkaio.testing.fake import txn as _txn
from kafkaio.testing.fake.state import ProduceError, parse_batches

TOPIC_ID_VERSION = 13   # Produce names topics by id from here on (KIP-516)
TXN_V2_VERSION = 12     # a transactional Produce adds its partition to the transaction (KIP-890)


async def init_producer_id(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """A new producer id at epoch 0; a known id with its epoch is bumped (KIP-360), as the broker
    does for an idempotent producer that asks to keep its id."""
    pid, epoch = body.get("producer_id", -1), body.get("producer_epoch", -1)
    tid = body.get("transactional_id")
    if tid is not None:
        if broker.state.coordinator_for(tid) != broker.node_id:
            return {"throttle_time_ms": 0, "error_code": ErrorCode.NOT_COORDINATOR, "producer_id": -1,
                    "producer_epoch": -1}
        code, pid, epoch = _txn.init(broker.state, tid, pid, epoch)
        return {"throttle_time_ms": 0, "error_code": code, "producer_id": pid, "producer_epoch": epoch}
    if pid >= 0 and epoch >= 0:
        if epoch < 32766:
            return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "producer_id": pid,
                    "producer_epoch": epoch + 1}
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "producer_id": broker.state.new_producer_id(),
            "producer_epoch": 0}


def _check_transaction(broker: "_h.BrokerView", topic: str, partition: int, records: Any, implicit: bool) -> None:
    """A transactional batch is taken only for a partition added to its producer's transaction
    (Kafka's verification, KIP-890 part 1: INVALID_TXN_STATE otherwise); ``implicit`` (transaction
    v2, KIP-890 part 2): the batch of the producer's current epoch adds its partition itself."""
    for header, _ in parse_batches(records):
        if header[5] & 0x10:
            txn = _txn.owner_of(broker.state, header[9])
            if implicit and txn is not None and header[10] == txn.epoch:
                txn.partitions.add((topic, partition))
            if txn is None or (topic, partition) not in txn.partitions:
                raise ProduceError(ErrorCode.INVALID_TXN_STATE, f"{topic}-{partition} is not in a transaction "
                                                      f"of producer {header[9]}")


async def produce(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any] | None:
    """Append each partition's records on its leader; no answer for ``acks=0``."""
    state = broker.state
    responses = []
    appended = False
    by_id = version >= TOPIC_ID_VERSION
    implicit = version >= TXN_V2_VERSION and state.transaction_version >= 2
    names = {t.topic_id: name for name, t in state.topics.items()} if by_id else {}
    for td in body["topic_data"]:
        parts = []
        name = names.get(td["topic_id"]) if by_id else td["name"]
        for pd in td["partition_data"]:
            index = pd["index"]
            log = state.partition(name, index) if name is not None else None
            answer: dict[str, Any] = {"index": index, "error_code": ErrorCode.NONE, "base_offset": -1,
                                      "log_append_time_ms": -1, "log_start_offset": -1,
                                      "record_errors": [], "error_message": None}
            if log is None:
                answer["error_code"] = (ErrorCode.UNKNOWN_TOPIC_ID if name is None
                                        else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            elif log.leader != broker.node_id:
                answer["error_code"] = ErrorCode.NOT_LEADER_OR_FOLLOWER
            else:
                assert name is not None
                try:
                    _check_transaction(broker, name, index, pd["records"] or b"", implicit)
                    answer["base_offset"] = log.append(pd["records"] or b"")
                    answer["log_start_offset"] = log.log_start_offset
                    appended = True
                except ProduceError as exc:
                    answer["error_code"], answer["error_message"] = exc.code, str(exc)
            parts.append(answer)
        responses.append({"name": td.get("name", ""), "topic_id": td.get("topic_id"),
                          "partition_responses": parts})
    if appended:
        state.notify_append()
    if body["acks"] == 0:
        return None
    return {"responses": responses, "throttle_time_ms": 0}
