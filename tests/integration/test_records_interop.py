"""Record batches against the real broker: batches built by kafkaio with every codec are accepted
(the broker validates CRCs, codecs and record framing) and fetched back intact; batches written by
the Java client's KafkaProducer with every codec and with headers decode to exactly what it sent."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import ErrorCode
from kafkaio.protocol import ApiKey
from kafkaio.records import BatchBuilder, Compression, TimestampType, read_batches

pytestmark = pytest.mark.integration

TS = 1_700_000_000_000
CODECS = list(Compression)
# raw requests here name their topic (Produce and Fetch v13+ would need its id)
FETCH_BY_NAME, PRODUCE_BY_NAME = 12, 11  # raw requests name their topic (v13+: by id); Produce v12 is 4.0+


async def _open(bootstrap: str) -> BrokerConnection:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    conn = BrokerConnection(host, int(port), -1, CommonConfig.from_kwargs(bootstrap_servers=bootstrap))
    await conn.connect()
    return conn


async def _produce(conn: BrokerConnection, topic: str, data: bytes) -> int:
    """Write ``data`` to partition 0; a new partition whose leader does not serve yet
    (NOT_LEADER_OR_FOLLOWER) is asked again, any other error fails."""
    for _ in range(100):
        resp = await conn.request(ApiKey.PRODUCE, {"acks": -1, "timeout_ms": 15000, "topic_data": [
            {"name": topic, "partition_data": [{"index": 0, "records": data}]}]}, version=PRODUCE_BY_NAME)
        part = resp["responses"][0]["partition_responses"][0]
        if part["error_code"] != ErrorCode.NOT_LEADER_OR_FOLLOWER:
            break
        await asyncio.sleep(0.1)
    assert part["error_code"] == 0, part
    return part["base_offset"]


async def _fetch_all(conn: BrokerConnection, topic: str, until: int) -> list:
    """Every batch of partition 0 from offset 0 up to offset ``until`` (exclusive)."""
    batches: list = []
    offset = 0
    deadline = time.monotonic() + 30
    while offset < until and time.monotonic() < deadline:
        resp = await conn.request(ApiKey.FETCH, {
            "replica_id": -1, "max_wait_ms": 500, "min_bytes": 1, "max_bytes": 8 << 20, "isolation_level": 0,
            "topics": [{"topic": topic, "partitions": [
                {"partition": 0, "fetch_offset": offset, "partition_max_bytes": 8 << 20}]}]}, version=FETCH_BY_NAME)
        part = resp["responses"][0]["partitions"][0]
        assert part["error_code"] == 0, part
        for batch in read_batches(bytes(part["records"] or b"")):
            if batch.next_offset > offset:
                batches.append(batch)
                offset = batch.next_offset
    return batches


def _sample_records(n: int) -> list[tuple[int, bytes | None, bytes | None, list]]:
    out = []
    for i in range(n):
        key = None if i % 4 == 0 else b"key-%d" % i
        value = None if i % 5 == 0 else (b"value-%d-" % i) * (i % 7 + 1)
        headers = [("h", b"x%d" % i), ("null", None), ("\u00fc", b"")] if i % 2 else []
        out.append((TS + (i * 37) % 101 - 50, key, value, headers))
    return out


@pytest.mark.parametrize("codec", CODECS, ids=[c.name.lower() for c in CODECS])
async def test_kafkaio_batches_round_trip_through_the_broker(bootstrap_servers, topic, codec):
    conn = await _open(bootstrap_servers)
    try:
        sent = _sample_records(60)
        built = []
        for chunk in (sent[:25], sent[25:]):  # two batches, the second one needs base offset 25
            b = BatchBuilder(codec, 1 << 20)
            for ts, key, value, headers in chunk:
                b.append(ts, key, value, headers)
            built.append(b.build())
        assert [await _produce(conn, topic, data) for data in built] == [0, 25]
        batches = await _fetch_all(conn, topic, 60)
        assert [b.compression for b in batches] == [codec, codec]
        assert [(b.base_offset, b.last_offset) for b in batches] == [(0, 24), (25, 59)]
        got = [r for b in batches for r in b.records(topic, 0)]
        assert [(r.offset, r.timestamp, r.timestamp_type, r.key, r.value, r.headers) for r in got] == [
            (i, ts, TimestampType.CREATE_TIME, key, value, headers) for i, (ts, key, value, headers) in enumerate(sent)
        ]
    finally:
        await conn.close()


@pytest.mark.parametrize("codec,level", [(Compression.GZIP, 1), (Compression.LZ4, 12), (Compression.ZSTD, 15)])
async def test_compression_levels_are_accepted_by_the_broker(bootstrap_servers, topic, codec, level):
    conn = await _open(bootstrap_servers)
    try:
        b = BatchBuilder(codec, 1 << 20, compression_level=level)
        for i in range(100):
            b.append(TS, None, b"%d" % i * 50, None)
        await _produce(conn, topic, b.build())
        [batch] = await _fetch_all(conn, topic, 100)
        assert batch.compression == codec
        assert [r.value for r in batch.records(topic, 0)] == [b"%d" % i * 50 for i in range(100)]
    finally:
        await conn.close()


async def test_log_append_time_topic_reports_the_broker_time(bootstrap_servers, topic_factory):
    topic = await topic_factory(configs={"message.timestamp.type": "LogAppendTime"})
    conn = await _open(bootstrap_servers)
    try:
        b = BatchBuilder(Compression.LZ4, 1 << 20)
        for i in range(5):
            b.append(1000 + i, b"k", b"v", None)  # 1970: the broker replaces it
        before = int(time.time() * 1000)
        await _produce(conn, topic, b.build())
        [batch] = await _fetch_all(conn, topic, 5)
        assert batch.timestamp_type == TimestampType.LOG_APPEND_TIME
        recs = batch.records(topic, 0)
        assert {r.timestamp for r in recs} == {batch.max_timestamp}
        assert batch.max_timestamp >= before - 60_000
        assert all(r.timestamp_type == TimestampType.LOG_APPEND_TIME for r in recs)
    finally:
        await conn.close()


async def test_idempotent_batches_carry_producer_state_through_the_broker(bootstrap_servers, topic):
    conn = await _open(bootstrap_servers)
    try:
        # A KRaft broker answers COORDINATOR_LOAD_IN_PROGRESS until the controller has given it its
        # first block of producer ids (this may be the broker's first InitProducerId): asked again.
        for _ in range(100):
            resp = await conn.request(ApiKey.INIT_PRODUCER_ID, {"transactional_id": None,
                                                                "transaction_timeout_ms": 60000})
            if resp["error_code"] != ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
                break
            await asyncio.sleep(0.2)
        assert resp["error_code"] == 0
        pid, epoch = resp["producer_id"], resp["producer_epoch"]
        b = BatchBuilder(Compression.ZSTD, 1 << 20)
        for i in range(3):
            b.append(TS, None, b"v%d" % i, None)
        first = b.build(pid, epoch, 0)
        assert await _produce(conn, topic, first) == 0
        assert await _produce(conn, topic, first) == 0  # a retried batch is a duplicate: not written again
        b2 = BatchBuilder(Compression.ZSTD, 1 << 20)
        b2.append(TS, None, b"v3", None)
        assert await _produce(conn, topic, b2.build(pid, epoch, 3)) == 3
        batches = await _fetch_all(conn, topic, 4)
        assert [(b.producer_id, b.producer_epoch, b.base_sequence) for b in batches] == [(pid, epoch, 0), (pid, epoch, 3)]
        assert [r.value for b in batches for r in b.records(topic, 0)] == [b"v0", b"v1", b"v2", b"v3"]
    finally:
        await conn.close()


# ---- batches written by the Java client -----------------------------------------------------

JAVA_PRODUCER = r"""
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class InteropProducer {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        int count = Integer.parseInt(args[1]);
        for (int t = 2; t < args.length; t++) {
            String[] spec = args[t].split("=");  // codec=topic
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("compression.type", spec[0]);
            p.put("linger.ms", "200");
            p.put("key.serializer", ByteArraySerializer.class.getName());
            p.put("value.serializer", ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (int i = 0; i < count; i++) {
                    byte[] key = i % 4 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
                    byte[] value = i % 5 == 0 ? null : ("value-" + i + "-").repeat(i % 7 + 1).getBytes(StandardCharsets.UTF_8);
                    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(spec[1], 0, 1700000000000L + i, key, value);
                    if (i % 2 == 1) {
                        r.headers().add(new RecordHeader("h", ("x" + i).getBytes(StandardCharsets.UTF_8)));
                        r.headers().add(new RecordHeader("null", (byte[]) null));
                        r.headers().add(new RecordHeader("\u00fc", new byte[0]));
                    }
                    producer.send(r);
                }
                producer.flush();
            }
        }
    }
}
"""


def _java_tools() -> tuple[str, str, Path]:
    from kafkaio.testing.broker import fetch_jars, find_java

    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("javac not available")
    return find_java(), javac, fetch_jars()


@pytest.mark.slow
async def test_batches_written_by_the_java_producer_decode_exactly(bootstrap_servers, topic_factory, tmp_path):
    java, javac, libs = _java_tools()
    topics = {codec: await topic_factory() for codec in CODECS}
    (tmp_path / "InteropProducer.java").write_text(JAVA_PRODUCER)
    classpath = f"{tmp_path}:{libs}/*"
    subprocess.run([javac, "-cp", f"{libs}/*", "-d", str(tmp_path), str(tmp_path / "InteropProducer.java")],
                   check=True, capture_output=True, timeout=180)
    count = 200
    specs = [f"{codec.name.lower()}={name}" for codec, name in topics.items()]
    proc = subprocess.run([java, "-Xmx256m", "-cp", classpath, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                           "InteropProducer", bootstrap_servers, str(count), *specs],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = []
    for i in range(count):
        key = None if i % 4 == 0 else b"key-%d" % i
        value = None if i % 5 == 0 else (b"value-%d-" % i) * (i % 7 + 1)
        headers = [("h", b"x%d" % i), ("null", None), ("\u00fc", b"")] if i % 2 else []
        expected.append((i, TS + i, TimestampType.CREATE_TIME, key, value, headers))
    conn = await _open(bootstrap_servers)
    try:
        for codec, name in topics.items():
            batches = await _fetch_all(conn, name, count)
            assert {b.compression for b in batches} == {codec}, codec
            assert any(b.last_offset > b.base_offset for b in batches)  # Java batched several records
            assert all(b.producer_id >= 0 for b in batches)  # idempotence is the Java default
            got = [r for b in batches for r in b.records(name, 0)]
            assert [(r.offset, r.timestamp, r.timestamp_type, r.key, r.value, r.headers) for r in got] == expected
    finally:
        await conn.close()
