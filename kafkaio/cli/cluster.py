"""``kafkaio cluster``: the cluster id, controller and brokers."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kafkaio.cli.common import Subparsers, with_admin

if TYPE_CHECKING:
    from kafkaio.admin import Admin

HELP = "show the cluster id, the controller and the brokers"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("cluster", help=HELP, description=HELP + ".")
    p.set_defaults(run=run)
    return p


async def run(args: argparse.Namespace) -> int:
    async def body(admin: Admin) -> int:
        c = await admin.describe_cluster()
        print(f"Cluster: {c.cluster_id}\tController: {c.controller_id}")
        for b in sorted(c.brokers, key=lambda n: n.node_id):
            rack = f"\tRack: {b.rack}" if b.rack else ""
            print(f"\tBroker: {b.node_id}\t{b.host}:{b.port}{rack}")
        return 0
    return await with_admin(args, body)
