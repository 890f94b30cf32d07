"""The embedded consumer protocol encodes byte-for-byte as the Java client's ConsumerProtocol."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafkaio.consumer.protocol import (
    Assignment,
    ConsumerProtocolError,
    Subscription,
    decode_assignment,
    decode_sticky_user_data,
    decode_subscription,
    encode_assignment,
    encode_sticky_user_data,
    encode_subscription,
)
from kafkaio.structs import TopicPartition as TP


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack(">h", len(b)) + b


def test_subscription_v3_layout_matches_java() -> None:
    sub = Subscription(["b", "a"], user_data=b"\x00\x00\x00\x07",
                       owned_partitions=[TP("a", 1), TP("a", 0)], generation_id=7, rack_id=None)
    expected = (
        struct.pack(">h", 3)
        + struct.pack(">i", 2) + _s("b") + _s("a")          # topics, in the member's order
        + struct.pack(">i", 4) + b"\x00\x00\x00\x07"         # user data
        + struct.pack(">i", 1) + _s("a") + struct.pack(">iii", 2, 0, 1)   # owned partitions
        + struct.pack(">i", 7)                               # generation
        + struct.pack(">h", -1)                              # null rack
    )
    assert encode_subscription(sub) == expected


def test_subscription_v0_from_an_old_client() -> None:
    data = struct.pack(">h", 0) + struct.pack(">i", 1) + _s("t") + struct.pack(">i", -1)
    sub = decode_subscription(data)
    assert sub.topics == ["t"] and sub.user_data is None
    assert sub.owned_partitions == [] and sub.generation_id == -1


def test_newer_version_trailing_fields_are_ignored() -> None:
    data = encode_subscription(Subscription(["t"], rack_id="r1"))
    data = struct.pack(">h", 4) + data[2:] + b"\x00\x00future"
    sub = decode_subscription(data)
    assert sub.topics == ["t"] and sub.rack_id == "r1"


def test_assignment_layout_matches_java() -> None:
    asg = Assignment([TP("x", 2), TP("x", 0), TP("a", 5)])
    expected = (
        struct.pack(">h", 3) + struct.pack(">i", 2)
        + _s("a") + struct.pack(">ii", 1, 5)
        + _s("x") + struct.pack(">iii", 2, 0, 2)
        + struct.pack(">i", -1)
    )
    assert encode_assignment(asg) == expected
    back = decode_assignment(expected)
    assert sorted(back.partitions) == sorted(asg.partitions)


def test_empty_assignment_bytes_mean_nothing_assigned() -> None:
    assert decode_assignment(b"").partitions == []


@pytest.mark.parametrize("cut", range(1, 30))
def test_truncated_metadata_is_a_typed_error(cut: int) -> None:
    data = encode_subscription(Subscription(["topic"], b"ud", [TP("topic", 3)], 4, "rack"))
    if cut >= len(data):
        return
    with pytest.raises(ConsumerProtocolError):
        decode_subscription(data[:cut])


def test_huge_array_count_is_rejected_without_allocating() -> None:
    data = struct.pack(">h", 0) + struct.pack(">i", 2**31 - 1)
    with pytest.raises(ConsumerProtocolError):
        decode_subscription(data)


def test_sticky_user_data_roundtrip_and_v0() -> None:
    data = encode_sticky_user_data([TP("t", 1), TP("t", 0)], 12)
    parts, gen = decode_sticky_user_data(data)
    assert sorted(parts) == [TP("t", 0), TP("t", 1)] and gen == 12
    parts, gen = decode_sticky_user_data(data[:-4])   # v0 has no generation
    assert gen == -1 and len(parts) == 2


names = st.text(alphabet="abcxyz-._", min_size=1, max_size=8)


@given(st.lists(names, max_size=5), st.one_of(st.none(), st.binary(max_size=20)),
       st.sets(st.tuples(names, st.integers(0, 50)), max_size=10), st.integers(-1, 2**31 - 1),
       st.one_of(st.none(), names))
def test_subscription_roundtrip(topics, user_data, owned, generation, rack) -> None:
    sub = Subscription(topics, user_data, sorted(TP(t, p) for t, p in owned), generation, rack)
    back = decode_subscription(encode_subscription(sub))
    assert back.topics == topics and back.user_data == user_data
    assert sorted(back.owned_partitions) == sub.owned_partitions
    assert back.generation_id == generation and back.rack_id == rack


@given(st.binary(max_size=60))
def test_random_bytes_never_crash(data: bytes) -> None:
    for fn in (decode_subscription, decode_assignment):
        try:
            fn(data)
        except ConsumerProtocolError:
            pass
