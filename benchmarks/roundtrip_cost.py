"""What one ``send_and_wait`` round trip costs the client, counted rather than timed.

The latency scenario's round trip (``acks=all``, idempotent, ``linger_ms=0``, one record of
VALUE_SIZE bytes, one partition) counted two ways, both the same whatever the machine's load:

- ``instructions``: this module runs itself under ``valgrind --tool=callgrind`` twice, with N1 and
  N2 round trips after the same WARMUP, and prints ``(I2 - I1) / (N2 - N1)``: the CPU
  instructions of one round trip (the client's process only; the broker runs elsewhere), start-up,
  imports and warm-up cancelled out.
- ``bytecodes``: Python bytecodes per round trip over N round trips (``sys.settrace`` with
  ``f_trace_opcodes``), per module and per function (the TOP most): where the Python work is.

Environment: KAFKAIO_BOOTSTRAP (required), LOOP (uvloop or asyncio; uvloop), VALUE_SIZE (100),
WARMUP (50), N1 (200), N2 (1200), N (300), TOP (40).

    KAFKAIO_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python -m benchmarks.roundtrip_cost instructions
    KAFKAIO_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python -m benchmarks.roundtrip_cost bytecodes

``PYTHONPATH=/path/to/other/tree`` counts another tree's ``kafkaio``.
"""
from __future__ import annotations

import asyncio
import collections
import os
import re
import subprocess
import sys
import tempfile
import uuid
from types import FrameType
from typing import Any, Callable

from kafkaio import Admin, NewTopic, Producer

Tracer = Callable[[FrameType, str, Any], Any]


async def _round_trips(n: int, trace: Tracer | None) -> None:
    """WARMUP round trips, then ``n`` more (traced with ``trace`` when given), on a topic of their
    own that is deleted afterwards."""
    bootstrap = os.environ["KAFKAIO_BOOTSTRAP"]
    value = b"x" * int(os.environ.get("VALUE_SIZE", "100"))
    topic = "roundtrip-cost-" + uuid.uuid4().hex[:8]
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1)], wait_for_leaders=True)
    try:
        # no admin client open while counting: its connection's work would be counted too
        await _send(bootstrap, topic, value, n, trace)
    finally:
        async with Admin(bootstrap_servers=bootstrap) as admin:
            await admin.delete_topics([topic])


async def _send(bootstrap: str, topic: str, value: bytes, n: int, trace: Tracer | None) -> None:
    producer = Producer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0)
    await producer.start()
    try:
        for _ in range(int(os.environ.get("WARMUP", "50"))):
            await producer.send_and_wait(topic, value)
        if trace is not None:
            sys.settrace(trace)
        try:
            for _ in range(n):
                await producer.send_and_wait(topic, value)
        finally:
            sys.settrace(None)
    finally:
        await producer.close()


def _run(n: int, trace: Tracer | None = None) -> None:
    if os.environ.get("LOOP", "uvloop") == "uvloop":
        import uvloop

        uvloop.run(_round_trips(n, trace))
    else:
        asyncio.run(_round_trips(n, trace))


def _instructions(n: int) -> int:
    """Instructions of a whole run of WARMUP + ``n`` round trips under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                        "-m", "benchmarks.roundtrip_cost", "run", str(n)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            match = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.MULTILINE)
    if match is None:
        raise RuntimeError("callgrind wrote no instruction total")
    return int(match.group(1))


def instructions() -> None:
    n1, n2 = int(os.environ.get("N1", "200")), int(os.environ.get("N2", "1200"))
    i1, i2 = _instructions(n1), _instructions(n2)
    print(f"instructions: {i1} for {n1} round trips, {i2} for {n2}; "
          f"per round trip {(i2 - i1) / (n2 - n1):.0f}")


def bytecodes() -> None:
    n = int(os.environ.get("N", "300"))
    counts: collections.Counter[tuple[str, int, str]] = collections.Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Tracer:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename, code.co_firstlineno, code.co_qualname)] += 1
        return trace

    _run(n, trace)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__import__("kafkaio").__file__)))
    by_module: collections.Counter[str] = collections.Counter()
    for (filename, _, _), count in counts.items():
        by_module[os.path.relpath(filename, root)] += count
    print(f"bytecodes per round trip: {sum(counts.values()) / n:.0f}")
    for module, count in by_module.most_common():
        if count >= n:  # at least one per round trip
            print(f"{count / n:8.1f}  {module}")
    print("functions:")
    for (filename, line, name), count in counts.most_common(int(os.environ.get("TOP", "40"))):
        print(f"{count / n:8.1f}  {os.path.relpath(filename, root)}:{line} {name}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "run":  # one callgrind run (instructions() starts these)
        _run(int(sys.argv[2]))
    elif what == "instructions":
        instructions()
    elif what == "bytecodes":
        bytecodes()
    else:
        sys.exit("usage: python -m benchmarks.roundtrip_cost instructions|bytecodes")
