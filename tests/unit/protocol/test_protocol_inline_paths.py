"""The generated codec's inline fast paths give the same bytes, values and errors as the primitives.

The generated encode/decode functions inline the common case of compact strings, arrays of structs
and structs without tagged fields, and fall back to the primitive functions for everything else.
These tests cross every boundary where the two could differ: lengths around 127 (one-byte
varints), null, non-list arrays, wrong types, invalid UTF-8 and truncated input.
"""
from __future__ import annotations

import pytest

from kafkaio.errors import KafkaProtocolError
from kafkaio.protocol import ApiKey, decode_response, encode_request
from kafkaio.protocol import primitives as p
from kafkaio.protocol.api import encode_response, request_codec, response_codec

# The shapes exercised: Metadata v12 request (topics: a nullable compact array of structs of a
# topic_id and a compact nullable string name) and Produce v12 response (responses: an array of
# structs of a compact string name and an array of partition structs).
METADATA, PRODUCE = ApiKey.METADATA, ApiKey.PRODUCE


def _metadata_request(names: object) -> dict:
    topics = None if names is None else [{"name": n} for n in names]  # type: ignore[union-attr]
    return {"topics": topics, "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False}


def _expected_topic_bytes(name: str | None) -> bytes:
    out = bytearray(16)  # topic_id: zero uuid
    p.write_compact_nullable_string(out, name)
    out.append(0)  # no tagged fields
    return bytes(out)


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 128, 129, 300])
def test_compact_strings_of_every_varint_width(length: int) -> None:
    name = "t" * length
    frame = bytes(encode_request(METADATA, 12, 1, "c", _metadata_request([name])))
    assert _expected_topic_bytes(name) in frame
    codec, _ = request_codec(METADATA, 12)
    body_start = frame.index(_expected_topic_bytes(name)) - 1  # the topics array length byte
    body, end = codec.decode(memoryview(frame), body_start)
    assert body["topics"][0]["name"] == name
    assert end == body_start + 1 + len(_expected_topic_bytes(name)) + 3  # + two bools + tags


def test_multibyte_utf8_names_round_trip() -> None:
    name = "töpic-ü" * 20  # crosses 127 bytes but not 127 characters
    frame = bytes(encode_request(METADATA, 12, 1, "c", _metadata_request([name])))
    assert name.encode() in frame
    assert _expected_topic_bytes(name) in frame


@pytest.mark.parametrize("count", [0, 1, 126, 127, 128, 200])
def test_arrays_of_structs_of_every_length_width(count: int) -> None:
    names = [f"t{i}" for i in range(count)]
    frame = bytes(encode_request(METADATA, 12, 1, "c", _metadata_request(names)))
    head = bytearray()
    p.write_uvarint(head, count + 1)
    expected = bytes(head) + b"".join(_expected_topic_bytes(n) for n in names)
    assert expected in frame
    # a tuple goes through the array encoder: the same bytes
    assert bytes(encode_request(METADATA, 12, 1, "c", _metadata_request(tuple(names)))) == frame


def test_null_array_and_null_string_take_the_primitive_path() -> None:
    frame = bytes(encode_request(METADATA, 12, 1, "c", _metadata_request(None)))
    assert frame[-4:] == b"\x00\x00\x00\x00"  # null topics, two false bools, no tags
    frame = bytes(encode_request(METADATA, 12, 1, "c", _metadata_request([None])))
    assert _expected_topic_bytes(None) in frame


def test_encoding_errors_still_name_the_failing_field() -> None:
    with pytest.raises(KafkaProtocolError) as info:
        encode_request(METADATA, 12, 1, "c", _metadata_request(["ok", 5]))
    assert "topics[1].name" in str(info.value) and "expected str" in str(info.value)
    with pytest.raises(KafkaProtocolError) as info:
        encode_request(METADATA, 12, 1, "c", {"topics": [{"name": "a"}, "not a struct"]})
    assert "topics[1]" in str(info.value)
    with pytest.raises(KafkaProtocolError) as info:
        encode_request(METADATA, 12, 1, "c", {"topics": 7})
    assert "topics" in str(info.value)


def _produce_response(name: str) -> dict:
    return {"responses": [{"name": name, "partition_responses": [
        {"index": 0, "error_code": 0, "base_offset": 1, "log_append_time_ms": -1, "log_start_offset": 0,
         "record_errors": [], "error_message": None}]}], "throttle_time_ms": 0}


@pytest.mark.parametrize("length", [0, 1, 126, 127, 128, 300])
def test_decoded_strings_of_every_varint_width(length: int) -> None:
    payload = bytes(encode_response(PRODUCE, 12, 7, _produce_response("n" * length)))[4:]
    body = decode_response(PRODUCE, 12, payload)
    assert body["responses"][0]["name"] == "n" * length
    codec, _ = response_codec(PRODUCE, 12)
    assert body == codec.decode(memoryview(payload), 5)[0]


def test_invalid_utf8_and_truncation_raise_the_primitives_errors() -> None:
    payload = bytearray(encode_response(PRODUCE, 12, 7, _produce_response("abc")))[4:]
    at = payload.index(b"abc")
    bad = bytes(payload[:at]) + b"\xff\xfe\xfd" + bytes(payload[at + 3:])
    with pytest.raises(KafkaProtocolError, match="invalid UTF-8"):
        decode_response(PRODUCE, 12, bad)
    # the name's length byte claims more than the rest of the frame holds
    cut = bytes(payload[:at - 1]) + bytes([0x7F]) + b"abc"
    with pytest.raises(KafkaProtocolError, match="length past end"):
        decode_response(PRODUCE, 12, cut)
    # an array count larger than the bytes left
    arr = bytes(payload[:5]) + bytes([0x7F])
    with pytest.raises(KafkaProtocolError, match="array"):
        decode_response(PRODUCE, 12, arr)
    # the frame ends where an array count should be
    with pytest.raises(KafkaProtocolError):
        decode_response(PRODUCE, 12, bytes(payload[:5]))


def test_unknown_tagged_fields_in_a_struct_without_tagged_fields_are_written() -> None:
    body = _metadata_request(["a"])
    body["topics"][0]["_unknown_tagged_fields"] = {7: b"xy"}
    frame = bytes(encode_request(METADATA, 12, 1, "c", body))
    out = bytearray(16)
    p.write_compact_nullable_string(out, "a")
    out += b"\x01\x07\x02xy"  # one tagged field: tag 7, 2 bytes
    assert bytes(out) in frame


def _produce_request(records: object, topic_id: object, version: int) -> dict:
    topic: dict = {"name": "t", "partition_data": [{"index": 3, "records": records}]}
    if version >= 13:
        topic = {"topic_id": topic_id, "partition_data": topic["partition_data"]}
    return {"transactional_id": None, "acks": -1, "timeout_ms": 30000, "topic_data": [topic]}


@pytest.mark.parametrize("version", [9, 12, 13])
@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 128, 300, 16381, 16382, 16383, 16384, 20000])
def test_record_sets_of_every_varint_width_encode_as_the_primitive_does(version: int, length: int) -> None:
    import uuid

    data = bytes(range(256)) * (length // 256) + bytes(length % 256)
    tid = uuid.uuid4()
    frame = bytes(encode_request(PRODUCE, version, 1, "c", _produce_request(data, tid, version)))
    expected = bytearray()
    p.write_compact_nullable_bytes(expected, data)
    assert frame.endswith(bytes(expected) + b"\x00\x00\x00")  # partition, topic and body tags
    # a bytearray or a memoryview takes the primitive's path: the same frame
    for other in (bytearray(data), memoryview(data)):
        assert bytes(encode_request(PRODUCE, version, 1, "c", _produce_request(other, tid, version))) == frame


def test_null_and_wrong_record_sets_take_the_primitive_path() -> None:
    frame = bytes(encode_request(PRODUCE, 12, 1, "c", _produce_request(None, None, 12)))
    assert frame.endswith(b"\x00\x00\x00\x03\x00\x00\x00\x00")  # partition 3, null records, tags
    with pytest.raises(KafkaProtocolError) as info:
        encode_request(PRODUCE, 12, 1, "c", _produce_request("not bytes", None, 12))
    assert "topic_data[0].partition_data[0].records" in str(info.value)


def test_topic_ids_encode_as_the_primitive_does() -> None:
    import uuid

    tid = uuid.uuid4()
    frame = bytes(encode_request(PRODUCE, 13, 1, "c", _produce_request(b"r", tid, 13)))
    assert tid.bytes in frame
    # 16 bytes or None (the zero id) through write_uuid
    assert bytes(encode_request(PRODUCE, 13, 1, "c", _produce_request(b"r", tid.bytes, 13))) == frame
    zero = bytes(encode_request(PRODUCE, 13, 1, "c", _produce_request(b"r", None, 13)))
    assert zero == frame.replace(tid.bytes, bytes(16))
    with pytest.raises(KafkaProtocolError) as info:
        encode_request(PRODUCE, 13, 1, "c", _produce_request(b"r", "not an id", 13))
    assert "topic_data[0].topic_id" in str(info.value)


@pytest.mark.parametrize("message", [None, "", "broker says no"])
def test_nullable_strings_decode_null_and_text_as_the_primitive_does(message: str | None) -> None:
    body = _produce_response("t")
    body["responses"][0]["partition_responses"][0]["error_message"] = message
    payload = bytes(encode_response(PRODUCE, 12, 7, body))[4:]
    decoded = decode_response(PRODUCE, 12, payload)
    assert decoded["responses"][0]["partition_responses"][0]["error_message"] == message
    # the frame cut right where the message starts (after it: partition and topic tags, the
    # throttle time, the body's tags): the primitive's truncation error, not a null
    at = len(payload) - 7 - (1 if message is None else 1 + len(message))
    assert payload[at] == (0 if message is None else len(message) + 1)
    with pytest.raises(KafkaProtocolError):
        decode_response(PRODUCE, 12, payload[:at])
