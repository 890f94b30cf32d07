"""``kafkaio acls``: list, add and remove ACLs, with the options of Kafka's ``kafka-acls.sh``."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kafkaio.cli.common import EXIT_USAGE, CliError, with_admin

if TYPE_CHECKING:
    from kafkaio.admin import Admin

HELP = "list, add and remove ACLs (the brokers must run an authorizer)"

_OPERATIONS = ("All", "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
               "DescribeConfigs", "AlterConfigs", "IdempotentWrite", "CreateTokens", "DescribeTokens",
               "TwoPhaseCommit")
_CLUSTER_NAME = "kafka-cluster"


def _operation(name: str) -> str:
    """kafka-acls.sh's operation name (``IdempotentWrite``) as the AclOperation member's name."""
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper()


def _resource_options(p: argparse.ArgumentParser, filtering: bool) -> None:
    g = p.add_argument_group("resources" + (" (none: every resource)" if filtering else " (one or more)"))
    g.add_argument("--topic", action="append", default=[], metavar="NAME", help="a topic ('*': every topic)")
    g.add_argument("--group", action="append", default=[], metavar="NAME", help="a consumer or share group")
    g.add_argument("--transactional-id", action="append", default=[], metavar="ID", help="a transactional id")
    g.add_argument("--cluster", action="store_true", help="the cluster itself")
    choices = ("literal", "prefixed", "any", "match") if filtering else ("literal", "prefixed")
    g.add_argument("--resource-pattern-type", choices=choices, default="literal" if not filtering else "any",
                   help="how the names match: literal (or '*'), prefixed (KIP-290)"
                        + ("; any: literal or prefixed patterns of these names; match: every ACL that "
                           "applies to the named resources" if filtering else ""))


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("acls", help=HELP, description=HELP + ".")
    cmds = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = cmds.add_parser("list", help="the ACLs matching the options, one per line",
                         description="The ACLs matching the options (all of them without any), one per line.")
    _resource_options(ls, filtering=True)
    ls.add_argument("--principal", metavar="TYPE:NAME", help="only the ACLs of this principal (e.g. User:bob)")
    for name, doc in (("add", "create ACLs: each principal and operation on each resource"),
                      ("remove", "delete the ACLs matching the options and print them")):
        c = cmds.add_parser(name, help=doc, description=doc[0].upper() + doc[1:] + ".")
        _resource_options(c, filtering=name == "remove")
        c.add_argument("--allow-principal", action="append", default=[], metavar="TYPE:NAME",
                       help="a principal given the operations (repeatable)")
        c.add_argument("--deny-principal", action="append", default=[], metavar="TYPE:NAME",
                       help="a principal refused the operations (repeatable)")
        c.add_argument("--host", default="*" if name == "add" else None,
                       help="the client host the ACL applies to" + (" (default: every host, '*')" if name == "add"
                                                                    else " (default: any)"))
        c.add_argument("--operation", action="append", default=[], choices=_OPERATIONS, metavar="OPERATION",
                       help="one of " + ", ".join(_OPERATIONS) + " (repeatable" +
                            ("; required)" if name == "add" else "; default: any)"))
    p.set_defaults(run=run)
    return p


async def run(args: argparse.Namespace) -> int:
    return await with_admin(args, lambda admin: ACTIONS[args.action](admin, args))


def _patterns(args: argparse.Namespace, filtering: bool) -> list[Any]:
    from kafkaio.admin import ResourcePattern, ResourcePatternFilter, ResourceType

    named = [(ResourceType.TOPIC, n) for n in args.topic] + [(ResourceType.GROUP, n) for n in args.group] + \
        [(ResourceType.TRANSACTIONAL_ID, n) for n in args.transactional_id]
    if args.cluster:
        named.append((ResourceType.CLUSTER, _CLUSTER_NAME))
    kind = args.resource_pattern_type
    if filtering:
        return [ResourcePatternFilter(t, n, kind) for t, n in named] or [ResourcePatternFilter()]
    if not named:
        raise CliError("name at least one resource: --topic, --group, --transactional-id or --cluster", EXIT_USAGE)
    return [ResourcePattern(t, n, kind) for t, n in named]


def _principals(args: argparse.Namespace) -> list[tuple[str, str]]:
    return [(p, "ALLOW") for p in args.allow_principal] + [(p, "DENY") for p in args.deny_principal]


async def _list(admin: Admin, args: argparse.Namespace) -> int:
    from kafkaio.admin import AccessControlEntryFilter, AclBindingFilter

    seen: list[Any] = []
    for pattern in _patterns(args, filtering=True):
        for acl in await admin.describe_acls(AclBindingFilter(pattern, AccessControlEntryFilter(args.principal))):
            if acl not in seen:
                seen.append(acl)
    for acl in sorted(seen, key=str):
        print(acl)
    return 0


async def _add(admin: Admin, args: argparse.Namespace) -> int:
    from kafkaio.admin import AccessControlEntry, AclBinding

    principals = _principals(args)
    if not principals or not args.operation:
        raise CliError("add needs --allow-principal or --deny-principal, and --operation", EXIT_USAGE)
    bindings = [AclBinding(pattern, AccessControlEntry(principal, args.host, op, permission))
                for pattern in _patterns(args, filtering=False) for principal, permission in principals
                for op in map(_operation, args.operation)]
    await admin.create_acls(bindings)
    for b in bindings:
        print(f"added {b}")
    return 0


async def _remove(admin: Admin, args: argparse.Namespace) -> int:
    from kafkaio.admin import AccessControlEntryFilter, AclBindingFilter

    principals: list[tuple[str | None, str]] = [*_principals(args)] or [(None, "ANY")]
    entries = [AccessControlEntryFilter(principal, args.host, op, permission)
               for principal, permission in principals
               for op in (list(map(_operation, args.operation)) or ["ANY"])]
    filters = [AclBindingFilter(pattern, entry) for pattern in _patterns(args, filtering=True) for entry in entries]
    if filters == [AclBindingFilter()]:
        raise CliError("remove needs at least one resource, principal or operation: it would delete every ACL",
                       EXIT_USAGE)
    removed = await admin.delete_acls(filters)
    for acl in sorted({a for deleted in removed.values() for a in deleted}, key=str):
        print(f"removed {acl}")
    return 0


ACTIONS = {"list": _list, "add": _add, "remove": _remove}
