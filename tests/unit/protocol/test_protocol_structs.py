"""The consumer protocol's subscription and assignment, byte-compatible with the Java client."""
from __future__ import annotations

import pytest

from kafkaio.errors import KafkaProtocolError, UnsupportedVersionError
from kafkaio.protocol import (
    decode_struct,
    decode_versioned_struct,
    encode_struct,
    encode_versioned_struct,
    struct_versions,
)

SUB = "ConsumerProtocolSubscription"
ASSIGN = "ConsumerProtocolAssignment"


def _h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def test_subscription_v0_golden() -> None:
    data = encode_versioned_struct(SUB, 0, {"topics": ["a"]})
    assert data == _h("0000  00000001 0001 61  ffffffff")  # version, topics, null user data


def test_subscription_v3_golden() -> None:
    data = encode_versioned_struct(SUB, 3, {
        "topics": ["a"], "user_data": b"u",
        "owned_partitions": [{"topic": "a", "partitions": [0, 1]}],
        "generation_id": 5, "rack_id": "r1"})
    assert data == _h(
        "0003"
        "00000001 0001 61"                                # topics
        "00000001 75"                                     # user data
        "00000001 0001 61 00000002 00000000 00000001"     # owned partitions
        "00000005"                                        # generation id
        "0002 7231")                                      # rack id
    version, body = decode_versioned_struct(SUB, data)
    assert version == 3 and body["owned_partitions"] == [{"topic": "a", "partitions": [0, 1]}]
    assert body["user_data"] == b"u" and body["rack_id"] == "r1" and body["generation_id"] == 5


def test_assignment_v0_golden_and_round_trip() -> None:
    body = {"assigned_partitions": [{"topic": "a", "partitions": [0]}], "user_data": b""}
    data = encode_versioned_struct(ASSIGN, 0, body)
    assert data == _h("0000 00000001 0001 61 00000001 00000000 00000000")
    assert decode_versioned_struct(ASSIGN, data) == (0, body)
    assert decode_struct(ASSIGN, 0, data[2:]) == body
    assert encode_struct(ASSIGN, 0, body) == data[2:]


def test_newer_version_is_read_with_the_newest_known_ignoring_appended_fields() -> None:
    v3 = encode_versioned_struct(SUB, 3, {"topics": ["t"], "rack_id": None})
    from_future = b"\x00\x07" + v3[2:] + b"\x00\x00\x00\x2a"  # a v7 that appended an int32
    version, body = decode_versioned_struct(SUB, from_future)
    assert version == 7 and body["topics"] == ["t"] and body["rack_id"] is None


def test_bad_struct_input() -> None:
    assert struct_versions(SUB) == (0, 3)
    with pytest.raises(KafkaProtocolError):
        decode_versioned_struct(SUB, b"\x00")
    with pytest.raises(KafkaProtocolError):
        decode_versioned_struct(SUB, b"\xff\xff")  # negative version
    with pytest.raises(KafkaProtocolError):
        decode_versioned_struct(SUB, _h("0000 00000005 0001 61"))  # 5 topics, 1 present
    with pytest.raises(KafkaProtocolError, match="trailing"):
        decode_struct(ASSIGN, 0, _h("00000000 ffffffff 00"))
    with pytest.raises(UnsupportedVersionError):
        encode_struct(SUB, 4, {})
    with pytest.raises(KafkaProtocolError):
        encode_struct("NoSuchStruct", 0, {})
