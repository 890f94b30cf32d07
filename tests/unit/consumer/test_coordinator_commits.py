"""The group coordinator's commit rules without a broker: a stub answers OffsetCommit, and the
tests move the member's generation and assignment between attempts the way rebalances do."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from kafkaio.config import ConsumerConfig
from kafkaio.consumer.coordinator import IN_MEMBERSHIP_TASK, GroupCoordinator, MemberState
from kafkaio.consumer.subscription import SubscriptionState
from kafkaio.lifecycle import ClientState
from kafkaio.errors import CommitFailedError, KafkaTimeoutError, RebalanceInProgressError
from kafkaio.protocol import ApiKey
from kafkaio.structs import OffsetAndMetadata
from kafkaio.structs import TopicPartition as TP

P0, P1 = TP("t", 0), TP("t", 1)
ILLEGAL_GENERATION = 22


class StubCoordinator:
    """Answers each OffsetCommit with the next scripted reply: an error code, an exception to
    raise, or a function of the request body (to act "while it was in flight")."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies
        self.sent: list[dict[str, Any]] = []

    async def request(self, api: int, body: dict[str, Any], max_version: int | None = None,
                      timeout_ms: float | None = None, purpose: str = "group") -> dict[str, Any]:
        assert api == ApiKey.OFFSET_COMMIT
        self.sent.append(body)
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(body)
        if asyncio.iscoroutine(reply):
            reply = await reply
        if isinstance(reply, BaseException):
            raise reply
        return {"topics": [{"name": t["name"], "partitions": [
            {"partition_index": p["partition_index"], "error_code": reply} for p in t["partitions"]]}
            for t in body["topics"]]}

    async def connection(self, purpose: str) -> "StubCoordinator":
        return self

    async def request_on(self, conn: "StubCoordinator", api: int, body: dict[str, Any],
                         max_version: int | None = None, timeout_ms: float | None = None) -> dict[str, Any]:
        return await self.request(api, body, max_version, timeout_ms)


def member(replies: list[Any], owned: list[TP], generation: int = 5) -> tuple[GroupCoordinator, StubCoordinator]:
    cfg = ConsumerConfig.from_kwargs(group_id="g", enable_auto_commit=False, retry_backoff_ms=1,
                                     default_api_timeout_ms=2000)
    subs = SubscriptionState()
    subs.subscribe(["t"])
    subs.set_assignment(owned)
    coord = GroupCoordinator(cluster=None, config=cfg, subscriptions=subs, on_revoke_cleanup=lambda tps: None)
    coord.generation, coord.member_id, coord.state = generation, "m", MemberState.STABLE
    coord._joined.set()
    stub = StubCoordinator(replies)
    coord._coordinator_connection = stub.connection  # type: ignore[method-assign,assignment]
    coord._request_on = stub.request_on  # type: ignore[method-assign,assignment]
    return coord, stub


def offsets(*tps: TP) -> dict[TP, OffsetAndMetadata]:
    return {tp: OffsetAndMetadata(50, "", -1) for tp in tps}


async def test_a_retry_after_the_partition_moved_commits_nothing() -> None:
    def moved_meanwhile(body: dict[str, Any]) -> BaseException:
        coord.generation = 6                       # a rebalance moved P1 to another member
        coord._subs.remove_partitions([P1])
        return KafkaTimeoutError("request lost")
    coord, stub = member([moved_meanwhile, 0], [P0, P1])
    with pytest.raises(RebalanceInProgressError):
        await coord.commit(offsets(P0, P1))
    assert len(stub.sent) == 1   # the retry never went out


def committed_offsets(stub: StubCoordinator) -> list[int]:
    return [p["committed_offset"] for body in stub.sent for t in body["topics"] for p in t["partitions"]]


async def test_a_retry_never_overwrites_a_newer_commit_of_the_partition() -> None:
    """A commit whose attempt failed after a newer commit of the same partition went out must not
    send its older offset again: the broker would apply it last and rewind the group (an auto
    commit retried after the commit made before a rebalance, under the same generation)."""
    newer_done = asyncio.Event()

    async def lost_while_a_newer_commit_lands(body: dict[str, Any]) -> BaseException:
        await newer_done.wait()
        return KafkaTimeoutError("the response was lost")
    coord, stub = member([lost_while_a_newer_commit_lands, 0, 0, 0], [P0, P1])
    older = asyncio.ensure_future(coord.commit({P0: OffsetAndMetadata(10, "", -1), P1: OffsetAndMetadata(7, "", -1)}))
    await asyncio.sleep(0)  # its first attempt is out
    await coord.commit({P0: OffsetAndMetadata(20, "", -1)})
    newer_done.set()
    await older
    # the retry sends P1 (nothing newer asked for it) and leaves P0 to the newer commit
    assert [b["topics"][0]["partitions"] for b in stub.sent][2:] == [[
        {"partition_index": 1, "committed_offset": 7, "committed_leader_epoch": -1, "committed_metadata": ""}]]
    assert committed_offsets(stub) == [10, 7, 20, 7]
    assert coord._last_committed == {P0: 20, P1: 7}


class Superseded:
    """An older commit (A) whose first attempt is lost while a newer commit (B) of one of its
    partitions is asked for: A's retry leaves that partition to B, and A's outcome waits for B's."""

    def __init__(self) -> None:
        self.newer_asked = asyncio.Event()
        self.newer_answered = asyncio.Event()

    async def lost_once_the_newer_is_asked(self, body: dict[str, Any]) -> BaseException:
        await self.newer_asked.wait()
        return KafkaTimeoutError("the response was lost")

    def newer(self, reply: Any) -> Any:
        async def answered_when_released(body: dict[str, Any]) -> Any:
            await self.newer_answered.wait()
            return reply
        return answered_when_released

    async def chain(self, coord: GroupCoordinator, *commits: dict[TP, OffsetAndMetadata]) -> list[asyncio.Task[None]]:
        """``commits`` asked for one after the other, each while the older ones' attempts are
        out; then all but the newest attempt fail, and their retries leave P0 to the newer ones."""
        tasks = []
        for offsets in commits:
            tasks.append(asyncio.ensure_future(coord.commit(offsets)))
            await asyncio.sleep(0)
        self.newer_asked.set()
        await asyncio.sleep(0.05)
        return tasks

    async def start(self, coord: GroupCoordinator, older: dict[TP, OffsetAndMetadata],
                    newer: dict[TP, OffsetAndMetadata], **kw: Any) -> tuple[asyncio.Task[None], asyncio.Task[None]]:
        a = asyncio.ensure_future(coord.commit(older, **kw))
        await asyncio.sleep(0)   # A's first attempt is out
        b = asyncio.ensure_future(coord.commit(newer))
        await asyncio.sleep(0)   # B's attempt is out
        self.newer_asked.set()   # A's first attempt fails; its retry leaves P0 to B
        await asyncio.sleep(0.05)
        return a, b


def at(offset: int) -> OffsetAndMetadata:
    return OffsetAndMetadata(offset, "", -1)


async def test_an_older_commit_left_to_a_newer_one_that_fails_raises_its_error() -> None:
    """A's own attempt failed, and the newer commit it left P0 to failed for good: P0 is committed
    by neither, so A must not return as if it were."""
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(CommitFailedError("fenced"))], [P0])
    a, b = await s.start(coord, {P0: at(10)}, {P0: at(20)})
    s.newer_answered.set()
    with pytest.raises(CommitFailedError):
        await b
    with pytest.raises(CommitFailedError, match="newer commit"):
        await a
    assert committed_offsets(stub) == [10, 20]   # A's retry never re-sent its older offset
    assert coord._commits.pending() == 0


async def test_an_older_commit_raises_naming_the_partitions_the_failed_newer_one_left_uncommitted() -> None:
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(CommitFailedError("fenced")), 0], [P0, P1])
    a, b = await s.start(coord, {P0: at(10), P1: at(7)}, {P0: at(20)})
    s.newer_answered.set()
    with pytest.raises(CommitFailedError):
        await b
    with pytest.raises(CommitFailedError) as raised:
        await a
    assert committed_offsets(stub) == [10, 7, 20, 7]   # A's retry sent P1 alone, and it was committed
    assert repr([P0]) in str(raised.value) and repr([P1]) in str(raised.value)
    assert coord._last_committed == {P1: 7}
    assert coord._commits.pending() == 0


async def test_an_older_commit_succeeds_once_the_newer_one_it_left_partitions_to_succeeds() -> None:
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(0), 0], [P0, P1])
    a, b = await s.start(coord, {P0: at(10), P1: at(7)}, {P0: at(20)})
    assert not a.done(), "A returned before the commit it left P0 to was answered"
    s.newer_answered.set()
    await b
    await a
    assert committed_offsets(stub) == [10, 7, 20, 7]
    assert coord._last_committed == {P0: 20, P1: 7}
    assert coord._commits.pending() == 0


async def test_a_partition_left_on_from_commit_to_commit_has_the_newest_ones_outcome() -> None:
    """A left P0 to B, whose own attempt failed too and left it to C: A and B both wait for C, and
    neither sends its older offset again."""
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.lost_once_the_newer_is_asked,
                          s.newer(CommitFailedError("fenced"))], [P0])
    a, b, c = await s.chain(coord, {P0: at(10)}, {P0: at(20)}, {P0: at(30)})
    assert not a.done() and not b.done()
    s.newer_answered.set()
    for older in (c, b, a):
        with pytest.raises(CommitFailedError):
            await older
    assert committed_offsets(stub) == [10, 20, 30]
    assert coord._commits.pending() == 0


async def test_an_older_commit_times_out_while_the_newer_one_is_undecided() -> None:
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(0)], [P0])
    a, b = await s.start(coord, {P0: at(10)}, {P0: at(20)}, timeout_ms=200)
    with pytest.raises(KafkaTimeoutError, match="newer commit"):
        await a
    assert not b.done()
    s.newer_answered.set()
    await b
    assert coord._commits.pending() == 0


async def test_cancelling_the_newer_commit_gives_its_partitions_back_to_the_older_one() -> None:
    """B's caller gives up while B's request is out: whether P0=20 was written is unknown. A's own
    P0=10 cannot be sent again (after 20 it would rewind), so A takes P0 back at B's offset and
    sends that itself: B's cancellation does not decide A's outcome."""
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(0), 0], [P0])
    a, b = await s.start(coord, {P0: at(10)}, {P0: at(20)})
    b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b
    await a
    assert committed_offsets(stub) == [10, 20, 20]
    assert coord._last_committed == {P0: 20}
    assert coord._commits.pending() == 0


async def test_a_cancelled_commit_gives_back_past_cancelled_ones_to_the_newest_still_waiting() -> None:
    """A left P0 to A2, A2 to B; A2's caller gave up, then B's: P0 goes back to A, at B's offset."""
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.lost_once_the_newer_is_asked, s.newer(0), 0], [P0])
    a, a2, b = await s.chain(coord, {P0: at(10)}, {P0: at(15)}, {P0: at(20)})   # A waits for A2, A2 for B
    for cancelled in (a2, b):
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
    await a
    assert committed_offsets(stub) == [10, 15, 20, 20]
    assert coord._commits.pending() == 0


async def test_a_cancelled_newer_commit_of_which_no_older_one_waits_gives_nothing_back() -> None:
    """The older commit already decided (its own attempt committed P0): nothing is sent again."""
    newer_answered = asyncio.Event()

    async def answered_when_released(body: dict[str, Any]) -> int:
        await newer_answered.wait()
        return 0
    coord, stub = member([0, answered_when_released], [P0])
    await coord.commit({P0: at(10)})
    b = asyncio.ensure_future(coord.commit({P0: at(20)}))
    await asyncio.sleep(0)
    b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b
    assert committed_offsets(stub) == [10, 20]
    assert coord._commits.pending() == 0


async def test_cancelling_the_older_commit_leaves_the_newer_ones_outcome_alone() -> None:
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(0)], [P0])
    a, b = await s.start(coord, {P0: at(10)}, {P0: at(20)})
    a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await a
    s.newer_answered.set()
    await b
    assert coord._last_committed == {P0: 20}
    assert coord._commits.pending() == 0


async def test_an_older_commit_of_the_membership_task_never_waits_for_a_newer_one() -> None:
    """A commit made by the rebalance itself (the auto commit before a revocation, a listener's
    commit) whose retry left P0 to the application's newer commit cannot wait for it: that one may
    be waiting for this very rebalance. Undecided, it raises RebalanceInProgressError at once."""
    s = Superseded()
    coord, stub = member([s.lost_once_the_newer_is_asked, s.newer(0)], [P0])

    async def in_the_membership_task() -> None:
        IN_MEMBERSHIP_TASK.set(True)
        await coord.commit({P0: at(10)}, timeout_ms=60000, wait_for_rebalance=False)
    a = asyncio.ensure_future(in_the_membership_task())
    await asyncio.sleep(0)
    b = asyncio.ensure_future(coord.commit({P0: at(20)}))
    await asyncio.sleep(0)
    s.newer_asked.set()
    with pytest.raises(RebalanceInProgressError, match="newer commit"):
        await asyncio.wait_for(a, 5)
    s.newer_answered.set()
    await b
    assert coord._commits.pending() == 0


async def test_a_retry_after_the_member_was_fenced_fails_with_commit_failed() -> None:
    def fenced_meanwhile(body: dict[str, Any]) -> BaseException:
        coord._reset_generation(reset_member=True)
        return KafkaTimeoutError("request lost")
    coord, stub = member([fenced_meanwhile, 0], [P0])
    with pytest.raises(CommitFailedError):
        await coord.commit(offsets(P0))
    assert len(stub.sent) == 1


async def test_partitions_kept_through_our_rejoin_are_committed_under_the_new_generation() -> None:
    def rejoined_meanwhile(body: dict[str, Any]) -> int:
        coord.generation, coord.state = 6, MemberState.COMPLETING_REBALANCE   # our JoinGroup came back with 6
        coord._joined.clear()
        asyncio.get_running_loop().call_later(0.05, complete)
        return ILLEGAL_GENERATION

    def complete() -> None:
        coord.state = MemberState.STABLE
        coord._joined.set()
    coord, stub = member([rejoined_meanwhile, 0], [P0, P1])
    await coord.commit(offsets(P0))
    assert [b["generation_id_or_member_epoch"] for b in stub.sent] == [5, 6]


async def test_a_rebalance_that_does_not_complete_in_time_raises_rebalance_in_progress() -> None:
    def rejoining(body: dict[str, Any]) -> int:
        coord.state = MemberState.PREPARING_REBALANCE
        coord._joined.clear()
        return ILLEGAL_GENERATION
    coord, stub = member([rejoining], [P0])
    with pytest.raises(RebalanceInProgressError):
        await coord.commit(offsets(P0), timeout_ms=100)
    assert len(stub.sent) == 1


async def test_illegal_generation_for_the_stable_generation_means_fenced() -> None:
    coord, stub = member([ILLEGAL_GENERATION], [P0])
    with pytest.raises(CommitFailedError):
        await coord.commit(offsets(P0))
    assert coord.generation == -1
    assert coord._subs.assignment[P0].revoking   # nothing more handed out from it


async def test_a_partition_not_assigned_is_never_committed() -> None:
    coord, stub = member([0], [P0])
    with pytest.raises(CommitFailedError):
        await coord.commit(offsets(P0, P1))
    assert stub.sent == []


async def test_a_fenced_heartbeat_stops_handing_out_the_partitions_at_once() -> None:
    """Issue 18.2: the partitions are lost the moment the heartbeat says so, not when the
    membership task gets round to rejoining."""
    cfg = ConsumerConfig.from_kwargs(group_id="g", enable_auto_commit=False, heartbeat_interval_ms=10,
                                     session_timeout_ms=6000)
    subs = SubscriptionState()
    subs.subscribe(["t"])
    subs.set_assignment([P0, P1])
    dropped: list[set[TP]] = []
    coord = GroupCoordinator(cluster=None, config=cfg, subscriptions=subs, on_revoke_cleanup=dropped.append)
    coord.generation, coord.member_id, coord.state = 5, "m", MemberState.STABLE
    coord._last_poll = time.monotonic() + 3600   # no poll timeout in this test

    async def heartbeat(api: int, body: dict[str, Any], *args: Any, **kw: Any) -> dict[str, Any]:
        assert api == ApiKey.HEARTBEAT
        return {"error_code": 25}   # UNKNOWN_MEMBER_ID
    coord._request = heartbeat  # type: ignore[method-assign]
    task = asyncio.get_running_loop().create_task(coord._heartbeat_loop())
    while coord.generation != -1:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert dropped == [{P0, P1}]
    assert all(st.revoking for st in subs.assignment.values())
    with pytest.raises(CommitFailedError):
        await coord.commit(offsets(P0))


async def test_commit_async_commits_only_what_the_member_owned_when_it_was_called() -> None:
    """The partition is lost and assigned again between commit_async() and its task's first step:
    the offsets were read before the loss (another member may have committed further since), so
    nothing may be committed."""
    import kafkaio
    coord, stub = member([0], [P0])
    consumer = kafkaio.Consumer(group_id="g", enable_auto_commit=False)
    consumer._life.state, consumer._open = ClientState.STARTED, True   # private: a started consumer without a broker
    consumer._coordinator = coord
    errors: list[BaseException | None] = []
    task = consumer.commit_async({P0: 50}, callback=lambda _offsets, error: errors.append(error))
    coord._reset_generation(reset_member=True)
    coord._subs.set_assignment([])
    coord._subs.set_assignment([P0])
    coord.generation, coord.member_id, coord.state = 7, "m2", MemberState.STABLE
    await task
    consumer._life.state, consumer._open = ClientState.NEW, False   # never really started: nothing to stop
    assert stub.sent == []
    assert len(errors) == 1 and isinstance(errors[0], CommitFailedError)


async def test_a_join_the_member_was_reset_during_is_dropped() -> None:
    """unsubscribe() or a fence resets the member while its JoinGroup is out: the answer that
    comes back is void (no SyncGroup, no illegal state transition), and the loop decides again."""
    coord, _stub = member([], [P0])
    coord.state, coord.generation = MemberState.UNJOINED, -1
    synced: list[object] = []

    async def ensure() -> int:
        return 1

    async def join_meanwhile_reset() -> dict[str, Any]:
        coord._set_state(MemberState.UNJOINED)   # what unsubscribe()'s task does meanwhile
        return {"leader": "m", "members": []}

    async def sync(join: dict[str, Any]) -> bytes:
        synced.append(join)
        return b""
    coord._ensure_coordinator = ensure  # type: ignore[method-assign]
    coord._join_group = join_meanwhile_reset  # type: ignore[method-assign]
    coord._sync_group = sync  # type: ignore[method-assign]
    await coord._join_once()
    assert coord.state is MemberState.UNJOINED and synced == []
