"""SubscriptionState.finished_offsets: what a background rebalance's auto commit may commit is the
position, except in front of what the application was last handed and may still be processing."""
from __future__ import annotations

from kafkaio.consumer.subscription import SubscriptionState
from kafkaio.records import ConsumerRecord
from kafkaio.structs import TopicPartition as TP

P0, P1 = TP("t", 0), TP("t", 1)


def record(tp: TP, offset: int, epoch: int = 4) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"v", [], epoch)


def subs_at(positions: dict[TP, int]) -> SubscriptionState:
    subs = SubscriptionState()
    subs.assign_manually(list(positions))
    for tp, offset in positions.items():
        subs.assignment[tp].seek(offset, 5)
    return subs


def test_nothing_in_progress_is_every_position() -> None:
    subs = subs_at({P0: 10, P1: 20})
    assert subs.finished_offsets() == subs.consumed_offsets() == {P0: (10, 5), P1: (20, 5)}


def test_a_getmany_batch_in_progress_holds_its_partitions_at_their_first_record() -> None:
    subs = subs_at({P0: 10, P1: 20})
    subs.in_progress = {P0: [record(P0, 7), record(P0, 8), record(P0, 9)]}
    assert subs.finished_offsets() == {P0: (7, 4), P1: (20, 5)}
    assert subs.consumed_offsets() == {P0: (10, 5), P1: (20, 5)}   # stop() and commit() still see all


def test_a_single_record_in_progress_holds_only_its_partition() -> None:
    subs = subs_at({P0: 10, P1: 20})
    subs.in_progress = record(P1, 19)
    assert subs.finished_offsets() == {P0: (10, 5), P1: (19, 4)}


def test_a_seek_below_the_record_in_progress_wins() -> None:
    subs = subs_at({P0: 3})
    subs.in_progress = record(P0, 9)
    assert subs.finished_offsets() == {P0: (3, 5)}


def test_a_record_of_a_partition_no_longer_assigned_is_ignored() -> None:
    subs = subs_at({P0: 10})
    subs.in_progress = {P1: [record(P1, 1)], P0: []}
    assert subs.finished_offsets() == {P0: (10, 5)}


def test_records_of_a_partition_that_leaves_the_assignment_no_longer_count() -> None:
    """A batch handed out under an earlier assignment of the partition must not hold back (and so
    rewind) the commits of a later one: the three-broker soak's group seed 901939286 committed 0
    over 8 and 12 that way."""
    subs = subs_at({P0: 8, P1: 12})
    subs.in_progress = {P0: [record(P0, 0)], P1: [record(P1, 0)]}
    subs.set_assignment([P1])            # P0 revoked while its batch is still being processed
    assert list(subs.in_progress) == [P1]
    subs.set_assignment([P0, P1])        # and assigned again: its position comes from the group
    subs.assignment[P0].seek(8, 5)
    assert subs.finished_offsets()[P0] == (8, 5)
    subs.in_progress = record(P1, 0)
    subs.set_assignment([P0])
    assert subs.in_progress is None


def test_a_background_auto_commit_never_commits_below_what_this_member_committed() -> None:
    from kafkaio.config import ConsumerConfig
    from kafkaio.consumer.coordinator import GroupCoordinator

    subs = subs_at({P0: 10, P1: 20})
    coord = GroupCoordinator(cluster=None, config=ConsumerConfig.from_kwargs(group_id="g"), subscriptions=subs,
                             on_revoke_cleanup=lambda tps: None)
    coord._last_committed = {P0: 10}     # e.g. the application committed 10 by hand meanwhile
    subs.in_progress = {P0: [record(P0, 7)], P1: [record(P1, 15)]}
    assert {tp: o.offset for tp, o in coord.consumed_offsets(changed_only=True, finished_only=True).items()} \
        == {P1: 15}
    assert {tp: o.offset for tp, o in coord.consumed_offsets(changed_only=True).items()} == {P1: 20}
