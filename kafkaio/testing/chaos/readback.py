"""Read a run's log back after the faults, with clients that took no part in the run: a fresh
kafkaio consumer (topic records and the group's commits as stored in ``__consumer_offsets``) and,
when the broker's jars are at hand, Kafka's own Java console consumer, so that the verdict never
rests on our consumer alone."""
from __future__ import annotations

import asyncio
import struct
import subprocess
from pathlib import Path
from typing import Any, Literal

from kafkaio.testing.chaos.checker import CommitRecord, LogRecord

IsolationLevel = Literal["read_uncommitted", "read_committed"]

__all__ = ["java_read_topic", "parse_offset_commit", "read_commits", "read_topic"]

OFFSETS_TOPIC = "__consumer_offsets"


def _text(b: bytes | None) -> str | None:
    return None if b is None else bytes(b).decode("utf-8", "replace")


async def _settled_ends(c: Any, tps: list[Any], timeout: float, pause: float = 1.0) -> dict[Any, int]:
    """The end offsets once two reads ``pause`` seconds apart agree: after a run, a restarted
    replica rejoining the ISR or a broker finishing a recovery can still move the high watermark,
    and a reader that stops at an earlier end than its peer would disagree with it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout / 4
    ends = await c.end_offsets(tps)
    while loop.time() < deadline:
        await asyncio.sleep(pause)
        later = await c.end_offsets(tps)
        if later == ends:
            break
        ends = later
    return dict(ends)


async def _read_all(bootstrap: str, topic: str, timeout: float, isolation_level: IsolationLevel = "read_uncommitted") -> list[Any]:
    """Every record of every partition of ``topic``, from the beginning to the end offsets once they
    have stopped moving (the last stable offsets with ``read_committed``)."""
    from kafkaio.consumer.consumer import Consumer
    from kafkaio.structs import TopicPartition

    out: list[Any] = []
    async with Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                        client_id="chaos-readback", isolation_level=isolation_level) as c:
        tps = [TopicPartition(topic, p) for p in sorted(await c.partitions_for_topic(topic))]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        ends = await _settled_ends(c, tps, timeout)

        async def drain() -> None:
            while True:
                remaining = []
                for tp in tps:
                    if await c.position(tp) < ends[tp]:
                        remaining.append(tp)
                if not remaining:
                    return
                for recs in (await c.getmany(timeout_ms=500, max_records=5000)).values():
                    out.extend(recs)

        await asyncio.wait_for(drain(), timeout)
    return out


async def read_topic(bootstrap: str, topic: str, timeout: float = 120.0,
                     isolation_level: IsolationLevel = "read_uncommitted") -> list[LogRecord]:
    """``topic``'s records, as a fresh kafkaio consumer reads them."""
    return [LogRecord(r.topic, r.partition, r.offset, _text(r.key), _text(r.value))
            for r in await _read_all(bootstrap, topic, timeout, isolation_level)]


def parse_offset_commit(key: bytes | None, value: bytes | None) -> tuple[str, str, int, int] | None:
    """``(group, topic, partition, offset)`` of an offset commit record of ``__consumer_offsets``;
    None for other records (group metadata, tombstones).

    Key versions 0 and 1 are offset commits: version, group, topic, partition. Every value version
    starts with its version and the offset.
    """
    if key is None or value is None or len(key) < 2:
        return None
    (version,) = struct.unpack_from(">h", key, 0)
    if version not in (0, 1):
        return None
    pos = 2
    names = []
    for _ in range(2):
        (n,) = struct.unpack_from(">h", key, pos)
        pos += 2
        names.append(bytes(key[pos:pos + n]).decode())
        pos += n
    (partition,) = struct.unpack_from(">i", key, pos)
    (offset,) = struct.unpack_from(">q", value, 2)
    return names[0], names[1], partition, offset


async def read_commits(bootstrap: str, timeout: float = 120.0,
                       isolation_level: IsolationLevel = "read_uncommitted") -> list[CommitRecord]:
    """Every offset commit stored in ``__consumer_offsets``, in log order per partition (a group's
    commits all live in one partition of it, so that order is the order the coordinator applied).
    ``read_committed`` leaves out the offsets of aborted transactions (and of open ones)."""
    out = []
    for r in await _read_all(bootstrap, OFFSETS_TOPIC, timeout, isolation_level):
        parsed = parse_offset_commit(r.key, r.value)
        if parsed is not None:
            out.append(CommitRecord(*parsed, position=(r.partition, r.offset)))
    return out


def java_read_topic(libs: Path, bootstrap: str, topic: str, expected: int, timeout_s: float = 15.0,
                    isolation_level: IsolationLevel = "read_uncommitted") -> list[LogRecord]:
    """``topic``'s records as Kafka's own ``kafka-console-consumer`` reads them (a JVM from the
    broker's jars in ``libs``). It stops after ``expected`` records or ``timeout_s`` seconds
    without a new one."""
    from kafkaio.testing.broker import find_java

    cmd = [
        find_java(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", f"{libs}/*",
        "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", bootstrap, "--topic", topic,
        "--from-beginning", "--timeout-ms", str(int(timeout_s * 1000)), "--max-messages", str(max(expected, 1)),
        "--property", "print.partition=true", "--property", "print.offset=true", "--property", "print.key=true",
        "--property", "key.separator=|", "--consumer-property", f"isolation.level={isolation_level}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"kafka-console-consumer exited with {proc.returncode}: {proc.stderr[-2000:]}")
    return parse_console_output(proc.stdout, topic)


def parse_console_output(text: str, topic: str) -> list[LogRecord]:
    """Lines ``Partition:P|Offset:O|key|value`` (``null`` for a missing key or value)."""
    out = []
    for line in text.splitlines():
        if not line.startswith("Partition:"):
            continue
        part, off, key, value = line.split("|", 3)
        out.append(LogRecord(topic, int(part.split(":", 1)[1]), int(off.split(":", 1)[1]),
                             None if key == "null" else key, None if value == "null" else value))
    return out

