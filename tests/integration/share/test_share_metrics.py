"""ShareConsumer.metrics() against a Kafka 4.4 broker: each count is the broker's own outcome."""
from __future__ import annotations

import asyncio
import math

import pytest

from kafkaio import ShareConsumer, ShareConsumerMetrics
from kafkaio.errors import InvalidRecordStateError
from kafkaio.structs import TopicPartition

from share_helpers import LOCK_DURATION_MS, poll_until, produce

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_records_fetches_and_acknowledgements_are_counted(share_bootstrap: str, share_topic: str,
                                                                share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 30)
    consumer = ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             enable_metrics_push=False)
    before = consumer.metrics()
    assert isinstance(before, ShareConsumerMetrics)
    assert (before.records_consumed_total, before.fetch_total, before.last_poll_seconds_ago) == (0, 0, -1.0)
    async with consumer:
        got = await poll_until(consumer, 30)
        results = await consumer.commit()   # implicit mode: the last poll's records are accepted now
        assert results and all(err is None for err in results.values())
        m = consumer.metrics()
    assert len(got) == 30
    assert m.records_consumed_total == 30
    assert m.acknowledgements_send_total == 30 and m.acknowledgements_error_total == 0
    assert m.fetch_total >= 1 and m.bytes_consumed_total > 0
    assert m.records_per_request_avg > 0 and m.fetch_size_avg > 0 and m.fetch_latency_avg >= 0
    assert m.records_consumed_rate > 0 and m.acknowledgements_send_rate > 0
    assert m.assigned_partitions == 2 and m.rebalance_total >= 1
    assert m.last_poll_seconds_ago >= 0
    assert m.network.request_total > 0 and m.network.connection_count > 0
    assert m.as_dict()["acknowledgements-send-total"] == 30


async def test_an_acknowledgement_the_broker_refuses_is_counted_as_an_error(share_bootstrap: str,
                                                                            share_topic: str, share_group) -> None:
    group = await share_group()
    await produce(share_bootstrap, share_topic, 1)
    async with ShareConsumer(share_topic, bootstrap_servers=share_bootstrap, group_id=group,
                             share_acknowledgement_mode="explicit", max_poll_records=1,
                             enable_metrics_push=False) as consumer:
        (record,) = await poll_until(consumer, 1)
        await asyncio.sleep(LOCK_DURATION_MS * 2 / 1000)   # the acquisition lock expires
        consumer.acknowledge(record)
        results = await consumer.commit()
        m = consumer.metrics()
    assert isinstance(results[TopicPartition(share_topic, record.partition)], InvalidRecordStateError)
    assert (m.acknowledgements_send_total, m.acknowledgements_error_total) == (0, 1)
    assert m.records_consumed_total == 1
    assert not math.isnan(m.acknowledgements_error_rate) and m.acknowledgements_error_rate > 0
