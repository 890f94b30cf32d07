"""The consumer side of the classic group protocol, and offset commits.

Membership: FindCoordinator, then JoinGroup (retried once with the member id the broker hands out
on MEMBER_ID_REQUIRED), the leader runs the assignor, SyncGroup distributes the result; Heartbeat
runs in the background every ``heartbeat_interval_ms``; LeaveGroup on close (not for static
members, who keep their assignment across restarts within ``session_timeout_ms``).

Rebalances, as in the Java client's ConsumerCoordinator:
- EAGER: before rejoining, commit (with auto commit), call ``on_partitions_revoked`` with
  everything, drop the assignment; after SyncGroup, ``on_partitions_assigned`` with everything.
- COOPERATIVE (KIP-429): keep consuming during the rebalance; after SyncGroup revoke only what is no
  longer assigned (``on_partitions_revoked``), add what is new (``on_partitions_assigned``); when
  something was revoked, rejoin at once so it can be handed to its new owner.
- When the member was fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, or it left
  after ``max_poll_interval_ms``), the partitions are already gone: ``on_partitions_lost``.

``max_poll_interval_ms``: if the application does not ask for records within it, the heartbeat
loop leaves the group with a warning; the next getmany()/getone() rejoins.

Commits (docs/consumer.md, "Commits during rebalances"): a member commits only partitions it has
owned without a break since commit() was called, checked before every attempt; a commit the broker
refuses because the group moved on meanwhile waits for the rebalance and goes again under the new
generation. JoinGroup/SyncGroup use a connection of their own, so a JoinGroup the broker parks
never holds up commits, offset lookups or heartbeats.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, cast

from kafkaio.consumer.assignors import (
    PartitionAssignor,
    RebalanceProtocol,
    rebalance_protocol,
    resolve_assignors,
)
from kafkaio.consumer.commit_ledger import CommitLedger, PendingCommit
from kafkaio.consumer.offset_fetch import offset_fetch_request, read_offset_fetch
from kafkaio.consumer.protocol import (
    Assignment,
    Subscription,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)
from kafkaio.consumer.subscription import PartitionState, SubscriptionState, call_listener
from kafkaio.errors import (
    CommitFailedError,
    ErrorCode,
    IllegalStateError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    RebalanceInProgressError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.structs import GroupMembershipOperation, OffsetAndMetadata, TopicPartition
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import HeartbeatResponse, JoinGroupResponse, OffsetCommitResponse, SyncGroupResponse
    from kafkaio.cluster import Cluster
    from kafkaio.conn import BrokerConnection
    from kafkaio.config import ConsumerConfig

log = logging.getLogger(__name__)

# errors after which the group coordinator is looked up again
_COORDINATOR_ERRORS = frozenset({ErrorCode.REQUEST_TIMED_OUT, ErrorCode.COORDINATOR_NOT_AVAILABLE,
                                 ErrorCode.NOT_COORDINATOR})
# the member's generation is no longer the group's: its partitions are lost
_MEMBER_FENCED = frozenset({ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID,
                            ErrorCode.FENCED_INSTANCE_ID})
# a lookup's topic the broker does not know by that name or id: the metadata is refreshed
_LOOKUP_METADATA_ERRORS = frozenset({ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION})

OFFSET_COMMIT_MAX_VERSION = 8   # v9 is for KIP-848 member epochs
OFFSET_FETCH_BY_NAME_VERSION = 9   # the last OffsetFetch version naming topics by name
# JoinGroup and SyncGroup get a connection of their own: the broker answers one request per
# connection at a time, and it parks a JoinGroup until every member has rejoined (up to the
# rebalance timeout), which must not hold up commits, offset lookups, heartbeats or LeaveGroup.
_MEMBERSHIP_PURPOSE = "group-join"
_OFFSETS_PURPOSE = "group"

# True inside the membership task (and the listener callbacks it runs): a commit made there must
# not wait for the rebalance to complete, since that task is what completes it.
IN_MEMBERSHIP_TASK: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "kafkaio_in_membership_task", default=False)

COMMIT_FAILED_MSG = (
    "Commit cannot be completed since the group has already rebalanced and assigned the partitions "
    "to another member. This means that the time between subsequent calls to getmany()/getone() was "
    "longer than max_poll_interval_ms, or the member was fenced (session timeout, or another member "
    "joined with the same group_instance_id). Records consumed since the last successful commit may "
    "be redelivered to the new owner. Process faster or lower max_poll_records, or raise "
    "max_poll_interval_ms; commit in on_partitions_revoked to keep the window small.")


class MemberState(str, Enum):
    """Where the member is in the group protocol (Java's ``AbstractCoordinator.MemberState``)."""

    UNJOINED = "unjoined"                          # no generation: never joined, left or fenced
    PREPARING_REBALANCE = "preparing_rebalance"    # JoinGroup sent, its answer not yet in
    COMPLETING_REBALANCE = "completing_rebalance"  # joined a generation, SyncGroup not yet answered
    STABLE = "stable"                              # assignment received for the generation


_TRANSITIONS: dict[MemberState, frozenset[MemberState]] = {
    MemberState.UNJOINED: frozenset({MemberState.UNJOINED, MemberState.PREPARING_REBALANCE}),
    MemberState.PREPARING_REBALANCE: frozenset({MemberState.PREPARING_REBALANCE,
                                                MemberState.COMPLETING_REBALANCE, MemberState.UNJOINED}),
    # back to PREPARING_REBALANCE when SyncGroup fails and the member joins again
    MemberState.COMPLETING_REBALANCE: frozenset({MemberState.STABLE, MemberState.PREPARING_REBALANCE,
                                                 MemberState.UNJOINED}),
    MemberState.STABLE: frozenset({MemberState.PREPARING_REBALANCE, MemberState.UNJOINED}),
}

# Heartbeats go out in these states: the broker resets a member's session timer on heartbeats
# from the moment it answered JoinGroup, so a SyncGroup that is lost and waits for its timeout
# does not cost the member its session (and its partitions), as in Java.
_HEARTBEATING = frozenset({MemberState.COMPLETING_REBALANCE, MemberState.STABLE})


class CommitTarget(NamedTuple):
    """What a commit was asked for under: the member's partitions (their state objects, which
    are replaced when a partition is revoked and assigned again) and its count of losses."""

    owned: dict[TopicPartition, PartitionState]
    losses: int


class _Now:
    """``commit(target=NOW)``: capture the commit's target when the call starts."""


NOW = _Now()


class GenerationMoved(Exception):
    """The broker refused a commit because the group moved on while it was in flight (our own
    rejoin, or a rebalance we had not yet noticed): look again once the rebalance completes."""


class EpochStale(Exception):
    """The broker holds a newer member epoch than a commit or lookup carried (STALE_MEMBER_EPOCH)
    while the member is still in the group: send it again with the latest epoch, as Java does."""


class ConsumerGroupMetadata(NamedTuple):
    """What a transactional producer needs to commit offsets for this consumer (KIP-447)."""

    group_id: str
    generation_id: int = -1
    member_id: str = ""
    group_instance_id: str | None = None


class GroupCoordinator:
    """Membership, rebalances, heartbeats, commits and committed-offset lookups for one consumer."""

    # what OffsetCommit may use, and its errors saying the member's generation is not the group's
    offset_commit_max_version = OFFSET_COMMIT_MAX_VERSION
    # the OffsetCommit version that names topics by id, when this protocol uses it (None: never)
    offset_commit_topic_id_version: int | None = None
    commit_fenced_codes = _MEMBER_FENCED
    # what OffsetFetch may use by name, and the version naming topics by id when this protocol
    # uses it (None: never)
    offset_fetch_max_version = OFFSET_FETCH_BY_NAME_VERSION
    offset_fetch_topic_id_version: int | None = None

    def __init__(self, cluster: Cluster, config: ConsumerConfig, subscriptions: SubscriptionState,
                 on_revoke_cleanup: Callable[[set[TopicPartition]], None],
                 readers: asyncio.Event | None = None) -> None:
        self._cluster = cluster
        # set when fatal_error is: wakes the application's waiting getmany()/getone() to raise it
        self._readers = readers or asyncio.Event()
        # the membership loop stopped on an error retrying cannot fix (e.g. GROUP_AUTHORIZATION_FAILED);
        # the application's next poll, after the error was raised to it, tries again (as Java's poll)
        self._parked = False
        self._config = config
        self._subs = subscriptions
        self._cleanup = on_revoke_cleanup     # (set[TopicPartition]) -> None: drop fetched data
        assert config.group_id is not None  # the consumer makes a coordinator only with a group_id
        self.group_id: str = config.group_id
        self.instance_id: str | None = config.group_instance_id
        self.assignors: list[PartitionAssignor] = resolve_assignors(config.partition_assignment_strategy)
        self.protocol = rebalance_protocol(self.assignors)
        self.member_id = ""
        self.generation = -1
        self.protocol_name: str | None = None
        self.coordinator_id: int | None = None
        self.state = MemberState.UNJOINED
        self._rejoin = True
        self._lost = False                    # partitions lost (fenced / left): on_partitions_lost
        self._losses = 0                      # times the member lost its generation (commits check it)
        self._stopping = asyncio.Event()      # close(): commits stop waiting for a rebalance
        self._wake = asyncio.Event()
        self._joined = asyncio.Event()        # set while stable
        self._closing = False
        self._unsubscribes = 0                # unsubscribe() calls: a join started before one is void
        self._task: asyncio.Task[None] | None = None
        self._hb_task: asyncio.Task[None] | None = None
        self._ac_task: asyncio.Task[None] | None = None
        self._last_poll = time.monotonic()
        self.last_heartbeat: float | None = None   # time.monotonic() of the last heartbeat accepted
        self._polled_generation = -1               # generation and member id at the last poll
        self._polled_member = ""
        self.fenced = False                        # FENCED_INSTANCE_ID: another consumer took our place
        self._left_for_poll_timeout = False
        self._metadata_snapshot: dict[str, int] = {}
        self.fatal_error: BaseException | None = None
        self._backoff_s = config.retry_backoff_ms / 1000.0
        self._last_committed: dict[TopicPartition, int] = {}
        self._commits = CommitLedger()
        self._next_auto_commit = time.monotonic() + config.auto_commit_interval_ms / 1000.0
        self._callbacks_idle = asyncio.Event()
        self._callbacks_idle.set()
        # kafkaio.metrics: OffsetCommit responses and their latency summed (seconds); rebalances
        # completed and given up, the completed ones' latency summed, when the last one completed
        self.commit_responses = 0
        self.commit_latency_total_s = 0.0
        self.rebalances = 0
        self.failed_rebalances = 0
        self.rebalance_latency_total_s = 0.0
        self.last_rebalance: float | None = None   # time.monotonic()
        self._rebalance_started: float | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._task = loop.create_task(self._run(), name="kafkaio-group")
            self._hb_task = loop.create_task(self._heartbeat_loop(), name="kafkaio-heartbeat")

    async def close(self, membership: GroupMembershipOperation = GroupMembershipOperation.DEFAULT) -> None:
        """Commit (auto commit), revoke, leave the group as ``membership`` says (LeaveGroup, with
        the instance id for a static member that leaves); stop the background tasks."""
        await self._begin_close()
        for t in (self._task,):
            if t is not None:
                t.cancel()
        for t in (self._task,):
            if t is not None:
                try:
                    await t
                except (asyncio.CancelledError, Exception):  # noqa: BLE001
                    pass
        try:
            if self._subs.uses_group and self.generation >= 0:
                # Mid-rebalance too: our generation is still valid, so the commit can go through.
                await self._revoke(self._subs.assigned(), finished_only=False)
            elif self._subs.uses_group and self._subs.assignment:
                self._cleanup(self._subs.assigned())
                await self._invoke("on_partitions_lost", self._subs.assigned())
            elif not self._subs.uses_group and self._config.enable_auto_commit:
                await self._commit_consumed_quietly("on close")
        finally:
            if self._hb_task is not None:
                self._hb_task.cancel()
                try:
                    await self._hb_task
                except (asyncio.CancelledError, Exception):  # noqa: BLE001
                    pass
            if membership.leaves(static=self.instance_id is not None):
                await self._leave_group("the consumer is closing", static_too=True)

    def stop_waiting(self) -> None:
        """close() is coming: commits stop waiting for a rebalance to complete (they raise
        RebalanceInProgressError); commits made while closing, such as the revocation's, still go."""
        self._stopping.set()

    async def _begin_close(self) -> None:
        """No more rebalances or commit waits; the callbacks and the auto commit under way end."""
        self._closing = True
        self._stopping.set()
        self._wake.set()
        # Never cut a rebalance's callbacks in half (an assignment applied but not announced).
        await self._callbacks_idle.wait()
        if self._ac_task is not None:
            await asyncio.gather(self._ac_task, return_exceptions=True)

    def group_metadata(self) -> ConsumerGroupMetadata:
        """The generation the records last handed out were polled under (KIP-447: a transaction
        committing their offsets is fenced if the group has moved on since). Java's consumer
        rebalances only inside poll(), so its current generation is that one; ours rebalances in
        the background, so it is remembered at each poll. Inside a rebalance listener (Java: inside
        poll()) it is the generation being joined."""
        if IN_MEMBERSHIP_TASK.get():
            return ConsumerGroupMetadata(self.group_id, self.generation, self.member_id, self.instance_id)
        return ConsumerGroupMetadata(self.group_id, self._polled_generation, self._polled_member,
                                     self.instance_id)

    # -- called by the consumer ----------------------------------------------------------------------

    def poll(self) -> None:
        """The application asked for records: restarts the max_poll_interval_ms clock, and runs
        the auto commit when it is due.

        Auto commit happens here, as in the Java client's poll(), not on a background timer: the
        application asking for more records is what tells us it is done with the ones it had, so
        what is committed is exactly what was handed out *before* this call.
        """
        now = time.monotonic()
        self._last_poll = now
        # mark_polled(), inlined: this runs for every record handed out by ``async for``
        self._polled_generation = self.generation
        self._polled_member = self.member_id
        if self._config.enable_auto_commit and now >= self._next_auto_commit:
            self._next_auto_commit = now + self._config.auto_commit_interval_ms / 1000.0
            self._maybe_auto_commit()
        if self._left_for_poll_timeout:
            self._left_for_poll_timeout = False
            log.info("consumer of group %s is polling again; rejoining the group", self.group_id)
            self.request_rejoin()
        if self.fatal_error is not None:
            err, self.fatal_error = self.fatal_error, None
            raise err
        if self._parked:
            self._parked = False
            self._wake.set()   # the error was raised to the application: try again

    def mark_polled(self) -> None:
        """A poll hands records out (or returns) now: what group_metadata() reports from here on."""
        self._polled_generation = self.generation
        self._polled_member = self.member_id

    @property
    def partitions_lost(self) -> bool:
        """The member lost its partitions (fenced, session expired, poll timeout) and has not yet
        rejoined."""
        return self._lost or self._left_for_poll_timeout

    @property
    def last_poll(self) -> float:
        """``time.monotonic()`` of the application's last poll."""
        return self._last_poll

    def request_rejoin(self) -> None:
        self._rejoin = True
        self._wake.set()

    async def wait_joined(self, timeout: float | None) -> bool:
        try:
            await within(self._joined.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def subscription_changed(self) -> None:
        self.request_rejoin()

    def unsubscribed(self, owned: set[TopicPartition]) -> asyncio.Task[None]:
        """After unsubscribe(): revoke what was owned (listener, auto commit) and leave the group."""
        self._unsubscribes += 1
        async def run() -> None:
            await self._callbacks_idle.wait()
            self._callbacks_idle.clear()
            try:
                if owned and self.generation >= 0:
                    if self._config.enable_auto_commit:
                        await self._commit_consumed_quietly("on unsubscribe", only=owned)
                    self._cleanup(owned)
                    await self._invoke("on_partitions_revoked", owned)
                await self._leave_group("the consumer unsubscribed")
            finally:
                self.member_id = ""
                self.generation = -1
                self._set_state(MemberState.UNJOINED)
                self._joined.clear()
                self._rejoin = True
                if self._subs.mode != self._subs.MANUAL:
                    self._subs.set_assignment([])
                self._callbacks_idle.set()
        return asyncio.get_running_loop().create_task(run(), name="kafkaio-unsubscribe")

    # -- coordinator requests ---------------------------------------------------------------------

    async def _ensure_coordinator(self) -> int:
        while self.coordinator_id is None:
            try:
                self.coordinator_id = await self._cluster.find_coordinator(self.group_id, 0)
            except KafkaError as exc:
                if not (exc.retriable or exc.invalid_metadata):
                    raise
                log.debug("finding the coordinator of %s: %s", self.group_id, exc)
                await asyncio.sleep(self._backoff_s)
        return self.coordinator_id

    def _coordinator_dead(self, why: object) -> None:
        if self.coordinator_id is not None:
            log.debug("group coordinator %s of %s unavailable (%s); looking it up again",
                     self.coordinator_id, self.group_id, why)
        self.coordinator_id = None

    async def _request(self, api: int, body: dict[str, Any], max_version: int | None = None,
                       timeout_ms: float | None = None, purpose: str = _OFFSETS_PURPOSE) -> dict[str, Any]:
        conn = await self._coordinator_connection(purpose)
        return await self._request_on(conn, api, body, max_version, timeout_ms)

    async def _coordinator_connection(self, purpose: str) -> BrokerConnection:
        """A connection to the group coordinator, found first if it is not known."""
        node = await self._ensure_coordinator()
        try:
            return await self._cluster.connection(node, purpose=purpose)
        except (KafkaConnectionError, KafkaTimeoutError) as exc:
            self._coordinator_dead(exc)
            raise

    async def _request_on(self, conn: BrokerConnection, api: int, body: dict[str, Any],
                          max_version: int | None = None, timeout_ms: float | None = None) -> dict[str, Any]:
        """``body`` sent on ``conn``: written before this coroutine first waits, so requests
        started one after another without a wait between them reach the broker in that order."""
        version = conn.version(api)
        if max_version is not None:
            version = min(version, max_version)
        try:
            return await conn.request(api, body, version=version, timeout_ms=timeout_ms)
        except (KafkaConnectionError, KafkaTimeoutError) as exc:
            self._coordinator_dead(exc)
            raise

    # -- the membership loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        IN_MEMBERSHIP_TASK.set(True)   # this task's own context (and its children's)
        while not self._closing:
            try:
                if not self._subs.uses_group:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if self._left_for_poll_timeout:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                await self._check_metadata()
                if self._rejoin or self.state != MemberState.STABLE:
                    await self._join_once()
                    continue
                self._wake.clear()
                try:
                    await within(self._wake.wait(), self._metadata_check_interval())
                except asyncio.TimeoutError:
                    pass
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:
                if exc.retriable or exc.invalid_metadata or isinstance(exc, (RebalanceInProgressError,)):
                    log.debug("group %s: %s; retrying", self.group_id, exc)
                    await asyncio.sleep(self._backoff_s)
                    continue
                log.error("group %s: %s", self.group_id, exc)
                if exc.errno == ErrorCode.FENCED_INSTANCE_ID:
                    self.fenced = True
                self._surface(exc)
                self._parked = True
                self._wake.clear()
                await self._wake.wait()
            except Exception as exc:  # noqa: BLE001 - a listener or assignor raised: surface it
                log.exception("group %s: unexpected error in the membership loop", self.group_id)
                self._surface(exc)
                await asyncio.sleep(self._backoff_s)

    def _surface(self, exc: BaseException) -> None:
        """``exc`` goes to the application's next getmany()/getone(), woken now if it waits."""
        self.fatal_error = exc
        self._readers.set()

    def _metadata_check_interval(self) -> float:
        # Patterns need new topics noticed; plain lists only partition count changes.
        base = self._config.metadata_max_age_ms / 1000.0
        return min(base, 5.0) if self._subs.mode == self._subs.PATTERN else min(base, 30.0)

    async def _check_metadata(self) -> None:
        """Track the subscription's topics; rejoin when topics or partition counts change."""
        if self._subs.mode == self._subs.PATTERN:
            self._cluster.set_all_topics(True)
            meta = await self._cluster.refresh_metadata()
            self._subs.match_pattern(meta.topics, self._config.exclude_internal_topics)
        else:
            topics = sorted(self._subs.topics)
            known = self._cluster.metadata.topics
            if set(topics) - set(self._cluster.tracked_topics) or any(t not in known for t in topics):
                # Join with metadata in hand, or the first snapshot is empty and forces a second rebalance.
                self._cluster.add_topics(topics)
                try:
                    await self._cluster.refresh_metadata(topics)
                except KafkaError as exc:
                    log.debug("metadata refresh for %s failed: %s", topics, exc)
        snapshot = self._partition_counts()
        if snapshot != self._metadata_snapshot and self.state == MemberState.STABLE:
            log.info("group %s: subscribed topics changed (%s -> %s); rejoining",
                     self.group_id, self._metadata_snapshot, snapshot)
            self._rejoin = True

    def _partition_counts(self) -> dict[str, int]:
        meta = self._cluster.metadata
        out = {}
        for t in self._subs.topics:
            info = meta.topics.get(t)
            if info is not None and info.partitions:
                out[t] = len(info.partitions)
        return out

    async def _join_once(self) -> None:
        """One complete rebalance: prepare, JoinGroup, (assign), SyncGroup, complete."""
        await self._callbacks_idle.wait()   # an unsubscribe() still revoking and leaving
        await self._ensure_coordinator()
        self._joined.clear()
        if self.state == MemberState.STABLE or self._lost:
            await self._shielded(self._on_join_prepare())
        self._set_state(MemberState.PREPARING_REBALANCE)
        self._rejoin = False
        # as Java's rebalance-latency: from the first JoinGroup of a rebalance (failed attempts,
        # such as the MEMBER_ID_REQUIRED round, included) to the SyncGroup answer
        if self._rebalance_started is None:
            self._rebalance_started = time.monotonic()
        assignment_bytes = None
        try:
            join = await self._join_group()
            # None: it failed. Another state: the member was reset while JoinGroup was out
            # (unsubscribe(), a fence): this join is void, and the membership loop decides again.
            if join is None or self.state is not MemberState.PREPARING_REBALANCE:
                return
            self._set_state(MemberState.COMPLETING_REBALANCE)
            assignment_bytes = await self._sync_group(join)
            left: MemberState = self.state  # what the await left, not what was checked before it
            if assignment_bytes is None or self._closing or left is not MemberState.COMPLETING_REBALANCE:
                assignment_bytes = None
                return
        finally:
            if assignment_bytes is None:
                self.failed_rebalances += 1
            else:
                self.last_rebalance = now = time.monotonic()
                self.rebalance_latency_total_s += now - self._rebalance_started
                self._rebalance_started = None
                self.rebalances += 1
        await self._shielded(self._on_join_complete(decode_assignment(assignment_bytes)))

    def _set_state(self, new: MemberState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise IllegalStateError(f"group {self.group_id}: member state {self.state.value} -> {new.value}")
        self.state = new

    async def _shielded(self, coro: Any) -> None:
        """Run revocation/assignment callbacks to completion even if close() cancels the loop."""
        self._callbacks_idle.clear()
        task = asyncio.ensure_future(coro)
        task.add_done_callback(lambda _t: self._callbacks_idle.set())
        await asyncio.shield(task)

    async def _on_join_prepare(self) -> None:
        owned = self._subs.assigned()
        if self._lost or self.generation < 0:
            if owned:
                log.warning("group %s: partitions %s were lost (the member was fenced or left the "
                            "group); they may already be consumed by another member", self.group_id,
                            sorted(owned))
                self._cleanup(owned)
                await self._invoke("on_partitions_lost", owned)
                self._subs.set_assignment([])
            self._lost = False
            return
        if self.protocol == RebalanceProtocol.EAGER:
            await self._revoke(owned)
            self._subs.set_assignment([])
        elif self._config.enable_auto_commit:
            await self._commit_consumed_quietly("before rebalancing", finished_only=True)

    async def _revoke(self, partitions: set[TopicPartition], finished_only: bool = True) -> None:
        """Stop handing out records, auto commit, drop prefetched data, call on_partitions_revoked.

        A rebalance runs in the background, possibly while the application processes what it was
        last handed: its auto commit stops in front of that (``finished_only``), where Java's,
        made inside the next poll(), would find it done. Closing commits every position, as Java's
        close() does."""
        if not partitions:
            return
        for tp in partitions:
            st = self._subs.assignment.get(tp)
            if st is not None:
                st.revoking = True
        if self._config.enable_auto_commit:
            await self._commit_consumed_quietly("before revoking", only=partitions, finished_only=finished_only)
        self._cleanup(partitions)
        await self._invoke("on_partitions_revoked", partitions)

    def _metadata_for(self, assignor: PartitionAssignor) -> bytes:
        topics = sorted(self._subs.topics)
        owned = sorted(self._subs.assigned()) if self.protocol == RebalanceProtocol.COOPERATIVE else []
        sub = Subscription(topics, assignor.subscription_user_data(topics), owned,
                           self.generation, self._config.client_rack or None)
        return encode_subscription(sub)

    async def _join_group(self) -> JoinGroupResponse | None:
        cfg = self._config
        rebalance_timeout_ms = cfg.rebalance_timeout_ms
        assert rebalance_timeout_ms is not None  # ConsumerConfig defaults it to max_poll_interval_ms
        unsubscribes = self._unsubscribes
        while True:
            body = {
                "group_id": self.group_id,
                "session_timeout_ms": cfg.session_timeout_ms,
                "rebalance_timeout_ms": rebalance_timeout_ms,
                "member_id": self.member_id,
                "group_instance_id": self.instance_id,
                "protocol_type": "consumer",
                "protocols": [{"name": a.name, "metadata": self._metadata_for(a)} for a in self.assignors],
                "reason": None,
            }
            self._metadata_snapshot = self._partition_counts()
            # The broker may hold the JoinGroup for up to the rebalance timeout (as in Java, which
            # adds it to the request timeout).
            resp = cast("JoinGroupResponse", await self._request(
                ApiKey.JOIN_GROUP, body, timeout_ms=rebalance_timeout_ms + cfg.request_timeout_ms + 5000,
                purpose=_MEMBERSHIP_PURPOSE))
            if self._unsubscribes != unsubscribes or self._closing or self.state is not MemberState.PREPARING_REBALANCE:
                # as Java's UnjoinedGroupException: the member gave this join up while it was out
                # (unsubscribe(), close(), a reset); its answer must not make it a member again
                return None
            code = resp["error_code"]
            if code == ErrorCode.NONE:
                self.member_id = resp["member_id"]
                self.generation = resp["generation_id"]
                self.protocol_name = resp["protocol_name"]
                return resp
            if code == ErrorCode.MEMBER_ID_REQUIRED:
                self.member_id = resp["member_id"]   # KIP-394: join again with the id we were given
                continue
            if code == ErrorCode.UNKNOWN_MEMBER_ID:
                if self._subs.assigned():
                    # The broker forgot us (session expired): what we held is lost, and the
                    # listener hears so before we join as a new member.
                    self._reset_generation(reset_member=True)
                    self.request_rejoin()
                    return None
                self.member_id = ""
                self.generation = -1
                continue
            if code in (ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR):
                self._coordinator_dead(error_for_code(code).__name__)
                raise error_for_code(code)(f"JoinGroup for {self.group_id}")
            if code in (ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.REBALANCE_IN_PROGRESS,
                        ErrorCode.REQUEST_TIMED_OUT):
                await asyncio.sleep(self._backoff_s)
                continue
            if code == ErrorCode.FENCED_INSTANCE_ID:
                raise error_for_code(code)(
                    f"group_instance_id {self.instance_id!r} is used by another consumer of group {self.group_id}")
            raise error_for_code(code)(f"JoinGroup for group {self.group_id}")

    async def _sync_group(self, join: JoinGroupResponse) -> bytes | None:
        assignments: list[dict[str, Any]] = []
        if join["leader"] == self.member_id and not join["skip_assignment"]:
            assignments = self._assign(join)
        body = {
            "group_id": self.group_id,
            "generation_id": self.generation,
            "member_id": self.member_id,
            "group_instance_id": self.instance_id,
            "protocol_type": "consumer",
            "protocol_name": self.protocol_name,
            "assignments": assignments,
        }
        resp = cast("SyncGroupResponse", await self._request(ApiKey.SYNC_GROUP, body, purpose=_MEMBERSHIP_PURPOSE))
        code = resp["error_code"]
        if code == ErrorCode.NONE:
            return resp["assignment"] or b""
        if code == ErrorCode.REBALANCE_IN_PROGRESS:
            self.request_rejoin()
            return None
        if code in (ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION):
            self._reset_generation(reset_member=code == ErrorCode.UNKNOWN_MEMBER_ID)
            self.request_rejoin()
            return None
        if code in (ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR):
            self._coordinator_dead(error_for_code(code).__name__)
            self.request_rejoin()
            return None
        raise error_for_code(code)(f"SyncGroup for group {self.group_id}")

    def _assign(self, join: JoinGroupResponse) -> list[dict[str, Any]]:
        assignor = next((a for a in self.assignors if a.name == self.protocol_name), None)
        if assignor is None:
            raise IllegalStateError(f"the group chose assignor {self.protocol_name!r}, which this consumer lacks")
        subs: dict[str, Subscription] = {}
        for m in join["members"]:
            sub = decode_subscription(m["metadata"])
            sub.group_instance_id = m["group_instance_id"]
            subs[m["member_id"]] = sub
        all_topics = sorted({t for s in subs.values() for t in s.topics})
        meta = self._cluster.metadata
        counts: dict[str, int] = {}
        for t in all_topics:
            info = meta.topics.get(t)
            if info is not None and info.partitions:
                counts[t] = len(info.partitions)
        missing = [t for t in all_topics if t not in counts]
        if missing:
            log.info("group %s: no metadata yet for subscribed topics %s; they get no partitions this round",
                     self.group_id, missing)
            self._cluster.add_topics(missing)
            self._cluster.request_refresh()
        result = assignor.assign(counts, subs)
        log.info("group %s generation %s: leader assigned with %s: %s", self.group_id, self.generation,
                 assignor.name, {m: len(a.partitions) for m, a in result.items()})
        return [{"member_id": m, "assignment": encode_assignment(a)} for m, a in result.items()]

    async def _on_join_complete(self, assignment: Assignment) -> None:
        assignor = next((a for a in self.assignors if a.name == self.protocol_name), self.assignors[0])
        assignor.on_assignment(assignment, self.generation)
        new = {tp for tp in assignment.partitions if tp.topic in self._subs.topics}
        owned = self._subs.assigned()
        self._set_state(MemberState.STABLE)
        self._joined.set()
        if self.protocol == RebalanceProtocol.COOPERATIVE:
            revoked = owned - new
            added = new - owned
            if revoked:
                await self._revoke(revoked)
                self._subs.remove_partitions(revoked)
                self.request_rejoin()   # so the revoked partitions can reach their new owner
            self._subs.add_partitions(added)
            await self._announce_assigned(added)
        else:
            self._subs.set_assignment(new)
            await self._announce_assigned(new)
        log.info("group %s generation %s: member %s has %d partitions", self.group_id,
                 self.generation, self.member_id, len(self._subs.assignment))

    async def _announce_assigned(self, partitions: set[TopicPartition]) -> None:
        """Call on_partitions_assigned before anything of ``partitions`` is fetched or looked up
        (as Java): a seek in the listener is where fetching starts. When it raises, the error
        reaches the next getmany() and the partitions are fetched all the same (Java's classic
        consumer)."""
        self._subs.await_listener(partitions)
        try:
            await self._invoke("on_partitions_assigned", partitions)
        finally:
            self._subs.listener_done(partitions)

    async def _invoke(self, name: str, partitions: set[TopicPartition]) -> None:
        """Run a listener callback; its exception reaches the app's next getmany(), as in Java,
        but never leaves the rebalance half done."""
        try:
            await call_listener(getattr(self._subs.listener, name), partitions)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the user's code
            log.error("group %s: %s raised %r", self.group_id, name, exc)
            if self.fatal_error is None:
                self._surface(exc)

    def _reset_generation(self, reset_member: bool) -> None:
        """The member lost its generation (fenced, left, session expired): so did its partitions."""
        self.generation = -1
        if reset_member:
            self.member_id = ""
        self._set_state(MemberState.UNJOINED)
        self._joined.clear()
        self._lost = True
        self._losses += 1
        self._stop_handing_out(self._subs.assigned())

    def _stop_handing_out(self, partitions: set[TopicPartition]) -> None:
        """No more records of ``partitions`` from now on: they may already belong to another
        member. (Java does this on the next poll, in onJoinPrepare; our rejoin runs in the
        background and may come after the next getmany(), so it is done at once, and the listener's
        on_partitions_lost follows in _on_join_prepare before anything newly assigned is fetched.)"""
        for tp in partitions:
            st = self._subs.assignment.get(tp)
            if st is not None:
                st.revoking = True
        if partitions:
            self._cleanup(partitions)

    # -- heartbeats ---------------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        cfg = self._config
        interval = cfg.heartbeat_interval_ms / 1000.0
        while True:
            await asyncio.sleep(interval)
            if self.state not in _HEARTBEATING or self.generation < 0:
                continue
            if time.monotonic() - self._last_poll > cfg.max_poll_interval_ms / 1000.0:
                log.warning(
                    "consumer poll timeout has expired: the time between calls to getmany()/getone() "
                    "exceeded max_poll_interval_ms (%d ms), which means message processing is too "
                    "slow. Leaving group %s so that its partitions go to a live member; the consumer "
                    "rejoins on its next getmany()/getone(). Raise max_poll_interval_ms or lower "
                    "max_poll_records.", cfg.max_poll_interval_ms, self.group_id)
                self._left_for_poll_timeout = True
                member = self.member_id
                # Lost from now on, before the LeaveGroup hands them to the others: a getmany()
                # while it is in flight must not return their records.
                self._reset_generation(reset_member=True)
                await self._leave_group("consumer poll timeout has expired", member)
                continue
            generation, member = self.generation, self.member_id
            try:
                resp = cast("HeartbeatResponse", await self._request(ApiKey.HEARTBEAT, {
                    "group_id": self.group_id, "generation_id": generation,
                    "member_id": member, "group_instance_id": self.instance_id}))
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:
                log.debug("heartbeat of group %s failed: %s", self.group_id, exc)
                continue
            code = resp["error_code"]
            if code == ErrorCode.NONE:
                self.last_heartbeat = time.monotonic()
                continue
            if generation != self.generation or member != self.member_id:
                continue  # answered for a generation we already left behind
            if code == ErrorCode.REBALANCE_IN_PROGRESS:
                if self.state == MemberState.STABLE:
                    self.request_rejoin()
                # else: our own rejoin is under way; its SyncGroup tells us how it ends
            elif code in _MEMBER_FENCED:
                log.warning("group %s: heartbeat says %s; the member's partitions are lost, rejoining",
                            self.group_id, error_for_code(code).__name__)
                if code == ErrorCode.FENCED_INSTANCE_ID:
                    self.fenced = True
                    self._surface(error_for_code(code)(
                        f"group_instance_id {self.instance_id!r} was taken over by another consumer"))
                self._reset_generation(reset_member=code != ErrorCode.ILLEGAL_GENERATION)
                self.request_rejoin()
            elif code in _COORDINATOR_ERRORS or code == ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
                self._coordinator_dead(error_for_code(code).__name__)

    async def _leave_group(self, reason: str, member_id: str | None = None, *, static_too: bool = False) -> None:
        """LeaveGroup for ``member_id`` (default: the current member id); a static member leaves
        only when ``static_too`` (otherwise it keeps its place for its restart)."""
        member = self.member_id if member_id is None else member_id
        if (self.instance_id is not None and not static_too) or not member or self.coordinator_id is None:
            return  # unjoined members have no place to leave
        try:
            await self._request(ApiKey.LEAVE_GROUP, {
                "group_id": self.group_id, "member_id": member,
                "members": [{"member_id": member, "group_instance_id": self.instance_id, "reason": reason}]},
                timeout_ms=min(self._config.request_timeout_ms, 5000))
        except KafkaError as exc:
            log.debug("LeaveGroup for %s failed: %s", self.group_id, exc)

    # -- commits --------------------------------------------------------------------------------------

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata],
                     timeout_ms: float | None = None, *, wait_for_rebalance: bool = True,
                     target: CommitTarget | None | _Now = NOW) -> None:
        """Commit ``offsets`` (the next offsets to read), retrying coordinator errors until the timeout.

        A member commits only partitions it owns, and only while it has owned them without a
        break since this call: every attempt (the first and each retry) is checked against what
        was owned when the commit was asked for, so a retry never commits, under a later
        generation, a partition that has since moved to another member (Java captures the
        generation when the commit is requested; our rebalances run in the background, so the
        partitions are what is captured). If the group moves on while the commit is in flight
        (our own rejoin, typically cooperative), it waits for the rebalance and commits under the
        new generation what the member kept. Raises :class:`CommitFailedError` when the partitions
        are not, or no longer, this member's because it lost them (fenced, left, never had them),
        :class:`RebalanceInProgressError` when a rebalance revoked them meanwhile or does not
        complete in time; in both cases nothing is committed. ``target``: what
        :meth:`commit_target` captured when the commit was asked for, if that was earlier than this
        call (``commit_async``); by default it is captured now.

        A retry leaves out the partitions a newer commit was asked for meanwhile (sent after it,
        the older offset would be the one the broker keeps): their outcome is the newer commit's.
        The call then returns only once the newer commits committed them, and raises the error
        the first of them that failed got (:class:`CommitFailedError`,
        :class:`RebalanceInProgressError`, ...), or :class:`KafkaTimeoutError` when one is still
        undecided at this call's deadline; the message names the partitions committed and those
        not. When the newer commit's caller cancels it before its outcome is known, this call takes
        the partitions back and sends the newer offsets itself (its own could rewind them after
        the newer ones): another caller's cancellation does not decide it. Made by the membership
        task (a rebalance listener, the auto commit before a revocation), it does not wait: a
        newer commit still undecided may be waiting for this rebalance, and it raises
        :class:`RebalanceInProgressError`.
        """
        if not offsets:
            return
        if isinstance(target, _Now):
            target = self.commit_target(offsets)
        loop = asyncio.get_running_loop()
        timeout_ms = self._config.default_api_timeout_ms if timeout_ms is None else timeout_ms
        deadline = loop.time() + timeout_ms / 1000.0
        commit = self._commits.begin(offsets)
        error: BaseException | None = None
        try:
            while True:
                await self._commit_attempts(commit, target, deadline, wait_for_rebalance)
                if IN_MEMBERSHIP_TASK.get():
                    # the newer commit may be waiting for the very rebalance this task is running
                    await self._commits.await_newer(commit, loop.time(), undecided=RebalanceInProgressError)
                else:
                    await self._commits.await_newer(commit, deadline)
                if not self._commits.to_send(commit):
                    break   # else a newer commit's cancelled caller gave partitions back
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._commits.finish(commit, error)

    async def _commit_attempts(self, commit: PendingCommit, target: CommitTarget | None, deadline: float,
                               wait_for_rebalance: bool) -> None:
        """Send ``commit``'s offsets, retrying until ``deadline``, but for the partitions a newer
        commit was asked for since ``commit`` was."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                # What is sent is read after the last wait before the write: read before the
                # coordinator lookup, older offsets could reach the broker after a newer commit.
                conn = await self._coordinator_connection(_OFFSETS_PURPOSE)
                offsets = self._commits.to_send(commit)
                if not offsets:
                    return
                generation, member = self._commit_generation(target)
                await self._commit_once(conn, offsets, generation, member)
                for tp, oam in offsets.items():
                    self._last_committed[tp] = oam.offset
                self._commits.committed(commit, offsets)
                return
            except GenerationMoved as moved:
                await self._await_rebalance(deadline, wait_for_rebalance, str(moved))
            except EpochStale as stale:
                # the next attempt is checked against the partitions owned at the request, and
                # carries the epoch the heartbeat brings meanwhile
                if loop.time() >= deadline:
                    raise RebalanceInProgressError(f"{stale}: the member epoch did not catch up in time. "
                                                   "Nothing was committed") from None
                await asyncio.sleep(self._backoff_s)
            except KafkaError as exc:
                if not (exc.retriable or exc.invalid_metadata) or loop.time() >= deadline:
                    raise
                await asyncio.sleep(self._backoff_s)

    def commit_target(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> CommitTarget | None:
        """What this commit is allowed to commit, captured now; None without group membership
        (assign(): committed as generation -1, nothing to check)."""
        if not self._subs.uses_group and self.generation < 0:
            return None   # while unsubscribing the member still commits under its generation
        if self.generation < 0:
            raise CommitFailedError(
                "Commit cannot be completed since the consumer is not part of an active group "
                "(it is rejoining after a rebalance, a fence, or a poll timeout). " + COMMIT_FAILED_MSG)
        assignment = self._subs.assignment
        foreign = sorted(tp for tp in offsets if tp not in assignment)
        if foreign:
            raise CommitFailedError(
                f"Commit cannot be completed: {foreign} are not assigned to this member, and committing "
                "them could rewind the progress of the member that owns them. Nothing was committed.")
        return CommitTarget({tp: assignment[tp] for tp in offsets}, self._losses)

    def _commit_generation(self, target: CommitTarget | None) -> tuple[int, str]:
        """The generation and member id to send the commit under, or the error that forbids it."""
        if target is None:
            return -1, ""
        if self._losses != target.losses or self.generation < 0:
            raise CommitFailedError(
                "Commit cannot be completed since the member lost its partitions while the commit "
                "was pending. Nothing was committed. " + COMMIT_FAILED_MSG)
        assignment = self._subs.assignment
        revoked = sorted(tp for tp, st in target.owned.items() if assignment.get(tp) is not st)
        if revoked:
            raise RebalanceInProgressError(
                f"Commit cannot be completed: a rebalance revoked {revoked} while the commit was "
                "pending; nothing was committed. Commit in on_partitions_revoked to keep what was "
                "consumed; commit again only what is still assigned.")
        # Continuously owned: the current generation is as good as the one of the call (a
        # cooperative rebalance that kept them), and during our own rejoin the broker still
        # accepts the current one until the JoinGroup completes.
        return self.generation, self.member_id

    async def _await_rebalance(self, deadline: float, allowed: bool, why: str) -> None:
        """Wait until the member is stable again (then the commit is looked at anew), or raise
        the retriable RebalanceInProgressError when it may not or cannot wait."""
        msg = (f"{why}; the group is rebalancing. Nothing was committed: poll, then commit again "
               "what is still assigned (on_partitions_revoked is the place to commit before losing partitions)")
        if not allowed or IN_MEMBERSHIP_TASK.get() or self._stopping.is_set() or not self._subs.uses_group:
            raise RebalanceInProgressError(msg)   # whoever would complete the rebalance is us
        # Give the membership task a turn to start the rejoin asked for (it clears _joined), so
        # a broker answering REBALANCE_IN_PROGRESS to a still "stable" member is not hammered.
        await asyncio.sleep(self._backoff_s)
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise RebalanceInProgressError(msg)
        waiters = [asyncio.ensure_future(self._joined.wait()), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waiters, timeout=max(left, 0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if self.state != MemberState.STABLE:
            raise RebalanceInProgressError(msg)

    async def _commit_once(self, conn: BrokerConnection, offsets: dict[TopicPartition, OffsetAndMetadata],
                           generation: int, member: str) -> None:
        """One OffsetCommit of ``offsets`` on ``conn``, written before the first wait."""
        topics: dict[str, list[dict[str, Any]]] = {}
        for tp, oam in offsets.items():
            topics.setdefault(tp.topic, []).append({
                "partition_index": tp.partition, "committed_offset": oam.offset,
                "committed_leader_epoch": oam.leader_epoch, "committed_metadata": oam.metadata})
        as_member = generation >= 0
        state = self.state
        ids = self._topic_ids(topics) if self.offset_commit_topic_id_version is not None else {}
        body = {"group_id": self.group_id, "generation_id_or_member_epoch": generation,
                "member_id": member, "group_instance_id": self.instance_id if as_member else None,
                "retention_time_ms": -1,
                "topics": [{"name": t, "topic_id": ids.get(t, ZERO_UUID), "partitions": ps}
                           for t, ps in topics.items()]}
        # as Java's CommitRequestManager: topics by id (v10+) only when every id is known
        by_id = bool(ids) and ZERO_UUID not in ids.values()
        max_version = self.offset_commit_topic_id_version if by_id else self.offset_commit_max_version
        names = {tid: t for t, tid in ids.items()}
        sent = time.monotonic()
        resp = cast("OffsetCommitResponse", await self._request_on(conn, ApiKey.OFFSET_COMMIT, body, max_version))
        self.commit_latency_total_s += time.monotonic() - sent
        self.commit_responses += 1
        for t in resp["topics"]:
            # a v10+ answer names its topics by id, the ones this request named
            name = t["name"] or names[t["topic_id"]]
            for p in t["partitions"]:
                code = p["error_code"]
                if code == ErrorCode.NONE:
                    continue
                tp = TopicPartition(name, p["partition_index"])
                if code in _COORDINATOR_ERRORS:
                    self._coordinator_dead(error_for_code(code).__name__)
                if code in self.commit_fenced_codes:
                    self._on_commit_fenced(code, tp, generation, member, state)
                if code == ErrorCode.REBALANCE_IN_PROGRESS:
                    if self.state == MemberState.STABLE:
                        self.request_rejoin()   # the broker is rebalancing and we had not noticed
                    raise GenerationMoved(f"committing {tp}: REBALANCE_IN_PROGRESS")
                raise error_for_code(code)(f"committing offset {offsets[tp].offset} of {tp}")

    def _topic_ids(self, topics: Iterable[str]) -> dict[str, uuid.UUID]:
        """Each topic's id in the metadata (ZERO_UUID when it has none)."""
        known = self._cluster.metadata.topics
        return {t: (known[t].topic_id if t in known else None) or ZERO_UUID for t in topics}

    def _on_commit_fenced(self, code: int, tp: TopicPartition, generation: int, member: str,
                          sent_in: MemberState) -> None:
        """ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID for a commit: either the
        group moved on while it was in flight (look again after the rebalance), or our stable
        generation is really gone (the partitions are lost)."""
        name = error_for_code(code).__name__
        same = generation == self.generation and member == self.member_id
        stable_throughout = same and sent_in == MemberState.STABLE and self.state == MemberState.STABLE
        if generation >= 0 and code != ErrorCode.FENCED_INSTANCE_ID and not stable_throughout:
            # Sent during a rebalance or answered after one: whether the member kept its
            # partitions is known once the rebalance completes (a fence shows up there too).
            raise GenerationMoved(f"committing {tp}: {name}")
        if generation >= 0 and same and self.state == MemberState.STABLE:
            self._reset_generation(reset_member=code == ErrorCode.UNKNOWN_MEMBER_ID)
            self.request_rejoin()
        raise CommitFailedError(f"committing {tp}: {name}. {COMMIT_FAILED_MSG}")

    async def _commit_consumed_quietly(self, when: str, only: Iterable[TopicPartition] | None = None,
                                       finished_only: bool = False) -> None:
        """Auto commit: best effort, as the Java client's, logging instead of raising."""
        try:
            await self.commit(self.consumed_offsets(only, changed_only=True, finished_only=finished_only),
                              wait_for_rebalance=False)
        except KafkaError as exc:
            log.warning("group %s: auto commit %s failed: %s", self.group_id, when, exc)

    def consumed_offsets(self, only: Iterable[TopicPartition] | None = None, changed_only: bool = False,
                         finished_only: bool = False) -> dict[TopicPartition, OffsetAndMetadata]:
        """Positions to commit (``only`` those partitions; ``changed_only`` since the last commit;
        ``finished_only``: in front of what the application may still be processing)."""
        consumed = self._subs.finished_offsets() if finished_only else self._subs.consumed_offsets()
        if only is not None:
            keep = set(only)
            consumed = {tp: v for tp, v in consumed.items() if tp in keep}
        out = {}
        for tp, (offset, epoch) in consumed.items():
            last = self._last_committed.get(tp)
            if changed_only and last == offset:
                continue
            if finished_only and last is not None and offset < last:
                continue  # this member already committed past the batch in progress: never rewind
            out[tp] = OffsetAndMetadata(offset, "", epoch)
        return out

    def _maybe_auto_commit(self) -> None:
        if self._ac_task is not None and not self._ac_task.done():
            return  # one auto commit in flight at a time
        if not (self.state == MemberState.STABLE or (not self._subs.uses_group and self._subs.assignment)):
            return
        offsets = self.consumed_offsets(changed_only=True)   # captured now, before more records go out
        if not offsets:
            return

        async def run() -> None:
            try:
                await self.commit(offsets)
            except KafkaError as exc:
                log.warning("group %s: auto commit failed: %s", self.group_id, exc)

        self._ac_task = asyncio.get_running_loop().create_task(run(), name="kafkaio-autocommit")

    # -- committed offsets ----------------------------------------------------------------------------

    async def fetch_committed(self, tps: Iterable[TopicPartition],
                              timeout_ms: float | None = None) -> dict[TopicPartition, OffsetAndMetadata | None]:
        """The group's committed offsets of ``tps`` (None where none), asked again on retriable
        errors until ``timeout_ms`` (default ``default_api_timeout_ms``; 0: one attempt)."""
        tps = list(tps)
        if not tps:
            return {}
        loop = asyncio.get_running_loop()
        timeout_ms = self._config.default_api_timeout_ms if timeout_ms is None else timeout_ms
        deadline = loop.time() + timeout_ms / 1000.0
        topics: dict[str, list[int]] = {}
        for tp in tps:
            topics.setdefault(tp.topic, []).append(tp.partition)
        while True:
            try:
                return await self._fetch_committed_once(topics)
            except EpochStale as stale:
                if loop.time() >= deadline:
                    # as Java's CommitRequestManager: a lookup still refused at its deadline times out
                    raise KafkaTimeoutError(f"{stale}: the member epoch did not catch up in time") from None
                await asyncio.sleep(self._backoff_s)
            except KafkaError as exc:
                if not (exc.retriable or exc.invalid_metadata) or loop.time() >= deadline:
                    raise
                await asyncio.sleep(self._backoff_s)

    async def _fetch_committed_once(self, topics: dict[str, list[int]]) -> dict[TopicPartition, OffsetAndMetadata | None]:
        """One OffsetFetch. As Java 4.4: the grouped format (v8+), by topic id (v10) when this
        protocol uses it and every topic's id is known, else by name (v9 at most)."""
        member_id, epoch = self._lookup_member()
        ids = self._topic_ids(topics) if self.offset_fetch_topic_id_version is not None else {}
        by_id = bool(ids) and ZERO_UUID not in ids.values()
        max_version = self.offset_fetch_topic_id_version if by_id else self.offset_fetch_max_version
        body = offset_fetch_request(self.group_id, topics, ids, member_id, epoch)
        resp = await self._request(ApiKey.OFFSET_FETCH, body, max_version)
        answer = read_offset_fetch(resp, self.group_id, {tid: t for t, tid in ids.items()})
        code = answer.error_code
        if code:
            if code in _COORDINATOR_ERRORS:
                self._coordinator_dead(error_for_code(code).__name__)
            if self._lookup_retries(code):
                raise EpochStale(f"fetching committed offsets of group {self.group_id}: "
                                 f"{error_for_code(code).__name__}")
            raise error_for_code(code)(f"fetching committed offsets of group {self.group_id}")
        out: dict[TopicPartition, OffsetAndMetadata | None] = {}
        for tp, pcode, committed in answer.partitions:
            if pcode == ErrorCode.UNSTABLE_OFFSET_COMMIT:
                raise error_for_code(pcode)(f"committed offset of {tp} is pending a transaction")
            if pcode in _LOOKUP_METADATA_ERRORS:
                # a topic id the broker does not know (deleted, or created again under a new one):
                # the next attempt names the topics as the refreshed metadata does
                self._cluster.request_refresh()
            if pcode:
                raise error_for_code(pcode)(f"fetching committed offset of {tp}")
            out[tp] = committed
        return out

    def _lookup_member(self) -> tuple[str | None, int]:
        """The member id and epoch a lookup carries (OffsetFetch v9+): none under the classic
        protocol, as Java's ConsumerCoordinator."""
        return None, -1

    def _lookup_retries(self, code: int) -> bool:
        """Whether a lookup the broker refused for the member id and epoch it carried is sent
        again: on STALE_MEMBER_EPOCH while the member still holds an epoch (the heartbeat brings
        the broker's), as Java's CommitRequestManager; UNKNOWN_MEMBER_ID is raised."""
        return code == ErrorCode.STALE_MEMBER_EPOCH and self._lookup_member()[1] >= 0
