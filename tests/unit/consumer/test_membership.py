"""The consumer-protocol member (KIP-848) without I/O: Java's state table, the heartbeat's fields
(full on join and after errors, only what changed otherwise), answers, and reconciliation plans."""
from __future__ import annotations

import base64
import itertools
import uuid

import pytest

from kafkaio.consumer.membership import (
    LEAVE_EPOCH,
    STATIC_LEAVE_EPOCH,
    TRANSITIONS,
    HeartbeatOutcome,
    Membership,
    MemberState,
    new_member_id,
    plan_reconciliation,
)
from kafkaio.errors import ErrorCode, IllegalStateError
from kafkaio.structs import GroupMembershipOperation

S = MemberState
# Java's MemberState.previousValidStates, written out as Java has it (new state: its predecessors)
JAVA_PREVIOUS = {
    S.STABLE: {S.JOINING, S.ACKNOWLEDGING, S.RECONCILING},
    S.RECONCILING: {S.STABLE, S.JOINING, S.ACKNOWLEDGING, S.RECONCILING},
    S.ACKNOWLEDGING: {S.RECONCILING},
    S.FATAL: {S.JOINING, S.STABLE, S.RECONCILING, S.ACKNOWLEDGING, S.PREPARE_LEAVING, S.LEAVING, S.UNSUBSCRIBED},
    S.FENCED: {S.JOINING, S.STABLE, S.RECONCILING, S.ACKNOWLEDGING, S.PREPARE_LEAVING, S.LEAVING},
    S.JOINING: {S.FENCED, S.UNSUBSCRIBED, S.STALE},
    S.PREPARE_LEAVING: {S.JOINING, S.STABLE, S.RECONCILING, S.ACKNOWLEDGING, S.UNSUBSCRIBED},
    S.LEAVING: {S.PREPARE_LEAVING},
    S.UNSUBSCRIBED: {S.PREPARE_LEAVING, S.LEAVING, S.FENCED},
    S.STALE: {S.LEAVING},
}
T1, T2 = uuid.UUID(int=1), uuid.UUID(int=2)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(MemberState, MemberState)))
def test_every_transition_is_allowed_exactly_when_java_allows_it(old: MemberState, new: MemberState) -> None:
    m = Membership("g", state=old)
    if old in JAVA_PREVIOUS[new]:
        m.transition(new)
        assert m.state is new
    else:
        with pytest.raises(IllegalStateError, match=f"{old.value} -> {new.value}"):
            m.transition(new)
        assert m.state is old
    assert (new in TRANSITIONS[old]) == (old in JAVA_PREVIOUS[new])


def test_member_id_is_a_kafka_uuid_string_generated_by_the_client() -> None:
    ids = {new_member_id() for _ in range(200)}
    assert len(ids) == 200
    for text in ids:
        assert len(text) == 22 and not text.startswith("-")
        assert len(base64.urlsafe_b64decode(text + "==")) == 16
    assert Membership("g").member_id != Membership("g").member_id


def joined(**kw) -> Membership:
    m = Membership("g", rebalance_timeout_ms=1000, **kw)
    m.join()
    return m


def ok(epoch: int, assignment: dict[uuid.UUID, list[int]] | None = None, interval: int = 500) -> dict:
    return {"error_code": 0, "member_id": None, "member_epoch": epoch, "heartbeat_interval_ms": interval,
            "assignment": None if assignment is None else {
                "topic_partitions": [{"topic_id": t, "partitions": p} for t, p in assignment.items()]}}


def error(code: ErrorCode) -> dict:
    return {"error_code": code, "member_epoch": -1, "heartbeat_interval_ms": 0, "assignment": None}


def test_join_sends_every_field_with_epoch_zero_then_only_what_changed() -> None:
    m = joined(instance_id="i-1", rack_id="r1", server_assignor="uniform")
    assert m.send_now
    first = m.heartbeat(("b", "a"))
    assert first == {"group_id": "g", "member_id": m.member_id, "member_epoch": 0, "instance_id": "i-1",
                     "rack_id": "r1", "rebalance_timeout_ms": 1000, "subscribed_topic_names": ["a", "b"],
                     "server_assignor": "uniform", "topic_partitions": []}
    assert not m.send_now
    assert m.on_response(ok(3, {T1: [0, 1]})) is HeartbeatOutcome.RECONCILE
    assert m.state is S.RECONCILING and m.member_epoch == 3 and m.heartbeat_interval_ms == 500
    # nothing changed: the minimal heartbeat
    assert m.heartbeat(("a", "b")) == {"group_id": "g", "member_id": m.member_id, "member_epoch": 3,
                                      "instance_id": "i-1"}
    m.reconciled({T1: frozenset({0, 1})})
    assert m.state is S.ACKNOWLEDGING and m.send_now
    ack = m.heartbeat(("a", "b", "c"))
    assert ack["topic_partitions"] == [{"topic_id": T1, "partitions": [0, 1]}]
    assert ack["subscribed_topic_names"] == ["a", "b", "c"]
    assert "rebalance_timeout_ms" not in ack and "server_assignor" not in ack and "rack_id" not in ack
    assert m.state is S.STABLE


def test_an_error_makes_the_next_heartbeat_full() -> None:
    m = joined()
    m.heartbeat(("a",))
    m.on_response(ok(1, {}))
    m.reconciled({})
    m.heartbeat(("a",))
    assert m.state is S.STABLE
    assert m.on_response(error(ErrorCode.COORDINATOR_NOT_AVAILABLE)) is HeartbeatOutcome.COORDINATOR_MOVED
    body = m.heartbeat(("a",))
    assert body["subscribed_topic_names"] == ["a"] and body["rebalance_timeout_ms"] == 1000
    assert body["topic_partitions"] == []
    m.heartbeat_failed()   # no answer at all: the same
    assert "subscribed_topic_names" in m.heartbeat(("a",))


def test_ack_with_a_newer_target_goes_back_to_reconciling() -> None:
    m = joined()
    m.heartbeat(("a",))
    m.on_response(ok(1, {T1: [0, 1, 2]}))
    m.on_response(ok(2, {T1: [0, 1]}))          # a newer target while reconciling
    m.reconciled({T1: frozenset({0, 1, 2})})    # what the first step applied
    m.heartbeat(("a",))
    assert m.state is S.RECONCILING


@pytest.mark.parametrize("code", [ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID])
@pytest.mark.parametrize("state", [S.JOINING, S.RECONCILING, S.ACKNOWLEDGING, S.STABLE])
def test_fenced_drops_epoch_and_assignment_and_rejoins_with_a_full_heartbeat(code: ErrorCode, state: MemberState) -> None:
    m = Membership("g", state=state, member_epoch=5, owned={T1: frozenset({0})}, target={T1: frozenset({0})})
    member_id = m.member_id
    assert m.on_response(error(code)) is HeartbeatOutcome.FENCED
    assert m.state is S.FENCED and m.member_epoch == 0 and m.owned == {} and m.target is None
    m.join()
    body = m.heartbeat(("a",))
    assert body["member_epoch"] == 0 and body["member_id"] == member_id   # KIP-1082: the same id
    assert body["topic_partitions"] == [] and body["subscribed_topic_names"] == ["a"]


@pytest.mark.parametrize("state", [S.PREPARE_LEAVING, S.LEAVING])
def test_fenced_while_leaving_completes_the_leave(state: MemberState) -> None:
    m = Membership("g", state=state, member_epoch=5)
    assert m.on_response(error(ErrorCode.FENCED_MEMBER_EPOCH)) is HeartbeatOutcome.FENCED
    assert m.state is S.UNSUBSCRIBED


@pytest.mark.parametrize("state", [S.UNSUBSCRIBED, S.FENCED, S.STALE, S.FATAL])
def test_answers_are_ignored_when_not_in_the_group(state: MemberState) -> None:
    m = Membership("g", state=state)
    assert m.on_response(ok(4, {T1: [0]})) is HeartbeatOutcome.IGNORED
    assert m.on_response(error(ErrorCode.FENCED_MEMBER_EPOCH)) is HeartbeatOutcome.IGNORED
    assert m.state is state and m.target is None


def test_assignment_is_ignored_while_preparing_to_leave() -> None:
    m = Membership("g", state=S.PREPARE_LEAVING, member_epoch=5)
    assert m.on_response(ok(6, {T1: [0]})) is HeartbeatOutcome.OK
    assert m.state is S.PREPARE_LEAVING and m.target is None and m.member_epoch == 6


@pytest.mark.parametrize(("code", "outcome"), [
    (ErrorCode.NOT_COORDINATOR, HeartbeatOutcome.COORDINATOR_MOVED),
    (ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, HeartbeatOutcome.RETRY),
    (ErrorCode.TOPIC_AUTHORIZATION_FAILED, HeartbeatOutcome.REPORT),
    (ErrorCode.GROUP_AUTHORIZATION_FAILED, HeartbeatOutcome.FATAL),
    (ErrorCode.UNRELEASED_INSTANCE_ID, HeartbeatOutcome.FATAL),
    (ErrorCode.UNSUPPORTED_ASSIGNOR, HeartbeatOutcome.FATAL),
    (ErrorCode.GROUP_MAX_SIZE_REACHED, HeartbeatOutcome.FATAL),
    (ErrorCode.INVALID_REQUEST, HeartbeatOutcome.FATAL),
])
def test_heartbeat_errors_as_java_handles_them(code: ErrorCode, outcome: HeartbeatOutcome) -> None:
    m = Membership("g", state=S.STABLE, member_epoch=5)
    assert m.on_response(error(code)) is outcome
    assert m.state is (S.FATAL if outcome is HeartbeatOutcome.FATAL else S.STABLE)


@pytest.mark.parametrize(("instance", "epoch"), [(None, LEAVE_EPOCH), ("i-1", STATIC_LEAVE_EPOCH)])
@pytest.mark.parametrize("poll_timeout", [False, True])
def test_leave_heartbeat(instance: str | None, epoch: int, poll_timeout: bool) -> None:
    m = Membership("g", instance_id=instance, state=S.STABLE, member_epoch=7, owned={T1: frozenset({1})})
    assert m.prepare_leaving(for_poll_timeout=poll_timeout)
    m.leaving()
    assert m.send_now
    body = m.heartbeat(("a",))
    assert body == {"group_id": "g", "member_id": m.member_id, "member_epoch": epoch, "instance_id": instance}
    assert m.state is (S.STALE if poll_timeout else S.UNSUBSCRIBED)
    assert m.owned == {} and m.member_epoch == 0


@pytest.mark.parametrize(("instance", "operation", "epoch"), [
    (None, GroupMembershipOperation.DEFAULT, LEAVE_EPOCH), (None, GroupMembershipOperation.LEAVE_GROUP, LEAVE_EPOCH),
    (None, GroupMembershipOperation.REMAIN_IN_GROUP, None),
    ("i-1", GroupMembershipOperation.DEFAULT, STATIC_LEAVE_EPOCH), ("i-1", GroupMembershipOperation.LEAVE_GROUP, LEAVE_EPOCH),
    ("i-1", GroupMembershipOperation.REMAIN_IN_GROUP, STATIC_LEAVE_EPOCH)])
def test_close_leaves_as_kip_1092_says(instance: str | None, operation: GroupMembershipOperation,
                                       epoch: int | None) -> None:
    m = Membership("g", instance_id=instance, state=S.STABLE, member_epoch=7, owned={T1: frozenset({1})})
    m.close_operation = operation
    assert m.prepare_leaving()
    m.leaving()
    assert m.sends_leave() is (epoch is not None)
    body = m.heartbeat(("a",))
    if epoch is not None:
        assert body["member_epoch"] == epoch
    assert m.state is S.UNSUBSCRIBED and m.owned == {}


@pytest.mark.parametrize("state", [S.UNSUBSCRIBED, S.FENCED, S.STALE, S.FATAL, S.LEAVING, S.PREPARE_LEAVING])
def test_prepare_leaving_only_from_inside_the_group(state: MemberState) -> None:
    m = Membership("g", state=state)
    assert m.prepare_leaving() is (state is S.UNSUBSCRIBED)


def test_reconciled_after_a_fence_changes_nothing() -> None:
    m = Membership("g", state=S.RECONCILING, member_epoch=3)
    m.on_response(error(ErrorCode.UNKNOWN_MEMBER_ID))
    m.reconciled({T1: frozenset({0})})
    assert m.state is S.FENCED and m.owned == {}


def test_plan_revokes_first_and_leaves_unknown_topic_ids_for_later() -> None:
    owned = frozenset({("a", 0), ("a", 1), ("b", 0)})
    target = {T1: frozenset({1, 2}), T2: frozenset({0})}
    plan = plan_reconciliation(target, {T1: "a"}, owned)
    assert plan.revoked == {("a", 0), ("b", 0)}
    assert plan.added == {("a", 2)}
    assert plan.assigned == {("a", 1), ("a", 2)}
    assert plan.unresolved == {T2}
    again = plan_reconciliation(target, {T1: "a", T2: "b"}, plan.assigned)
    assert again.revoked == set() and again.added == {("b", 0)} and not again.unresolved


def test_the_same_assignment_again_is_nothing_to_reconcile_but_the_first_one_is() -> None:
    m = joined()
    m.heartbeat(("a",))
    assert m.on_response(ok(1, {})) is HeartbeatOutcome.RECONCILE   # first: even empty
    m.reconciled({})
    m.heartbeat(("a",))
    assert m.state is S.STABLE
    assert m.on_response(ok(2, {})) is HeartbeatOutcome.OK
    assert m.state is S.STABLE and m.member_epoch == 2
    assert m.on_response(ok(3, {T1: [0]})) is HeartbeatOutcome.RECONCILE


def test_a_regex_subscription_sends_the_regex_and_switching_clears_the_other_kind() -> None:
    m = joined()
    first = m.heartbeat(("ignored",), regex="orders-.*")
    assert first["subscribed_topic_regex"] == "orders-.*" and first["subscribed_topic_names"] == []
    m.on_response(ok(1, {}))
    m.reconciled({})
    assert "subscribed_topic_regex" not in m.heartbeat(("orders-a",), regex="orders-.*")
    to_topics = m.heartbeat(("a",))
    assert to_topics["subscribed_topic_names"] == ["a"] and to_topics["subscribed_topic_regex"] == ""
    assert "subscribed_topic_regex" not in m.heartbeat(("a",))
    back = m.heartbeat(("a",), regex="x.*")
    assert back["subscribed_topic_regex"] == "x.*" and back["subscribed_topic_names"] == []


def test_a_topic_subscription_never_sends_a_regex() -> None:
    m = joined()
    assert "subscribed_topic_regex" not in m.heartbeat(("a",))
