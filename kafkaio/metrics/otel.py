"""The clients' metrics through the OpenTelemetry metrics API (``pip install kafkaio[otel]``).

``instrument(client)`` registers one observable instrument per metric of ``client.metrics()``,
named as OpenTelemetry's instrumentation of the Java client names them
(``kafka.producer.record_send_total``, ``kafka.consumer.records_lag``), with the attribute
``client.id``; the per-partition lag also has ``topic`` and ``partition``. Totals are observable
counters, everything else observable gauges. The instruments read one snapshot per collection
(snapshots younger than ``max_age_s`` are reused), taken on the client's event loop even when the
SDK's reader collects from its own thread.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Union

from opentelemetry import metrics as otel_metrics
from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation

from kafkaio.metrics.snapshot import AdminMetrics, ConsumerMetrics, NetworkMetrics, ProducerMetrics

if TYPE_CHECKING:
    from kafkaio.admin import Admin
    from kafkaio.consumer.consumer import Consumer
    from kafkaio.producer.producer import Producer

__all__ = ["MetricsBridge", "instrument"]

Snapshot = Union[ProducerMetrics, ConsumerMetrics, AdminMetrics]

_TIMEOUT_S = 5.0   # how long a reader's thread waits for the client's loop to take a snapshot


def _unit(name: str) -> str:
    if name.endswith("_rate"):
        return "1/s"
    if "latency" in name or "throttle_time" in name:
        return "ms"
    if "byte" in name or name == "batch_size_avg":
        return "By"
    if name.endswith("seconds_ago"):
        return "s"
    return "1"


class _Snapshots:
    """The client's latest snapshot, renewed when older than ``max_age_s``."""

    def __init__(self, read: Callable[[], Snapshot], loop: asyncio.AbstractEventLoop,
                 max_age_s: float) -> None:
        self._read = read
        self._loop = loop
        self._max_age = max_age_s
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._taken = 0.0

    def get(self) -> Snapshot:
        with self._lock:
            now = time.monotonic()
            if self._snapshot is None or now - self._taken > self._max_age:
                self._snapshot = self._take()
                self._taken = now
            return self._snapshot

    def _take(self) -> Snapshot:
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop or loop.is_closed() or not loop.is_running():
            return self._read()   # on the loop already, or no loop runs the client any more
        result: concurrent.futures.Future[Snapshot] = concurrent.futures.Future()

        def take() -> None:
            try:
                result.set_result(self._read())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                result.set_exception(exc)

        loop.call_soon_threadsafe(take)
        return result.result(_TIMEOUT_S)


class MetricsBridge:
    """What :func:`instrument` registered; :meth:`stop` makes its instruments report nothing
    (the OpenTelemetry API cannot unregister an instrument)."""

    def __init__(self, snapshots: _Snapshots, kind: str, attributes: dict[str, str]) -> None:
        self._snapshots = snapshots
        self._kind = kind
        self._attributes = attributes
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True

    def register(self, meter: Meter, sample: Snapshot) -> None:
        """Create the instruments of ``sample``'s metrics on ``meter``."""
        for name in _scalar_names(sample):
            full = f"kafka.{self._kind}.{name}"
            callback = self._scalar(name)
            if name.endswith("_total"):
                meter.create_observable_counter(full, [callback], unit=_unit(name))
            else:
                meter.create_observable_gauge(full, [callback], unit=_unit(name))
        if isinstance(sample, ConsumerMetrics):
            meter.create_observable_gauge(f"kafka.{self._kind}.records_lag", [self._lag], unit="1",
                                          description="records between the position and the end, per partition")

    def _scalar(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            if self._stopped:
                return []
            snapshot = self._snapshots.get()
            value = getattr(snapshot, name, None)
            if value is None:
                value = getattr(snapshot.network, name)
            return [Observation(value, self._attributes)]
        return observe

    def _lag(self, _options: CallbackOptions) -> Iterable[Observation]:
        if self._stopped:
            return []
        snapshot = self._snapshots.get()
        assert isinstance(snapshot, ConsumerMetrics)
        return [Observation(lag, {**self._attributes, "topic": tp.topic, "partition": tp.partition})
                for tp, lag in snapshot.records_lag.items()]


def _scalar_names(sample: Snapshot) -> list[str]:
    names = [f.name for f in fields(sample) if f.name not in ("network", "records_lag")]
    return names + [f.name for f in fields(NetworkMetrics)]


def instrument(client: Producer | Consumer | Admin, meter_provider: MeterProvider | None = None, *,
               max_age_s: float = 1.0) -> MetricsBridge:
    """Report ``client.metrics()`` (a Producer, Consumer or Admin) through OpenTelemetry, with
    ``meter_provider`` or the global one. Call it on the event loop that runs the client."""
    sample: Snapshot = client.metrics()
    kind = {ProducerMetrics: "producer", ConsumerMetrics: "consumer", AdminMetrics: "admin"}[type(sample)]
    provider = meter_provider if meter_provider is not None else otel_metrics.get_meter_provider()
    meter = provider.get_meter("kafkaio")
    snapshots = _Snapshots(client.metrics, asyncio.get_running_loop(), max_age_s)
    bridge = MetricsBridge(snapshots, kind, {"client.id": str(client.config.client_id)})
    bridge.register(meter, sample)
    return bridge
