"""KIP-714 client telemetry against the real broker (Kafka 4.4.0 and 4.1.2).

A broker accepts pushes only when a metrics reporter that receives client telemetry is configured
(without one it does not even offer the telemetry APIs): ``ClientTelemetryExporterProvider`` on 4.4
(``ClientTelemetry``, which 4.4 deprecates, on 4.1). The test compiles a small sink of that kind
(java/) against the release's jars, puts it on the broker's classpath, and reads back every push
it received: which client sent it, whether it was the terminating one, and the OTLP payload.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kafkaio.admin import Admin, ConfigResource, NewTopic
from kafkaio.admin.inputs import ConfigResourceType
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import IllegalStateError
from kafkaio.producer.producer import Producer
from kafkaio.share.consumer import ShareConsumer
from kafkaio.structs import TopicPartition
from kafkaio.testing.broker import LocalKafkaCluster, cache_dir, fetch_jars
from kafkaio.testing.capabilities import SHARE_GROUPS, read_capabilities

metrics_pb2 = pytest.importorskip("opentelemetry.proto.metrics.v1.metrics_pb2")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JAVA = Path(__file__).parent / "java"
# the receiver interface each release calls (4.4 still calls ClientTelemetry, deprecated)
SINKS = {"4.4.0": "TelemetryExporterSink", "4.1.2": "TelemetryReceiverSink"}
PRODUCER_PREFIX = "org.apache.kafka.producer.record.send"
CONSUMER_PREFIX = "org.apache.kafka.consumer.fetch.manager.records.consumed"
SHARE_PREFIX = "org.apache.kafka.consumer.share.fetch.manager.acknowledgements.send"


@dataclass(frozen=True)
class Push:
    client_id: str
    instance_id: uuid.UUID
    terminating: bool
    content_type: str
    metrics: dict[str, list[float]]   # metric name -> the values of its data points


@dataclass(frozen=True)
class Broker:
    bootstrap: str
    sink: Path
    version: str

    def pushes(self, client_id: str) -> list[Push]:
        """The pushes the broker received from ``client_id``, in order."""
        if not self.sink.exists():
            return []
        out = []
        for line in self.sink.read_text().splitlines():
            cid, instance, terminating, content_type, data = line.split("\t")
            if cid != client_id:
                continue
            decoded = metrics_pb2.MetricsData.FromString(base64.b64decode(data))
            metrics: dict[str, list[float]] = {}
            for rm in decoded.resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        points = m.sum.data_points if m.WhichOneof("data") == "sum" else m.gauge.data_points
                        metrics.setdefault(m.name, []).extend(p.as_double for p in points)
            out.append(Push(cid, uuid.UUID(instance), terminating == "true", content_type, metrics))
        return out

    async def wait_for_push(self, client_id: str, timeout_s: float = 60.0) -> list[Push]:
        """Pushes of ``client_id`` once at least one (not terminating) has arrived."""
        for _ in range(int(timeout_s / 0.1)):
            pushes = self.pushes(client_id)
            if any(not p.terminating for p in pushes):
                return pushes
            await asyncio.sleep(0.1)
        raise AssertionError(f"no telemetry push from {client_id} within {timeout_s} s")


def _compiled_sink(version: str) -> Path:
    """The sink's classes for ``version``, compiled once and kept in the launcher's cache."""
    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("javac not available")
    sources = [JAVA / "TelemetrySink.java", JAVA / f"{SINKS[version]}.java"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = cache_dir() / "telemetry-sink" / f"{version}-{digest}"
    if not (out / f"{SINKS[version]}.class").exists():
        libs = fetch_jars(version)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        subprocess.run([javac, "-cp", f"{libs}/*", "-d", str(tmp), *map(str, sources)],
                       check=True, capture_output=True, timeout=300)
        tmp.rename(out)
    return out


@pytest.fixture(scope="module", params=sorted(SINKS, reverse=True))
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    version: str = request.param
    classes = _compiled_sink(version)
    sink = tmp_path_factory.mktemp(f"telemetry-{version}") / "pushes.tsv"
    with LocalKafkaCluster(version=version, broker_properties={"metric.reporters": SINKS[version]},
                           jvm_properties={"kafkaio.telemetry.sink": str(sink)},
                           extra_classpath=[classes]) as cluster:
        yield Broker(cluster.bootstrap_servers, sink, version)


def _name(kind: str) -> str:
    return f"tel-{kind}-{uuid.uuid4().hex[:10]}"


async def _subscribe(bootstrap: str, client_ids: list[str], prefixes: list[str], interval_ms: int = 1000) -> str:
    """A client-metrics subscription for exactly ``client_ids``, as kafka-client-metrics.sh makes one."""
    name = _name("sub")
    pattern = "|".join(client_ids)
    async with Admin(bootstrap) as admin:
        await admin.incremental_alter_configs({ConfigResource(ConfigResourceType.CLIENT_METRICS, name): {
            "metrics": ",".join(prefixes), "interval.ms": str(interval_ms), "match": f"client_id=({pattern})"}})
    return name


async def _topic(bootstrap: str) -> str:
    topic = _name("topic")
    async with Admin(bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1)], wait_for_leaders=True)
    return topic


def _sum(pushes: list[Push], name: str) -> float:
    return sum(v for p in pushes for v in p.metrics.get(name, []))


async def test_producer_and_consumer_push_the_subscribed_metrics_and_a_terminating_push(broker: Broker) -> None:
    producer_id, consumer_id = _name("producer"), _name("consumer")
    await _subscribe(broker.bootstrap, [producer_id, consumer_id], [PRODUCER_PREFIX, CONSUMER_PREFIX])
    topic = await _topic(broker.bootstrap)
    count = 37
    producer = Producer(broker.bootstrap, client_id=producer_id, linger_ms=0)
    await producer.start()
    for i in range(count):
        await producer.send_and_wait(topic, b"v%d" % i)
    consumer = Consumer(bootstrap_servers=broker.bootstrap, client_id=consumer_id, enable_auto_commit=False)
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0)])
    await consumer.seek_to_beginning()
    received = 0
    while received < count:
        batches = await consumer.getmany(timeout_ms=1000)
        received += sum(len(records) for records in batches.values())
    assert received == count
    # both have pushed at least once on their own (every ~1 s, the first jittered) before closing
    await broker.wait_for_push(producer_id)
    await broker.wait_for_push(consumer_id)
    instances = (await producer.client_instance_id(0), await consumer.client_instance_id(0))
    await producer.close()
    await consumer.stop()

    for client_id, prefix, total in ((producer_id, PRODUCER_PREFIX, f"{PRODUCER_PREFIX}.total"),
                                     (consumer_id, CONSUMER_PREFIX, f"{CONSUMER_PREFIX}.total")):
        pushes = broker.pushes(client_id)
        assert len(pushes) >= 2
        # one client instance, its last push (only) terminating
        assert len({p.instance_id for p in pushes}) == 1
        assert [p.terminating for p in pushes] == [False] * (len(pushes) - 1) + [True]
        assert all(p.content_type == "OTLP" for p in pushes)   # the broker's name for MetricsData
        names = {name for p in pushes for name in p.metrics}
        assert names and all(name.startswith(prefix) for name in names), names
        assert {total, f"{prefix}.rate"} <= names
        # the broker asks for deltas: their sum over every push is the exact count
        assert _sum(pushes, total) == count
        assert all(v >= 0 for p in pushes for v in p.metrics.get(f"{prefix}.rate", []))
    # the ids the broker gave, as the clients tell them
    assert instances == (broker.pushes(producer_id)[0].instance_id, broker.pushes(consumer_id)[0].instance_id)


async def test_no_push_without_a_subscription_for_the_client(broker: Broker) -> None:
    client_id = _name("unsubscribed")
    topic = await _topic(broker.bootstrap)
    async with Producer(broker.bootstrap, client_id=client_id, linger_ms=0) as producer:
        await producer.send_and_wait(topic, b"v")
        # the broker answered the subscription request (an id, but no metric asked for)
        assert await producer.client_instance_id(60) is not None
        assert producer._telemetry is not None and producer._telemetry.core.subscription is not None
        assert producer._telemetry.core.subscription.requested_metrics == ()
    assert broker.pushes(client_id) == []   # no push, not even the terminating one


async def test_enable_metrics_push_false_sends_nothing(broker: Broker) -> None:
    on_id, off_id = _name("pushing"), _name("silent")
    await _subscribe(broker.bootstrap, [on_id, off_id], [PRODUCER_PREFIX])
    topic = await _topic(broker.bootstrap)
    async with Producer(broker.bootstrap, client_id=off_id, linger_ms=0, enable_metrics_push=False) as silent, \
            Producer(broker.bootstrap, client_id=on_id, linger_ms=0) as pushing:
        await silent.send_and_wait(topic, b"v")
        await pushing.send_and_wait(topic, b"v")
        await broker.wait_for_push(on_id)   # the same subscription matches both: one pushes by now
        with pytest.raises(IllegalStateError, match="enable_metrics_push"):
            await silent.client_instance_id(1)
    assert broker.pushes(on_id)[-1].terminating
    assert broker.pushes(off_id) == []


async def test_a_changed_subscription_is_fetched_again_and_followed(broker: Broker) -> None:
    client_id = _name("changing")
    name = await _subscribe(broker.bootstrap, [client_id], [PRODUCER_PREFIX])
    topic = await _topic(broker.bootstrap)
    async with Producer(broker.bootstrap, client_id=client_id, linger_ms=0) as producer:
        await producer.send_and_wait(topic, b"v")
        await broker.wait_for_push(client_id)
        async with Admin(broker.bootstrap) as admin:   # now the byte counts instead of the records
            await admin.incremental_alter_configs({ConfigResource(ConfigResourceType.CLIENT_METRICS, name): {
                "metrics": "org.apache.kafka.producer.byte"}})
        # the next push carries the old subscription id: UNKNOWN_SUBSCRIPTION_ID, asked again at once
        for _ in range(600):
            if any("org.apache.kafka.producer.byte.total" in p.metrics for p in broker.pushes(client_id)):
                break
            await asyncio.sleep(0.1)
    pushes = broker.pushes(client_id)
    switched = next(i for i, p in enumerate(pushes) if "org.apache.kafka.producer.byte.total" in p.metrics)
    assert all(set(p.metrics) <= {f"{PRODUCER_PREFIX}.total", f"{PRODUCER_PREFIX}.rate"} for p in pushes[:switched])
    assert all(all(n.startswith("org.apache.kafka.producer.byte") for n in p.metrics) for p in pushes[switched:])
    assert pushes[-1].terminating


async def test_share_consumer_pushes_its_acknowledgements(broker: Broker) -> None:
    (await read_capabilities(broker.bootstrap)).require(SHARE_GROUPS)
    client_id, group = _name("share"), _name("share-group")
    await _subscribe(broker.bootstrap, [client_id], [SHARE_PREFIX])
    topic = await _topic(broker.bootstrap)
    async with Admin(broker.bootstrap) as admin:
        await admin.incremental_alter_configs({ConfigResource(ConfigResourceType.GROUP, group): {
            "share.auto.offset.reset": "earliest"}})
    count = 23
    async with Producer(broker.bootstrap, linger_ms=0) as producer:
        for i in range(count):
            await producer.send_and_wait(topic, b"v%d" % i)
    async with ShareConsumer(topic, bootstrap_servers=broker.bootstrap, client_id=client_id,
                             group_id=group) as consumer:
        received = 0
        while received < count:
            received += sum(len(r) for r in (await consumer.getmany(timeout_ms=1000)).values())
        assert received == count
        results = await consumer.commit()
        assert results and all(err is None for err in results.values())
        await broker.wait_for_push(client_id)
        instance = await consumer.client_instance_id(0)
    pushes = broker.pushes(client_id)
    assert [p.terminating for p in pushes] == [False] * (len(pushes) - 1) + [True]
    assert len({p.instance_id for p in pushes}) == 1 and pushes[0].instance_id == instance
    names = {name for p in pushes for name in p.metrics}
    assert names and all(name.startswith(SHARE_PREFIX) for name in names), names
    # deltas: over every push (the terminating one has the last counts) exactly the acknowledgements
    assert _sum(pushes, f"{SHARE_PREFIX}.total") == count, [(p.terminating, p.metrics) for p in pushes]
