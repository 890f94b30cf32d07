"""Share-group delivery against a Kafka 4.4 broker: exactly-once acceptance across members,
redelivery of released records, rejected records gone, a killed member's records redelivered."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kafkaio import AcknowledgeType, ShareConsumer, ShareConsumerRecord, TopicPartition
from kafkaio.errors import IllegalStateError
from kafkaio.retry import Deadline

from share_helpers import left_over, poll_acking, poll_until, produce

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

WORKER = Path(__file__).parent / "share_worker.py"


async def test_three_consumers_accept_every_record_exactly_once(share_bootstrap: str, share_topic: str,
                                                                share_group) -> None:
    group = await share_group()
    values = await produce(share_bootstrap, share_topic, 600)
    got: list[ShareConsumerRecord] = []
    per_member: Counter[int] = Counter()

    async def member(i: int, consumer: ShareConsumer) -> None:
        while len(got) < len(values):
            for records in (await consumer.getmany(timeout_ms=500, max_records=20)).values():
                got.extend(records)
                per_member[i] += len(records)
            await asyncio.sleep(0.01)  # let the others poll too
        await consumer.commit()

    consumers = [ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group, max_poll_records=20)
                 for _ in range(3)]
    try:
        await asyncio.gather(*(c.start() for c in consumers))
        await asyncio.wait_for(asyncio.gather(*(member(i, c) for i, c in enumerate(consumers))), 120)
    finally:
        await asyncio.gather(*(c.close() for c in consumers))
    counts = Counter(r.value for r in got)
    assert set(counts) == set(values)
    assert [v for v, n in counts.items() if n > 1] == []
    assert all(r.delivery_count == 1 for r in got)
    assert await left_over(share_bootstrap, share_topic, group) == []


async def test_released_records_come_back_with_delivery_count_plus_one(share_bootstrap: str, share_topic: str,
                                                                       share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 10)

    def release_first_delivery(r: ShareConsumerRecord) -> AcknowledgeType:
        return AcknowledgeType.RELEASE if r.delivery_count == 1 else AcknowledgeType.ACCEPT

    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             share_acknowledgement_mode="explicit") as consumer:
        got = await poll_acking(consumer, release_first_delivery,
                                lambda got: sum(r.delivery_count == 2 for r in got) == 10)
    deliveries: dict[tuple[int, int], list[int]] = {}
    for r in got:
        deliveries.setdefault((r.partition, r.offset), []).append(r.delivery_count)
    assert len(deliveries) == 10 and all(counts == [1, 2] for counts in deliveries.values())
    assert await left_over(share_bootstrap, share_topic, group) == []


async def test_rejected_records_are_never_delivered_again(share_bootstrap: str, share_topic: str,
                                                          share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 20)

    def reject_odd_release_even_once(r: ShareConsumerRecord) -> AcknowledgeType:
        if r.offset % 2:
            return AcknowledgeType.REJECT
        return AcknowledgeType.RELEASE if r.delivery_count == 1 else AcknowledgeType.ACCEPT

    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             share_acknowledgement_mode="explicit") as consumer:
        got = await poll_acking(consumer, reject_odd_release_even_once,
                                lambda got: sum(r.delivery_count == 2 for r in got) == 10)
    rejected = [r for r in got if r.offset % 2]
    assert len(rejected) == 10 and all(r.delivery_count == 1 for r in rejected)
    assert await left_over(share_bootstrap, share_topic, group) == []


async def test_explicit_mode_refuses_to_poll_past_unacknowledged_records(share_bootstrap: str, share_topic: str,
                                                                        share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 4)
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             share_acknowledgement_mode="explicit") as consumer:
        got = await poll_until(consumer, 1)
        with pytest.raises(IllegalStateError, match="not acknowledged"):
            await consumer.getmany(timeout_ms=0)
        for r in got:
            consumer.acknowledge(r)
        await consumer.getmany(timeout_ms=0)


async def test_a_killed_member_s_records_are_redelivered_after_the_lock_none_lost(
        share_bootstrap: str, share_topic: str, share_group, tmp_path: Path) -> None:
    group = await share_group()
    values = await produce(share_bootstrap, share_topic, 50)
    out = tmp_path / "acquired.txt"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    proc = subprocess.Popen([sys.executable, str(WORKER), share_bootstrap, share_topic, group, str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 90)  # type: ignore[union-attr]
        assert line.startswith("ACQUIRED"), f"worker said {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    held = {tuple(map(int, line.split()[:2])) for line in out.read_text().splitlines()}
    assert held
    got: list[ShareConsumerRecord] = []
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group) as consumer:
        deadline = Deadline(90000)
        while len({r.value for r in got}) < len(values):
            assert not deadline.expired, f"{len({r.value for r in got})} of {len(values)} records redelivered"
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                got.extend(records)
    assert {r.value for r in got} == set(values)
    redelivered = {(r.partition, r.offset): r.delivery_count for r in got if (r.partition, r.offset) in held}
    assert set(redelivered) == held and set(redelivered.values()) == {2}
    assert all(r.delivery_count == 1 for r in got if (r.partition, r.offset) not in held)


async def test_record_limit_mode_never_returns_more_than_max_poll_records(share_bootstrap: str, share_topic: str,
                                                                          share_group) -> None:
    group = await share_group()
    values = await produce(share_bootstrap, share_topic, 50)
    sizes: list[int] = []
    got: list[ShareConsumerRecord] = []
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             share_acquire_mode="record_limit", max_poll_records=7) as consumer:
        deadline = Deadline(60000)
        while len(got) < len(values):
            assert not deadline.expired
            batch = [r for rs in (await consumer.getmany(timeout_ms=1000)).values() for r in rs]
            if batch:
                sizes.append(len(batch))
                got.extend(batch)
    assert max(sizes) <= 7 and sorted(r.value for r in got) == sorted(values)


async def test_the_acknowledgement_callback_gets_each_partition_s_offsets(share_bootstrap: str, share_topic: str,
                                                                          share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 6)
    calls: list[tuple[dict, object]] = []
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             share_acknowledgement_mode="explicit") as consumer:
        consumer.set_acknowledgement_commit_callback(lambda offsets, error: calls.append((offsets, error)))
        got = await poll_acking(consumer, lambda r: AcknowledgeType.ACCEPT, lambda got: len(got) == 6)
    acked: dict[TopicPartition, set[int]] = {}
    for offsets, error in calls:
        assert error is None
        for tp, offs in offsets.items():
            acked.setdefault(tp, set()).update(offs)
    assert acked == {TopicPartition(share_topic, p): {r.offset for r in got if r.partition == p} for p in (0, 1)}
