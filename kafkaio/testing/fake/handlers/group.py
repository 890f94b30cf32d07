"""Classic group membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup (rules in groups.py)."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake import handlers as _h
from kafkaio.testing.fake.groups import Group


def _group(broker: "_h.BrokerView", group_id: str) -> Group | None:
    """The group if this broker coordinates it (created on first use), else None."""
    if broker.state.coordinator_for(group_id) != broker.node_id:
        return None
    return broker.state.groups.setdefault(group_id, Group(group_id))


async def join_group(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    group = _group(broker, body["group_id"])
    if group is None:
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NOT_COORDINATOR, "leader": "", "member_id": "",
                "protocol_name": None, "members": []}
    answer = await group.join(version, body)
    answer.pop("assignment", None)
    return {"throttle_time_ms": 0, **answer}


async def sync_group(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    group = _group(broker, body["group_id"])
    if group is None:
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NOT_COORDINATOR, "assignment": b""}
    answer = await group.sync(body)
    return {"throttle_time_ms": 0, "error_code": answer["error_code"],
            "protocol_type": answer.get("protocol_type"), "protocol_name": answer.get("protocol_name"),
            "assignment": answer.get("assignment", b"")}


async def heartbeat(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    group = _group(broker, body["group_id"])
    code = ErrorCode.NOT_COORDINATOR if group is None else group.heartbeat(body)
    return {"throttle_time_ms": 0, "error_code": code}


async def leave_group(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    group = _group(broker, body["group_id"])
    if group is None:
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NOT_COORDINATOR, "members": []}
    if version < 3:
        return {"throttle_time_ms": 0, "error_code": group.leave(body["member_id"])}
    members = [{"member_id": m["member_id"], "group_instance_id": m.get("group_instance_id"),
                "error_code": group.leave(m["member_id"])} for m in body["members"]]
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "members": members}
