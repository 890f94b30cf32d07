"""pause() keeps what was already fetched for the paused partitions (as the Java consumer does):
nothing of it is handed out while paused, all of it after resume() without fetching it again, and a
seek while paused still wins over it."""
from __future__ import annotations

import pytest

import kafkaio
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import RawProducer, unique

pytestmark = [pytest.mark.integration]

WAIT_MS = 30_000   # upper bound for waits on a loaded machine; never asserted as a duration


async def _one_fetched_batch(bootstrap: str) -> TP:
    topic = unique()
    async with RawProducer(bootstrap) as raw:
        await raw.create_topic(topic, 1)
        await raw.send_batch(topic, 0, [str(i).encode() for i in range(100)])
    return TP(topic, 0)


async def _offsets(c: kafkaio.Consumer, tp: TP, want: int, what: str) -> list[int]:
    """The offsets of the next ``want`` records of ``tp``; fails if a read comes back empty."""
    got: list[int] = []
    while len(got) < want:
        batch = await c.getmany(timeout_ms=WAIT_MS)
        assert batch, f"{what}: {len(got)} of {want}"
        got += [r.offset for r in batch[tp]]
    return got


async def test_records_fetched_before_pause_are_handed_out_after_resume_without_another_fetch(
        proxied_bootstrap, fault_proxy) -> None:
    tp = await _one_fetched_batch(proxied_bootstrap)
    async with kafkaio.Consumer(bootstrap_servers=proxied_bootstrap, auto_offset_reset="earliest",
                                max_poll_records=10) as c:
        c.assign([tp])
        first = await c.getmany(timeout_ms=WAIT_MS)   # 10 handed out, 90 of the same fetch buffered
        assert [r.offset for r in first[tp]] == list(range(10))
        c.pause(tp)
        assert await c.getmany(timeout_ms=200) == {}
        fault_proxy.pause()   # from here on nothing more can be fetched
        try:
            c.resume(tp)
            got = await _offsets(c, tp, 90, "the records buffered before pause() were dropped")
            assert got == list(range(10, 100))
        finally:
            fault_proxy.resume()


async def test_a_seek_while_paused_wins_over_the_kept_records(proxied_bootstrap, fault_proxy) -> None:
    tp = await _one_fetched_batch(proxied_bootstrap)
    async with kafkaio.Consumer(bootstrap_servers=proxied_bootstrap, auto_offset_reset="earliest",
                                max_poll_records=10) as c:
        c.assign([tp])
        assert [r.offset for r in (await c.getmany(timeout_ms=WAIT_MS))[tp]] == list(range(10))
        c.pause(tp)
        c.seek(tp, 50)
        c.resume(tp)
        assert await _offsets(c, tp, 50, "nothing after the seek") == list(range(50, 100))
