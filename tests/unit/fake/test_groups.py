"""The fake's classic group coordinator (groups.py), driven directly: Kafka's join/sync rules."""
from __future__ import annotations

import asyncio
from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake.groups import COMPLETING, EMPTY, PREPARING, STABLE, Group


def join_body(member_id: str, session_ms: int = 10_000, rebalance_ms: int = 10_000) -> dict[str, Any]:
    return {"group_id": "g", "session_timeout_ms": session_ms, "rebalance_timeout_ms": rebalance_ms,
            "member_id": member_id, "protocol_type": "consumer",
            "protocols": [{"name": "range", "metadata": b"m-" + member_id.encode()}]}


async def join_new(group: Group, **kw: int) -> asyncio.Task:
    """Join as a new member (MEMBER_ID_REQUIRED first, as KIP-394 asks); the join parks in a task."""
    first = await group.join(9, join_body(""))
    assert first["error_code"] == ErrorCode.MEMBER_ID_REQUIRED
    task = asyncio.ensure_future(group.join(9, join_body(first["member_id"], **kw)))
    await asyncio.sleep(0)
    return task


async def test_a_lone_member_leads_and_its_assignment_makes_the_group_stable() -> None:
    g = Group("g")
    a = await (await join_new(g))
    assert (a["error_code"], a["generation_id"], a["leader"]) == (0, 1, a["member_id"])
    assert [m["metadata"] for m in a["members"]] == [b"m-" + a["member_id"].encode()]
    assert g.state == COMPLETING
    s = await g.sync({"member_id": a["member_id"], "generation_id": 1,
                      "assignments": [{"member_id": a["member_id"], "assignment": b"all"}]})
    assert (s["error_code"], s["assignment"], g.state) == (0, b"all", STABLE)
    g.close()


async def test_a_second_member_rebalances_the_group_and_both_get_the_leaders_assignment() -> None:
    g = Group("g")
    a = await (await join_new(g))
    await g.sync({"member_id": a["member_id"], "generation_id": 1, "assignments": []})
    b_task = await join_new(g)
    assert g.state == PREPARING and not b_task.done()  # parked until the first member rejoins
    assert g.heartbeat({"member_id": a["member_id"], "generation_id": 1}) == ErrorCode.REBALANCE_IN_PROGRESS
    a2 = await g.join(9, join_body(a["member_id"]))
    b = await b_task
    assert a2["generation_id"] == b["generation_id"] == 2 and b["members"] == []
    b_sync = asyncio.ensure_future(g.sync({"member_id": b["member_id"], "generation_id": 2, "assignments": []}))
    await asyncio.sleep(0)
    assert not b_sync.done()  # a follower waits for the leader's assignment
    await g.sync({"member_id": a["member_id"], "generation_id": 2, "assignments": [
        {"member_id": a["member_id"], "assignment": b"A"}, {"member_id": b["member_id"], "assignment": b"B"}]})
    assert (await b_sync)["assignment"] == b"B"
    assert g.heartbeat({"member_id": a["member_id"], "generation_id": 1}) == ErrorCode.ILLEGAL_GENERATION
    assert g.heartbeat({"member_id": "stranger", "generation_id": 2}) == ErrorCode.UNKNOWN_MEMBER_ID
    assert g.commit_error(1, a["member_id"]) == ErrorCode.ILLEGAL_GENERATION
    assert g.commit_error(2, a["member_id"]) == 0
    g.close()


async def test_a_member_that_does_not_rejoin_is_removed_at_the_rebalance_timeout() -> None:
    g = Group("g")
    a = await (await join_new(g, rebalance_ms=20))
    await g.sync({"member_id": a["member_id"], "generation_id": 1, "assignments": []})
    b = await (await join_new(g, rebalance_ms=20))  # a never rejoins: b completes alone
    assert b["generation_id"] == 2 and list(g.members) == [b["member_id"]]
    assert g.heartbeat({"member_id": a["member_id"], "generation_id": 2}) == ErrorCode.UNKNOWN_MEMBER_ID
    g.close()


async def test_a_member_without_heartbeats_expires_and_the_last_leaving_empties_the_group() -> None:
    g = Group("g")
    a = await (await join_new(g, session_ms=10))
    expired = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.05, expired.set_result, None)
    await expired
    assert g.members == {} and g.state == EMPTY and g.generation == 2
    assert g.commit_error(-1, "") == 0  # an empty group takes commits from outside it
    assert g.heartbeat({"member_id": a["member_id"], "generation_id": 1}) == ErrorCode.UNKNOWN_MEMBER_ID
    g.close()
