"""KIP-227 fetch sessions, client side: full then incremental requests, forgetting, resets, and
topics named by id (KIP-516) or by name."""
from __future__ import annotations

import uuid

from kafkaio.consumer.fetch_session import FetchSession, forgotten_body, topics_body
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.structs import TopicPartition as TP

A, B, C = TP("t", 0), TP("t", 1), TP("u", 0)
T_ID, U_ID, T_ID2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ID = {"t": T_ID, "u": U_ID}


def w(tp: TP, off: int, le: int, lfe: int, se: int, mb: int, tid: uuid.UUID | None = None
      ) -> tuple[TP, uuid.UUID, int, int, int, int, int]:
    return (tp, ID[tp.topic] if tid is None else tid, off, le, lfe, se, mb)


def test_full_then_incremental_lists_only_changes_and_forgets() -> None:
    s = FetchSession()
    plan = s.build([w(A, 0, 5, -1, 1, 100), w(B, 10, 5, -1, 1, 100)], ids_allowed=False)
    assert (plan.session_id, plan.session_epoch) == (0, 0)
    assert [x[0] for x in plan.send] == [A, B] and plan.forget == []
    s.response(777)
    assert (s.session_id, s.epoch) == (777, 1)
    # A advanced, B unchanged, C new.
    plan = s.build([w(A, 50, 5, -1, 1, 100), w(B, 10, 5, -1, 1, 100), w(C, 0, 0, -1, 1, 100)], False)
    assert (plan.session_id, plan.session_epoch) == (777, 1)
    assert [x[0] for x in plan.send] == [A, C] and plan.forget == []
    assert plan.expected == {A: (1, 50), B: (1, 10), C: (1, 0)}   # B may still be answered for
    s.response(777)
    assert s.epoch == 2
    # B no longer fetchable (paused / buffer full): forgotten.
    plan = s.build([w(A, 50, 5, -1, 1, 100), w(C, 0, 0, -1, 1, 100)], False)
    assert plan.send == [] and plan.forget == [(B, T_ID)] and B not in plan.expected


def test_seek_changes_state_epoch_and_relists_the_partition() -> None:
    s = FetchSession()
    s.build([w(A, 5, 0, -1, 1, 100)], False)
    s.response(9)
    plan = s.build([w(A, 5, 0, -1, 2, 100)], False)
    assert [x[0] for x in plan.send] == [A] and plan.expected[A] == (2, 5)


def test_reset_and_declined_sessions_go_back_to_full_requests() -> None:
    s = FetchSession()
    s.build([w(A, 0, 0, -1, 1, 100)], False)
    s.response(0)                      # broker declined to cache
    plan = s.build([w(A, 3, 0, -1, 1, 100)], False)
    assert (plan.session_id, plan.session_epoch) == (0, 0) and [x[0] for x in plan.send] == [A]
    s.response(5)
    s.reset()
    plan = s.build([w(A, 3, 0, -1, 1, 100), w(B, 0, 0, -1, 1, 100)], False)
    # a full request naming the old session closes it on the broker and opens a new one
    assert (plan.session_id, plan.session_epoch) == (5, 0) and len(plan.send) == 2
    s.response(6)
    assert (s.session_id, s.epoch) == (6, 1)
    s.reset()
    s.reset()
    assert s.build([w(A, 3, 0, -1, 1, 100)], False).session_id == 6


def test_disabled_sessions_are_sessionless_full_fetches() -> None:
    s = FetchSession(enabled=False)
    plan = s.build([w(A, 0, 0, -1, 1, 100)], False)
    assert (plan.session_id, plan.session_epoch) == (0, -1)
    s.response(0)
    plan = s.build([w(A, 1, 0, -1, 1, 100)], False)
    assert (plan.session_id, plan.session_epoch) == (0, -1)


def test_bodies_carry_name_and_id() -> None:
    assert topics_body([(A, T_ID, 7, 3, 2, 100)]) == [{"topic": "t", "topic_id": T_ID, "partitions": [{
        "partition": 0, "current_leader_epoch": 3, "fetch_offset": 7, "last_fetched_epoch": 2,
        "log_start_offset": -1, "partition_max_bytes": 100}]}]
    assert forgotten_body([(A, T_ID), (B, T_ID), (C, U_ID)]) == [
        {"topic": "t", "topic_id": T_ID, "partitions": [0, 1]},
        {"topic": "u", "topic_id": U_ID, "partitions": [0]}]
    # the same name under two ids (a topic created again) is two entries
    assert [t["topic_id"] for t in forgotten_body([(A, T_ID), (B, T_ID2)])] == [T_ID, T_ID2]


def test_a_changed_last_fetched_epoch_relists_the_partition() -> None:
    s = FetchSession()
    s.build([w(A, 5, 3, 2, 1, 100)], False)
    s.response(9)
    plan = s.build([w(A, 5, 3, 1, 1, 100)], False)
    assert plan.send == [(A, T_ID, 5, 3, 1, 100)]


def test_topic_ids_used_only_when_offered_and_every_id_is_known() -> None:
    plan = FetchSession().build([w(A, 0, 0, -1, 1, 100), w(C, 0, 0, -1, 1, 100)], ids_allowed=True)
    assert plan.use_topic_ids and plan.topic_names == {T_ID: "t", U_ID: "u"}
    plan = FetchSession().build([w(A, 0, 0, -1, 1, 100), w(C, 0, 0, -1, 1, 100, ZERO_UUID)], True)
    assert not plan.use_topic_ids and plan.topic_names == {}
    plan = FetchSession().build([w(A, 0, 0, -1, 1, 100)], ids_allowed=False)
    assert not plan.use_topic_ids


def test_switching_between_ids_and_names_opens_a_new_session() -> None:
    s = FetchSession()
    s.build([w(A, 0, 0, -1, 1, 100)], True)
    s.response(42)
    # C's id is not known yet: names for everyone, which the session by id cannot take
    plan = s.build([w(A, 0, 0, -1, 1, 100), w(C, 0, 0, -1, 1, 100, ZERO_UUID)], True)
    assert not plan.use_topic_ids
    assert (plan.session_id, plan.session_epoch) == (42, 0) and len(plan.send) == 2
    s.response(43)
    # every id known again: back to ids, again in a new session
    plan = s.build([w(A, 0, 0, -1, 1, 100), w(C, 0, 0, -1, 1, 100)], True)
    assert plan.use_topic_ids and (plan.session_id, plan.session_epoch) == (43, 0)
    s.response(44)
    plan = s.build([w(A, 1, 0, -1, 1, 100), w(C, 0, 0, -1, 1, 100)], True)
    assert plan.use_topic_ids and (plan.session_id, plan.session_epoch) == (44, 1)
    assert [x[0] for x in plan.send] == [A]


def test_a_topic_created_again_is_forgotten_by_its_old_id_and_sent_by_its_new_one() -> None:
    s = FetchSession()
    s.build([w(A, 9, 0, -1, 1, 100), w(B, 9, 0, -1, 1, 100)], True)
    s.response(7)
    plan = s.build([w(A, 9, 0, -1, 1, 100, T_ID2), w(B, 9, 0, -1, 1, 100, T_ID2)], True)
    assert plan.use_topic_ids and (plan.session_id, plan.session_epoch) == (7, 1)
    assert plan.send == [(A, T_ID2, 9, 0, -1, 100), (B, T_ID2, 9, 0, -1, 100)]
    assert plan.forget == [(A, T_ID), (B, T_ID)]
    assert plan.topic_names == {T_ID2: "t"}
    # by name (a broker without Fetch v13), the partition is only listed again, never forgotten
    s = FetchSession()
    s.build([w(A, 9, 0, -1, 1, 100)], False)
    s.response(7)
    plan = s.build([w(A, 9, 0, -1, 1, 100, T_ID2)], False)
    assert plan.send == [(A, T_ID2, 9, 0, -1, 100)] and plan.forget == []
