"""Processing scenario: a handler that awaits 10 ms per record, on a 6-partition topic of 1,000 keys
and one of 100 keys; kafkaio's Processor with ``ordering="key"`` and ``"partition"``
(max_in_flight 256) against aiokafka's serial loop (``async for msg in consumer: await handle(msg)``).

The concurrency bound of a run is the most records that can be in their 10 ms at once:
``min(keys, max_in_flight)`` for key ordering, the partitions for partition ordering, 1 for the
serial loop; the bound on records/s is that over 10 ms. Each run is a process of its own
(``benchmarks/processing_child.py``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from benchmarks.runner import REPO_ROOT
from benchmarks.topics import Topics

HANDLER_MS = 10.0
MAX_IN_FLIGHT = 256
KEY_COUNTS = (1000, 100)
# --quick measures the first topic only: each key count's three runs take about half a minute,
# a sixth of quick mode's 3-minute budget
QUICK_KEY_COUNTS = KEY_COUNTS[:1]
RUNS = (("kafkaio", "key"), ("kafkaio", "partition"), ("aiokafka", "serial"))
PARAMETERS = (f"a handler awaiting {HANDLER_MS:.0f} ms per record (`asyncio.sleep`), "
              f"max_in_flight {MAX_IN_FLIGHT}; records/s over a window after a one-second warm-up, "
              "from a backlog; p99 end-to-end latency (record timestamp to handler done) of records "
              "then produced at half that rate into a fresh topic; "
              f"the {QUICK_KEY_COUNTS[0]:,}-key topic only with `--quick`")


def bound(ordering: str, keys: int, partitions: int) -> int:
    """The most records in their handler at once."""
    if ordering == "key":
        return min(keys, MAX_IN_FLIGHT)
    if ordering == "partition":
        return partitions
    return 1


def _child(mode: str, cfg: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.processing_child", mode, json.dumps(cfg)],
                          capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=timeout_s)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(bootstrap: str, topics: Topics, quick: bool, partitions: int = 6,
        timeout_s: float = 300.0) -> tuple[list[dict[str, Any]], str | None]:
    """(rows, None) when every run worked, else (the rows that did, the first error)."""
    window_s = 3.0 if quick else 10.0
    backlog = 120_000 if quick else 400_000
    rows: list[dict[str, Any]] = []
    error = None
    for keys in QUICK_KEY_COUNTS if quick else KEY_COUNTS:
        base = {"bootstrap": bootstrap, "keys": keys, "partitions": partitions, "handler_ms": HANDLER_MS,
                "max_in_flight": MAX_IN_FLIGHT, "window_s": window_s}
        try:
            topic = topics.create(f"bench-processing-{keys}", partitions)
            _child("fill", dict(base, topic=topic, records=backlog), timeout_s)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            error = error or f"filling the {keys}-key topic: {exc}"
            continue
        for client, ordering in RUNS:
            live = topics.create(f"bench-processing-live-{keys}", partitions)
            cfg = dict(base, client=client, ordering=ordering, topic=topic, live_topic=live)
            try:
                result = _child("run", cfg, timeout_s)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                error = error or f"{client} {ordering}, {keys} keys: {exc}"
                continue
            finally:
                topics.delete(live)
            b = bound(ordering, keys, partitions)
            rows.append(dict(result, client=client, ordering=ordering, keys=keys, bound=b,
                             bound_rate=b * 1000.0 / HANDLER_MS))
            print(f"processing: {client} {ordering} {keys} keys: {result['rate']:,.0f} records/s "
                  f"(bound {b * 1000.0 / HANDLER_MS:,.0f}), p99 {result['p99_ms']} ms",
                  file=sys.stderr, flush=True)
        topics.delete(topic)
    return rows, error


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The report's table: each run's records/s, against its bound and the serial loop."""
    out = ["| keys | client | ordering | concurrency bound | bound records/s | records/s | % of bound | "
           "x serial loop | x partition | p99 latency ms |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        same = [o for o in rows if o["keys"] == r["keys"]]
        serial = next((o["rate"] for o in same if o["ordering"] == "serial"), None)
        part = next((o["rate"] for o in same if o["ordering"] == "partition"), None)
        p99 = "n/a" if r.get("p99_ms") is None else f"{r['p99_ms']:,.0f}"
        vs_serial = f"{r['rate'] / serial:.1f}x" if serial else "n/a"
        vs_part = f"{r['rate'] / part:.1f}x" if part else "n/a"
        out.append(f"| {r['keys']:,} | {r['client']} | {r['ordering']} | {r['bound']} | {r['bound_rate']:,.0f} | "
                   f"{r['rate']:,.0f} | {100 * r['rate'] / r['bound_rate']:.0f}% | {vs_serial} | {vs_part} | "
                   f"{p99} |")
    return out
