"""``kafkaio groups``: list, describe, lag, reset-offsets."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kafkaio.cli.common import Subparsers, CliError, EXIT_NOT_FOUND, with_admin

if TYPE_CHECKING:
    from kafkaio.admin import Admin

HELP = "list and describe consumer groups, show their lag, reset their offsets"
GROUP_TYPES = ("classic", "consumer", "share", "streams")


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("groups", help=HELP, description=HELP + ".")
    cmds = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = cmds.add_parser("list", help="group ids with their state",
                         description="Group ids with their state; with --type, groups of that kind "
                                     "(KIP-1043) with their type.")
    ls.add_argument("--type", action="append", choices=GROUP_TYPES, dest="types", metavar="TYPE",
                    help="only groups of this type: " + ", ".join(GROUP_TYPES) + " (repeatable)")
    d = cmds.add_parser("describe", help="state, protocol and members",
                        description="State, protocol and members (with their partitions) of a group.")
    d.add_argument("group")
    lag = cmds.add_parser("lag", help="committed offset, end offset and lag per partition",
                          description="Committed offset, end offset and lag of each partition the group "
                                      "has committed offsets for.")
    lag.add_argument("group")
    r = cmds.add_parser("reset-offsets", help="move a group's committed offsets (dry run unless --execute)",
                        description="Move a group's committed offsets for a topic. Prints the plan and "
                                    "changes nothing unless --execute is given. The group must have no "
                                    "active members.")
    r.add_argument("group")
    r.add_argument("--topic", required=True)
    r.add_argument("-p", "--partition", type=int, action="append", metavar="N",
                   help="only this partition (repeatable; default: all)")
    to = r.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-earliest", action="store_true")
    to.add_argument("--to-latest", action="store_true")
    to.add_argument("--to-offset", type=int, metavar="N")
    to.add_argument("--shift-by", type=int, metavar="N", help="move by N (negative: back) from the committed offset")
    r.add_argument("--execute", action="store_true", help="apply the plan (default: dry run)")
    p.set_defaults(run=run)
    return p


async def run(args: argparse.Namespace) -> int:
    return await with_admin(args, lambda admin: ACTIONS[args.action](admin, args))


async def _list(admin: Admin, args: argparse.Namespace) -> int:
    if args.types:
        for g in await admin.list_groups(types=args.types):
            print(f"{g.group_id}\t{g.state or ''}\t{g.group_type or ''}")
        return 0
    for g in sorted(await admin.list_consumer_groups(), key=lambda g: g.group_id):
        print(f"{g.group_id}\t{g.state or ''}")
    return 0


async def _existing(admin: Admin, group: str) -> Any:
    desc = (await admin.describe_consumer_groups([group]))[group]
    if desc.state == "Dead":
        raise CliError(f"group {group!r} does not exist", EXIT_NOT_FOUND)
    return desc


async def _describe(admin: Admin, args: argparse.Namespace) -> int:
    g = await _existing(admin, args.group)
    print(f"Group: {g.group_id}\tState: {g.state}\tType: {g.group_type}\tProtocol: {g.protocol}\t"
          f"Coordinator: {g.coordinator}\tMembers: {len(g.members)}")
    for m in g.members:
        parts = ",".join(f"{tp.topic}-{tp.partition}" for tp in sorted(m.assignment))
        print(f"\tMember: {m.member_id}\tClient: {m.client_id}\tHost: {m.client_host}\tPartitions: {parts}")
    return 0


async def _committed(admin: Admin, group: str) -> dict[Any, int]:
    offsets = await admin.list_consumer_group_offsets(group)
    return {tp: om.offset for tp, om in offsets.items() if om is not None}


async def _lag(admin: Admin, args: argparse.Namespace) -> int:
    await _existing(admin, args.group)
    committed = await _committed(admin, args.group)
    ends = await admin.list_offsets({tp: "latest" for tp in committed}) if committed else {}
    print("TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG")
    for tp in sorted(committed):
        end = ends[tp].offset
        print(f"{tp.topic}\t{tp.partition}\t{committed[tp]}\t{end}\t{max(end - committed[tp], 0)}")
    return 0


async def _reset(admin: Admin, args: argparse.Namespace) -> int:
    from kafkaio import TopicPartition

    described = await admin.describe_topics([args.topic])
    parts = [p.partition for p in described[args.topic].partitions]
    wanted = args.partition or parts
    missing = set(wanted) - set(parts)
    if missing:
        raise CliError(f"topic {args.topic!r} has no partition {sorted(missing)}", EXIT_NOT_FOUND)
    tps = [TopicPartition(args.topic, p) for p in sorted(wanted)]
    earliest = await admin.list_offsets({tp: "earliest" for tp in tps})
    latest = await admin.list_offsets({tp: "latest" for tp in tps})
    committed = await _committed(admin, args.group)
    plan: dict[Any, int] = {}
    for tp in tps:
        lo, hi = earliest[tp].offset, latest[tp].offset
        if args.to_earliest:
            target = lo
        elif args.to_latest:
            target = hi
        elif args.to_offset is not None:
            target = args.to_offset
        else:
            target = committed.get(tp, lo) + args.shift_by
        plan[tp] = min(max(target, lo), hi)  # as the Java tool does: clamp into the log's range
    print("TOPIC\tPARTITION\tCURRENT-OFFSET\tNEW-OFFSET")
    for tp, new in plan.items():
        cur = committed.get(tp)
        print(f"{tp.topic}\t{tp.partition}\t{'-' if cur is None else cur}\t{new}")
    if args.execute:
        await admin.alter_consumer_group_offsets(args.group, plan)
        print(f"offsets of group {args.group} reset")
    else:
        print("dry run: nothing changed (add --execute to apply)")
    return 0


ACTIONS = {"list": _list, "describe": _describe, "lag": _lag, "reset-offsets": _reset}
