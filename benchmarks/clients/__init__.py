"""Runners, one module per client. Each Python runner exposes ``run(job) -> dict`` and is executed
in a child process by ``benchmarks.child``; the Java client is driven by ``java_perf`` and the Go
client franz-go by ``franzgo_bench`` instead.

The tables below say which API variants each client is measured with, per scenario.
"""
from __future__ import annotations

# client name -> module under benchmarks.clients
MODULES: dict[str, str] = {
    "kafkaio": "kafkaio_client",
    "aiokafka": "aiokafka_client",
    "confluent": "confluent_client",
    "kafka-python": "kafka_python_client",
    "java": "java_perf",
    "franz-go": "franzgo_bench",
    # not a client: one pre-encoded Produce per round trip on a bare asyncio Protocol (latency only)
    "floor": "floor_client",
}

CLIENTS: tuple[str, ...] = tuple(MODULES)

# clients that run on an asyncio loop, and so are measured under uvloop too
ASYNCIO_CLIENTS: frozenset[str] = frozenset({"kafkaio", "aiokafka", "floor"})

# client -> the configurations it is measured with besides the shared one (benchmarks.settings):
# its own defaults, and the throughput tuning its documentation gives where there is one
PROFILES: dict[str, tuple[str, ...]] = {
    "confluent": ("defaults", "tuned"),
    "aiokafka": ("defaults",),
}

# the suffix of a group API run under KIP-848's consumer group protocol (group.protocol=consumer)
# instead of the classic one; aiokafka has no such protocol
CONSUMER_PROTOCOL = " (consumer protocol)"

# scenario -> client -> API variants (the first is the per-record API, then the batch API)
APIS: dict[str, dict[str, tuple[str, ...]]] = {
    "produce": {
        "kafkaio": ("send", "send_many"),
        "aiokafka": ("send", "send_batch"),
        "confluent": ("produce", "produce_batch"),
        "kafka-python": ("send",),
        "java": ("ProducerPerformance", "ProducerPerformance warm"),
        "franz-go": ("Produce",),
    },
    "consume": {
        "kafkaio": ("async-for", "getmany"),
        "aiokafka": ("async-for", "getmany"),
        "confluent": ("poll", "consume"),
        "kafka-python": ("iterator", "poll"),
        "java": ("ConsumerPerformance", "ConsumerPerformance warm"),
        "franz-go": ("PollRecords",),
    },
    # consuming through a consumer group, the join inside the clock (benchmarks/group.py)
    "group": {
        "kafkaio": ("getmany", "getmany" + CONSUMER_PROTOCOL),
        "aiokafka": ("getmany",),
        "confluent": ("consume", "consume" + CONSUMER_PROTOCOL),
    },
    # a group of three members, each a process of its own, reading one topic together
    # (benchmarks/group.py)
    "group-members": {
        "kafkaio": ("getmany", "getmany" + CONSUMER_PROTOCOL),
        "aiokafka": ("getmany",),
        "confluent": ("consume", "consume" + CONSUMER_PROTOCOL),
        "java": ("ConsumerPerformance", "ConsumerPerformance" + CONSUMER_PROTOCOL),
    },
    "latency": {
        "kafkaio": ("send_and_wait",),
        "aiokafka": ("send_and_wait",),
        "confluent": ("produce+flush",),
        "kafka-python": ("send().get()",),
        "floor": ("bare Protocol round trip",),
    },
}
