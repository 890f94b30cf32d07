"""KIP-227 fetch sessions, client side: full then incremental requests, forgetting, resets."""
from __future__ import annotations

from kafkaio.consumer.fetch_session import FetchSession, forgotten_body, topics_body
from kafkaio.structs import TopicPartition as TP

A, B, C = TP("t", 0), TP("t", 1), TP("u", 0)


def test_full_then_incremental_lists_only_changes_and_forgets() -> None:
    s = FetchSession()
    send, forget, expected, sid, epoch = s.build([(A, 0, 5, -1, 1, 100), (B, 10, 5, -1, 1, 100)])
    assert (sid, epoch) == (0, 0) and [x[0] for x in send] == [A, B] and forget == []
    s.response(777)
    assert (s.session_id, s.epoch) == (777, 1)
    # A advanced, B unchanged, C new.
    send, forget, expected, sid, epoch = s.build([(A, 50, 5, -1, 1, 100), (B, 10, 5, -1, 1, 100), (C, 0, 0, -1, 1, 100)])
    assert (sid, epoch) == (777, 1)
    assert [x[0] for x in send] == [A, C] and forget == []
    assert expected == {A: (1, 50), B: (1, 10), C: (1, 0)}   # B may still be answered for
    s.response(777)
    assert s.epoch == 2
    # B no longer fetchable (paused / buffer full): forgotten.
    send, forget, expected, _, _ = s.build([(A, 50, 5, -1, 1, 100), (C, 0, 0, -1, 1, 100)])
    assert send == [] and forget == [B] and B not in expected


def test_seek_changes_state_epoch_and_relists_the_partition() -> None:
    s = FetchSession()
    s.build([(A, 5, 0, -1, 1, 100)])
    s.response(9)
    send, _, expected, _, _ = s.build([(A, 5, 0, -1, 2, 100)])
    assert [x[0] for x in send] == [A] and expected[A] == (2, 5)


def test_reset_and_declined_sessions_go_back_to_full_requests() -> None:
    s = FetchSession()
    s.build([(A, 0, 0, -1, 1, 100)])
    s.response(0)                      # broker declined to cache
    send, _, _, sid, epoch = s.build([(A, 3, 0, -1, 1, 100)])
    assert (sid, epoch) == (0, 0) and [x[0] for x in send] == [A]
    s.response(5)
    s.reset()
    send, _, _, sid, epoch = s.build([(A, 3, 0, -1, 1, 100), (B, 0, 0, -1, 1, 100)])
    assert (sid, epoch) == (0, 0) and len(send) == 2


def test_disabled_sessions_are_sessionless_full_fetches() -> None:
    s = FetchSession(enabled=False)
    _, _, _, sid, epoch = s.build([(A, 0, 0, -1, 1, 100)])
    assert (sid, epoch) == (0, -1)
    s.response(0)
    _, _, _, sid, epoch = s.build([(A, 1, 0, -1, 1, 100)])
    assert (sid, epoch) == (0, -1)


def test_bodies() -> None:
    assert topics_body([(A, 7, 3, 2, 100)]) == [{"topic": "t", "partitions": [{
        "partition": 0, "current_leader_epoch": 3, "fetch_offset": 7, "last_fetched_epoch": 2,
        "log_start_offset": -1, "partition_max_bytes": 100}]}]
    assert forgotten_body([A, B, C]) == [{"topic": "t", "partitions": [0, 1]}, {"topic": "u", "partitions": [0]}]


def test_a_changed_last_fetched_epoch_relists_the_partition() -> None:
    s = FetchSession()
    s.build([(A, 5, 3, 2, 1, 100)])
    s.response(9)
    send, _, _, _, _ = s.build([(A, 5, 3, 1, 1, 100)])
    assert send == [(A, 5, 3, 1, 100)]
