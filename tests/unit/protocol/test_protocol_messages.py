"""Whole messages: golden bytes computed by hand from the protocol guide, header selection,
round trips of every (api, version), malformed frames, and version negotiation."""
from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from kafkaio.errors import KafkaProtocolError, UnsupportedVersionError
from kafkaio.protocol import (
    ApiKey,
    client_versions,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    negotiate_version,
    peek_correlation_id,
    request_header_version,
    response_header_version,
)
from kafkaio.protocol.api import api_schema


def _h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


ALL_VERSIONS = [(k, v) for k in ApiKey for v in range(client_versions(k)[0], client_versions(k)[1] + 1)]


def test_api_versions_v3_request_golden() -> None:
    frame = encode_request(ApiKey.API_VERSIONS, 3, 1, "kafkaio",
                           {"client_software_name": "kafkaio", "client_software_version": "0.1"})
    expected = _h(
        "0000001f"            # size
        "0012 0003 00000001"  # api key 18, version 3, correlation id 1
        "0007 6b61666b61696f"  # client id: classic string even in header v2
        "00"                  # header tagged fields
        "08 6b61666b61696f"   # compact string: length + 1
        "04 302e31"
        "00")                 # body tagged fields
    assert bytes(frame) == expected


def test_metadata_v12_request_golden() -> None:
    frame = encode_request(ApiKey.METADATA, 12, 42, "cli", {
        "topics": [{"name": "foo"}], "include_topic_authorized_operations": False})
    expected = _h(
        "00000027"
        "0003 000c 0000002a 0003 636c69 00"
        "02"                                 # compact array of 1
        "00000000000000000000000000000000"   # topic_id: zero uuid by default
        "04 666f6f 00"                       # name, struct tagged fields
        "01"                                 # allow_auto_topic_creation defaults to true
        "00"                                 # include_topic_authorized_operations
        "00")
    assert bytes(frame) == expected


def test_produce_v3_request_golden_non_flexible() -> None:
    frame = encode_request(ApiKey.PRODUCE, 3, 1, None, {
        "acks": -1, "timeout_ms": 30000,
        "topic_data": [{"name": "t", "partition_data": [{"index": 0, "records": b"abc"}]}]})
    expected = _h(
        "00000028"  # 10 header + 30 body
        "0000 0003 00000001 ffff"   # header v1, null client id
        "ffff"                      # transactional_id: null by default
        "ffff 00007530"             # acks, timeout
        "00000001 0001 74"          # one topic "t"
        "00000001 00000000 00000003 616263")
    assert bytes(frame) == expected
    assert len(frame) - 4 == struct.unpack(">i", bytes(frame[:4]))[0]


@pytest.mark.parametrize("api, version, req, resp", [
    (ApiKey.API_VERSIONS, 0, 1, 0), (ApiKey.API_VERSIONS, 3, 2, 0), (ApiKey.API_VERSIONS, 4, 2, 0),
    (ApiKey.METADATA, 8, 1, 0), (ApiKey.METADATA, 9, 2, 1), (ApiKey.PRODUCE, 8, 1, 0),
    (ApiKey.PRODUCE, 9, 2, 1), (ApiKey.FETCH, 11, 1, 0), (ApiKey.FETCH, 12, 2, 1),
    (ApiKey.SASL_HANDSHAKE, 1, 1, 0), (ApiKey.DESCRIBE_CLUSTER, 0, 2, 1),
])
def test_header_versions(api: ApiKey, version: int, req: int, resp: int) -> None:
    assert request_header_version(api, version) == req
    assert response_header_version(api, version) == resp


def test_flexible_response_header_has_tagged_fields_but_api_versions_does_not() -> None:
    meta = encode_response(ApiKey.METADATA, 12, 5, {})
    assert bytes(meta[4:9]) == _h("00000005 00")
    av = encode_response(ApiKey.API_VERSIONS, 3, 5, {})
    assert bytes(av[4:10]) == _h("00000005 0000")  # correlation id, then error_code directly


@pytest.mark.parametrize("api, version", ALL_VERSIONS)
def test_every_version_round_trips_with_defaults(api: ApiKey, version: int) -> None:
    frame = encode_request(api, version, 99, "c", {})
    assert decode_request(bytes(frame[4:]))[:4] == (api, version, 99, "c")
    frame = encode_response(api, version, 7, {})
    body = decode_response(api, version, bytes(frame[4:]))
    assert encode_response(api, version, 7, body) == frame


def test_fetch_v12_response_records_are_views() -> None:
    body = {"responses": [{"topic": "t", "partitions": [{
        "partition_index": 3, "high_watermark": 10, "records": b"RECORDS",
        "current_leader": {"leader_id": 2, "leader_epoch": 5}}]}]}
    frame = encode_response(ApiKey.FETCH, 12, 1, body)
    got = decode_response(ApiKey.FETCH, 12, bytes(frame[4:]))
    part = got["responses"][0]["partitions"][0]
    assert isinstance(part["records"], memoryview) and bytes(part["records"]) == b"RECORDS"
    assert part["current_leader"] == {"leader_id": 2, "leader_epoch": 5}
    assert part["diverging_epoch"] == {"epoch": -1, "end_offset": -1}  # absent tag -> default
    assert part["aborted_transactions"] == [] and part["last_stable_offset"] == -1


def test_produce_v13_names_topics_by_id() -> None:
    tid = uuid.uuid4()
    req = {"acks": -1, "timeout_ms": 100, "topic_data": [
        {"name": "ignored", "topic_id": tid, "partition_data": [{"index": 2, "records": b"R"}]}]}
    _, _, _, _, got = decode_request(bytes(encode_request(ApiKey.PRODUCE, 13, 1, "c", req)[4:]))
    assert got["topic_data"][0]["topic_id"] == tid and got["topic_data"][0]["name"] == ""
    frame = encode_response(ApiKey.PRODUCE, 13, 1, {"responses": [
        {"topic_id": tid, "partition_responses": [{"index": 2, "error_code": 0, "base_offset": 5}]}]})
    resp = decode_response(ApiKey.PRODUCE, 13, bytes(frame[4:]))
    assert resp["responses"][0]["topic_id"] == tid and resp["responses"][0]["name"] == ""
    assert resp["responses"][0]["partition_responses"][0]["base_offset"] == 5


@pytest.mark.parametrize("version", [13, 15, 18])
def test_fetch_by_topic_id_round_trip(version: int) -> None:
    tid, old = uuid.uuid4(), uuid.uuid4()
    req = {"max_wait_ms": 500, "min_bytes": 1, "session_id": 3, "session_epoch": 2,
           "topics": [{"topic": "ignored", "topic_id": tid, "partitions": [{
               "partition": 1, "fetch_offset": 9, "partition_max_bytes": 100}]}],
           "forgotten_topics_data": [{"topic_id": old, "partitions": [1]}]}
    _, got_version, _, _, got = decode_request(bytes(encode_request(ApiKey.FETCH, version, 1, "c", req)[4:]))
    assert got_version == version and got["topics"][0]["topic"] == ""
    assert got["topics"][0]["topic_id"] == tid and got["forgotten_topics_data"][0]["topic_id"] == old
    assert got.get("replica_id", got.get("replica_state", {}).get("replica_id")) == -1
    body = {"responses": [{"topic_id": tid, "partitions": [{
        "partition_index": 1, "high_watermark": 10, "records": b"RECORDS"}]}]}
    frame = encode_response(ApiKey.FETCH, version, 1, body)
    resp = decode_response(ApiKey.FETCH, version, bytes(frame[4:]))
    assert resp["responses"][0]["topic_id"] == tid and resp["responses"][0]["topic"] == ""
    part = resp["responses"][0]["partitions"][0]
    assert isinstance(part["records"], memoryview) and bytes(part["records"]) == b"RECORDS"


def test_metadata_response_round_trip_with_uuid_and_nulls() -> None:
    tid = uuid.uuid4()
    body = {"brokers": [{"node_id": 1, "host": "h", "port": 9092, "rack": None}],
            "cluster_id": "abc", "controller_id": 1,
            "topics": [{"error_code": 0, "name": "t", "topic_id": tid, "is_internal": False,
                        "partitions": [{"partition_index": 0, "leader_id": 1, "leader_epoch": 0,
                                        "replica_nodes": [1], "isr_nodes": [1], "offline_replicas": []}]}]}
    for v in (4, 9, 12):
        got = decode_response(ApiKey.METADATA, v, bytes(encode_response(ApiKey.METADATA, v, 1, body)[4:]))
        assert got["brokers"] == body["brokers"]
        assert got["topics"][0]["partitions"][0]["replica_nodes"] == [1]
        if v >= 10:
            assert got["topics"][0]["topic_id"] == tid


def test_api_versions_unsupported_version_answer_is_read_as_v0() -> None:
    # A broker that does not speak the requested version answers in v0 with error 35.
    v0 = encode_response(ApiKey.API_VERSIONS, 0, 1, {
        "error_code": 35, "api_keys": [{"api_key": 18, "min_version": 0, "max_version": 2}]})
    got = decode_response(ApiKey.API_VERSIONS, 4, bytes(v0[4:]))
    assert got["error_code"] == 35 and got["api_keys"][0]["max_version"] == 2


def test_unknown_tagged_fields_are_kept_and_re_encoded() -> None:
    frame = bytearray(encode_response(ApiKey.DESCRIBE_CLUSTER, 0, 1, {}))
    # Replace the final empty tagged-field buffer with one unknown tag 9 carrying b"zz".
    assert frame[-1] == 0
    frame[-1:] = b"\x01\x09\x02zz"
    struct.pack_into(">i", frame, 0, len(frame) - 4)
    got = decode_response(ApiKey.DESCRIBE_CLUSTER, 0, bytes(frame[4:]))
    assert got["_unknown_tagged_fields"] == {9: b"zz"}
    assert encode_response(ApiKey.DESCRIBE_CLUSTER, 0, 1, got) == frame


def test_tagged_fields_out_of_order_or_oversized_are_rejected() -> None:
    base = bytes(encode_response(ApiKey.DESCRIBE_CLUSTER, 0, 1, {})[4:-1])
    with pytest.raises(KafkaProtocolError):
        decode_response(ApiKey.DESCRIBE_CLUSTER, 0, base + b"\x02\x09\x00\x08\x00")
    with pytest.raises(KafkaProtocolError):
        decode_response(ApiKey.DESCRIBE_CLUSTER, 0, base + b"\x01\x09\x7f")


def test_known_tagged_field_written_only_when_not_default() -> None:
    plain = encode_response(ApiKey.PRODUCE, 10, 1, {"responses": []})
    tagged = encode_response(ApiKey.PRODUCE, 10, 1, {"responses": [], "node_endpoints": [
        {"node_id": 1, "host": "h", "port": 1}]})
    assert len(tagged) > len(plain)
    got = decode_response(ApiKey.PRODUCE, 10, bytes(tagged[4:]))
    assert got["node_endpoints"] == [{"node_id": 1, "host": "h", "port": 1, "rack": None}]


def test_trailing_bytes_are_rejected() -> None:
    frame = bytes(encode_response(ApiKey.HEARTBEAT, 3, 1, {}))
    with pytest.raises(KafkaProtocolError, match="unexpected bytes"):
        decode_response(ApiKey.HEARTBEAT, 3, frame[4:] + b"\x00")


def _sample_frames() -> list[tuple[ApiKey, int, bytes]]:
    fetch = encode_response(ApiKey.FETCH, 12, 1, {"responses": [{"topic": "t", "partitions": [
        {"partition_index": 0, "records": b"x" * 20, "aborted_transactions": [{"producer_id": 1}]}]}]})
    meta = encode_response(ApiKey.METADATA, 12, 1, {"brokers": [{"node_id": 1, "host": "h", "port": 1}],
                                                    "topics": [{"name": "t", "partitions": [{}]}]})
    produce = encode_response(ApiKey.PRODUCE, 8, 1, {"responses": [{"name": "t", "partition_responses": [
        {"index": 0, "record_errors": [{"batch_index": 0, "batch_index_error_message": "m"}]}]}]})
    return [(ApiKey.FETCH, 12, bytes(fetch[4:])), (ApiKey.METADATA, 12, bytes(meta[4:])),
            (ApiKey.PRODUCE, 8, bytes(produce[4:]))]


@pytest.mark.parametrize("api, version, payload", _sample_frames())
def test_every_truncation_raises_protocol_error(api: ApiKey, version: int, payload: bytes) -> None:
    decode_response(api, version, payload)
    for n in range(len(payload)):
        with pytest.raises(KafkaProtocolError):
            decode_response(api, version, payload[:n])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_frames_never_raise_anything_but_protocol_error(data: st.DataObject) -> None:
    api, version, payload = data.draw(st.sampled_from(_SAMPLES))
    buf = bytearray(payload)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    try:
        decode_response(api, version, bytes(buf))
    except KafkaProtocolError:
        pass


_SAMPLES = _sample_frames()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(ALL_VERSIONS))
def test_random_bytes_never_raise_anything_but_protocol_error(payload: bytes, av: tuple) -> None:
    try:
        decode_response(av[0], av[1], payload)
    except KafkaProtocolError:
        pass
    try:
        decode_request(payload)
    except (KafkaProtocolError, UnsupportedVersionError):
        pass


def test_peek_correlation_id() -> None:
    assert peek_correlation_id(b"\x00\x00\x01\x00rest") == 256
    with pytest.raises(KafkaProtocolError):
        peek_correlation_id(b"\x00\x01")


def test_encode_errors_name_the_field() -> None:
    with pytest.raises(KafkaProtocolError, match="acks"):
        encode_request(ApiKey.PRODUCE, 9, 1, "c", {"acks": 70000})
    with pytest.raises(KafkaProtocolError, match=r"topic_data\[0\]\.name"):
        encode_request(ApiKey.PRODUCE, 9, 1, "c", {"topic_data": [{"name": 5}]})
    with pytest.raises(KafkaProtocolError, match=r"topic_data\[0\].*expected a dict"):
        encode_request(ApiKey.PRODUCE, 9, 1, "c", {"topic_data": ["oops"]})
    with pytest.raises(KafkaProtocolError):
        encode_request(ApiKey.CREATE_TOPICS, 7, 1, "c", {"topics": None})  # not nullable


def test_null_array_where_nullable() -> None:
    # Metadata topics = null means "all topics".
    frame = encode_request(ApiKey.METADATA, 12, 1, "c", {"topics": None})
    assert decode_request(bytes(frame[4:]))[4]["topics"] is None
    frame = encode_request(ApiKey.METADATA, 4, 1, "c", {"topics": None})
    assert bytes(frame[-5:]) == b"\xff\xff\xff\xff\x01"  # null topics, allow auto-create


def test_nullable_struct_marker() -> None:
    body = {"assignment": {"topic_partitions": [{"topic_id": uuid.UUID(int=1), "partitions": [0, 1]}]}}
    frame = encode_response(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, 1, body)
    got = decode_response(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, bytes(frame[4:]))
    assert got["assignment"]["topic_partitions"][0]["partitions"] == [0, 1]
    frame = encode_response(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, 1, {"assignment": None})
    assert decode_response(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, bytes(frame[4:]))["assignment"] is None
    assert frame[-2] == 0xFF  # int8 -1 marker, then the body's tagged fields


def test_unimplemented_versions_and_apis() -> None:
    with pytest.raises(UnsupportedVersionError, match="Fetch v19"):
        encode_request(ApiKey.FETCH, 19, 1, "c", {})
    with pytest.raises(UnsupportedVersionError):
        encode_request(999, 0, 1, "c", {})
    with pytest.raises(UnsupportedVersionError):
        decode_request(_h("03e7 0000 00000001 ffff"))


@pytest.mark.parametrize("api, bmin, bmax, expected", [
    (ApiKey.FETCH, 4, 17, 17), (ApiKey.FETCH, 4, 20, 18), (ApiKey.FETCH, 0, 8, 8), (ApiKey.PRODUCE, 3, 13, 13), (ApiKey.PRODUCE, 3, 11, 11),
    (ApiKey.API_VERSIONS, 0, 2, 2), (ApiKey.METADATA, 0, 12, 12), (ApiKey.METADATA, 0, 13, 13),
    (ApiKey.METADATA, 4, 4, 4), (ApiKey.METADATA, 0, 3, None),
])
def test_negotiate_version(api: ApiKey, bmin: int, bmax: int, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(UnsupportedVersionError):
            negotiate_version(api, bmin, bmax)
    else:
        assert negotiate_version(api, bmin, bmax) == expected


def test_negotiation_without_overlap_names_the_api() -> None:
    with pytest.raises(UnsupportedVersionError, match="Fetch.*4-18.*19-20"):
        negotiate_version(ApiKey.FETCH, 19, 20)
    with pytest.raises(UnsupportedVersionError, match="Produce"):
        negotiate_version(ApiKey.PRODUCE, 0, 2)


def test_kip_896_minimums_and_name_based_ceilings() -> None:
    assert client_versions(ApiKey.PRODUCE) == (3, 13)
    assert client_versions(ApiKey.FETCH) == (4, 18)
    assert client_versions(ApiKey.LIST_OFFSETS)[0] == 1
    assert client_versions(ApiKey.OFFSET_COMMIT) == (2, 10)
    assert client_versions(ApiKey.OFFSET_FETCH) == (1, 10)
    assert client_versions(ApiKey.SASL_HANDSHAKE) == (1, 1)
    assert not api_schema(ApiKey.SASL_HANDSHAKE).is_flexible(1)


def test_api_versions_request_defaults_to_a_valid_software_name_and_version() -> None:
    import kafkaio
    from kafkaio.protocol.messages.metadata import CLIENT_SOFTWARE_VERSION

    assert CLIENT_SOFTWARE_VERSION == kafkaio.__version__
    body = decode_request(bytes(encode_request(ApiKey.API_VERSIONS, 3, 1, "c", {})[4:]))[4]
    # v5's fields (KIP-1242) come back at their defaults: v3 does not carry them
    assert body == {"client_software_name": "kafkaio", "client_software_version": kafkaio.__version__,
                    "cluster_id": None, "node_id": -1}
    v5 = decode_request(bytes(encode_request(ApiKey.API_VERSIONS, 5, 1, "c", {"cluster_id": "abc", "node_id": 3})[4:]))
    assert (v5[1], v5[4]["cluster_id"], v5[4]["node_id"]) == (5, "abc", 3)


def test_metadata_v13_top_level_error_code_follows_the_topics() -> None:
    frame = encode_response(ApiKey.METADATA, 13, 1, {"error_code": 129})
    assert bytes(frame[-3:]) == b"\x00\x81\x00"  # error code, then the tagged fields
    assert decode_response(ApiKey.METADATA, 13, bytes(frame[4:]))["error_code"] == 129


def test_encode_and_decode_errors_do_not_echo_values() -> None:
    secret = "hunter2-secret-password"
    with pytest.raises(KafkaProtocolError) as info:
        encode_request(ApiKey.SASL_AUTHENTICATE, 2, 1, "c", {"auth_bytes": secret})  # str, not bytes
    assert secret not in str(info.value) and "auth_bytes" in str(info.value)
    frame = bytes(encode_request(ApiKey.SASL_AUTHENTICATE, 1, 1, "c", {"auth_bytes": secret.encode()}))
    with pytest.raises(KafkaProtocolError) as info:
        decode_request(frame[4:-3])
    assert "hunter2" not in str(info.value)
