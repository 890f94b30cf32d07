"""``metrics()`` after a known workload against a real broker: counts exact, rates consistent
with the totals over the time the snapshot covers (bounded from both sides by clock readings
taken around the workload, never compared with a fixed duration)."""
from __future__ import annotations

import asyncio
import math
import time
import uuid

import pytest

import kafkaio
from kafkaio import TopicPartition
from kafkaio.errors import RecordTooLargeError

pytestmark = pytest.mark.integration

RECORDS = 2000
VALUE = b"v" * 100
WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration


def assert_rate(rate: float, total: float, earliest_start: float, latest_start: float,
                read_after: float, read_before: float) -> None:
    """``rate`` is ``total`` over the time from the client's construction (between the first two
    clock readings) to the snapshot (between the last two): the first snapshot covers that."""
    assert total > 0 and rate > 0
    assert total / (read_before - earliest_start) <= rate <= total / (read_after - latest_start)


async def test_producer_and_consumer_metrics_after_a_known_workload(
        bootstrap_servers: str, topic_factory) -> None:
    topic = await topic_factory(partitions=1)
    tp = TopicPartition(topic, 0)

    t0 = time.monotonic()
    producer = kafkaio.Producer(bootstrap_servers=bootstrap_servers, linger_ms=5, compression_type="gzip")
    t1 = time.monotonic()
    before = producer.metrics()
    assert before.record_send_total == 0 and before.network.connection_count == 0
    async with producer:
        futures = [await producer.send(topic, VALUE) for _ in range(RECORDS)]
        await producer.flush()
        offsets = sorted([(await f).offset for f in futures])
        assert offsets == list(range(RECORDS))
        t2 = time.monotonic()
        m = producer.metrics()
        t3 = time.monotonic()

    assert m.record_send_total == RECORDS
    assert m.record_error_total == 0 and m.record_retry_total == 0 and m.batch_split_total == 0
    assert m.record_error_rate == 0.0
    assert_rate(m.record_send_rate, RECORDS, t0, t1, t2, t3)
    assert_rate(m.byte_rate, m.byte_total, t0, t1, t2, t3)
    # gzip squeezes repeated bytes: the batches are much smaller than the records in them
    assert m.byte_total < RECORDS * len(VALUE) / 4
    assert 0 < m.compression_rate_avg < 0.25
    assert 0 < m.batch_size_avg <= m.byte_total
    assert 1 <= m.records_per_request_avg <= RECORDS
    assert m.buffer_available_bytes == m.buffer_total_bytes == producer.config.buffer_memory
    assert m.requests_in_flight == 0 and m.waiting_threads == 0
    net = m.network
    assert net.connection_error_total == 0 and net.connection_creation_total >= 1
    assert net.request_total >= net.response_total > 0
    assert net.outgoing_byte_total > m.byte_total and net.incoming_byte_total > 0
    assert 0 < net.request_latency_avg <= net.request_latency_max
    assert net.throttle_time_avg == 0.0
    assert_rate(net.request_rate, net.request_total, t0, t1, t2, t3)
    java = m.as_dict()
    assert java["record-send-total"] == RECORDS and java["request-latency-avg"] == net.request_latency_avg
    closed = producer.metrics().network
    assert closed.connection_count == 0
    assert closed.connection_close_total == closed.connection_creation_total
    assert closed.request_total >= net.request_total   # the closed connections' counts are kept

    group = f"metrics-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    consumer = kafkaio.Consumer(topic, bootstrap_servers=bootstrap_servers, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    t1 = time.monotonic()
    await consumer.start()
    try:
        first = await consumer.getmany(timeout_ms=int(WAIT_S * 1000), max_records=100)
        assert sum(map(len, first.values())) == 100
        c = consumer.metrics()
        # (failed attempts are not asserted: a broker that is still loading the group coordinator
        # makes the first ones fail)
        assert c.assigned_partitions == 1 and c.rebalance_total == 1
        assert c.last_rebalance_seconds_ago >= 0 and c.rebalance_latency_avg > 0
        # every record was written before the consumer started: the high watermark is the end
        assert consumer.highwater(tp) == RECORDS
        assert c.records_lag == {tp: RECORDS - 100} and c.records_lag_max == RECORDS - 100
        got = 100
        deadline = time.monotonic() + WAIT_S
        while got < RECORDS:
            assert time.monotonic() < deadline, f"consumed {got} of {RECORDS}"
            batch = await consumer.getmany(timeout_ms=1000)
            got += sum(map(len, batch.values()))
        assert got == RECORDS
        await consumer.commit()
        t2 = time.monotonic()
        c = consumer.metrics()
        t3 = time.monotonic()
    finally:
        await consumer.stop()

    assert c.records_consumed_total == RECORDS
    assert c.bytes_consumed_total == m.byte_total   # the same batches the producer wrote
    assert_rate(c.records_consumed_rate, RECORDS, t0, t1, t2, t3)
    assert c.records_lag == {tp: 0} and c.records_lag_max == 0
    assert c.commit_total == 1 and c.commit_latency_avg > 0
    assert_rate(c.commit_rate, 1, t0, t1, t2, t3)
    assert c.fetch_total >= 1 and c.fetch_latency_avg > 0
    assert c.network.connection_error_total == 0 and c.network.response_total > c.fetch_total
    assert c.as_dict()["records-consumed-total"] == RECORDS


async def test_records_refused_by_the_broker_are_counted_as_errors(
        bootstrap_servers: str, topic_factory) -> None:
    topic = await topic_factory(partitions=1, configs={"max.message.bytes": "1000"})
    async with kafkaio.Producer(bootstrap_servers=bootstrap_servers, linger_ms=0) as producer:
        # the first record may be sent twice (counted per attempt, as Java does): a partition just
        # created can answer NOT_LEADER_OR_FOLLOWER a moment after the metadata names its leader
        await producer.send_and_wait(topic, b"ok")
        before = producer.metrics()
        with pytest.raises(RecordTooLargeError):
            await producer.send_and_wait(topic, b"x" * 2000)
        m = producer.metrics()
    assert before.record_error_total == 0
    # the refused record: one attempt, an error, no retry
    assert m.record_send_total - before.record_send_total == 1
    assert m.record_error_total == 1 and m.record_retry_total == before.record_retry_total
    assert m.record_error_rate > 0
    assert m.as_dict()["record-error-total"] == 1


async def test_admin_metrics_count_its_connections_and_requests(bootstrap_servers: str) -> None:
    admin = kafkaio.Admin(bootstrap_servers=bootstrap_servers)
    assert admin.metrics().network.request_total == 0
    async with admin:
        await admin.list_topics()
        live = admin.metrics().network
        assert live.connection_count >= 1 and live.response_total >= 1
        assert live.request_latency_avg > 0 and not math.isnan(live.request_latency_max)
    closed = admin.metrics().network
    assert closed.connection_count == 0 and closed.connection_close_total == closed.connection_creation_total
    assert closed.response_total >= live.response_total


async def test_metrics_before_start_are_zero() -> None:
    producer = kafkaio.Producer(bootstrap_servers="127.0.0.1:1")
    consumer = kafkaio.Consumer(bootstrap_servers="127.0.0.1:1")
    p, c = producer.metrics(), consumer.metrics()
    assert p.record_send_total == 0 and math.isnan(p.batch_size_avg)
    assert c.records_consumed_total == 0 and c.records_lag_max == -1 and c.last_rebalance_seconds_ago == -1
    await asyncio.sleep(0)
