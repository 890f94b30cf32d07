"""The fetcher's routing and draining, on record batches built here (no broker): positions,
round-robin, max_records, skipping records before the position, aborted transactions, control
markers, stale responses after a seek, corrupt data."""
from __future__ import annotations

import struct
from types import SimpleNamespace

import crc32c
import pytest

from fetch_helpers import FetchPath, batch
from kafkaio.consumer.subscription import SubscriptionState
from kafkaio.errors import CorruptRecordError
from kafkaio.structs import TopicPartition as TP

TOPIC = "t"


def make(isolation: str = "read_uncommitted", partitions: int = 2) -> tuple[FetchPath, SubscriptionState]:
    subs = SubscriptionState("earliest")
    subs.assign_manually([TP(TOPIC, p) for p in range(partitions)])
    for st in subs.assignment.values():
        st.seek(0)
    return FetchPath(subs, isolation_level=isolation), subs


def respond(fetcher: FetchPath, subs: SubscriptionState, p: int, records: bytes, aborted=None, hw: int = 100) -> None:
    fetcher._apply(subs.assignment[TP(TOPIC, p)], {
        "error_code": 0, "high_watermark": hw, "last_stable_offset": hw, "log_start_offset": 0,
        "aborted_transactions": aborted, "records": memoryview(records)})


def values(out) -> dict[int, list[bytes]]:
    return {tp.partition: [r.value for r in recs] for tp, recs in out.items()}


def test_drain_round_robin_max_records_and_positions() -> None:
    f, subs = make()
    respond(f, subs, 0, batch(0, [b"a0", b"a1", b"a2"]) + batch(3, [b"a3"]))
    respond(f, subs, 1, batch(0, [b"b0", b"b1"]))
    out: dict = {}
    assert f.drain(4, out) == 4
    assert values(out) == {0: [b"a0", b"a1", b"a2"], 1: [b"b0"]} or sum(map(len, out.values())) == 4
    rest: dict = {}
    f.drain(100, rest)
    everything = {p: values(out).get(p, []) + values(rest).get(p, []) for p in (0, 1)}
    assert everything == {0: [b"a0", b"a1", b"a2", b"a3"], 1: [b"b0", b"b1"]}
    assert subs.assignment[TP(TOPIC, 0)].position == 4
    assert subs.assignment[TP(TOPIC, 1)].position == 2
    assert subs.assignment[TP(TOPIC, 0)].highwater == 100


def test_records_before_the_position_are_skipped() -> None:
    f, subs = make(partitions=1)
    st = subs.assignment[TP(TOPIC, 0)]
    st.seek(2)   # a compressed batch fetched from offset 2 starts at 0
    respond(f, subs, 0, batch(0, [b"0", b"1", b"2", b"3"]))
    out: dict = {}
    f.drain(10, out)
    assert [r.offset for r in out[TP(TOPIC, 0)]] == [2, 3]
    assert st.position == 4 and st.fetch_offset == 4


def test_next_record_matches_drain_order_and_moves_position_per_record() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1"]) + batch(2, [b"2"]))
    st = subs.assignment[TP(TOPIC, 0)]
    seen = []
    while (r := f.next_record()) is not None:
        seen.append(r.offset)
        assert st.position == r.offset + 1
    assert seen == [0, 1, 2]


def test_response_for_an_old_position_is_dropped_after_seek() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1"]))
    subs.assignment[TP(TOPIC, 0)].seek(10)
    out: dict = {}
    assert f.drain(10, out) == 0 and out == {}
    assert f.next_record() is None


def test_read_committed_skips_aborted_batches_and_markers() -> None:
    f, subs = make("read_committed", partitions=1)
    data = (batch(0, [b"c0", b"c1"], pid=7, transactional=True)
            + batch(2, [], pid=7, control=1)                       # COMMIT marker
            + batch(3, [b"x0", b"x1"], pid=8, transactional=True)  # aborted
            + batch(5, [b"n0"])                                    # plain
            + batch(6, [], pid=8, control=0)                       # ABORT marker
            + batch(7, [b"c2"], pid=7, transactional=True)
            + batch(8, [], pid=7, control=1))
    respond(f, subs, 0, data, aborted=[{"producer_id": 8, "first_offset": 3}])
    out: dict = {}
    f.drain(100, out)
    assert values(out) == {0: [b"c0", b"c1", b"n0", b"c2"]}
    st = subs.assignment[TP(TOPIC, 0)]
    assert f.drain(100, {}) == 0
    assert st.position == 9, "the position moves past the trailing marker"


def test_read_uncommitted_shows_aborted_records_but_never_markers() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"x0"], pid=8, transactional=True) + batch(1, [], pid=8, control=0),
            aborted=[{"producer_id": 8, "first_offset": 0}])
    out: dict = {}
    f.drain(100, out)
    assert values(out) == {0: [b"x0"]}


def test_corrupt_batch_is_raised_to_the_application() -> None:
    f, subs = make(partitions=1)
    data = bytearray(batch(0, [b"hello"]))
    data[-1] ^= 0xFF
    respond(f, subs, 0, bytes(data))
    with pytest.raises(CorruptRecordError):
        f.drain(10, {})


def test_pause_drops_prefetched_data_and_rewinds_fetching_to_the_position() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1", b"2"]))
    st = subs.assignment[TP(TOPIC, 0)]
    assert f.next_record().offset == 0
    st.paused = True
    f.discard({st.tp})
    assert st.fetch_offset == st.position == 1
    assert f.drain(10, {}) == 0


# -- fetching from a preferred read replica (KIP-392): which broker each partition is read from --

def make_routed(brokers=(1, 2, 3), leader: int = 1) -> tuple[FetchPath, SubscriptionState, SimpleNamespace]:
    f, subs = make(partitions=1)
    meta = SimpleNamespace(broker=lambda node: object() if node in cluster.brokers else None)
    cluster = SimpleNamespace(brokers=set(brokers), metadata=meta, leader_for=lambda t, p: leader,
                              request_refresh=lambda: None)
    f.fetcher._cluster = cluster
    f._config.metadata_max_age_ms = 300000
    f._config.client_rack = "rack-b"
    f._subs.default_reset = -2
    return f, subs, cluster


def redirect(f: FetchPath, subs: SubscriptionState, replica: int) -> bool:
    return f._apply(subs.assignment[TP(TOPIC, 0)], {
        "error_code": 0, "high_watermark": 10, "last_stable_offset": 10, "log_start_offset": 0,
        "aborted_transactions": None, "records": None, "preferred_read_replica": replica})


def test_the_leader_names_a_replica_and_the_next_fetch_goes_there() -> None:
    f, subs, _ = make_routed()
    assert f._fetchable_by_node() == {1: [subs.assignment[TP(TOPIC, 0)]]}
    assert redirect(f, subs, 2) is False  # no records with a redirect
    assert list(f._fetchable_by_node()) == [2]
    redirect(f, subs, -1)  # the replica's own answers name none: the choice stays
    assert list(f._fetchable_by_node()) == [2]


def test_the_replica_is_used_until_metadata_max_age_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    import kafkaio.consumer.fetcher as fetcher_module

    f, subs, _ = make_routed()
    clock = [1000.0]
    monkeypatch.setattr(fetcher_module.time, "monotonic", lambda: clock[0])
    redirect(f, subs, 3)
    clock[0] += 299.9
    assert list(f._fetchable_by_node()) == [3]
    clock[0] += 0.2
    assert list(f._fetchable_by_node()) == [1]
    assert subs.assignment[TP(TOPIC, 0)].preferred_replica is None


def test_a_replica_that_left_the_metadata_is_not_used() -> None:
    f, subs, cluster = make_routed()
    redirect(f, subs, 3)
    cluster.brokers.discard(3)
    assert list(f._fetchable_by_node()) == [1]


def test_a_failed_fetch_from_the_replica_goes_back_to_the_leader() -> None:
    f, subs, _ = make_routed()
    st = subs.assignment[TP(TOPIC, 0)]
    redirect(f, subs, 2)
    f._forget_replica(1, [st])  # a failure at another broker changes nothing
    assert list(f._fetchable_by_node()) == [2]
    f._forget_replica(2, [st])
    assert list(f._fetchable_by_node()) == [1]


def test_offset_out_of_range_at_a_replica_is_retried_at_the_leader_not_reset() -> None:
    f, subs, _ = make_routed()
    st = subs.assignment[TP(TOPIC, 0)]
    st.seek(5)
    redirect(f, subs, 2)
    f._partition_error(st, 1)  # OFFSET_OUT_OF_RANGE from the replica
    assert st.position == 5 and st.reset_to is None and st.error is None
    assert list(f._fetchable_by_node()) == [1]
    f._partition_error(st, 1)  # from the leader: the usual reset, when the application gets there
    assert st.reset_to is None and f.drain(10, {}) == 0
    assert st.reset_to == -2


def test_any_other_error_at_a_replica_goes_back_to_the_leader() -> None:
    f, subs, _ = make_routed()
    st = subs.assignment[TP(TOPIC, 0)]
    redirect(f, subs, 2)
    f._partition_error(st, 6)  # NOT_LEADER_OR_FOLLOWER
    assert list(f._fetchable_by_node()) == [1]


def test_corrupt_batch_after_good_ones_is_raised_once_they_are_handed_out() -> None:
    f, subs = make(partitions=1)
    bad = bytearray(batch(2, [b"2"]))
    bad[-1] ^= 0xFF
    respond(f, subs, 0, batch(0, [b"0", b"1"]) + bytes(bad))
    st = subs.assignment[TP(TOPIC, 0)]
    assert st.fetch_offset is None, "nothing more is fetched until the application gets there"
    out: dict = {}
    assert f.drain(10, out) == 2 and values(out) == {0: [b"0", b"1"]}
    with pytest.raises(CorruptRecordError, match="offset 2"):
        f.drain(10, {})
    assert st.position == st.fetch_offset == 2


def test_an_error_behind_buffered_records_is_ignored_after_a_seek() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1"]))
    st = subs.assignment[TP(TOPIC, 0)]
    f._partition_error(st, 1)  # OFFSET_OUT_OF_RANGE at 2, behind the buffered records
    st.seek(0)
    assert st.fetch_offset == 0 and st.reset_to is None and f.drain(10, {}) == 0
    assert st.reset_to is None


# -- KIP-320: the leader's log diverges from what was fetched ---------------------------------------

def diverge(f: FetchPath, subs: SubscriptionState, epoch: int, end_offset: int) -> bool:
    return f._apply(subs.assignment[TP(TOPIC, 0)], {
        "error_code": 0, "high_watermark": 10, "last_stable_offset": 10, "log_start_offset": 0,
        "aborted_transactions": None, "records": None, "preferred_read_replica": -1,
        "diverging_epoch": {"epoch": epoch, "end_offset": end_offset}})


def test_fetches_name_the_epoch_of_the_last_fetched_batch() -> None:
    f, subs = make(partitions=1)
    st = subs.assignment[TP(TOPIC, 0)]
    assert st.fetch_epoch == -1
    data = bytearray(batch(0, [b"0", b"1"]))
    struct.pack_into(">i", data, 12, 4)   # partitionLeaderEpoch
    struct.pack_into(">I", data, 17, crc32c.crc32c(bytes(data[21:])))
    respond(f, subs, 0, bytes(data))
    assert (st.fetch_offset, st.fetch_epoch) == (2, 4)
    st.seek(7, 3)
    assert st.fetch_epoch == 3


def test_divergence_past_the_position_refetches_from_the_position() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1", b"2"]))
    st = subs.assignment[TP(TOPIC, 0)]
    assert f.next_record().offset == 0
    diverge(f, subs, 2, 2)   # records from 2 on were truncated; the position (1) is before that
    assert (st.position, st.fetch_offset, st.fetch_epoch) == (1, 1, 2) and f.buffer.peek(st) is None
    assert st.reset_to is None and st.error is None


def test_divergence_below_the_position_goes_back_to_it_with_a_reset_policy() -> None:
    f, subs = make(partitions=1)
    st = subs.assignment[TP(TOPIC, 0)]
    st.seek(15, 1)
    diverge(f, subs, 0, 10)
    assert (st.position, st.position_epoch, st.fetch_offset, st.fetch_epoch) == (10, 0, 10, 0)


def test_divergence_below_the_position_with_reset_none_raises_log_truncation() -> None:
    from kafkaio.errors import LogTruncationError
    from kafkaio.structs import OffsetAndMetadata

    f, subs = make(partitions=1)
    subs.default_reset = None
    st = subs.assignment[TP(TOPIC, 0)]
    st.seek(15, 1)
    diverge(f, subs, 0, 10)
    with pytest.raises(LogTruncationError) as info:
        f.drain(10, {})
    assert (info.value.offset, info.value.divergent_offset) == (15, OffsetAndMetadata(10, "", 0))
    assert st.position == st.fetch_offset == 15


def test_divergence_reported_by_a_replica_is_asked_of_the_leader() -> None:
    f, subs, _ = make_routed()
    st = subs.assignment[TP(TOPIC, 0)]
    st.seek(15, 1)
    redirect(f, subs, 2)
    diverge(f, subs, 0, 10)
    assert st.position == 15 and list(f._fetchable_by_node()) == [1]


async def test_an_unexpected_error_of_a_fetch_is_raised_by_the_next_read_of_its_partitions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # fail(tp, exc): the error reaches the application through the partitions it fetched, before
    # anything they still buffer, and only once; the partitions are fetched again afterwards
    f, subs = make()
    respond(f, subs, 1, batch(0, [b"kept"]))
    bug = RuntimeError("a bug handling the response")

    async def broken(node: int, states: list) -> None:
        raise bug

    monkeypatch.setattr(f.fetcher, "_fetch_once", broken)
    await f.fetcher._fetch_from(1, [subs.assignment[TP(TOPIC, 0)]])
    out: dict = {}
    assert f.drain(10, out) == 1 and values(out) == {1: [b"kept"]}  # the partition that did not fail
    with pytest.raises(RuntimeError, match="a bug"):
        f.drain(10, out)
    assert f.drain(10, {}) == 0
    assert subs.assignment[TP(TOPIC, 0)].fetchable


# -- a completed fetch belongs to the position it was fetched for ---------------------------------

@pytest.mark.parametrize("reader", ["next_record", "drain"])
def test_a_chunk_fetched_before_a_seek_is_never_handed_out_after_it(reader: str) -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1", b"2", b"3"]))
    st = subs.assignment[TP(TOPIC, 0)]
    assert f.next_record().offset == 0   # the chunk is now the collector's current one
    st.seek(2)                           # inside what was fetched: its records look plausible
    if reader == "next_record":
        assert f.next_record() is None
    else:
        assert f.drain(10, {}) == 0
    assert st.position == 2 and st.fetch_offset == 2
    respond(f, subs, 0, batch(2, [b"2'", b"3'"]))   # fetched again, from the new position
    out: dict = {}
    f.drain(10, out)
    assert values(out) == {0: [b"2'", b"3'"]} and st.position == 4


def test_a_chunk_kept_while_paused_is_dropped_by_a_seek_before_resume() -> None:
    f, subs = make(partitions=1)
    respond(f, subs, 0, batch(0, [b"0", b"1", b"2"]))
    st = subs.assignment[TP(TOPIC, 0)]
    st.paused = True
    assert f.drain(10, {}) == 0          # kept for resume()
    st.seek(1)
    st.paused = False
    f.resume({st.tp})
    assert f.drain(10, {}) == 0 and f.next_record() is None
    assert st.position == 1


def test_a_chunk_of_an_earlier_assignment_is_never_handed_out_after_reassignment() -> None:
    # The partition leaves the assignment with data prefetched while paused, comes back, and is
    # positioned where it was: the old data is not this assignment's, whatever its offsets.
    f, subs = make(partitions=1)
    tp = TP(TOPIC, 0)
    respond(f, subs, 0, batch(0, [b"old0", b"old1"]))
    subs.assignment[tp].paused = True
    assert f.drain(10, {}) == 0
    subs.assign_manually([])
    subs.assign_manually([tp])
    st = subs.assignment[tp]
    st.seek(0)
    f.resume({tp})
    assert f.drain(10, {}) == 0 and f.next_record() is None
    respond(f, subs, 0, batch(0, [b"new0"]))
    out: dict = {}
    f.drain(10, out)
    assert values(out) == {0: [b"new0"]}


def test_an_error_for_an_earlier_state_of_a_partition_leaves_the_current_states_data() -> None:
    # A lookup started for the partition's earlier assignment fails after it was assigned again
    # and fetched: failing that old state must not drop what the new one fetched (its fetch
    # offset is already past it, so those records would be skipped).
    f, subs = make(partitions=1)
    tp = TP(TOPIC, 0)
    old = subs.assignment[tp]
    subs.assign_manually([])
    subs.assign_manually([tp])
    st = subs.assignment[tp]
    st.seek(0)
    respond(f, subs, 0, batch(0, [b"0", b"1", b"2"]))
    f.fetcher.fail(old, CorruptRecordError("failed for the earlier assignment"))
    out: dict = {}
    assert f.drain(10, out) == 3 and values(out) == {0: [b"0", b"1", b"2"]}
    assert st.position == 3 and st.fetch_offset == 3


@pytest.mark.parametrize("then", ["revoked", "reassigned"])
def test_an_error_of_a_partition_no_longer_assigned_is_not_raised(then: str) -> None:
    """As Java's collector: an error queued for a partition the member no longer holds (revoked, or
    revoked and assigned again, a new state) belongs to that past assignment and is dropped; the
    other partitions' records are handed out."""
    from kafkaio.errors import NoOffsetForPartitionError
    f, subs = make(partitions=2)
    f.buffer.fail(subs.assignment[TP(TOPIC, 0)], NoOffsetForPartitionError("no committed offset for t-0"))
    respond(f, subs, 1, batch(0, [b"a", b"b"]))
    subs.remove_partitions([TP(TOPIC, 0)])
    if then == "reassigned":
        subs.set_assignment([TP(TOPIC, 0), TP(TOPIC, 1)])
    out: dict = {}
    assert f.drain(10, out) == 2
    assert values(out) == {1: [b"a", b"b"]}
    assert f.drain(10, {}) == 0
