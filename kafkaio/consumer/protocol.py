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

from kafkaio.errors import KafkaError
from kafkaio.structs import TopicPartition

SUBSCRIPTION_VERSION = 3
ASSIGNMENT_VERSION = 3

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")


class ConsumerProtocolError(KafkaError):
    """Member metadata or an assignment from the group could not be decoded."""

    errno = -1
    retriable = False


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


# -- writing -------------------------------------------------------------------------------------

class _Writer:
    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def i16(self, v: int) -> None:
        self.parts.append(_I16.pack(v))

    def i32(self, v: int) -> None:
        self.parts.append(_I32.pack(v))

    def string(self, s: str | None) -> None:
        if s is None:
            self.i16(-1)
            return
        b = s.encode("utf-8")
        self.i16(len(b))
        self.parts.append(b)

    def nbytes(self, b: bytes | None) -> None:
        if b is None:
            self.i32(-1)
            return
        self.i32(len(b))
        self.parts.append(bytes(b))

    def topic_partitions(self, tps: list[TopicPartition]) -> None:
        grouped = group_by_topic(tps)
        self.i32(len(grouped))
        for topic in sorted(grouped):
            self.string(topic)
            parts = grouped[topic]
            self.i32(len(parts))
            for p in parts:
                self.i32(p)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def group_by_topic(tps: list[TopicPartition] | set[TopicPartition]) -> dict[str, list[int]]:
    """{topic: sorted partition ids}."""
    out: dict[str, list[int]] = {}
    for tp in tps:
        out.setdefault(tp.topic, []).append(tp.partition)
    for parts in out.values():
        parts.sort()
    return out


def encode_subscription(sub: Subscription, version: int = SUBSCRIPTION_VERSION) -> bytes:
    """Serialize as Java's ConsumerProtocol.serializeSubscription does (version header + struct)."""
    w = _Writer()
    w.i16(version)
    w.i32(len(sub.topics))
    for t in sub.topics:
        w.string(t)
    w.nbytes(sub.user_data)
    if version >= 1:
        w.topic_partitions(sub.owned_partitions)
    if version >= 2:
        w.i32(sub.generation_id)
    if version >= 3:
        w.string(sub.rack_id)
    return w.getvalue()


def encode_assignment(asg: Assignment, version: int = ASSIGNMENT_VERSION) -> bytes:
    """Serialize as Java's ConsumerProtocol.serializeAssignment does."""
    w = _Writer()
    w.i16(version)
    w.topic_partitions(asg.partitions)
    w.nbytes(asg.user_data)
    return w.getvalue()


# -- reading -------------------------------------------------------------------------------------

class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes | memoryview) -> None:
        self.buf = bytes(buf)
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ConsumerProtocolError(
                f"consumer protocol data truncated: need {n} bytes at {self.pos}, have {len(self.buf) - self.pos}"
            )
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def i16(self) -> int:
        return _I16.unpack(self._take(2))[0]

    def i32(self) -> int:
        return _I32.unpack(self._take(4))[0]

    def count(self) -> int:
        n = self.i32()
        if n < -1 or n > self.remaining():  # every element takes at least one byte
            raise ConsumerProtocolError(f"bad array length {n} in consumer protocol data")
        return max(n, 0)

    def string(self) -> str | None:
        n = self.i16()
        if n == -1:
            return None
        if n < 0:
            raise ConsumerProtocolError(f"bad string length {n} in consumer protocol data")
        try:
            return self._take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConsumerProtocolError(f"invalid UTF-8 in consumer protocol data: {exc}") from None

    def nbytes(self) -> bytes | None:
        n = self.i32()
        if n == -1:
            return None
        return self._take(n)

    def topic_partitions(self) -> list[TopicPartition]:
        out: list[TopicPartition] = []
        for _ in range(self.count()):
            topic = self.string()
            if topic is None:
                raise ConsumerProtocolError("null topic name in consumer protocol data")
            for _ in range(self.count()):
                out.append(TopicPartition(topic, self.i32()))
        return out


def decode_subscription(data: bytes | memoryview) -> Subscription:
    """Parse member metadata from any client that speaks the consumer protocol."""
    r = _Reader(data)
    version = r.i16()
    if version < 0:
        raise ConsumerProtocolError(f"negative subscription version {version}")
    topics = []
    for _ in range(r.count()):
        t = r.string()
        if t is None:
            raise ConsumerProtocolError("null topic in subscription")
        topics.append(t)
    sub = Subscription(topics=topics, user_data=r.nbytes())
    if version >= 1:
        sub.owned_partitions = r.topic_partitions()
    if version >= 2:
        sub.generation_id = r.i32()
    if version >= 3:
        sub.rack_id = r.string()
    return sub


def decode_assignment(data: bytes | memoryview) -> Assignment:
    """Parse an assignment; an empty buffer (a member the leader gave nothing) is an empty assignment."""
    if len(data) == 0:
        return Assignment([])
    r = _Reader(data)
    version = r.i16()
    if version < 0:
        raise ConsumerProtocolError(f"negative assignment version {version}")
    partitions = r.topic_partitions()
    return Assignment(partitions, r.nbytes())


# -- StickyAssignor user data (previous assignment + generation), as Java's StickyAssignor ----------

def encode_sticky_user_data(partitions: list[TopicPartition], generation: int) -> bytes:
    w = _Writer()
    w.topic_partitions(partitions)
    w.i32(generation)
    return w.getvalue()


def decode_sticky_user_data(data: bytes) -> tuple[list[TopicPartition], int]:
    """(previous assignment, generation or -1 for the v0 layout without it)."""
    r = _Reader(data)
    partitions = r.topic_partitions()
    generation = r.i32() if r.remaining() >= 4 else -1
    return partitions, generation
