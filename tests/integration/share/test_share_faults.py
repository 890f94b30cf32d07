"""Share consumers when answers are lost (a Kafka 4.4 broker behind a fault proxy): a ShareFetch
the broker handled but whose answer never arrived, a ShareAcknowledge answer dropped. The client
never reports an acknowledgement it has no answer for as done, and no record is lost."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from kafkaio import AcknowledgeType, ShareConsumer, ShareConsumerRecord, TopicPartition
from kafkaio.admin import Admin, ConfigResource, NewTopic
from kafkaio.errors import KafkaError
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline
from kafkaio.testing.proxy import proxied_cluster

from share_helpers import SHARE_BROKER_PROPERTIES, SHARE_KAFKA_VERSION, left_over, poll_until, produce

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def proxied_share() -> AsyncIterator[tuple[str, Any]]:
    async with proxied_cluster(1, version=SHARE_KAFKA_VERSION, broker_properties=SHARE_BROKER_PROPERTIES) \
            as (cluster, proxies):
        yield cluster.bootstrap_servers, proxies[0]


async def _topic_and_group(bootstrap: str, name: str) -> tuple[str, str]:
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(name, 2, 1)], wait_for_leaders=True)
        await admin.incremental_alter_configs({ConfigResource("group", name): {"share.auto.offset.reset": "earliest"}})
    return name, name


async def test_a_share_fetch_answer_lost_loses_no_record(proxied_share: tuple[str, Any]) -> None:
    bootstrap, proxy = proxied_share
    proxy.reset()
    topic, group = await _topic_and_group(bootstrap, "share-fault-fetch")
    values = await produce(bootstrap, topic, 100)
    got: list[ShareConsumerRecord] = []
    async with ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group, max_poll_records=10,
                             share_acquire_mode="record_limit", request_timeout_ms=5000) as consumer:
        got.extend(await poll_until(consumer, 1))
        # the next ShareFetch carries the acceptance of what came so far and acquires more: the broker
        # handles it, its answer is lost and the connection cut
        proxy.cut_after_requests(1, api_key=ApiKey.SHARE_FETCH)
        deadline = Deadline(90000)
        while len({r.value for r in got}) < len(values):
            assert not deadline.expired, f"{len({r.value for r in got})} of {len(values)} records"
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                got.extend(records)
        await consumer.commit()
    assert {r.value for r in got} == set(values)
    # records acquired by the lost answer came again, with their delivery count raised
    assert any(r.delivery_count >= 2 for r in got)
    assert await left_over(bootstrap, topic, group) == []


async def test_a_lost_acknowledge_answer_is_reported_as_failed_and_nothing_is_lost(
        proxied_share: tuple[str, Any]) -> None:
    bootstrap, proxy = proxied_share
    proxy.reset()
    topic, group = await _topic_and_group(bootstrap, "share-fault-ack")
    values = await produce(bootstrap, topic, 10)
    async with ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group, request_timeout_ms=3000) as consumer:
        first = await poll_until(consumer, 1)
        proxy.drop_responses(1, api_key=ApiKey.SHARE_ACKNOWLEDGE)
        results = await consumer.commit()
        assert results and all(isinstance(err, KafkaError) for err in results.values())
        got = list(first)
        deadline = Deadline(90000)
        while len({r.value for r in got}) < len(values):
            assert not deadline.expired
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                got.extend(records)
        await consumer.commit()
    assert {r.value for r in got} == set(values)
    assert await left_over(bootstrap, topic, group) == []


async def test_a_cancelled_commit_still_settles_its_acknowledgements(proxied_share: tuple[str, Any]) -> None:
    """A commit() whose caller is cancelled after its ShareAcknowledge was written: the answer still
    settles those acknowledgements (the callback hears it) and the session goes on."""
    bootstrap, proxy = proxied_share
    proxy.reset()
    topic, group = await _topic_and_group(bootstrap, "share-fault-cancel")
    values = await produce(bootstrap, topic, 10)
    reported: list[tuple[dict[TopicPartition, set[int]], KafkaError | None]] = []
    async with ShareConsumer(topic, bootstrap_servers=bootstrap, group_id=group, request_timeout_ms=10000,
                             share_acknowledgement_mode="explicit") as consumer:
        consumer.set_acknowledgement_commit_callback(lambda offsets, err: reported.append((offsets, err)))
        got = await poll_until(consumer, 1)
        for r in got:
            consumer.acknowledge(r, AcknowledgeType.ACCEPT)
        acknowledges = proxy.requests_seen[ApiKey.SHARE_ACKNOWLEDGE]
        proxy.delay(1000, api_key=ApiKey.SHARE_ACKNOWLEDGE)
        commit = asyncio.ensure_future(consumer.commit())
        deadline = Deadline(30000)
        while proxy.requests_seen[ApiKey.SHARE_ACKNOWLEDGE] == acknowledges:
            assert not deadline.expired, "the ShareAcknowledge was never written"
            await asyncio.sleep(0.01)
        commit.cancel()
        with pytest.raises(asyncio.CancelledError):
            await commit
        proxy.delay(0)
        while not reported:
            assert not deadline.expired, "the cancelled commit's acknowledgements were never settled"
            await asyncio.sleep(0.01)
        accepted = {(tp.partition, off) for offsets, err in reported for tp, offs in offsets.items() for off in offs}
        assert all(err is None for _, err in reported), reported
        assert accepted == {(r.partition, r.offset) for r in got}
        while len(got) < len(values):
            assert not deadline.expired, f"{len(got)} of {len(values)} records"
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for r in records:
                    consumer.acknowledge(r, AcknowledgeType.ACCEPT)
                got.extend(records)
        results = await consumer.commit()
        assert all(err is None for err in results.values()), results
    assert sorted(r.value for r in got) == sorted(values)   # each once: nothing came again
    assert await left_over(bootstrap, topic, group) == []
