"""Kafka varints: golden bytes (protocol guide / protobuf zigzag), limits and malformed input."""
from __future__ import annotations

import pytest
from records_testlib import implementations

from kafkaio.errors import CorruptRecordError

# (value, zigzag varint bytes): zigzag maps 0,-1,1,-2,2 to 0,1,2,3,4; 7 bits per byte, low bits first.
VARINT_GOLDEN = [
    (0, b"\x00"),
    (-1, b"\x01"),
    (1, b"\x02"),
    (-2, b"\x03"),
    (63, b"\x7e"),
    (-64, b"\x7f"),
    (64, b"\x80\x01"),
    (300, b"\xd8\x04"),
    (2147483647, b"\xfe\xff\xff\xff\x0f"),
    (-2147483648, b"\xff\xff\xff\xff\x0f"),
]
VARLONG_GOLDEN = [
    (0, b"\x00"),
    (-1, b"\x01"),
    (2**31, b"\x80\x80\x80\x80\x10"),
    (2**63 - 1, b"\xfe" + b"\xff" * 8 + b"\x01"),
    (-(2**63), b"\xff" * 9 + b"\x01"),
]
UNSIGNED_GOLDEN = [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02"),
                   (0xFFFFFFFF, b"\xff\xff\xff\xff\x0f")]


@pytest.fixture(params=implementations("varint"))
def varint(request):
    return request.param


@pytest.mark.parametrize("value,encoded", VARINT_GOLDEN)
def test_varint_golden(varint, value, encoded):
    assert varint.encode_varint(value) == encoded
    assert varint.size_of_varint(value) == len(encoded)
    assert varint.decode_varint(b"\xaa" + encoded + b"\xbb", 1) == (value, 1 + len(encoded))


@pytest.mark.parametrize("value,encoded", VARLONG_GOLDEN)
def test_varlong_golden(varint, value, encoded):
    assert varint.encode_varlong(value) == encoded
    assert varint.size_of_varlong(value) == len(encoded)
    assert varint.decode_varlong(encoded) == (value, len(encoded))


@pytest.mark.parametrize("value,encoded", UNSIGNED_GOLDEN)
def test_unsigned_varint_golden(varint, value, encoded):
    assert varint.encode_unsigned_varint(value) == encoded
    assert varint.size_of_unsigned_varint(value) == len(encoded)
    assert varint.decode_unsigned_varint(encoded) == (value, len(encoded))


@pytest.mark.parametrize("fn,value", [("encode_varint", 2**31), ("encode_varint", -(2**31) - 1),
                                      ("encode_varlong", 2**63), ("encode_unsigned_varint", -1),
                                      ("encode_unsigned_varint", 2**32)])
def test_out_of_range_values_are_refused(varint, fn, value):
    with pytest.raises(OverflowError):
        getattr(varint, fn)(value)


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff\xff", b"\x80\x80\x80\x80"])
def test_truncated_varint_is_corrupt(varint, data):
    with pytest.raises(CorruptRecordError):
        varint.decode_varint(data)
    with pytest.raises(CorruptRecordError):
        varint.decode_varlong(data)


def test_overlong_varints_are_corrupt(varint):
    with pytest.raises(CorruptRecordError):
        varint.decode_varint(b"\x80" * 5 + b"\x00")  # 6 bytes: more than an int32 can take
    with pytest.raises(CorruptRecordError):
        varint.decode_unsigned_varint(b"\xff" * 5 + b"\x01")
    with pytest.raises(CorruptRecordError):
        varint.decode_varlong(b"\x80" * 10 + b"\x00")
    with pytest.raises(CorruptRecordError):
        varint.decode_varint(b"\xff" * 1000)  # never ends: stops after 5 bytes


def test_position_past_the_end_is_truncation(varint):
    with pytest.raises(CorruptRecordError):
        varint.decode_varint(b"\x02", 1)


def _from_zigzag(u: int) -> int:
    return (u >> 1) ^ -(u & 1)


@pytest.mark.parametrize("bits", range(65))
def test_size_agrees_with_encoding_at_every_bit_length(varint, bits):
    # the compiled size is computed from the bit length, not by a loop: check both edges of each length
    for u in {max(0, (1 << bits) - 1), min(1 << bits, (1 << 64) - 1)}:
        value = _from_zigzag(u)
        assert varint.size_of_varlong(value) == len(varint.encode_varlong(value))
        if u < 1 << 32:
            assert varint.size_of_unsigned_varint(u) == len(varint.encode_unsigned_varint(u))
            if -(2**31) <= value < 2**31:
                assert varint.size_of_varint(value) == len(varint.encode_varint(value))
