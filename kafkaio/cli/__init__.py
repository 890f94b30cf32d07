"""The ``kafkaio`` command line: ``kafkaio produce|consume|topics|groups|cluster|acls``.

Built on the standard library's argparse rather than click: no dependency to install or to
keep compatible with the user's own, and the fastest start-up (each command's module and the
clients are imported only when that command runs), which matters for a tool called from scripts
and loops. Exit codes are in :mod:`kafkaio.cli.common` and docs/cli.md.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Sequence

from kafkaio.cli import acls, cluster, consume, groups, produce, topics
from kafkaio.cli.common import (EXIT_INTERRUPTED, CliError, add_connection_options, exit_code_for)

__all__ = ["build_parser", "main"]

COMMANDS = (produce, consume, topics, groups, cluster, acls)


class _Parser(argparse.ArgumentParser):
    """No abbreviated options: ``--sasl-password`` must not be taken for ``--sasl-password-env``
    (nor anything else for an option added later)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kafkaio", description="A command line for Apache Kafka, built on the kafkaio client.",
        epilog="Exit codes: 0 ok, 1 Kafka error, 2 usage, 3 topic/group not found, "
               "4 cluster unreachable within --timeout, 130 interrupted.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMANDS:
        sp = mod.add_parser(sub)
        # the options go on the leaf commands only: argparse would let an ACTION's defaults
        # overwrite a value given before it (``topics -b X list``)
        for leaf in _children(sp) or [sp]:
            add_connection_options(leaf)
    return parser


def _children(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The ACTION sub-parsers of a command such as ``topics`` (they take the options too)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(dict.fromkeys(action.choices.values()))
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc: int = asyncio.run(args.run(args))  # the subcommand's run(), set by set_defaults
        return rc
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CliError as exc:
        print(f"kafkaio {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (| head): not an error worth a traceback
        return 0
    except Exception as exc:
        from kafkaio.errors import KafkaError

        if not isinstance(exc, KafkaError):
            raise
        print(f"kafkaio {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exit_code_for(exc)
