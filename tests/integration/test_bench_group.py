"""The consumer-group benchmark runners against the broker: each joins a group of its own, reads
every record from the beginning, and reports its time to the first record inside its clock; a
group of members, each a process, reads every partition to its end together."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from benchmarks.clients import APIS, CONSUMER_PROTOCOL
from benchmarks.group import MEMBERS, _members_run
from benchmarks.runner import run_job
from benchmarks.schedule import Plan
from benchmarks.settings import Job
from kafkaio import Producer
from kafkaio.testing.capabilities import CONSUMER_PROTOCOL as KIP_848
from kafkaio.testing.capabilities import BrokerCapabilities

RECORDS = 600


@pytest.mark.parametrize("client", sorted(APIS["group"]))
async def test_group_runner_joins_and_reads_every_record(
        client: str, bootstrap_servers: str, topic_factory: Callable[..., Awaitable[str]]) -> None:
    pytest.importorskip({"kafkaio": "kafkaio", "aiokafka": "aiokafka", "confluent": "confluent_kafka"}[client])
    topic = await topic_factory(partitions=6)
    async with Producer(bootstrap_servers=bootstrap_servers) as producer:
        for i in range(RECORDS):
            await producer.send(topic, b"v" * 100, partition=i % 6)
        await producer.flush()
    job = Job(client=client, scenario="group", api=APIS["group"][client][0], bootstrap=bootstrap_servers,
              topic=topic, records=RECORDS, timeout_s=120)
    outcome = await asyncio.to_thread(run_job, job)
    assert outcome.ok, outcome.error
    assert outcome.result["records"] == RECORDS
    assert outcome.result["bytes"] == RECORDS * 100
    assert 0 < outcome.result["first_record_s"] <= outcome.result["seconds"]


@pytest.mark.parametrize("api", ["getmany", "getmany" + CONSUMER_PROTOCOL])
async def test_a_group_of_members_reads_every_partition_to_its_end(
        api: str, bootstrap_servers: str, topic_factory: Callable[..., Awaitable[str]],
        broker_capabilities: BrokerCapabilities) -> None:
    if api.endswith(CONSUMER_PROTOCOL):
        broker_capabilities.require(KIP_848)
    topic = await topic_factory(partitions=6)
    async with Producer(bootstrap_servers=bootstrap_servers) as producer:
        for i in range(RECORDS):
            await producer.send(topic, b"v" * 100, partition=i % 6)
        await producer.flush()
    plan = Plan(bootstrap=bootstrap_servers, timeout_s=120)
    ends = (RECORDS // 6,) * 6  # each partition's end offset: the members stop once they reach them all
    outcome = await asyncio.to_thread(_members_run, plan, "kafkaio", api, topic, RECORDS, ends)
    assert outcome.ok, outcome.error
    assert outcome.job.scenario == "group-members" and outcome.job.members == MEMBERS
    assert outcome.result["records"] == RECORDS
    assert outcome.result["read"] >= RECORDS and sum(outcome.result["member_records"]) == outcome.result["read"]
    assert len(outcome.result["member_records"]) == MEMBERS
    assert 0 < outcome.result["first_record_s"] <= outcome.result["seconds"]
