"""Test helpers for the producer's integration tests: create topics and read partitions back with raw
CreateTopics/Fetch requests (through kafkaio.cluster), independent of the producer under test."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from kafkaio.cluster import Cluster
from kafkaio.config import ProducerConfig
from kafkaio.errors import ErrorCode, TopicExistsError, raise_for_code
from kafkaio.protocol import ApiKey
from kafkaio.records import read_batches

FETCH_BY_NAME = 12  # raw Fetch requests here name their topic (v13+ would need its id)


@dataclass
class ReadRecord:
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list
    timestamp: int
    timestamp_type: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    compression: int


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def _cluster(bootstrap: str) -> Cluster:
    cluster = Cluster(ProducerConfig.from_kwargs(bootstrap_servers=bootstrap))
    await cluster.bootstrap()
    return cluster


async def create_topic(bootstrap: str, name: str, partitions: int = 1, replication: int = 1,
                       configs: dict[str, str] | None = None) -> str:
    cluster = await _cluster(bootstrap)
    try:
        body = {"topics": [{"name": name, "num_partitions": partitions, "replication_factor": replication,
                            "assignments": [],
                            "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()]}],
                "timeout_ms": 30000}
        resp = await cluster.request(cluster.metadata.controller_id if cluster.metadata.controller_id >= 0 else None,
                                     ApiKey.CREATE_TOPICS, body)
        code = resp["topics"][0]["error_code"]
        if code and code != TopicExistsError.errno:
            raise_for_code(code, resp["topics"][0].get("error_message"))
        await cluster.wait_for_topic(name, 30000)
        # wait until every partition has a leader
        for _ in range(100):
            md = await cluster.refresh_metadata([name])
            if len(md.available_partitions_for(name)) == partitions:
                break
    finally:
        await cluster.close()
    return name


_NOT_YET_LEADER = frozenset({ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.LEADER_NOT_AVAILABLE,
                             ErrorCode.UNKNOWN_TOPIC_OR_PARTITION})


async def read_partition(bootstrap: str, topic: str, partition: int, *, want: int = 0) -> list[ReadRecord]:
    """Every record of ``topic``-``partition`` (up to the high watermark, and at least ``want``
    records: a producer with acks=0 learns nothing of the append), with its batch's header."""
    cluster = await _cluster(bootstrap)
    out: list[ReadRecord] = []
    try:
        await cluster.wait_for_topic(topic, 30000)
        offset = 0
        for _ in range(10000):
            leader = cluster.leader_for(topic, partition)
            body: dict[str, Any] = {
                "max_wait_ms": 50, "min_bytes": 1, "max_bytes": 64 << 20, "isolation_level": 0,
                "topics": [{"topic": topic, "partitions": [
                    {"partition": partition, "fetch_offset": offset, "partition_max_bytes": 32 << 20}]}],
            }
            resp = await cluster.request(leader, ApiKey.FETCH, body, version=FETCH_BY_NAME)
            p = resp["responses"][0]["partitions"][0]
            if p["error_code"] in _NOT_YET_LEADER:
                # a topic just created: the leader named by the metadata may not have taken the
                # partition on yet; ask again, as a consumer would
                await asyncio.sleep(0.05)
                await cluster.refresh_metadata([topic])
                continue
            raise_for_code(p["error_code"])
            hw = p["high_watermark"]
            for batch in read_batches(bytes(p["records"] or b"")):
                if batch.is_control:
                    offset = batch.next_offset
                    continue
                for r in batch.records(topic, partition):
                    if r.offset >= offset:
                        out.append(ReadRecord(r.offset, r.key, r.value, list(r.headers), r.timestamp,
                                              r.timestamp_type, batch.producer_id, batch.producer_epoch,
                                              batch.base_sequence, batch.compression))
                offset = batch.next_offset
            if offset >= hw and len(out) >= want:
                break
    finally:
        await cluster.close()
    return out


async def read_topic(bootstrap: str, topic: str, partitions: int) -> dict[int, list[ReadRecord]]:
    return {p: await read_partition(bootstrap, topic, p) for p in range(partitions)}
