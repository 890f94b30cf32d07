"""The direct Produce codec against the generic one, the reference: random requests and
responses of every version (many seeds) must encode to the same bytes and decode to the same
fields, and malformed responses must be refused by both. Every test runs on both twins (the
compiled ``_produce_codec`` and the pure ``produce_codec_py``)."""
from __future__ import annotations

import importlib
import random
import uuid
from types import ModuleType
from typing import Any

import pytest

from kafkaio.errors import FieldEncodeError, KafkaProtocolError, UnsupportedVersionError
from kafkaio.protocol import ApiKey, decode_direct_response, decode_response, encode_request, encode_response
from kafkaio.protocol.api import request_codec, response_codec
from kafkaio.protocol.produce_codec import TopicData
from kafkaio.protocol.primitives import ZERO_UUID

VERSIONS = list(range(3, 14))
SEEDS = list(range(40))


@pytest.fixture(params=["compiled", "pure"])
def twin(request: pytest.FixtureRequest) -> ModuleType:
    """One implementation of the codec: ``twin.ProduceMessage``, ``twin.ProduceResult``."""
    if request.param == "pure":
        return importlib.import_module("kafkaio._speedups.produce_codec_py")
    try:
        return importlib.import_module("kafkaio._speedups._produce_codec")
    except ImportError:
        pytest.skip("compiled speedups not built")


def _text(rng: random.Random, nullable: bool) -> str | None:
    if nullable and rng.random() < 0.3:
        return None
    n = rng.choice([0, 1, 5, 40, 130, 300])  # over 127: two-byte compact lengths
    return "".join(rng.choice("abcxyz-_.é€") for _ in range(n))


def _records(rng: random.Random) -> bytes | None:
    if rng.random() < 0.1:
        return None
    return rng.randbytes(rng.choice([0, 1, 61, 126, 127, 128, 500, 20000]))


def _request(rng: random.Random) -> tuple[str | None, int, int, list[TopicData]]:
    topics: list[TopicData] = []
    for _ in range(rng.choice([0, 1, 1, 2, 5])):
        name = _text(rng, False) or "t"
        tid = uuid.uuid4().int if rng.random() < 0.9 else 0
        parts = [(rng.randrange(-1, 2**31), _records(rng)) for _ in range(rng.choice([0, 1, 1, 3, 140]))]
        topics.append((name, tid, parts))
    return _text(rng, True), rng.choice([-1, 0, 1]), rng.randrange(0, 2**31), topics


def _generic_request_body(txn: str | None, acks: int, timeout: int, topics: list[TopicData]) -> dict[str, Any]:
    return {"transactional_id": txn, "acks": acks, "timeout_ms": timeout, "topic_data": [
        {"name": name, "topic_id": uuid.UUID(int=tid) if tid else ZERO_UUID,
         "partition_data": [{"index": i, "records": r} for i, r in parts]}
        for name, tid, parts in topics]}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_request_bytes_equal_the_generic_codec(version: int, seed: int, twin: ModuleType) -> None:
    rng = random.Random(seed * 100 + version)
    txn, acks, timeout, topics = _request(rng)
    direct = bytearray()
    twin.ProduceMessage(txn, acks, timeout, topics).encode_body(direct, version)
    generic = bytearray()
    request_codec(ApiKey.PRODUCE, version)[0].encode(generic, _generic_request_body(txn, acks, timeout, topics))
    assert direct == generic
    # and whole frames, through encode_request (the connection's path)
    message = twin.ProduceMessage(txn, acks, timeout, topics)
    assert encode_request(ApiKey.PRODUCE, version, 7, "cid", message) == encode_request(
        ApiKey.PRODUCE, version, 7, "cid", _generic_request_body(txn, acks, timeout, topics))


def _response_body(rng: random.Random, version: int) -> dict[str, Any]:
    topics = []
    for _ in range(rng.choice([0, 1, 1, 2, 4])):
        parts = []
        for _ in range(rng.choice([0, 1, 1, 3, 50])):
            part: dict[str, Any] = {
                "index": rng.randrange(0, 2**31), "error_code": rng.choice([0, 0, 6, 45, 46, 87, -1]),
                "base_offset": rng.randrange(-1, 2**63), "log_append_time_ms": rng.randrange(-1, 2**40),
                "log_start_offset": rng.randrange(-1, 2**40),
                "record_errors": [{"batch_index": rng.randrange(0, 2**31),
                                   "batch_index_error_message": _text(rng, True)}
                                  for _ in range(rng.choice([0, 0, 0, 1, 3]))],
                "error_message": _text(rng, True),
                "current_leader": ({"leader_id": rng.randrange(-1, 100), "leader_epoch": rng.randrange(-1, 2**31)}
                                   if rng.random() < 0.3 else {"leader_id": -1, "leader_epoch": -1}),
            }
            if rng.random() < 0.2:
                part["_unknown_tagged_fields"] = {rng.choice([3, 9, 200]): rng.randbytes(rng.choice([0, 2, 150]))}
            parts.append(part)
        topic: dict[str, Any] = {"name": _text(rng, False), "topic_id": uuid.uuid4(), "partition_responses": parts}
        if rng.random() < 0.2:
            topic["_unknown_tagged_fields"] = {5: b"xy"}
        topics.append(topic)
    body: dict[str, Any] = {
        "responses": topics, "throttle_time_ms": rng.choice([0, 0, 5, 2**31 - 1]),
        "node_endpoints": [{"node_id": rng.randrange(0, 9), "host": _text(rng, False), "port": rng.randrange(0, 65536),
                            "rack": _text(rng, True)} for _ in range(rng.choice([0, 0, 1, 3]))],
    }
    if rng.random() < 0.2:
        body["_unknown_tagged_fields"] = {7: rng.randbytes(3)}
    return body


def _fields_of_generic(body: dict[str, Any], version: int) -> tuple[Any, ...]:
    """The generic decoder's answer in the direct decoder's shape."""
    topics = [(t["name"] if version < 13 else None, t["topic_id"].int if version >= 13 else 0,
               [(p["index"], p["error_code"], p["base_offset"], p["log_append_time_ms"], p["log_start_offset"],
                 [(e["batch_index"], e["batch_index_error_message"]) for e in p["record_errors"]],
                 p["error_message"], p["current_leader"]["leader_id"], p["current_leader"]["leader_epoch"])
                for p in t["partition_responses"]])
              for t in body["responses"]]
    nodes = [(n["node_id"], n["host"], n["port"], n["rack"]) for n in body["node_endpoints"]]
    return topics, body["throttle_time_ms"], nodes


def _fields_of_direct(result: Any) -> tuple[Any, ...]:
    return result.topics, result.throttle_time_ms, result.node_endpoints


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_response_fields_equal_the_generic_codec(version: int, seed: int, twin: ModuleType) -> None:
    rng = random.Random(seed * 100 + version)
    frame = bytes(encode_response(ApiKey.PRODUCE, version, 3, _response_body(rng, version)))[4:]
    generic = decode_response(ApiKey.PRODUCE, version, frame)
    direct = decode_direct_response(twin.ProduceMessage(None, -1, 1000, []), ApiKey.PRODUCE, version, frame)
    assert isinstance(direct, twin.ProduceResult)
    assert _fields_of_direct(direct) == _fields_of_generic(generic, version)
    # the body alone ends where the generic codec's ends
    body_start = 5 if version >= 9 else 4
    _, end = response_codec(ApiKey.PRODUCE, version)[0].decode(memoryview(frame), body_start)
    assert twin.ProduceMessage.decode_body(memoryview(frame), body_start, version)[1] == end == len(frame)


def _outcome(decode: Any) -> str:
    try:
        decode()
    except KafkaProtocolError:
        return "refused"
    return "accepted"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS[:10])
def test_damaged_responses_are_refused_as_the_generic_codec_refuses_them(
        version: int, seed: int, twin: ModuleType) -> None:
    """Truncated frames and flipped bytes: whatever the generic decoder refuses, so does the
    direct one, and what it accepts decodes to the same fields."""
    rng = random.Random(seed * 100 + version + 7)
    frame = bytes(encode_response(ApiKey.PRODUCE, version, 3, _response_body(rng, version)))[4:]
    message = twin.ProduceMessage(None, -1, 1000, [])
    damaged = [frame[:cut] for cut in sorted({rng.randrange(4, len(frame)) for _ in range(20)})]
    for _ in range(20):
        at = rng.randrange(4, len(frame))
        damaged.append(frame[:at] + bytes([rng.randrange(256)]) + frame[at + 1:])
    for bad in damaged:
        generic = _outcome(lambda: decode_response(ApiKey.PRODUCE, version, bad))
        direct = _outcome(lambda: decode_direct_response(message, ApiKey.PRODUCE, version, bad))
        assert direct == generic, (bad.hex(), generic, direct)
        if generic == "accepted":
            assert _fields_of_direct(decode_direct_response(message, ApiKey.PRODUCE, version, bad)) == \
                _fields_of_generic(decode_response(ApiKey.PRODUCE, version, bad), version)


def _v9_frame(partition_tags: dict[int, bytes], body_tags: dict[int, bytes]) -> bytes:
    body = {"responses": [{"name": "t", "partition_responses": [{
        "index": 0, "error_code": 0, "base_offset": 5, "log_append_time_ms": -1, "log_start_offset": 0,
        "record_errors": [], "error_message": None, "_unknown_tagged_fields": partition_tags}]}],
        "throttle_time_ms": 0, "_unknown_tagged_fields": body_tags}
    return bytes(encode_response(ApiKey.PRODUCE, 9, 3, body))[4:]


@pytest.mark.parametrize(("partition_tags", "body_tags"), [
    ({0: b"\x01\x02\x03"}, {}),                                   # not a current_leader's shape
    ({0: b"\x00\x00\x00\x07\x00\x00\x00\x02\x00"}, {}),           # would read as leader 7, epoch 2
    ({}, {0: b"\x05"}),                                           # not a node_endpoints' shape
], ids=["partition-tag0-short", "partition-tag0-leader-shaped", "body-tag0"])
def test_tag_zero_before_version_10_is_an_unknown_field_for_both_decoders(
        partition_tags: dict[int, bytes], body_tags: dict[int, bytes], twin: ModuleType) -> None:
    # current_leader and node_endpoints are tagged from version 10 (KIP-951)
    frame = _v9_frame(partition_tags, body_tags)
    generic = decode_response(ApiKey.PRODUCE, 9, frame)
    direct = decode_direct_response(twin.ProduceMessage(None, -1, 1000, []), ApiKey.PRODUCE, 9, frame)
    assert generic["responses"][0]["partition_responses"][0]["base_offset"] == 5
    assert direct.topics == [("t", 0, [(0, 0, 5, -1, 0, [], None, -1, -1)])]
    assert direct.node_endpoints == []


def test_the_direct_codec_has_exactly_the_schemas_versions(twin: ModuleType) -> None:
    # a schema that gains a version must not be written with the last version's layout
    from kafkaio.protocol.api import client_versions

    lo, hi = client_versions(ApiKey.PRODUCE)
    assert (twin.VERSIONS.start, twin.VERSIONS.stop - 1) == (lo, hi)
    with pytest.raises(UnsupportedVersionError, match="no version 14"):
        twin.ProduceMessage(None, -1, 1000, []).encode_body(bytearray(), hi + 1)
    with pytest.raises(UnsupportedVersionError, match="v14"):
        decode_direct_response(twin.ProduceMessage(None, -1, 1000, []), ApiKey.PRODUCE, hi + 1, b"\0\0\0\0\0")
    with pytest.raises(UnsupportedVersionError, match="no version 14"):
        twin.ProduceMessage.decode_body(memoryview(b"\0\0\0\0\0"), 0, hi + 1)


def test_a_request_body_that_is_a_dict_subclass_takes_the_generic_codec() -> None:
    from collections import OrderedDict

    body = {"transactional_id": None, "transaction_timeout_ms": 1000, "producer_id": -1, "producer_epoch": -1}
    assert encode_request(ApiKey.INIT_PRODUCER_ID, 4, 1, "c", OrderedDict(body)) == \
        encode_request(ApiKey.INIT_PRODUCER_ID, 4, 1, "c", body)


# --- the twins against each other -------------------------------------------------------------


def _both() -> tuple[ModuleType, ModuleType]:
    try:
        compiled = importlib.import_module("kafkaio._speedups._produce_codec")
    except ImportError:
        pytest.skip("compiled speedups not built")
    return compiled, importlib.import_module("kafkaio._speedups.produce_codec_py")


def _damaged(rng: random.Random, frame: bytes) -> list[bytes]:
    """Truncations, single and burst byte changes, and random tails of ``frame`` (its header kept)."""
    out = [frame[:cut] for cut in range(4, len(frame))] if len(frame) < 200 else \
        [frame[:rng.randrange(4, len(frame))] for _ in range(60)]
    for _ in range(60):
        b = bytearray(frame)
        for _ in range(rng.choice([1, 1, 2, 5])):
            at = rng.randrange(4, len(b))
            b[at] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
        out.append(bytes(b))
    for _ in range(20):
        at = rng.randrange(4, len(frame) + 1)
        out.append(frame[:at] + rng.randbytes(rng.randrange(0, 40)))
    return out


def _decoded_or_refused(twin: Any, buf: memoryview, start: int, version: int) -> object:
    """What ``twin``'s body decoder makes of ``buf``: its answer, or "refused"."""
    try:
        return twin.ProduceMessage.decode_body(buf, start, version)
    except KafkaProtocolError:
        return "refused"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("seed", SEEDS[:12])
def test_twins_agree_on_damaged_responses(version: int, seed: int) -> None:
    """The same truncated and garbled frames: both twins refuse the same ones (the compiled one
    with KafkaProtocolError itself, never another error), and decode the others to the same fields."""
    compiled, pure = _both()
    rng = random.Random(seed * 1000 + version)
    frame = bytes(encode_response(ApiKey.PRODUCE, version, 3, _response_body(rng, version)))[4:]
    start = 5 if version >= 9 else 4
    for bad in _damaged(rng, frame):
        outcomes = []
        for twin in (compiled, pure):
            try:
                outcomes.append(_fields_of_direct(decode_direct_response(
                    twin.ProduceMessage(None, -1, 1000, []), ApiKey.PRODUCE, version, bad)))
            except KafkaProtocolError:
                outcomes.append("refused")
        assert outcomes[0] == outcomes[1], bad.hex()
        # the compiled body decoder alone, on a memoryview: an answer ending inside the bytes, or a
        # refusal (any error other than KafkaProtocolError fails the test); it decodes what the
        # whole decode did (which also refuses bytes left over after the body)
        body = _decoded_or_refused(compiled, memoryview(bad), start, version)
        assert body == "refused" or (isinstance(body, tuple) and start < body[1] <= len(bad)), bad.hex()
        if outcomes[0] != "refused":
            assert body != "refused", bad.hex()


def test_the_compiled_decoder_refuses_a_position_outside_the_bytes() -> None:
    compiled, _ = _both()
    for pos in (-1, 6, 1 << 40):
        with pytest.raises(KafkaProtocolError):
            compiled.ProduceMessage.decode_body(memoryview(b"\0\0\0\0\0"), pos, 13)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_memoryview_of_wide_items_is_written_with_its_length_in_bytes(version: int) -> None:
    compiled, pure = _both()
    records = bytes(range(256)) * 2
    outs = []
    for twin in (compiled, pure):
        out = bytearray()
        twin.ProduceMessage(None, 1, 30000, [("t", 9, [(0, memoryview(records).cast("I"))])]).encode_body(out, version)
        outs.append(bytes(out))
    plain = bytearray()
    pure.ProduceMessage(None, 1, 30000, [("t", 9, [(0, records)])]).encode_body(plain, version)
    assert outs[0] == outs[1] == bytes(plain)


@pytest.mark.parametrize("version", VERSIONS)
def test_twins_write_the_same_bytes_from_any_buffer_after_what_out_holds(version: int) -> None:
    compiled, pure = _both()
    records = bytes(range(256)) * 3
    for holder in (bytes, bytearray, memoryview):
        topics = [("tópico", 2**127 + 5, [(0, holder(records)), (7, None), (3, holder(b""))]),
                  ("b" * 200, 1, [(1, holder(records[:130]))])]
        outs = []
        for twin in (compiled, pure):
            out = bytearray(b"header")
            twin.ProduceMessage("txn-é", 1, 30000, topics).encode_body(out, version)
            outs.append(out)
        assert outs[0] == outs[1]
        assert outs[0].startswith(b"header")


UNENCODABLE = [
    (("t", 0, [(2**31, b"x")]), (8, 12, 13)),     # an index past int32
    (("t", 0, [(0, 5)]), (8, 12, 13)),            # records that are no buffer
    (("t", -1, [(0, b"x")]), (13,)),              # a negative topic id (ids from 13)
    (("t", 2**128, [(0, b"x")]), (13,)),          # a topic id past 128 bits
    (("t", "id", [(0, b"x")]), (13,)),            # a topic id that is no int
    ((7, 0, [(0, b"x")]), (8, 12)),               # a topic name that is no str (names until 12)
    (("t", 0, [("0", b"x")]), (8, 12, 13)),       # an index that is no int
    (("t\ud800", 0, [(0, b"x")]), (8, 12)),       # a name UTF-8 cannot encode
    (("t", 0, [(0, b"x", b"y")]), (8, 12, 13)),   # a partition that is no pair
]
UNENCODABLE_IDS = ["index", "records", "negative-id", "wide-id", "str-id", "int-name", "str-index", "surrogate",
                   "triple"]


@pytest.mark.parametrize(("bad", "versions"), UNENCODABLE, ids=UNENCODABLE_IDS)
def test_twins_refuse_the_same_unencodable_requests(bad: TopicData, versions: tuple[int, ...]) -> None:
    for twin in _both():
        for version in versions:
            with pytest.raises(FieldEncodeError, match="cannot encode: the Produce request"):
                twin.ProduceMessage(None, -1, 1000, [bad]).encode_body(bytearray(), version)


@pytest.mark.parametrize(("bad", "versions"), UNENCODABLE, ids=UNENCODABLE_IDS)
def test_a_failed_encode_leaves_out_as_it_was(bad: TopicData, versions: tuple[int, ...]) -> None:
    """After a good topic and partition were written, an unencodable one leaves ``out`` exactly as the
    caller handed it, in both twins."""
    for twin in _both():
        for version in versions:
            out = bytearray(b"header")
            good = ("t", 1, [(0, b"x" * 100)])
            with pytest.raises(KafkaProtocolError):
                twin.ProduceMessage("txn", -1, 1000, [good, bad]).encode_body(out, version)
            assert out == b"header", (twin.__name__, version)


@pytest.mark.parametrize(("txn", "acks", "timeout_ms"), [
    ("t\ud800", -1, 1000), (5, -1, 1000), (None, 2**15, 1000), (None, -1, 2**31)],
    ids=["surrogate-txn", "int-txn", "wide-acks", "wide-timeout"])
def test_twins_refuse_the_same_unencodable_request_fields(txn: Any, acks: int, timeout_ms: int) -> None:
    for twin in _both():
        for version in (8, 12, 13):
            out = bytearray(b"header")
            with pytest.raises(FieldEncodeError, match="cannot encode: the Produce request"):
                twin.ProduceMessage(txn, acks, timeout_ms, [("t", 1, [(0, b"x")])]).encode_body(out, version)
            assert out == b"header", (twin.__name__, version)
