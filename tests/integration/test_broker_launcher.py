"""The local Kafka launcher against itself: real JVMs, real sockets, real restarts.

Records go through kafkaio's own wire code (``kafkaio.protocol`` + ``kafkaio.records``) over a
plain asyncio socket, so these tests do not depend on the connection or client layers.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import ssl
import struct
import sys
import time
from pathlib import Path

import pytest

from kafkaio.protocol import ApiKey, decode_response, encode_request
from kafkaio.records import BatchBuilder, Compression, read_batches
from kafkaio.testing.broker import (
    BrokerLauncherError,
    LocalKafkaCluster,
    fetch_jars,
    find_java,
    find_maven,
)

# Versions that name topics (not topic ids) and that every 3.9+/4.x broker serves.
PRODUCE_V, FETCH_V, METADATA_V, CREATE_TOPICS_V = 9, 12, 12, 5


class RawClient:
    """One broker connection speaking kafkaio.protocol frames, nothing else."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.correlation_id = reader, writer, 0
        self.sent: dict[int, int] = {}

    @classmethod
    async def connect(cls, address: str, ssl_context: ssl.SSLContext | None = None) -> "RawClient":
        host, port = address.split(",")[0].rsplit(":", 1)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port), ssl=ssl_context), 30
        )
        return cls(reader, writer)

    async def request(self, api_key: int, version: int, body: dict) -> dict:
        self.correlation_id += 1
        self.sent[api_key] = self.sent.get(api_key, 0) + 1
        self.writer.write(encode_request(api_key, version, self.correlation_id, "launcher-test", body))
        await self.writer.drain()
        size = struct.unpack(">i", await asyncio.wait_for(self.reader.readexactly(4), 30))[0]
        payload = await asyncio.wait_for(self.reader.readexactly(size), 30)
        return decode_response(api_key, version, payload)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


async def create_topic(client: RawClient, name: str, partitions: int, replication: int) -> None:
    resp = await client.request(ApiKey.CREATE_TOPICS, CREATE_TOPICS_V, {
        "topics": [{"name": name, "num_partitions": partitions, "replication_factor": replication,
                    "assignments": [], "configs": []}],
        "timeout_ms": 30_000,
    })
    assert resp["topics"][0]["error_code"] == 0, resp


async def leader_of(client: RawClient, topic: str, partition: int = 0, timeout: float = 60) -> dict:
    """Partition metadata once the partition has a leader."""
    deadline = time.monotonic() + timeout
    while True:
        resp = await client.request(ApiKey.METADATA, METADATA_V, {
            "topics": [{"name": topic}], "allow_auto_topic_creation": False,
        })
        for t in resp["topics"]:
            for p in t["partitions"]:
                if p["partition_index"] == partition and p["error_code"] == 0 and p["leader_id"] >= 0:
                    return {"brokers": {b["node_id"]: b for b in resp["brokers"]}, **p}
        assert time.monotonic() < deadline, f"no leader for {topic}-{partition}: {resp}"
        await asyncio.sleep(0.2)


# NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION: a new partition's leader can be named in
# metadata a moment before that broker serves it, so a producer retries these (as Java's does).
RETRIABLE_PRODUCE_ERRORS = (6, 3)


async def produce(client: RawClient, topic: str, value: bytes, acks: int = -1, timeout: float = 30) -> int:
    """Offset of ``value`` appended to partition 0, retrying a leader not serving yet."""
    builder = BatchBuilder(compression=Compression.NONE, batch_size=16384)
    builder.append(int(time.time() * 1000), b"key", value, [("h", b"v")])
    records = builder.build()
    deadline = time.monotonic() + timeout
    while True:
        resp = await client.request(ApiKey.PRODUCE, PRODUCE_V, {
            "acks": acks, "timeout_ms": 30_000,
            "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": records}]}],
        })
        part = resp["responses"][0]["partition_responses"][0]
        if part["error_code"] in RETRIABLE_PRODUCE_ERRORS and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            continue
        assert part["error_code"] == 0, part
        return part["base_offset"]


async def fetch_values(client: RawClient, topic: str, offset: int) -> list[bytes]:
    resp = await client.request(ApiKey.FETCH, FETCH_V, {
        "max_wait_ms": 500, "min_bytes": 1, "isolation_level": 0,
        "topics": [{"topic": topic, "partitions": [
            {"partition": 0, "fetch_offset": offset, "partition_max_bytes": 1 << 20}]}],
    })
    part = resp["responses"][0]["partitions"][0]
    assert part["error_code"] == 0, part
    values = []
    for batch in read_batches(bytes(part["records"] or b"")):
        values += [r.value for r in batch.records(topic, 0) if r.offset >= offset]
    return values


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def assert_gone(pids: list[int]) -> None:
    assert pids, "the cluster reported no processes"
    left = [pid for pid in pids if alive(pid)]
    assert not left, f"java processes of ours still running: {left}"


# ------------------------------------------------------------------------------ prerequisites


def test_missing_maven_is_reported_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerLauncherError, match="mvn.*Maven"):
        find_maven()
    # A version not in the cache needs Maven, so fetching it names Maven too.
    monkeypatch.setenv("KAFKAIO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(BrokerLauncherError, match="mvn"):
        fetch_jars("4.1.2")


def test_missing_or_old_java_is_reported_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerLauncherError, match="Java 17"):
        find_java()
    # A real executable that answers like Java 11.
    fake_home = tmp_path / "jdk11"
    (fake_home / "bin").mkdir(parents=True)
    java = fake_home / "bin" / "java"
    java.write_text('#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(fake_home))
    with pytest.raises(BrokerLauncherError, match="Java 11.*17"):
        find_java()


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(BrokerLauncherError, match="listeners"):
        LocalKafkaCluster(listeners=("PLAINTEXT", "BOGUS"))
    with pytest.raises(BrokerLauncherError, match="at least one"):
        LocalKafkaCluster(brokers=0)
    with pytest.raises(BrokerLauncherError, match="not a Kafka version"):
        LocalKafkaCluster(version="latest")
    with pytest.raises(BrokerLauncherError, match="one rack per broker: 2 broker"):
        LocalKafkaCluster(brokers=2, racks=["a"])


# ------------------------------------------------------------------------------ one node


async def test_single_node_start_produce_fetch_stop() -> None:
    """One node behind our proxy: it advertises the proxy and listens on its own port."""
    from kafkaio.testing.proxy import FaultProxy

    proxy = await FaultProxy().start()
    cluster = LocalKafkaCluster(brokers=1, advertised={0: proxy.address})
    try:
        await asyncio.to_thread(cluster.start)
        pids = cluster.pids()
        directory = cluster.directory
        assert len(pids) == 1 and all(alive(p) for p in pids)
        assert cluster.bootstrap_servers == proxy.bootstrap_servers != f"127.0.0.1:{cluster.brokers[0].port}"
        proxy.set_target("127.0.0.1", cluster.brokers[0].port)
        # broker logs go to the node's file, not to the console
        assert cluster.brokers[0].log_file.stat().st_size > 0
        client = await RawClient.connect(cluster.bootstrap_servers)
        try:
            await create_topic(client, "launcher-one", 1, 1)
            part = await leader_of(client, "launcher-one")
            assert part["brokers"][1]["port"] == proxy.port  # metadata names the advertised address
            offset = await produce(client, "launcher-one", b"hello from kafkaio")
            assert await fetch_values(client, "launcher-one", offset) == [b"hello from kafkaio"]
            # every produce request the client wrote went through the proxy
            assert proxy.requests_seen[ApiKey.PRODUCE] == client.sent[ApiKey.PRODUCE] >= 1
        finally:
            await client.close()
    finally:
        await asyncio.to_thread(cluster.stop)
        await proxy.stop()
    assert_gone(pids)
    assert directory is not None and not directory.exists()


# ------------------------------------------------------------------------------ three nodes


@pytest.mark.slow  # three JVMs, a crash and a catch-up: well over 30 s on two cores
async def test_three_nodes_survive_restart_of_one() -> None:
    cluster = LocalKafkaCluster(brokers=3)
    await asyncio.to_thread(cluster.start)
    pids = cluster.pids()
    pids_after: list[int] = []

    async def on_node(node_id: int) -> RawClient:
        node = next(b for b in cluster.brokers if b.node_id == node_id)
        return await RawClient.connect(f"127.0.0.1:{node.port}")

    try:
        assert len(pids) == 3
        client = await RawClient.connect(cluster.bootstrap_servers)
        try:
            await create_topic(client, "launcher-three", 1, 3)
            part = await leader_of(client, "launcher-three")
            assert sorted(part["replica_nodes"]) == [1, 2, 3]
            leader = part["leader_id"]
            victim = next(b for b in cluster.brokers if b.node_id == leader)
            old_port = victim.port

            # Crash the leader; the others elect a new one.
            await asyncio.to_thread(cluster.kill_broker, victim.index)
            assert not victim.running
            await client.close()
            client = await on_node(next(b.node_id for b in cluster.brokers if b.running))
            deadline = time.monotonic() + 60
            while (part := await leader_of(client, "launcher-three"))["leader_id"] == leader:
                assert time.monotonic() < deadline, "leadership never moved off the killed node"
                await asyncio.sleep(0.2)
            # acks=-1 works with the remaining ISR of two
            producer = await on_node(part["leader_id"])
            try:
                offset = await produce(producer, "launcher-three", b"while one was down")
            finally:
                await producer.close()

            # Bring it back with the same node id, data directory and ports.
            await asyncio.to_thread(cluster.start_broker, victim.index)
            assert victim.running and victim.port == old_port
            pids_after = cluster.pids()
            deadline = time.monotonic() + 90
            while victim.node_id not in (part := await leader_of(client, "launcher-three"))["isr_nodes"]:
                assert time.monotonic() < deadline, "the restarted node never rejoined the ISR"
                await asyncio.sleep(0.5)
            restarted = await on_node(victim.node_id)
            try:
                resp = await restarted.request(ApiKey.METADATA, METADATA_V, {"topics": None})
                assert {b["node_id"] for b in resp["brokers"]} == {1, 2, 3}
            finally:
                await restarted.close()
            consumer = await on_node(part["leader_id"])
            try:
                assert await fetch_values(consumer, "launcher-three", offset) == [b"while one was down"]
            finally:
                await consumer.close()
        finally:
            await client.close()
    finally:
        await asyncio.to_thread(cluster.stop)
    assert_gone(pids + pids_after)


# ------------------------------------------------------------------------------ fixtures


async def test_topic_fixture_makes_a_fresh_topic(bootstrap_servers: str, topic: str) -> None:
    client = await RawClient.connect(bootstrap_servers)
    try:
        part = await leader_of(client, topic)
        assert part["leader_id"] >= 0
        offset = await produce(client, topic, b"fixture")
        assert offset == 0  # fresh topic: nothing was there before
    finally:
        await client.close()


async def test_topic_factory_options(bootstrap_servers: str, topic_factory) -> None:
    name = await topic_factory(partitions=3, configs={"cleanup.policy": "compact"})
    client = await RawClient.connect(bootstrap_servers)
    try:
        resp = await client.request(ApiKey.METADATA, METADATA_V, {"topics": [{"name": name}]})
        assert len(resp["topics"][0]["partitions"]) == 3
    finally:
        await client.close()


async def test_selected_event_loop_runs_the_tests(request: pytest.FixtureRequest) -> None:
    from kafkaio.testing.suite import loop_name

    loop = asyncio.get_running_loop()
    if loop_name(request.config) == "uvloop":
        import uvloop

        assert isinstance(loop, uvloop.Loop)
    else:
        assert type(loop).__module__.startswith("asyncio")


# ------------------------------------------------------------------------------ security listeners


def unsigned_jwt(subject: str) -> str:
    """A JWT with alg "none": what Kafka's unsecured OAUTHBEARER validator accepts."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return f'{part({"alg": "none"})}.{part({"sub": subject, "iat": now, "exp": now + 3600})}.'


async def sasl_login(address: str, mechanism, ssl_context: ssl.SSLContext | None = None) -> int:
    """Authenticate with ``mechanism``; 0 and a working Metadata call, or the broker's error code."""
    client = await RawClient.connect(address, ssl_context)
    try:
        resp = await client.request(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": mechanism.name})
        assert resp["error_code"] == 0, resp
        message = await mechanism.start()
        while message is not None:
            resp = await client.request(ApiKey.SASL_AUTHENTICATE, 1, {"auth_bytes": message})
            if resp["error_code"]:
                return resp["error_code"]
            message = mechanism.step(bytes(resp["auth_bytes"]))
        resp = await client.request(ApiKey.METADATA, METADATA_V, {"topics": None})
        assert [b["node_id"] for b in resp["brokers"]] == [1]
        return 0
    finally:
        await client.close()


async def test_tls_listener_verifies_against_the_cluster_ca(kafka_secure_cluster: LocalKafkaCluster) -> None:
    cluster = kafka_secure_cluster
    context = ssl.create_default_context(cafile=str(cluster.ca_file))  # hostname (IP SAN) checked too
    client = await RawClient.connect(cluster.bootstrap_for("SSL"), context)
    try:
        resp = await client.request(ApiKey.METADATA, METADATA_V, {"topics": None})
        assert "127.0.0.1:%d" % resp["brokers"][0]["port"] == cluster.bootstrap_for("SSL")
    finally:
        await client.close()
    # Without the CA the broker's certificate is not trusted.
    with pytest.raises(ssl.SSLCertVerificationError):
        await RawClient.connect(cluster.bootstrap_for("SSL"), ssl.create_default_context())


@pytest.mark.parametrize("listener", ["SASL_PLAINTEXT", "SASL_SSL"])
async def test_sasl_listeners_accept_configured_users(kafka_secure_cluster: LocalKafkaCluster, listener: str) -> None:
    from kafkaio.sasl import OAuthBearerMechanism, PlainMechanism, ScramMechanism

    cluster = kafka_secure_cluster
    address = cluster.bootstrap_for(listener)
    context = ssl.create_default_context(cafile=str(cluster.ca_file)) if listener == "SASL_SSL" else None
    user, password = next(iter(cluster.users.items()))
    assert await sasl_login(address, PlainMechanism(user, password), context) == 0
    assert await sasl_login(address, PlainMechanism(user, password + "x"), context) == 58
    for name in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        assert await sasl_login(address, ScramMechanism(name, user, password), context) == 0
        assert await sasl_login(address, ScramMechanism(name, user, password + "x"), context) == 58

    async def token() -> str:
        return unsigned_jwt(user)

    assert await sasl_login(address, OAuthBearerMechanism(token), context) == 0


# ------------------------------------------------------------------------------ no leftovers


CHILD = """
import os, signal, sys, threading, time
from kafkaio.testing.broker import LocalKafkaCluster
cluster = LocalKafkaCluster(brokers=1)
if sys.argv[1] == "crash-after-thread":
    # started from a worker thread that is gone by the time the process dies
    starter = threading.Thread(target=cluster.start)
    starter.start()
    starter.join()
    time.sleep(1)
else:
    cluster.start()
print(cluster.pids()[0], flush=True)
if sys.argv[1].startswith("crash"):
    os.kill(os.getpid(), signal.SIGKILL)   # no atexit, no finally: only the kernel can clean up
# "exit": leave without stop(); the launcher's atexit hook must stop the broker
"""


@pytest.mark.slow  # a broker start per case; loop-independent, so the uvloop pass may skip it
@pytest.mark.parametrize("how", ["exit", "crash", "crash-after-thread"])
async def test_broker_dies_with_the_process_that_started_it(how: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, how, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert out.strip(), err.decode()[-2000:]
    java_pid = int(out.split()[0])
    deadline = time.monotonic() + 30
    try:
        while alive(java_pid):
            assert time.monotonic() < deadline, f"broker {java_pid} outlived its parent ({how})"
            await asyncio.sleep(0.2)
    finally:
        if alive(java_pid):  # our own orphan: do not leave it behind when the test fails
            os.killpg(java_pid, signal.SIGKILL)


def test_cluster_ids_never_look_like_options() -> None:
    # 1 in 64 random ids starts with "-", which kafka-storage's parser takes for an option.
    from kafkaio.testing.broker import _new_cluster_id

    ids = {_new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
