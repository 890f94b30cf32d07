"""Per-API handlers of the fake broker, one module per API family.

A handler takes the broker it runs on and the decoded request body and returns the response body
(a dict for ``kafkaio.protocol.api.encode_response``), or None when Kafka sends no response
(Produce with ``acks=0``). Fields a handler leaves out take their schema defaults.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Protocol

from kafkaio.protocol import ApiKey
from kafkaio.testing.fake.state import ClusterState


class BrokerView(Protocol):
    """What a handler may know of the broker it runs on."""

    node_id: int
    state: ClusterState

    def address(self, node_id: int) -> tuple[str, int]: ...


Handler = Callable[[BrokerView, int, dict[str, Any]], Awaitable["dict[str, Any] | None"]]


def _handlers() -> dict[int, Handler]:
    from kafkaio.testing.fake.handlers import cluster, fetch, group, offsets, produce, txn
    return {
        ApiKey.API_VERSIONS: cluster.api_versions,
        ApiKey.METADATA: cluster.metadata,
        ApiKey.CREATE_TOPICS: cluster.create_topics,
        ApiKey.FIND_COORDINATOR: cluster.find_coordinator,
        ApiKey.INIT_PRODUCER_ID: produce.init_producer_id,
        ApiKey.PRODUCE: produce.produce,
        ApiKey.LIST_OFFSETS: fetch.list_offsets,
        ApiKey.FETCH: fetch.fetch,
        ApiKey.OFFSET_COMMIT: offsets.offset_commit,
        ApiKey.OFFSET_FETCH: offsets.offset_fetch,
        ApiKey.JOIN_GROUP: group.join_group,
        ApiKey.SYNC_GROUP: group.sync_group,
        ApiKey.HEARTBEAT: group.heartbeat,
        ApiKey.LEAVE_GROUP: group.leave_group,
        ApiKey.ADD_PARTITIONS_TO_TXN: txn.add_partitions_to_txn,
        ApiKey.ADD_OFFSETS_TO_TXN: txn.add_offsets_to_txn,
        ApiKey.TXN_OFFSET_COMMIT: txn.txn_offset_commit,
        ApiKey.END_TXN: txn.end_txn,
    }


HANDLERS: dict[int, Handler] = _handlers()
