"""Sequence bookkeeping of the idempotent producer (no I/O): the rules one by one, then random
interleavings of sends, answers, lost answers, expiries, splits and bumps against a model of the
broker's sequence checks."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kafkaio.producer.idempotence import BatchSequence, IdempotenceState, _move, increment_sequence

S = BatchSequence


def batch(tp=("t", 0), count=10):
    return SimpleNamespace(tp=tp, record_count=count, base_sequence=-1, producer_id=-1, producer_epoch=-1,
                           seq_state=S.UNSEQUENCED, maybe_written=False, awaiting_answer=False)


def state(transactional: bool = False) -> IdempotenceState:
    s = IdempotenceState(transactional=transactional)
    s.set_producer_id(1000, 0)
    return s


def send(s: IdempotenceState, b) -> None:
    if b.base_sequence < 0:
        s.assign(b)
    s.sent(b)


def test_sequences_advance_per_partition_by_record_count() -> None:
    s = state()
    a, b, c = batch(count=3), batch(count=5), batch(tp=("t", 1), count=2)
    assert s.assign(a) == 0 and s.assign(b) == 3 and s.assign(c) == 0
    assert (a.producer_id, a.producer_epoch) == (1000, 0)
    assert a.seq_state is S.IN_FLIGHT


def test_forget_topic_drops_settled_partitions_of_the_topic_only() -> None:
    s = state()
    done, pending, other = batch(tp=("gone", 0)), batch(tp=("gone", 1)), batch(tp=("live", 0))
    for b in (done, pending, other):
        send(s, b)
    s.acknowledged(done)
    s.acknowledged(other)
    s.forget_topic("gone")
    # ("gone", 1) has a batch in flight: its sequence stays until the batch is decided
    assert s.tracked_partitions() == {("gone", 1), ("live", 0)}
    s.acknowledged(pending)
    s.forget_topic("gone")
    assert s.tracked_partitions() == {("live", 0)}
    assert s.assign(batch(tp=("live", 0))) == 10  # the live topic's sequence goes on


def test_sequence_wraps_like_the_broker() -> None:
    assert increment_sequence(2**31 - 1, 1) == 0
    assert increment_sequence(2**31 - 3, 5) == 2
    assert increment_sequence(10, 5) == 15


def test_retry_is_drained_only_when_it_is_the_oldest_undecided() -> None:
    s = state()
    a, b = batch(), batch()
    send(s, a), send(s, b)
    assert not s.can_drain(b)  # a (older) is undecided
    assert s.can_drain(a)
    s.acknowledged(a)
    assert s.can_drain(b)
    assert s.can_drain(batch())  # never-sequenced batches are free to go


def test_a_later_acknowledgement_never_completes_an_earlier_batch() -> None:
    s = state()
    a, b = batch(), batch()
    send(s, a), send(s, b)
    s.no_answer(a)
    s.acknowledged(b)
    assert a.seq_state is S.IN_FLIGHT and a.base_sequence == 0  # resent as it was, until answered
    assert s.can_drain(a)


def test_giving_up_without_an_answer_leaves_the_outcome_unknown_and_the_partition_unresolved() -> None:
    s = state()
    a, b = batch(), batch()
    send(s, a), send(s, b)
    s.no_answer(a), s.no_answer(b)
    assert s.gave_up(a, "expired") is True
    assert a.seq_state is S.UNKNOWN
    assert s.is_unresolved(("t", 0)) and not s.epoch_bump_needed
    assert not s.can_drain(batch())  # nothing new is sequenced while it is unknown
    assert s.can_drain(b)            # but b goes out again, with its own sequence
    s.acknowledged(b)                # the broker had a, or b could not follow it
    assert not s.is_unresolved(("t", 0)) and not s.epoch_bump_needed
    assert s.assign(batch()) == 20   # the same epoch goes on


def test_an_unknown_batch_not_followed_by_an_acknowledgement_needs_a_bump() -> None:
    s = state()
    a = batch()
    send(s, a)
    s.no_answer(a)
    s.gave_up(a, "expired")
    assert s.epoch_bump_needed


def test_a_late_answer_of_an_expired_batch_resolves_its_partition() -> None:
    s = state()
    a = batch()
    send(s, a)
    assert s.gave_up(a, "expired in flight") is True  # its request is still out
    s.acknowledged(a)
    assert a.seq_state is S.ACKED and not s.is_unresolved(("t", 0)) and not s.epoch_bump_needed


def test_a_certain_gap_bumps_only_its_partition_at_once() -> None:
    s = state()
    written, too_large = batch(tp=("t", 0)), batch(tp=("u", 0))
    send(s, written), send(s, too_large)
    s.no_answer(written)            # written, its answer lost: waits for a retry
    s.refused(too_large)
    assert s.gave_up(too_large, "record too large") is False
    assert too_large.seq_state is S.REFUSED and s.epoch_bump_needed
    assert s.bump_epoch_locally()
    assert s.producer_epoch == 1 and not s.epoch_bump_needed
    # the other partition's batch keeps its epoch and sequence: it may be in the log
    assert (written.producer_epoch, written.base_sequence) == (0, 0)
    assert s.can_drain(written) and not s.can_drain(batch(tp=("t", 0)))
    s.acknowledged(written)
    nxt = batch(tp=("t", 0))
    assert s.can_drain(nxt) and s.assign(nxt) == 0 and nxt.producer_epoch == 1
    u = batch(tp=("u", 0))
    assert s.assign(u) == 0 and u.producer_epoch == 1


def test_a_bump_sequences_again_only_batches_certainly_not_written() -> None:
    s = state()
    refused, unanswered, refused_after = batch(), batch(), batch()
    for b in (refused, unanswered, refused_after):
        send(s, b)
    s.refused(refused)
    s.no_answer(unanswered)
    s.refused(refused_after)
    s.request_epoch_bump("a certain gap", ("t", 0))
    s.bump_epoch_locally()
    # before a batch that may be written: refused (it could only be written after it)
    assert refused.seq_state is S.REFUSED and s.take_refused() == [refused] and s.take_refused() == []
    # after every possibly written one: sequenced again under the new epoch
    assert refused_after.seq_state is S.UNSEQUENCED and refused_after.base_sequence == -1
    assert (unanswered.seq_state, unanswered.base_sequence, unanswered.producer_epoch) == (S.IN_FLIGHT, 10, 0)
    assert not s.can_drain(refused_after)       # waits until the possibly written one settles
    s.acknowledged(unanswered)
    assert s.can_drain(refused_after) and s.assign(refused_after) == 0 and refused_after.producer_epoch == 1


def test_out_of_order_at_the_expected_sequence_bumps_and_sends_again() -> None:
    s = state()
    a, b = batch(), batch()
    send(s, a), send(s, b)
    s.refused(a), s.refused(b)
    assert s.out_of_order(a) is True and s.epoch_bump_needed  # the broker lost our sequence
    s.bump_epoch_locally()
    assert a.seq_state is b.seq_state is S.UNSEQUENCED
    assert s.assign(a) == 0 and s.assign(b) == 10 and a.producer_epoch == 1


def test_a_batch_in_an_unanswered_request_is_never_sequenced_again() -> None:
    s = state()
    a = batch()
    send(s, a)  # its request is out
    s.request_epoch_bump("test", ("t", 0))
    s.bump_epoch_locally()
    assert (a.seq_state, a.base_sequence, a.producer_epoch) == (S.IN_FLIGHT, 0, 0)


def test_out_of_order_behind_an_undecided_batch_is_retried_without_a_bump() -> None:
    s = state()
    a, b = batch(), batch()
    send(s, a), send(s, b)
    s.refused(b)
    assert s.out_of_order(b) is True and not s.epoch_bump_needed


def test_a_refused_batch_before_the_first_acknowledged_one_fails_and_keeps_the_order() -> None:
    # the broker takes any first sequence from a producer it has no state for: when a later batch
    # was taken first, an earlier one refused with an answer can never be written in order
    s = state()
    first, second = batch(), batch()
    send(s, first), send(s, second)
    s.refused(first)
    s.acknowledged(second)
    assert s.out_of_order(first) is False  # fails now rather than at its delivery timeout
    assert s.gave_up(first, "out of order") is False
    assert first.seq_state is S.REFUSED and not s.epoch_bump_needed  # no gap: the sequence goes on
    assert s.assign(batch()) == 20


def test_a_lost_first_request_is_proven_unwritten_by_the_out_of_order_answer() -> None:
    # A's request never arrived; B was taken as the producer's first. A's retry is answered
    # OUT_OF_ORDER: had A been written, the broker would still remember it (one batch followed) and
    # answer it as a duplicate. So A is not in the log, and can no longer be written before B.
    s = state()
    first, second = batch(), batch()
    send(s, first), send(s, second)
    s.no_answer(first)
    s.acknowledged(second)
    send(s, first)
    s.refused(first)
    assert s.out_of_order(first) is False and not s.epoch_bump_needed
    assert s.gave_up(first, "out of order") is False  # certain: not written
    assert not s.is_unresolved(("t", 0)) and not s.epoch_bump_needed  # the sequence went on past it


def test_out_of_order_says_nothing_when_the_broker_may_have_forgotten_the_batch() -> None:
    s = state()
    first = batch()
    send(s, first)
    s.no_answer(first)
    later = [batch() for _ in range(5)]
    for b in later:
        send(s, b)
        s.acknowledged(b)
    send(s, first)
    s.refused(first)
    s.out_of_order(first)
    assert first.maybe_written  # five batches followed it: a duplicate may be answered out of order
    assert s.gave_up(first, "expired") is True


def test_unknown_producer_id_bumps_the_idempotent_producer_only() -> None:
    s = state()
    a = batch()
    send(s, a)
    s.refused(a)
    s.unknown_producer(a)
    assert s.epoch_bump_needed
    t = state(transactional=True)
    b = batch()
    send(t, b)
    t.refused(b)
    t.unknown_producer(b)
    assert not t.epoch_bump_needed


def test_a_transactional_bump_request_does_not_hold_back_new_batches() -> None:
    t = state(transactional=True)
    a = batch()
    send(t, a)
    t.refused(a)
    t.gave_up(a, "refused")
    assert t.epoch_bump_needed           # the abort will bump
    assert t.can_drain(batch(tp=("u", 0)))  # the other partitions keep going until then


def test_a_transactional_reset_starts_every_partition_again() -> None:
    t = state(transactional=True)
    queued = batch()
    send(t, queued)
    t.set_producer_id(1000, 1)
    t.reset_sequences([queued])
    assert queued.base_sequence == -1 and queued.seq_state is S.UNSEQUENCED
    assert t.assign(queued) == 0 and queued.producer_epoch == 1


def test_an_acknowledgement_of_another_epoch_leaves_the_partitions_sequences_alone() -> None:
    # the rule acknowledged() and every other outcome apply (_own): the answer of a batch sequenced
    # under an epoch the partition no longer has tells nothing of the current epoch's sequences
    t = state(transactional=True)
    old = batch()
    send(t, old)
    t.set_producer_id(1000, 1)
    t.reset_sequences([])           # the abort's new epoch: ``old`` was answered late
    new = batch()
    send(t, new)
    t.acknowledged(old)
    assert old.seq_state is S.ACKED
    assert t.can_drain(new)          # still the partition's oldest undecided batch
    assert not t.can_drain(batch())  # and nothing of epoch 1 acknowledged yet: one at a time
    t.acknowledged(new)
    assert t.assign(batch()) == 10   # epoch 1's sequences go on from ``new`` alone


def test_failure_of_an_unsequenced_batch_needs_no_bump() -> None:
    s = state()
    assert s.gave_up(batch(), "expired before sending") is False
    assert not s.epoch_bump_needed


def test_transitions_outside_the_table_are_refused() -> None:
    s = state()
    a = batch()
    send(s, a)
    s.acknowledged(a)
    with pytest.raises(AssertionError):
        _move(a, S.IN_FLIGHT)


# -- random interleavings against a model of the broker ---------------------------------------------

class ModelBroker:
    """The broker's sequence checks for one producer id on each partition (Kafka's
    ProducerStateManager, reduced to what decides append / duplicate / out of order)."""

    def __init__(self) -> None:
        self.log: dict[tuple, list[tuple[tuple[int, ...], int]]] = {}  # tp -> [(batch id, record count)]
        self.state: dict[tuple, tuple[int, list[tuple[int, int, tuple[int, ...]]]]] = {}  # tp -> (epoch, last 5 (first, last, id))

    def produce(self, b, bid: tuple[int, ...]) -> str:
        tp = b.tp
        first, last = b.base_sequence, increment_sequence(b.base_sequence, b.record_count - 1)
        entry = self.state.get(tp)
        if entry is not None:
            epoch, recent = entry
            if b.producer_epoch < epoch:
                return "fenced"
            if b.producer_epoch == epoch:
                for f, l_, _ in recent:
                    if (f, l_) == (first, last):
                        return "duplicate"
                if first != increment_sequence(recent[-1][1], 1):
                    return "out_of_order"
            elif first != 0:
                return "out_of_order"
            recent = recent if b.producer_epoch == epoch else []
        else:
            recent = []  # no state for the producer: any first sequence is accepted (KIP-360)
        recent = (recent + [(first, last, bid)])[-5:]
        self.state[tp] = (b.producer_epoch, recent)
        self.log.setdefault(tp, []).append((bid, b.record_count))
        return "ok"


ACTIONS = st.lists(st.tuples(st.sampled_from(["new", "new", "drain", "answer", "answer", "lose", "drop",
                                              "expire", "refuse", "split"]),
                             st.integers(0, 1), st.integers(0, 7), st.integers(1, 4)),
                   min_size=1, max_size=120)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
# the three scenarios of issue 17, so that every run covers them: a first request lost while a
# later batch is taken as the first; a written batch whose answer is lost while another partition's
# refusal bumps the epoch; two written batches whose answers are lost, the first expiring
@example([("new", 0, 0, 1), ("drain", 0, 0, 1), ("new", 0, 0, 1), ("drain", 0, 0, 1),
          ("drop", 0, 0, 1), ("answer", 0, 0, 1), ("drain", 0, 0, 1), ("answer", 0, 0, 1),
          ("expire", 0, 0, 1)])
@example([("new", 0, 0, 1), ("drain", 0, 0, 1), ("lose", 0, 0, 1), ("new", 1, 0, 1), ("drain", 1, 0, 1),
          ("refuse", 1, 0, 1), ("drain", 0, 0, 1), ("answer", 0, 0, 1)])
@example([("new", 0, 0, 1), ("drain", 0, 0, 1), ("new", 0, 0, 1), ("drain", 0, 0, 1), ("lose", 0, 0, 1),
          ("lose", 0, 0, 1), ("expire", 0, 0, 1), ("drain", 0, 0, 1), ("answer", 0, 0, 1)])
# and the fake broker's finding: the first request lost, the second written but its answer lost
@example([("new", 0, 0, 1), ("drain", 0, 0, 1), ("new", 0, 0, 1), ("drain", 0, 0, 1), ("drop", 0, 0, 1),
          ("lose", 0, 0, 1), ("drain", 0, 0, 1), ("answer", 0, 0, 1), ("drain", 0, 0, 1), ("answer", 0, 0, 1)])
# a split part split again, its sibling expired before it was sent (the ids of nested parts)
@example([("new", 1, 0, 4), ("drain", 1, 0, 1), ("split", 0, 0, 1), ("expire", 0, 1, 1), ("drain", 1, 0, 1),
          ("split", 0, 0, 1), ("drain", 1, 0, 1), ("answer", 0, 0, 1)])
def test_random_interleavings_never_report_an_unacknowledged_batch_nor_reuse_a_sequence(actions) -> None:
    """A batch is delivered only by its own acknowledgement; a batch the broker wrote is never
    written again, nor out of the order sent; two different batches never carry the same (epoch,
    sequence) when sent."""
    s = state()
    broker = ModelBroker()
    queued: list = []           # not sent yet, or waiting for a retry
    out: list = []              # requests out: (batch, its id)
    delivered: set[tuple[int, ...]] = set()  # reported delivered to the application
    failed: dict[tuple[int, ...], bool] = {}  # reported failed -> outcome unknown?
    sent_keys: dict[tuple, int] = {}
    # a batch's id is a path: (n,) for the n-th new batch, its split parts extend their parent's
    # path with 0 and 1, so ids sort in the order of the records they carry (a part's parts too)
    next_id = 0
    for kind, part, pick, count in actions:
        tp = ("t", part)
        if kind == "new":
            b = batch(tp, count)
            b.bid = (next_id,)
            next_id += 1
            queued.append(b)
        elif kind == "drain":
            for b in list(queued):
                if b.tp == tp and s.can_drain(b):
                    queued.remove(b)
                    send(s, b)
                    key = (b.tp, b.producer_epoch, b.base_sequence)
                    # the parts of a split take over its sequences: the same records (bid[0])
                    assert sent_keys.setdefault(key, b.bid[0]) == b.bid[0], "a sequence reused"
                    out.append(b)
        elif kind in ("answer", "lose", "drop", "refuse") and out:
            b = out.pop(pick % len(out))
            if kind == "drop":   # the request never reached the broker
                s.no_answer(b)
                outcome = None
            else:
                outcome = "refused" if kind == "refuse" else broker.produce(b, b.bid)
                if kind == "lose":  # the broker handled it; the answer is lost
                    s.no_answer(b)
                    outcome = None
            bid = b.bid
            done = bid in delivered or bid in failed
            if outcome in ("ok", "duplicate"):
                s.acknowledged(b)
                if not done:
                    delivered.add(bid)
            elif outcome is None:
                if not done:
                    queued.insert(0, b)
            else:
                s.refused(b)
                retry = s.out_of_order(b) if outcome == "out_of_order" else outcome == "fenced"
                if done:
                    pass
                elif retry or outcome == "refused" and kind == "refuse" and pick % 2:
                    queued.insert(0, b)
                else:
                    failed[bid] = s.gave_up(b, outcome)
        elif kind == "split" and out and (b := out[pick % len(out)]).record_count >= 2 \
                and b.seq_state is S.IN_FLIGHT and not b.maybe_written \
                and b.bid not in delivered and b.bid not in failed:
            # the broker refuses the batch as too large (nothing written; then no earlier attempt of
            # the same bytes was written either); its parts take its place
            out.remove(b)
            s.refused(b)
            half = b.record_count // 2
            parts = [batch(b.tp, half), batch(b.tp, b.record_count - half)]
            parts[0].bid, parts[1].bid = b.bid + (0,), b.bid + (1,)
            s.split(b, parts)
            failed[b.bid] = False  # the original is done: its records live on in the parts
            queued[0:0] = parts
        elif kind == "expire":
            candidates = [b for b in queued + out if b.bid not in delivered and b.bid not in failed]
            if candidates:
                b = candidates[pick % len(candidates)]
                if b in queued:
                    queued.remove(b)
                failed[b.bid] = s.gave_up(b, "expired")
        if s.epoch_bump_needed:
            s.bump_epoch_locally()  # as the sender does at its next pass, failing what it refused
            for b in s.take_refused():
                if b in queued:
                    queued.remove(b)
                failed[b.bid] = False
    written = [bid for entries in broker.log.values() for bid, _ in entries]
    assert len(written) == len(set(written)), "a batch was written twice"
    for tp, entries in broker.log.items():
        order = [bid for bid, _ in entries]
        assert order == sorted(order), f"{tp}: batches written out of send order: {order}"
    for bid in delivered:
        assert bid in written, f"batch {bid} reported delivered but not in the log"
    for bid, unknown in failed.items():
        if not unknown:
            assert bid not in written, f"batch {bid} reported failed for certain but is in the log"


def test_acknowledged_orders_first_and_last_across_the_wrap() -> None:
    """A batch whose sequences wrap past 2**31-1 acknowledges its wrapped last sequence; the first
    acknowledged stays the one before the wrap, and a later batch moves only the last."""
    s = state()
    first = batch(count=1)
    send(s, first)
    s.acknowledged(first)
    entry = s._partitions[("t", 0)]
    entry.next_sequence = 2**31 - 3  # as if 2**31 - 3 records had been acknowledged
    entry.last_acked = 2**31 - 4
    wrapping, after = batch(count=5), batch(count=3)
    send(s, wrapping)
    send(s, after)
    assert (wrapping.base_sequence, after.base_sequence) == (2**31 - 3, 2)
    entry.first_acked = None  # only the batches of this test count
    s.acknowledged(wrapping)
    assert (entry.first_acked, entry.last_acked) == (2**31 - 3, 1)
    s.acknowledged(after)
    assert (entry.first_acked, entry.last_acked) == (2**31 - 3, 4)
    assert s.assign(batch(count=1)) == 5
