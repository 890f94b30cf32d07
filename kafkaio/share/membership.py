"""The share-group member state machine, as Java's ``ShareMembershipManager`` (over
``AbstractMembershipManager`` and ``MemberState``) defines it. Pure: it takes heartbeat answers and
user intents, and returns what the heartbeat loop must send next; no I/O, no clock."""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from kafkaio.errors import ErrorCode, IllegalStateError, error_for_code

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ShareGroupHeartbeatResponse

LEAVE_EPOCH = -1
JOIN_EPOCH = 0

_KNOWN_CODES = frozenset(ErrorCode)


class MemberState(Enum):
    """Where a member is in its life in the group (Java's ``MemberState``)."""

    UNSUBSCRIBED = "unsubscribed"
    JOINING = "joining"
    RECONCILING = "reconciling"
    ACKNOWLEDGING = "acknowledging"
    STABLE = "stable"
    FENCED = "fenced"
    PREPARE_LEAVING = "prepare_leaving"
    LEAVING = "leaving"
    FATAL = "fatal"
    STALE = "stale"


S = MemberState
# The states each state may be entered from (Java's MemberState.previousValidStates).
PREVIOUS: dict[MemberState, frozenset[MemberState]] = {
    S.STABLE: frozenset({S.JOINING, S.ACKNOWLEDGING, S.RECONCILING}),
    S.RECONCILING: frozenset({S.STABLE, S.JOINING, S.ACKNOWLEDGING, S.RECONCILING}),
    S.ACKNOWLEDGING: frozenset({S.RECONCILING}),
    S.FATAL: frozenset({S.JOINING, S.STABLE, S.RECONCILING, S.ACKNOWLEDGING, S.PREPARE_LEAVING, S.LEAVING,
                        S.UNSUBSCRIBED}),
    S.FENCED: frozenset({S.JOINING, S.STABLE, S.RECONCILING, S.ACKNOWLEDGING, S.PREPARE_LEAVING, S.LEAVING}),
    S.JOINING: frozenset({S.FENCED, S.UNSUBSCRIBED, S.STALE}),
    S.PREPARE_LEAVING: frozenset({S.JOINING, S.STABLE, S.RECONCILING, S.ACKNOWLEDGING, S.UNSUBSCRIBED}),
    S.LEAVING: frozenset({S.PREPARE_LEAVING}),
    S.UNSUBSCRIBED: frozenset({S.PREPARE_LEAVING, S.LEAVING, S.FENCED}),
    S.STALE: frozenset({S.LEAVING}),
}

# Heartbeat error codes after which the member rejoins with epoch 0 under the same member id.
_FENCING = frozenset({ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID})
# Codes the heartbeat retries after its backoff (the coordinator moves or loads).
_RETRY = frozenset({ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR,
                    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS})


def new_member_id() -> str:
    """A member id as the Java client makes one (``Uuid.randomUuid().toString()``: URL-safe base64)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


@dataclass(frozen=True)
class Assignment:
    """Partitions assigned by the coordinator, by topic id."""

    partitions: frozenset[tuple[uuid.UUID, int]]


class HeartbeatOutcome(Enum):
    """What the heartbeat loop does after an answer (a fact returned by ``on_response``)."""

    OK = "ok"
    RETRY = "retry"                  # resend after the retry backoff (coordinator moving)
    FIND_COORDINATOR = "find_coordinator"
    REJOIN = "rejoin"                # fenced: assignment dropped, join again at once
    FATAL = "fatal"


class ShareMembership:
    """One member's state: id, epoch, assignment, and the transitions between states."""

    def __init__(self, group_id: str, topics: tuple[str, ...], rack_id: str | None = None) -> None:
        self.group_id = group_id
        self.member_id = new_member_id()
        self.member_epoch = JOIN_EPOCH
        self.state = MemberState.UNSUBSCRIBED
        self.topics = tuple(sorted(set(topics)))
        self.rack_id = rack_id or None
        self.assignment = Assignment(frozenset())
        self.assignments_received = 0  # for ShareConsumer.metrics()' rebalance_total
        self.heartbeat_interval_ms = 5000
        self.fatal_error: BaseException | None = None
        self._send_full = True  # subscription and rack go out on the next heartbeat

    def transition(self, to: MemberState) -> None:
        """Move to ``to``; IllegalStateError if Java's table does not allow it from here."""
        if self.state not in PREVIOUS[to]:
            raise IllegalStateError(f"share member {self.member_id}: no transition {self.state.name} -> {to.name}")
        self.state = to

    # -- user intents ---------------------------------------------------------------------------

    def join(self) -> None:
        self.transition(MemberState.JOINING)
        self.member_epoch = JOIN_EPOCH
        self._send_full = True

    def leave(self) -> bool:
        """Start leaving; False when there is nothing to leave (never joined, fenced, fatal)."""
        if self.state in (MemberState.UNSUBSCRIBED, MemberState.FATAL, MemberState.LEAVING,
                          MemberState.PREPARE_LEAVING, MemberState.STALE):
            return False
        if self.state is MemberState.FENCED:
            self.transition(MemberState.UNSUBSCRIBED)
            return False
        self.transition(MemberState.PREPARE_LEAVING)
        self.assignment = Assignment(frozenset())
        self.transition(MemberState.LEAVING)
        return True

    def left(self) -> None:
        """The leave heartbeat was answered (or could not be sent)."""
        if self.state is MemberState.LEAVING:
            self.transition(MemberState.UNSUBSCRIBED)

    # -- heartbeats -------------------------------------------------------------------------------

    def heartbeat_request(self) -> dict[str, Any]:
        """The body of the next ShareGroupHeartbeat."""
        leaving = self.state is MemberState.LEAVING
        full = self._send_full and not leaving
        return {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "member_epoch": LEAVE_EPOCH if leaving else self.member_epoch,
            "rack_id": self.rack_id if full else None,
            "subscribed_topic_names": list(self.topics) if full else None,
        }

    def on_response(self, resp: ShareGroupHeartbeatResponse) -> HeartbeatOutcome:
        """Apply a ShareGroupHeartbeat answer; the returned fact says what the loop does next."""
        raw = resp["error_code"]
        if raw == ErrorCode.NONE:
            return self._on_success(resp)
        if self.state is MemberState.LEAVING:
            self.left()
            return HeartbeatOutcome.OK
        if raw not in _KNOWN_CODES:   # newer than this client: fatal, as Java's default case
            self.fail(error_for_code(raw)(f"ShareGroupHeartbeat for group {self.group_id!r}: "
                                          f"{resp['error_message'] or f'error {raw}'}"))
            return HeartbeatOutcome.FATAL
        code = ErrorCode(raw)
        if code in _RETRY:
            return (HeartbeatOutcome.FIND_COORDINATOR if code is not ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
                    else HeartbeatOutcome.RETRY)
        if code in _FENCING:
            self.fence()
            return HeartbeatOutcome.REJOIN
        self.fail(code.exception(f"ShareGroupHeartbeat for group {self.group_id!r}: "
                                 f"{resp['error_message'] or code.name}"))
        return HeartbeatOutcome.FATAL

    def fence(self) -> None:
        """Fenced by the coordinator: drop the assignment and join again under the same id."""
        if self.state not in PREVIOUS[MemberState.FENCED]:
            return
        self.transition(MemberState.FENCED)
        self.assignment = Assignment(frozenset())
        self.join()

    def fail(self, error: BaseException) -> None:
        self.fatal_error = error
        if self.state is not MemberState.FATAL:
            self.transition(MemberState.FATAL)

    def _on_success(self, resp: ShareGroupHeartbeatResponse) -> HeartbeatOutcome:
        if self.state is MemberState.LEAVING:
            self.left()
            return HeartbeatOutcome.OK
        if self.state not in (MemberState.JOINING, MemberState.RECONCILING, MemberState.ACKNOWLEDGING,
                              MemberState.STABLE):
            return HeartbeatOutcome.OK  # an answer to a heartbeat sent before a leave or a fence
        self._send_full = False
        self.member_epoch = resp["member_epoch"]
        if resp["heartbeat_interval_ms"] > 0:
            self.heartbeat_interval_ms = resp["heartbeat_interval_ms"]
        new = resp["assignment"]
        if new is not None:
            parts = frozenset((t["topic_id"], p) for t in new["topic_partitions"] for p in t["partitions"])
            self.transition(MemberState.RECONCILING)
            self.assignment = Assignment(parts)
            self.assignments_received += 1
            # share groups reconcile at once: no revocation callbacks to wait for
            self.transition(MemberState.ACKNOWLEDGING)
        elif self.state is MemberState.ACKNOWLEDGING:
            # heartbeats go one at a time: this answers the one that acknowledged the assignment
            self.transition(MemberState.STABLE)
        return HeartbeatOutcome.OK

    @property
    def heartbeat_now(self) -> bool:
        """The next heartbeat should go out without waiting for the interval."""
        if self.state is MemberState.JOINING:
            return self.member_epoch == JOIN_EPOCH
        return self.state in (MemberState.ACKNOWLEDGING, MemberState.LEAVING)
