"""The fetch buffer (no broker): what ``read_completed`` keeps of a partition's fetched batches
(position, control markers, aborted transactions, corrupt data) and how ``FetchBuffer`` queues
completed fetches and errors for the collector."""
from __future__ import annotations

from collections import deque

import pytest

from fetch_helpers import batch
from kafkaio.consumer.fetch_buffer import CompletedFetch, FetchBuffer, read_completed
from kafkaio.consumer.subscription import PartitionState, SubscriptionState
from kafkaio.errors import KafkaError
from kafkaio.structs import TopicPartition as TP


def offsets(batches: deque) -> list[int]:
    return [b.base_offset for b in batches]


def test_batches_from_the_fetch_offset_on_are_kept_and_the_next_offset_is_past_them() -> None:
    data = batch(0, [b"a", b"b"]) + batch(2, [b"c"]) + batch(3, [b"d", b"e"])
    got = read_completed(memoryview(data), 2, -1, True, None)
    assert offsets(got.batches) == [2, 3]  # the first ends before the fetch offset
    assert got.next_offset == 5 and got.corrupt is None
    assert got.nbytes == sum(b.size_in_bytes for b in got.batches)


def test_a_batch_that_starts_before_the_fetch_offset_but_reaches_past_it_is_kept() -> None:
    got = read_completed(memoryview(batch(0, [b"a", b"b", b"c"])), 1, -1, True, None)
    assert offsets(got.batches) == [0] and got.next_offset == 3


def test_control_batches_are_stepped_over_but_move_the_next_offset() -> None:
    data = batch(0, [b"a"], pid=7, transactional=True) + batch(1, [], pid=7, control=1)
    got = read_completed(memoryview(data), 0, -1, True, None)
    assert offsets(got.batches) == [0] and got.next_offset == 2


def test_aborted_transactions_are_dropped_up_to_their_abort_marker_and_no_further() -> None:
    data = (batch(0, [b"c0"], pid=7, transactional=True)    # committed below
            + batch(1, [b"x0"], pid=8, transactional=True)  # aborted
            + batch(2, [], pid=7, control=1)                # COMMIT of 7
            + batch(3, [], pid=8, control=0)                # ABORT of 8
            + batch(4, [b"y0"], pid=8, transactional=True))  # 8's next transaction: not aborted
    aborted = [{"producer_id": 8, "first_offset": 1}]
    got = read_completed(memoryview(data), 0, -1, True, aborted)
    assert offsets(got.batches) == [0, 4] and got.next_offset == 5
    # read_uncommitted (no list): the aborted records are there, the markers never
    assert offsets(read_completed(memoryview(data), 0, -1, True, None).batches) == [0, 1, 4]


def test_a_corrupt_batch_keeps_the_good_ones_before_it_and_says_where_it_is() -> None:
    good = batch(0, [b"a"])
    bad = bytearray(batch(1, [b"b"]))
    bad[-1] ^= 0xFF  # breaks its CRC
    got = read_completed(memoryview(good + bytes(bad)), 0, -1, True, None)
    assert offsets(got.batches) == [0]
    assert got.next_offset == 1 and isinstance(got.corrupt, KafkaError)


def test_with_no_batches_the_fetch_offset_and_epoch_stay() -> None:
    got = read_completed(memoryview(b""), 5, 3, True, None)
    assert (got.next_offset, got.next_epoch, list(got.batches)) == (5, 3, [])


def _state(p: int = 0, position: int = 0) -> PartitionState:
    st = PartitionState(TP("t", p))
    st.seek(position)
    return st


def _held(buf: FetchBuffer, st: PartitionState) -> list[CompletedFetch]:
    """The current completed fetches of ``st``, oldest first (handed out one by one and put back)."""
    out = []
    while (c := buf.peek(st)) is not None:
        out.append(c)
        buf.pop(st)
    for c in out:
        buf.add(st, c)
    return out


def test_completed_fetches_queue_per_partition_in_the_order_they_arrive() -> None:
    buf = FetchBuffer()
    a, b = _state(0), _state(1)
    first, second = CompletedFetch(deque(), 3, 100, a.epoch), CompletedFetch(deque(), 6, 50, a.epoch)
    buf.add(a, first)
    buf.add(b, CompletedFetch(deque(), 1, 10, b.epoch))
    buf.add(a, second)
    assert buf.has_records() and buf.peek(a) is first and buf.buffered_bytes(a) == 150
    assert buf.first_ready() is a
    buf.requeue()
    assert buf.first_ready() is b
    buf.pop(a)
    assert buf.peek(a) is second and buf.buffered_bytes(a) == 50


def test_stop_at_queues_the_error_behind_the_records_and_stops_fetching() -> None:
    buf = FetchBuffer()
    st = _state(position=4)
    buf.add(st, CompletedFetch(deque(), 8, 10, st.epoch))
    err = KafkaError("boom")
    buf.stop_at(st, 8, err)
    assert st.fetch_offset is None  # not fetchable until the position reaches the error
    stop = _held(buf, st)[-1]
    assert (stop.end_offset, stop.error, stop.out_of_range) == (8, err, False)
    assert buf.records_available.is_set()
    buf.stop_at(st, 8, None)
    assert _held(buf, st)[-1].out_of_range  # None stands for OFFSET_OUT_OF_RANGE, decided later


def test_fail_drops_the_buffered_records_and_queues_the_error_for_the_next_read() -> None:
    buf = FetchBuffer()
    st = _state(position=4)
    buf.add(st, CompletedFetch(deque(), 8, 10, st.epoch))
    st.fetch_offset = 8
    epoch = st.epoch
    err = KafkaError("boom")
    buf.fail(st, err)
    assert st.error is err and buf.peek(st) is None and buf.buffered_bytes(st) == 0
    assert st.fetch_offset == 4 and st.epoch > epoch  # fetched again from the position
    assert buf.first_ready() is st and buf.records_available.is_set()


def test_discard_keeps_only_partitions_with_data_or_an_error_in_the_queue() -> None:
    buf = FetchBuffer()
    a, b, c = _state(0), _state(1), _state(2)
    for st in (a, b, c):
        buf.add(st, CompletedFetch(deque(), 1, 10, st.epoch))
    c.error = KafkaError("pending")
    buf.discard([a, c])
    assert buf.peek(a) is None and buf.peek(b) is not None
    assert buf.first_ready() is b
    buf.unready()
    assert buf.first_ready() is c
    buf.unready()
    assert not buf.has_records()


def test_resume_requeues_a_paused_partition_that_still_holds_data_once() -> None:
    buf = FetchBuffer()
    st = _state()
    buf.add(st, CompletedFetch(deque(), 1, 10, st.epoch))
    buf.unready()  # drained while paused: the data stays in the buffer
    buf.resume([st, st])
    assert buf.first_ready() is st
    buf.unready()
    assert not buf.has_records()


def test_clear_releases_every_batch() -> None:
    buf = FetchBuffer()
    st = _state()
    buf.add(st, CompletedFetch(deque(), 1, 10, st.epoch))
    buf.clear()
    assert buf.peek(st) is None and buf.buffered_bytes(st) == 0 and not buf.has_records()


def test_a_seek_makes_what_was_fetched_before_it_stale_and_its_bytes_are_released() -> None:
    buf = FetchBuffer()
    st = _state()
    buf.add(st, CompletedFetch(deque(), 5, 100, st.epoch))
    st.seek(2)   # the seek itself touches no buffer
    newer = CompletedFetch(deque(), 7, 30, st.epoch)
    buf.add(st, newer)
    assert buf.peek(st) is newer and buf.buffered_bytes(st) == 30
    st.request_reset(-2)
    assert buf.peek(st) is None and buf.buffered_bytes(st) == 0


def test_release_stale_empties_partitions_revoked_unassigned_or_seeked() -> None:
    subs = SubscriptionState("earliest")
    tps = [TP("t", p) for p in range(4)]
    subs.assign_manually(tps)
    buf = FetchBuffer()
    for st in subs.assignment.values():
        st.seek(0)
        buf.add(st, CompletedFetch(deque(), 5, 100, st.epoch))
    kept, seeked, revoked, unassigned = (subs.assignment[tp] for tp in tps)
    seeked.seek(3)
    revoked.revoking = True
    revoked.fetch_offset = 5
    subs.assign_manually(tps[:3])
    assert subs.assignment[tps[0]] is kept  # what stays keeps its state
    buf.release_stale(subs.assignment)
    assert buf.buffered_bytes(kept) == 100
    assert buf.buffered_bytes(seeked) == 0 and buf.buffered_bytes(revoked) == 0
    assert revoked.fetch_offset == revoked.position == 0, "a revoked partition fetches again from its position"
    assert buf.peek(PartitionState(tps[3])) is None, "nothing of the unassigned partition is held"
    buf.discard([kept])
    assert buf.buffered_bytes(kept) == 0


@pytest.mark.parametrize("check_crcs", [True, False])
def test_the_kept_batches_decode_when_asked(check_crcs: bool) -> None:
    got = read_completed(memoryview(batch(0, [b"a", b"b"])), 0, -1, check_crcs, None)
    assert [r.value for r in got.batches[0].records("t", 0)] == [b"a", b"b"]
