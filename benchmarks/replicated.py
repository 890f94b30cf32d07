"""Replicated scenario: a cluster of three local brokers and a topic with replication factor 3 and
``min.insync.replicas=2``, so that ``acks=all`` waits for the followers as in production. The
produce scenario's settings and records otherwise, and the latency scenario's one-at-a-time sends:
what replication adds to each client's throughput and to its round trip."""
from __future__ import annotations

import dataclasses
import sys

from benchmarks.runner import Outcome
from benchmarks.schedule import Entry, FreshTopics, Plan, rotated, run_on_fresh_topic
from benchmarks.settings import ProduceConfig
from benchmarks.topics import Topics

BROKERS = 3
REPLICAS = 3
MIN_INSYNC = 2
RECORDS = 500_000
QUICK_RECORDS = 50_000
LATENCY_SENDS = 5_000
QUICK_LATENCY_SENDS = 500

# each client's per-record API, kafkaio's batch API, and Java's steady state (the produce anchor)
PRODUCE = (Entry("kafkaio", "send"), Entry("kafkaio", "send_many"), Entry("aiokafka", "send"),
           Entry("confluent", "produce"), Entry("java", "ProducerPerformance warm"), Entry("franz-go", "Produce"))
LATENCY = (Entry("kafkaio", "send_and_wait"), Entry("aiokafka", "send_and_wait"), Entry("confluent", "produce+flush"))

PARAMETERS = (f"{BROKERS} local KRaft nodes (combined broker and controller, one JVM each), a 6-partition "
              f"topic with replication factor {REPLICAS} and `min.insync.replicas={MIN_INSYNC}`; the produce "
              f"scenario's settings (acks=all, idempotent, compression none) with {RECORDS:,} records per "
              f"run ({QUICK_RECORDS:,} with `--quick`; the slow per-record APIs fewer, as in the produce "
              f"table), and the latency scenario's one-at-a-time sends ({LATENCY_SENDS:,}; "
              f"{QUICK_LATENCY_SENDS:,} with `--quick`); a fresh topic per run")


def run(plan: Plan, quick: bool) -> list[Outcome]:
    """Start the cluster, measure every entry of ``plan``'s clients ``plan.repeat`` times in a
    rotating order, stop the cluster."""
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(brokers=BROKERS)
    cluster.start()
    try:
        here = dataclasses.replace(plan, bootstrap=cluster.bootstrap_servers)
        print(f"replicated: {BROKERS} brokers at {here.bootstrap}", file=sys.stderr, flush=True)
        with Topics(here.bootstrap) as topics:
            return _measure(here, topics, quick)
    finally:
        # its data is thrown away: a controlled shutdown of the three nodes at once took about 6 s
        # and measured nothing
        cluster.stop(grace=0.0)


def _measure(plan: Plan, topics: Topics, quick: bool) -> list[Outcome]:
    chosen = [(e, "produce") for e in PRODUCE if e.client in plan.clients]
    chosen += [(e, "latency") for e in LATENCY if e.client in plan.clients]
    records = QUICK_RECORDS if quick else RECORDS
    sends = QUICK_LATENCY_SENDS if quick else LATENCY_SENDS
    outcomes: list[Outcome] = []
    for rep in range(plan.repeat):
        order = [(e, s) for e, s in _rotated(chosen, rep) if rep < plan.repeats_for(e.client, e.api, "replicated")]
        with FreshTopics(topics, "bench-replicated", plan.partitions, len(order), replication_factor=REPLICAS,
                         config={"min.insync.replicas": str(MIN_INSYNC)}) as fresh:
            for entry, scenario in order:
                latency = scenario == "latency"
                outcomes.append(run_on_fresh_topic(
                    plan, fresh, entry, scenario=scenario, tag=f"rf{REPLICAS}",
                    records=plan.records_for(entry.client, entry.api, sends if latency else records),
                    replicas=REPLICAS, produce=ProduceConfig(linger_ms=0) if latency else ProduceConfig()))
    return outcomes


def _rotated(chosen: list[tuple[Entry, str]], rep: int) -> list[tuple[Entry, str]]:
    """``rotated``'s order for (entry, scenario) pairs."""
    order = rotated([e for e, _ in chosen], rep)
    scenario_of = {e: s for e, s in chosen}
    return [(e, scenario_of[e]) for e in order]
