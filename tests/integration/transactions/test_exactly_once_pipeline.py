"""The headline exactly-once test: a consume-transform-produce pipeline run as a subprocess, killed
with SIGKILL at random points and restarted; the output read with read_committed must hold every
input record's result exactly once, in order per key."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pytest

import kafkaio

from txn_helpers import read_all, unique

pytestmark = pytest.mark.integration

WORKER = Path(__file__).parent / "pipeline_worker.py"
RECORDS = 3000
KEYS = 20
PARTITIONS = 3
KILLS = 5


async def _start_worker(bootstrap: str, src: str, dst: str, group: str, txn_id: str,
                        version: int) -> asyncio.subprocess.Process:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(kafkaio.__file__).parent.parent),
                                                       os.environ.get("PYTHONPATH", "")]))
    return await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), bootstrap, src, dst, group, txn_id, str(version),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env)


async def _wait_for_commits(proc: asyncio.subprocess.Process, n: int, timeout: float = 60) -> int:
    """Read the worker's progress lines until it committed ``n`` more transactions."""
    seen = 0
    async with asyncio.timeout(timeout):
        while seen < n:
            line = await proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise AssertionError(f"the worker exited (code {await proc.wait()}) before committing")
            if line.startswith(b"committed"):
                seen += 1
    return seen


async def test_pipeline_killed_and_restarted_produces_each_result_exactly_once(
        bootstrap_servers, topic_factory, txn_version) -> None:
    rng = random.Random()
    src = await topic_factory(partitions=PARTITIONS)
    dst = await topic_factory(partitions=PARTITIONS)
    expected: dict[bytes, list[bytes]] = {}
    async with kafkaio.Producer(bootstrap_servers, linger_ms=5) as p:
        futs = []
        for i in range(RECORDS):
            key = b"k%d" % (i % KEYS)
            value = b"%s:%d" % (key, i)
            expected.setdefault(key, []).append(b"out:" + value)
            futs.append(await p.send(src, value, key=key))
        await asyncio.gather(*futs)

    group, txn_id = unique("eos-group"), unique("eos-txn")
    kills = 0
    proc = await _start_worker(bootstrap_servers, src, dst, group, txn_id, txn_version)
    try:
        for kills in range(1, KILLS + 1):
            await _wait_for_commits(proc, rng.randint(1, 4))
            await asyncio.sleep(rng.uniform(0, 0.2))  # somewhere inside the next transaction
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            proc = await _start_worker(bootstrap_servers, src, dst, group, txn_id, txn_version)
        got = await read_all(bootstrap_servers, dst, PARTITIONS, want=RECORDS, timeout=60)
        await asyncio.sleep(1.0)  # anything beyond RECORDS (a duplicate) would show up now
        got = await read_all(bootstrap_servers, dst, PARTITIONS)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
    assert kills == KILLS
    by_key: dict[bytes, list[bytes]] = {}
    for r in got:
        by_key.setdefault(r.key, []).append(r.value)
    assert len(got) == RECORDS, f"{len(got)} results for {RECORDS} inputs (lost or duplicated)"
    for key, want in expected.items():
        assert by_key.get(key) == want, f"key {key!r}: results missing, duplicated or out of order"
