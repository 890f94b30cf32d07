"""Quota throttling (KIP-219) against the real broker: with a byte-rate quota on our client id the
broker answers with ``throttle_time_ms`` and then expects silence; the connection holds further
requests back for that long (queued, not failed, their timeouts starting only when written), and
producers and consumers still deliver every record exactly once and in order."""
from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

import pytest
from producer_helpers import create_topic, read_partition, unique

from kafkaio.admin import Admin, ClientQuotaEntity, ClientQuotaFilterComponent
from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import KafkaConnectionError
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.records import BatchBuilder
from kafkaio.structs import TopicPartition
from kafkaio.testing.proxy import FaultProxy

PRODUCE_BY_NAME = 11  # raw Produce requests here name their topic: v11 is on every broker from 3.9 (v13+ names topics by id)

pytestmark = pytest.mark.integration

# The broker measures a client's byte rate over at least 10 one-second samples, so sending more than
# about 10 x RATE bytes in a few seconds exceeds the quota; from then on each response carries a
# throttle of roughly (bytes over) / RATE seconds. 4 kB/s keeps those throttles short.
RATE = 4096.0


async def _quota(admin: Admin, key: str, rate: float = RATE) -> str:
    """A fresh client id with quota ``key`` = ``rate``, once the broker shows it."""
    client_id = f"throttled-{uuid.uuid4().hex[:10]}"
    entity = ClientQuotaEntity({ClientQuotaEntity.CLIENT_ID: client_id})
    await admin.alter_client_quotas({entity: {key: rate}})
    for _ in range(200):
        found = await admin.describe_client_quotas(
            [ClientQuotaFilterComponent.of_entity(ClientQuotaEntity.CLIENT_ID, client_id)])
        if found.get(entity) == {key: rate}:
            return client_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"the broker never showed the quota of {client_id}")


async def _drop_quota(admin: Admin, client_id: str, key: str) -> None:
    await admin.alter_client_quotas({ClientQuotaEntity({ClientQuotaEntity.CLIENT_ID: client_id}): {key: None}})


def _produce_body(topic: str, value: bytes) -> dict:
    builder = BatchBuilder(batch_size=1 << 20)
    # a current timestamp: records of 1970 breach the broker's 7-day retention, and its periodic
    # retention check (every 5 minutes) deleted them between writing and reading them back
    builder.append(int(time.time() * 1000), None, value, [])
    return {"transactional_id": None, "acks": 1, "timeout_ms": 30000,
            "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": builder.build()}]}]}


async def _proxied_connection(bootstrap: str, topic: str, client_id: str) -> tuple[FaultProxy, BrokerConnection]:
    """A connection with ``client_id`` to the leader of ``topic`` through a proxy that counts requests."""
    config = CommonConfig.from_kwargs(bootstrap_servers=bootstrap, client_id=client_id)
    cluster = Cluster(config)
    await cluster.bootstrap()
    await cluster.wait_for_topic(topic, 30000)
    leader = cluster.leader_for(topic, 0)
    broker = cluster.metadata.brokers[leader]
    await cluster.close()
    proxy = FaultProxy((broker.host, broker.port))
    await proxy.start()
    return proxy, BrokerConnection(proxy.listen_host, proxy.port, leader, config)


@asynccontextmanager
async def _throttled_connection(bootstrap: str, admin: Admin, prefix: str
                                ) -> AsyncIterator[tuple[str, FaultProxy, BrokerConnection]]:
    """(topic, proxy, connected conn) for a fresh client id under a produce quota; cleaned up after."""
    client_id = await _quota(admin, "producer_byte_rate")
    topic = await create_topic(bootstrap, unique(prefix), 1)
    proxy, conn = await _proxied_connection(bootstrap, topic, client_id)
    try:
        await conn.connect()
        yield topic, proxy, conn
    finally:
        await conn.close()
        await proxy.stop()
        await _drop_quota(admin, client_id, "producer_byte_rate")


async def _produce_until_throttled(conn: BrokerConnection, topic: str, sent: list[bytes]) -> int:
    """Produce 2 kB records until a response throttles the connection for >= 500 ms; that time."""
    for _ in range(300):
        value = b"%05d" % len(sent) + b"x" * 2000
        resp = await conn.request(ApiKey.PRODUCE, _produce_body(topic, value), version=PRODUCE_BY_NAME)
        assert resp["responses"][0]["partition_responses"][0]["error_code"] == 0
        sent.append(value)
        if resp["throttle_time_ms"] >= 500:
            return resp["throttle_time_ms"]
    raise AssertionError("the broker never throttled the client")


async def test_connection_holds_requests_while_throttled(bootstrap_servers: str, kafka_admin: Admin) -> None:
    sent: list[bytes] = []
    async with _throttled_connection(bootstrap_servers, kafka_admin, "throttle-conn") as (topic, proxy, conn):
        throttle_ms = await _produce_until_throttled(conn, topic, sent)
        assert conn.throttled and conn.last_throttle_time_ms == throttle_ms
        assert conn.throttle_count >= 1 and conn.throttle_time_ms_total >= throttle_ms
        seen = proxy.requests_seen[ApiKey.PRODUCE]
        delayed = conn.delayed_requests

        # A request made now is queued, not written: its timeout (shorter than the throttle) must
        # not run out while it waits, and the broker must not see it before the throttle ends.
        value = b"held" + b"x" * 2000
        held = asyncio.ensure_future(conn.request(ApiKey.PRODUCE, _produce_body(topic, value),
                                                  timeout_ms=throttle_ms * 0.6, version=PRODUCE_BY_NAME))
        await asyncio.sleep(0)
        assert conn.delayed_requests == delayed + 1 and conn.in_flight_count == 1
        await asyncio.sleep(throttle_ms / 4000.0)
        if conn.throttled:  # (a stalled loop may already have released it: nothing to check then)
            assert proxy.requests_seen[ApiKey.PRODUCE] == seen, "a request went out during the throttle"
        resp = await held
        sent.append(value)
        assert resp["responses"][0]["partition_responses"][0]["error_code"] == 0
        assert proxy.requests_seen[ApiKey.PRODUCE] == seen + 1
        assert conn.connected  # no timeout closed the connection
    got = await read_partition(bootstrap_servers, topic, 0)
    assert [r.value for r in got] == sent


async def test_held_requests_cancelled_acks0_and_closed(bootstrap_servers: str, kafka_admin: Admin) -> None:
    sent: list[bytes] = []
    async with _throttled_connection(bootstrap_servers, kafka_admin, "throttle-held") as (topic, proxy, conn):
        await _produce_until_throttled(conn, topic, sent)
        seen = proxy.requests_seen[ApiKey.PRODUCE]
        given_up = asyncio.ensure_future(conn.request(ApiKey.PRODUCE, _produce_body(topic, b"never sent"), version=PRODUCE_BY_NAME))
        kept = asyncio.ensure_future(conn.request(ApiKey.PRODUCE, _produce_body(topic, b"kept"), version=PRODUCE_BY_NAME))
        no_ack_body = _produce_body(topic, b"acks=0")
        no_ack_body["acks"] = 0
        no_ack = asyncio.ensure_future(conn.request(ApiKey.PRODUCE, no_ack_body, expect_response=False, version=PRODUCE_BY_NAME))
        await asyncio.sleep(0)
        given_up.cancel()  # a caller giving up on a held request: it is never written
        assert (await kept)["responses"][0]["partition_responses"][0]["error_code"] == 0
        assert await no_ack is None
        sent += [b"kept", b"acks=0"]
        assert proxy.requests_seen[ApiKey.PRODUCE] == seen + 2

        # closing the connection fails the requests still held, as it fails those in flight
        await _produce_until_throttled(conn, topic, sent)
        orphan = asyncio.ensure_future(conn.request(ApiKey.PRODUCE, _produce_body(topic, b"orphan"), version=PRODUCE_BY_NAME))
        await asyncio.sleep(0)
        assert conn.in_flight_count == 1
        await conn.close()
        with pytest.raises(KafkaConnectionError):
            await orphan
    got = await read_partition(bootstrap_servers, topic, 0)
    assert [r.value for r in got] == sent


async def test_throttled_producer_delivers_exactly_once_in_order(bootstrap_servers: str, kafka_admin: Admin) -> None:
    client_id = await _quota(kafka_admin, "producer_byte_rate")
    topic = await create_topic(bootstrap_servers, unique("throttle-producer"), 1)
    values: list[bytes] = []
    mds = []
    try:
        async with Producer(bootstrap_servers=bootstrap_servers, client_id=client_id, batch_size=1024,
                            linger_ms=0, max_in_flight_requests_per_connection=5) as p:
            await p._cluster.wait_for_topic(topic, 30_000)
            conn = await p._cluster.connection(p._cluster.leader_for(topic, 0), purpose="produce")
            # One record at a time until a produce request had to wait for a throttle to pass ...
            while conn.delayed_requests == 0 and len(values) < 400:
                values.append(b"%05d-" % len(values) + b"v" * 500)
                mds.append(await p.send_and_wait(topic, values[-1]))
            assert conn.throttle_count > 0 and conn.throttle_time_ms_total > 0, "the broker never throttled us"
            assert conn.delayed_requests > 0, "no produce request was ever held back"
            # ... then a few pipelined ones (up to 5 in flight, idempotent) into the throttled connection.
            more = [b"%05d-" % i + b"w" * 500 for i in range(len(values), len(values) + 4)]
            futs = [await p.send(topic, v) for v in more]
            mds.extend([await f for f in futs])
            values.extend(more)
            assert conn.connected and conn.delayed_requests > 1
    finally:
        await _drop_quota(kafka_admin, client_id, "producer_byte_rate")
    assert [md.offset for md in mds] == list(range(len(values)))
    got = await read_partition(bootstrap_servers, topic, 0)
    assert [r.value for r in got] == values  # nothing lost, nothing twice, in order


@pytest.mark.slow
async def test_throttled_consumer_reads_everything_once(bootstrap_servers: str, kafka_admin: Admin) -> None:
    # A throttled Fetch comes back empty (the broker withholds the data), so the consumer gets its
    # records only as fast as the quota allows: 11 quota-seconds of data take about 11 s.
    rate = 4096.0
    topic = await create_topic(bootstrap_servers, unique("throttle-consumer"), 1)
    values = [b"%05d-" % i + b"c" * 500 for i in range(90)]
    async with Producer(bootstrap_servers=bootstrap_servers, batch_size=2048, linger_ms=0) as p:
        for v in values:
            await p.send(topic, v)
        await p.flush()
    client_id = await _quota(kafka_admin, "consumer_byte_rate", rate)
    try:
        consumer = Consumer(bootstrap_servers=bootstrap_servers, client_id=client_id,
                            auto_offset_reset="earliest", max_partition_fetch_bytes=2048, fetch_max_bytes=2048)
        async with consumer:
            consumer.assign([TopicPartition(topic, 0)])
            got: list[bytes] = []
            while len(got) < len(values):
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 60)
                for records in batch.values():
                    got.extend(r.value for r in records)
            conn = await consumer._cluster.connection(consumer._cluster.leader_for(topic, 0), purpose="fetch")
            assert conn.throttle_count > 0, "the broker never throttled the fetches"
            assert conn.connected
    finally:
        await _drop_quota(kafka_admin, client_id, "consumer_byte_rate")
    assert got == values
