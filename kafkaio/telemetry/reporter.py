"""One client's telemetry task: asks a broker for the subscription, pushes the metrics it asks
for, and sends the terminating push when the client closes.

The client owns the reporter: it starts it after bootstrap and awaits :meth:`TelemetryReporter.close`
before closing its connections. Nothing here raises into the application: a failure is logged
(the first at WARNING, later ones at DEBUG) and the state machine decides when to try again.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kafkaio.errors import ErrorCode, KafkaError
from kafkaio.metrics.snapshot import ConsumerMetrics, ProducerMetrics, ShareConsumerMetrics
from kafkaio.protocol import ApiKey
from kafkaio.records.codecs import compress
from kafkaio.records.enums import Compression
from kafkaio.telemetry.collect import MetricsCollector
from kafkaio.telemetry.otlp import Point, encode_metrics_data
from kafkaio.telemetry.state import Action, Subscription, TelemetryCore
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.cluster import Cluster

__all__ = ["TelemetryReporter"]

log = logging.getLogger("kafkaio.telemetry")

Snapshot = Callable[[], "ProducerMetrics | ConsumerMetrics | ShareConsumerMetrics"]


class _NotOffered(Exception):
    """The broker does not offer the telemetry APIs (no receiver plugin is configured on it)."""


class TelemetryReporter:
    """KIP-714 telemetry of one producer, consumer or share consumer (``kind``) over ``cluster``."""

    def __init__(self, cluster: Cluster, kind: str, snapshot: Snapshot, resource: dict[str, str],
                 request_timeout_ms: int, *, rng: random.Random | None = None) -> None:
        self._cluster = cluster
        self._snapshot = snapshot
        self._resource = resource
        self._timeout_ms = request_timeout_ms
        self.core = TelemetryCore(rng)
        self._collector = MetricsCollector(kind, time.time_ns())
        self._node: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._pushing: asyncio.Task[None] | None = None  # the periodic push in flight
        self._warned = False
        self._subscribed = asyncio.Event()

    @property
    def client_instance_id(self) -> uuid.UUID | None:
        """The id the broker gave this client, once a subscription was received."""
        sub = self.core.subscription
        return sub.client_instance_id if sub is not None else None

    async def wait_for_instance_id(self, timeout: float) -> uuid.UUID | None:
        """:attr:`client_instance_id`, waiting up to ``timeout`` seconds for the first subscription
        (None if none came)."""
        if not self._subscribed.is_set() and timeout > 0:
            try:
                await within(self._subscribed.wait(), timeout)
            except asyncio.TimeoutError:
                pass   # None: no subscription within the time, as Java's clientInstanceId
        return self.client_instance_id

    def start(self) -> None:
        """Start the background task (on the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kafkaio-telemetry")

    async def close(self, timeout: float | None = None) -> None:
        """Stop the task and send the terminating push, waiting at most ``timeout`` seconds for it
        (None: the request timeout)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
            if not task.cancelled() and task.exception() is not None:
                log.error("telemetry stopped on an unexpected error", exc_info=task.exception())
        limit = self._timeout_ms / 1000 if timeout is None else min(timeout, self._timeout_ms / 1000)
        deadline = time.monotonic() + limit
        pushing, self._pushing = self._pushing, None
        if pushing is not None:
            # Its answer decides which counts the terminating push still owes: the deltas of a push
            # the broker took must not go again.
            await asyncio.wait([pushing], timeout=max(0.0, limit))
            if not pushing.done():
                pushing.cancel()
                await asyncio.wait([pushing])
        left = deadline - time.monotonic()
        if left > 0 and self.core.initiate_close():
            try:
                await within(self._push(), left)
            except asyncio.TimeoutError:
                log.debug("telemetry: the terminating push got no answer within %.1f s", limit)
        self.core.close()

    # -- the task ----------------------------------------------------------------------------

    async def _run(self) -> None:
        core = self.core
        while True:
            wait = core.wait_ms(_now_ms())
            if wait is None:
                return   # telemetry is off for good
            if wait > 0:
                await asyncio.sleep(wait / 1000)
                continue
            action = core.due(_now_ms())
            if action is Action.SUBSCRIBE:
                await self._subscribe()
            elif action is not None:
                # shielded: close() cancels this task but lets a push already sent get its answer
                self._pushing = asyncio.get_running_loop().create_task(self._push(), name="kafkaio-telemetry-push")
                await asyncio.shield(self._pushing)
                self._pushing = None

    async def _request(self, api_key: int, body: dict[str, Any]) -> dict[str, Any]:
        if self._node is None:
            self._node = self._cluster.least_loaded_node()
            if self._node is None:
                raise _NotOffered("no broker is known")
        conn = await self._cluster.connection(self._node)
        if not conn.supports(api_key):
            raise _NotOffered(f"broker {self._node} does not offer client telemetry")
        resp: dict[str, Any] = await conn.request(api_key, body, timeout_ms=self._timeout_ms)
        return resp

    async def _subscribe(self) -> None:
        instance_id = self.core.start_subscribe()
        try:
            resp = await self._request(ApiKey.GET_TELEMETRY_SUBSCRIPTIONS, {"client_instance_id": instance_id})
        except (KafkaError, OSError, asyncio.TimeoutError, _NotOffered) as exc:
            self._failed(exc)
            return
        error = resp["error_code"]
        sub = None if error else Subscription(
            client_instance_id=resp["client_instance_id"],
            subscription_id=resp["subscription_id"],
            push_interval_ms=resp["push_interval_ms"],
            accepted_compression_types=tuple(resp["accepted_compression_types"]),
            telemetry_max_bytes=resp["telemetry_max_bytes"],
            delta_temporality=resp["delta_temporality"],
            requested_metrics=tuple(resp["requested_metrics"]))
        if error:
            self._warn("telemetry: broker %s refused the subscription request: %s", self._node, _name(error))
        old = self.core.subscription
        self.core.on_subscription(error, sub, _now_ms())
        if self.core.subscription is not None:
            self._subscribed.set()
        if sub is not None and sub.wants_metrics and (old is None or old.subscription_id != sub.subscription_id):
            log.info("telemetry: broker %s asks for %d metric prefix(es) every %d ms (client instance id %s)",
                     self._node, len(sub.requested_metrics), sub.push_interval_ms, sub.client_instance_id)
        elif sub is not None:
            log.debug("telemetry: subscription %s from broker %s", sub, self._node)

    async def _push(self) -> None:
        sub = self.core.subscription
        assert sub is not None
        try:
            points, payload, codec = self._payload(sub)
        except Exception as exc:  # noqa: BLE001 - telemetry must never fail the client
            self._warn("telemetry: could not build the metrics payload: %r", exc)
            self.core.skip_push(_now_ms())
            return
        if sub.telemetry_max_bytes > 0 and len(payload) > sub.telemetry_max_bytes:
            self._warn("telemetry: %d bytes of metrics exceed the broker's limit of %d; not pushed",
                       len(payload), sub.telemetry_max_bytes)
            self.core.skip_push(_now_ms())
            return
        sub, terminating = self.core.start_push()
        body = {"client_instance_id": sub.client_instance_id, "subscription_id": sub.subscription_id,
                "terminating": terminating, "compression_type": codec, "metrics": payload}
        try:
            resp = await self._request(ApiKey.PUSH_TELEMETRY, body)
        except (KafkaError, OSError, asyncio.TimeoutError, _NotOffered) as exc:
            self._failed(exc)
            return
        error = resp["error_code"]
        if error == ErrorCode.UNKNOWN_SUBSCRIPTION_ID:
            log.debug("telemetry: the subscription changed; asking broker %s again", self._node)
        elif error:
            self._warn("telemetry: broker %s refused a push: %s", self._node, _name(error))
        else:
            self._collector.commit(points)
        self.core.on_push(error, _now_ms())

    def _payload(self, sub: Subscription) -> tuple[list[Point], bytes, int]:
        points = self._collector.collect(self._snapshot(), time.time_ns(), delta=sub.delta_temporality)
        points = [p for p in points if sub.selects(p.name)]
        data = encode_metrics_data(self._resource, points)
        codec = sub.compression
        return points, (data if codec == Compression.NONE else compress(codec, data)), codec

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, _NotOffered):
            log.debug("telemetry: %s", exc)
        else:
            self._warn("telemetry request to broker %s failed: %r", self._node, exc)
        self._node = None
        self.core.on_failure(_now_ms())

    def _warn(self, msg: str, *args: object) -> None:
        log.log(logging.DEBUG if self._warned else logging.WARNING, msg, *args)
        self._warned = True


def _now_ms() -> float:
    return time.monotonic() * 1000


def _name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"error {code}"
