"""The idempotent producer's sequence bookkeeping: producer id and epoch, and per partition the
sequences, the batches in flight and what the broker said of them. Pure: no I/O, no clock.

The broker remembers, per producer id and partition, the epoch and the sequences of the last five
batches it appended. It appends a batch only when its sequence directly follows the last one
(OUT_OF_ORDER_SEQUENCE_NUMBER otherwise), and answers DUPLICATE_SEQUENCE_NUMBER (or the original
offset) for a batch it already has. From a producer it holds no state for on a partition it accepts
any first sequence (KIP-360).

The rules, as the Java client's ``TransactionManager`` keeps them:

* A batch gets its epoch and sequence at its first drain (:meth:`IdempotenceState.assign`) and
  keeps both for every later attempt: a batch whose earlier attempt may be in the log is never sent
  under another sequence, which could write it twice.
* A batch is delivered only when the broker acknowledges that batch (or answers DUPLICATE_SEQUENCE
  for it): never because a later batch was acknowledged.
* An attempt that ends without an answer (no response, timeout, cut connection) leaves the batch
  *possibly written*. If the producer gives up on such a batch (delivery timeout), its outcome is
  unknown and its partition's sequence *unresolved*: no new batch of the partition is sequenced
  until the batches in flight settle. If a later acknowledgement continues the sequence past it,
  the partition is resolved without a bump; otherwise the gap is certain and the epoch is bumped.
* A certain gap (a batch refused for good after it had a sequence, OUT_OF_ORDER at the expected
  sequence, UNKNOWN_PRODUCER_ID) bumps the epoch (KIP-360). The bump moves only the partitions
  that need it to the new epoch at once; every other partition keeps its epoch and sequences for the
  batches it has in flight and moves to the new epoch, at sequence 0, when they have settled.
  Batches of a bumped partition that the broker certainly did not write (every attempt refused with
  an answer) are sequenced again under the new epoch; possibly written ones keep theirs.
* A batch certainly not written that a later written, or possibly written, batch of its partition
  follows can never be written in order (the broker takes any first sequence from a producer it
  has no state for, so a later batch can be in the log without it): it fails
  (OUT_OF_ORDER_SEQUENCE_NUMBER), at the answer or at a bump. An OUT_OF_ORDER answer proves a
  possibly written batch unwritten while fewer than five batches may follow it: the broker would
  still remember it, and answer it as a duplicate.

Each sequenced batch moves through :class:`BatchSequence` by the table ``_TRANSITIONS``.
"""
from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from kafkaio.producer.accumulator import ProducerBatch

__all__ = ["IdempotenceState", "BatchSequence", "increment_sequence", "NO_PRODUCER_ID",
           "NO_PRODUCER_EPOCH"]

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
_INT32_MAX = 0x7FFFFFFF
_INT16_MAX = 0x7FFF
# The broker remembers the last five batches of each producer per partition: a batch among them is
# answered as a duplicate, never as out of order.
_BROKER_BATCH_WINDOW = 5


def increment_sequence(sequence: int, increment: int) -> int:
    """Sequence arithmetic as the broker does it: wraps from 2**31-1 to 0."""
    if sequence > _INT32_MAX - increment:
        return increment - (_INT32_MAX - sequence) - 1
    return sequence + increment


class BatchSequence(enum.Enum):
    """Where a batch stands with respect to its partition's sequences."""

    UNSEQUENCED = "unsequenced"  # no sequence yet: never drained, or certainly not written
    IN_FLIGHT = "in flight"      # has its epoch and sequence; sent, or waiting to be sent again
    ACKED = "acknowledged"       # the broker acknowledged this batch
    REFUSED = "refused"          # failed for good and certainly not written
    UNKNOWN = "unknown"          # given up without an answer: it may or may not be in the log
    SPLIT = "split"              # refused as too large (not written); its parts took its sequences

    # Members are singletons compared by identity: the identity hash is right for them, and the
    # transition table is looked up twice per batch, where Enum's own hash is a Python call.
    __hash__ = object.__hash__


_S = BatchSequence
# module constants: the per-round-trip methods read them without an attribute lookup on the enum
_UNSEQUENCED = _S.UNSEQUENCED
_IN_FLIGHT = _S.IN_FLIGHT
_ACKED = _S.ACKED
_UNKNOWN = _S.UNKNOWN
_HALF_RANGE = 1 << 30  # sequences closer than this are ordered (wrap-around arithmetic)
_TRANSITIONS: dict[BatchSequence, frozenset[BatchSequence]] = {
    _S.UNSEQUENCED: frozenset({_S.IN_FLIGHT}),
    # back to UNSEQUENCED only when certainly not written, at a bump of its partition
    _S.IN_FLIGHT: frozenset({_S.ACKED, _S.REFUSED, _S.UNKNOWN, _S.SPLIT, _S.UNSEQUENCED}),
    # an answer that arrives after the producer gave up still tells what the broker holds
    _S.UNKNOWN: frozenset({_S.ACKED}),
    _S.ACKED: frozenset(),
    _S.REFUSED: frozenset(),
    _S.SPLIT: frozenset(),
}


class _Partition:
    """One partition's sequencing (Java's ``TxnPartitionEntry``)."""

    __slots__ = ("producer_id", "producer_epoch", "next_sequence", "last_acked", "first_acked",
                 "recent_acked", "in_flight", "unresolved")

    def __init__(self, producer_id: int, producer_epoch: int) -> None:
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.next_sequence = 0
        self.last_acked = -1                 # last sequence acknowledged in this epoch
        self.first_acked: int | None = None  # base sequence of the first batch acknowledged
        # base sequences of the last batches acknowledged (as many as the broker remembers)
        self.recent_acked: deque[int] = deque(maxlen=_BROKER_BATCH_WINDOW)
        self.in_flight: list[ProducerBatch] = []  # sequenced and undecided, in sequence order
        self.unresolved: int | None = None   # set while a batch given up on may be in the log


class IdempotenceState:
    """Producer id, epoch and per-partition sequences (the idempotent half of Java's
    ``TransactionManager``). ``transactional``: a failed batch makes the transaction abortable and
    the epoch is bumped by the transaction's abort, not here."""

    def __init__(self, transactional: bool = False) -> None:
        self.producer_id = NO_PRODUCER_ID
        self.producer_epoch = NO_PRODUCER_EPOCH
        self.transactional = transactional
        self._partitions: dict[tuple[str, int], _Partition] = {}
        self._to_rewrite: set[tuple[str, int]] = set()
        self._refused: list[ProducerBatch] = []  # failed by a bump, for the sender to fail
        self.epoch_bump_needed = False
        self.bump_reason = ""

    @property
    def has_producer_id(self) -> bool:
        return self.producer_id >= 0

    # -- producer id and epoch --------------------------------------------------------------------
    def set_producer_id(self, producer_id: int, producer_epoch: int) -> None:
        """Adopt a producer id and epoch (InitProducerId). Each partition moves to it, at sequence
        0, once the batches it has in flight under the old one have settled."""
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self._bumped()

    def request_epoch_bump(self, reason: str, tp: tuple[str, int] | None = None) -> None:
        """A certain sequence gap (on ``tp``): the epoch must be bumped (KIP-360)."""
        if tp is not None:
            self._to_rewrite.add(tp)
        if not self.epoch_bump_needed:
            self.epoch_bump_needed = True
            self.bump_reason = reason

    def bump_epoch_locally(self) -> bool:
        """The idempotent producer's own epoch bump (KIP-360); False when the epoch is exhausted
        and a new producer id is needed from InitProducerId."""
        if self.producer_epoch >= _INT16_MAX:
            return False
        self.producer_epoch += 1
        self._bumped()
        return True

    def _bumped(self) -> None:
        """Move the partitions that asked for the bump to the current epoch at once."""
        for tp in self._to_rewrite:
            entry = self._partitions.get(tp)
            if entry is not None:
                self._restart(entry, keep=[b for b in entry.in_flight if _possibly_written(b)])
        self._to_rewrite.clear()
        self.epoch_bump_needed = False
        self.bump_reason = ""

    def _restart(self, entry: _Partition, keep: list[ProducerBatch]) -> None:
        """Batches certainly not written go back to be sequenced again; ``keep`` (possibly written)
        stay with their epoch and sequence, and the partition moves on when they settle. A batch
        certainly not written but followed by a possibly written one could only be written after
        it, out of order: it is refused instead (:meth:`take_refused`)."""
        for i, b in enumerate(entry.in_flight):
            if b in keep:
                continue
            if any(later in keep for later in entry.in_flight[i + 1:]):
                _move(b, _S.REFUSED)
                self._refused.append(b)
            else:
                _move(b, _S.UNSEQUENCED)
                b.base_sequence = -1
        entry.in_flight = keep
        entry.unresolved = None
        if not keep:
            self._adopt(entry)

    def _adopt(self, entry: _Partition) -> None:
        entry.producer_id = self.producer_id
        entry.producer_epoch = self.producer_epoch
        entry.next_sequence = 0
        entry.last_acked = -1
        entry.first_acked = None
        entry.recent_acked.clear()

    def take_refused(self) -> list[ProducerBatch]:
        """Batches a bump found certainly not written but impossible to write in order any more:
        the sender fails them (each once)."""
        refused, self._refused = self._refused, []
        return refused

    def reset_sequences(self, queued: Iterable[ProducerBatch]) -> None:
        """A transactional producer's new epoch (abort, or transaction v2's EndTxn): nothing is in
        flight any more; every partition restarts at 0 and queued batches are sequenced again."""
        self._partitions.clear()
        self._to_rewrite.clear()
        for batch in queued:
            if batch.base_sequence >= 0:
                batch.seq_state = _S.UNSEQUENCED
                batch.base_sequence = -1

    # -- draining -------------------------------------------------------------------------------
    def _entry(self, tp: tuple[str, int]) -> _Partition:
        entry = self._partitions.get(tp)
        if entry is None:
            entry = self._partitions[tp] = _Partition(self.producer_id, self.producer_epoch)
        return entry

    def can_drain(self, batch: ProducerBatch) -> bool:
        """Whether the sender may send ``batch`` now without breaking sequence order."""
        if self.producer_id < 0:
            return False
        entry = self._partitions.get(batch.tp)
        if batch.base_sequence >= 0:
            # a retry goes out only as the oldest undecided batch of its partition (in order)
            return entry is not None and bool(entry.in_flight) and entry.in_flight[0] is batch
        if self.epoch_bump_needed and not self.transactional:
            return False  # new batches take the new epoch
        if entry is None:
            return True
        if entry.unresolved is not None:
            return False  # wait until it is known whether a given-up batch is in the log
        if not entry.in_flight:
            return True  # nothing of an older epoch, nor an unacknowledged first batch, is out
        if entry.last_acked < 0:
            # Until the broker acknowledged a batch of this partition in this epoch, one at a time:
            # a broker with no state for the producer takes any first sequence, so a second batch
            # could be written as the first while the first is refused (a new topic's leader not
            # ready) or lost, and the first could then only be written out of order.
            return False
        # batches of an older epoch still out: new ones wait until they settle
        return entry.producer_id == self.producer_id and entry.producer_epoch == self.producer_epoch

    def assign(self, batch: ProducerBatch) -> int:
        """Give ``batch`` the next sequence of its partition (at its first drain) and return it."""
        entry = self._partitions.get(batch.tp)
        if entry is None:
            entry = self._entry(batch.tp)
        elif (entry.producer_id != self.producer_id or entry.producer_epoch != self.producer_epoch) \
                and not entry.in_flight:
            self._adopt(entry)
        seq = entry.next_sequence
        n = batch.record_count
        entry.next_sequence = seq + n if seq <= _INT32_MAX - n else increment_sequence(seq, n)
        if batch.seq_state is _UNSEQUENCED:
            batch.seq_state = _IN_FLIGHT  # the one transition into IN_FLIGHT (_TRANSITIONS)
        else:
            _move(batch, _IN_FLIGHT)  # refused: raises
        batch.base_sequence = seq
        batch.producer_id = entry.producer_id
        batch.producer_epoch = entry.producer_epoch
        batch.maybe_written = False
        batch.awaiting_answer = False
        entry.in_flight.append(batch)
        return seq

    def sent(self, batch: ProducerBatch) -> None:
        """An attempt of ``batch`` is on its way: until its answer, it may be written."""
        batch.awaiting_answer = True

    def refused(self, batch: ProducerBatch) -> None:
        """An attempt of ``batch`` wrote nothing: the broker answered an error for it, or its
        request failed before any byte of it was written."""
        batch.awaiting_answer = False
        self._settled_late(batch)

    # -- outcomes ---------------------------------------------------------------------------------
    def _own(self, batch: ProducerBatch) -> _Partition | None:
        """The partition entry whose epoch ``batch`` was sequenced under, if still tracked."""
        entry = self._partitions.get(batch.tp)
        # compared field by field, without tuples: acknowledged() calls this once per round trip
        if entry is None or batch.base_sequence < 0 or batch.producer_id != entry.producer_id \
                or batch.producer_epoch != entry.producer_epoch:
            return None
        return entry

    def acknowledged(self, batch: ProducerBatch) -> None:
        """The broker appended ``batch`` (or answered that it already has it)."""
        state = batch.seq_state
        if state is not _IN_FLIGHT and state is not _UNKNOWN:
            return
        batch.seq_state = _ACKED  # from either: _TRANSITIONS
        entry = self._own(batch)
        if entry is None:
            return
        base = batch.base_sequence
        last = increment_sequence(base, batch.record_count - 1)
        if entry.last_acked < 0 or _seq_after(last, entry.last_acked):
            entry.last_acked = last
        if entry.first_acked is None or _seq_after(entry.first_acked, base):
            entry.first_acked = base
        entry.recent_acked.append(base)
        in_flight = entry.in_flight
        if in_flight and in_flight[0] is batch:  # acknowledged in order: the usual case
            del in_flight[0]
        else:
            self._remove(entry, batch)
        if entry.unresolved is not None:
            self._maybe_resolve(batch.tp, entry)

    def no_answer(self, batch: ProducerBatch) -> None:
        """An attempt of ``batch`` ended without an answer: it may be in the log."""
        batch.awaiting_answer = False
        if batch.seq_state is _S.IN_FLIGHT:
            batch.maybe_written = True
        self._settled_late(batch)

    def _settled_late(self, batch: ProducerBatch) -> None:
        """The request of a batch given up on while it was out ended without telling more."""
        if batch.seq_state is _S.UNKNOWN:
            entry = self._own(batch)
            if entry is not None and batch in entry.in_flight:
                self._remove(entry, batch)
                self._maybe_resolve(batch.tp, entry)

    def gave_up(self, batch: ProducerBatch, reason: str) -> bool:
        """The producer fails ``batch`` for good (an error, its delivery timeout, a close). Returns
        True when its outcome is unknown (an attempt may have written it)."""
        if batch.seq_state is not _S.IN_FLIGHT:
            return False
        entry = self._own(batch)
        unknown = _possibly_written(batch)
        _move(batch, _S.UNKNOWN if unknown else _S.REFUSED)
        if self.transactional:
            # the transaction must be aborted, and its abort starts the next epoch (Java's
            # epochBumpRequired on a failed batch of a transaction)
            self.request_epoch_bump(reason)
        if entry is None:
            return unknown
        if unknown:
            after = increment_sequence(batch.base_sequence, batch.record_count)
            if entry.unresolved is None or _seq_after(after, entry.unresolved):
                entry.unresolved = after
            if not batch.awaiting_answer:
                self._remove(entry, batch)
                self._maybe_resolve(batch.tp, entry)
            # else its request is still out: it stays in flight until that request ends, and a
            # late acknowledgement may still resolve the partition without a bump
        else:
            self._remove(entry, batch)
            if not _before_first_ack(entry, batch):
                self.request_epoch_bump(reason, batch.tp)  # a certain gap in the sequences
        return unknown

    def out_of_order(self, batch: ProducerBatch) -> bool:
        """The broker answered OUT_OF_ORDER_SEQUENCE_NUMBER for ``batch`` (this attempt wrote
        nothing); returns whether to send it again (Java's ``TransactionManager.canRetry``, and
        more: it never re-sequences a batch that may be written, nor writes one out of order).

        * Had an earlier attempt written ``batch``, the broker would still remember it (fewer than
          five batches of the partition may have followed it) and answer it as a duplicate: then the
          answer proves it is not in the log.
        * A batch certainly not written, after which a later batch of the partition is, or may be,
          written, can never be written in order: it fails now.
        * While an older batch is undecided, that batch caused the gap: ``batch`` is retried in
          order. At the expected sequence the gap is certain: the idempotent producer bumps the
          partition's epoch (a transactional producer fails the batch: the abort bumps).
        """
        entry = self._own(batch)
        if entry is None:
            return not self.transactional
        if _written_after(entry, batch) < _BROKER_BATCH_WINDOW:
            batch.maybe_written = False
        if not _possibly_written(batch) and _later_written(entry, batch):
            return False
        if entry.unresolved is not None:
            if batch.base_sequence == entry.unresolved and not self.transactional:
                self.request_epoch_bump("out-of-order sequence after a batch given up on", batch.tp)
            return not self.transactional
        if (entry.producer_id, entry.producer_epoch) != (self.producer_id, self.producer_epoch):
            return not self.transactional  # bumped already: the partition moves on when it settles
        expected = increment_sequence(entry.last_acked, 1) if entry.last_acked >= 0 else 0
        if batch.base_sequence == expected:
            if self.transactional:
                return False
            self.request_epoch_bump("out-of-order sequence at the expected sequence", batch.tp)
        return True

    def unknown_producer(self, batch: ProducerBatch) -> None:
        """The broker answered UNKNOWN_PRODUCER_ID: it lost this producer's state (KIP-360)."""
        if not self.transactional and self._own(batch) is not None:
            self.request_epoch_bump("unknown producer id", batch.tp)

    def split(self, batch: ProducerBatch, parts: list[ProducerBatch]) -> None:
        """``batch`` was refused with MESSAGE_TOO_LARGE (so not written) and split into ``parts``.

        The parts take over its sequence range, in order, and its place among the undecided
        batches, so the partition's sequences stay gap-free without an epoch bump. A batch without
        a sequence of its partition's epoch leaves its parts without one: they get fresh sequences
        when drained."""
        entry = self._own(batch)
        if batch.seq_state is not _S.IN_FLIGHT or entry is None or batch not in entry.in_flight:
            return
        i = entry.in_flight.index(batch)
        _move(batch, _S.SPLIT)
        seq = batch.base_sequence
        for part in parts:
            part.seq_state = _S.IN_FLIGHT
            part.base_sequence = seq
            part.producer_id = batch.producer_id
            part.producer_epoch = batch.producer_epoch
            part.maybe_written = False
            part.awaiting_answer = False
            seq = increment_sequence(seq, part.record_count)
        entry.in_flight[i:i + 1] = parts

    def _remove(self, entry: _Partition, batch: ProducerBatch) -> None:
        try:
            entry.in_flight.remove(batch)
        except ValueError:
            pass

    def _maybe_resolve(self, tp: tuple[str, int], entry: _Partition) -> None:
        """Java's ``maybeResolveSequences``: once nothing of ``tp`` is in flight, an unresolved
        partition is resolved if the acknowledgements continued the sequence past the batches given
        up on, and needs a bump otherwise."""
        if entry.unresolved is None or entry.in_flight:
            return
        if entry.last_acked >= 0 and increment_sequence(entry.last_acked, 1) == entry.next_sequence:
            entry.unresolved = None
        elif not self.transactional:
            self.request_epoch_bump("batches given up on without an answer", tp)
        # a transactional producer stays unresolved here: the abort that follows the failure
        # starts every partition again under a new epoch

    def forget_topic(self, topic: str) -> None:
        """Drop the sequences of a deleted topic's partitions: the broker keeps no producer state
        for them. Partitions with batches in flight or given up on without an answer keep theirs."""
        gone = [tp for tp, entry in self._partitions.items()
                if tp[0] == topic and not entry.in_flight and entry.unresolved is None]
        for tp in gone:
            del self._partitions[tp]
            self._to_rewrite.discard(tp)

    def closed(self) -> None:
        """The producer closed, its sender stopped: no batch will be sent or answered again, so
        forget every partition's sequences and batches (those a forced close failed while in
        flight would otherwise stay with a closed producer the application keeps)."""
        self._partitions.clear()
        self._to_rewrite.clear()
        self._refused.clear()

    # -- introspection ------------------------------------------------------------------------------
    def tracked_partitions(self) -> frozenset[tuple[str, int]]:
        """The partitions this producer keeps sequences for."""
        return frozenset(self._partitions)

    def is_unresolved(self, tp: tuple[str, int]) -> bool:
        entry = self._partitions.get(tp)
        return entry is not None and entry.unresolved is not None

    def unacked_count(self) -> int:
        return sum(len(e.in_flight) for e in self._partitions.values())


def _written_after(entry: _Partition, batch: ProducerBatch) -> int:
    """How many batches after ``batch`` the broker may have appended (an upper bound; at most
    the window it remembers, which is all that matters)."""
    undecided = sum(1 for b in entry.in_flight if _seq_after(b.base_sequence, batch.base_sequence))
    acked = sum(1 for seq in entry.recent_acked if _seq_after(seq, batch.base_sequence))
    if acked == len(entry.recent_acked) == _BROKER_BATCH_WINDOW:
        return _BROKER_BATCH_WINDOW  # every remembered acknowledgement is later: maybe more were
    return undecided + acked


def _later_written(entry: _Partition, batch: ProducerBatch) -> bool:
    """A batch after ``batch`` in the partition's sequence is, or may be, in the log."""
    end = increment_sequence(batch.base_sequence, batch.record_count - 1)
    if entry.last_acked >= 0 and _seq_after(entry.last_acked, end):
        return True
    return any(_possibly_written(b) for b in entry.in_flight
               if _seq_after(b.base_sequence, batch.base_sequence))


def _before_first_ack(entry: _Partition, batch: ProducerBatch) -> bool:
    """``batch`` comes before the batch the broker took as the producer's first in this epoch."""
    return entry.first_acked is not None and _seq_after(entry.first_acked, batch.base_sequence)


def _possibly_written(batch: ProducerBatch) -> bool:
    """An attempt of ``batch`` ended without an answer, or is still waiting for one."""
    return batch.maybe_written or batch.awaiting_answer


def _move(batch: ProducerBatch, target: BatchSequence) -> None:
    state = batch.seq_state
    if target not in _TRANSITIONS[state]:
        raise AssertionError(f"{batch!r}: invalid sequence transition {state.value} -> {target.value}")
    batch.seq_state = target


def _seq_after(a: int, b: int) -> bool:
    """True when sequence ``a`` comes after ``b`` (allowing for wrap-around)."""
    return a != b and ((a - b) & _INT32_MAX) < _HALF_RANGE
