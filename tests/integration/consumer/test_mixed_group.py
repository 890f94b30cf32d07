"""A group shared by a kafkaio consumer and a Java consumer (the console consumer from the broker's
Maven artifacts): both speak the same embedded consumer protocol, so they agree on the assignor,
get disjoint partitions, and together consume everything."""
from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

import kafkaio
from kafkaio.testing.broker import fetch_jars, find_java

from consumer_helpers import unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def java_console_consumer(bootstrap: str, topic: str, group: str, properties: dict[str, str],
                          version: str | None = None) -> subprocess.Popen:
    """Java's console consumer of ``version`` (default: the suite's) with these consumer properties."""
    root = fetch_jars(version)
    libs = root / "libs" if (root / "libs").exists() else root
    cmd = [find_java(), "-Xmx256m", "-cp", f"{libs}/*", "org.apache.kafka.tools.consumer.ConsoleConsumer",
           "--bootstrap-server", bootstrap, "--topic", topic, "--group", group,
           *(arg for k, v in properties.items() for arg in ("--consumer-property", f"{k}={v}")),
           "--property", "print.partition=true"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


async def kafkaio_and_java_share_a_group(bootstrap: str, raw_producer, java_properties: dict[str, str],
                                         settings: dict, java_leads: bool, version: str | None = None) -> None:
    """A Java console consumer (``java_properties``) and a kafkaio consumer (``settings``) in one
    group, either joining first, get disjoint partitions and together consume every record once."""
    topic, group = unique(), unique("g")
    await raw_producer.create_topic(topic, 6)
    lines: list[str] = []
    java = java_console_consumer(bootstrap, topic, group, java_properties, version)
    early = set(range(1000, 1006))

    async def read_java() -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, java.stdout.readline)
            if not line:
                return
            lines.append(line.strip())

    reader = asyncio.get_running_loop().create_task(read_java())
    try:
        if java_leads:
            # The Java consumer joins alone (so it is the leader and runs the assignor over our
            # metadata when we join); seeing these records means it has joined.
            for p in range(6):
                await raw_producer.send_batch(topic, p, [str(1000 + p).encode()])
            deadline = time.monotonic() + 90
            while sum(ln.startswith("Partition:") for ln in lines) < 6 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert sum(ln.startswith("Partition:") for ln in lines) == 6, "the Java consumer never joined"
        async with kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                    **settings) as c:
            c.subscribe([topic])
            # Wait until the group settled with both members: kafkaio holds some, not all, partitions.
            deadline = time.monotonic() + 120
            stable_since = None
            last = None
            while time.monotonic() < deadline:
                await c.getmany(timeout_ms=200)
                a = c.assignment()
                if a != last:
                    last, stable_since = a, time.monotonic()
                if a and len(a) < 6 and time.monotonic() - stable_since > 3:
                    break
            mine = {tp.partition for tp in c.assignment()}
            assert 0 < len(mine) < 6, f"group never shared: kafkaio has {sorted(mine)}"
            await raw_producer.send_numbered(topic, 6, 600, per_batch=25)
            got: dict[int, int] = {}   # value -> partition, from kafkaio
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for tp, recs in (await c.getmany(timeout_ms=200)).items():
                    for r in recs:
                        got[int(r.value)] = tp.partition
                java_values = [ln for ln in lines if ln.startswith("Partition:")]
                if len(got) + len(java_values) >= 600 + (6 if java_leads else 0):
                    break
            await asyncio.sleep(1)
            java_got: dict[int, int] = {}
            for ln in lines:
                if ln.startswith("Partition:"):
                    part, value = ln.split("\t", 1)
                    java_got[int(value)] = int(part.split(":")[1])
            assert set(got) | set(java_got) == set(range(600)) | (early if java_leads else set())
            assert not (set(got) & set(java_got)), "a record consumed by both"
            assert {p for v, p in got.items() if v < 1000} <= mine
            assert not ({p for v, p in java_got.items() if v < 1000} & mine), "disjoint assignments"
            assert java_got, "the Java member consumed its share"
    finally:
        java.terminate()
        try:
            java.wait(15)
        except subprocess.TimeoutExpired:
            java.kill()
            java.wait()
        reader.cancel()


@pytest.mark.parametrize("strategy,java_class", [
    ("range", "org.apache.kafka.clients.consumer.RangeAssignor"),
    ("roundrobin", "org.apache.kafka.clients.consumer.RoundRobinAssignor"),
    ("sticky", "org.apache.kafka.clients.consumer.StickyAssignor"),
    ("cooperative-sticky", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"),
])
@pytest.mark.parametrize("java_leads", [False, True], ids=["kafkaio-leads", "java-leads"])
async def test_kafkaio_and_java_share_a_group(consumer_bootstrap, raw_producer, strategy, java_class,
                                              java_leads) -> None:
    await kafkaio_and_java_share_a_group(
        consumer_bootstrap, raw_producer,
        {"partition.assignment.strategy": java_class, "auto.offset.reset": "earliest",
         "heartbeat.interval.ms": "500", "session.timeout.ms": "10000"},
        {"partition_assignment_strategy": strategy, "heartbeat_interval_ms": 500, "session_timeout_ms": 10000},
        java_leads)
