"""The one place that fixes what every client is asked to do, so that all are configured alike."""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

# Java ProducerPerformance fills its 100-byte records with random upper-case letters; the Python
# runners use the same alphabet so that lz4 sees data of the same compressibility everywhere.
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PAYLOAD_POOL = 1024
POOL_BYTES = 16 * 1024 * 1024  # large values get fewer distinct ones, so the pool stays this small


def pool_size(record_size: int) -> int:
    """How many distinct values the producers cycle through: ``PAYLOAD_POOL``, fewer for large
    values (a power of two, at least 16; benchmarks/franzgo computes the same)."""
    n = PAYLOAD_POOL
    while n > 16 and n * record_size > POOL_BYTES:
        n //= 2
    return n


@dataclass(frozen=True)
class ProduceConfig:
    """Producer settings shared by every client (Java names; each runner maps them to its own)."""

    acks: str = "all"
    enable_idempotence: bool = True
    linger_ms: int = 5
    batch_size: int = 65536
    max_in_flight: int = 5
    buffer_memory: int = 64 * 1024 * 1024
    compression_type: str = "none"


@dataclass(frozen=True)
class ConsumeConfig:
    """Consumer settings shared by every client."""

    fetch_min_bytes: int = 1
    fetch_max_wait_ms: int = 500
    fetch_max_bytes: int = 52428800
    max_partition_fetch_bytes: int = 1048576
    # per call of a batch API (getmany / consume / poll), and Java's max.poll.records
    max_records: int = 10000


# How a runner configures its client: with the shared settings below (every client alike), with
# the client's own defaults, or with the throughput tuning its documentation gives. The last two
# keep what the scenario means (acks=all, idempotence, compression, reading from the beginning).
SHARED, DEFAULTS, TUNED = "shared", "defaults", "tuned"


@dataclass(frozen=True)
class Job:
    """One measured run: a client, a scenario, an API variant, and everything it needs."""

    client: str  # "kafkaio", "aiokafka", "confluent", "kafka-python", "java", "franz-go"
    scenario: str  # "produce", "consume", "latency"
    api: str  # e.g. "send", "send_many", "async-for", "getmany"
    bootstrap: str
    topic: str
    records: int
    record_size: int = 100
    partitions: int = 6
    loop: str = "asyncio"  # "asyncio" or "uvloop" (asyncio clients only)
    produce: ProduceConfig = field(default_factory=ProduceConfig)
    consume: ConsumeConfig = field(default_factory=ConsumeConfig)
    timeout_s: float = 300.0
    profile: str = SHARED  # SHARED, DEFAULTS or TUNED
    keys: int = 0  # distinct keys the producer cycles through, a power of two (0: no key)
    headers: int = 0  # headers on every record (benchmarks.settings.headers)
    members: int = 1  # consumers of one group run at once (benchmarks/group.py), each a process
    group: str = ""  # the group id the members share ("": each run makes its own)
    # a group run's members: each partition's end offset (its high watermark), and the directory
    # they share to mark the ends they reached (benchmarks.clients._common.MemberLog)
    ends: tuple[int, ...] = ()
    done_dir: str = ""
    replicas: int = 1  # the topic's replication factor (benchmarks/replicated.py: a cluster of brokers)

    @property
    def label(self) -> str:
        """Short name for tables: client, API, the loop when it is uvloop, the configuration when
        it is not the shared one."""
        loop = "+uvloop" if self.loop == "uvloop" else ""
        profile = "" if self.profile == SHARED else f" ({self.profile})"
        return f"{self.client} {self.api}{loop}{profile}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Job":
        data = dict(data)
        data["produce"] = ProduceConfig(**data["produce"])
        data["consume"] = ConsumeConfig(**data["consume"])
        data["ends"] = tuple(data.get("ends", ()))
        return cls(**data)


def keys(count: int) -> list[bytes]:
    """``count`` distinct record keys, all of one length (the default partitioner hashes them)."""
    return [b"key-%08d" % i for i in range(count)]


def headers(count: int) -> list[tuple[str, bytes]]:
    """The headers every record carries when a job asks for ``count`` of them (the same on every
    record, as tracing or routing headers often are; benchmarks/franzgo makes the same ones)."""
    return [(f"header-{i}", b"value-%010d" % i) for i in range(count)]


# random bytes -> letters: bytes >= 234 (26 * 9) are dropped so that every letter is equally likely
_UNBIASED_TOP = bytes(range(len(_ALPHABET) * (256 // len(_ALPHABET)), 256))
_TO_LETTER = bytes(_ALPHABET[b % len(_ALPHABET)] for b in range(256))


def payloads(record_size: int, count: int = PAYLOAD_POOL, seed: int = 42) -> list[bytes]:
    """A pool of distinct random-letter values that the producers cycle through (made with bytes
    methods, not a Python call per byte: every run makes it, outside its clock but on its wall)."""
    rnd = random.Random(seed)
    need = record_size * count
    letters = b""
    while len(letters) < need:
        letters += rnd.randbytes(need).translate(_TO_LETTER, _UNBIASED_TOP)
    return [letters[i * record_size:(i + 1) * record_size] for i in range(count)]
