"""The fake cluster's state: topics, partition logs, producer state and committed offsets.

Pure data and rules, no I/O: the handlers read and change it, the server never does. The rules
that the client's guarantees depend on follow the broker's: a produced batch gets the next offsets
of its partition, and an idempotent batch is checked against the producer's state per partition
as Kafka's ``ProducerStateManager``/``ProducerAppendInfo`` check it (see :meth:`PartitionLog.append`).
"""
from __future__ import annotations

import asyncio
import struct
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kafkaio.errors import ErrorCode

if TYPE_CHECKING:
    from kafkaio.testing.fake.groups import Group
    from kafkaio.testing.fake.txn import Transaction

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
# How many batches per producer and partition the broker remembers for duplicate detection
# (Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN): the reason max.in.flight is at most 5.
BATCHES_TO_RETAIN = 5
DEFAULT_MAX_MESSAGE_BYTES = 1048588  # Kafka's message.max.bytes default

# Record batch v2 header, as Kafka's DefaultRecordBatch lays it out.
_HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = _HEADER.size  # 61
_BASE_OFFSET = struct.Struct(">q")
_LEADER_EPOCH_AT = 12


class ProduceError(Exception):
    """A batch refused: ``code`` is the Kafka error code the partition is answered with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class StoredBatch:
    """One record batch as written to a partition's log (``data`` with its base offset set)."""

    base_offset: int
    last_offset: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int
    transactional: bool
    max_timestamp: int
    data: bytes = field(repr=False)

    @property
    def last_sequence(self) -> int:
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.record_count - 1) & 0x7FFFFFFF


@dataclass
class ProducerEntry:
    """What a partition remembers of one producer id: its epoch and its last batches."""

    epoch: int = NO_PRODUCER_EPOCH
    batches: list[StoredBatch] = field(default_factory=list)  # oldest first, at most 5

    @property
    def last_sequence(self) -> int:
        return self.batches[-1].last_sequence if self.batches else NO_SEQUENCE


def parse_batches(records: bytes | memoryview) -> list[tuple[tuple[Any, ...], bytes]]:
    """Split a produced record set into (header fields, batch bytes); ``ProduceError`` for
    anything that is not a whole sequence of v2 batches."""
    out = []
    view = memoryview(records)
    pos = 0
    while pos < len(view):
        if len(view) - pos < HEADER_SIZE:
            raise ProduceError(ErrorCode.CORRUPT_MESSAGE, "truncated record batch header")
        header = _HEADER.unpack_from(view, pos)
        size = 12 + header[1]
        if header[3] != 2:
            raise ProduceError(ErrorCode.CORRUPT_MESSAGE, f"record batch magic {header[3]}: the fake takes v2 only")
        if size < HEADER_SIZE or pos + size > len(view):
            raise ProduceError(ErrorCode.CORRUPT_MESSAGE, "record batch length past the end of the records")
        out.append((header, bytes(view[pos:pos + size])))
        pos += size
    if not out:
        raise ProduceError(ErrorCode.CORRUPT_MESSAGE, "no record batch in the produce request")
    return out


def _zigzag(out: bytearray, value: int) -> None:
    v = (value << 1) ^ (value >> 63)
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def control_batch(base_offset: int, producer_id: int, epoch: int, commit: bool) -> bytes:
    """A transaction marker: a control batch of one record, key (version 0, type 1 commit / 0
    abort), value (version 0, coordinator epoch 0), as Kafka's EndTransactionMarker writes it."""
    from kafkaio._speedups.checksums_py import crc32c

    key = struct.pack(">hh", 0, 1 if commit else 0)
    value = struct.pack(">hi", 0, 0)
    body = bytearray([0])  # record attributes
    _zigzag(body, 0)  # timestamp delta
    _zigzag(body, 0)  # offset delta
    _zigzag(body, len(key))
    body += key
    _zigzag(body, len(value))
    body += value
    _zigzag(body, 0)  # no headers
    record = bytearray()
    _zigzag(record, len(body))
    record += body
    # attributes: transactional (0x10) | control (0x20); the CRC covers attributes to the end
    after_crc = struct.pack(">hiqqqhii", 0x30, 0, 0, 0, producer_id, epoch, NO_SEQUENCE, 1) + bytes(record)
    length = 4 + 1 + 4 + len(after_crc)  # partition leader epoch, magic, crc, rest
    return struct.pack(">qiibI", base_offset, length, 0, 2, crc32c(after_crc)) + after_crc


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == 0x7FFFFFFF)


class PartitionLog:
    """One partition: its batches in offset order and its producers' state."""

    def __init__(self, leader: int, max_message_bytes: int) -> None:
        self.leader = leader
        self.max_message_bytes = max_message_bytes
        self.batches: list[StoredBatch] = []
        self.producers: dict[int, ProducerEntry] = {}
        self.log_start_offset = 0
        self.open_txns: dict[int, int] = {}  # producer id -> first offset of its open transaction
        self.aborted: list[tuple[int, int, int]] = []  # (producer id, first offset, marker offset)

    @property
    def last_stable_offset(self) -> int:
        """The first offset of the oldest open transaction, else the high watermark."""
        return min(self.open_txns.values(), default=self.high_watermark)

    def write_marker(self, producer_id: int, epoch: int, commit: bool) -> None:
        """End ``producer_id``'s transaction here with a COMMIT or ABORT control batch."""
        base = self.high_watermark
        data = control_batch(base, producer_id, epoch, commit)
        self.batches.append(StoredBatch(base, base, producer_id, epoch, NO_SEQUENCE, 1, True, 0, data))
        first = self.open_txns.pop(producer_id, None)
        if not commit and first is not None:
            self.aborted.append((producer_id, first, base))

    def aborted_in(self, start: int, end: int) -> list[dict[str, int]]:
        """The aborted transactions a read_committed fetch of [start, end) must be told of."""
        return [{"producer_id": pid, "first_offset": first} for pid, first, marker in self.aborted
                if marker >= start and first < end]

    @property
    def high_watermark(self) -> int:
        return self.batches[-1].last_offset + 1 if self.batches else self.log_start_offset

    def append(self, records: bytes | memoryview) -> int:
        """Append a produced record set; the base offset of its first batch (that of the batch
        already written, for a duplicate). Raises ``ProduceError`` for a refused batch.

        Why these rules: they are the broker's (ProducerStateManager, ProducerAppendInfo), and
        the idempotent producer's correctness is judged against exactly them. A duplicate is a
        batch of the same producer and epoch whose first and last sequence match one of the last
        five: the broker answers it with the original offsets and no error."""
        parsed = parse_batches(records)
        if len(parsed) != 1:  # ProduceRequest.validateRecords, for every version kafkaio speaks (3+)
            raise ProduceError(ErrorCode.INVALID_RECORD, "Produce requests with version 3 and above must contain "
                                               "exactly one record batch")
        if sum(len(data) for _, data in parsed) > self.max_message_bytes:
            raise ProduceError(ErrorCode.MESSAGE_TOO_LARGE, f"record set larger than max.message.bytes "
                                                  f"({self.max_message_bytes})")
        first_offset = None
        for header, data in parsed:
            (_, _, _, _, _, attributes, last_delta, _, max_ts, pid, epoch, base_seq, count) = header
            if pid != NO_PRODUCER_ID:
                dup = self._check_producer(pid, epoch, base_seq, count)
                if dup is not None:
                    if first_offset is None:
                        first_offset = dup.base_offset
                    continue
            base = self.high_watermark
            buf = bytearray(data)
            _BASE_OFFSET.pack_into(buf, 0, base)
            struct.pack_into(">i", buf, _LEADER_EPOCH_AT, 0)  # the fake's leader epoch; not in the CRC
            batch = StoredBatch(base, base + last_delta, pid, epoch, base_seq, count,
                                bool(attributes & 0x10), max_ts, bytes(buf))
            self.batches.append(batch)
            if batch.transactional:
                self.open_txns.setdefault(pid, base)
            if pid != NO_PRODUCER_ID:
                entry = self.producers.setdefault(pid, ProducerEntry())
                if entry.epoch != epoch:
                    entry.epoch, entry.batches = epoch, []
                entry.batches.append(batch)
                del entry.batches[:-BATCHES_TO_RETAIN]
            if first_offset is None:
                first_offset = base
        assert first_offset is not None
        return first_offset

    def _check_producer(self, pid: int, epoch: int, first_seq: int, count: int) -> StoredBatch | None:
        """The batch already written if this one duplicates it; else None if it may be appended;
        ``ProduceError`` if the broker would refuse it."""
        entry = self.producers.get(pid)
        if entry is None:
            # No state for this producer (new, or expired): any first sequence is accepted
            # (KIP-360), which is why a lost first request cannot be detected by the broker.
            return None
        if epoch < entry.epoch:
            raise ProduceError(ErrorCode.INVALID_PRODUCER_EPOCH,
                               f"producer {pid} epoch {epoch} is older than {entry.epoch}")
        last_seq = (first_seq + count - 1) & 0x7FFFFFFF
        if epoch == entry.epoch:
            for b in entry.batches:
                if b.base_sequence == first_seq and b.last_sequence == last_seq:
                    return b
        if epoch != entry.epoch:
            if first_seq != 0 and entry.epoch != NO_PRODUCER_EPOCH:
                raise ProduceError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                                   f"new epoch {epoch} of producer {pid} starts at sequence {first_seq}, not 0")
            return None
        if not _in_sequence(entry.last_sequence, first_seq):
            raise ProduceError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                               f"producer {pid} epoch {epoch}: sequence {first_seq} after {entry.last_sequence}")
        return None

    def read(self, offset: int, max_bytes: int, end: int | None = None) -> bytes:
        """The batches from the one holding ``offset``, at least one batch, then up to ``max_bytes``;
        none starting at or after ``end`` (the last stable offset, for read_committed)."""
        out = bytearray()
        for b in self.batches:
            if b.last_offset < offset:
                continue
            if end is not None and b.base_offset >= end:
                break
            if out and len(out) + len(b.data) > max_bytes:
                break
            out += b.data
        return bytes(out)

    def offset_for_timestamp(self, timestamp: int) -> int:
        """The first offset of the first batch whose max timestamp is >= ``timestamp`` (batch
        granularity; -1 if none)."""
        for b in self.batches:
            if b.max_timestamp >= timestamp:
                return b.base_offset
        return -1


@dataclass
class Topic:
    name: str
    topic_id: uuid.UUID
    partitions: list[PartitionLog]


class ClusterState:
    """Everything the fake brokers share: brokers' node ids, topics, producer ids, group offsets."""

    def __init__(self, node_ids: list[int], auto_create_topics: bool, default_partitions: int,
                 features: dict[str, int] | None = None) -> None:
        self.node_ids = node_ids
        # finalized feature levels (KIP-584), as ApiVersions v3+ reports them
        self.features: dict[str, int] = dict(features or {})
        self.auto_create_topics = auto_create_topics
        self.default_partitions = default_partitions
        self.topics: dict[str, Topic] = {}
        self.cluster_id = "kafkaio-fake"
        self._next_producer_id = 1000
        # group -> (topic, partition) -> (offset, leader epoch, metadata)
        self.committed: dict[str, dict[tuple[str, int], tuple[int, int, str | None]]] = {}
        # group -> (topic, partition) -> the topic id an offset was committed under by id
        # (OffsetCommit v10); OffsetFetch v10 treats it as no offset for another id, as Kafka does
        self.committed_ids: dict[str, dict[tuple[str, int], uuid.UUID]] = {}
        self.appended = asyncio.Event()  # set and replaced on every append: wakes waiting fetches
        self.groups: dict[str, Group] = {}  # on its coordinator
        self.transactions: dict[str, Transaction] = {}  # by transactional id

    @property
    def transaction_version(self) -> int:
        """The finalized ``transaction.version``: 2 enables KIP-890's second transaction protocol."""
        return self.features.get("transaction.version", 0)

    def close(self) -> None:
        """Cancel the groups' timers (session and rebalance timeouts)."""
        for group in self.groups.values():
            group.close()

    def create_topic(self, name: str, partitions: int, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> Topic:
        """Create ``name``; leaders are spread over the brokers round-robin."""
        if name in self.topics:
            raise ValueError(f"topic {name!r} exists")
        if partitions < 1:
            raise ValueError(f"topic {name!r}: {partitions} partitions")
        logs = [PartitionLog(self.node_ids[p % len(self.node_ids)], max_message_bytes) for p in range(partitions)]
        topic = Topic(name, uuid.uuid4(), logs)
        self.topics[name] = topic
        return topic

    def partition(self, topic: str, partition: int) -> PartitionLog | None:
        t = self.topics.get(topic)
        if t is None or not 0 <= partition < len(t.partitions):
            return None
        return t.partitions[partition]

    def new_producer_id(self) -> int:
        pid = self._next_producer_id
        self._next_producer_id += 1
        return pid

    def coordinator_for(self, key: str) -> int:
        """The broker coordinating ``key`` (a group or transactional id): a stable hash, so that a
        multi-broker fake has coordinators apart from leaders, as a real cluster does."""
        return self.node_ids[sum(key.encode()) % len(self.node_ids)]

    def notify_append(self) -> None:
        self.appended.set()
        self.appended = asyncio.Event()
