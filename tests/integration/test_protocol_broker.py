"""The wire protocol against a real broker over a raw asyncio socket (no kafkaio.conn): every
ApiVersions version, Metadata, CreateTopics + Produce + Fetch round trips, and a request of each
other API at its lowest and highest common version, to prove our schemas match the broker's."""
from __future__ import annotations

import asyncio
import os
import struct
import uuid
from typing import Any, AsyncIterator

import pytest

from kafkaio.errors import ErrorCode
from kafkaio.protocol import (
    ApiKey,
    client_versions,
    decode_response,
    encode_request,
    negotiate_version,
    peek_correlation_id,
)
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.testing.capabilities import BrokerCapabilities

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker_address(request: pytest.FixtureRequest) -> tuple[str, int]:
    servers = os.environ.get("KAFKAIO_BOOTSTRAP")
    if not servers:
        try:
            servers = request.getfixturevalue("bootstrap_servers")
        except pytest.FixtureLookupError:
            pytest.skip("no broker: set KAFKAIO_BOOTSTRAP or load kafkaio.testing.suite")
    host, _, port = servers.split(",")[0].rpartition(":")
    return host, int(port)


class RawClient:
    """Just enough framing for these tests: one request at a time, correlation ids checked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.correlation_id = 0
        self.versions: dict[int, tuple[int, int]] = {}

    async def call(self, api: int, version: int, body: dict[str, Any]) -> dict[str, Any]:
        self.correlation_id += 1
        self.writer.write(encode_request(api, version, self.correlation_id, "kafkaio-protocol-test", body))
        await self.writer.drain()
        payload = await self.read_frame()
        assert peek_correlation_id(payload) == self.correlation_id
        return decode_response(api, version, payload)

    async def read_frame(self) -> bytes:
        (size,) = struct.unpack(">i", await asyncio.wait_for(self.reader.readexactly(4), 30))
        return await asyncio.wait_for(self.reader.readexactly(size), 30)

    def version(self, api: int, highest: bool = True) -> int:
        bmin, bmax = self.versions[api]
        best = negotiate_version(api, bmin, bmax)
        return best if highest else max(bmin, client_versions(api)[0])


@pytest.fixture
async def client(broker_address: tuple[str, int]) -> AsyncIterator[RawClient]:
    reader, writer = await asyncio.open_connection(*broker_address)
    c = RawClient(reader, writer)
    resp = await c.call(ApiKey.API_VERSIONS, 3, {"client_software_name": "kafkaio",
                                                  "client_software_version": "test"})
    assert resp["error_code"] == 0
    c.versions = {k["api_key"]: (k["min_version"], k["max_version"]) for k in resp["api_keys"]}
    try:
        yield c
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("version", range(client_versions(ApiKey.API_VERSIONS)[0],
                                          client_versions(ApiKey.API_VERSIONS)[1] + 1))
async def test_api_versions_every_version(client: RawClient, version: int) -> None:
    resp = await client.call(ApiKey.API_VERSIONS, version, {"client_software_name": "kafkaio",
                                                            "client_software_version": "0.1.0"})
    keys = {k["api_key"] for k in resp["api_keys"]}
    theirs = {k["api_key"]: k["max_version"] for k in resp["api_keys"]}[ApiKey.API_VERSIONS]
    if version > theirs:
        # a version newer than the broker's (v5: Kafka 4.4): refused, with its ApiVersions range only
        assert resp["error_code"] == ErrorCode.UNSUPPORTED_VERSION and keys == {ApiKey.API_VERSIONS}
        return
    assert resp["error_code"] == 0
    assert {ApiKey.PRODUCE, ApiKey.FETCH, ApiKey.METADATA} <= keys
    if version >= 3:
        assert any(f["name"] == "metadata.version" for f in resp["finalized_features"])


# KIP-714's APIs: a broker lists them only when a client-telemetry receiver is configured
# (tests/integration/telemetry runs one, and the client's pushes reach it there)
RECEIVER_ONLY = frozenset({ApiKey.GET_TELEMETRY_SUBSCRIPTIONS, ApiKey.PUSH_TELEMETRY})


# APIs of a feature (KIP-584 feature flag) that a release may not have yet: a broker whose release
# does not know the feature (share.version: Kafka 4.1+) does not list them either
FEATURE_APIS = {
    "share.version": frozenset({ApiKey.SHARE_GROUP_HEARTBEAT, ApiKey.SHARE_GROUP_DESCRIBE, ApiKey.SHARE_FETCH,
                                ApiKey.SHARE_ACKNOWLEDGE, ApiKey.DESCRIBE_SHARE_GROUP_OFFSETS,
                                ApiKey.ALTER_SHARE_GROUP_OFFSETS, ApiKey.DELETE_SHARE_GROUP_OFFSETS}),
}


async def test_every_api_we_speak_has_a_common_version_with_the_broker(client: RawClient) -> None:
    # v4: a Kafka 4 broker lists features whose lowest level is 0 (share.version) only from v4 on
    caps = BrokerCapabilities.from_api_versions(await client.call(ApiKey.API_VERSIONS, 4, {
        "client_software_name": "kafkaio", "client_software_version": "test"}))
    unknown = frozenset().union(*(apis for feature, apis in FEATURE_APIS.items() if not caps.knows(feature)))
    for api in ApiKey:
        if api in RECEIVER_ONLY and api not in client.versions:
            continue
        if api in unknown:
            assert api not in client.versions, f"{api.name} listed by a broker without its feature"
            continue
        assert api in client.versions, f"broker does not list {api.name}"
        negotiate_version(api, *client.versions[api])  # raises UnsupportedVersionError if none


async def test_api_versions_too_new_is_answered_in_v0(client: RawClient) -> None:
    frame = bytearray(encode_request(ApiKey.API_VERSIONS, 3, 77, "kafkaio", {}))
    struct.pack_into(">h", frame, 6, 999)  # a version no broker speaks
    client.writer.write(frame)
    await client.writer.drain()
    payload = await client.read_frame()
    resp = decode_response(ApiKey.API_VERSIONS, 4, payload)
    assert resp["error_code"] == 35 and any(k["api_key"] == ApiKey.API_VERSIONS for k in resp["api_keys"])


@pytest.mark.parametrize("highest", [False, True])
async def test_metadata(client: RawClient, highest: bool) -> None:
    v = client.version(ApiKey.METADATA, highest)
    resp = await client.call(ApiKey.METADATA, v, {"topics": None, "allow_auto_topic_creation": False})
    assert resp["brokers"] and all(b["port"] > 0 for b in resp["brokers"])
    assert resp["cluster_id"]


def _build_batch(values: list[bytes]) -> bytes:
    from kafkaio.records import BatchBuilder, Compression

    b = BatchBuilder(compression=Compression.NONE, batch_size=1 << 20, compression_level=None,
                     transactional=False, magic=2)
    for i, v in enumerate(values):
        assert b.append(1_700_000_000_000 + i, b"k%d" % i, v, [("h", b"1")]) == i
    return bytes(b.build(producer_id=-1, producer_epoch=-1, base_sequence=-1))


async def _create_topic(client: RawClient, partitions: int = 1) -> str:
    name = f"proto-{uuid.uuid4().hex[:12]}"
    v = client.version(ApiKey.CREATE_TOPICS)
    resp = await client.call(ApiKey.CREATE_TOPICS, v, {
        "topics": [{"name": name, "num_partitions": partitions, "replication_factor": 1,
                    "configs": [{"name": "retention.ms", "value": "600000"}]}],
        "timeout_ms": 30000})
    topic = resp["topics"][0]
    assert topic["error_code"] == 0, topic
    if v >= 5:
        assert topic["num_partitions"] == partitions
    # Wait until this broker knows the leader (metadata propagates asynchronously).
    for _ in range(100):
        meta = await client.call(ApiKey.METADATA, client.version(ApiKey.METADATA),
                                 {"topics": [{"name": name}], "allow_auto_topic_creation": False})
        parts = meta["topics"][0]["partitions"]
        if meta["topics"][0]["error_code"] == 0 and len(parts) == partitions and all(p["leader_id"] >= 0 for p in parts):
            return name
        await asyncio.sleep(0.1)
    raise AssertionError(f"topic {name} has no leader")


async def _delete_topic(client: RawClient, name: str) -> None:
    v = client.version(ApiKey.DELETE_TOPICS)
    body = {"topic_names": [name], "topics": [{"name": name}], "timeout_ms": 30000}
    resp = await client.call(ApiKey.DELETE_TOPICS, v, body)
    assert resp["responses"][0]["error_code"] == 0


@pytest.mark.parametrize("produce_highest, fetch_highest", [(False, False), (True, True)])
async def test_create_produce_fetch_round_trip(client: RawClient, produce_highest: bool,
                                               fetch_highest: bool) -> None:
    from kafkaio.records import read_batches

    topic = await _create_topic(client)
    try:
        values = [b"value-%d" % i for i in range(5)]
        meta = await client.call(ApiKey.METADATA, client.version(ApiKey.METADATA),
                                 {"topics": [{"name": topic}], "allow_auto_topic_creation": False})
        topic_id = meta["topics"][0]["topic_id"]   # Produce 13 and Fetch 13+ name the topic by id
        pv = client.version(ApiKey.PRODUCE, produce_highest)
        # The metadata can name the leader a moment before the broker acts as one for the new
        # partition: NOT_LEADER_OR_FOLLOWER then, which a client retries (nothing was written).
        for _ in range(50):
            resp = await client.call(ApiKey.PRODUCE, pv, {
                "acks": -1, "timeout_ms": 30000,
                "topic_data": [{"name": topic, "topic_id": topic_id,
                                "partition_data": [{"index": 0, "records": _build_batch(values)}]}]})
            part = resp["responses"][0]["partition_responses"][0]
            if part["error_code"] != ErrorCode.NOT_LEADER_OR_FOLLOWER:
                break
            await asyncio.sleep(0.1)
        # 13+ name the topic by id only; before, by name only (the other field at its default)
        named = resp["responses"][0]
        assert (named["name"], named["topic_id"]) == (("", topic_id) if pv >= 13 else (topic, ZERO_UUID))
        assert part["error_code"] == 0 and part["base_offset"] == 0

        fv = client.version(ApiKey.FETCH, fetch_highest)
        resp = await client.call(ApiKey.FETCH, fv, {
            "max_wait_ms": 500, "min_bytes": 1, "max_bytes": 1 << 20, "isolation_level": 0,
            "topics": [{"topic": topic, "topic_id": topic_id, "partitions": [
                {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]})
        assert resp["error_code"] == 0  # top-level error code exists from v7
        assert resp["responses"][0]["topic_id"] == (topic_id if fv >= 13 else ZERO_UUID)
        fpart = resp["responses"][0]["partitions"][0]
        assert fpart["error_code"] == 0 and fpart["high_watermark"] == 5
        got = [r for batch in read_batches(fpart["records"]) for r in batch.records(topic, 0)]
        assert [r.value for r in got] == values
        assert [r.offset for r in got] == list(range(5))
        assert got[2].key == b"k2" and list(got[2].headers) == [("h", b"1")]

        lv = client.version(ApiKey.LIST_OFFSETS)
        resp = await client.call(ApiKey.LIST_OFFSETS, lv, {"replica_id": -1, "topics": [
            {"name": topic, "partitions": [{"partition_index": 0, "timestamp": -1}]}]})
        assert resp["topics"][0]["partitions"][0]["offset"] == 5
    finally:
        await _delete_topic(client, topic)


async def test_produce_unknown_topic_error_is_decoded(client: RawClient) -> None:
    pv = client.version(ApiKey.PRODUCE)
    resp = await client.call(ApiKey.PRODUCE, pv, {
        "acks": 1, "timeout_ms": 5000,
        "topic_data": [{"name": f"missing-{uuid.uuid4().hex}", "topic_id": uuid.uuid4(), "partition_data": [
            {"index": 0, "records": _build_batch([b"x"])}]}]})
    # an unknown name is UNKNOWN_TOPIC_OR_PARTITION, an unknown id (v13+) UNKNOWN_TOPIC_ID
    expected = ErrorCode.UNKNOWN_TOPIC_ID if pv >= 13 else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert resp["responses"][0]["partition_responses"][0]["error_code"] == expected


GROUP = f"proto-group-{uuid.uuid4().hex[:8]}"

# One simple, valid request per remaining API. The broker's answer may carry an error code (no such
# group, not authorised ...): what this checks is that both sides agree on every byte of the frame.
SMOKE: list[tuple[ApiKey, dict[str, Any]]] = [
    (ApiKey.FIND_COORDINATOR, {"key": GROUP, "key_type": 0, "coordinator_keys": [GROUP]}),
    (ApiKey.DESCRIBE_CLUSTER, {}),
    (ApiKey.LIST_GROUPS, {}),
    (ApiKey.DESCRIBE_GROUPS, {"groups": [GROUP]}),
    (ApiKey.OFFSET_FETCH, {"group_id": GROUP, "topics": [{"name": "t", "partition_indexes": [0]}],
                           "groups": [{"group_id": GROUP, "topics": None}]}),
    (ApiKey.INIT_PRODUCER_ID, {"transactional_id": None, "transaction_timeout_ms": -1}),
    (ApiKey.DESCRIBE_CONFIGS, {"resources": [{"resource_type": 4, "resource_name": "1",
                                              "configuration_keys": None}]}),
    (ApiKey.HEARTBEAT, {"group_id": GROUP, "generation_id": 1, "member_id": "m"}),
    (ApiKey.LEAVE_GROUP, {"group_id": GROUP, "member_id": "m", "members": [{"member_id": "m"}]}),
    (ApiKey.DELETE_GROUPS, {"groups_names": [GROUP]}),
    (ApiKey.SYNC_GROUP, {"group_id": GROUP, "generation_id": 1, "member_id": "m",
                         "protocol_type": "consumer", "protocol_name": "range"}),
    (ApiKey.OFFSET_COMMIT, {"group_id": GROUP, "generation_id_or_member_epoch": -1, "member_id": "",
                            "topics": []}),
    (ApiKey.CONSUMER_GROUP_DESCRIBE, {"group_ids": [GROUP]}),
    (ApiKey.ADD_OFFSETS_TO_TXN, {"transactional_id": "t", "producer_id": 1, "producer_epoch": 0,
                                 "group_id": GROUP}),
    (ApiKey.END_TXN, {"transactional_id": "t", "producer_id": 1, "producer_epoch": 0, "committed": False}),
    (ApiKey.DESCRIBE_PRODUCERS, {"topics": []}),
    (ApiKey.TXN_OFFSET_COMMIT, {"transactional_id": "t", "group_id": GROUP, "producer_id": 1,
                                "producer_epoch": 0, "topics": []}),
    (ApiKey.ADD_PARTITIONS_TO_TXN, {"v3_and_below_transactional_id": "t", "v3_and_below_producer_id": 1,
                                    "v3_and_below_producer_epoch": 0, "v3_and_below_topics": []}),
    (ApiKey.JOIN_GROUP, {"group_id": GROUP, "session_timeout_ms": 1, "member_id": "",
                         "protocol_type": "consumer", "protocols": [{"name": "range", "metadata": b""}]}),
    (ApiKey.CONSUMER_GROUP_HEARTBEAT, {"group_id": GROUP + "-kip848", "member_id": "unknown-member",
                                       "member_epoch": 5}),
    (ApiKey.OFFSET_DELETE, {"group_id": GROUP, "topics": []}),
    (ApiKey.ALTER_CONFIGS, {"resources": [], "validate_only": True}),
    (ApiKey.DESCRIBE_CLIENT_QUOTAS, {"components": [{"entity_type": "client-id", "match_type": 2,
                                                     "match": None}], "strict": False}),
    (ApiKey.ALTER_CLIENT_QUOTAS, {"entries": [{"entity": [{"entity_type": "client-id",
                                                           "entity_name": "proto-smoke"}],
                                               "ops": [{"key": "producer_byte_rate", "value": 1e6,
                                                        "remove": False}]}],
                                  "validate_only": True}),
]


@pytest.mark.parametrize("api, body", SMOKE, ids=[a.name for a, _ in SMOKE])
@pytest.mark.parametrize("highest", [False, True], ids=["lowest", "highest"])
async def test_other_apis_decode(client: RawClient, api: ApiKey, body: dict[str, Any], highest: bool) -> None:
    v = client.version(api, highest)
    resp = await client.call(api, v, body)
    assert isinstance(resp, dict) and resp


async def test_admin_apis_on_a_topic(client: RawClient) -> None:
    topic = await _create_topic(client)
    try:
        v = client.version(ApiKey.CREATE_PARTITIONS)
        resp = await client.call(ApiKey.CREATE_PARTITIONS, v, {
            "topics": [{"name": topic, "count": 2, "assignments": None}], "timeout_ms": 30000})
        assert resp["results"][0]["error_code"] == 0
        v = client.version(ApiKey.DESCRIBE_CONFIGS)
        resp = await client.call(ApiKey.DESCRIBE_CONFIGS, v, {"resources": [
            {"resource_type": 2, "resource_name": topic, "configuration_keys": ["retention.ms"]}]})
        configs = resp["results"][0]["configs"]
        assert [(c["name"], c["value"]) for c in configs] == [("retention.ms", "600000")]
        v = client.version(ApiKey.INCREMENTAL_ALTER_CONFIGS)
        resp = await client.call(ApiKey.INCREMENTAL_ALTER_CONFIGS, v, {"resources": [
            {"resource_type": 2, "resource_name": topic,
             "configs": [{"name": "retention.ms", "config_operation": 0, "value": "700000"}]}]})
        assert resp["responses"][0]["error_code"] == 0
        v = client.version(ApiKey.DELETE_RECORDS)
        resp = await client.call(ApiKey.DELETE_RECORDS, v, {"topics": [
            {"name": topic, "partitions": [{"partition_index": 0, "offset": 0}]}], "timeout_ms": 30000})
        assert resp["topics"][0]["partitions"][0]["error_code"] == 0
        v = client.version(ApiKey.OFFSET_FOR_LEADER_EPOCH)
        resp = await client.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, v, {"replica_id": -1, "topics": [
            {"topic": topic, "partitions": [{"partition": 0, "leader_epoch": 0}]}]})
        assert resp["topics"][0]["partitions"][0]["error_code"] == 0
    finally:
        await _delete_topic(client, topic)
