"""Classic consumer groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) as the broker's
GroupCoordinator runs them: Empty -> PreparingRebalance -> CompletingRebalance -> Stable.

What it keeps of Kafka's rules, because clients depend on them: a new member first gets
MEMBER_ID_REQUIRED with its id (KIP-394); a join parks until every known member has rejoined or
the rebalance timeout passed (members that did not rejoin are removed); the leader's SyncGroup
hands out the assignment to every member; a member without a heartbeat for its session timeout is
removed and the group rebalances; requests of another generation get ILLEGAL_GENERATION, of an
unknown member UNKNOWN_MEMBER_ID, heartbeats and commits during a rebalance REBALANCE_IN_PROGRESS
where Kafka sends it. What it leaves out is listed in docs/fake-broker.md.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from kafkaio.errors import ErrorCode

EMPTY, PREPARING, COMPLETING, STABLE = "Empty", "PreparingRebalance", "CompletingRebalance", "Stable"


@dataclass
class Member:
    member_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    join: asyncio.Future[dict[str, Any]] | None = None
    sync: asyncio.Future[dict[str, Any]] | None = None
    expiry: asyncio.TimerHandle | None = field(default=None, repr=False)


class Group:
    """One classic group on its coordinator."""

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.state = EMPTY
        self.generation = 0
        self.protocol_type: str | None = None
        self.protocol: str | None = None
        self.leader: str | None = None
        self.members: dict[str, Member] = {}
        self._pending_ids: set[str] = set()  # ids handed out with MEMBER_ID_REQUIRED
        self._rebalance_timer: asyncio.TimerHandle | None = None

    # -- requests -------------------------------------------------------------------------------
    async def join(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        mid = body["member_id"]
        if mid == "":
            mid = f"member-{uuid.uuid4()}"
            if version >= 4:
                self._pending_ids.add(mid)
                return self._join_error(ErrorCode.MEMBER_ID_REQUIRED, mid)
        elif mid not in self.members and mid not in self._pending_ids:
            return self._join_error(ErrorCode.UNKNOWN_MEMBER_ID, mid)
        protocols = [(p["name"], bytes(p["metadata"])) for p in body["protocols"]]
        if (self.members and body["protocol_type"] != self.protocol_type) or not protocols or (
                self.members and not self._supported({n for n, _ in protocols})):
            return self._join_error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, mid)
        self._pending_ids.discard(mid)
        self.protocol_type = body["protocol_type"]
        rebalance_ms = body.get("rebalance_timeout_ms", -1)
        member = self.members.get(mid)
        if member is None:
            member = Member(mid, body["session_timeout_ms"],
                            rebalance_ms if rebalance_ms > 0 else body["session_timeout_ms"], protocols)
            self.members[mid] = member
        else:
            member.protocols = protocols
        if member.join is not None and not member.join.done():
            member.join.set_result(self._join_error(ErrorCode.UNKNOWN_MEMBER_ID, mid))  # superseded by this join
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        member.join = fut
        self._stop_session(member)  # a member parked in a join is not expired (as in Kafka)
        if self.state != PREPARING:
            self._prepare_rebalance()
        self._maybe_complete_join()  # may answer this very join (and clear member.join)
        return await fut

    async def sync(self, body: dict[str, Any]) -> dict[str, Any]:
        member = self.members.get(body["member_id"])
        if member is None:
            return {"error_code": ErrorCode.UNKNOWN_MEMBER_ID, "assignment": b""}
        if body["generation_id"] != self.generation:
            return {"error_code": ErrorCode.ILLEGAL_GENERATION, "assignment": b""}
        if self.state == PREPARING:
            return {"error_code": ErrorCode.REBALANCE_IN_PROGRESS, "assignment": b""}
        self._start_session(member)
        if self.state == STABLE:
            return self._sync_answer(member)
        if member.member_id == self.leader:
            given = {a["member_id"]: bytes(a["assignment"]) for a in body["assignments"]}
            for m in self.members.values():
                m.assignment = given.get(m.member_id, b"")
            self.state = STABLE
            for m in self.members.values():
                if m.sync is not None and not m.sync.done():
                    m.sync.set_result(self._sync_answer(m))
                m.sync = None
            return self._sync_answer(member)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        member.sync = fut
        return await fut

    def heartbeat(self, body: dict[str, Any]) -> int:
        member = self.members.get(body["member_id"])
        if member is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if body["generation_id"] != self.generation:
            return ErrorCode.ILLEGAL_GENERATION
        self._start_session(member)
        return ErrorCode.REBALANCE_IN_PROGRESS if self.state == PREPARING else ErrorCode.NONE

    def leave(self, member_id: str) -> int:
        member = self.members.get(member_id)
        if member is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        self._remove(member)
        return ErrorCode.NONE

    def commit_error(self, generation: int, member_id: str) -> int:
        """The error a commit of (generation, member) gets, as Kafka's GroupCoordinator decides."""
        if generation < 0 and member_id == "" and self.state == EMPTY:
            return ErrorCode.NONE  # a commit from a consumer without a group (assign())
        if member_id not in self.members:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if generation != self.generation:
            return ErrorCode.ILLEGAL_GENERATION
        if self.state == COMPLETING:
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE

    def close(self) -> None:
        if self._rebalance_timer is not None:
            self._rebalance_timer.cancel()
        for m in self.members.values():
            self._stop_session(m)

    # -- transitions ----------------------------------------------------------------------------
    def _supported(self, names: set[str]) -> bool:
        common = names
        for m in self.members.values():
            common = common & {n for n, _ in m.protocols}
        return bool(common)

    def _prepare_rebalance(self) -> None:
        self.state = PREPARING
        for m in self.members.values():  # syncs of the generation that is ending
            if m.sync is not None and not m.sync.done():
                m.sync.set_result({"error_code": ErrorCode.REBALANCE_IN_PROGRESS, "assignment": b""})
            m.sync = None
        timeout = max((m.rebalance_timeout_ms for m in self.members.values()), default=0)
        if self._rebalance_timer is not None:
            self._rebalance_timer.cancel()
        self._rebalance_timer = asyncio.get_running_loop().call_later(timeout / 1000, self._rebalance_expired)

    def _rebalance_expired(self) -> None:
        self._rebalance_timer = None
        for m in [m for m in self.members.values() if m.join is None]:
            self._stop_session(m)
            del self.members[m.member_id]
        self._maybe_complete_join(force=True)

    def _maybe_complete_join(self, force: bool = False) -> None:
        if self.state != PREPARING:
            return
        if not force and any(m.join is None for m in self.members.values()):
            return
        if self._rebalance_timer is not None:
            self._rebalance_timer.cancel()
            self._rebalance_timer = None
        self.generation += 1
        if not self.members:
            self.state, self.leader, self.protocol = EMPTY, None, None
            return
        if self.leader not in self.members:
            self.leader = next(iter(self.members))
        leader = self.members[self.leader]
        common = set.intersection(*({n for n, _ in m.protocols} for m in self.members.values()))
        self.protocol = next(n for n, _ in leader.protocols if n in common)
        self.state = COMPLETING
        for m in self.members.values():
            answer: dict[str, Any] = {"error_code": ErrorCode.NONE, "generation_id": self.generation,
                                      "protocol_type": self.protocol_type, "protocol_name": self.protocol,
                                      "leader": self.leader, "member_id": m.member_id, "members": []}
            if m.member_id == self.leader:
                answer["members"] = [{"member_id": o.member_id, "group_instance_id": None,
                                      "metadata": dict(o.protocols)[self.protocol]} for o in self.members.values()]
            assert m.join is not None
            if not m.join.done():
                m.join.set_result(answer)
            m.join = None
            self._start_session(m)

    def _remove(self, member: Member) -> None:
        self._stop_session(member)
        del self.members[member.member_id]
        for fut in (member.join, member.sync):
            if fut is not None and not fut.done():
                fut.set_result(self._join_error(ErrorCode.UNKNOWN_MEMBER_ID, member.member_id))
        if self.state in (STABLE, COMPLETING) or (self.state == EMPTY and self.members):
            self._prepare_rebalance()
        self._maybe_complete_join()

    def _start_session(self, member: Member) -> None:
        self._stop_session(member)
        member.expiry = asyncio.get_running_loop().call_later(
            member.session_timeout_ms / 1000, self._expire, member.member_id)

    @staticmethod
    def _stop_session(member: Member) -> None:
        if member.expiry is not None:
            member.expiry.cancel()
            member.expiry = None

    def _expire(self, member_id: str) -> None:
        member = self.members.get(member_id)
        if member is not None:
            member.expiry = None
            self._remove(member)

    def _sync_answer(self, member: Member) -> dict[str, Any]:
        return {"error_code": ErrorCode.NONE, "protocol_type": self.protocol_type, "protocol_name": self.protocol,
                "assignment": member.assignment}

    def _join_error(self, code: int, member_id: str) -> dict[str, Any]:
        return {"error_code": code, "generation_id": -1, "protocol_name": None, "leader": "",
                "member_id": member_id, "members": [], "assignment": b""}
