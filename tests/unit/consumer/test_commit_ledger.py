"""The commit ledger on its own: what it keeps alive, and what a cancellation or a defect hands on."""
from __future__ import annotations

import asyncio
import gc

import pytest

from kafkaio.consumer.commit_ledger import CommitLedger, PendingCommit
from kafkaio.errors import KafkaError
from kafkaio.structs import OffsetAndMetadata, TopicPartition

P0 = TopicPartition("t", 0)
P1 = TopicPartition("t", 1)


def at(offset: int) -> OffsetAndMetadata:
    return OffsetAndMetadata(offset, "", -1)


def live_commits() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is PendingCommit)


async def test_overlapping_commits_keep_only_those_still_under_way() -> None:
    # commit_async after every poll: each commit is asked for while the previous one is out
    ledger = CommitLedger()
    before = live_commits()
    prev = ledger.begin({P0: at(0)})
    for i in range(1, 2001):
        cur = ledger.begin({P0: at(i)})
        ledger.committed(prev, {P0: prev.offsets[P0]})
        ledger.finish(prev, None)
        prev = cur
    del cur
    assert ledger.pending() == 1
    assert live_commits() - before <= 2


async def test_a_decided_commit_in_the_middle_is_skipped_by_the_newer_ones_link_back() -> None:
    ledger = CommitLedger()
    a = ledger.begin({P0: at(10), P1: at(10)})     # still waiting (P1 is out)
    b = ledger.begin({P0: at(20)})
    c = ledger.begin({P0: at(30)})
    ledger.finish(b, KafkaError("b failed"))       # b decided: c's link back now reaches a
    assert c.left_by[P0] is a and not b.left_by
    ledger.finish(c, asyncio.CancelledError())     # c's caller gives up: a takes P0 back at 30
    assert ledger.to_send(a) == {P0: at(30), P1: at(10)}


async def test_a_cancelled_commit_gives_nothing_back_to_one_that_committed_the_partition_itself() -> None:
    ledger = CommitLedger()
    a = ledger.begin({P0: at(10), P1: at(10)})
    b = ledger.begin({P0: at(20)})                 # asked while a's attempt with P0 was out
    ledger.committed(a, {P0: at(10)})              # that attempt committed P0 = 10
    ledger.finish(b, asyncio.CancelledError())
    assert P0 not in a.given_back                  # a no longer sends P0: nothing to hand it
    assert isinstance(b.failed[P0], KafkaError)


async def test_a_defect_in_the_newer_commit_is_its_failure_not_a_cancellation() -> None:
    ledger = CommitLedger()
    a = ledger.begin({P0: at(10)})
    b = ledger.begin({P0: at(20)})
    ledger.finish(b, KeyError("a bug"))
    assert not a.given_back, "only a cancelled caller's partitions go back to an older commit"
    with pytest.raises(KafkaError, match="KeyError"):
        await ledger.await_newer(a, asyncio.get_running_loop().time() + 1)


async def test_commit_async_style_overlap_through_the_coordinator_keeps_only_commits_under_way() -> None:
    from test_coordinator_commits import member

    n = 300
    gates = [asyncio.Event() for _ in range(n + 1)]

    def reply(i: int):  # type: ignore[no-untyped-def]
        async def answered(body: object) -> int:
            await gates[i + 1].wait()   # answered once commit i + 1 was asked for
            return 0
        return answered

    coord, _stub = member([reply(i) for i in range(n)], [P0])
    before = live_commits()
    tasks = []
    for i in range(n):
        tasks.append(asyncio.ensure_future(coord.commit({P0: at(i)})))
        await asyncio.sleep(0)
        gates[i].set()
        await asyncio.sleep(0)
        if i >= 2:
            await tasks[i - 2]
    del tasks[: n - 2]
    assert live_commits() - before <= 3
    gates[n].set()
    await asyncio.gather(*tasks)


async def a_waits_for_b_and_c() -> tuple[CommitLedger, PendingCommit, PendingCommit, PendingCommit, asyncio.Future[None]]:
    """a left P0 to b and P1 to c, and waits for both."""
    ledger = CommitLedger()
    a = ledger.begin({P0: at(10), P1: at(10)})
    b = ledger.begin({P0: at(20)})
    c = ledger.begin({P1: at(30)})
    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(ledger.await_newer(a, loop.time() + 30))
    await asyncio.sleep(0)
    return ledger, a, b, c, waiting


async def test_a_partition_given_back_is_resent_at_once_while_another_newer_commit_is_undecided() -> None:
    # a left P0 to b and P1 to c; c's caller gives up while b is still out: a must take P1 back
    # and resend it now, not once b's outcome (or a's deadline) ends the wait for P0
    ledger, a, b, c, waiting = await a_waits_for_b_and_c()
    ledger.finish(c, asyncio.CancelledError())
    await asyncio.wait_for(waiting, 1)             # returned: P1 is a's to send again
    assert ledger.to_send(a) == {P1: at(30)}
    assert not b.decided.is_set()


async def test_the_wait_for_newer_commits_reports_every_failure_whatever_order_they_end_in() -> None:
    ledger, a, b, c, waiting = await a_waits_for_b_and_c()
    ledger.finish(c, KafkaError("c failed"))       # the later partition's commit fails first
    await asyncio.sleep(0)
    assert not waiting.done()                      # b's outcome of P0 is still to come
    ledger.committed(b, {P0: at(20)})
    ledger.finish(b, None)
    with pytest.raises(KafkaError, match=r"c failed") as info:
        await asyncio.wait_for(waiting, 1)
    assert "Committed: []" in str(info.value) and "partition=1" in str(info.value)


async def test_a_wait_with_its_deadline_passed_does_not_wait() -> None:
    ledger = CommitLedger()
    a = ledger.begin({P0: at(10)})
    ledger.begin({P0: at(20)})
    loop = asyncio.get_running_loop()
    with pytest.raises(KafkaError, match="not decided in time"):
        await asyncio.wait_for(ledger.await_newer(a, loop.time()), 1)


async def test_an_older_commit_succeeds_once_the_newer_one_committed_its_partition_though_still_under_way() -> None:
    # found by review: b committed P0 but is still retrying P1; a asked only for P0
    ledger = CommitLedger()
    a = ledger.begin({P0: at(10)})                 # its attempt failed: to be retried
    b = ledger.begin({P0: at(20), P1: at(20)})     # asked meanwhile: a leaves P0 to b
    assert ledger.to_send(a) == {}
    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(ledger.await_newer(a, loop.time() + 30))
    await asyncio.sleep(0)
    ledger.committed(b, {P0: at(20)})
    await asyncio.wait_for(waiting, 1)             # a's wait ends at once, without an error
    assert not b.decided.is_set()
    await asyncio.wait_for(ledger.await_newer(a, loop.time()), 1)   # nor any wait after it
