"""PositionKeeper without a broker: lookups run per partition, beside the fetches, so one partition
waiting for its committed offset or its reset holds no other."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from kafkaio.consumer.offsets import PositionKeeper
from kafkaio.consumer.subscription import SubscriptionState
from kafkaio.errors import NoOffsetForPartitionError, UnstableOffsetCommitError
from kafkaio.structs import OffsetAndMetadata
from kafkaio.structs import TopicPartition as TP

CONFIG = SimpleNamespace(retry_backoff_ms=10)
P0, P1 = TP("t", 0), TP("t", 1)


class Coordinator:
    """OffsetFetch: UNSTABLE_OFFSET_COMMIT for any request that names a pending partition."""

    def __init__(self, committed: dict[TP, int], pending: set[TP]) -> None:
        self.committed = committed
        self.pending = pending
        self.asked: list[list[TP]] = []

    async def fetch_committed(self, tps: list[TP], timeout_ms: float | None = None) -> dict:
        self.asked.append(list(tps))
        if self.pending & set(tps):
            raise UnstableOffsetCommitError("pending")
        return {tp: OffsetAndMetadata(self.committed[tp]) if tp in self.committed else None for tp in tps}


class Lookup:
    """ListOffsets: offset 7 (leader epoch 3); for partitions in ``hang``, only once released."""

    def __init__(self, leaders: dict[TP, int], hang: set[TP] = frozenset()) -> None:
        self.leaders = leaders
        self.hang = hang
        self.released = asyncio.Event()

    def by_leader(self, tps):
        out: dict[int, list[TP]] = {}
        leaderless = []
        for tp in tps:
            if self.leaders[tp] < 0:
                leaderless.append(tp)
            else:
                out.setdefault(self.leaders[tp], []).append(tp)
        return out, leaderless

    def request_refresh(self) -> None:
        self.refreshes = getattr(self, "refreshes", 0) + 1

    def topic_error(self, topic: str) -> None:
        return None   # no topic errors in the metadata

    async def list_at(self, node, timestamps):
        if self.hang & set(timestamps):
            await self.released.wait()
        return {tp: (7, -1, 3) for tp in timestamps}, None


def subs_of(*tps: TP, reset: str = "earliest") -> SubscriptionState:
    subs = SubscriptionState(reset)
    subs.assign_manually(tps)
    return subs


async def settle(keeper: PositionKeeper, rounds: int = 5) -> None:
    """What the fetch loop does: update, wait for a lookup to end, again."""
    for _ in range(rounds):
        keeper.update()
        try:
            await asyncio.wait_for(keeper.next_settled(), 0.5)
        except asyncio.TimeoutError:
            return


async def test_a_pending_transactional_commit_holds_only_its_partition() -> None:
    subs = subs_of(P0, P1)
    coordinator = Coordinator({P1: 5}, pending={P0})
    keeper = PositionKeeper(subs, Lookup({P0: 1, P1: 1}), CONFIG)
    keeper.use_group(coordinator)
    await settle(keeper)
    assert subs.assignment[P1].position == 5 and subs.assignment[P0].position is None
    assert coordinator.asked[0] == [P0, P1] and [P0] in coordinator.asked, "then asked one by one"
    coordinator.pending.clear()   # the transaction aborted: no commit, so auto_offset_reset
    await settle(keeper)
    assert subs.assignment[P0].position == 7
    await keeper.close()


async def test_a_reset_without_an_answer_holds_only_its_leader() -> None:
    subs = subs_of(P0, P1)
    keeper = PositionKeeper(subs, Lookup({P0: 1, P1: 2}, hang={P0}), CONFIG)
    await settle(keeper)
    assert subs.assignment[P1].position == 7 and subs.assignment[P1].position_epoch == 3
    assert subs.assignment[P0].position is None
    await keeper.close()


async def test_a_reset_of_a_partition_seeked_meanwhile_is_dropped() -> None:
    subs = subs_of(P0)
    lookup = Lookup({P0: 1}, hang={P0})
    keeper = PositionKeeper(subs, lookup, CONFIG)
    keeper.update()
    settled = keeper.next_settled()
    await asyncio.sleep(0)
    subs.assignment[P0].seek(3)
    lookup.released.set()
    await asyncio.wait_for(settled, 5)
    assert subs.assignment[P0].position == 3, "the answer for the old position is dropped"
    await keeper.close()


async def test_no_committed_offset_and_reset_none_fails_the_partition() -> None:
    subs = subs_of(P0, P1, reset="none")
    keeper = PositionKeeper(subs, Lookup({}), CONFIG)
    keeper.use_group(Coordinator({P1: 2}, pending=set()))
    await settle(keeper)
    failed = keeper.take_failed()
    assert [st.tp for st in failed] == [P0] and isinstance(failed[0].error, NoOffsetForPartitionError)
    assert subs.assignment[P1].position == 2
    keeper.update()
    assert keeper.take_failed() == [], "not asked again while its error waits for the application"
    await keeper.close()


async def test_a_committed_offset_asked_before_a_reassignment_is_not_applied_after_it() -> None:
    subs = subs_of(P0)

    class Slow(Coordinator):
        released = asyncio.Event()

        async def fetch_committed(self, tps, timeout_ms=None):
            await self.released.wait()
            return await super().fetch_committed(tps, timeout_ms)

    coordinator = Slow({P0: 5}, pending=set())
    keeper = PositionKeeper(subs, Lookup({P0: 1}), CONFIG)
    keeper.use_group(coordinator)
    keeper.update()
    settled = keeper.next_settled()
    await asyncio.sleep(0)
    subs.assign_manually([])
    subs.assign_manually([P0])      # a new state for P0, which may have a newer commit by now
    coordinator.committed[P0] = 9
    Slow.released.set()
    await asyncio.wait_for(settled, 5)
    assert subs.assignment[P0].position is None, "the old answer is not applied to the new state"
    await settle(keeper)
    assert subs.assignment[P0].position == 9
    await keeper.close()


async def test_nothing_starts_after_close() -> None:
    subs = subs_of(P0)
    keeper = PositionKeeper(subs, Lookup({P0: 1}, hang={P0}), CONFIG)
    keeper.update()
    await asyncio.sleep(0)
    await keeper.close()
    keeper.update()
    await asyncio.sleep(0)
    assert not keeper._tasks and not [t for t in asyncio.all_tasks() if t.get_name() == "kafkaio-positions"]


async def test_a_leaderless_partition_waits_for_a_leader_alone() -> None:
    subs = subs_of(P0, P1)
    lookup = Lookup({P0: 1, P1: -1})
    keeper = PositionKeeper(subs, lookup, CONFIG)
    await settle(keeper)
    assert subs.assignment[P0].position == 7 and subs.assignment[P1].position is None
    assert lookup.refreshes >= 1, "metadata is refreshed to find the leader"
    lookup.leaders[P1] = 2
    await settle(keeper)
    assert subs.assignment[P1].position == 7
    await keeper.close()


async def test_list_offsets_names_the_current_leader_epoch() -> None:
    from kafkaio.consumer.offsets import OffsetLookup

    sent: list = []

    class Conn:
        def version(self, api: int) -> int:
            return 8

        async def request(self, api, body):
            sent.append(body)
            return {"topics": [{"name": "t", "partitions": [
                {"partition_index": 0, "error_code": 0, "offset": 3, "timestamp": -1, "leader_epoch": 4}]}]}

    async def connection(node, purpose):
        return Conn()

    meta = SimpleNamespace(topics={"t": SimpleNamespace(partitions={0: SimpleNamespace(leader_epoch=4)})})
    cluster = SimpleNamespace(metadata=meta, connection=connection)
    lookup = OffsetLookup(cluster, SimpleNamespace(isolation_level="read_uncommitted", request_timeout_ms=7000))
    assert await lookup.list_at(1, {P0: -2}) == ({P0: (3, -1, 4)}, None)
    assert sent[0]["topics"][0]["partitions"][0]["current_leader_epoch"] == 4
    assert sent[0]["timeout_ms"] == 7000
