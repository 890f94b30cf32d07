"""The consumer group protocol (KIP-848, ``group_protocol="consumer"``): heartbeats and reconciliation.

Two tasks, as the Java client's background thread and application thread share the work:
- the heartbeat task sends ConsumerGroupHeartbeat (what :class:`Membership` builds) at the interval
  the broker gives, at once when joining, acknowledging or leaving, and feeds the answers back;
- the membership task reconciles the target assignment the broker sent, one step at a time:
  revoke first (stop handing out records, commit them with auto commit, ``on_partitions_revoked``),
  then assign (``on_partitions_assigned``), then the next heartbeat acknowledges what is owned.
  A fenced member (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID) releases its partitions as lost
  (``on_partitions_lost``) and rejoins with epoch 0.

Offset commits, committed-offset lookups and auto commit are the classic coordinator's, sent with
the member id and epoch (OffsetCommit v9+, OffsetFetch v9+), naming topics by id where the broker
offers it (v10). ``max_poll_interval_ms``: the member leaves (epoch -1) when the
application stops polling, and rejoins on its next poll; close() leaves with epoch -1, or -2 for a
static member (``group_instance_id``), which keeps its assignment until the session expires.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, cast

from kafkaio.consumer.coordinator import (
    IN_MEMBERSHIP_TASK,
    COMMIT_FAILED_MSG,
    GroupCoordinator,
    MemberState as GroupState,
    EpochStale,
    GenerationMoved,
)
from kafkaio.consumer.membership import (
    HEARTBEATING,
    HeartbeatOutcome,
    Membership,
    MemberState,
    plan_reconciliation,
)
from kafkaio.consumer.subscription import SubscriptionState
from kafkaio.errors import (
    CommitFailedError,
    ErrorCode,
    KafkaError,
    UnsupportedVersionError,
    error_for_code,
)
from kafkaio.protocol import ApiKey
from kafkaio.structs import GroupMembershipOperation, TopicPartition
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.cluster import Cluster
    from kafkaio.config import ConsumerConfig
    from kafkaio.protocol.bodies import ConsumerGroupHeartbeatResponse

log = logging.getLogger(__name__)

# member epochs are checked on OffsetCommit from v9 on
OFFSET_COMMIT_CONSUMER_PROTOCOL_VERSION = 9
OFFSET_COMMIT_TOPIC_ID_VERSION = 10   # names topics by id; used when every id is known, as Java
OFFSET_FETCH_TOPIC_ID_VERSION = 10    # the same for lookups
_HEARTBEAT_PURPOSE = "group-heartbeat"
# member states in which the member holds an epoch the broker accepts for commits
_IN_GROUP = frozenset({MemberState.RECONCILING, MemberState.ACKNOWLEDGING, MemberState.STABLE,
                       MemberState.PREPARE_LEAVING})
# how the consumer's state (kafkaio.health) sees the member
_GROUP_VIEW = {MemberState.STABLE: GroupState.STABLE, MemberState.ACKNOWLEDGING: GroupState.STABLE,
               MemberState.RECONCILING: GroupState.PREPARING_REBALANCE,
               MemberState.JOINING: GroupState.PREPARING_REBALANCE}


class ConsumerGroupCoordinator(GroupCoordinator):
    """Membership under the consumer group protocol; commits and lookups as the classic one."""

    offset_commit_max_version = OFFSET_COMMIT_CONSUMER_PROTOCOL_VERSION
    offset_commit_topic_id_version = OFFSET_COMMIT_TOPIC_ID_VERSION
    offset_fetch_topic_id_version = OFFSET_FETCH_TOPIC_ID_VERSION
    commit_fenced_codes = frozenset({ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.STALE_MEMBER_EPOCH,
                                     ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.ILLEGAL_GENERATION})

    def __init__(self, cluster: Cluster, config: ConsumerConfig, subscriptions: SubscriptionState,
                 on_revoke_cleanup: Callable[[set[TopicPartition]], None],
                 readers: asyncio.Event | None = None) -> None:
        super().__init__(cluster, config, subscriptions, on_revoke_cleanup, readers)
        assert config.rebalance_timeout_ms is not None  # ConsumerConfig defaults it to max_poll_interval_ms
        self.member = Membership(self.group_id, config.group_instance_id, config.client_rack or None,
                                 config.rebalance_timeout_ms, config.group_remote_assignor)
        self.member_id = self.member.member_id
        self._hb_wake = asyncio.Event()
        self._poll_rejoin = False   # the application polled again after a poll timeout
        self._heartbeats_stopped = False

    # -- the member's state, as the rest of the consumer sees it -----------------------------------

    def _sync(self) -> None:
        """Publish the member's epoch and state to what commits, group_metadata() and the
        consumer's state read."""
        m = self.member
        self.member_id = m.member_id
        self.generation = m.member_epoch if m.state in _IN_GROUP and m.member_epoch > 0 else -1
        self.state = _GROUP_VIEW.get(m.state, GroupState.UNJOINED)
        if self.state is GroupState.STABLE:
            self._joined.set()
        else:
            self._joined.clear()
        self._wake.set()
        self._hb_wake.set()

    def request_rejoin(self) -> None:
        """The application polls again after a poll timeout: rejoin (the broker decides the rest)."""
        self._poll_rejoin = True
        self._wake.set()

    def subscription_changed(self) -> None:
        self._wake.set()
        self._hb_wake.set()   # the next heartbeat carries the new topics

    # -- lifecycle ---------------------------------------------------------------------------------

    async def close(self, membership: GroupMembershipOperation = GroupMembershipOperation.DEFAULT) -> None:
        """Commit (auto commit), revoke, leave the group as ``membership`` says: epoch -1 to
        leave, -2 for a static member that remains; a dynamic member that remains sends nothing."""
        self.member.close_operation = membership
        await self._begin_close()
        await _cancel(self._task)
        try:
            owned = self._subs.assigned()
            if self._subs.uses_group and self.member.state in HEARTBEATING and self.member.prepare_leaving():
                self._sync()
                # the epoch is still valid: the commit goes through; closing commits every position
                await self._revoke(owned, finished_only=False)
                self.member.leaving()
            elif self._subs.uses_group and owned:
                self._cleanup(owned)
                await self._invoke("on_partitions_lost", owned)
            elif not self._subs.uses_group and self._config.enable_auto_commit:
                await self._commit_consumed_quietly("on close")
        finally:
            self._heartbeats_stopped = True
            self._hb_wake.set()
            await _cancel(self._hb_task)
            await self._send_leave()
            self._sync()

    def unsubscribed(self, owned: set[TopicPartition]) -> asyncio.Task[None]:
        """After unsubscribe(): revoke what was owned (listener, auto commit) and leave the group."""
        async def run() -> None:
            await self._callbacks_idle.wait()
            self._callbacks_idle.clear()
            try:
                if self.member.prepare_leaving():
                    self._sync()
                    if owned:
                        if self._config.enable_auto_commit:
                            await self._commit_consumed_quietly("on unsubscribe", only=owned)
                        self._cleanup(owned)
                        await self._invoke("on_partitions_revoked", owned)
                    if self.member.state is MemberState.PREPARE_LEAVING:
                        self.member.leaving()
                    await self._send_leave()
            finally:
                if self._subs.mode != self._subs.MANUAL:
                    self._subs.set_assignment([])
                self._sync()
                self._callbacks_idle.set()
        return asyncio.get_running_loop().create_task(run(), name="kafkaio-unsubscribe")

    async def _send_leave(self) -> None:
        """The leave heartbeat, if the member is due to send one (best effort, as Java's)."""
        told = self.coordinator_id is not None and self.member.sends_leave()
        if self.member.state is not MemberState.LEAVING or not told:
            if self.member.state is MemberState.LEAVING:
                self.member.heartbeat(())   # nobody to tell (or told to stay): the member is out all the same
            return
        body = self.member.heartbeat(tuple(self._subs.topics), self._subs.regex)
        try:
            await self._request(ApiKey.CONSUMER_GROUP_HEARTBEAT, body,
                                timeout_ms=min(self._config.request_timeout_ms, 5000),
                                purpose=_HEARTBEAT_PURPOSE)
        except KafkaError as exc:
            log.debug("leave heartbeat for %s failed: %s", self.group_id, exc)

    # -- the membership task -----------------------------------------------------------------------

    async def _run(self) -> None:
        IN_MEMBERSHIP_TASK.set(True)
        while not self._closing:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:
                if exc.retriable or exc.invalid_metadata:
                    log.debug("group %s: %s; retrying", self.group_id, exc)
                    await asyncio.sleep(self._backoff_s)
                    continue
                log.error("group %s: %s", self.group_id, exc)
                self._surface(exc)
                await asyncio.sleep(self._backoff_s)
            except Exception as exc:  # noqa: BLE001 - a listener raised: surface it
                log.exception("group %s: unexpected error in the membership task", self.group_id)
                self._surface(exc)
                await asyncio.sleep(self._backoff_s)

    async def _step(self) -> None:
        m = self.member
        self._wake.clear()
        if m.state in (MemberState.FENCED, MemberState.STALE) and self._subs.assigned():
            await self._shielded(self._release_lost())
        rejoin = m.state is MemberState.FENCED or (m.state is MemberState.STALE and self._poll_rejoin)
        if rejoin or (m.state is MemberState.UNSUBSCRIBED and self._subs.uses_group):
            self._poll_rejoin = False
            self._lost = False
            m.join()
            self._sync()
        if m.state in HEARTBEATING:
            # partition counts are the broker's concern under this protocol: no rejoin for them
            self._metadata_snapshot = self._partition_counts()
            await self._check_metadata()
        if m.state is MemberState.RECONCILING and await self._shielded_reconcile():
            return
        try:
            await within(self._wake.wait(), self._metadata_check_interval())
        except asyncio.TimeoutError:
            pass

    async def _shielded_reconcile(self) -> bool:
        applied: list[bool] = []

        async def run() -> None:
            applied.append(await self._reconcile())
        await self._shielded(run())
        return bool(applied and applied[0])

    async def _release_lost(self) -> None:
        """The member was fenced or left for a poll timeout: its partitions may be another's."""
        owned = self._subs.assigned()
        log.warning("group %s: partitions %s were lost (the member was fenced or left the group); "
                    "they may already be consumed by another member", self.group_id, sorted(owned))
        self._cleanup(owned)
        await self._invoke("on_partitions_lost", owned)
        self._subs.set_assignment([])
        self._lost = False

    async def _reconcile(self) -> bool:
        """One reconciliation step towards the target; False when there was nothing to apply yet
        (topic ids the metadata does not name: a refresh is asked for)."""
        m = self.member
        if m.target is None:
            return False
        losses = self._losses
        started = time.monotonic()
        meta = self._cluster.metadata
        names = {info.topic_id: name for name, info in meta.topics.items() if info.topic_id is not None}
        ids = {name: tid for tid, name in names.items()}
        owned = frozenset((tp.topic, tp.partition) for tp in self._subs.assigned())
        plan = plan_reconciliation(m.target, names, owned)
        if plan.unresolved:
            log.debug("group %s: target topic ids %s not in the metadata yet", self.group_id,
                      sorted(map(str, plan.unresolved)))
            self._cluster.request_refresh()
            if not plan.revoked and not plan.added and _by_id(plan.assigned, ids) == m.owned:
                return False
        revoked = {TopicPartition(*tp) for tp in plan.revoked}
        added = {TopicPartition(*tp) for tp in plan.added}
        # the listener hears of the first assignment after a join even when it is empty (as in
        # Java), and of later ones only when something changed
        announce = bool(added or revoked) or not m.owned_known
        if revoked:
            await self._revoke(revoked)
            self._subs.remove_partitions(revoked)
        if self._losses != losses or m.state is not MemberState.RECONCILING:
            return True   # fenced or leaving while the listener ran: that path takes over
        self._subs.add_partitions(added)
        if self._subs.regex is not None:   # the broker's match: what subscription() reports
            self._subs.topics = {tp.topic for tp in self._subs.assigned()}
        if announce:
            await self._announce_assigned(added)
        m.reconciled(_by_id(plan.assigned, ids))
        self._sync()
        if announce:   # kafkaio.metrics counts each reconciliation that changed something, as Java
            now = time.monotonic()
            self.rebalances += 1
            self.rebalance_latency_total_s += now - started
            self.last_rebalance = now
        log.info("group %s epoch %s: member %s has %d partitions", self.group_id, m.member_epoch,
                 m.member_id, len(self._subs.assignment))
        return True

    # -- the heartbeat task ------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        # ends on the stop flag as well as on cancellation
        while not self._heartbeats_stopped:
            try:
                await self._heartbeat_step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a heartbeat task that died would get the member fenced
                log.exception("group %s: unexpected error in the heartbeat task", self.group_id)
                self._surface(exc)
                await asyncio.sleep(self._backoff_s)

    async def _heartbeat_step(self) -> None:
        """Wait for the next heartbeat's time, send it, act on the answer."""
        m = self.member
        if m.state not in HEARTBEATING:
            self._hb_wake.clear()
            await self._hb_wake.wait()
            return
        if m.state is MemberState.LEAVING:
            await self._send_leave()
            self._sync()
            return
        if self._poll_timer_expired():
            return
        self._hb_wake.clear()
        body = m.heartbeat(tuple(self._subs.topics), self._subs.regex)
        self._sync()
        delay = await self._heartbeat_once(body)
        if m.send_now and delay == 0:
            return
        interval = delay or m.heartbeat_interval_ms / 1000.0 or self._backoff_s
        try:
            await within(self._wait_send_now(), interval)
        except asyncio.TimeoutError:
            pass

    async def _wait_send_now(self) -> None:
        while not self.member.send_now:
            self._hb_wake.clear()
            await self._hb_wake.wait()

    async def _heartbeat_once(self, body: dict[str, Any]) -> float:
        """Send one heartbeat and act on its answer; the time to wait before the next one if it
        must differ from the interval (0: none)."""
        m = self.member
        try:
            resp = cast("ConsumerGroupHeartbeatResponse", await self._request(
                ApiKey.CONSUMER_GROUP_HEARTBEAT, body, purpose=_HEARTBEAT_PURPOSE))
        except UnsupportedVersionError as exc:
            # no retry can fix it (Java: fatal too): the broker predates KIP-848 or has it off
            m.fail()
            self._sync()
            self._surface(UnsupportedVersionError(
                f"group {self.group_id}: the group coordinator does not offer the consumer group protocol "
                f"({exc}); use group_protocol='classic', or a Kafka 4.0+ broker"))
            return self._backoff_s
        except KafkaError as exc:
            log.debug("heartbeat of group %s failed: %s", self.group_id, exc)
            m.heartbeat_failed()
            return self._backoff_s
        outcome = m.on_response(resp)
        code = resp["error_code"]
        if outcome in (HeartbeatOutcome.OK, HeartbeatOutcome.RECONCILE):
            self.last_heartbeat = time.monotonic()
        elif outcome is HeartbeatOutcome.FENCED:
            log.warning("group %s: heartbeat says %s; the member's partitions are lost, rejoining",
                        self.group_id, error_for_code(code).__name__)
            self._lost = True
            self._losses += 1
            self._stop_handing_out(self._subs.assigned())
        elif outcome is HeartbeatOutcome.COORDINATOR_MOVED:
            self._coordinator_dead(error_for_code(code).__name__)
            return self._backoff_s
        elif outcome is HeartbeatOutcome.RETRY:
            return self._backoff_s
        elif outcome in (HeartbeatOutcome.REPORT, HeartbeatOutcome.FATAL):
            err = error_for_code(code)(resp["error_message"] or f"ConsumerGroupHeartbeat for {self.group_id}")
            log.error("group %s: heartbeat failed: %s", self.group_id, err)
            if code == ErrorCode.UNRELEASED_INSTANCE_ID:
                self.fenced = True
            if outcome is HeartbeatOutcome.FATAL:
                # no more heartbeats: the broker gives the partitions away after the session
                self._stop_handing_out(self._subs.assigned())
            self._surface(err)
            if outcome is HeartbeatOutcome.REPORT:
                return self._backoff_s
        self._sync()
        return 0.0

    def _poll_timer_expired(self) -> bool:
        """``max_poll_interval_ms`` passed without a poll: leave the group (its partitions go to
        live members) and stay out until the next poll (Java: the member turns STALE)."""
        cfg = self._config
        if time.monotonic() - self._last_poll <= cfg.max_poll_interval_ms / 1000.0:
            return False
        if not self.member.prepare_leaving(for_poll_timeout=True):
            return False
        log.warning(
            "consumer poll timeout has expired: the time between calls to getmany()/getone() "
            "exceeded max_poll_interval_ms (%d ms), which means message processing is too slow. "
            "Leaving group %s so that its partitions go to a live member; the consumer rejoins on "
            "its next getmany()/getone(). Raise max_poll_interval_ms or lower max_poll_records.",
            cfg.max_poll_interval_ms, self.group_id)
        self._left_for_poll_timeout = True
        self._poll_rejoin = False
        self._lost = True
        self._losses += 1
        # Lost from now on, before the leave hands them to the others.
        self._stop_handing_out(self._subs.assigned())
        self.member.leaving()
        self._sync()
        return True

    # -- commits and lookups -------------------------------------------------------------------------

    def _lookup_member(self) -> tuple[str | None, int]:
        """As Java's CommitRequestManager: the member id and epoch while the member holds an epoch."""
        if self.generation < 0:
            return None, -1
        return self.member_id, self.generation

    def _on_commit_fenced(self, code: int, tp: TopicPartition, generation: int, member: str,
                          sent_in: GroupState) -> None:
        """STALE_MEMBER_EPOCH and the like for a commit. A stale epoch while the member still
        holds one: the broker moved the epoch on (a reconciliation under way) and the commit is
        sent again with the latest, as Java's sync commits and its auto commit before revocation
        are. Otherwise the epoch moved while it was in flight (look again once the member is
        stable), or the member is no longer in the group (the heartbeat says so and releases the
        partitions; the commit fails, as Java's)."""
        name = error_for_code(code).__name__
        if code == ErrorCode.STALE_MEMBER_EPOCH and self.member.state in _IN_GROUP:
            self._hb_wake.set()
            raise EpochStale(f"committing {tp}: {name}")
        if generation >= 0 and (generation != self.generation or sent_in is not GroupState.STABLE
                                or self.state is not GroupState.STABLE):
            raise GenerationMoved(f"committing {tp}: {name}")
        self._hb_wake.set()
        raise CommitFailedError(f"committing {tp}: {name}. {COMMIT_FAILED_MSG}")


def _by_id(assigned: frozenset[tuple[str, int]], ids: dict[str, uuid.UUID]) -> dict[uuid.UUID, frozenset[int]]:
    out: dict[uuid.UUID, set[int]] = {}
    for topic, partition in assigned:
        out.setdefault(ids[topic], set()).add(partition)
    return {tid: frozenset(parts) for tid, parts in out.items()}


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - ending the task is all we want
        pass
