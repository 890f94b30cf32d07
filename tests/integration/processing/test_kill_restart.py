"""SIGKILL a Processor's process at random points and restart it: no record is skipped, and the
records handled twice are counted and reported (the records the killed process had finished
after its last commit, and those in flight). A graceful stop and restart handles none twice."""
from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

import kafkaio
from kafkaio.structs import TopicPartition

from processing_helpers import produce_keyed

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("processing_worker.py")
N = 20_000
PARTITIONS = 4


async def start_worker(bootstrap: str, topic: str, group: str, out: Path, *mode: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), bootstrap, topic, group, str(out), *mode,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 60)) == b"running\n"
    return proc


def handled(out: Path) -> list[tuple[int, int]]:
    if not out.exists():
        return []
    lines = out.read_text().splitlines()
    return [(int(p), int(o)) for p, o in (line.split() for line in lines if line.count(" ") == 1)]


async def wait_handled(out: Path, count: int, proc: asyncio.subprocess.Process) -> None:
    """Until ``count`` distinct records are in the worker's file."""
    end = time.monotonic() + 120
    while len(set(handled(out))) < count:
        assert proc.returncode is None, f"worker exited {proc.returncode}"
        assert time.monotonic() < end, f"{len(set(handled(out)))} of {count} handled"
        await asyncio.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_restart_skips_no_record(kill: signal.Signals, bootstrap_servers: str, topic_factory,
                                       tmp_path: Path) -> None:
    topic = await topic_factory(partitions=PARTITIONS)
    await produce_keyed(bootstrap_servers, topic, N, 300)
    group = f"kill-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "handled.txt"
    rng = random.Random(17)
    points = sorted(rng.sample(range(N // 10, N * 9 // 10), 4))
    for point in points:
        proc = await start_worker(bootstrap_servers, topic, group, out)
        await wait_handled(out, point, proc)
        proc.send_signal(kill)
        await asyncio.wait_for(proc.wait(), 60)
    proc = await start_worker(bootstrap_servers, topic, group, out)
    await wait_handled(out, N, proc)
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 60) == 0

    records = handled(out)
    counts = collections.Counter(records)
    assert len(counts) == N, "a record was skipped"
    twice = sum(n - 1 for n in counts.values())
    print(f"\n{kill.name} x{len(points)}: {twice} records handled again after a restart "
          f"({twice / len(points):.0f} per kill)")
    if kill is signal.SIGTERM:
        assert twice == 0, f"{twice} records handled twice after graceful stops"


@pytest.mark.slow
async def test_sigkill_during_transactional_hand_offs_dead_letters_each_record_once(
        bootstrap_servers: str, topic_factory, tmp_path: Path) -> None:
    """Half the records fail and go to the dead-letter topic in the transaction that commits them
    as finished: whatever the kill interrupts, a read_committed reader finds each exactly once."""
    n = 4000
    topic = await topic_factory(partitions=2)
    await topic_factory(partitions=1, name=f"{topic}-dlt")
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers) as producer:
        await (await producer.send_many(topic, [(f"k{i % 50}".encode(), str(i).encode()) for i in range(n)]))
    group = f"killtx-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "handled.txt"
    rng = random.Random(29)
    for point in sorted(rng.sample(range(n // 10, n * 4 // 10), 3)):
        proc = await start_worker(bootstrap_servers, topic, group, out, "dead-letters")
        await wait_handled(out, point, proc)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 60)
    proc = await start_worker(bootstrap_servers, topic, group, out, "dead-letters")
    await wait_handled(out, n // 2, proc)
    dead: list[int] = []
    async with kafkaio.Consumer(bootstrap_servers=bootstrap_servers, isolation_level="read_committed",
                                auto_offset_reset="earliest") as reader:
        reader.assign([TopicPartition(f"{topic}-dlt", 0)])
        # bounded by time, not by polls: each committed hand-off wakes a poll with a few records,
        # and the worker may still be dead-lettering the tail when the last good record is handled
        end = time.monotonic() + 120
        while len(dead) < n // 2 and time.monotonic() < end:
            for records in (await reader.getmany(timeout_ms=500)).values():
                dead.extend(int(r.value) for r in records)
        await asyncio.sleep(1)       # anything beyond the expected count would be a duplicate
        for records in (await reader.getmany(timeout_ms=500)).values():
            dead.extend(int(r.value) for r in records)
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 60) == 0
    twice = sorted(i for i, c in collections.Counter(dead).items() if c > 1)
    assert not twice, f"dead-lettered more than once: {twice[:20]}"
    assert sorted(dead) == list(range(0, n, 2))
    assert {o for _, o in handled(out)} and len(set(handled(out))) == n // 2
