"""The share member state machine: Java's transition table, and what heartbeat answers do."""
from __future__ import annotations

import uuid

import pytest

from kafkaio.errors import ErrorCode, GroupAuthorizationError, IllegalStateError, UnknownKafkaError
from kafkaio.share.membership import (
    PREVIOUS,
    HeartbeatOutcome,
    MemberState,
    ShareMembership,
    new_member_id,
)

T1 = uuid.uuid4()


def _ok(epoch: int, parts: list[int] | None = None) -> dict:
    assignment = None if parts is None else {"topic_partitions": [{"topic_id": T1, "partitions": parts}]}
    return {"error_code": 0, "member_epoch": epoch, "heartbeat_interval_ms": 1000, "assignment": assignment}


def _joined() -> ShareMembership:
    m = ShareMembership("g", ("t",))
    m.join()
    assert m.on_response(_ok(1, [0, 1])) is HeartbeatOutcome.OK
    return m


def test_every_state_has_its_previous_states_as_java_declares() -> None:
    assert set(PREVIOUS) == set(MemberState)
    assert PREVIOUS[MemberState.LEAVING] == {MemberState.PREPARE_LEAVING}
    assert PREVIOUS[MemberState.ACKNOWLEDGING] == {MemberState.RECONCILING}
    assert PREVIOUS[MemberState.JOINING] == {MemberState.FENCED, MemberState.UNSUBSCRIBED, MemberState.STALE}


def test_a_transition_outside_the_table_raises() -> None:
    m = ShareMembership("g", ("t",))
    with pytest.raises(IllegalStateError, match="UNSUBSCRIBED -> STABLE"):
        m.transition(MemberState.STABLE)


def test_member_ids_are_22_char_url_safe_base64_and_unique() -> None:
    ids = {new_member_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 22 and "=" not in i for i in ids)


def test_join_sends_subscription_then_assignment_is_acknowledged_then_stable() -> None:
    m = ShareMembership("g", ("b", "a"), rack_id="r1")
    m.join()
    first = m.heartbeat_request()
    assert first == {"group_id": "g", "member_id": m.member_id, "member_epoch": 0, "rack_id": "r1",
                     "subscribed_topic_names": ["a", "b"]}
    assert m.heartbeat_now
    m.on_response(_ok(3, [0, 1]))
    assert m.state is MemberState.ACKNOWLEDGING and m.heartbeat_now
    assert m.assignment.partitions == {(T1, 0), (T1, 1)}
    second = m.heartbeat_request()
    assert second["member_epoch"] == 3 and second["subscribed_topic_names"] is None
    m.on_response(_ok(3))
    assert m.state is MemberState.STABLE and not m.heartbeat_now
    m.on_response(_ok(4, [1]))
    assert m.state is MemberState.ACKNOWLEDGING and m.assignment.partitions == {(T1, 1)}


@pytest.mark.parametrize("code", [ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID])
def test_fencing_drops_the_assignment_and_rejoins_with_epoch_0_under_the_same_id(code: ErrorCode) -> None:
    m = _joined()
    member_id = m.member_id
    assert m.on_response({"error_code": code, "member_epoch": -1}) is HeartbeatOutcome.REJOIN
    assert m.state is MemberState.JOINING and not m.assignment.partitions
    body = m.heartbeat_request()
    assert body["member_epoch"] == 0 and body["member_id"] == member_id and body["subscribed_topic_names"] == ["t"]


def test_coordinator_errors_retry_without_changing_state() -> None:
    m = _joined()
    assert m.on_response({"error_code": ErrorCode.NOT_COORDINATOR}) is HeartbeatOutcome.FIND_COORDINATOR
    assert m.on_response({"error_code": ErrorCode.COORDINATOR_LOAD_IN_PROGRESS}) is HeartbeatOutcome.RETRY
    assert m.state is MemberState.ACKNOWLEDGING and m.assignment.partitions


def test_other_errors_are_fatal_and_kept() -> None:
    m = _joined()
    outcome = m.on_response({"error_code": ErrorCode.GROUP_AUTHORIZATION_FAILED, "error_message": "no"})
    assert outcome is HeartbeatOutcome.FATAL and m.state is MemberState.FATAL
    assert isinstance(m.fatal_error, GroupAuthorizationError)


def test_leave_sends_epoch_minus_1_and_ends_unsubscribed() -> None:
    m = _joined()
    assert m.leave()
    assert m.state is MemberState.LEAVING and not m.assignment.partitions
    assert m.heartbeat_request()["member_epoch"] == -1
    m.on_response({"error_code": 0, "member_epoch": -1})
    assert m.state is MemberState.UNSUBSCRIBED


def test_leave_before_joining_sends_nothing() -> None:
    assert not ShareMembership("g", ("t",)).leave()


def test_an_error_code_newer_than_kafkaio_is_a_fatal_error_not_a_crash() -> None:
    m = _joined()
    outcome = m.on_response({"error_code": 32000, "error_message": "from a newer broker", "member_epoch": -1,
                             "heartbeat_interval_ms": 0, "assignment": None})
    assert outcome is HeartbeatOutcome.FATAL and m.state is MemberState.FATAL
    assert isinstance(m.fatal_error, UnknownKafkaError) and m.fatal_error.errno == 32000
    assert "from a newer broker" in str(m.fatal_error)
