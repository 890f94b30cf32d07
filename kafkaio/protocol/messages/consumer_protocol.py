"""The consumer protocol's embedded structs (not requests): the subscription a member sends in
JoinGroup metadata and the assignment the leader hands out in SyncGroup. They are carried as bytes
prefixed by an int16 version, exactly as the Java client writes them, so that kafkaio members and
Java members can share a group."""
from __future__ import annotations

from kafkaio.protocol.schema import F, StructDef

CONSUMER_PROTOCOL_SUBSCRIPTION = StructDef(
    "ConsumerProtocolSubscription", versions="0-3", flexible="none",
    fields=(
        F("topics", "[]string", "0+"),
        F("user_data", "bytes", "0+", nullable="0+", default=None),
        F("owned_partitions", "[]", "1+",
          F("topic", "string", "1+"),
          F("partitions", "[]int32", "1+")),
        F("generation_id", "int32", "2+", default=-1),
        F("rack_id", "string", "3+", nullable="3+", default=None),
    ),
)

CONSUMER_PROTOCOL_ASSIGNMENT = StructDef(
    "ConsumerProtocolAssignment", versions="0-3", flexible="none",
    fields=(
        F("assigned_partitions", "[]", "0+",
          F("topic", "string", "0+"),
          F("partitions", "[]int32", "0+")),
        F("user_data", "bytes", "0+", nullable="0+", default=None),
    ),
)

STRUCTS = (CONSUMER_PROTOCOL_SUBSCRIPTION, CONSUMER_PROTOCOL_ASSIGNMENT)
