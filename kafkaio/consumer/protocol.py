"""The embedded "consumer" protocol carried opaquely inside JoinGroup and SyncGroup.

A member's subscription (ConsumerProtocolSubscription, versions 0-3) and the leader's assignment
for it (ConsumerProtocolAssignment, versions 0-3) are encoded exactly as the Java client's
``ConsumerProtocol`` does: an int16 version header followed by a non-flexible struct. Byte
compatibility is what lets kafkaio, Java and librdkafka consumers share one group.

Readers are lenient about *newer* versions (a member running a future client may send version 4):
as the Java client does, the known fields are read and trailing bytes are ignored.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from typing import TYPE_CHECKING, Any, cast

from kafkaio.errors import KafkaProtocolError
from kafkaio.protocol import decode_versioned_struct, encode_versioned_struct
from kafkaio.structs import TopicPartition

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        ConsumerProtocolAssignment,
        ConsumerProtocolAssignmentAssignedPartitions,
        ConsumerProtocolSubscription,
        ConsumerProtocolSubscriptionOwnedPartitions,
    )

SUBSCRIPTION_VERSION = 3
ASSIGNMENT_VERSION = 3

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")


class ConsumerProtocolError(KafkaProtocolError):
    """Member metadata or an assignment from the group could not be decoded."""


@dataclass
class Subscription:
    """What one member asks for: topics, assignor user data, what it owns now, its generation."""

    topics: list[str]
    user_data: bytes | None = None
    owned_partitions: list[TopicPartition] = field(default_factory=list)
    generation_id: int = -1
    rack_id: str | None = None
    # Not on the wire inside the metadata: the leader fills it in from the JoinGroup response so
    # that assignors can order static members as the Java client does.
    group_instance_id: str | None = None


@dataclass
class Assignment:
    """What the leader gives one member."""

    partitions: list[TopicPartition]
    user_data: bytes | None = None


# -- ConsumerProtocolSubscription / ConsumerProtocolAssignment (schemas in kafkaio.protocol) -------

def group_by_topic(tps: list[TopicPartition] | set[TopicPartition]) -> dict[str, list[int]]:
    """{topic: sorted partition ids}."""
    out: dict[str, list[int]] = {}
    for tp in tps:
        out.setdefault(tp.topic, []).append(tp.partition)
    for parts in out.values():
        parts.sort()
    return out


def _topic_partitions(tps: list[TopicPartition]) -> list[dict[str, Any]]:
    grouped = group_by_topic(tps)
    return [{"topic": t, "partitions": grouped[t]} for t in sorted(grouped)]


def _flatten(entries: list[ConsumerProtocolSubscriptionOwnedPartitions]
             | list[ConsumerProtocolAssignmentAssignedPartitions]) -> list[TopicPartition]:
    return [TopicPartition(e["topic"], p) for e in entries for p in e["partitions"]]


def encode_subscription(sub: Subscription, version: int = SUBSCRIPTION_VERSION) -> bytes:
    """Serialize as Java's ConsumerProtocol.serializeSubscription does (version header + struct)."""
    return encode_versioned_struct("ConsumerProtocolSubscription", version, {
        "topics": list(sub.topics), "user_data": sub.user_data,
        "owned_partitions": _topic_partitions(sub.owned_partitions),
        "generation_id": sub.generation_id, "rack_id": sub.rack_id})


def encode_assignment(asg: Assignment, version: int = ASSIGNMENT_VERSION) -> bytes:
    """Serialize as Java's ConsumerProtocol.serializeAssignment does."""
    return encode_versioned_struct("ConsumerProtocolAssignment", version, {
        "assigned_partitions": _topic_partitions(asg.partitions), "user_data": asg.user_data})


def decode_subscription(data: bytes | memoryview) -> Subscription:
    """Parse member metadata from any client that speaks the consumer protocol."""
    try:
        _, decoded = decode_versioned_struct("ConsumerProtocolSubscription", bytes(data))
    except KafkaProtocolError as exc:
        raise ConsumerProtocolError(f"bad subscription metadata: {exc}") from None
    body = cast("ConsumerProtocolSubscription", decoded)
    if any(t is None for t in body["topics"]):
        raise ConsumerProtocolError("null topic in subscription")
    ud = body["user_data"]
    return Subscription(list(body["topics"]), None if ud is None else bytes(ud),
                        _flatten(body["owned_partitions"]), body["generation_id"], body["rack_id"])


def decode_assignment(data: bytes | memoryview) -> Assignment:
    """Parse an assignment; an empty buffer (a member the leader gave nothing) is an empty assignment."""
    if len(data) == 0:
        return Assignment([])
    try:
        _, decoded = decode_versioned_struct("ConsumerProtocolAssignment", bytes(data))
    except KafkaProtocolError as exc:
        raise ConsumerProtocolError(f"bad assignment: {exc}") from None
    body = cast("ConsumerProtocolAssignment", decoded)
    ud = body["user_data"]
    return Assignment(_flatten(body["assigned_partitions"]), None if ud is None else bytes(ud))


# -- StickyAssignor user data (previous assignment + generation), as Java's StickyAssignor ----------
# Not one of the protocol's structs: an array of (topic, [partition]) then an int32 generation.

def encode_sticky_user_data(partitions: list[TopicPartition], generation: int) -> bytes:
    out = [_I32.pack(len(group_by_topic(partitions)))]
    for topic, parts in sorted(group_by_topic(partitions).items()):
        name = topic.encode("utf-8")
        out.append(_I16.pack(len(name)) + name + _I32.pack(len(parts)))
        out.extend(_I32.pack(p) for p in parts)
    out.append(_I32.pack(generation))
    return b"".join(out)


def decode_sticky_user_data(data: bytes) -> tuple[list[TopicPartition], int]:
    """(previous assignment, generation or -1 for the v0 layout without it)."""
    buf = bytes(data)
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if n < 0 or pos + n > len(buf):
            raise ConsumerProtocolError("sticky assignor user data truncated")
        pos += n
        return buf[pos - n:pos]

    out: list[TopicPartition] = []
    (ntopics,) = _I32.unpack(take(4))
    if ntopics < 0 or ntopics > len(buf):
        raise ConsumerProtocolError(f"bad topic count {ntopics} in sticky user data")
    for _ in range(ntopics):
        (n,) = _I16.unpack(take(2))
        try:
            topic = take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise ConsumerProtocolError("invalid UTF-8 in sticky user data") from None
        (nparts,) = _I32.unpack(take(4))
        if nparts < 0 or nparts > len(buf):
            raise ConsumerProtocolError(f"bad partition count {nparts} in sticky user data")
        out.extend(TopicPartition(topic, _I32.unpack(take(4))[0]) for _ in range(nparts))
    generation = _I32.unpack(take(4))[0] if len(buf) - pos >= 4 else -1
    return out, generation
