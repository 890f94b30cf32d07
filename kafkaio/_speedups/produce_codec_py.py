"""Produce requests encoded straight from their topics and partitions, and Produce responses
decoded straight into tuples (pure-Python twin of ``_produce_codec.pyx``).

The generic codec (:mod:`kafkaio.protocol.compiler`, from the schema in
``kafkaio/protocol/messages/produce.py``) builds a dict per topic and per partition on both ways;
:class:`ProduceMessage`, the request as data, writes and reads the same bytes for versions 3 to 13
(names until 12, topic ids from 13, flexible from 9) without them: the connection asks it to encode
its body and to decode its response (:class:`kafkaio.protocol.api.DirectMessage`). The generic
codec stays the reference: the tests hold both twins to produce exactly its bytes and to decode
exactly its fields. The shapes of the data are named in :mod:`kafkaio.protocol.produce_codec`.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kafkaio.errors import FieldEncodeError, KafkaProtocolError, UnsupportedVersionError
from kafkaio.protocol import primitives as p

if TYPE_CHECKING:
    from kafkaio.protocol.produce_codec import NodeEndpoint, PartitionResult, TopicData, TopicResult

__all__ = ["ProduceMessage", "ProduceResult"]

FIRST_FLEXIBLE = 9
FIRST_TAGGED_LEADER = 10  # current_leader and node_endpoints (tag 0 at both levels, KIP-951)
FIRST_TOPIC_ID = 13
VERSIONS = range(3, 14)  # the versions this module writes and reads: the schema's (a test holds them equal)

_REQ_FIXED = struct.Struct(">hi")        # acks, timeout_ms
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")
_PART_FIXED = struct.Struct(">ihqq")     # index, error_code, base_offset, log_append_time_ms
_I64 = struct.Struct(">q")
_LEADER = struct.Struct(">ii")           # leader_id, leader_epoch
_NO_RECORD_ERRORS: list[tuple[int, str | None]] = []  # shared, never mutated: most answers have none
_write_uvarint = p.write_uvarint
_read_array_length = p.read_array_length
_read_tagged_fields = p.read_tagged_fields


class ProduceResult:
    """A decoded Produce response: its topics, ``throttle_time_ms``, and the leaders' endpoints
    (version 10 on, when a partition's leader moved)."""

    __slots__ = ("topics", "throttle_time_ms", "node_endpoints")

    def __init__(self, topics: list[TopicResult], throttle_time_ms: int,
                 node_endpoints: list[NodeEndpoint]) -> None:
        self.topics = topics
        self.throttle_time_ms = throttle_time_ms
        self.node_endpoints = node_endpoints


def _malformed(what: str, pos: int) -> KafkaProtocolError:
    return KafkaProtocolError(f"malformed {what} at byte {pos}")


# what encoding the caller's data can raise (a wrong type or a value out of its field's range)
_UNENCODABLE = (struct.error, OverflowError, TypeError, AttributeError, ValueError)


def _unencodable(exc: BaseException) -> FieldEncodeError:
    return FieldEncodeError("", f"the Produce request: {exc}")


def _unknown_version(version: int) -> UnsupportedVersionError:
    return UnsupportedVersionError(f"the direct Produce codec has no version {version} "
                                   f"(it has {VERSIONS.start}-{VERSIONS.stop - 1})")


# --- the request ------------------------------------------------------------------------------


# --- the response -----------------------------------------------------------------------------


def _skip_tags(buf: memoryview, pos: int) -> int:
    if buf[pos] == 0:
        return pos + 1
    return _read_tagged_fields(buf, pos)[1]


def _tag_zero(buf: memoryview, pos: int, defined: bool) -> tuple[tuple[int, int] | None, int]:
    """Where tagged field 0 lies among the tagged fields at ``pos`` (None: absent), and the
    position after them: the only tag a Produce response defines, at the partition and the body
    level, from version 10 (``defined``; before it, tag 0 is an unknown field, skipped)."""
    if buf[pos] == 0:
        return None, pos + 1
    found, pos = _read_tagged_fields(buf, pos)
    if not defined:
        return None, pos
    for tag, start, end in found:
        if tag == 0:
            return (start, end), pos
    return None, pos


def _leader(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    """The ``current_leader`` tagged struct between ``pos`` and ``end``."""
    leader_id, leader_epoch = _LEADER.unpack_from(buf, pos)
    if _skip_tags(buf[:end], pos + 8) != end:
        raise _malformed("tagged field 0 (wrong size)", pos)
    return leader_id, leader_epoch


def _endpoints(buf: memoryview, pos: int, end: int) -> list[NodeEndpoint]:
    """The ``node_endpoints`` tagged array between ``pos`` and ``end``."""
    view = buf[:end]
    n, pos = _read_array_length(view, pos, True, False)
    nodes: list[NodeEndpoint] = []
    for _ in range(n):
        (node_id,) = _I32.unpack_from(view, pos)
        host, pos = p.read_compact_string(view, pos + 4)
        (port,) = _I32.unpack_from(view, pos)
        rack, pos = p.read_compact_nullable_string(view, pos + 4)
        pos = _skip_tags(view, pos)
        nodes.append((node_id, host, port, rack))
    if pos != end:
        raise _malformed("tagged field 0 (wrong size)", pos)
    return nodes


def _decode_response(buf: memoryview, pos: int, version: int) -> tuple[ProduceResult, int]:
    """The Produce response body of ``version`` (3 to 13) at ``pos``, and the position after it.
    Malformed bytes raise :class:`KafkaProtocolError` (or an ``IndexError``/``struct.error`` past
    the end, which :func:`kafkaio.protocol.api.decode_direct_response` turns into one)."""
    if version not in VERSIONS:
        raise _unknown_version(version)
    flexible = version >= FIRST_FLEXIBLE
    tagged_leader = version >= FIRST_TAGGED_LEADER
    by_id = version >= FIRST_TOPIC_ID
    read_string = p.read_compact_string if flexible else p.read_string
    read_nullable_string = p.read_compact_nullable_string if flexible else p.read_nullable_string
    unpack_part = _PART_FIXED.unpack_from
    topics: list[TopicResult] = []
    n_topics, pos = _read_array_length(buf, pos, flexible, False)
    for _ in range(n_topics):
        name: str | None = None
        topic_id = 0
        if by_id:
            end = pos + 16
            if end > len(buf):
                raise _malformed("uuid (truncated)", pos)
            topic_id = int.from_bytes(buf[pos:end], "big")
            pos = end
        else:
            name, pos = read_string(buf, pos)
        partitions: list[PartitionResult] = []
        # The common cases inline (a one-byte count, a null or absent field): each call they save
        # is a sizeable part of decoding the one topic and partition of a usual answer.
        b = buf[pos]
        if flexible and 0 < b < 0x80 and b <= len(buf) - pos:
            n_parts = b - 1
            pos += 1
        else:
            n_parts, pos = _read_array_length(buf, pos, flexible, False)
        for _ in range(n_parts):
            index, error_code, base_offset, log_append_time = unpack_part(buf, pos)
            pos += 22
            log_start_offset = -1
            if version >= 5:
                (log_start_offset,) = _I64.unpack_from(buf, pos)
                pos += 8
            record_errors = _NO_RECORD_ERRORS
            error_message = None
            if version >= 8:
                if flexible and buf[pos] == 1:
                    n_errors = 0
                    pos += 1
                else:
                    n_errors, pos = _read_array_length(buf, pos, flexible, False)
                if n_errors:
                    record_errors = []
                    for _ in range(n_errors):
                        (batch_index,) = _I32.unpack_from(buf, pos)
                        message, pos = read_nullable_string(buf, pos + 4)
                        if flexible:
                            pos = _skip_tags(buf, pos)
                        record_errors.append((batch_index, message))
                if flexible and buf[pos] == 0:
                    pos += 1
                else:
                    error_message, pos = read_nullable_string(buf, pos)
            leader_id = leader_epoch = -1
            if flexible:
                if buf[pos] == 0:  # no tagged fields: the usual case, without a call
                    pos += 1
                else:
                    leader, pos = _tag_zero(buf, pos, tagged_leader)
                    if leader is not None:
                        leader_id, leader_epoch = _leader(buf, *leader)
            partitions.append((index, error_code, base_offset, log_append_time, log_start_offset,
                               record_errors, error_message, leader_id, leader_epoch))
        if flexible:
            pos = _skip_tags(buf, pos)
        topics.append((name, topic_id, partitions))
    (throttle_time_ms,) = _I32.unpack_from(buf, pos)
    pos += 4
    node_endpoints: list[NodeEndpoint] = []
    if flexible:
        if buf[pos] == 0:
            pos += 1
        else:
            nodes, pos = _tag_zero(buf, pos, tagged_leader)
            if nodes is not None:
                node_endpoints = _endpoints(buf, *nodes)
    return ProduceResult(topics, throttle_time_ms, node_endpoints), pos


class ProduceMessage:
    """A Produce request as data, encoded and decoded by the functions of this module."""

    __slots__ = ("transactional_id", "acks", "timeout_ms", "topics")

    def __init__(self, transactional_id: str | None, acks: int, timeout_ms: int,
                 topics: Sequence[TopicData]) -> None:
        self.transactional_id = transactional_id
        self.acks = acks
        self.timeout_ms = timeout_ms
        self.topics = topics

    def encode_body(self, out: bytearray, version: int) -> None:
        """Append the request's body at ``version`` (3 to 13) to ``out``; a request it cannot encode
        raises :class:`KafkaProtocolError` and leaves ``out`` as it was."""
        if version not in VERSIONS:
            raise _unknown_version(version)
        start = len(out)
        try:
            self._encode(out, version)
        except BaseException as exc:
            del out[start:]  # nothing half-written stays in out
            if isinstance(exc, _UNENCODABLE):
                raise _unencodable(exc) from exc
            raise

    def _encode(self, out: bytearray, version: int) -> None:
        transactional_id, acks, timeout_ms, topics = self.transactional_id, self.acks, self.timeout_ms, self.topics
        if version >= FIRST_FLEXIBLE:
            if transactional_id is None:
                out.append(0)
            else:
                raw = transactional_id.encode()
                _write_uvarint(out, len(raw) + 1)
                out += raw
            out += _REQ_FIXED.pack(acks, timeout_ms)
            n = len(topics) + 1
            if n < 0x80:  # the one-byte varints inline: a request usually has one topic and one partition
                out.append(n)
            else:
                _write_uvarint(out, n)
            by_id = version >= FIRST_TOPIC_ID
            for name, topic_id, partitions in topics:
                if by_id:
                    out += topic_id.to_bytes(16, "big")
                else:
                    raw = name.encode()
                    _write_uvarint(out, len(raw) + 1)
                    out += raw
                n = len(partitions) + 1
                if n < 0x80:
                    out.append(n)
                else:
                    _write_uvarint(out, n)
                for index, records in partitions:
                    out += _I32.pack(index)
                    if records is None:
                        out.append(0)
                    else:
                        # bytes, not items: a memoryview may have wider items
                        _write_uvarint(out, (records.nbytes if type(records) is memoryview else len(records)) + 1)
                        out += records
                    out.append(0)  # the partition's tagged fields: none
                out.append(0)      # the topic's
            out.append(0)          # the body's
            return
        if transactional_id is None:
            out += b"\xff\xff"
        else:
            raw = transactional_id.encode()
            out += _I16.pack(len(raw))
            out += raw
        out += _REQ_FIXED.pack(acks, timeout_ms)
        out += _I32.pack(len(topics))
        for name, _, partitions in topics:
            raw = name.encode()
            out += _I16.pack(len(raw))
            out += raw
            out += _I32.pack(len(partitions))
            for index, records in partitions:
                out += _I32.pack(index)
                if records is None:
                    out += b"\xff\xff\xff\xff"
                else:
                    out += _I32.pack(records.nbytes if type(records) is memoryview else len(records))
                    out += records

    # the response's decoder itself, without a method's call in between (the message holds nothing
    # the answer's decoding needs)
    decode_body = staticmethod(_decode_response)
