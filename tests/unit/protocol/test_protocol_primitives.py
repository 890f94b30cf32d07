"""Wire primitives: round trips, boundaries, and malformed input raising typed errors."""
from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given, strategies as st

from kafkaio.errors import KafkaProtocolError
from kafkaio.protocol import primitives as p


def _roundtrip(write, read, value):
    out = bytearray()
    write(out, value)
    got, pos = read(bytes(out), 0)
    assert pos == len(out)
    return got, bytes(out)


@pytest.mark.parametrize("value, encoded", [
    (0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02"),
    (2**32 - 1, b"\xff\xff\xff\xff\x0f"),
])
def test_uvarint_known_encodings(value: int, encoded: bytes) -> None:
    got, raw = _roundtrip(p.write_uvarint, p.read_uvarint, value)
    assert raw == encoded and got == value


@pytest.mark.parametrize("value, encoded", [
    (0, b"\x00"), (-1, b"\x01"), (1, b"\x02"), (-2, b"\x03"), (63, b"\x7e"), (-64, b"\x7f"),
    (64, b"\x80\x01"), (2**31 - 1, b"\xfe\xff\xff\xff\x0f"), (-(2**31), b"\xff\xff\xff\xff\x0f"),
])
def test_zigzag_varint_known_encodings(value: int, encoded: bytes) -> None:
    got, raw = _roundtrip(p.write_varint, p.read_varint, value)
    assert raw == encoded and got == value


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_varint_roundtrip(value: int) -> None:
    assert _roundtrip(p.write_varint, p.read_varint, value)[0] == value


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_varlong_roundtrip(value: int) -> None:
    got, raw = _roundtrip(p.write_varlong, p.read_varlong, value)
    assert got == value and len(raw) <= 10


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_uvarint32_roundtrip(value: int) -> None:
    assert _roundtrip(p.write_uvarint, p.read_uvarint32, value)[0] == value


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1])
def test_varint_out_of_range_rejected(value: int) -> None:
    with pytest.raises(KafkaProtocolError):
        p.write_varint(bytearray(), value)


def test_varlong_out_of_range_and_negative_uvarint_rejected() -> None:
    with pytest.raises(KafkaProtocolError):
        p.write_varlong(bytearray(), 2**63)
    with pytest.raises(KafkaProtocolError):
        p.write_uvarint(bytearray(), -1)


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff\xff", b"\x80\x80\x80\x80"])
def test_truncated_varint(data: bytes) -> None:
    with pytest.raises(KafkaProtocolError):
        p.read_uvarint(data, 0)


def test_varint_that_never_ends_is_rejected_after_max_bytes() -> None:
    with pytest.raises(KafkaProtocolError, match="too long"):
        p.read_varint(b"\xff" * 100, 0)
    with pytest.raises(KafkaProtocolError, match="too long"):
        p.read_varlong(b"\xff" * 100, 0)


def test_uvarint32_overflow_is_rejected() -> None:
    with pytest.raises(KafkaProtocolError):
        p.read_uvarint32(b"\xff\xff\xff\xff\x1f", 0)  # 2**36 - 1 fits 5 bytes but not 32 bits


STRING_CODECS = [
    (p.write_string, p.read_string),
    (p.write_nullable_string, p.read_nullable_string),
    (p.write_compact_string, p.read_compact_string),
    (p.write_compact_nullable_string, p.read_compact_nullable_string),
]


@pytest.mark.parametrize("write, read", STRING_CODECS)
@given(value=st.text(max_size=300))
def test_string_roundtrip(write, read, value: str) -> None:
    assert _roundtrip(write, read, value)[0] == value


def test_string_encodings() -> None:
    assert _roundtrip(p.write_string, p.read_string, "ab")[1] == b"\x00\x02ab"
    assert _roundtrip(p.write_compact_string, p.read_compact_string, "ab")[1] == b"\x03ab"
    assert _roundtrip(p.write_nullable_string, p.read_nullable_string, None) == (None, b"\xff\xff")
    assert _roundtrip(p.write_compact_nullable_string, p.read_compact_nullable_string, None) == (None, b"\x00")
    assert _roundtrip(p.write_string, p.read_string, "")[1] == b"\x00\x00"
    assert _roundtrip(p.write_compact_string, p.read_compact_string, "")[1] == b"\x01"
    assert _roundtrip(p.write_string, p.read_string, "é")[1] == b"\x00\x02\xc3\xa9"


def test_string_too_long_for_int16_length() -> None:
    p.write_string(bytearray(), "x" * 32767)
    with pytest.raises(KafkaProtocolError):
        p.write_string(bytearray(), "x" * 32768)


@pytest.mark.parametrize("data, read", [
    (b"\x00\x05abc", p.read_string),            # length past the end
    (b"\xff\xfe", p.read_string),               # negative length
    (b"\xff\xff", p.read_string),               # null where not allowed
    (b"\xff\xfe", p.read_nullable_string),      # -2 is not null
    (b"\x00", p.read_compact_string),           # null where not allowed
    (b"\x05ab", p.read_compact_nullable_string),
    (b"\x00\x02\xff\xfe", p.read_string),       # invalid UTF-8
    (b"\x03\xc3\x28", p.read_compact_string),    # invalid UTF-8
])
def test_malformed_strings(data: bytes, read) -> None:
    with pytest.raises(KafkaProtocolError):
        read(data, 0)


def test_truncated_fixed_width_raises_struct_error_that_message_decoding_wraps() -> None:
    # Fixed-width reads use struct.unpack_from, which is already bounds-checked; the message
    # decoders turn struct.error into KafkaProtocolError (tested in test_protocol_messages).
    with pytest.raises(struct.error):
        p.read_string(b"\x00", 0)


def test_null_string_rejected_when_encoding_non_nullable() -> None:
    with pytest.raises(KafkaProtocolError):
        p.write_string(bytearray(), None)  # type: ignore[arg-type]
    with pytest.raises(KafkaProtocolError):
        p.write_compact_string(bytearray(), 5)  # type: ignore[arg-type]


BYTES_CODECS = [
    (p.write_bytes, p.read_bytes),
    (p.write_nullable_bytes, p.read_nullable_bytes),
    (p.write_compact_bytes, p.read_compact_bytes),
    (p.write_compact_nullable_bytes, p.read_compact_nullable_bytes),
]


@pytest.mark.parametrize("write, read", BYTES_CODECS)
@given(value=st.binary(max_size=300))
def test_bytes_roundtrip(write, read, value: bytes) -> None:
    assert _roundtrip(write, read, value)[0] == value


def test_bytes_null_and_encodings() -> None:
    assert _roundtrip(p.write_nullable_bytes, p.read_nullable_bytes, None) == (None, b"\xff\xff\xff\xff")
    assert _roundtrip(p.write_compact_nullable_bytes, p.read_compact_nullable_bytes, None) == (None, b"\x00")
    assert _roundtrip(p.write_bytes, p.read_bytes, b"xy")[1] == b"\x00\x00\x00\x02xy"
    assert _roundtrip(p.write_compact_bytes, p.read_compact_bytes, b"xy")[1] == b"\x03xy"


@pytest.mark.parametrize("data, read", [
    (b"\x00\x00\x00\x09abc", p.read_bytes),
    (b"\xff\xff\xff\xfe", p.read_nullable_bytes),
    (b"\xff\xff\xff\xff", p.read_bytes),
    (b"\x00", p.read_compact_bytes),
    (b"\x7fab", p.read_compact_nullable_bytes),
    (b"\x00\x00\x00\x09abc", p.read_records),
    (b"\xff\xff\xff\xfe", p.read_records),
    (b"\x7fab", p.read_compact_records),
])
def test_malformed_bytes(data: bytes, read) -> None:
    with pytest.raises(KafkaProtocolError):
        read(data, 0)


def test_records_are_zero_copy_views() -> None:
    payload = memoryview(b"\x00\x00\x00\x03abcZ")
    view, pos = p.read_records(payload, 0)
    assert isinstance(view, memoryview) and bytes(view) == b"abc" and pos == 7
    assert p.read_records(b"\xff\xff\xff\xff", 0) == (None, 4)
    assert p.read_compact_records(b"\x00", 0) == (None, 1)


def test_uuid() -> None:
    u = uuid.uuid4()
    assert _roundtrip(p.write_uuid, p.read_uuid, u) == (u, u.bytes)
    assert _roundtrip(p.write_uuid, p.read_uuid, u.bytes)[0] == u
    assert _roundtrip(p.write_uuid, p.read_uuid, None)[0] == p.ZERO_UUID
    with pytest.raises(KafkaProtocolError):
        p.read_uuid(b"\x00" * 15, 0)
    with pytest.raises(KafkaProtocolError):
        p.write_uuid(bytearray(), b"short")


def test_array_length_checks() -> None:
    assert p.read_array_length(b"\x00\x00\x00\x02ab", 0, False, False) == (2, 4)
    assert p.read_array_length(b"\xff\xff\xff\xff", 0, False, True) == (-1, 4)
    assert p.read_array_length(b"\x00", 0, True, True) == (-1, 1)
    assert p.read_array_length(b"\x03ab", 0, True, False) == (2, 1)
    with pytest.raises(KafkaProtocolError):
        p.read_array_length(b"\xff\xff\xff\xff", 0, False, False)  # null where not allowed
    with pytest.raises(KafkaProtocolError):
        p.read_array_length(b"\x7f\xff\xff\xff", 0, False, False)  # 2**31-1 elements in 0 bytes
    with pytest.raises(KafkaProtocolError):
        p.read_array_length(b"\x00", 0, True, False)


@given(st.binary(min_size=16, max_size=16), st.integers(min_value=0, max_value=8))
def test_read_uuid_is_the_uuid_of_its_bytes(raw: bytes, pad: int) -> None:
    """The decoded id is indistinguishable from ``uuid.UUID(bytes=...)``: equal, same hash, same
    safety attribute, immutable, and it pickles; from bytes and from a memoryview at an offset."""
    import pickle

    expected = uuid.UUID(bytes=raw)
    for buf in (b"\xff" * pad + raw, memoryview(bytearray(b"\x01" * pad + raw + b"\x02"))):
        got, pos = p.read_uuid(buf, pad)
        assert pos == pad + 16
        assert type(got) is uuid.UUID
        assert got == expected and hash(got) == hash(expected) and str(got) == str(expected)
        assert got.bytes == raw and got.is_safe is expected.is_safe
        assert pickle.loads(pickle.dumps(got)) == expected
        with pytest.raises(TypeError):
            got.int = 0  # type: ignore[misc]
