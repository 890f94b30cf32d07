"""kafkaio share consumers and Java's (the console share consumer of kafka-tools 4.4) in one share
group on one 2-partition topic: every record is accepted exactly once across all four."""
from __future__ import annotations

import asyncio
import re
import subprocess
from collections import Counter

import pytest

from kafkaio import ShareConsumer, ShareConsumerRecord
from kafkaio.retry import Deadline
from kafkaio.testing.broker import fetch_jars, find_java

from share_helpers import SHARE_KAFKA_VERSION, left_over, produce

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def _java_share_consumer(bootstrap: str, topic: str, group: str) -> subprocess.Popen[str]:
    libs = fetch_jars(SHARE_KAFKA_VERSION)
    return subprocess.Popen(
        [find_java(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", f"{libs}/*",
         "org.apache.kafka.tools.consumer.ConsoleShareConsumer", "--bootstrap-server", bootstrap,
         "--topic", topic, "--group", group, "--timeout-ms", "15000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


async def test_kafkaio_and_java_share_consumers_accept_every_record_once(share_bootstrap: str, share_topic: str,
                                                                         share_group) -> None:
    group = await share_group()
    first = await produce(share_bootstrap, share_topic, 300, prefix="a")
    java = _java_share_consumer(share_bootstrap, share_topic, group)
    java_values: list[bytes] = []
    assert java.stdout is not None
    try:
        line = await asyncio.wait_for(asyncio.to_thread(java.stdout.readline), 120)
        assert line, "the Java share consumer printed nothing"
        java_values.append(line.rstrip("\n").encode())
        stdout = java.stdout

        def read_the_rest() -> None:  # in a thread, so that the members see Java's progress
            for rest in stdout:
                java_values.append(rest.rstrip("\n").encode())

        reader = asyncio.create_task(asyncio.to_thread(read_the_rest))

        got: list[ShareConsumerRecord] = []
        consumers = [ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group, max_poll_records=20)
                     for _ in range(3)]
        await asyncio.gather(*(c.start() for c in consumers))
        try:
            values = set(first) | {f"b{c}-{i}".encode() for c in range(9) for i in range(100)}

            async def member(c: ShareConsumer) -> None:
                deadline = Deadline(120000)
                while not deadline.expired and len({r.value for r in got}) + len(java_values) < len(values):
                    for records in (await c.getmany(timeout_ms=500, max_records=20)).values():
                        got.extend(records)
                    await asyncio.sleep(0.01)
                await c.commit()

            members = [asyncio.create_task(member(c)) for c in consumers]
            for chunk in range(9):  # while every member polls, Java's and ours compete for each chunk
                await produce(share_bootstrap, share_topic, 100, prefix=f"b{chunk}-")
                await asyncio.sleep(0.2)
            await asyncio.gather(*members)
        finally:
            await asyncio.gather(*(c.close() for c in consumers))
        # the Java consumer exits 15 s after its last record, acknowledging what it printed
        await asyncio.wait_for(reader, 180)
        assert await asyncio.to_thread(java.wait, 60) == 0
    finally:
        if java.poll() is None:
            java.kill()
            java.wait()
    # besides the records, the tool prints how it ended: a TimeoutException after --timeout-ms idle
    java_records = [v for v in java_values if re.fullmatch(rb"a\d+|b\d-\d+", v)]
    other_lines = [v for v in java_values if v not in java_records and v]
    assert all(b"TimeoutException" in v or b"terminating consumer process" in v for v in other_lines), other_lines
    java_values = java_records
    counts = Counter([r.value for r in got] + java_values)
    assert set(counts) == values
    assert [v for v, n in counts.items() if n > 1] == []
    assert len(java_values) >= 1 and len(got) >= 1
    assert await left_over(share_bootstrap, share_topic, group) == []
