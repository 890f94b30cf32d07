"""``kafkaio topics``: list, describe, create, delete, configs."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kafkaio.cli.common import Subparsers, parse_kv, with_admin

if TYPE_CHECKING:
    from kafkaio.admin import Admin

HELP = "list, describe, create and delete topics; show or change their configs"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("topics", help=HELP, description=HELP + ".")
    cmds = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = cmds.add_parser("list", help="topic names, one per line", description="Topic names, one per line.")
    ls.add_argument("--internal", action="store_true", help="include internal topics (__consumer_offsets, ...)")
    d = cmds.add_parser("describe", help="partitions, leaders, replicas and ISR",
                        description="Partitions, leaders, replicas and ISR of each topic.")
    d.add_argument("topics", nargs="+", metavar="TOPIC")
    c = cmds.add_parser("create", help="create a topic", description="Create a topic.")
    c.add_argument("topic")
    c.add_argument("-p", "--partitions", type=int, default=-1, help="default: the broker's num.partitions")
    c.add_argument("-r", "--replication-factor", type=int, default=-1,
                   help="default: the broker's default.replication.factor")
    c.add_argument("-c", "--config", action="append", metavar="KEY=VALUE", help="a topic config (repeatable)")
    rm = cmds.add_parser("delete", help="delete topics", description="Delete topics.")
    rm.add_argument("topics", nargs="+", metavar="TOPIC")
    cf = cmds.add_parser("configs", help="show a topic's configs, or change them",
                         description="Show a topic's configs (non-default ones unless --all), "
                                     "or change them with --set / --delete.")
    cf.add_argument("topic")
    cf.add_argument("--all", action="store_true", help="also the configs left at their defaults")
    cf.add_argument("--set", action="append", metavar="KEY=VALUE", help="set a config (repeatable)")
    cf.add_argument("--delete", action="append", metavar="KEY", help="back to the default (repeatable)")
    p.set_defaults(run=run)
    return p


async def run(args: argparse.Namespace) -> int:
    return await with_admin(args, lambda admin: ACTIONS[args.action](admin, args))


async def _list(admin: Admin, args: argparse.Namespace) -> int:
    for name in await admin.list_topics(include_internal=args.internal):
        print(name)
    return 0


async def _describe(admin: Admin, args: argparse.Namespace) -> int:
    described = await admin.describe_topics(args.topics)
    for name in args.topics:
        t = described[name]
        print(f"Topic: {t.name}\tTopicId: {t.topic_id}\tPartitions: {len(t.partitions)}")
        for part in t.partitions:
            print(f"\tPartition: {part.partition}\tLeader: {part.leader}\t"
                  f"Replicas: {','.join(map(str, part.replicas))}\tIsr: {','.join(map(str, part.isr))}")
    return 0


async def _create(admin: Admin, args: argparse.Namespace) -> int:
    from kafkaio import NewTopic

    await admin.create_topics([NewTopic(args.topic, args.partitions, args.replication_factor,
                                        configs=parse_kv(args.config, "--config") or None)],
                              wait_for_leaders=True)
    print(f"created topic {args.topic}")
    return 0


async def _delete(admin: Admin, args: argparse.Namespace) -> int:
    await admin.delete_topics(args.topics)
    for name in args.topics:
        print(f"deleted topic {name}")
    return 0


async def _configs(admin: Admin, args: argparse.Namespace) -> int:
    from kafkaio.admin import ConfigResource

    res = ConfigResource("topic", args.topic)
    changes: dict[str, str | None] = dict(parse_kv(args.set, "--set"))
    changes.update({k: None for k in args.delete or ()})
    if changes:
        await admin.incremental_alter_configs({res: changes})
        for k, v in changes.items():
            print(f"{k}={v}" if v is not None else f"{k} reset to default")
        return 0
    await admin.describe_topics([args.topic])  # a missing topic is an UnknownTopicOrPartitionError
    entries = (await admin.describe_configs([res]))[res]
    for name in sorted(entries):
        e = entries[name]
        if args.all or not e.is_default:
            value = "(sensitive)" if e.is_sensitive else e.value
            print(f"{name}={value}")
    return 0


ACTIONS = {"list": _list, "describe": _describe, "create": _create, "delete": _delete, "configs": _configs}
