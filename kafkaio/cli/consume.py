"""``kafkaio consume``: records to stdout, from a group or from chosen partitions and offsets."""
from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from kafkaio.cli.common import (CliError, EXIT_NOT_FOUND, EXIT_USAGE, Progress, Subparsers, bounded,
                                client_settings)

if TYPE_CHECKING:
    from kafkaio.records import ConsumerRecord

HELP = "print a topic's records on stdout"

_TEMPLATE = re.compile(r"%[tpokKsSTh%]|\\[nt\\]")


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("consume", help=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=HELP + ".\n\n"
        "Without --group the partitions (-p, default: all) are assigned and read from --offset;\n"
        "with --group the topic is subscribed, the group's committed offsets are used and\n"
        "the offsets of what was printed are committed on exit (also on Ctrl-C).\n\n"
        "-f template (as kcat's): %t topic, %p partition, %o offset, %k key, %s value,\n"
        "%K key length, %S value length, %T timestamp (ms), %h headers (k=v,...), %% percent,\n"
        "\\n newline, \\t tab.")
    p.add_argument("topic")
    p.add_argument("-g", "--group", help="consume as a member of this consumer group")
    p.add_argument("-p", "--partition", type=int, action="append", metavar="N",
                   help="read only this partition (repeatable; not with --group)")
    p.add_argument("-o", "--offset", default=None,
                   help="where to start: beginning, end, or an offset number (default: beginning; "
                        "with --group: the committed offset, else beginning)")
    p.add_argument("-c", "--count", type=int, help="exit after this many records")
    p.add_argument("-e", "--exit-at-end", action="store_true",
                   help="exit when the end of every partition is reached (not with --group)")
    p.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                   help="exit when no record arrives for this long")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("-F", "--format", choices=["value", "json"], default="value",
                     help="value: the value per line; json: one JSON object per record with its metadata")
    fmt.add_argument("-f", "--template", help="a kcat-like output template (see above)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="records/s on stderr (default: when stderr is a terminal)")
    p.set_defaults(run=run)
    return p


def _text(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8", "replace")


def _json_field(b: bytes | None) -> Any:
    """UTF-8 text as a string; other bytes as {"base64": ...} so nothing is lost."""
    if b is None:
        return None
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode()}


def render(rec: ConsumerRecord, args: argparse.Namespace) -> str:
    if args.template is not None:
        def sub(m: re.Match[str]) -> str:
            c = m.group(0)
            if c == "%t": return rec.topic
            if c == "%p": return str(rec.partition)
            if c == "%o": return str(rec.offset)
            if c == "%k": return _text(rec.key) or ""
            if c == "%s": return _text(rec.value) or ""
            if c == "%K": return str(-1 if rec.key is None else len(rec.key))
            if c == "%S": return str(-1 if rec.value is None else len(rec.value))
            if c == "%T": return str(rec.timestamp)
            if c == "%h": return ",".join(f"{k}={_text(v) or ''}" for k, v in rec.headers)
            return {"%%": "%", "\\n": "\n", "\\t": "\t", "\\\\": "\\"}[c]
        return _TEMPLATE.sub(sub, args.template)
    if args.format == "json":
        return json.dumps({"topic": rec.topic, "partition": rec.partition, "offset": rec.offset,
                           "timestamp": rec.timestamp, "key": _json_field(rec.key),
                           "value": _json_field(rec.value),
                           "headers": [[k, _json_field(v)] for k, v in rec.headers]},
                          ensure_ascii=False) + "\n"
    return (_text(rec.value) or "") + "\n"


async def run(args: argparse.Namespace) -> int:
    from kafkaio import Consumer, TopicPartition

    if args.group and (args.partition or args.exit_at_end):
        raise CliError("--partition and --exit-at-end cannot be used with --group", EXIT_USAGE)
    if args.offset not in (None, "beginning", "end") and not args.offset.lstrip("-").isdigit():
        raise CliError(f"--offset: expected beginning, end or a number, got {args.offset!r}", EXIT_USAGE)
    settings = client_settings(args)
    settings.update(enable_auto_commit=False,
                    auto_offset_reset="latest" if args.offset == "end" else "earliest")
    if args.group:
        settings["group_id"] = args.group
    consumer = Consumer(**settings)
    await bounded(consumer.start(), args, "connect")
    progress = Progress(sys.stderr.isatty() if args.progress is None else args.progress, "received")
    printed: dict[Any, int] = {}
    try:
        # asked without naming the topic, so that a broker with auto.create.topics.enable does
        # not create a mistyped one
        if args.topic not in await bounded(consumer.topics(), args, "metadata"):
            raise CliError(f"topic {args.topic!r} does not exist", EXIT_NOT_FOUND)
        parts = await bounded(consumer.partitions_for_topic(args.topic), args, "metadata")
        ends: dict[Any, int] = {}
        if args.group:
            consumer.subscribe([args.topic])
        else:
            wanted = sorted(parts) if not args.partition else args.partition
            missing = set(wanted) - set(parts)
            if missing:
                raise CliError(f"topic {args.topic!r} has no partition {sorted(missing)}", EXIT_NOT_FOUND)
            tps = [TopicPartition(args.topic, p) for p in wanted]
            consumer.assign(tps)
            if args.offset in (None, "beginning"):
                await consumer.seek_to_beginning(*tps)
            elif args.offset == "end":
                await consumer.seek_to_end(*tps)
            else:
                for tp in tps:
                    consumer.seek(tp, int(args.offset))
            if args.exit_at_end:
                ends = {tp: off for tp, off in (await consumer.end_offsets(tps)).items()}
                for tp in tps:
                    if await consumer.position(tp) >= ends[tp]:
                        del ends[tp]
                if not ends:
                    return 0
        out = sys.stdout
        idle_ms = None if args.idle_timeout is None else int(args.idle_timeout * 1000)
        while True:
            batches = await consumer.getmany(timeout_ms=idle_ms if idle_ms is not None else 1000)
            if not batches and idle_ms is not None:
                return 0
            for tp, records in batches.items():
                for rec in records:
                    out.write(render(rec, args))
                    printed[tp] = rec.offset + 1
                    progress.add()
                    if args.count is not None and progress.count >= args.count:
                        out.flush()
                        return 0
                    if tp in ends and rec.offset + 1 >= ends[tp]:
                        del ends[tp]
                        if not ends:
                            out.flush()
                            return 0
            out.flush()
    finally:
        try:
            if args.group and printed:
                await consumer.commit(printed)
        finally:
            await consumer.stop()
            progress.done()
