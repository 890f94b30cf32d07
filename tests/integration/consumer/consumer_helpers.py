"""Test helpers for the consumer's integration tests: make topics and write records with raw
requests (CreateTopics, Produce) over kafkaio.cluster, so these tests depend only on the layers
below the consumer, not on the producer."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

from kafkaio.cluster import Cluster
from kafkaio.config import ProducerConfig
from kafkaio.errors import ErrorCode
from kafkaio.protocol import ApiKey
from kafkaio.records import BatchBuilder, Compression

PRODUCE_BY_NAME = 11  # raw Produce requests here name their topic: v11 is on every broker from 3.9 (v13+ names topics by id)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class RawProducer:
    """Writes record batches straight to partition leaders (acks=all)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.cluster = Cluster(ProducerConfig.from_kwargs(bootstrap_servers=bootstrap_servers))

    async def __aenter__(self) -> "RawProducer":
        await self.cluster.bootstrap()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cluster.close()

    async def create_topic(self, name: str, partitions: int = 1, configs: dict[str, str] | None = None) -> None:
        node = self.cluster.metadata.controller_id
        if node is None or node < 0:
            node = None
        body = {"topics": [{"name": name, "num_partitions": partitions, "replication_factor": 1,
                            "assignments": [], "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()]}],
                "timeout_ms": 30000, "validate_only": False}
        resp = await self.cluster.request(node, ApiKey.CREATE_TOPICS, body)
        code = resp["topics"][0]["error_code"]
        assert code in (0, 36), resp
        for _ in range(100):
            parts = await self.cluster.wait_for_topic(name, 30000)
            if len(parts) == partitions and all(
                    self.cluster.leader_for(name, p) is not None for p in parts):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"topic {name} not ready")

    async def send_batch(self, topic: str, partition: int, values: list[bytes], keys: list[bytes | None] | None = None,
                         compression: int = Compression.NONE, headers: list[Any] | None = None,
                         timestamp_ms: int | None = None) -> int:
        """One batch; returns its base offset."""
        import time
        b = BatchBuilder(compression=compression, batch_size=1 << 30)
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        for i, v in enumerate(values):
            assert b.append(ts, None if keys is None else keys[i], v, headers or []) >= 0
        data = b.build()
        for attempt in range(50):
            leader = self.cluster.leader_for(topic, partition)
            if leader is None:
                await self.cluster.refresh_metadata([topic])
                await asyncio.sleep(0.1)
                continue
            resp = await self.cluster.request(leader, ApiKey.PRODUCE, {
                "transactional_id": None, "acks": -1, "timeout_ms": 30000,
                "topic_data": [{"name": topic, "partition_data": [{"index": partition, "records": data}]}]},
                purpose="produce", version=PRODUCE_BY_NAME)
            pr = resp["responses"][0]["partition_responses"][0]
            if pr["error_code"] == 0:
                return pr["base_offset"]
            await self.cluster.refresh_metadata([topic])
            await asyncio.sleep(0.1)
        raise AssertionError(f"produce to {topic}-{partition} failed: {pr}")

    async def send_numbered(self, topic: str, partitions: int, count: int, start: int = 0,
                            per_batch: int = 100) -> None:
        """Values b"<n>" for n in [start, start+count), spread round-robin in batches."""
        per_part: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
        for n in range(start, start + count):
            per_part[n % partitions].append(str(n).encode())
        sends = []
        for p, vals in per_part.items():
            for i in range(0, len(vals), per_batch):
                sends.append((p, vals[i:i + per_batch]))
        for p, vals in sends:
            await self.send_batch(topic, p, vals)


class RawTransaction:
    """A transactional producer made of raw requests, for read_committed tests."""

    def __init__(self, raw: RawProducer, transactional_id: str) -> None:
        self.raw = raw
        self.cluster = raw.cluster
        self.txn_id = transactional_id
        self.pid = -1
        self.epoch = -1
        self.seq: dict[tuple[str, int], int] = {}
        self.coordinator: int | None = None

    async def _txn_request(self, api: int, body: dict[str, Any], ok=(0,)) -> dict[str, Any]:
        for _ in range(100):
            if self.coordinator is None:
                self.coordinator = await self.cluster.find_coordinator(self.txn_id, 1)
            resp = await self.cluster.request(self.coordinator, api, body)
            code = resp.get("error_code", 0)
            if api == ApiKey.ADD_PARTITIONS_TO_TXN:
                code = max((p["partition_error_code"] for t in resp["results_by_topic_v3_and_below"]
                            for p in t["results_by_partition"]), default=0)
            if code in ok:
                return resp
            if code in (15, 16):   # coordinator moved / not available
                self.coordinator = None
            await asyncio.sleep(0.1)   # 14 load in progress, 51 concurrent transactions, ...
        raise AssertionError(f"{api}: error {code}")

    async def init(self) -> None:
        resp = await self._txn_request(ApiKey.INIT_PRODUCER_ID, {
            "transactional_id": self.txn_id, "transaction_timeout_ms": 60000})
        self.pid, self.epoch = resp["producer_id"], resp["producer_epoch"]

    async def send(self, topic: str, partition: int, values: list[bytes]) -> None:
        await self._txn_request(ApiKey.ADD_PARTITIONS_TO_TXN, {
            "v3_and_below_transactional_id": self.txn_id, "v3_and_below_producer_id": self.pid,
            "v3_and_below_producer_epoch": self.epoch,
            "v3_and_below_topics": [{"name": topic, "partitions": [partition]}]})
        b = BatchBuilder(batch_size=1 << 30, transactional=True)
        for v in values:
            b.append(int(__import__("time").time() * 1000), None, v, [])
        seq = self.seq.get((topic, partition), 0)
        data = b.build(producer_id=self.pid, producer_epoch=self.epoch, base_sequence=seq)
        self.seq[(topic, partition)] = seq + len(values)
        for _ in range(50):
            leader = self.cluster.leader_for(topic, partition)
            resp = await self.cluster.request(leader, ApiKey.PRODUCE, {
                "transactional_id": self.txn_id, "acks": -1, "timeout_ms": 30000,
                "topic_data": [{"name": topic, "partition_data": [{"index": partition, "records": data}]}]},
                purpose="produce", version=PRODUCE_BY_NAME)
            pr = resp["responses"][0]["partition_responses"][0]
            # a new partition whose leader does not serve yet: nothing was written, the same batch
            # (same sequence) goes again
            if pr["error_code"] != ErrorCode.NOT_LEADER_OR_FOLLOWER:
                break
            await self.cluster.refresh_metadata([topic])
            await asyncio.sleep(0.1)
        assert pr["error_code"] == 0, pr

    async def end(self, commit: bool) -> None:
        resp = await self._txn_request(ApiKey.END_TXN, {
            "transactional_id": self.txn_id, "producer_id": self.pid, "producer_epoch": self.epoch,
            "committed": commit})
        # Transactions v2 (KIP-890) bump the epoch at every end; the response carries the new one.
        if resp.get("producer_id", -1) >= 0:
            if (resp["producer_id"], resp["producer_epoch"]) != (self.pid, self.epoch):
                self.seq.clear()
            self.pid, self.epoch = resp["producer_id"], resp["producer_epoch"]
