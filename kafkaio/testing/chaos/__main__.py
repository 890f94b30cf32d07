"""``python -m kafkaio.testing.chaos``: run the fault-schedule verifier (see docs/chaos.md).

    --seed N                 one seed (replay); with --workload both, each workload once
    --seeds K                K random seeds per workload (hunting)
    --soak 30m               random seeds until the time is up, then the summary table
    (none of these)          the CI schedules
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kafkaio.testing.chaos.runner import CI_SEEDS, proxied, run_many


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h`` -> seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 30m, 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _settings(path: str | None) -> dict[str, Any]:
    """Client settings from a JSON object; Java's dotted names are accepted (``linger.ms``)."""
    if not path:
        return {}
    raw = json.loads(Path(path).read_text())
    return {k.replace(".", "_"): v for k, v in raw.items()}


def _plan(args: argparse.Namespace) -> Iterator[tuple[str, int, float]]:
    workloads = {"both": ["producer", "group"], "all": ["producer", "group", "txn", "ctp"]}.get(args.workload,
                                                                                             [args.workload])
    if args.seed is not None:
        for w in workloads:
            yield w, args.seed, args.duration
    elif args.seeds is not None or args.soak is not None:
        rng = random.Random()
        count = 0
        while args.seeds is None or count < args.seeds:
            for w in workloads:
                yield w, rng.randrange(1, 10**9), args.duration
            count += 1
    else:
        for w, seed, duration in CI_SEEDS:
            if w in workloads:
                yield w, seed, duration


async def _main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The clients log every retry they make under faults; keep that in a file, not on the terminal.
    handler = logging.FileHandler(out / "clients.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger("kafkaio").addHandler(handler)
    logging.getLogger("kafkaio").setLevel(logging.INFO)
    logging.getLogger("kafkaio").propagate = False
    deadline = started + args.soak if args.soak is not None else None
    async with proxied(args.brokers) as system:
        print(f"{len(system.all_proxies)} broker(s) {system.cluster.version} behind proxies {system.bootstrap}", flush=True)
        summary = await run_many(
            _plan(args), system, deadline=deadline, stop_on=set(args.stop_on or ()), java=args.java,
            out_dir=out, settings=_settings(args.client_config),
            producer_settings=_settings(args.producer_config))
    summary.elapsed = time.monotonic() - started
    print("\n" + summary.table(), flush=True)
    return 1 if summary.violations or summary.errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kafkaio.testing.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--workload", choices=("producer", "group", "txn", "ctp", "both", "all"), default="both",
                        help="both: producer and group (the first slice); all: txn and ctp as well")
    parser.add_argument("--seed", type=int, help="run this seed (replay)")
    parser.add_argument("--seeds", type=int, help="run this many random seeds per workload")
    parser.add_argument("--soak", type=parse_duration, help="random seeds until this much time has passed")
    parser.add_argument("--duration", type=parse_duration, default=20.0, help="seconds per schedule (default 20)")
    parser.add_argument("--brokers", type=int, default=1, help="cluster size (each node behind its own proxy; "
                        "topics then have 3 replicas, min.insync.replicas 2)")
    parser.add_argument("--stop-on", action="append", metavar="RULE",
                        help="stop after the first schedule breaking RULE ('*': any); repeatable")
    parser.add_argument("--java", action=argparse.BooleanOptionalAction, default=True,
                        help="also read back with Kafka's console consumer (default: on)")
    parser.add_argument("--client-config", help="JSON file of settings for the workload's client "
                        "(producer for --workload producer and txn, consumer for group and ctp)")
    parser.add_argument("--producer-config", help="JSON file of settings for the feeder of group and ctp "
                        "(and ctp's transactional producers)")
    parser.add_argument("--out", default="chaos-out", help="where failing runs leave schedule, history and report")
    args = parser.parse_args(argv)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
