"""The peers at their own configurations: which runs the schedule adds, what each runner sets in
them, and that the targets compare with the fastest configuration and name it."""
from __future__ import annotations

import dataclasses

import pytest

from benchmarks.aggregate import best, group
from benchmarks.report import _targets
from benchmarks.runner import Outcome
from benchmarks.schedule import Plan, entries
from benchmarks.settings import DEFAULTS, SHARED, TUNED, Job, ProduceConfig


def _job(client: str, api: str, profile: str = SHARED, scenario: str = "produce") -> Job:
    return Job(client=client, scenario=scenario, api=api, bootstrap="b:9092", topic="t", records=1000,
               produce=ProduceConfig(compression_type="lz4"), profile=profile)


def test_profiles_are_added_only_where_asked_and_only_for_the_peers_that_have_them() -> None:
    plan = Plan(bootstrap="b", clients=["kafkaio", "aiokafka", "confluent"], uvloop=False)
    plain = entries("produce", plan, with_uvloop=False)
    assert {e.profile for e in plain} == {SHARED}
    more = entries("produce", plan, with_uvloop=False, with_profiles=True)
    added = {(e.client, e.api, e.profile) for e in more} - {(e.client, e.api, e.profile) for e in plain}
    assert added == {("confluent", "produce", DEFAULTS), ("confluent", "produce_batch", DEFAULTS),
                     ("confluent", "produce", TUNED), ("confluent", "produce_batch", TUNED),
                     ("aiokafka", "send", DEFAULTS), ("aiokafka", "send_batch", DEFAULTS)}
    plan.profiles = False
    assert entries("produce", plan, with_uvloop=False, with_profiles=True) == plain


def test_confluent_defaults_keep_only_what_the_scenario_means() -> None:
    confluent = pytest.importorskip("benchmarks.clients.confluent_client")
    own = confluent.producer_config(_job("confluent", "produce", DEFAULTS))
    assert own == {"bootstrap.servers": "b:9092", "acks": "all", "enable.idempotence": True,
                   "compression.type": "lz4"}
    tuned = confluent.producer_config(_job("confluent", "produce", TUNED))
    assert tuned == {**own, "linger.ms": 100}
    consumer = confluent.consumer_config(_job("confluent", "poll", DEFAULTS, "consume"))
    assert "fetch.min.bytes" not in consumer and consumer["auto.offset.reset"] == "earliest"
    assert confluent.consumer_config(_job("confluent", "poll", TUNED, "consume"))["fetch.min.bytes"] == 100000
    assert confluent.producer_config(_job("confluent", "produce"))["batch.size"] == 65536


def test_aiokafka_defaults_keep_only_what_the_scenario_means() -> None:
    aiokafka = pytest.importorskip("benchmarks.clients.aiokafka_client")
    assert aiokafka.producer_kwargs(_job("aiokafka", "send", DEFAULTS)) == {
        "bootstrap_servers": "b:9092", "acks": "all", "enable_idempotence": True, "compression_type": "lz4"}
    assert aiokafka.producer_kwargs(_job("aiokafka", "send"))["max_batch_size"] == 65536
    assert aiokafka.consumer_kwargs(_job("aiokafka", "getmany", DEFAULTS, "consume")) == {
        "bootstrap_servers": "b:9092", "group_id": None, "enable_auto_commit": False,
        "auto_offset_reset": "earliest"}


def _outcome(client: str, api: str, seconds: float, profile: str = SHARED) -> Outcome:
    job = dataclasses.replace(_job(client, api, profile), produce=ProduceConfig())
    return Outcome(job, True, result={"records": job.records, "seconds": seconds})


def test_targets_use_each_peers_fastest_configuration_and_name_it() -> None:
    rows = group([_outcome("kafkaio", "send", 1.0), _outcome("confluent", "produce", 2.0),
                  _outcome("confluent", "produce", 1.25, DEFAULTS), _outcome("confluent", "produce", 1.6, TUNED),
                  _outcome("aiokafka", "send", 5.0), _outcome("aiokafka", "send", 6.0, DEFAULTS)])
    fastest = best(rows, "confluent", "produce")
    assert fastest is not None and fastest.profile == DEFAULTS
    targets = "\n".join(_targets(rows))
    assert "kafkaio send / confluent produce (defaults) | 1.25x | >= 1.00x | met" in targets
    assert "kafkaio send / aiokafka send (shared) | 5.00x | >= 3.00x | met" in targets


def test_results_saved_before_profiles_read_as_shared() -> None:
    data = _job("confluent", "produce").to_dict()
    del data["profile"]
    assert Job.from_dict(data).profile == SHARED
