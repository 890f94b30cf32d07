"""The idempotent producer's state: producer id and epoch, and a sequence number per partition.

The broker remembers, per producer id and partition, the sequences of the last five batches it
appended; a batch whose sequence it has already seen is dropped (and acknowledged again), and a batch
that skips ahead is refused with OUT_OF_ORDER_SEQUENCE_NUMBER. With that, retries can neither
duplicate nor reorder records, even with up to five requests in flight per connection.

This module is the bookkeeping only (no I/O); the sender drives it:

* :meth:`IdempotenceState.assign` gives a batch its base sequence the first time it is drained;
* :meth:`can_drain` keeps retries in sequence order: a batch that already has a sequence is sent
  again only when it is the oldest unacknowledged batch of its partition;
* :meth:`split` hands the sequence range of a batch refused with MESSAGE_TOO_LARGE to its parts;
* :meth:`acknowledged` / :meth:`failed` record the outcome. A batch that fails for good after it had a
  sequence leaves a gap the broker would refuse to skip: the producer must bump its epoch (KIP-360),
  which restarts every partition's sequence at 0, once no request is in flight
  (:attr:`epoch_bump_needed`, :meth:`reset_sequences`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from kafkaio.producer.accumulator import ProducerBatch

__all__ = ["IdempotenceState", "increment_sequence", "NO_PRODUCER_ID", "NO_PRODUCER_EPOCH"]

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
_INT32_MAX = 0x7FFFFFFF
_INT16_MAX = 0x7FFF


def increment_sequence(sequence: int, increment: int) -> int:
    """Sequence arithmetic as the broker does it: wraps from 2**31-1 to 0."""
    if sequence > _INT32_MAX - increment:
        return increment - (_INT32_MAX - sequence) - 1
    return sequence + increment


class IdempotenceState:
    """Producer id, epoch and per-partition sequences (the idempotent half of Java's TransactionManager)."""

    def __init__(self) -> None:
        self.producer_id = NO_PRODUCER_ID
        self.producer_epoch = NO_PRODUCER_EPOCH
        self._next_sequence: dict[tuple[str, int], int] = {}
        self._last_acked: dict[tuple[str, int], int] = {}
        # the base sequence of the first batch acknowledged per partition in this epoch: a broker
        # with no state for the producer accepts any first sequence (Kafka 2.5+, KIP-360), so the
        # gap-free guarantee only covers sequences from there on
        self._first_acked: dict[tuple[str, int], int] = {}
        # batches that have a sequence and are not yet acknowledged or failed, oldest first
        self._unacked: dict[tuple[str, int], list[ProducerBatch]] = {}
        self.epoch_bump_needed = False
        self.bump_reason = ""

    @property
    def has_producer_id(self) -> bool:
        return self.producer_id >= 0

    def set_producer_id(self, producer_id: int, producer_epoch: int) -> None:
        """Adopt a producer id and epoch from InitProducerId; every sequence restarts at 0."""
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.epoch_bump_needed = False
        self.bump_reason = ""

    # -- sequencing ---------------------------------------------------------------------------
    def assign(self, batch: ProducerBatch) -> int:
        """Give ``batch`` the next sequence of its partition (at its first drain) and return it."""
        tp = batch.tp
        seq = self._next_sequence.get(tp, 0)
        self._next_sequence[tp] = increment_sequence(seq, batch.record_count)
        batch.base_sequence = seq
        batch.producer_id = self.producer_id
        batch.producer_epoch = self.producer_epoch
        self._unacked.setdefault(tp, []).append(batch)
        return seq

    def can_drain(self, batch: ProducerBatch) -> bool:
        """Whether the sender may send ``batch`` now without breaking sequence order."""
        if self.epoch_bump_needed or not self.has_producer_id:
            return False
        if batch.base_sequence < 0:
            return True
        unacked = self._unacked.get(batch.tp)
        # a retried batch goes out only when every older batch of its partition is resolved
        return bool(unacked) and unacked[0] is batch

    def is_next_sequence(self, batch: ProducerBatch) -> bool:
        """True when ``batch`` directly follows the last acknowledged batch of its partition."""
        last = self._last_acked.get(batch.tp, -1)
        return batch.base_sequence == increment_sequence(last, 1) if last >= 0 else batch.base_sequence == 0

    def written_before(self, batch: ProducerBatch) -> bool:
        """True when a later batch of the same partition and epoch was acknowledged.

        The broker never appends a sequence after a gap, so ``batch`` must be in the log already,
        even if its own response was lost (then its offset is unknown).
        """
        if batch.base_sequence < 0 or batch.producer_epoch != self.producer_epoch \
                or batch.producer_id != self.producer_id:
            return False
        last = self._last_acked.get(batch.tp, -1)
        if last < 0:
            return False
        mine = increment_sequence(batch.base_sequence, batch.record_count - 1)
        return last == mine or _seq_after(last, mine)

    def sequenced_before_first_ack(self, batch: ProducerBatch) -> bool:
        """True when ``batch`` comes before the first batch the broker acknowledged for its
        partition in this epoch. If the broker refused ``batch`` (an error response), it took that
        later batch as the producer's first (it accepts any first sequence from a producer it has
        no state for), so ``batch`` is not in the log and can never follow it in this epoch: it
        must be sent again under a new epoch. (Without a response its fate is unknown: see
        :meth:`written_before`.)"""
        if batch.base_sequence < 0 or batch.producer_epoch != self.producer_epoch \
                or batch.producer_id != self.producer_id:
            return False
        first = self._first_acked.get(batch.tp)
        return first is not None and _seq_after(first, batch.base_sequence)

    def is_oldest_unacked(self, batch: ProducerBatch) -> bool:
        unacked = self._unacked.get(batch.tp)
        return bool(unacked) and unacked[0] is batch

    def acknowledged(self, batch: ProducerBatch) -> None:
        """The broker appended ``batch`` (or recognised it as a duplicate of an append)."""
        if batch.base_sequence < 0 or batch.producer_epoch != self.producer_epoch \
                or batch.producer_id != self.producer_id:
            self._forget(batch)
            return
        tp = batch.tp
        last = increment_sequence(batch.base_sequence, batch.record_count - 1)
        prev = self._last_acked.get(tp, -1)
        if prev < 0 or _seq_after(last, prev):
            self._last_acked[tp] = last
        first = self._first_acked.get(tp)
        if first is None or _seq_after(first, batch.base_sequence):
            self._first_acked[tp] = batch.base_sequence
        self._forget(batch)

    def failed(self, batch: ProducerBatch, reason: str) -> None:
        """``batch`` failed for good; if it had a sequence of the current epoch, bump the epoch."""
        if batch.base_sequence >= 0 and batch.producer_epoch == self.producer_epoch \
                and batch.producer_id == self.producer_id:
            self.request_epoch_bump(reason)
        self._forget(batch)

    def split(self, batch: ProducerBatch, parts: list[ProducerBatch]) -> None:
        """``batch`` was refused with MESSAGE_TOO_LARGE (so not written) and split into ``parts``.

        The parts take over its sequence range, in order, and its place among the unacknowledged
        batches, so the partition's sequences stay gap-free without an epoch bump. (Later batches
        already in flight are refused with OUT_OF_ORDER_SEQUENCE_NUMBER and retried after the parts,
        in sequence order, by the usual rules.) A batch without a sequence of the current epoch
        leaves its parts without one: they get fresh sequences when drained.
        """
        unacked = self._unacked.get(batch.tp)
        if batch.base_sequence < 0 or batch.producer_epoch != self.producer_epoch \
                or batch.producer_id != self.producer_id or not unacked or batch not in unacked:
            self._forget(batch)
            return
        i = unacked.index(batch)
        seq = batch.base_sequence
        for part in parts:
            part.base_sequence = seq
            part.producer_id = self.producer_id
            part.producer_epoch = self.producer_epoch
            seq = increment_sequence(seq, part.record_count)
        unacked[i:i + 1] = parts

    def request_epoch_bump(self, reason: str) -> None:
        """Ask the sender to bump the epoch once nothing is in flight (KIP-360)."""
        if not self.epoch_bump_needed:
            self.epoch_bump_needed = True
            self.bump_reason = reason

    def bump_epoch_locally(self) -> bool:
        """The idempotent producer's own epoch bump (KIP-360); False when the epoch is exhausted
        and a new producer id is needed from InitProducerId."""
        if self.producer_epoch >= _INT16_MAX:
            return False
        self.producer_epoch += 1
        return True

    def _forget(self, batch: ProducerBatch) -> None:
        unacked = self._unacked.get(batch.tp)
        if unacked:
            try:
                unacked.remove(batch)
            except ValueError:
                pass

    def reset_sequences(self, queued: Iterable[ProducerBatch]) -> None:
        """After a new epoch: every partition restarts at sequence 0 and queued batches that were
        already sequenced get new sequences when drained again (the sender rewrites their header)."""
        self._next_sequence.clear()
        self._last_acked.clear()
        self._first_acked.clear()
        self._unacked.clear()
        for batch in queued:
            batch.base_sequence = -1

    def unacked_count(self) -> int:
        return sum(len(v) for v in self._unacked.values())


def _seq_after(a: int, b: int) -> bool:
    """True when sequence ``a`` comes after ``b`` (allowing for wrap-around)."""
    return a != b and ((a - b) & _INT32_MAX) < (1 << 30)
