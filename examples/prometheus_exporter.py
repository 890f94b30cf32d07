"""A Prometheus exporter built on ``metrics()``: a producer and a consumer at work, and every one
of their metrics served at ``http://localhost:PORT/metrics`` for Prometheus to scrape.

    KAFKAIO_BOOTSTRAP=localhost:9092 METRICS_TOPIC=events PORT=9464 python examples/prometheus_exporter.py
    curl localhost:9464/metrics        # kafka_producer_record_send_total{client_id="..."} ...

The clients' metrics are read on the event loop every ``SCRAPE_INTERVAL_S`` seconds; the
collector, which prometheus-client's HTTP server calls from its own thread, only reads the latest
(immutable) snapshots. Totals become counters, everything else gauges; the consumer's lag per
partition is ``kafka_consumer_records_lag{topic,partition}``. docs/metrics.md lists the metrics.
Settings from the environment: ``KAFKAIO_BOOTSTRAP`` (else a local broker is started),
``METRICS_TOPIC``, ``PORT``, ``RECORDS`` (how many the producer sends, then it idles).
"""
from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterable, Iterator

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

import kafkaio
from kafkaio.testing.broker import bootstrap_or_local

SCRAPE_INTERVAL_S = 1.0
Snapshot = kafkaio.ProducerMetrics | kafkaio.ConsumerMetrics


class ClientMetricsCollector(Collector):
    """Serves the latest snapshot of each client, named ``kafka_<client kind>_<metric>``."""

    def __init__(self) -> None:
        self.snapshots: dict[str, tuple[str, Snapshot]] = {}   # client id -> (kind, snapshot)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for client_id, (kind, snapshot) in list(self.snapshots.items()):
            for java_name, value in snapshot.as_dict().items():
                name = f"kafka_{kind}_{java_name.replace('-', '_')}"
                family = families.get(name)
                if family is None:
                    family = families[name] = (
                        CounterMetricFamily(name.removesuffix("_total"), java_name, labels=["client_id"])
                        if name.endswith("_total") else GaugeMetricFamily(name, java_name, labels=["client_id"]))
                family.add_metric([client_id], value)
            if isinstance(snapshot, kafkaio.ConsumerMetrics):
                lag = GaugeMetricFamily(f"kafka_{kind}_records_lag", "records-lag per partition",
                                        labels=["client_id", "topic", "partition"])
                for tp, n in snapshot.records_lag.items():
                    lag.add_metric([client_id, tp.topic, str(tp.partition)], n)
                families[lag.name] = lag
        yield from families.values()


async def refresh(collector: ClientMetricsCollector,
                  clients: Iterable[tuple[str, kafkaio.Producer | kafkaio.Consumer]]) -> None:
    """Read every client's metrics on the loop, for the collector to serve."""
    while True:
        for kind, client in clients:
            collector.snapshots[client.config.client_id] = (kind, client.metrics())
        await asyncio.sleep(SCRAPE_INTERVAL_S)


async def run(bootstrap: str) -> None:
    topic = os.environ.get("METRICS_TOPIC", "events")
    records = int(os.environ.get("RECORDS", "1000"))
    collector = ClientMetricsCollector()
    REGISTRY.register(collector)
    server, thread = start_http_server(int(os.environ.get("PORT", "9464")))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with kafkaio.Producer(bootstrap_servers=bootstrap, client_id="example-producer") as producer, \
            kafkaio.Consumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-exporter",
                             client_id="example-consumer", auto_offset_reset="earliest") as consumer:
        refresher = asyncio.create_task(refresh(collector, [("producer", producer), ("consumer", consumer)]))
        await (await producer.send_many(topic, [b"event-%d" % i for i in range(records)]))
        print(f"serving metrics on port {server.server_port}", flush=True)
        while not stopping.is_set():
            await consumer.getmany(timeout_ms=200)
        refresher.cancel()
    server.shutdown()
    thread.join()
    print("exporter stopped", flush=True)


def main() -> None:
    with bootstrap_or_local() as bootstrap:
        asyncio.run(run(bootstrap))


if __name__ == "__main__":
    main()
