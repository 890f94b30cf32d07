"""The replicated scenario against a real cluster of three brokers: its topics are created with
replication factor 3 and min.insync.replicas=2, and kafkaio's produce and latency runs deliver
every record through them."""
from __future__ import annotations

import asyncio

import pytest

from benchmarks import replicated
from benchmarks.schedule import Plan
from benchmarks.topics import Topics
from kafkaio import Admin
from kafkaio.admin import ConfigResource
from kafkaio.testing.broker import LocalKafkaCluster

pytest.importorskip("confluent_kafka")  # the harness's topic housekeeping (benchmarks/topics.py)


@pytest.mark.slow  # three JVMs on two cores
async def test_runs_deliver_every_record_to_topics_replicated_on_three_brokers() -> None:
    cluster = LocalKafkaCluster(brokers=replicated.BROKERS)
    await asyncio.to_thread(cluster.start)
    try:
        bootstrap = cluster.bootstrap_servers
        topics = Topics(bootstrap)
        try:
            name = await asyncio.to_thread(topics.create, "replicated-check", 6, replicated.REPLICAS,
                                           {"min.insync.replicas": str(replicated.MIN_INSYNC)})
            async with Admin(bootstrap_servers=bootstrap) as admin:
                described = (await admin.describe_topics([name]))[name]
                resource = ConfigResource("topic", name)
                configs = (await admin.describe_configs([resource]))[resource]
            assert len(described.partitions) == 6
            assert all(sorted(p.replicas) == [1, 2, 3] and len(p.isr) == 3 for p in described.partitions)
            assert configs["min.insync.replicas"].value == "2"
            plan = Plan(bootstrap=bootstrap, repeat=1, clients=["kafkaio"], timeout_s=120)
            outcomes = await asyncio.to_thread(replicated._measure, plan, topics, True)
        finally:
            topics.close()
    finally:
        await asyncio.to_thread(cluster.stop)
    by_api = {o.job.api: o for o in outcomes}
    assert sorted(by_api) == ["send", "send_and_wait", "send_many"]
    for o in outcomes:
        assert o.ok, o.error
        assert o.job.replicas == 3
    assert by_api["send"].result["records"] == replicated.QUICK_RECORDS
    assert by_api["send_and_wait"].job.records == replicated.QUICK_LATENCY_SENDS
    assert by_api["send_and_wait"].result["p50_us"] > 0
