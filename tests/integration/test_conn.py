"""BrokerConnection against a real broker: negotiation, pipelining, acks=0, timeouts, idle close,
setup timeout, and a connection cut while requests are in flight."""
from __future__ import annotations

import asyncio
import socket
import time

import pytest

from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    UnsupportedVersionError,
)
from kafkaio.protocol import ApiKey

# raw requests here name their topic (Produce and Fetch v13+ would need its id)
FETCH_BY_NAME, PRODUCE_BY_NAME = 12, 11  # raw requests name their topic (v13+: by id); Produce v12 is 4.0+

pytestmark = pytest.mark.integration


def _config(bootstrap: str, **kw: object) -> CommonConfig:
    return CommonConfig.from_kwargs(bootstrap_servers=bootstrap, **kw)


def _first(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    return host, int(port)


async def _open(bootstrap: str, **kw: object) -> BrokerConnection:
    host, port = _first(bootstrap)
    conn = BrokerConnection(host, port, -1, _config(bootstrap, **kw))
    await conn.connect()
    return conn


def _metadata_body(*names: str) -> dict:
    return {"topics": [{"name": n} for n in names], "allow_auto_topic_creation": False}


async def test_connect_negotiates_versions(bootstrap_servers: str) -> None:
    conn = await _open(bootstrap_servers)
    try:
        assert conn.connected
        assert conn.version(ApiKey.METADATA) >= 4
        assert conn.version(ApiKey.API_VERSIONS) >= 3  # so the broker got our software name
        assert conn.broker_version_range(ApiKey.PRODUCE) is not None
        resp = await conn.request(ApiKey.METADATA, _metadata_body())
        assert resp["brokers"], resp
    finally:
        await conn.close()
    assert conn.closed
    with pytest.raises(KafkaConnectionError, match="closed"):
        await conn.request(ApiKey.METADATA, _metadata_body())


async def test_version_of_unknown_api_is_a_clear_error(bootstrap_servers: str) -> None:
    conn = await _open(bootstrap_servers)
    try:
        with pytest.raises(UnsupportedVersionError, match="ApiKey.9999"):
            conn.version(9999)
    finally:
        await conn.close()


async def test_pipelined_requests_are_matched_to_their_responses(bootstrap_servers: str) -> None:
    conn = await _open(bootstrap_servers)
    try:
        names = [f"kafkaio-nonexistent-{i}" for i in range(500)]
        # All 500 are written before the first response is read: they are in flight together.
        tasks = [asyncio.ensure_future(conn.request(ApiKey.METADATA, _metadata_body(n))) for n in names]
        await asyncio.sleep(0)
        assert conn.in_flight_count > 1
        responses = await asyncio.gather(*tasks)
        assert [r["topics"][0]["name"] for r in responses] == names
        assert conn.in_flight_count == 0
    finally:
        await conn.close()


async def _latest_offset(conn: BrokerConnection, topic: str) -> int:
    resp = await conn.request(ApiKey.LIST_OFFSETS, {
        "replica_id": -1, "isolation_level": 0,
        "topics": [{"name": topic, "partitions": [{"partition_index": 0, "timestamp": -1}]}]})
    part = resp["topics"][0]["partitions"][0]
    assert part["error_code"] == 0, part
    return part["offset"]


async def test_produce_acks0_returns_once_written(bootstrap_servers: str, topic: str) -> None:
    from kafkaio.records import BatchBuilder, Compression

    conn = await _open(bootstrap_servers)
    try:
        builder = BatchBuilder(compression=Compression.NONE, batch_size=16384, compression_level=None,
                               transactional=False, magic=2)
        for i in range(3):
            builder.append(int(time.time() * 1000), b"k%d" % i, b"v%d" % i, [])
        body = {"acks": 0, "timeout_ms": 5000, "topic_data": [
            {"name": topic, "partition_data": [{"index": 0, "records": builder.build()}]}]}
        # The broker answers an acks=0 produce it refuses by closing the connection: wait until the
        # partition's leader serves requests (metadata can say so a moment earlier on a busy machine).
        for _ in range(100):
            resp = await conn.request(ApiKey.LIST_OFFSETS, {
                "replica_id": -1, "isolation_level": 0,
                "topics": [{"name": topic, "partitions": [{"partition_index": 0, "timestamp": -1}]}]})
            assert resp is not None
            if resp["topics"][0]["partitions"][0]["error_code"] == 0:
                break
            await asyncio.sleep(0.1)
        for _ in range(2):
            assert await conn.request(ApiKey.PRODUCE, body, expect_response=False, version=PRODUCE_BY_NAME) is None
        assert conn.in_flight_count == 0
        # The broker sends nothing for acks=0; the next request's response must still match.
        offset = 0
        for _ in range(50):
            offset = await _latest_offset(conn, topic)
            if offset == 6:
                break
            await asyncio.sleep(0.1)
        assert offset == 6
    finally:
        await conn.close()


async def test_large_response_arrives_whole(bootstrap_servers: str, topic: str) -> None:
    """About 6 MiB in one Fetch response: framing across many socket reads."""
    from kafkaio.records import BatchBuilder, Compression, read_batches

    conn = await _open(bootstrap_servers)
    try:
        value = bytes(range(256)) * 3000  # 768 000 bytes, under the broker's 1 MiB batch limit
        for _ in range(8):
            builder = BatchBuilder(compression=Compression.NONE, batch_size=1 << 20, compression_level=None,
                                   transactional=False, magic=2)
            builder.append(int(time.time() * 1000), None, value, [])
            resp = await conn.request(ApiKey.PRODUCE, {"acks": -1, "timeout_ms": 10000, "topic_data": [
                {"name": topic, "partition_data": [{"index": 0, "records": builder.build()}]}]}, version=PRODUCE_BY_NAME)
            assert resp["responses"][0]["partition_responses"][0]["error_code"] == 0
        body = _fetch_body(topic, 0)
        body["max_bytes"] = 64 << 20
        body["topics"][0]["partitions"][0]["partition_max_bytes"] = 64 << 20
        resp = await conn.request(ApiKey.FETCH, body, version=FETCH_BY_NAME)
        part = resp["responses"][0]["partitions"][0]
        assert part["error_code"] == 0 and part["high_watermark"] == 8
        records = bytes(part["records"])
        assert len(records) > 8 * len(value)
        values = [r.value for b in read_batches(records) for r in b.records(topic, 0)]
        assert values == [value] * 8
    finally:
        await conn.close()


def _fetch_body(topic: str, max_wait_ms: int) -> dict:
    return {"replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": 1, "max_bytes": 1 << 20,
            "isolation_level": 0, "topics": [{"topic": topic, "partitions": [
                {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]}


async def _until_fetchable(conn, topic: str) -> None:
    """Wait until the new topic's partition answers a fetch without error: until then the broker
    answers at once (e.g. NOT_LEADER_OR_FOLLOWER) instead of holding a long-poll fetch."""
    for _ in range(100):
        resp = await conn.request(ApiKey.FETCH, _fetch_body(topic, 0), version=FETCH_BY_NAME)
        if resp["responses"][0]["partitions"][0]["error_code"] == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{topic}-0 still refuses fetches after 10 s")


async def test_request_timeout_fails_everything_in_flight_and_closes(bootstrap_servers: str, topic: str) -> None:
    conn = await _open(bootstrap_servers)
    try:
        await _until_fetchable(conn, topic)
        # The topic is empty, so the broker holds these fetches for max_wait_ms (10 s).
        slow = asyncio.ensure_future(conn.request(ApiKey.FETCH, _fetch_body(topic, 10000), timeout_ms=300, version=FETCH_BY_NAME))
        other = asyncio.ensure_future(conn.request(ApiKey.FETCH, _fetch_body(topic, 10000), timeout_ms=60000, version=FETCH_BY_NAME))
        with pytest.raises(KafkaTimeoutError, match="Fetch"):
            await slow
        with pytest.raises(KafkaTimeoutError) as info:
            await other
        assert info.value.retriable
        assert conn.closed
        assert isinstance(conn.close_error, KafkaTimeoutError)
    finally:
        await conn.close()


async def test_cancelled_request_does_not_break_the_connection(bootstrap_servers: str, topic: str) -> None:
    conn = await _open(bootstrap_servers)
    try:
        slow = asyncio.ensure_future(conn.request(ApiKey.FETCH, _fetch_body(topic, 500), version=FETCH_BY_NAME))
        await asyncio.sleep(0.05)
        slow.cancel()
        resp = await conn.request(ApiKey.METADATA, _metadata_body("kafkaio-after-cancel"))
        assert resp["topics"][0]["name"] == "kafkaio-after-cancel"
        assert conn.connected
    finally:
        await conn.close()


async def test_idle_connection_is_closed(bootstrap_servers: str) -> None:
    conn = await _open(bootstrap_servers, connections_max_idle_ms=200)
    closed = asyncio.Event()
    conn.add_close_callback(lambda c: closed.set())
    await asyncio.wait_for(closed.wait(), 10)
    assert conn.closed and conn.close_error is None


async def test_connection_setup_timeout() -> None:
    # A listening socket that accepts (via the backlog) but never speaks: the TLS handshake hangs.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        conn = BrokerConnection("127.0.0.1", port, 1, _config(f"127.0.0.1:{port}", security_protocol="SSL"),
                                setup_timeout_ms=300)
        with pytest.raises(KafkaConnectionError, match="timed out"):
            await conn.connect()
        assert conn.closed
    finally:
        server.close()


async def test_connection_refused_is_retriable_connection_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    conn = BrokerConnection("127.0.0.1", port, 7, _config(f"127.0.0.1:{port}"))
    with pytest.raises(KafkaConnectionError, match=f"127.0.0.1:{port}") as info:
        await conn.connect()
    assert info.value.retriable


async def test_connection_cut_mid_stream_fails_requests_in_flight(bootstrap_servers: str, topic: str) -> None:
    from kafkaio.testing.proxy import FaultProxy

    proxy = FaultProxy(_first(bootstrap_servers))
    await proxy.start()
    try:
        conn = BrokerConnection(*proxy.address, -1, _config(bootstrap_servers))
        await conn.connect()
        await _until_fetchable(conn, topic)
        seen = proxy.requests_seen[int(ApiKey.FETCH)]
        # Long-poll fetches on an empty topic: all five are held by the broker when we cut.
        pending = [asyncio.ensure_future(conn.request(ApiKey.FETCH, _fetch_body(topic, 20000), version=FETCH_BY_NAME))
                   for _ in range(5)]
        await proxy.wait_for_requests(seen + 5, api_key=ApiKey.FETCH, timeout=10)
        assert conn.in_flight_count == 5
        proxy.cut()
        for task in pending:
            with pytest.raises(KafkaConnectionError) as info:
                await asyncio.wait_for(task, 10)
            assert info.value.retriable
        assert conn.closed
        assert isinstance(conn.close_error, KafkaConnectionError)
    finally:
        await proxy.stop()
