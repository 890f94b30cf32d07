"""Helpers for the transaction tests: read a topic to its end under either isolation level; a
read_committed group member with its partitions assigned."""
from __future__ import annotations

import time
import uuid

import kafkaio
from kafkaio.structs import TopicPartition


def unique(prefix: str = "txn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def read_all(bootstrap: str, topic: str, partitions: int = 1, *, committed: bool = True,
                   want: int | None = None, timeout: float = 20.0) -> list[kafkaio.ConsumerRecord]:
    """Every record of ``topic`` (read_committed or read_uncommitted), partition by partition in
    offset order. Reads until ``want`` records arrived, or (without ``want``) until the position
    reached the log end offsets (the high watermarks: a read_committed read also waits for the
    markers of transactions that ended before the call, which the coordinator writes after it
    answered EndTxn)."""
    isolation = "read_committed" if committed else "read_uncommitted"
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    out: dict[TopicPartition, list] = {tp: [] for tp in tps}
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, enable_auto_commit=False) as hw:
        ends = await hw.end_offsets(tps)  # read_uncommitted: the high watermarks
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                isolation_level=isolation, enable_auto_commit=False) as c:
        c.assign(tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for tp, recs in (await c.getmany(timeout_ms=200)).items():
                out[tp].extend(recs)
            n = sum(len(v) for v in out.values())
            if want is not None:
                if n >= want:
                    break
                continue
            if all([await c.position(tp) >= ends[tp] for tp in tps]):
                break
    return [r for tp in tps for r in out[tp]]


def values(records: list) -> list[bytes]:
    return [r.value for r in records]


async def group_member(bootstrap: str, topic: str, group: str) -> kafkaio.Consumer:
    """A started read_committed consumer of ``topic`` in ``group``, once it has an assignment."""
    c = kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, isolation_level="read_committed")
    await c.start()
    for _ in range(100):
        await c.getmany(timeout_ms=100)
        if c.assignment():
            return c
    await c.stop()
    raise AssertionError("the consumer got no assignment")
