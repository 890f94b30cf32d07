"""The ShareGroupHeartbeat loop: joins, keeps the membership alive, receives the assignment, leaves."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from kafkaio.cluster import Cluster
from kafkaio.errors import (
    ErrorCode,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    UnsupportedVersionError,
)
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline
from kafkaio.share.membership import HeartbeatOutcome, MemberState, ShareMembership
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ShareGroupHeartbeatResponse

log = logging.getLogger(__name__)

SHARE_GROUPS_DISABLED = (
    "the broker does not offer share groups (ShareGroupHeartbeat): enable them with the broker "
    "feature share.version (on by default in clusters formatted by Kafka 4.2 or later; else "
    "`kafka-features.sh --bootstrap-server HOST:PORT upgrade --feature share.version=1`)")


class Heartbeat:
    """Sends the member's heartbeats to the group coordinator, one at a time, and applies the
    answers to the :class:`ShareMembership`; ``changed`` is set when the assignment changes."""

    def __init__(self, cluster: Cluster, membership: ShareMembership, retry_backoff_ms: int,
                 request_timeout_ms: int) -> None:
        self._cluster = cluster
        self.membership = membership
        self._backoff_s = retry_backoff_ms / 1000
        self._timeout_ms = request_timeout_ms
        self._coordinator: int | None = None
        self.changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def join(self) -> None:
        """Send the first heartbeat (raising what makes joining impossible), then keep beating."""
        self.membership.join()
        while True:
            outcome = await self._beat_once()
            if outcome is HeartbeatOutcome.FATAL:
                assert self.membership.fatal_error is not None
                raise self.membership.fatal_error
            if outcome is HeartbeatOutcome.OK:
                break
            await asyncio.sleep(self._backoff_s)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kafkaio-share-heartbeat")

    async def _beat_once(self) -> HeartbeatOutcome:
        m = self.membership
        before = m.assignment
        try:
            if self._coordinator is None:
                assert m.group_id is not None
                self._coordinator = await self._cluster.find_coordinator(m.group_id, timeout_ms=self._timeout_ms)
            resp = cast("ShareGroupHeartbeatResponse", await self._cluster.request(
                self._coordinator, ApiKey.SHARE_GROUP_HEARTBEAT, m.heartbeat_request(), purpose="group",
                timeout_ms=self._timeout_ms))
        except UnsupportedVersionError as exc:
            m.fail(UnsupportedVersionError(f"{SHARE_GROUPS_DISABLED} ({exc})"))
            return HeartbeatOutcome.FATAL
        except (KafkaConnectionError, KafkaTimeoutError) as exc:
            log.debug("share heartbeat to %s failed: %r", self._coordinator, exc)
            self._coordinator = None
            return HeartbeatOutcome.RETRY
        except KafkaError as exc:
            if exc.retriable:
                self._coordinator = None
                return HeartbeatOutcome.RETRY
            m.fail(exc)
            return HeartbeatOutcome.FATAL
        if resp["error_code"] == ErrorCode.UNSUPPORTED_VERSION:
            m.fail(UnsupportedVersionError(f"{SHARE_GROUPS_DISABLED} ({resp['error_message'] or ''})"))
            return HeartbeatOutcome.FATAL
        outcome = m.on_response(resp)
        if outcome is HeartbeatOutcome.FIND_COORDINATOR:
            self._coordinator = None
        if m.assignment != before or outcome is HeartbeatOutcome.FATAL:
            self.changed.set()
        return outcome

    async def _run(self) -> None:
        m = self.membership
        while m.state not in (MemberState.FATAL, MemberState.UNSUBSCRIBED):
            wait = 0.0 if m.heartbeat_now else m.heartbeat_interval_ms / 1000
            self._wake.clear()
            if wait:
                try:
                    await within(self._wake.wait(), wait)
                except TimeoutError:
                    pass
            outcome = await self._beat_once()
            if outcome in (HeartbeatOutcome.RETRY, HeartbeatOutcome.FIND_COORDINATOR):
                await asyncio.sleep(self._backoff_s)

    async def leave(self, timeout_ms: float) -> None:
        """Stop beating and send the leave heartbeat (epoch -1), waiting at most ``timeout_ms``."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if not self.membership.leave():
            return
        deadline = Deadline(timeout_ms)
        try:
            await within(self._beat_once(), deadline.remaining())
        except (TimeoutError, KafkaError) as exc:
            log.debug("leaving share group %s: %r", self.membership.group_id, exc)
        self.membership.left()
