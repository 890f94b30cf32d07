"""What a share consumer hands out: records with their delivery count, and the acknowledge types."""
from __future__ import annotations

from enum import IntEnum
from typing import Any

Header = tuple[str, "bytes | None"]


class AcknowledgeType(IntEnum):
    """How a delivered record is acknowledged (the numbers are the protocol's, KIP-932/KIP-1222)."""

    ACCEPT = 1
    """Processed: never delivered again."""
    RELEASE = 2
    """Not processed: delivered again (to any consumer of the group), with delivery_count + 1."""
    REJECT = 3
    """Unprocessable: never delivered again."""
    RENEW = 4
    """Still being processed: extend the acquisition lock (KIP-1222); the record still needs an
    ACCEPT, RELEASE or REJECT afterwards."""


GAP = 0
"""Acknowledge type of an acquired offset that holds no record (a transaction marker, a compacted
record): the broker needs it acknowledged like the others."""


class ShareConsumerRecord:
    """One record as a share consumer hands it out. ``delivery_count`` is 1 on the first delivery
    and grows each time the record is released (or its lock expires) and delivered again."""

    __slots__ = ("topic", "partition", "offset", "timestamp", "timestamp_type", "key", "value", "headers",
                 "leader_epoch", "delivery_count", "node_id", "acquired_at")

    def __init__(self, topic: str, partition: int, offset: int, timestamp: int, timestamp_type: int,
                 key: Any, value: Any, headers: list[Header], leader_epoch: int, delivery_count: int,
                 node_id: int, acquired_at: float) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestamp_type = timestamp_type
        self.key = key
        self.value = value
        self.headers = headers
        self.leader_epoch = leader_epoch
        self.delivery_count = delivery_count
        self.node_id = node_id  # the share-partition leader that acquired it: acknowledgements go there
        self.acquired_at = acquired_at  # monotonic time of the fetch response that acquired it

    def __repr__(self) -> str:
        return (f"ShareConsumerRecord(topic={self.topic!r}, partition={self.partition}, offset={self.offset}, "
                f"delivery_count={self.delivery_count}, key={self.key!r}, value={self.value!r})")
