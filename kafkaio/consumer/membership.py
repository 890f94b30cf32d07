"""The member of a consumer group under the consumer group protocol (KIP-848), without I/O.

The broker computes assignments; the member heartbeats (ConsumerGroupHeartbeat) at the interval the
broker gives, reconciles the target assignment it receives (revoke, then assign) and acknowledges
it in its next heartbeat by listing what it owns. States and transitions are the Java client's
``MemberState`` (``AbstractMembershipManager``); the fields a heartbeat carries follow its
``HeartbeatState``: everything on a join and after an error, otherwise only what changed.

The I/O side (:mod:`kafkaio.consumer.consumer_group`) sends what :meth:`Membership.heartbeat`
builds, feeds the answers to :meth:`Membership.on_response` and acts on the
:class:`HeartbeatOutcome`.
"""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Mapping

from kafkaio.errors import ErrorCode, IllegalStateError
from kafkaio.structs import GroupMembershipOperation

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ConsumerGroupHeartbeatResponse

JOIN_EPOCH = 0           # a member (re)joining the group
LEAVE_EPOCH = -1         # a member leaving the group
STATIC_LEAVE_EPOCH = -2  # a static member leaving, to come back with the same instance id


class MemberState(str, Enum):
    """Where the member is (Java's ``MemberState``)."""

    UNSUBSCRIBED = "unsubscribed"        # not in the group: never subscribed, or left
    JOINING = "joining"                  # heartbeats with epoch 0 until the broker answers with one
    RECONCILING = "reconciling"          # applying a target assignment (revoke, then assign)
    ACKNOWLEDGING = "acknowledging"      # applied; the next heartbeat (sent at once) says so
    STABLE = "stable"                    # owns its target assignment
    FENCED = "fenced"                    # the broker dropped the member: partitions lost, rejoin
    PREPARE_LEAVING = "prepare_leaving"  # releasing the assignment (listener, commit) before leaving
    LEAVING = "leaving"                  # the next heartbeat (sent at once) has epoch -1 / -2
    STALE = "stale"                      # left for max_poll_interval_ms; rejoins on the next poll
    FATAL = "fatal"                      # an error no retry can fix: no more heartbeats


_S = MemberState
# Java's MemberState.previousValidStates, turned around: state -> the states it may move to.
_PREVIOUS: dict[MemberState, frozenset[MemberState]] = {
    _S.STABLE: frozenset({_S.JOINING, _S.ACKNOWLEDGING, _S.RECONCILING}),
    _S.RECONCILING: frozenset({_S.STABLE, _S.JOINING, _S.ACKNOWLEDGING, _S.RECONCILING}),
    _S.ACKNOWLEDGING: frozenset({_S.RECONCILING}),
    _S.FATAL: frozenset({_S.JOINING, _S.STABLE, _S.RECONCILING, _S.ACKNOWLEDGING, _S.PREPARE_LEAVING,
                         _S.LEAVING, _S.UNSUBSCRIBED}),
    _S.FENCED: frozenset({_S.JOINING, _S.STABLE, _S.RECONCILING, _S.ACKNOWLEDGING, _S.PREPARE_LEAVING,
                          _S.LEAVING}),
    _S.JOINING: frozenset({_S.FENCED, _S.UNSUBSCRIBED, _S.STALE}),
    _S.PREPARE_LEAVING: frozenset({_S.JOINING, _S.STABLE, _S.RECONCILING, _S.ACKNOWLEDGING,
                                   _S.UNSUBSCRIBED}),
    _S.LEAVING: frozenset({_S.PREPARE_LEAVING}),
    _S.UNSUBSCRIBED: frozenset({_S.PREPARE_LEAVING, _S.LEAVING, _S.FENCED}),
    _S.STALE: frozenset({_S.LEAVING}),
}
TRANSITIONS: dict[MemberState, frozenset[MemberState]] = {
    s: frozenset(n for n, prev in _PREVIOUS.items() if s in prev) for s in MemberState}

# states in which a new target assignment is taken (Java: canHandleNewAssignment)
_TAKES_ASSIGNMENT = _PREVIOUS[_S.RECONCILING]
# states in which the member is not in the group: answers to heartbeats are ignored
_NOT_IN_GROUP = frozenset({_S.UNSUBSCRIBED, _S.FENCED, _S.FATAL, _S.STALE})
# states in which heartbeats go out
HEARTBEATING = frozenset({_S.JOINING, _S.RECONCILING, _S.ACKNOWLEDGING, _S.STABLE, _S.PREPARE_LEAVING,
                          _S.LEAVING})

# heartbeat errors after which the member is out of the group and rejoins as a new member
_FENCING = frozenset({ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID})
_COORDINATOR_MOVED = frozenset({ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE})
_RETRY = frozenset({ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.REQUEST_TIMED_OUT})
# reported to the application, and the member keeps heartbeating (Java 4.x does the same)
_REPORTED = frozenset({ErrorCode.TOPIC_AUTHORIZATION_FAILED})

Assignment = Mapping[uuid.UUID, frozenset[int]]


def new_member_id() -> str:
    """A member id as the Java client makes one (KIP-1082): a random UUID in Kafka's base64 form."""
    while True:
        value = uuid.uuid4()
        text = base64.urlsafe_b64encode(value.bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):   # Kafka's Uuid.randomUuid() never starts with '-'
            return text


class HeartbeatOutcome(str, Enum):
    """What the I/O side does after a heartbeat answer."""

    OK = "ok"                          # nothing new
    RECONCILE = "reconcile"            # a new target assignment to reconcile
    FENCED = "fenced"                  # partitions lost: release them (on_partitions_lost), rejoin
    COORDINATOR_MOVED = "coordinator"  # look the coordinator up again, then heartbeat
    RETRY = "retry"                    # heartbeat again after the retry backoff
    REPORT = "report"                  # raise the error to the application, keep heartbeating
    FATAL = "fatal"                    # raise the error to the application, stop
    IGNORED = "ignored"                # an answer for a member that is no longer in the group


@dataclass
class _SentFields:
    """What the broker was last told (Java's HeartbeatState.SentFields); None: send it again."""

    rebalance_timeout_ms: int | None = None
    topics: tuple[str, ...] | None = None
    regex: str | None = None
    server_assignor: str | None = None
    owned: dict[uuid.UUID, frozenset[int]] | None = None


@dataclass(frozen=True)
class Reconciliation:
    """One step from the partitions owned towards the target assignment."""

    assigned: frozenset[tuple[str, int]]   # what the member owns after this step
    revoked: frozenset[tuple[str, int]]
    added: frozenset[tuple[str, int]]
    unresolved: frozenset[uuid.UUID]       # target topic ids the metadata does not name yet


def plan_reconciliation(target: Assignment, names: Mapping[uuid.UUID, str],
                        owned: frozenset[tuple[str, int]]) -> Reconciliation:
    """Revoke what the target no longer holds, add what it holds and is not owned. Topic ids the
    metadata does not know yet are left for a later step (their partitions are neither revoked
    nor added)."""
    resolved = frozenset((names[tid], p) for tid, parts in target.items() if tid in names for p in parts)
    unresolved = frozenset(tid for tid in target if tid not in names)
    return Reconciliation(resolved, owned - resolved, resolved - owned, unresolved)


@dataclass
class Membership:
    """The member's state, epoch, target and acknowledged assignment, and the heartbeat it sends."""

    group_id: str
    instance_id: str | None = None
    rack_id: str | None = None
    rebalance_timeout_ms: int = 300000
    server_assignor: str | None = None
    member_id: str = field(default_factory=new_member_id)
    member_epoch: int = JOIN_EPOCH
    state: MemberState = MemberState.UNSUBSCRIBED
    heartbeat_interval_ms: int = 0
    target: dict[uuid.UUID, frozenset[int]] | None = None   # the broker's latest, None before one
    owned: dict[uuid.UUID, frozenset[int]] = field(default_factory=dict)   # what the member holds
    # ``owned`` was reconciled since the member joined (Java: the current assignment is not NONE)
    owned_known: bool = False
    leaving_for_poll_timeout: bool = False
    close_operation: GroupMembershipOperation = GroupMembershipOperation.DEFAULT  # how a close leaves (KIP-1092)
    send_now: bool = False   # the next heartbeat goes out without waiting for the interval
    _sent: _SentFields = field(default_factory=_SentFields)

    # -- transitions ---------------------------------------------------------------------------------

    def transition(self, new: MemberState) -> None:
        """Move to ``new``; IllegalStateError when the table does not allow it."""
        if new not in TRANSITIONS[self.state]:
            raise IllegalStateError(f"group {self.group_id}: member state {self.state.value} -> {new.value}")
        self.state = new

    def join(self) -> None:
        """Join (or rejoin after a fence or a poll timeout) with epoch 0 and a full heartbeat."""
        self.transition(MemberState.JOINING)
        self.member_epoch = JOIN_EPOCH
        self.target = None
        self.leaving_for_poll_timeout = False
        self._sent = _SentFields()
        self.send_now = True

    def fence(self) -> None:
        """The broker no longer has this member (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID): what it
        owned is lost. While leaving, the leave is complete instead (Java: transitionToFenced)."""
        if self.state in (MemberState.PREPARE_LEAVING, MemberState.LEAVING):
            if self.state is MemberState.PREPARE_LEAVING:
                self.transition(MemberState.LEAVING)
            self.transition(MemberState.UNSUBSCRIBED)
            self._drop_membership()
            return
        if self.state in _NOT_IN_GROUP:
            return
        self.transition(MemberState.FENCED)
        self._drop_membership()

    def fail(self) -> None:
        """An error no retry can fix: no more heartbeats."""
        if self.state is not MemberState.FATAL:
            self.transition(MemberState.FATAL)

    def prepare_leaving(self, for_poll_timeout: bool = False) -> bool:
        """Start leaving; False when not in the group (nothing to leave)."""
        if MemberState.PREPARE_LEAVING not in TRANSITIONS[self.state]:
            return False
        self.transition(MemberState.PREPARE_LEAVING)
        self.leaving_for_poll_timeout = for_poll_timeout
        return True

    def _leaves(self) -> bool:
        return self.close_operation.leaves(static=self.instance_id is not None)

    def sends_leave(self) -> bool:
        """Whether the leave is told to the coordinator: not by a dynamic member that remains
        (the coordinator drops it when its session times out)."""
        return self.instance_id is not None or self._leaves()

    def leaving(self) -> None:
        """The assignment is released: the next heartbeat leaves the group."""
        self.transition(MemberState.LEAVING)
        self.send_now = True

    def reconciled(self, owned: Mapping[uuid.UUID, frozenset[int]]) -> None:
        """A reconciliation step was applied: ``owned`` is what the member holds now (by topic id);
        the next heartbeat acknowledges it."""
        if self.state is not MemberState.RECONCILING:
            return   # fenced or leaving meanwhile: what it owned is gone already
        self.owned = {tid: parts for tid, parts in owned.items() if parts}
        self.owned_known = True
        self.transition(MemberState.ACKNOWLEDGING)
        self.send_now = True

    def target_reconciled(self) -> bool:
        """The member owns exactly the target assignment."""
        target = {tid: parts for tid, parts in (self.target or {}).items() if parts}
        return self.owned_known and self.target is not None and target == self.owned

    # -- heartbeats ----------------------------------------------------------------------------------

    def heartbeat(self, topics: tuple[str, ...], regex: str | None = None) -> dict[str, Any]:
        """The next ConsumerGroupHeartbeat body for a member subscribed to ``topics``, or to the
        topics the broker matches with ``regex`` (ConsumerGroupHeartbeat v1+). Records
        what was sent, and makes the transitions sending implies (ACKNOWLEDGING -> STABLE or
        RECONCILING, LEAVING -> UNSUBSCRIBED or STALE), as Java's onHeartbeatRequestGenerated."""
        self.send_now = False
        if self.state is MemberState.LEAVING:
            epoch = LEAVE_EPOCH if self._leaves() else STATIC_LEAVE_EPOCH
            body: dict[str, Any] = {"group_id": self.group_id, "member_id": self.member_id,
                                    "member_epoch": epoch, "instance_id": self.instance_id}
            self.transition(MemberState.STALE if self.leaving_for_poll_timeout else MemberState.UNSUBSCRIBED)
            self._drop_membership()
            return body
        full = self.state is MemberState.JOINING
        sent = self._sent
        body = {"group_id": self.group_id, "member_id": self.member_id, "member_epoch": self.member_epoch,
                "instance_id": self.instance_id}
        if full:
            body["rack_id"] = self.rack_id
        if full or sent.rebalance_timeout_ms != self.rebalance_timeout_ms:
            body["rebalance_timeout_ms"] = sent.rebalance_timeout_ms = self.rebalance_timeout_ms
        # a subscription is topics or a regex: switching sends the other one empty, as the broker
        # subscribes a member to both
        sorted_topics = () if regex is not None else tuple(sorted(topics))
        if full or sent.topics != sorted_topics:
            body["subscribed_topic_names"] = list(sorted_topics)
            sent.topics = sorted_topics
        wanted_regex = regex if regex is not None else ("" if sent.regex else None)
        if wanted_regex is not None and (full or sent.regex != wanted_regex):
            body["subscribed_topic_regex"] = sent.regex = wanted_regex
        if self.server_assignor is not None and (full or sent.server_assignor != self.server_assignor):
            body["server_assignor"] = sent.server_assignor = self.server_assignor
        if full or sent.owned != self.owned:
            body["topic_partitions"] = [{"topic_id": tid, "partitions": sorted(parts)}
                                        for tid, parts in sorted(self.owned.items())]
            sent.owned = dict(self.owned)
        if self.state is MemberState.ACKNOWLEDGING:
            self.transition(MemberState.STABLE if self.target_reconciled() else MemberState.RECONCILING)
        return body

    def heartbeat_failed(self) -> None:
        """The heartbeat got no answer or an error: the next one carries every field again."""
        self._sent = _SentFields()

    def on_response(self, resp: ConsumerGroupHeartbeatResponse) -> HeartbeatOutcome:
        """Take a ConsumerGroupHeartbeat answer (Java: onHeartbeatSuccess / onErrorResponse)."""
        code = resp["error_code"]
        if code != ErrorCode.NONE:
            self.heartbeat_failed()
            if code in _FENCING:
                if self.state in _NOT_IN_GROUP:
                    return HeartbeatOutcome.IGNORED
                self.fence()
                return HeartbeatOutcome.FENCED
            if code in _COORDINATOR_MOVED:
                return HeartbeatOutcome.COORDINATOR_MOVED
            if code in _RETRY:
                return HeartbeatOutcome.RETRY
            if code in _REPORTED:
                return HeartbeatOutcome.REPORT
            self.fail()
            return HeartbeatOutcome.FATAL
        if self.state in _NOT_IN_GROUP or self.state is MemberState.LEAVING:
            return HeartbeatOutcome.IGNORED
        if resp["member_id"]:
            self.member_id = resp["member_id"]
        self.member_epoch = resp["member_epoch"]
        if resp["heartbeat_interval_ms"] > 0:
            self.heartbeat_interval_ms = resp["heartbeat_interval_ms"]
        assignment = resp["assignment"]
        if assignment is None or self.state not in _TAKES_ASSIGNMENT:
            return HeartbeatOutcome.OK
        self.target = {}
        for tp in assignment["topic_partitions"]:
            self.target[tp["topic_id"]] = self.target.get(tp["topic_id"], frozenset()) | frozenset(tp["partitions"])
        if self.state is MemberState.STABLE and self.target_reconciled():
            return HeartbeatOutcome.OK   # the same assignment again: nothing to reconcile
        if self.state is not MemberState.RECONCILING:
            self.transition(MemberState.RECONCILING)
        return HeartbeatOutcome.RECONCILE

    def _drop_membership(self) -> None:
        self.member_epoch = JOIN_EPOCH
        self.target = None
        self.owned = {}
        self.owned_known = False
        self._sent = _SentFields()
