"""Sequence bookkeeping of the idempotent producer (no I/O)."""
from __future__ import annotations

from types import SimpleNamespace

from kafkaio.producer.idempotence import IdempotenceState, increment_sequence


def batch(tp=("t", 0), count=10):
    return SimpleNamespace(tp=tp, record_count=count, base_sequence=-1, producer_id=-1, producer_epoch=-1)


def state() -> IdempotenceState:
    s = IdempotenceState()
    s.set_producer_id(1000, 0)
    return s


def test_sequences_advance_per_partition_by_record_count() -> None:
    s = state()
    a, b, c = batch(count=3), batch(count=5), batch(tp=("t", 1), count=2)
    assert s.assign(a) == 0 and s.assign(b) == 3 and s.assign(c) == 0
    assert (a.producer_id, a.producer_epoch) == (1000, 0)


def test_sequence_wraps_like_the_broker() -> None:
    assert increment_sequence(2**31 - 1, 1) == 0
    assert increment_sequence(2**31 - 3, 5) == 2
    assert increment_sequence(10, 5) == 15


def test_retry_is_drained_only_when_it_is_the_oldest_unacked() -> None:
    s = state()
    a, b = batch(), batch()
    s.assign(a), s.assign(b)
    assert not s.can_drain(b)  # a (older) is unresolved
    assert s.can_drain(a)
    s.acknowledged(a)
    assert s.can_drain(b)
    assert s.can_drain(batch())  # never-sequenced batches are free to go


def test_next_sequence_tracks_acknowledgements() -> None:
    s = state()
    a, b = batch(count=4), batch(count=4)
    s.assign(a), s.assign(b)
    assert s.is_next_sequence(a) and not s.is_next_sequence(b)
    s.acknowledged(a)
    assert s.is_next_sequence(b)


def test_losing_a_sequenced_batch_requires_epoch_bump_and_reset() -> None:
    s = state()
    a, b, queued = batch(), batch(), batch()
    s.assign(a), s.assign(b), s.assign(queued)
    s.acknowledged(a)
    s.failed(b, "expired")
    assert s.epoch_bump_needed
    assert not s.can_drain(batch())  # nothing goes out until the bump
    s.set_producer_id(1000, 1)
    s.reset_sequences([queued])
    assert queued.base_sequence == -1 and not s.epoch_bump_needed
    assert s.assign(queued) == 0 and queued.producer_epoch == 1


def test_failure_of_unsequenced_batch_needs_no_bump() -> None:
    s = state()
    s.failed(batch(), "expired before sending")
    assert not s.epoch_bump_needed


def test_outcome_of_a_batch_from_an_old_epoch_is_ignored() -> None:
    s = state()
    old = batch()
    s.assign(old)
    s.set_producer_id(1000, 1)
    s.failed(old, "old epoch")
    assert not s.epoch_bump_needed


def test_a_batch_before_the_first_acknowledged_one_is_not_assumed_written() -> None:
    # The broker takes any first sequence from a producer it has no state for (KIP-360): if the
    # second batch of a partition arrives first (the first one failed, say on a just-created
    # topic), it is accepted and the first one is NOT in the log, although a later one was acked.
    s = state()
    first, second, third = batch(count=145), batch(count=145), batch(count=145)
    s.assign(first), s.assign(second), s.assign(third)
    s.acknowledged(second)
    # refused by the broker, ``first`` must be sent again under a new epoch, not completed
    assert s.sequenced_before_first_ack(first)
    assert not s.sequenced_before_first_ack(third)
    # once the broker has our state, a gap-free append proves the earlier ones are in the log
    s.acknowledged(third)
    fourth = batch(count=5)
    s.assign(fourth)
    assert not s.written_before(fourth)
    fifth = batch(count=5)
    s.assign(fifth)
    s.acknowledged(fifth)
    assert s.written_before(fourth)
    # a new epoch starts the bookkeeping afresh
    s.reset_sequences([first])
    assert first.base_sequence == -1 and not s.sequenced_before_first_ack(first)
