"""``metrics()`` under faults, against a broker behind a FaultProxy: a lost produce response makes
a retry that the counters show (and the connection it cost), a batch refused as too large is split,
and the sends of each attempt add up."""
from __future__ import annotations

import uuid

import pytest

import kafkaio
from kafkaio.protocol import ApiKey
from kafkaio.testing.proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.proxied_broker(auto_create_topics=False)]


async def new_topic(bootstrap: str, configs: dict[str, str | None] | None = None) -> str:
    name = f"metrics-{uuid.uuid4().hex[:10]}"
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(name, 1, 1, configs=configs)], wait_for_leaders=True)
    return name


async def test_a_lost_response_shows_as_a_retry_and_a_failed_connection(
        proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await new_topic(proxied_bootstrap)
    async with kafkaio.Producer(bootstrap_servers=proxied_bootstrap, linger_ms=0, request_timeout_ms=1500,
                                delivery_timeout_ms=30_000, retry_backoff_ms=50) as p:
        await p.send_and_wait(topic, b"warm-up")
        fault_proxy.drop_responses(1, api_key=ApiKey.PRODUCE)
        await p.send_and_wait(topic, b"R1")   # delivered by a retry
        m = p.metrics()
    assert fault_proxy.responses_dropped[ApiKey.PRODUCE] >= 1
    assert m.record_retry_total >= 1 and m.record_error_total == 0
    # each attempt counts its records: two records, and one more per retry
    assert m.record_send_total == 2 + m.record_retry_total
    assert m.record_retry_rate > 0
    net = m.network
    assert net.connection_error_total >= 1   # the connection the timeout closed
    assert net.connection_creation_total >= 2 and net.request_total > net.response_total


async def test_a_batch_refused_as_too_large_is_split_and_counted(proxied_bootstrap: str) -> None:
    topic = await new_topic(proxied_bootstrap, {"max.message.bytes": "1000"})
    async with kafkaio.Producer(bootstrap_servers=proxied_bootstrap, linger_ms=500) as p:
        futures = [await p.send(topic, b"x" * 300) for _ in range(10)]
        await p.flush()
        offsets = sorted([(await f).offset for f in futures])
        m = p.metrics()
    assert offsets == list(range(10))
    assert m.batch_split_total >= 1 and m.record_error_total == 0
    # the refused batches' records were sent, then sent again in their parts
    assert m.record_send_total > 10
