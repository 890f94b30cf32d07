"""``kafkaio produce``: records from stdin, one per line (or one JSON object per line)."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from kafkaio.cli.common import Subparsers, CliError, EXIT_USAGE, Progress, bounded, client_settings, parse_kv

HELP = "send records read from stdin (one per line) to a topic"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("produce", help=HELP, description=HELP + ". " + (
        "With --json each line is an object {\"value\": ..., \"key\": ..., \"headers\": {...}, "
        "\"partition\": N}; a string value is sent as UTF-8, any other JSON value as its JSON text."))
    p.add_argument("topic")
    p.add_argument("-K", "--key-separator", metavar="SEP",
                   help="split each line at the first SEP into key and value (like kcat -K)")
    p.add_argument("--json", action="store_true", help="each line is a JSON object (see above)")
    p.add_argument("-H", "--header", action="append", metavar="KEY=VALUE",
                   help="a header on every record (repeatable)")
    p.add_argument("-p", "--partition", type=int, help="send every record to this partition")
    p.add_argument("-z", "--compression", choices=["none", "gzip", "snappy", "lz4", "zstd"], default="none")
    p.add_argument("--acks", choices=["0", "1", "all"], default="all")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="records/s on stderr (default: when stderr is a terminal)")
    p.set_defaults(run=run)
    return p


def _bytes(v: Any) -> bytes | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v.encode()
    return json.dumps(v, separators=(",", ":")).encode()


def _record(line: str, args: argparse.Namespace, headers: list[tuple[str, bytes]], lineno: int
            ) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int | None]:
    if args.json:
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise CliError(f"stdin line {lineno}: not JSON: {exc}", EXIT_USAGE) from None
        if not isinstance(obj, dict):
            raise CliError(f"stdin line {lineno}: expected a JSON object", EXIT_USAGE)
        hs = headers + [(k, _bytes(v) or b"") for k, v in (obj.get("headers") or {}).items()]
        return _bytes(obj.get("key")), _bytes(obj.get("value")), hs, obj.get("partition", args.partition)
    if args.key_separator:
        key, sep, value = line.partition(args.key_separator)
        if not sep:
            raise CliError(f"stdin line {lineno}: no key separator {args.key_separator!r}", EXIT_USAGE)
        return key.encode(), value.encode(), headers, args.partition
    return None, line.encode(), headers, args.partition


async def run(args: argparse.Namespace) -> int:
    from kafkaio import Producer

    headers = [(k, v.encode()) for k, v in parse_kv(args.header, "--header").items()]
    settings = client_settings(args)
    settings.update(acks=args.acks if args.acks == "all" else int(args.acks),
                    compression_type=args.compression, max_block_ms=int(args.timeout * 1000))
    progress = Progress(sys.stderr.isatty() if args.progress is None else args.progress, "sent")
    producer = Producer(**settings)
    await bounded(producer.start(), args, "connect")
    try:
        # the topic must exist: a typo fails fast with exit code 3 instead of blocking in send
        await bounded(producer.partitions_for(args.topic), args, "metadata")
        pending: list[Any] = []
        loop = asyncio.get_running_loop()
        lineno = 0
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            lineno += 1
            line = line.rstrip("\r\n")
            if not line and not args.json:
                continue
            key, value, hs, partition = _record(line, args, headers, lineno)
            pending.append(await producer.send(args.topic, value, key=key, partition=partition, headers=hs or None))
            if len(pending) >= 1000:
                for fut in pending:
                    await fut
                progress.add(len(pending))
                pending.clear()
        for fut in pending:
            await fut
        progress.add(len(pending))
    finally:
        await producer.close()
    progress.done()
    return 0
